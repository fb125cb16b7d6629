#!/usr/bin/env bash
# Speed and size of quarry_bm25 at scale: 1,012,445 Project Gutenberg
# paragraphs (../shared/data/gutenberg-paragraphs), against
#   GIN + ts_rank_cd   GIN on to_tsvector('english', body);
#                      WHERE tsv @@ q ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 10
#   RUM                rum_tsvector_ops on the same expression;
#                      WHERE tsv @@ q ORDER BY tsv <=> q LIMIT 10 (no IDF)
#   quarry             ORDER BY body <@> q LIMIT 10 (exact BM25 top 10)
# Multi-term queries are OR-ed for GIN and RUM, as BM25 ranks any row with a
# term.
#
# Measures: CREATE INDEX time and index size; the building backend's private
# memory before and after CREATE INDEX and the build arena's peak; top-10
# latency p50/p95 by number of query terms (1, 2, 3, 5, 8 of the 3,000 most
# frequent lexemes, QUERIES per bucket, fixed seed), and for real web queries
# (../shared/data/query-workloads). Each query runs once to warm up, then is
# timed inside the server (clock_timestamp around EXECUTE, planning included).
#
#   bench/bm25_scale.sh        writes bench/results/bm25_scale.{md,csv,png}
#   QUERIES=40 (default)       queries per bucket
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data gutenberg-paragraphs
QUERIES=${QUERIES:-40}
"$repo/test/deps.sh" test bench
make -C "$repo" -s -j"$(nproc)" >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi

bench_start scale
trap bench_stop EXIT
bench_psql -q -c "CREATE EXTENSION rum"

echo "== loading 1M paragraphs"
bench_psql -q <<SQL
CREATE TABLE gp (id int PRIMARY KEY, book_no int, para_no int, body text);
\\copy gp FROM PROGRAM 'xzcat $QUARRY_DATA/gutenberg-paragraphs/gutenberg_1m.tsv.xz'
VACUUM ANALYZE gp;
CREATE TABLE builds (engine text, build_ms float8, size_bytes bigint, anon_before bigint, anon_after bigint,
                     arena_peak bigint);
CREATE TABLE timings (engine text, bucket text, qid int, ms float8);
CREATE FUNCTION time_query(sql text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE sql;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL

# Builds one index in a fresh session and records time, size and memory.
build() { # engine index-name create-statement
	bench_psql -q <<SQL
SELECT backend_anon_bytes AS anon_before FROM quarry_memory_stats() \\gset
SELECT quarry_memory_stats_reset();
SELECT clock_timestamp() AS t0 \\gset
$3;
SELECT extract(epoch FROM clock_timestamp() - :'t0') * 1000 AS build_ms \\gset
INSERT INTO builds
SELECT '$1', :build_ms, pg_relation_size('$2'), :anon_before, backend_anon_bytes, build_bytes_peak
FROM quarry_memory_stats();
SQL
}

echo "== queries"
bench_psql -q <<SQL
CREATE TABLE lexemes AS
SELECT word FROM ts_stat('SELECT to_tsvector(''english'', body) FROM gp WHERE id % 10 = 0')
WHERE word ~ '^[a-z]+\$' ORDER BY ndoc DESC, word LIMIT 3000;
SELECT setseed(0.42);
CREATE TABLE queries AS
SELECT b::text AS bucket, q AS qid,
       (SELECT string_agg(word, ' ') FROM (SELECT word FROM lexemes ORDER BY random() LIMIT b) w) AS text
FROM unnest(ARRAY[1, 2, 3, 5, 8]) b, generate_series(1, $QUERIES) q;
CREATE TEMP TABLE raw (j jsonb);
\\copy raw FROM '$QUARRY_DATA/query-workloads/search-benchmark-game_queries.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
INSERT INTO queries
SELECT 'real', row_number() OVER (), text FROM (
    SELECT DISTINCT trim(regexp_replace(lower(j->>'query'), '[^a-z0-9 ]', ' ', 'g')) AS text FROM raw
    WHERE j->'tags' ? 'union') s
WHERE text <> '' AND to_tsvector('english', text) <> ''::tsvector
ORDER BY md5(text) LIMIT $((QUERIES * 3));
SQL

run() { # engine sql-format (%1\$L = query text)
	bench_psql -q <<SQL
SET enable_seqscan = off;
SET client_min_messages = warning;
DO \$\$
DECLARE
    q record;
    pass int;
    ms float8;
BEGIN
    FOR pass IN 1..2 LOOP
        FOR q IN SELECT * FROM queries ORDER BY bucket, qid LOOP
            ms := time_query(format('$2', q.text));
            IF pass = 2 THEN
                INSERT INTO timings VALUES ('$1', q.bucket, q.qid, ms);
            END IF;
        END LOOP;
    END LOOP;
END \$\$;
SQL
}

# Multi-term queries OR-ed for the tsquery engines.
tsq="to_tsquery(''english'', replace(%1\$L, '' '', '' | ''))"

echo "== quarry_bm25"
build quarry gp_bm25 "CREATE INDEX gp_bm25 ON gp USING quarry_bm25 (body) WITH (text_config = 'english')"
run quarry "SELECT id FROM gp ORDER BY body <@> %1\$L LIMIT 10"

echo "== GIN + ts_rank_cd"
build gin gp_gin "CREATE INDEX gp_gin ON gp USING gin (to_tsvector('english', body))"
run gin "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY ts_rank_cd(to_tsvector(''english'', body), $tsq) DESC LIMIT 10"
bench_psql -q -c "DROP INDEX gp_gin"

echo "== RUM"
build rum gp_rum "CREATE INDEX gp_rum ON gp USING rum (to_tsvector('english', body) rum_tsvector_ops)"
run rum "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY to_tsvector(''english'', body) <=> $tsq LIMIT 10"

out=$here/results/bm25_scale
bench_psql -A -F, -P footer=off -c "
SELECT engine, bucket AS terms, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p95_ms, count(*) AS queries
FROM timings GROUP BY engine, bucket
ORDER BY CASE engine WHEN 'quarry' THEN 1 WHEN 'rum' THEN 2 ELSE 3 END,
         CASE bucket WHEN 'real' THEN 99 ELSE bucket::int END" > "$out.csv"
builds=$(bench_psql -A -F'|' -t -c "
SELECT engine, round((build_ms / 1000)::numeric, 1), pg_size_pretty(size_bytes), size_bytes,
       pg_size_pretty(anon_before), pg_size_pretty(anon_after), pg_size_pretty(arena_peak)
FROM builds ORDER BY 1")
gin_size=$(echo "$builds" | awk -F'|' '$1 == "gin" {print $4}')
gin_ms=$(echo "$builds" | awk -F'|' '$1 == "gin" {print $2}')
{
	echo "# quarry_bm25 at scale: 1,012,445 Gutenberg paragraphs"
	echo
	echo "Run: \`bench/bm25_scale.sh\` (QUERIES=$QUERIES per bucket) on $(date -u +%Y-%m-%d), $(nproc) cores,"
	echo "PostgreSQL $(pg_config --version | awk '{print $2}'), shared_buffers 4GB, maintenance_work_mem 2GB, no parallel workers."
	echo
	echo "## CREATE INDEX"
	echo
	echo "| index | build (s) | size | size vs GIN | build vs GIN | backend private memory before -> after | build arena peak |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	echo "$builds" | awk -F'|' -v gs="$gin_size" -v gt="$gin_ms" \
		'{printf "| %s | %s | %s | %.2fx | %.2fx | %s -> %s | %s |\n", $1, $2, $3, $4 / gs, $2 / gt, $5, $6, ($1 == "quarry" ? $7 : "n/a")}'
	echo
	echo "## Top-10 latency (ms) by number of query terms"
	echo
	echo "Buckets 1-8: random sets of the 3,000 most frequent lexemes. real: OR queries from"
	echo "search-benchmark-game's AOL sample (union queries, punctuation removed)."
	echo
	echo "| engine | terms | p50 | p95 | queries |"
	echo "| --- | --- | --- | --- | --- |"
	tail -n +2 "$out.csv" | awk -F, '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}'
} > "$out.md"
/usr/bin/python3 "$here/plot.py" latency "$out.csv" "$out.png"
cat "$out.md"
