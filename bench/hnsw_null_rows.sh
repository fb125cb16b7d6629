#!/usr/bin/env bash
# NULL-vector rows under a cosine quarry_hnsw index: what the metapage's
# zero-vector mark saves. A cosine index keeps zero vectors (distance NaN)
# with its NULL rows; while its metapage says it never held one, an ordered
# scan returns those rows with a NULL distance as it reads them, and once
# marked it returns them with a NaN bound that PostgreSQL's reorder queue
# checks, holding every NULL row until the index is read to its end.
#
# Table: 20,000 random 4-d vectors and 480,000 NULL vectors (a table whose
# embeddings are mostly not computed yet), one quarry_cosine_ops index.
# Queries (index scans forced, quarry.hnsw_max_scan_tuples unlimited, so
# both read past every vector):
#   filtered   SELECT id FROM nr WHERE id % 1000 = 7 ORDER BY v <=> q LIMIT 100
#   whole      SELECT count(*) FROM (SELECT id FROM nr ORDER BY v <=> q) s
# each timed inside the server (clock_timestamp), 1 warm-up and 7 runs, the
# median reported, first on the unmarked index, then after a zero vector was
# inserted, deleted and vacuumed away (the mark stays: VACUUM never clears
# it), which is the same index with the same rows, marked.
#
#   bench/hnsw_null_rows.sh        writes bench/results/hnsw_null_rows.md
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
out=$repo/bench/results/hnsw_null_rows.md
trap bench_stop EXIT
bench_start nullrows
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

bench_psql -q <<'SQL'
SELECT setseed(0.5);
CREATE TABLE nr AS
SELECT i AS id, CASE WHEN i <= 20000 THEN ARRAY[random(), random(), random(), random()]::real[] END AS v
FROM generate_series(1, 500000) i;
CREATE INDEX nr_v ON nr USING quarry_hnsw (v quarry_cosine_ops);
VACUUM ANALYZE nr;
-- Median milliseconds of `runs` executions of `query` after one warm-up.
CREATE FUNCTION median_ms(query text, runs int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz;
    ms float8[] := '{}';
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    SET LOCAL enable_sort = off;
    SET LOCAL quarry.hnsw_max_scan_tuples = 2147483647;
    EXECUTE query;
    FOR i IN 1..runs LOOP
        t := clock_timestamp();
        EXECUTE query;
        ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
    END LOOP;
    RETURN round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 1);
END $$;
CREATE TABLE timings (mark text, query text, ms numeric);
SQL

filtered="SELECT id FROM nr WHERE id % 1000 = 7 ORDER BY v <=> '{1,2,3,4}' LIMIT 100"
whole="SELECT count(*) FROM (SELECT id FROM nr ORDER BY v <=> '{1,2,3,4}') s"
measure() {
	local mark
	mark=$(bench_psql -At -c "SELECT zero_vectors FROM quarry_hnsw_index_info('nr_v')")
	bench_psql -q -c "INSERT INTO timings VALUES ('$mark', 'filtered', median_ms(\$q\$$filtered\$q\$, 7)),
	                                             ('$mark', 'whole', median_ms(\$q\$$whole\$q\$, 7))"
}
measure
bench_psql -q -c "INSERT INTO nr VALUES (0, '{0,0,0,0}')" -c "DELETE FROM nr WHERE id = 0" -c "VACUUM nr"
measure
# The filtered query returns its 100 rows (the zero vector is gone again).
same=$(bench_psql -qAt -c "SET enable_seqscan = off; SET enable_sort = off; SET quarry.hnsw_max_scan_tuples = 2147483647;
  SELECT count(*) = 100 FROM ($filtered) s")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo "# NULL-vector rows under a cosine quarry_hnsw index"
	echo
	echo "Run: \`bench/hnsw_null_rows.sh\` on $(date -u +%Y-%m-%d), $(nproc) CPUs; load average at the start"
	echo "$load_start, at the end $load_end (other work on the machine shows in every timing)."
	echo "PostgreSQL $(bench_psql -At -c 'SHOW server_version'). 20,000 random 4-d vectors and 480,000 NULL ones, one"
	echo "\`quarry_cosine_ops\` index; times inside the server, median of 7 runs after a warm-up."
	echo "\`none\`: the index as built (its null-row list never held a zero vector); \`held\`: the same"
	echo "index after a zero vector was inserted, deleted and vacuumed away (the mark stays)."
	echo
	echo "| query | none (ms) | held (ms) | held / none |"
	echo "| --- | --- | --- | --- |"
	bench_psql -At -F ' | ' -c "SELECT '| ' || n.query, n.ms, h.ms, round(h.ms / n.ms, 1) || ' |'
	    FROM timings n JOIN timings h USING (query) WHERE n.mark = 'none' AND h.mark = 'held' ORDER BY 1"
	echo
	echo "- filtered: \`$filtered\` (100 rows: 20 vectors, then NULL rows)"
	echo "- whole: \`$whole\`"
	echo "- the filtered query returned 100 rows: $same"
} >"$out"
cat "$out"
