#!/usr/bin/env bash
# quarry on Citus: top-10 latency through the coordinator against one
# ordinary table, for quarry_bm25 (shard and global statistics) and
# quarry_hnsw, in one run on this machine.
#
# Cluster: test/lib/citus_cluster.sh (a coordinator and two workers on
# loopback, Citus 13.2.2 from test/build_citus.sh, installed in PG_BINDIR's
# PostgreSQL; QUARRY_DESTDIR=DIR uses the private copy run.sh made there).
# Data: SciFact (5,183 abstracts, its 300 test queries, fastText 128-d
# vectors) in `docs`, distributed in 8 shards, and the same rows in `ref`, one
# table on the coordinator. Each query runs QUARRY_CITUS_ROUNDS times (default
# 5) through psql with \timing (client-side: the round trip to the
# coordinator included), each engine in turn, after one warm-up round.
# hnsw_docs_index forces each shard's index scan (on shards of ~650 rows the
# planner may search exactly). Writes bench/results/citus.md and citus.tsv.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${QUARRY_DATA:=$(cd "$repo/.." && pwd)/shared/data}"
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source "$repo/test/lib/cluster.sh"
source "$repo/test/lib/citus_cluster.sh"
source "$repo/test/lib/scifact.sh"
sf=$QUARRY_DATA/scifact
if [[ ! -r $sf/corpus.jsonl ]]; then
	echo "skipped: $sf is not available"
	exit 0
fi
if [[ ! -e $PG_BINDIR/../lib/citus.so ]]; then
	echo "Citus is not installed in $PG_BINDIR's PostgreSQL: run test/build_citus.sh pg_config [DESTDIR]" >&2
	exit 1
fi
rounds=${QUARRY_CITUS_ROUNDS:-5}
base=/tmp/quarry-bench-citus
work=$base/work
citus_stop "$base" 2>/dev/null || true
rm -rf "$base"
citus_start "$base" "shared_buffers=1GB" "jit=off" "max_parallel_workers_per_gather=0"
mkdir -p "$work"
[[ $(id -u) -eq 0 ]] && chown postgres: "$work"
cq() { citus_psql "$base" coordinator -q -At "$@"; }

echo "== loading SciFact"
cq -c "CREATE TABLE raw (id bigint, body text, emb real[])" -c "CREATE TABLE raw_queries (qid int, q text, v real[])"
scifact_sql "$sf" | cq
cq <<'SQL'
CREATE TABLE ref (id bigint PRIMARY KEY, body text, emb real[]);
INSERT INTO ref SELECT * FROM raw;
CREATE TABLE docs (LIKE ref INCLUDING ALL);
SELECT create_distributed_table('docs', 'id', shard_count => 8);
INSERT INTO docs SELECT * FROM ref;
CREATE INDEX ON ref USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX ON ref USING quarry_hnsw (emb quarry_cosine_ops);
CREATE INDEX docs_body_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX docs_emb_idx ON docs USING quarry_hnsw (emb quarry_cosine_ops);
CREATE TABLE queries AS SELECT * FROM raw_queries;
ANALYZE;
SQL

# One SQL file per engine: the queries as literals, as an application sends them.
write_file() { # name setting template(%s = the query literal)
	cq -c "SELECT format(\$f\$$3\$f\$, quote_literal(q)) FROM queries, generate_series(1, $rounds) ORDER BY generate_series, qid" \
		>"$work/$1.body"
	{
		echo "$2"
		# warm-up: every query once, untimed
		head -n "$(cq -c "SELECT count(*) FROM queries")" "$work/$1.body"
		echo '\timing on'
		cat "$work/$1.body"
	} >"$work/$1.sql"
}
write_file bm25_ref "SET quarry.bm25_statistics = 'shard';" "SELECT id, body <@> %s AS score FROM ref ORDER BY score LIMIT 10;"
write_file bm25_shard "SET quarry.bm25_statistics = 'shard';" "SELECT id, body <@> %s AS score FROM docs ORDER BY score LIMIT 10;"
write_file bm25_global "SET quarry.bm25_statistics = 'global';" "SELECT id, body <@> %s AS score FROM docs ORDER BY score LIMIT 10;"
cq -c "SELECT format('SELECT id FROM ref ORDER BY emb <=> %s LIMIT 10;', quote_literal(v::text) || '::real[]') FROM queries, generate_series(1, $rounds) ORDER BY generate_series, qid" >"$work/hnsw_ref.body"
sed 's/FROM ref /FROM docs /' "$work/hnsw_ref.body" >"$work/hnsw_docs.body"
cp "$work/hnsw_docs.body" "$work/hnsw_docs_index.body"
for f in hnsw_ref hnsw_docs hnsw_docs_index; do
	{
		# hnsw_docs_index: every shard through its index (on shards of ~650
		# rows the planner may prefer an exact sequential scan)
		if [[ $f == hnsw_docs_index ]]; then
			printf '%s\n' "BEGIN;" "SET LOCAL citus.propagate_set_commands = 'local';" "SET LOCAL enable_seqscan = off;"
		fi
		head -n "$(cq -c "SELECT count(*) FROM queries")" "$work/$f.body"
		echo '\timing on'
		cat "$work/$f.body"
		if [[ $f == hnsw_docs_index ]]; then printf '%s\n' '\timing off' 'COMMIT;'; fi
	} >"$work/$f.sql"
done
chown -R postgres: "$work" 2>/dev/null || true

echo "== running ($rounds rounds of $(cq -c "SELECT count(*) FROM queries") queries per engine)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'engine\tqueries\tp50_ms\tp95_ms\tmean_ms\n' >"$work/citus.tsv"
for f in bm25_ref bm25_shard bm25_global hnsw_ref hnsw_docs hnsw_docs_index; do
	cq -f "$work/$f.sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n >"$work/$f.ms"
	awk -v name="$f" '{a[NR] = $1; s += $1} END {
		printf "%s\t%d\t%.2f\t%.2f\t%.2f\n", name, NR, a[int(NR * 0.5 + 0.5)], a[int(NR * 0.95 + 0.5)], s / NR
	}' "$work/$f.ms" >>"$work/citus.tsv"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
column -t -s $'\t' "$work/citus.tsv"

# The equality the global mode gives (as test/t/095_citus.sh checks), counted here.
equal=$(cq <<'SQL'
CREATE TEMP TABLE top (mode text, qid int, rank int, id bigint, score float8);
DO $$
DECLARE r record; m text;
BEGIN
    FOREACH m IN ARRAY ARRAY['shard', 'global', 'ref'] LOOP
        PERFORM set_config('quarry.bm25_statistics', CASE m WHEN 'shard' THEN 'shard' ELSE 'global' END, true);
        FOR r IN SELECT qid, q FROM queries LOOP
            EXECUTE format('INSERT INTO top SELECT %L, %s, row_number() OVER (ORDER BY s, id), id, s
                            FROM (SELECT id, body <@> %L AS s FROM %I ORDER BY body <@> %L LIMIT 10) t',
                           m, r.qid, r.q, CASE m WHEN 'ref' THEN 'ref' ELSE 'docs' END, r.q);
        END LOOP;
    END LOOP;
END $$;
SELECT string_agg(m || '=' || n, ' ') FROM (
    SELECT m, count(*) FILTER (WHERE (SELECT array_agg(score ORDER BY rank) FROM top WHERE mode = m AND qid = q.qid)
                                     = (SELECT array_agg(score ORDER BY rank) FROM top WHERE mode = 'ref' AND qid = q.qid)) AS n
    FROM queries q, unnest(ARRAY['shard', 'global']) m GROUP BY m ORDER BY m) s;
SQL
)
echo "queries whose top-10 scores equal one table's: $equal"

out=$repo/bench/results
cp "$work/citus.tsv" "$out/citus.tsv"
ratio() { awk -F'\t' -v a="$1" -v b="$2" '$1 == a {x = $3} $1 == b {y = $3} END {printf "%.2f", x / y}' "$work/citus.tsv"; }
{
	echo "# quarry on Citus: top 10 through the coordinator vs one table"
	echo
	echo "One run, $(date -u +%F), this machine ($(nproc) cores), PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'),"
	echo "Citus 13.2.2: a coordinator and two workers on loopback (three clusters on the same 2 cores)."
	echo "SciFact: 5,183 abstracts, 300 test queries, fastText 128-d vectors (cosine); \`docs\` in 8 shards,"
	echo "\`ref\` the same rows in one table on the coordinator. Each query $rounds times after a warm-up round,"
	echo "timed by psql (client side, the round trip to the coordinator included). Load average before/after:"
	echo "$load_before / $load_after. Command: \`bench/citus.sh\`."
	echo
	echo "| engine | queries | p50 ms | p95 ms | mean ms |"
	echo "| --- | --- | --- | --- | --- |"
	tail -n +2 "$work/citus.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}'
	echo
	echo "p50 ratios: BM25 8 shards (shard statistics) / one table $(ratio bm25_shard bm25_ref)x;"
	echo "global statistics / shard statistics $(ratio bm25_global bm25_shard)x (the extra collection round);"
	echo "HNSW 8 shards / one table $(ratio hnsw_docs hnsw_ref)x as planned (the planner picks each shard's index or an exact scan),"
	echo "$(ratio hnsw_docs_index hnsw_ref)x through every shard's index (enable_seqscan off, SET LOCAL forwarded)."
	echo
	echo "Queries whose top-10 scores (in order) equal one table's: $equal (of 300)."
} >"$out/citus.md"
cat "$out/citus.md"
citus_stop "$base"
