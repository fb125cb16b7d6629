#!/usr/bin/env bash
# The distance column of a quarry_hnsw query: what it costs. In
#
#   SELECT id, v <-> q AS d FROM t ORDER BY v <-> q LIMIT k
#
# the index scan ranks the rows by distance, but PostgreSQL then evaluates
# v <-> q again in the scan's projection for every returned row: it detoasts
# (decompresses) the stored vector and computes the distance once more (the
# scan does not hand its distance over; quarry_bm25 has that remedy for its
# score, issue 12). This measures how much of the query time that is, for
# k = 10 and k = 100, on three tables, each with a quarry_hnsw index (m = 16,
# ef_construction = 64, ef_search = max(40, k)):
#
#   fm        Fashion-MNIST, 60,000 x 784, default storage of real[] (3,160-byte
#             arrays: compressed by pglz)
#   fm_plain  the same rows with STORAGE PLAIN (not compressed): the distance
#             alone, without the decompression
#   gut       the first 200,000 Gutenberg paragraphs as 100-d fastText vectors
#             (../shared/data/gutenberg-paragraphs/fasttext100, rebuilt from the
#             shipped word vectors), 424-byte arrays, never compressed
#
# Queries: the first 50 of each data set's held-out query set (Fashion-MNIST
# test images, the fastText query vectors), passed as parameters (EXECUTE ...
# USING), k as a literal. For each query and k, timed inside the server
# (clock_timestamp around EXECUTE, planning included):
#
#   (a)  full   SELECT id, v <-> $1 AS d FROM t ORDER BY v <-> $1 LIMIT k
#   (b1) dist   SELECT id, v <-> $1 AS d FROM t WHERE ctid = ANY($2)
#   (b0) base   SELECT id FROM t WHERE ctid = ANY($2)
#
# where $2 holds the ctids of the k rows (a) returns. (b1) and (b0) fetch the
# same k heap tuples by TID, as the index scan does after its search (a TID scan:
# no B-tree descent to add noise); they differ only in the distance column, so
# recompute = (b1) - (b0) is what the projection adds to (a). That difference
# also holds a fixed part per statement (planning and starting the extra
# expression), which (a) pays for its ORDER BY expression anyway; it is measured
# as (b1) - (b0) with no rows ($2 = '{}'), and recompute minus it is the per-row
# part, the detoasting and distance computing of the k rows. Every statement
# runs once to warm up, then in 5 timed rounds; within a round a query's
# statements run one after the other (drift hits them alike), and each (b)
# statement right after an (a) (a search leaves the caches colder for whatever
# runs next: 5-15 us, which would otherwise fall on whichever (b) came first).
# A query's time is its median over the rounds. The report gives the p50 over
# the 50 queries of (a), of the recompute and of its per-row part, and their
# ratios to (a). A cross-check without subtraction noise: the per-row cost of
# v <-> q from full-table passes (sum(v <-> q) minus count(v), divided by the
# rows), times k, over (a).
#
#   bench/hnsw_distance_column.sh      writes bench/results/hnsw_distance_column.md
#   BENCH_ROUNDS=9 bench/hnsw_distance_column.sh         more timed rounds
#   QUARRY_BENCH_INSTALLED=1 bench/hnsw_distance_column.sh   use the quarry already
#                                                        installed (no build/install)
# About 5 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data fashion-mnist
require_data gutenberg-paragraphs/fasttext100
rounds=${BENCH_ROUNDS:-5}
nq=50
ngut=200000
if [[ ${QUARRY_BENCH_INSTALLED:-0} != 1 ]]; then
	"$repo/test/deps.sh" test bench
	make -C "$repo" -s -j"$(nproc)" >/dev/null
	if [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi
fi

bench_start distcol
trap bench_stop EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)

echo "== data files"
tsv=$bench_dir/tsv
mkdir -p "$tsv"
fm=$QUARRY_DATA/fashion-mnist
ft=$QUARRY_DATA/gutenberg-paragraphs/fasttext100
"$here/fmnist.py" tsv "$fm" train | cut -f1,3 >"$tsv/fm.tsv"
"$here/fmnist.py" tsv "$fm" test $nq | cut -f1,3 >"$tsv/fmq.tsv"
# Base vectors of the first $ngut paragraphs, as fasttext100/README.md builds them.
{ xzcat "$QUARRY_DATA/gutenberg-paragraphs/gutenberg_1m.tsv.xz" || true; } | head -n $ngut | cut -f4 |
	/usr/bin/python3 -c 'import sys, re
for l in sys.stdin: sys.stdout.write(" ".join(re.findall(r"[a-z0-9]+", l.lower())) + "\n")' >"$tsv/docs.txt"
/usr/bin/python3 "$QUARRY_DATA/tools/ft_sentence_vectors.py" "$ft/words.vec.xz" "$tsv/docs.txt" "$tsv/gut.fvecs"
fvecs_tsv() { # FILE FIRST_ID [N]: "id<TAB>{v1,...}" rows, float32 values exactly (%.9g)
	/usr/bin/python3 - "$@" <<'EOF'
import sys, numpy as np
path, first = sys.argv[1], int(sys.argv[2])
raw = np.fromfile(path, dtype=np.int32)
d = int(raw[0])
a = raw.view(np.float32).reshape(-1, d + 1)[:, 1:]
if len(sys.argv) > 3:
    a = a[:int(sys.argv[3])]
out = sys.stdout
for i, row in enumerate(a.astype(np.float64).tolist()):
    out.write("%d\t{%s}\n" % (first + i, ",".join("%.9g" % x for x in row)))
EOF
}
fvecs_tsv "$tsv/gut.fvecs" 1 >"$tsv/gut.tsv"
fvecs_tsv "$ft/queries.fvecs" 0 $nq >"$tsv/gutq.tsv"
rm "$tsv/docs.txt" "$tsv/gut.fvecs"
chmod -R a+rX "$tsv"

echo "== load and index"
bench_psql -q <<SQL
CREATE TABLE fm (id int PRIMARY KEY, v real[]);
\\copy fm FROM '$tsv/fm.tsv'
CREATE TABLE fm_plain (id int PRIMARY KEY, v real[]);
ALTER TABLE fm_plain ALTER v SET STORAGE PLAIN;
\\copy fm_plain FROM '$tsv/fm.tsv'
CREATE TABLE fmq (id int PRIMARY KEY, v real[]);
ALTER TABLE fmq ALTER v SET STORAGE PLAIN; -- queries arrive uncompressed, as from a client
\\copy fmq FROM '$tsv/fmq.tsv'
CREATE TABLE gut (id int PRIMARY KEY, v real[]);
\\copy gut FROM '$tsv/gut.tsv'
CREATE TABLE gutq (id int PRIMARY KEY, v real[]);
ALTER TABLE gutq ALTER v SET STORAGE PLAIN;
\\copy gutq FROM '$tsv/gutq.tsv'
CREATE INDEX fm_v ON fm USING quarry_hnsw (v quarry_l2_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX fm_plain_v ON fm_plain USING quarry_hnsw (v quarry_l2_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX gut_v ON gut USING quarry_hnsw (v quarry_l2_ops) WITH (m = 16, ef_construction = 64);
VACUUM ANALYZE fm; VACUUM ANALYZE fm_plain; VACUUM ANALYZE fmq; VACUUM ANALYZE gut; VACUUM ANALYZE gutq;
CHECKPOINT;
SQL
rm -r "$tsv"

bench_psql -q <<'SQL'
CREATE TABLE datasets (tbl text PRIMARY KEY, qtbl text, label text, ord int);
INSERT INTO datasets VALUES
    ('fm', 'fmq', 'Fashion-MNIST 784-d, 60,000 rows, default storage (compressed)', 1),
    ('fm_plain', 'fmq', 'Fashion-MNIST 784-d, 60,000 rows, STORAGE PLAIN', 2),
    ('gut', 'gutq', 'Gutenberg fastText 100-d, 200,000 rows (default storage)', 3);
CREATE TABLE storage (tbl text, dims int, rows bigint, avg_size float8, min_size int, max_size int,
                      compressed bigint, toast_bytes bigint);
CREATE TABLE timings (tbl text, k int, qid int, round int, stmt text, ms float8);
CREATE TABLE passes (tbl text, rows bigint, us_per_row float8);

CREATE FUNCTION time_stmt(sql text, q real[], ids tid[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE sql USING q, ids;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

CREATE FUNCTION run(tbl text, qtbl text, k int, rounds int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    full_sql text := format('SELECT id, v <-> $1 AS d FROM %I ORDER BY v <-> $1 LIMIT %s', tbl, k);
    dist_sql text := format('SELECT id, v <-> $1 AS d FROM %I WHERE ctid = ANY($2)', tbl);
    base_sql text := format('SELECT id FROM %I WHERE ctid = ANY($2)', tbl);
    comp_sql text := format('SELECT id, quarry_l2_distance(v, $1) AS d FROM %I ORDER BY v <-> $1 LIMIT %s', tbl, k);
    qs record;
    q record;
    hits tid[];
    t_full float8;
    t_dist float8;
    t_base float8;
    t_dist0 float8;
    t_base0 float8;
    t_comp float8;
    t_warm float8;
BEGIN
    PERFORM set_config('quarry.hnsw_ef_search', greatest(40, k)::text, true);
    -- the k rows (a) returns, by ctid (the search is deterministic)
    CREATE TEMP TABLE qids (qid int, v real[], ids tid[]) ON COMMIT DROP;
    ALTER TABLE qids ALTER v SET STORAGE PLAIN; -- the query vector stays uncompressed
    FOR qs IN EXECUTE format('SELECT id, v FROM %I ORDER BY id', qtbl) LOOP
        EXECUTE format('SELECT array_agg(ctid) FROM (SELECT ctid FROM %I ORDER BY v <-> $1 LIMIT %s) s', tbl, k)
            INTO STRICT hits USING qs.v;
        INSERT INTO qids VALUES (qs.id, qs.v, hits);
    END LOOP;
    -- round 0 warms up (not kept)
    FOR rnd IN 0..rounds LOOP
        FOR q IN SELECT * FROM qids ORDER BY qid LOOP
            -- each (b) statement right after a full query, as the projection runs
            -- right after the search: the search leaves the caches colder for
            -- whatever runs next, which must not count as the distance's cost
            t_full := time_stmt(full_sql, q.v, q.ids);
            t_dist := time_stmt(dist_sql, q.v, q.ids);
            PERFORM time_stmt(full_sql, q.v, q.ids);
            t_base := time_stmt(base_sql, q.v, q.ids);
            PERFORM time_stmt(full_sql, q.v, q.ids);
            t_dist0 := time_stmt(dist_sql, q.v, '{}');
            PERFORM time_stmt(full_sql, q.v, q.ids);
            t_base0 := time_stmt(base_sql, q.v, '{}');
            -- from the scan against computed, each right after the same
            -- search (warm caches for both), alternating which goes first
            IF rnd % 2 = 0 THEN
                PERFORM time_stmt(full_sql, q.v, q.ids);
                t_comp := time_stmt(comp_sql, q.v, q.ids);
                t_warm := time_stmt(full_sql, q.v, q.ids);
            ELSE
                PERFORM time_stmt(full_sql, q.v, q.ids);
                t_warm := time_stmt(full_sql, q.v, q.ids);
                t_comp := time_stmt(comp_sql, q.v, q.ids);
            END IF;
            IF rnd > 0 THEN
                INSERT INTO timings VALUES (tbl, k, q.qid, rnd, 'full', t_full), (tbl, k, q.qid, rnd, 'dist', t_dist),
                    (tbl, k, q.qid, rnd, 'base', t_base), (tbl, k, q.qid, rnd, 'dist0', t_dist0),
                    (tbl, k, q.qid, rnd, 'base0', t_base0), (tbl, k, q.qid, rnd, 'computed', t_comp),
                    (tbl, k, q.qid, rnd, 'warm', t_warm);
            END IF;
        END LOOP;
    END LOOP;
END $$;

CREATE FUNCTION explain(sql text, qtbl text, ids tid[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    q real[];
BEGIN
    EXECUTE format('SELECT v FROM %I ORDER BY id LIMIT 1', qtbl) INTO q;
    RETURN QUERY EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || sql USING q, ids;
END $$;

-- Per-row cost of v <-> q over the whole table (sequential scan): the best of 3
-- of sum(v <-> q) minus the best of 3 of count(v) (deforms, does not detoast).
CREATE FUNCTION pass(tbl text, qtbl text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    q real[];
    n bigint;
    t_dist float8 := 1e9;
    t_base float8 := 1e9;
BEGIN
    EXECUTE format('SELECT v FROM %I ORDER BY id LIMIT 1', qtbl) INTO q;
    EXECUTE format('SELECT count(*) FROM %I', tbl) INTO n;
    FOR i IN 1..3 LOOP
        t_dist := least(t_dist, time_stmt(format('SELECT sum(v <-> $1) FROM %I', tbl), q, NULL));
        t_base := least(t_base, time_stmt(format('SELECT count(v) FROM %I', tbl), q, NULL));
    END LOOP;
    INSERT INTO passes VALUES (tbl, n, (t_dist - t_base) * 1000 / n);
END $$;
SQL

echo "== storage"
for t in fm fm_plain gut; do
	bench_psql -q -c "INSERT INTO storage SELECT '$t', max(array_length(v, 1)), count(*), avg(pg_column_size(v)),
		min(pg_column_size(v)), max(pg_column_size(v)), count(pg_column_compression(v)),
		(SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = '$t'::regclass) FROM $t"
done
bench_psql -c "SELECT * FROM storage"

echo "== plans"
for t in fm gut; do
	q=fmq
	[[ $t == gut ]] && q=gutq
	bench_psql -At -c "SELECT explain('SELECT id, v <-> \$1 AS d FROM $t ORDER BY v <-> \$1 LIMIT 10', '$q', NULL)" \
		-c "SELECT explain('SELECT id FROM $t ORDER BY v <-> \$1 LIMIT 10', '$q', NULL)" \
		-c "SELECT explain('SELECT id, v <-> \$1 AS d FROM $t WHERE ctid = ANY(\$2)', '$q', '{\"(0,1)\",\"(0,2)\"}')" |
		sed -E 's/\{[^}]*\}/{...}/g'
done

echo "== queries ($rounds timed rounds)"
for t in fm fm_plain gut; do
	q=fmq
	[[ $t == gut ]] && q=gutq
	for k in 10 100; do
		bench_psql -q -c "SELECT run('$t', '$q', $k, $rounds)"
		echo "$t k=$k done"
	done
	bench_psql -q -c "SELECT pass('$t', '$q')"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - t_start))

mkdir -p "$here/results"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
{
	echo "# The distance column of quarry_hnsw queries"
	echo
	echo "Run: \`bench/hnsw_distance_column.sh\` on $(date -u +%F), $(nproc) x $cpu; load average at the"
	echo "start $load_start, at the end $load_end (other work on the machine shows in every timing)."
	echo "quarry_hnsw, m = 16, ef_construction = 64, ef_search = max(40, k); $nq queries from each data"
	echo "set's query set; times in ms inside the server (planning included), per query the median of"
	echo "$rounds rounds after a warm-up; p50 over the queries. Took ${elapsed} s after the build."
	echo
	echo "- **full** (a): \`SELECT id, v <-> \$1 AS d FROM t ORDER BY v <-> \$1 LIMIT k\`"
	echo "- **recompute** = (b1) \`SELECT id, v <-> \$1 AS d FROM t WHERE ctid = ANY(<the k rows of (a)>)\`"
	echo "  minus (b0) \`SELECT id FROM t WHERE ctid = ANY(<the same>)\`: what the distance column adds"
	echo "  to fetching the same k rows (per query, then p50)"
	echo "- **fixed**: the same difference with no rows (\`ctid = ANY('{}')\`): planning and starting the"
	echo "  expression, which (a) pays for its ORDER BY anyway; **per-row** = recompute - fixed: detoasting"
	echo "  the k vectors and computing their distances again, what a scan-supplied distance would save"
	echo "- **pass**: the per-row cost from full-table sequential passes (sum(v <-> q) minus count(v), best"
	echo "  of 3), free of per-query subtraction noise; **k x pass / full** is the share it predicts"
	echo
echo "## Storage of the vector column"
	echo
	bench_psql -At -F'|' <<'SQL' | sed 's/^/| /; s/$/ |/'
SELECT '**table**', '**rows**', '**4 x dims**', '**pg_column_size avg (min-max)**', '**compressed rows**', '**TOAST relation**'
UNION ALL SELECT '---', '---', '---', '---', '---', '---'
UNION ALL
(SELECT s.tbl, s.rows::text, (4 * s.dims)::text || ' B',
        round(s.avg_size)::text || ' B (' || s.min_size || '-' || s.max_size || ')',
        s.compressed::text, pg_size_pretty(s.toast_bytes)
 FROM storage s JOIN datasets d USING (tbl) ORDER BY d.ord);
SQL
	echo
	echo "## Time of the distance column"
	echo
	bench_psql -At -F'|' <<'SQL' | sed 's/^/| /; s/$/ |/'
WITH per_query AS (
    SELECT tbl, k, qid, stmt, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
    FROM timings GROUP BY tbl, k, qid, stmt
), q AS (
    SELECT tbl, k, qid,
           max(ms) FILTER (WHERE stmt = 'full') AS full_ms,
           max(ms) FILTER (WHERE stmt = 'dist') AS dist_ms,
           max(ms) FILTER (WHERE stmt = 'base') AS base_ms,
           max(ms) FILTER (WHERE stmt = 'dist') - max(ms) FILTER (WHERE stmt = 'base') AS rec_ms,
           max(ms) FILTER (WHERE stmt = 'dist0') - max(ms) FILTER (WHERE stmt = 'base0') AS fixed_ms
    FROM per_query GROUP BY tbl, k, qid
), agg AS (
    SELECT tbl, k,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY full_ms) AS full_p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY full_ms) AS full_p95,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY dist_ms) AS dist_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY base_ms) AS base_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY rec_ms) AS rec_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY rec_ms / full_ms) AS ratio_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY fixed_ms) AS fixed_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY rec_ms - fixed_ms) AS row_p50
    FROM q GROUP BY tbl, k
)
SELECT '**data**', '**k**', '**full p50 / p95**', '**(b1) / (b0) p50**', '**recompute p50**',
       '**recompute / full**', '**median of per-query ratios**', '**fixed p50**', '**per-row p50**',
       '**per-row / full**', '**pass**', '**k x pass / full**'
UNION ALL SELECT '---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---'
UNION ALL
(SELECT d.label, a.k::text,
        to_char(a.full_p50, 'FM990.000') || ' / ' || to_char(a.full_p95, 'FM990.000') || ' ms',
        to_char(1000 * a.dist_p50, 'FM9990.0') || ' / ' || to_char(1000 * a.base_p50, 'FM9990.0') || ' µs',
        to_char(1000 * a.rec_p50, 'FM9990.0') || ' µs',
        to_char(100 * a.rec_p50 / a.full_p50, 'FM990.0') || ' %',
        to_char(100 * a.ratio_p50, 'FM990.0') || ' %',
        to_char(1000 * a.fixed_p50, 'FM9990.0') || ' µs',
        to_char(1000 * a.row_p50, 'FM9990.0') || ' µs',
        to_char(100 * a.row_p50 / a.full_p50, 'FM990.0') || ' %',
        to_char(p.us_per_row, 'FM990.000') || ' µs/row',
        to_char(100 * a.k * p.us_per_row / 1000 / a.full_p50, 'FM990.0') || ' %'
 FROM agg a JOIN datasets d USING (tbl) JOIN passes p USING (tbl) ORDER BY d.ord, a.k);
SQL
	echo
	echo "## The distance from the scan against the distance computed again"
	echo
	echo "quarry_hnsw's ordered scans give the projection each returned row's distance (quarry_hnsw_scored,"
	echo "EXPLAIN VERBOSE shows it), so (a) no longer detoasts and compares the k vectors; **computed** is"
	echo "the same query with the distance computed per returned row, as before:"
	echo "\`SELECT id, quarry_l2_distance(v, \$1) AS d FROM t ORDER BY v <-> \$1 LIMIT k\`. Both are"
	echo "timed right after the same search (the same graph pages in cache), in alternating order."
	echo
	bench_psql -At -F'|' <<'SQL' | sed 's/^/| /; s/$/ |/'
WITH per_query AS (
    SELECT tbl, k, qid, stmt, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
    FROM timings GROUP BY tbl, k, qid, stmt
), agg AS (
    SELECT tbl, k,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE stmt = 'warm') AS full_p50,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE stmt = 'computed') AS comp_p50
    FROM per_query GROUP BY tbl, k
)
SELECT '**data**', '**k**', '**from the scan p50**', '**computed p50**', '**computed / from the scan**'
UNION ALL SELECT '---', '---', '---', '---', '---'
UNION ALL
(SELECT d.label, a.k::text, to_char(a.full_p50, 'FM990.000') || ' ms', to_char(a.comp_p50, 'FM990.000') || ' ms',
        to_char(a.comp_p50 / a.full_p50, 'FM990.00') || 'x'
 FROM agg a JOIN datasets d USING (tbl) ORDER BY d.ord, a.k);
SQL
} >"$here/results/hnsw_distance_column.md"
cat "$here/results/hnsw_distance_column.md"
