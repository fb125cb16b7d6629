#!/usr/bin/env bash
# Phrase queries of quarry_bm25 at scale: 1,012,445 Project Gutenberg paragraphs
# (../shared/data/gutenberg-paragraphs), against
#   GIN + ts_rank_cd   GIN on to_tsvector('english', body);
#                      WHERE tsv @@ phraseto_tsquery('english', q)
#                      ORDER BY ts_rank_cd(tsv, phraseto_tsquery('english', q)) DESC LIMIT 10
#                      (the phrase is checked on the heap: to_tsvector of every candidate)
#   RUM                rum_tsvector_ops on the same expression (positions in the index);
#                      WHERE tsv @@ phraseto_tsquery(...) ORDER BY tsv <=> phraseto_tsquery(...) LIMIT 10
#   quarry             ORDER BY body <@> quarry_query_parse('"q"', 'gp_bm25') LIMIT 10
#                      (exact BM25 top 10 of the rows holding the phrase), on the index
#                      with positions (the default)
#   quarry_nopos       the index WITH (positions = off): its size and build time, and
#                      the words of each phrase as a conjunction ('+w1 +w2 +w3'), the
#                      query such an index can answer
# quarry also times '+w1 +w2 +w3' on the index with positions ("quarry AND"), the
# same conjunction without the position check.
#
# Measures: CREATE INDEX time and size of each index (and the building backend's
# memory for quarry); top-10 latency p50/p95 by phrase length (2, 3, 4 words,
# QUERIES per bucket); each query runs once to warm up, then is timed inside the
# server (clock_timestamp around EXECUTE, planning included). Checks that every
# row of quarry's top 10 with a score satisfies to_tsvector('english', body) @@
# phraseto_tsquery('english', q) (violations counted) and that quarry finds as
# many such rows as GIN / RUM return (min(10, matching rows)).
#
# Phrases come from the corpus, chosen by md5 of fixed strings (the same on any
# machine): 2, 3 or 4 consecutive words of a paragraph, each word letters only (no
# punctuation between or inside), at least two of them lexemes of the English
# configuration (stop words may sit between them, as in real phrases: "the old
# man" is 'old' <-> 'man').
#
#   bench/bm25_phrases.sh             writes bench/results/bm25_phrases.{md,csv,png}
#   QUERIES=40 (default)              queries per bucket
#   ENGINES="gin rum quarry quarry_nopos" (default): the engines to build and time
#                                     (they run in the order quarry, quarry_nopos, gin, rum)
#   ROWS=N                            load only the first N paragraphs (a smoke test)
# A run with other ENGINES or with ROWS says so at the top of its results.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data gutenberg-paragraphs
QUERIES=${QUERIES:-40}
default_engines="gin rum quarry quarry_nopos"
ENGINES=${ENGINES:-$default_engines}
for e in $ENGINES; do
	case $e in
	gin | rum | quarry | quarry_nopos) ;;
	*)
		echo "bm25_phrases.sh: unknown engine '$e' (gin, rum, quarry, quarry_nopos)" >&2
		exit 2
		;;
	esac
done
engine() { [[ " $ENGINES " == *" $1 "* ]]; }
head_rows=cat
[[ -n ${ROWS:-} ]] && head_rows="head -n $ROWS"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
"$repo/test/deps.sh" test bench
make -C "$repo" -s -j"$(nproc)" >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi

bench_start phrases
trap bench_stop EXIT
bench_psql -q -c "CREATE EXTENSION rum"

echo "== loading the paragraphs"
bench_psql -q <<SQL
CREATE TABLE gp (id int PRIMARY KEY, book_no int, para_no int, body text);
\\copy gp FROM PROGRAM 'xzcat $QUARRY_DATA/gutenberg-paragraphs/gutenberg_1m.tsv.xz | $head_rows'
VACUUM ANALYZE gp;
CREATE TABLE builds (engine text, build_ms float8, size_bytes bigint, anon_before bigint, anon_after bigint,
                     arena_peak bigint);
CREATE TABLE timings (engine text, bucket text, qid int, ms float8, nrows bigint);
-- Milliseconds of one statement (planning included) and the rows it returned.
CREATE FUNCTION time_query(sql text, OUT ms float8, OUT nrows bigint) LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE sql;
    GET DIAGNOSTICS nrows = ROW_COUNT;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SQL
rows_loaded=$(bench_psql -At -c "SELECT count(*) FROM gp")

echo "== phrases"
bench_psql -q <<SQL
CREATE FUNCTION h(t text) RETURNS int LANGUAGE sql IMMUTABLE AS
\$\$ SELECT ('x' || substr(md5(t), 1, 7))::bit(28)::int \$\$;
-- 4,000 paragraphs, three spans of each length from each; the spans whose words
-- are letters only and hold at least two lexemes.
CREATE TEMP TABLE spans AS
SELECT DISTINCT ON (lower(phrase)) * FROM (
    SELECT d.id, k::text AS bucket, array_to_string(d.w[s:s + k - 1], ' ') AS phrase
    FROM (SELECT id, regexp_split_to_array(btrim(body), '\s+') AS w FROM gp
          ORDER BY md5('phrases:' || id) LIMIT 4000) d,
         generate_series(2, 4) k, generate_series(1, 3) j,
         LATERAL (SELECT 1 + h(d.id || ':' || k || ':' || j) % (array_length(d.w, 1) - k + 1) AS s) x
    WHERE array_length(d.w, 1) >= k
      AND NOT EXISTS (SELECT FROM unnest(d.w[s:s + k - 1]) u WHERE u !~ '^[[:alpha:]]+\$')) y
WHERE (SELECT count(*) FROM unnest(to_tsvector('english', phrase)) u, unnest(u.positions)) >= 2
ORDER BY lower(phrase), md5('phrases:' || phrase);
CREATE TABLE queries AS
SELECT bucket, qid, phrase, '"' || phrase || '"' AS quarry,
       (SELECT string_agg('+' || w, ' ') FROM regexp_split_to_table(phrase, ' ') w) AS quarry_and,
       phraseto_tsquery('english', phrase)::text AS tsquery, id AS src_id
FROM (SELECT *, row_number() OVER (PARTITION BY bucket ORDER BY md5('phrases:' || phrase)) AS qid FROM spans) s
WHERE qid <= $QUERIES;
ALTER TABLE queries ADD PRIMARY KEY (bucket, qid);
SQL
bench_psql -At -c "SELECT bucket || ' words: ' || count(*) || ' phrases' FROM queries GROUP BY bucket ORDER BY bucket"

# Builds one index in a fresh session and records time, size and memory.
build() { # engine index-name create-statement
	echo "   $3"
	bench_psql -q <<SQL
SELECT backend_anon_bytes AS anon_before FROM quarry_memory_stats() \\gset
SELECT quarry_memory_stats_reset() \\gset
SELECT clock_timestamp() AS t0 \\gset
$3;
SELECT extract(epoch FROM clock_timestamp() - :'t0') * 1000 AS build_ms \\gset
INSERT INTO builds
SELECT '$1', :build_ms, pg_relation_size('$2'), :anon_before, backend_anon_bytes, build_bytes_peak
FROM quarry_memory_stats();
SQL
}

run() { # engine column sql-format (%1\$L = the column's text)
	bench_psql -q <<SQL
SET enable_seqscan = off;
SET client_min_messages = warning;
DO \$\$
DECLARE
    q record;
    pass int;
    t record;
BEGIN
    FOR pass IN 1..2 LOOP
        FOR q IN SELECT bucket, qid, $2 AS text FROM queries ORDER BY bucket, qid LOOP
            t := time_query(format('$3', q.text));
            IF pass = 2 THEN
                INSERT INTO timings VALUES ('$1', q.bucket, q.qid, t.ms, t.nrows);
            END IF;
        END LOOP;
    END LOOP;
END \$\$;
SQL
}

quarry_sql() { # index
	echo "SELECT id FROM gp ORDER BY body <@> quarry_query_parse(%1\$L, ''$1'') LIMIT 10"
}
tsq="phraseto_tsquery(''english'', %1\$L)"
bench_psql -q -c "CREATE TABLE quarry_top (bucket text, qid int, ids int[], scored int, violations int,
                                           PRIMARY KEY (bucket, qid))"

if engine quarry; then
	echo "== quarry_bm25 (positions)"
	build quarry gp_bm25 "CREATE INDEX gp_bm25 ON gp USING quarry_bm25 (body) WITH (text_config = 'english')"
	run quarry quarry "$(quarry_sql gp_bm25)"
	run "quarry AND" quarry_and "$(quarry_sql gp_bm25)"
	echo "   checking quarry's top-10 rows"
	bench_psql -q <<SQL
INSERT INTO quarry_top
SELECT q.bucket, q.qid, r.ids, r.scored,
       (SELECT count(*) FROM gp WHERE id = ANY (r.scored_ids)
        AND NOT to_tsvector('english', body) @@ phraseto_tsquery('english', q.phrase))
FROM queries q,
     LATERAL (SELECT array_agg(id) AS ids, count(*) FILTER (WHERE score < 0) AS scored,
                     array_agg(id) FILTER (WHERE score < 0) AS scored_ids FROM (
         SELECT id, body <@> quarry_query_parse(q.quarry, 'gp_bm25') AS score FROM gp
         ORDER BY body <@> quarry_query_parse(q.quarry, 'gp_bm25') LIMIT 10) t) r;
SQL
	bench_psql -q -c "DROP INDEX gp_bm25"
fi

if engine quarry_nopos; then
	echo "== quarry_bm25 WITH (positions = off)"
	build quarry_nopos gp_bm25_nopos \
		"CREATE INDEX gp_bm25_nopos ON gp USING quarry_bm25 (body) WITH (text_config = 'english', positions = off)"
	run "quarry_nopos AND" quarry_and "$(quarry_sql gp_bm25_nopos)"
	bench_psql -q -c "DROP INDEX gp_bm25_nopos"
fi

if engine gin; then
	echo "== GIN + ts_rank_cd"
	build gin gp_gin "CREATE INDEX gp_gin ON gp USING gin (to_tsvector('english', body))"
	run gin phrase "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY ts_rank_cd(to_tsvector(''english'', body), $tsq) DESC LIMIT 10"
	bench_psql -q -c "DROP INDEX gp_gin"
fi

if engine rum; then
	echo "== RUM"
	build rum gp_rum "CREATE INDEX gp_rum ON gp USING rum (to_tsvector('english', body) rum_tsvector_ops)"
	run rum phrase "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY to_tsvector(''english'', body) <=> $tsq LIMIT 10"
fi

out=$here/results/bm25_phrases
engine_order="CASE s.engine WHEN 'quarry' THEN 1 WHEN 'quarry AND' THEN 2 WHEN 'quarry_nopos AND' THEN 3
                          WHEN 'rum' THEN 4 ELSE 5 END"
bench_psql -A -F, -P footer=off -c "
WITH s AS (
    SELECT engine, bucket, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p95_ms, count(*) AS queries
    FROM timings GROUP BY engine, bucket)
SELECT s.engine, s.bucket AS terms, s.p50_ms, s.p95_ms,
       round(s.p50_ms / nullif(b.p50_ms, 0), 2) AS p50_vs_quarry, round(s.p95_ms / nullif(b.p95_ms, 0), 2) AS p95_vs_quarry,
       s.queries
FROM s LEFT JOIN s b ON b.bucket = s.bucket AND b.engine = 'quarry'
ORDER BY $engine_order, s.bucket" > "$out.csv"
builds=$(bench_psql -A -F'|' -t -c "
SELECT engine, round((build_ms / 1000)::numeric, 1), pg_size_pretty(size_bytes), size_bytes,
       pg_size_pretty(anon_before), pg_size_pretty(anon_after), pg_size_pretty(arena_peak)
FROM builds ORDER BY CASE engine WHEN 'quarry' THEN 1 WHEN 'quarry_nopos' THEN 2 WHEN 'rum' THEN 3 ELSE 4 END")
ref_size=$(echo "$builds" | awk -F'|' '$1 == "gin" {print $4}')
ref_ms=$(echo "$builds" | awk -F'|' '$1 == "gin" {print $2}')
nopos_size=$(echo "$builds" | awk -F'|' '$1 == "quarry_nopos" {print $4}')
nopos_ms=$(echo "$builds" | awk -F'|' '$1 == "quarry_nopos" {print $2}')
# quarry's rows against the tsquery engines' count of matching rows (min(10, all)).
checks=$(bench_psql -A -F'|' -t -c "
SELECT q.bucket, count(*), sum(cardinality(q.ids)), sum(q.scored), sum(q.violations),
       count(*) FILTER (WHERE q.scored = 10),
       coalesce(count(*) FILTER (WHERE t.nrows IS NOT NULL)::text, ''),
       coalesce(count(*) FILTER (WHERE t.nrows IS NOT NULL AND q.scored - q.violations < t.nrows)::text, ''),
       coalesce(count(*) FILTER (WHERE t.nrows IS NOT NULL AND q.scored > t.nrows)::text, '')
FROM quarry_top q
LEFT JOIN LATERAL (SELECT max(nrows) AS nrows FROM timings t
                   WHERE t.engine IN ('gin', 'rum') AND t.bucket = q.bucket AND t.qid = q.qid) t ON true
GROUP BY 1 ORDER BY 1")
tsq_rows=$(bench_psql -A -F'|' -t -c "
SELECT engine, bucket, sum(nrows), count(*) FILTER (WHERE nrows = 10), count(*)
FROM timings WHERE engine IN ('gin', 'rum') GROUP BY 1, 2 ORDER BY 1, 2")
gin_rum_differ=n/a
engine gin && engine rum && gin_rum_differ=$(bench_psql -A -t -c "
SELECT count(*) FROM timings g JOIN timings r USING (bucket, qid)
WHERE g.engine = 'gin' AND r.engine = 'rum' AND g.nrows <> r.nrows")
examples=$(bench_psql -A -F'|' -t -c "
SELECT bucket, string_agg(quarry || ' (' || tsquery || ')', ', ' ORDER BY qid) FROM queries WHERE qid <= 4
GROUP BY 1 ORDER BY 1")
pg_version=$(bench_psql -A -t -c "SHOW server_version")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
partial=""
[[ $ENGINES != "$default_engines" ]] && partial="ENGINES=\"$ENGINES\" "
[[ -n ${ROWS:-} ]] && partial+="ROWS=$ROWS "
{
	echo "# quarry_bm25 phrase queries: $(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$rows_loaded") Gutenberg paragraphs"
	echo
	if [[ -n $partial ]]; then
		echo "**Partial run** (${partial% }): not every engine or not every row; not for comparison."
		echo
	fi
	echo "Run: \`${partial}QUERIES=$QUERIES bench/bm25_phrases.sh\` ($QUERIES queries per bucket) on $started, $(nproc) cores,"
	echo "PostgreSQL $pg_version, shared_buffers 4GB, maintenance_work_mem 2GB, no parallel workers, enable_seqscan off."
	echo "Load average (1/5/15 min): $load_start at start, $load_end at end."
	echo
	echo "What each engine runs (top 10; the phrase is \`q\`):"
	echo
	echo "- **quarry**: \`SELECT id FROM gp ORDER BY body <@> quarry_query_parse('\"q\"', 'gp_bm25') LIMIT 10\`,"
	echo "  index \`USING quarry_bm25 (body) WITH (text_config = 'english')\` (positions kept, the default)."
	echo "- **quarry AND**: the same index, the phrase's words as a conjunction \`+w1 +w2 +w3\` (no position check)."
	echo "- **quarry_nopos AND**: that conjunction on \`WITH (text_config = 'english', positions = off)\`."
	echo "- **gin**: GIN on \`to_tsvector('english', body)\`; \`WHERE to_tsvector('english', body) @@ phraseto_tsquery('english', q)"
	echo "  ORDER BY ts_rank_cd(to_tsvector('english', body), phraseto_tsquery('english', q)) DESC LIMIT 10\`"
	echo "  (GIN keeps no positions: every row holding the lexemes is rechecked with to_tsvector)."
	echo "- **rum**: \`rum_tsvector_ops\` on the same expression; \`WHERE ... @@ phraseto_tsquery('english', q)"
	echo "  ORDER BY to_tsvector('english', body) <=> phraseto_tsquery('english', q) LIMIT 10\`."
	echo
	echo "Each query runs once to warm up, then once timed inside the server (clock_timestamp around"
	echo "EXECUTE, planning included). One index at a time: each is dropped before the next is built."
	echo
	echo "Phrases (md5-ordered, the same on every run over the same data): 2, 3 or 4 consecutive words"
	echo "of a paragraph, letters only, holding at least two lexemes (stop words may sit between them)."
	echo "First phrases of each bucket (with phraseto_tsquery's reading):"
	echo
	echo "$examples" | awk -F'|' '{printf "- %s words: %s\n", $1, $2}'
	echo
	echo "## CREATE INDEX"
	echo
	echo "| index | build (s) | size | size vs GIN | build vs GIN | size vs no positions | build vs no positions | backend private memory before -> after | build arena peak |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	echo "$builds" | awk -F'|' -v gs="$ref_size" -v gt="$ref_ms" -v ns="$nopos_size" -v nt="$nopos_ms" '
		function ratio(a, b) { return (b == "" || b == 0) ? "n/a" : sprintf("%.2fx", a / b) }
		{ quarry = ($1 ~ /^quarry/)
		  printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, ratio($4, gs), ratio($2, gt),
		         quarry ? ratio($4, ns) : "n/a", quarry ? ratio($2, nt) : "n/a",
		         quarry ? $5 " -> " $6 : "n/a", quarry ? $7 : "n/a" }'
	echo
	echo "## Top-10 latency (ms) by phrase length (words)"
	echo
	echo "| engine | words | p50 | p95 | p50 vs quarry | p95 vs quarry | queries |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	tail -n +2 "$out.csv" | awk -F, '{printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4,
		($5 == "" ? "n/a" : $5 "x"), ($6 == "" ? "n/a" : $6 "x"), $7}'
	echo
	echo "## Checks"
	echo
	if [[ -n $checks ]]; then
		echo "quarry's top 10 (index scan): rows with a score (\`<@>\` < 0) must satisfy"
		echo "\`to_tsvector('english', body) @@ phraseto_tsquery('english', q)\` (violations), and there must be as many"
		echo "of them as GIN / RUM return (min(10, rows holding the phrase)): fewer means a missed match, more"
		echo "(without violations) cannot happen."
		echo
		echo "| words | queries | rows returned | rows scoring | violations | queries with 10 scoring | compared with GIN/RUM | fewer matching rows than GIN/RUM | more scoring rows than GIN/RUM |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		echo "$checks" | awk -F'|' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6,
			($7 == "" ? "n/a" : $7), ($8 == "" ? "n/a" : $8), ($9 == "" ? "n/a" : $9)}'
		echo
	fi
	if [[ -n $tsq_rows ]]; then
		echo "Rows GIN and RUM returned (min(10, rows holding the phrase)); queries on which they differ: $gin_rum_differ."
		echo
		echo "| engine | words | rows | queries with 10 rows | queries |"
		echo "| --- | --- | --- | --- | --- |"
		echo "$tsq_rows" | awk -F'|' '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}'
	fi
} > "$out.md"
/usr/bin/python3 "$here/plot.py" latency "$out.csv" "$out.png" "words in the phrase"
cat "$out.md"
if [[ -n $checks ]] && echo "$checks" | awk -F'|' '$5 > 0 || ($8 != "" && $8 > 0) { bad = 1 } END { exit !bad }'; then
	echo "bm25_phrases.sh: quarry's top 10 broke a check (see Checks above)" >&2
	exit 1
fi
