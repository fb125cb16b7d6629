#!/usr/bin/env bash
# Prefix ('word*') and fuzzy ('word~N') terms of quarry_bm25 at scale: 1,012,445
# Project Gutenberg paragraphs (../shared/data/gutenberg-paragraphs), against
#   GIN + ts_rank_cd   GIN on to_tsvector('english', body);
#                      WHERE tsv @@ to_tsquery('english', 'pre:*')
#                      ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 10
#   RUM                rum_tsvector_ops on the same expression;
#                      WHERE tsv @@ q ORDER BY tsv <=> q LIMIT 10 (no IDF)
#   quarry             ORDER BY body <@> quarry_query_parse('pre*', 'gp_bm25') LIMIT 10
#                      (exact BM25 top 10; at most quarry.bm25_max_expansions = 50
#                      terms per prefix, the most frequent)
# Buckets (QUERIES each, fixed seed, drawn from the 3,000 most frequent lexemes
# of a 10% sample):
#   prefix1       'pre*'        one prefix of 3-5 characters of a frequent lexeme
#   prefix+word   'pre* word'   (GIN and RUM: 'pre:* | word')
#   fuzzy1        'wrod~1'      a frequent lexeme with one edit (deletion,
#                               adjacent transposition or substitution)
#   fuzzy2        'wrdo~2'      a frequent lexeme with two edits
# PostgreSQL has no fuzzy tsquery, so the fuzzy buckets time quarry alone, and
# quarry's exact-term query for the unmisspelled lexeme as the baseline.
#
# Each query runs once to warm up, then is timed inside the server
# (clock_timestamp around EXECUTE, planning included). Also checks that
# quarry's top-10 rows match: every row of a prefix query satisfies GIN's
# tsquery, every row of a fuzzy query holds a lexeme within N edits.
#
#   bench/bm25_prefix_fuzzy.sh   writes bench/results/bm25_prefix_fuzzy.{md,csv}
#   QUERIES=30 (default)         queries per bucket
#   ROWS=N                       load only the first N paragraphs (a smoke test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$repo/test/lib/cluster.sh"
source "$here/lib.sh"
require_data gutenberg-paragraphs
QUERIES=${QUERIES:-30}
head_rows=cat
[[ -n ${ROWS:-} ]] && head_rows="head -n $ROWS"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
"$repo/test/deps.sh" test bench
make -C "$repo" -s -j"$(nproc)" >/dev/null
if [[ $(id -u) -eq 0 ]]; then make -C "$repo" -s install >/dev/null; else sudo make -C "$repo" -s install >/dev/null; fi

bench_start prefix-fuzzy
trap bench_stop EXIT
bench_psql -q -c "CREATE EXTENSION rum"

echo "== loading 1M paragraphs"
bench_psql -q <<SQL
CREATE TABLE gp (id int PRIMARY KEY, book_no int, para_no int, body text);
\\copy gp FROM PROGRAM 'xzcat $QUARRY_DATA/gutenberg-paragraphs/gutenberg_1m.tsv.xz | $head_rows'
VACUUM ANALYZE gp;
CREATE TABLE timings (engine text, bucket text, qid int, ms float8);
CREATE FUNCTION time_query(sql text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE sql;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
-- Optimal string alignment distance over characters (what quarry's fuzzy terms count).
CREATE FUNCTION osa(a text, b text) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT AS \$\$
DECLARE
    n int := length(a); m int := length(b);
    d int[] := array_fill(0, ARRAY[n + 1, m + 1]);
    cost int;
BEGIN
    FOR i IN 0..n LOOP d[i + 1][1] := i; END LOOP;
    FOR j IN 0..m LOOP d[1][j + 1] := j; END LOOP;
    FOR i IN 1..n LOOP
        FOR j IN 1..m LOOP
            cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
            d[i + 1][j + 1] := least(d[i][j + 1] + 1, d[i + 1][j] + 1, d[i][j] + cost);
            IF i > 1 AND j > 1 AND substr(a, i, 1) = substr(b, j - 1, 1) AND substr(a, i - 1, 1) = substr(b, j, 1) THEN
                d[i + 1][j + 1] := least(d[i + 1][j + 1], d[i - 1][j - 1] + 1);
            END IF;
        END LOOP;
    END LOOP;
    RETURN d[n + 1][m + 1];
END \$\$;
-- One random edit: delete a character, swap two adjacent different ones, or
-- substitute one with another letter.
CREATE FUNCTION misspell(w text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE
    kind int; i int; c text;
BEGIN
    LOOP
        kind := floor(random() * 3)::int;
        i := 1 + floor(random() * length(w))::int;
        IF kind = 0 THEN
            RETURN overlay(w PLACING '' FROM i FOR 1);
        ELSIF kind = 1 THEN
            IF i < length(w) AND substr(w, i, 1) <> substr(w, i + 1, 1) THEN
                RETURN overlay(w PLACING substr(w, i + 1, 1) || substr(w, i, 1) FROM i FOR 2);
            END IF;
        ELSE
            c := chr(97 + floor(random() * 26)::int);
            IF c <> substr(w, i, 1) THEN
                RETURN overlay(w PLACING c FROM i FOR 1);
            END IF;
        END IF;
    END LOOP;
END \$\$;
SQL

echo "== quarry_bm25"
bench_psql -q -c "CREATE INDEX gp_bm25 ON gp USING quarry_bm25 (body) WITH (text_config = 'english')"

echo "== queries"
# A word is used only when the English configuration keeps it as itself (one
# lexeme, unchanged by the stemmer, no stop word), so the prefix or misspelling
# in the query is the lexeme both engines look up.
bench_psql -q <<SQL
CREATE TABLE sample_dict AS
SELECT word, ndoc FROM ts_stat('SELECT to_tsvector(''english'', body) FROM gp WHERE id % 10 = 0');
CREATE TABLE lexemes AS
SELECT row_number() OVER (ORDER BY ndoc DESC, word) AS rank, word FROM sample_dict
WHERE word ~ '^[a-z]+\$' ORDER BY ndoc DESC, word LIMIT 3000;
CREATE FUNCTION kept_as_is(w text) RETURNS boolean LANGUAGE sql AS
\$\$ SELECT to_tsvector('english', w) = (w || ':1')::tsvector \$\$;
CREATE TABLE queries (bucket text, qid int, quarry text, tsq text, exact text, lexeme text, edits int,
                      PRIMARY KEY (bucket, qid));
SELECT setseed(0.42);
DO \$\$
DECLARE
    b text; n int; r int; w text; w2 text; p text; m text; d int;
BEGIN
    FOREACH b IN ARRAY ARRAY['prefix1', 'prefix+word', 'fuzzy1', 'fuzzy2'] LOOP
        n := 0;
        WHILE n < $QUERIES LOOP
            r := 1 + floor(random() * 3000)::int;
            SELECT word INTO w FROM lexemes WHERE rank = r;
            IF b LIKE 'prefix%' THEN
                CONTINUE WHEN length(w) < 4;
                p := left(w, least(3 + floor(random() * 3)::int, length(w) - 1));
                CONTINUE WHEN NOT kept_as_is(p);
                IF b = 'prefix1' THEN
                    CONTINUE WHEN EXISTS (SELECT FROM queries WHERE bucket = b AND lexeme = p);
                    n := n + 1;
                    INSERT INTO queries VALUES (b, n, p || '*', p || ':*', NULL, p, NULL);
                ELSE
                    r := 1 + floor(random() * 3000)::int;
                    SELECT word INTO w2 FROM lexemes WHERE rank = r;
                    CONTINUE WHEN left(w2, length(p)) = p OR NOT kept_as_is(w2);
                    n := n + 1;
                    INSERT INTO queries VALUES (b, n, p || '* ' || w2, p || ':* | ' || w2, NULL, p, NULL);
                END IF;
            ELSE
                d := CASE b WHEN 'fuzzy1' THEN 1 ELSE 2 END;
                CONTINUE WHEN length(w) < 4 + 2 * (d - 1) OR NOT kept_as_is(w);
                m := misspell(w);
                IF d = 2 THEN m := misspell(m); END IF;
                CONTINUE WHEN osa(w, m) <> d OR NOT kept_as_is(m)
                    OR EXISTS (SELECT FROM queries WHERE bucket = b AND exact = w);
                n := n + 1;
                INSERT INTO queries VALUES (b, n, m || '~' || d, NULL, w, m, d);
            END IF;
        END LOOP;
    END LOOP;
END \$\$;
SQL

run() { # engine bucket-pattern column sql-format (%1\$L = the column's text)
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
        FOR q IN SELECT bucket, qid, $3 AS text FROM queries WHERE bucket LIKE '$2' ORDER BY bucket, qid LOOP
            ms := time_query(format('$4', q.text));
            IF pass = 2 THEN
                INSERT INTO timings VALUES ('$1', q.bucket, q.qid, ms);
            END IF;
        END LOOP;
    END LOOP;
END \$\$;
SQL
}

quarry_sql="SELECT id FROM gp ORDER BY body <@> quarry_query_parse(%1\$L, ''gp_bm25'') LIMIT 10"
tsq="to_tsquery(''english'', %1\$L)"

echo "== quarry: timing"
run quarry 'prefix%' quarry "$quarry_sql"
run quarry 'fuzzy%' quarry "$quarry_sql"
run quarry-exact 'fuzzy%' exact "$quarry_sql"

echo "== quarry: checking the top-10 rows"
bench_psql -q <<SQL
CREATE TABLE checks AS
SELECT q.bucket, q.qid, q.quarry, q.lexeme, q.exact, r.ids, r.scored,
       CASE WHEN q.bucket LIKE 'prefix%' THEN
           (SELECT count(*) FROM gp WHERE id = ANY (r.ids)
            AND to_tsvector('english', body) @@ to_tsquery('english', q.tsq))
       ELSE
           (SELECT count(*) FROM gp WHERE id = ANY (r.ids) AND EXISTS (
                SELECT FROM unnest(to_tsvector('english', body)) u
                WHERE abs(length(u.lexeme) - length(q.lexeme)) <= q.edits
                  AND osa(u.lexeme, q.lexeme) <= q.edits
                  AND osa(u.lexeme, q.lexeme) < least(length(u.lexeme), length(q.lexeme))))
       END AS rows_ok,
       CASE WHEN q.bucket LIKE 'fuzzy%' THEN
           (SELECT count(*) FROM gp WHERE id = ANY (r.ids)
            AND to_tsvector('english', body) @@ to_tsquery('english', q.exact))
       END AS rows_with_exact,
       CASE WHEN q.bucket LIKE 'prefix%' THEN
           (SELECT count(*) FROM sample_dict WHERE left(word, length(q.lexeme)) = q.lexeme)
       END AS sample_terms
FROM queries q,
     LATERAL (SELECT array_agg(id) AS ids, count(*) FILTER (WHERE score < 0) AS scored FROM (
         SELECT id, body <@> quarry_query_parse(q.quarry, 'gp_bm25') AS score FROM gp
         ORDER BY body <@> quarry_query_parse(q.quarry, 'gp_bm25') LIMIT 10) t) r;
SQL

echo "== GIN + ts_rank_cd"
bench_psql -q -c "CREATE INDEX gp_gin ON gp USING gin (to_tsvector('english', body))"
run gin 'prefix%' tsq "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY ts_rank_cd(to_tsvector(''english'', body), $tsq) DESC LIMIT 10"
bench_psql -q -c "DROP INDEX gp_gin"

echo "== RUM"
bench_psql -q -c "CREATE INDEX gp_rum ON gp USING rum (to_tsvector('english', body) rum_tsvector_ops)"
run rum 'prefix%' tsq "SELECT id FROM gp WHERE to_tsvector(''english'', body) @@ $tsq ORDER BY to_tsvector(''english'', body) <=> $tsq LIMIT 10"

out=$here/results/bm25_prefix_fuzzy
bench_psql -A -F, -P footer=off -c "
WITH s AS (
    SELECT engine, bucket, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
           round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p95_ms, count(*) AS queries
    FROM timings GROUP BY engine, bucket)
SELECT s.engine, s.bucket, s.p50_ms, s.p95_ms,
       round(s.p50_ms / nullif(b.p50_ms, 0), 2) AS p50_vs_quarry, round(s.p95_ms / nullif(b.p95_ms, 0), 2) AS p95_vs_quarry,
       s.queries
FROM s JOIN s b ON b.bucket = s.bucket AND b.engine = 'quarry'
ORDER BY CASE s.bucket WHEN 'prefix1' THEN 1 WHEN 'prefix+word' THEN 2 WHEN 'fuzzy1' THEN 3 ELSE 4 END,
         CASE s.engine WHEN 'quarry' THEN 1 WHEN 'quarry-exact' THEN 2 WHEN 'rum' THEN 3 ELSE 4 END" > "$out.csv"
fuzzy_ratio=$(bench_psql -A -F'|' -t -c "
SELECT f.bucket, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ms / e.ms)::numeric, 1),
       round(min(f.ms / e.ms)::numeric, 1), round(max(f.ms / e.ms)::numeric, 1)
FROM timings f JOIN timings e USING (bucket, qid)
WHERE f.engine = 'quarry' AND e.engine = 'quarry-exact' GROUP BY 1 ORDER BY 1")
checks=$(bench_psql -A -F'|' -t -c "
SELECT bucket, count(*), sum(cardinality(ids)), sum(scored), sum(rows_ok), count(*) FILTER (WHERE cardinality(ids) = 10),
       coalesce(sum(rows_with_exact)::text, ''),
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY sample_terms)::text, ''),
       coalesce(max(sample_terms)::text, ''), count(*) FILTER (WHERE sample_terms > 50)
FROM checks GROUP BY 1
ORDER BY CASE bucket WHEN 'prefix1' THEN 1 WHEN 'prefix+word' THEN 2 WHEN 'fuzzy1' THEN 3 ELSE 4 END")
examples=$(bench_psql -A -F'|' -t -c "
SELECT bucket, string_agg(quarry, ', ' ORDER BY qid) FROM queries WHERE qid <= 4 GROUP BY 1
ORDER BY CASE bucket WHEN 'prefix1' THEN 1 WHEN 'prefix+word' THEN 2 WHEN 'fuzzy1' THEN 3 ELSE 4 END")
pg_version=$(bench_psql -A -t -c "SHOW server_version")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "# quarry_bm25 prefix and fuzzy terms: 1,012,445 Gutenberg paragraphs"
	echo
	echo "Run: \`QUERIES=$QUERIES bench/bm25_prefix_fuzzy.sh\` ($QUERIES queries per bucket) on $started, $(nproc) cores,"
	echo "PostgreSQL $pg_version, shared_buffers 4GB, no parallel workers, enable_seqscan off."
	echo "Load average (1/5/15 min): $load_start at start, $load_end at end."
	echo
	echo "What each engine runs (top 10; the query text is \`q\`):"
	echo
	echo "- **quarry**: \`SELECT id FROM gp ORDER BY body <@> quarry_query_parse(q, 'gp_bm25') LIMIT 10\`,"
	echo "  index \`USING quarry_bm25 (body) WITH (text_config = 'english')\`, quarry.bm25_max_expansions 50"
	echo "  (the default: a prefix keeps its 50 most frequent terms; GIN and RUM match every completion)."
	echo "- **gin**: GIN on \`to_tsvector('english', body)\`; \`WHERE to_tsvector('english', body) @@ to_tsquery('english', q)"
	echo "  ORDER BY ts_rank_cd(to_tsvector('english', body), to_tsquery('english', q)) DESC LIMIT 10\`."
	echo "- **rum**: \`rum_tsvector_ops\` on the same expression; \`WHERE ... @@ to_tsquery('english', q)"
	echo "  ORDER BY to_tsvector('english', body) <=> to_tsquery('english', q) LIMIT 10\`."
	echo "- **quarry-exact** (fuzzy buckets only): quarry's query for the unmisspelled lexeme, the baseline."
	echo
	echo "Each query runs once to warm up, then once timed inside the server (clock_timestamp around"
	echo "EXECUTE, planning included). GIN and RUM are not built at the same time (GIN is dropped before"
	echo "RUM is built, as in bm25_scale.sh)."
	echo
	echo "Queries (seed 0.42) come from the 3,000 most frequent lexemes of a 10% sample (ts_stat over"
	echo "id % 10 = 0), keeping only words the English configuration leaves as they are (one lexeme,"
	echo "not a stop word, unchanged by the stemmer):"
	echo
	echo "- **prefix1**: a 3-5 character proper prefix of one lexeme, \`pre*\` (GIN/RUM: \`pre:*\`)."
	echo "- **prefix+word**: \`pre* word\` (GIN/RUM: \`pre:* | word\`)."
	echo "- **fuzzy1**: a lexeme of 4+ characters with one edit (deletion, adjacent transposition or"
	echo "  substitution; OSA distance 1), \`wrod~1\`. PostgreSQL has no fuzzy tsquery: quarry alone."
	echo "- **fuzzy2**: a lexeme of 6+ characters with two edits (OSA distance 2), \`~2\`."
	echo
	echo "First queries of each bucket:"
	echo
	echo "$examples" | awk -F'|' '{printf "- %s: `%s`\n", $1, $2}'
	echo
	echo "## Top-10 latency (ms)"
	echo
	echo "| bucket | engine | p50 | p95 | p50 vs quarry | p95 vs quarry | queries |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	tail -n +2 "$out.csv" | awk -F, '{printf "| %s | %s | %s | %s | %sx | %sx | %s |\n", $2, $1, $3, $4, $5, $6, $7}'
	echo
	echo "Fuzzy vs exact, per query (quarry fuzzy ms / quarry exact ms for the unmisspelled lexeme):"
	echo
	echo "| bucket | median ratio | min | max |"
	echo "| --- | --- | --- | --- |"
	echo "$fuzzy_ratio" | awk -F'|' '{printf "| %s | %sx | %sx | %sx |\n", $1, $2, $3, $4}'
	echo
	echo "## Checks on quarry's top-10 rows"
	echo
	echo "For every query, quarry's top 10 (index scan, default settings) were checked: for a prefix"
	echo "query, each row satisfies GIN's tsquery (\`to_tsvector('english', body) @@ to_tsquery('english', q)\`);"
	echo "for a fuzzy query, each row holds a lexeme within N edits (OSA, plain SQL) of the misspelling."
	echo "Prefix terms: how many distinct lexemes of the 10% sample start with the prefix (a lower bound"
	echo "on the full dictionary's; above 50, quarry keeps only the 50 most frequent)."
	echo
	echo "| bucket | queries | rows returned | rows scoring (<@> < 0) | rows that match | queries with 10 rows | rows holding the unmisspelled lexeme | prefix terms in sample: median | max | queries > 50 |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	echo "$checks" | awk -F'|' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, ($7 == "" ? "n/a" : $7), ($8 == "" ? "n/a" : $8), ($9 == "" ? "n/a" : $9), ($1 ~ /^prefix/ ? $10 : "n/a")}'
} > "$out.md"
cat "$out.md"
