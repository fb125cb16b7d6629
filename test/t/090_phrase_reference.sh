#!/usr/bin/env bash
# quarry_bm25 phrase queries against PostgreSQL's own phrase search, on real
# text: SciFact (5,183 abstracts, title || ' ' || text) and a uniform sample of
# the Gutenberg paragraphs (every 50th line of the 1M file: 20,248 paragraphs
# from the whole collection; its first lines would be a few authors). Each table
# gets quarry_bm25 (body) WITH (text_config = 'english'), built on about 3/4 of
# its rows, the rest inserted afterwards with a small pending limit (flushed
# segments, merges and a pending list), and a few rows updated and vacuumed.
#
# Phrases come from the documents themselves, chosen by md5 of fixed strings
# (no random(): the same data gives the same phrases on any machine): 2-4
# consecutive whitespace-separated words, leading and trailing punctuation
# trimmed, none with a double quote. Buckets:
#   sentence      a sentence boundary inside ("... cells. The protein")
#   punctuation   punctuation, hyphens, apostrophes, slashes between or in words
#   stop inside   a stop word between two other words (a hole: "cat in the hat")
#   stop at edge  a leading or trailing stop word (phraseto_tsquery drops it)
#   stop only     nothing but stop words (matches no row)
#   2/3/4 words   plain words, no stop word, no punctuation
#   absent        plain phrases with their words shuffled: words that occur
#                 together in some row, never as that phrase
# For each, the rows where body @@@ quarry_query_parse('"phrase"', idx) must be
# exactly the rows where to_tsvector('english', body) @@
# phraseto_tsquery('english', phrase).
#
# Sloppy phrases "a b"~N (N = 1..3; two words of one document up to 4 apart,
# either order, each one lexeme): the reference is plain SQL over the
# tsvector's positions (unnest): a row matches when lexeme a has a position pa
# and lexeme b a position pb with pa <> pb and |(pb - off) - pa| <= N, off
# being b's offset after a in the phrase (1; 2 in "sloppy hole", where a stop
# word sits between them): Lucene's slop, an edit distance on positions ("a
# b"~1 does not match "b a", ~2 does). The reference at N = 0 is checked
# against phraseto_tsquery first.
#
# Combinations, against tsquery (phrase = phraseto_tsquery, word =
# plainto_tsquery of one word of the same document not in the phrase):
#   +"p" w       phrase            (a SHOULD word is optional next to a MUST clause)
#   +"p" +w      phrase & word
#   -"p" w       word & !phrase    (no MUST clause: the SHOULD word is required)
#   +"p1" -"p2"  phrase1 & !phrase2, p2 overlapping p1 ("new york" / "york city")
#
# Each query's rows are taken three ways and each must equal the reference:
# @@@ by index (enable_seqscan off); the ordered scan ORDER BY body <@> q
# LIMIT (reference rows + 1), the rows with a score below 0; and, for one query
# in ten, @@@ as a filter on a sequential scan (quarry tokenizes the row).
# Rows whose tsvector hits its limits (256 positions of one lexeme, positions
# clamped at 16383) would make the reference inexact and are left out of both
# sides (none in these data). Prints the phrases checked per bucket (and by
# number of words), every mismatch (up to 30 shown), and fails on any.
# Skips when $QUARRY_DATA lacks the data.
set -euo pipefail
repo=${QUARRY_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$repo/test/lib/cluster.sh"

# run.sh passes QUARRY_DATA (empty when it found no data); run alone, the
# default is ../shared/data next to the repository.
data=${QUARRY_DATA-$(cd "$repo/.." && pwd)/shared/data}
corpora=()
if [[ -n $data && -r $data/scifact/corpus.jsonl ]]; then
	corpora+=(scifact)
else
	echo "# SciFact not found (QUARRY_DATA=$data): skipping its part"
fi
if [[ -n $data && -r $data/gutenberg-paragraphs/gutenberg_1m.tsv.xz ]]; then
	corpora+=(gutenberg)
else
	echo "# Gutenberg paragraphs not found (QUARRY_DATA=$data): skipping their part"
fi
if [[ ${#corpora[@]} -eq 0 ]]; then
	echo "SKIP: neither SciFact nor the Gutenberg paragraphs found (QUARRY_DATA=$data)"
	exit 0
fi

if [[ -n ${QUARRY_WORKSPACE:-} ]]; then
	work=$QUARRY_WORKSPACE
	trap 'cluster_stop "$work/c"' EXIT
else
	work=$(make_workspace phrase-reference)
	trap 'cluster_stop "$work/c"; [[ ${QUARRY_KEEP:-0} == 1 ]] || rm -rf "$work"' EXIT
fi
mkdir -p "$work/c"
[[ $(id -u) -eq 0 ]] && chown postgres: "$work/c"
port=$(free_port)
cluster_start "$work/c" "$port" "lc_messages='C'" "maintenance_work_mem='256MB'" "work_mem='64MB'" \
	"log_min_messages=error"
psql_c() { cluster_psql "$work/c" "$port" -q "$@"; }

psql_c <<'SQL'
CREATE EXTENSION quarry;
SET client_min_messages = warning;
-- A word the English configuration drops (and the simple one keeps).
CREATE FUNCTION is_stop(w text) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT to_tsvector('english', w) = ''::tsvector AND to_tsvector('simple', w) <> ''::tsvector $$;
-- A deterministic non-negative int from a string.
CREATE FUNCTION h(t text) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT ('x' || substr(md5(t), 1, 7))::bit(28)::int $$;
-- Leading and trailing punctuation off.
CREATE FUNCTION clean(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT regexp_replace(t, '^[^[:alnum:]]+|[^[:alnum:]]+$', '', 'g') $$;
-- One word that is one lexeme, letters only, no stop word.
CREATE FUNCTION plain_word(w text) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT w ~ '^[[:alpha:]]+$' AND length(to_tsvector('english', w)) = 1
          AND (SELECT count(*) FROM unnest(to_tsvector('english', w)) u, unnest(u.positions)) = 1 $$;
CREATE TABLE phrases (corpus text, bucket text, qid int, words int, phrase text, query text, ref text,
                      src_id int, PRIMARY KEY (corpus, bucket, qid));
CREATE TABLE results (corpus text, bucket text, qid int, ref_n int, idx_n int, ord_n int, seq_n int,
                      missing int[], extra int[], ord_ok boolean, seq_ok boolean, error text,
                      PRIMARY KEY (corpus, bucket, qid));
SQL

# Loads a corpus into TABLE (id int, body text, tsv = to_tsvector('english',
# body)) with a GIN index on tsv for the reference and quarry_bm25 on body.
load() { # corpus table
	local corpus=$1 t=$2
	if [[ $corpus == scifact ]]; then
		psql_c <<SQL
CREATE TEMP TABLE raw (n serial, j jsonb);
\\copy raw (j) FROM '$data/scifact/corpus.jsonl' WITH (format csv, quote e'\\x01', delimiter e'\\x02')
CREATE TABLE src_$t AS SELECT n AS id, coalesce(j->>'title', '') || ' ' || coalesce(j->>'text', '') AS body FROM raw;
SQL
	else
		psql_c <<SQL
CREATE TABLE src_$t (id int, book_no int, para_no int, body text);
\\copy src_$t FROM PROGRAM 'xzcat $data/gutenberg-paragraphs/gutenberg_1m.tsv.xz | awk "NR % 50 == 0"'
SQL
	fi
	psql_c <<SQL
SET client_min_messages = warning;
CREATE TABLE $t (id int PRIMARY KEY, body text,
                 tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED);
INSERT INTO $t SELECT id, body FROM src_$t WHERE h('split:' || id) % 4 <> 0 ORDER BY id;
CREATE INDEX ${t}_bm25 ON $t USING quarry_bm25 (body) WITH (text_config = 'english');
SET quarry.bm25_pending_limit = '256kB';
INSERT INTO $t SELECT id, body FROM src_$t WHERE h('split:' || id) % 4 = 0 ORDER BY id;
UPDATE $t SET body = body || '' WHERE id % 97 = 0;
VACUUM $t;
CREATE INDEX ${t}_gin ON $t USING gin (tsv);
ANALYZE $t;
-- Rows beyond the tsvector's limits (the reference would be inexact there).
CREATE TABLE ${t}_limits AS
SELECT id FROM $t, unnest(tsv) u
WHERE array_length(u.positions, 1) >= 256 OR 16383 = ANY (u.positions) GROUP BY id;
SQL
	psql_c -At -c "SELECT format('# %s: %s rows; index: %s segments, %s pending rows, %s removed; %s rows at the tsvector limits',
	    '$corpus', (SELECT count(*) FROM $t), s.segments, s.pending_rows, s.removed_rows, (SELECT count(*) FROM ${t}_limits))
	    FROM quarry_bm25_stats('${t}_bm25') s"
}

# The phrases of one corpus (see the top of the file).
make_phrases() { # corpus table
	local c=$1 t=$2
	psql_c <<SQL
SET client_min_messages = warning;
-- 1,500 documents, six spans of each length 2, 3, 4 from each.
CREATE TEMP TABLE docs AS
SELECT id, regexp_split_to_array(btrim(body), '\s+') AS w FROM $t ORDER BY md5('$c:' || id) LIMIT 1500;
CREATE TEMP TABLE spans AS
SELECT DISTINCT ON (lower(phrase)) * FROM (
    SELECT id, k, words, clean(array_to_string(words, ' ')) AS phrase FROM (
        SELECT d.id, k, d.w[s:s + k - 1] AS words FROM docs d, generate_series(2, 4) k, generate_series(1, 6) j,
             LATERAL (SELECT 1 + h(d.id || ':' || k || ':' || j) % (array_length(d.w, 1) - k + 1) AS s) x
        WHERE array_length(d.w, 1) >= k) y
    WHERE NOT EXISTS (SELECT FROM unnest(words) x WHERE x !~ '[[:alnum:]]')) z
WHERE phrase !~ '"'
ORDER BY lower(phrase), md5('$c:' || phrase);
CREATE TEMP TABLE classified AS
SELECT *, CASE
    WHEN phrase ~ '[.!?][])''’]*\s+[[:upper:]]' THEN 'sentence'
    WHEN (SELECT bool_and(is_stop(clean(x))) FROM unnest(words) x) THEN 'stop only'
    WHEN phrase ~ '[^[:alnum:][:space:]]' THEN 'punctuation'
    WHEN coalesce((SELECT bool_or(is_stop(clean(x))) FROM unnest(words[2:k - 1]) x), false) THEN 'stop inside'
    WHEN is_stop(clean(words[1])) OR is_stop(clean(words[k])) THEN 'stop at edge'
    ELSE k || ' words' END AS bucket
FROM spans;
INSERT INTO phrases
SELECT '$c', bucket, n, k, phrase, '"' || phrase || '"', format('tsv @@ phraseto_tsquery(''english'', %L)', phrase), id
FROM (SELECT *, row_number() OVER (PARTITION BY bucket ORDER BY md5('$c:' || phrase)) AS n FROM classified
      WHERE bucket = 'stop only' OR to_tsvector('english', phrase) <> ''::tsvector) x
WHERE n <= CASE bucket WHEN 'sentence' THEN 20 WHEN 'punctuation' THEN 40 WHEN 'stop inside' THEN 50
                       WHEN 'stop at edge' THEN 20 WHEN 'stop only' THEN 10 ELSE 40 END;

-- Absent: plain 2-4 word spans, words in an order of md5 (not the original),
-- whose words occur together in some row but never as that phrase.
INSERT INTO phrases
SELECT '$c', 'absent', row_number() OVER (ORDER BY md5('$c:absent:' || phrase)), k, phrase, '"' || phrase || '"',
       format('tsv @@ phraseto_tsquery(''english'', %L)', phrase), id
FROM (
    SELECT s.id, s.k, s.phrase FROM (
        SELECT c.id, c.k, (SELECT string_agg(x, ' ' ORDER BY md5(x || ':' || c.phrase)) FROM unnest(c.words) x) AS phrase
        FROM classified c WHERE c.bucket LIKE '_ words'
        ORDER BY md5('$c:shuffle:' || c.phrase) LIMIT 400) s
    WHERE lower(s.phrase) NOT IN (SELECT lower(phrase) FROM spans)
      AND NOT EXISTS (SELECT FROM $t WHERE tsv @@ phraseto_tsquery('english', s.phrase))
      AND EXISTS (SELECT FROM $t WHERE tsv @@ plainto_tsquery('english', s.phrase))
    ORDER BY md5('$c:absent:' || s.phrase) LIMIT 20) a;

-- Sloppy: word s and word s + o of a document (o in -2, -1, 2, 3, 4), each one
-- lexeme; "sloppy hole": word, stop word, word.
CREATE TEMP TABLE pairs AS
SELECT DISTINCT ON (lower(phrase)) * FROM (
    SELECT d.id, clean(d.w[s]) || ' ' || clean(d.w[s + o]) AS phrase, 'sloppy' AS bucket
    FROM docs d, generate_series(1, 3) j,
         LATERAL (SELECT 3 + h(d.id || ':pair:' || j) % greatest(array_length(d.w, 1) - 6, 1) AS s,
                         (ARRAY[-2, -1, 2, 3, 4])[1 + h(d.id || ':off:' || j) % 5] AS o) x
    WHERE array_length(d.w, 1) >= 8 AND plain_word(clean(d.w[s])) AND plain_word(clean(d.w[s + o]))
      AND to_tsvector('english', clean(d.w[s])) <> to_tsvector('english', clean(d.w[s + o]))
    UNION ALL
    SELECT id, phrase, 'sloppy hole' FROM classified
    WHERE k = 3 AND bucket = 'stop inside' AND plain_word(words[1]) AND plain_word(words[3])
      AND to_tsvector('english', words[1]) <> to_tsvector('english', words[3])) p
ORDER BY lower(phrase), md5('$c:' || phrase);
INSERT INTO phrases
SELECT '$c', bucket, n, CASE bucket WHEN 'sloppy' THEN 2 ELSE 3 END, phrase, format('"%s"~%s', phrase, slop),
       format('tsv @@ %L::tsquery AND EXISTS (SELECT FROM unnest(tsv) ua, unnest(ua.positions) pa, unnest(tsv) ub, unnest(ub.positions) pb
               WHERE ua.lexeme = %L AND ub.lexeme = %L AND pa <> pb AND abs((pb - %s) - pa) <= %s)',
              quote_literal(la) || ' & ' || quote_literal(lb), la, lb, off, slop), id
FROM (
    SELECT p.*, row_number() OVER (PARTITION BY bucket ORDER BY md5('$c:sloppy:' || phrase)) AS n,
           1 + h('$c:slop:' || phrase) % 3 AS slop,
           (SELECT lexeme FROM unnest(tv) u ORDER BY u.positions[1] LIMIT 1) AS la,
           (SELECT lexeme FROM unnest(tv) u ORDER BY u.positions[1] DESC LIMIT 1) AS lb,
           (SELECT max(u.positions[1]) - min(u.positions[1]) FROM unnest(tv) u) AS off
    FROM (SELECT *, to_tsvector('english', phrase) AS tv FROM pairs) p) x
WHERE n <= CASE bucket WHEN 'sloppy' THEN 50 ELSE 10 END;

-- Combinations with a word of the same document.
CREATE TEMP TABLE combos AS
SELECT p.*, wd.word, row_number() OVER (ORDER BY md5('$c:combo:' || p.phrase)) AS n
FROM phrases p,
     LATERAL (SELECT clean(x) AS word FROM $t d, unnest(regexp_split_to_array(d.body, '\s+')) WITH ORDINALITY u(x, i)
              WHERE d.id = p.src_id AND plain_word(clean(x))
                AND NOT to_tsvector('english', p.phrase) @@ plainto_tsquery('english', clean(x))
              ORDER BY md5(i || ':' || p.phrase) LIMIT 1) wd
WHERE p.corpus = '$c' AND p.bucket IN ('2 words', '3 words');
INSERT INTO phrases
SELECT '$c', b.bucket, n, words, phrase, format(b.q, phrase, word), format(b.ref, phrase, word), src_id
FROM combos,
     (VALUES ('+"p" w', '+"%s" %s', 'tsv @@ phraseto_tsquery(''english'', %L)', 0),
             ('+"p" +w', '+"%s" +%s', 'tsv @@ (phraseto_tsquery(''english'', %L) && plainto_tsquery(''english'', %L))', 1),
             ('-"p" w', '-"%s" %s', 'tsv @@ (plainto_tsquery(''english'', %2\$L) && !! phraseto_tsquery(''english'', %1\$L))', 2))
         b(bucket, q, ref, slot)
WHERE n % 3 = slot AND n <= 75;
-- Two overlapping phrases of a 3-word span "x y z": +"x y" -"y z", where "x y"
-- is in at least 3 rows (the span's own row holds both).
INSERT INTO phrases
SELECT '$c', '+"p1" -"p2"', row_number() OVER (ORDER BY md5('$c:pair:' || phrase)), 3, phrase,
       format('+"%s" -"%s"', p1, p2),
       format('tsv @@ (phraseto_tsquery(''english'', %L) && !! phraseto_tsquery(''english'', %L))', p1, p2), id
FROM (
    SELECT * FROM (
        SELECT c.id, c.phrase, c.words[1] || ' ' || c.words[2] AS p1, c.words[2] || ' ' || c.words[3] AS p2
        FROM classified c WHERE c.bucket = '3 words' ORDER BY md5('$c:pair:' || c.phrase) LIMIT 300) x
    WHERE (SELECT count(*) FROM $t WHERE tsv @@ phraseto_tsquery('english', x.p1)) >= 3
    ORDER BY md5('$c:pair:' || x.phrase) LIMIT 15) y;
SQL
}

# Runs every query of a corpus the three ways; records rows and differences.
psql_c <<'SQL'
-- The sloppy reference with its slop set to 0, against phraseto_tsquery: rows
-- that differ, phrases, and phrases whose slop adds rows.
CREATE FUNCTION check_sloppy_reference(c text, tbl text, OUT differ int, OUT total int, OUT wider int)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    exact int[];
    slop0 int[];
    sloppy int[];
BEGIN
    differ := 0; total := 0; wider := 0;
    FOR p IN SELECT * FROM phrases WHERE corpus = c AND bucket LIKE 'sloppy%' ORDER BY bucket, qid LOOP
        EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I WHERE tsv @@ phraseto_tsquery(''english'', %L)',
                       tbl, p.phrase) INTO exact;
        EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I WHERE %s',
                       tbl, regexp_replace(p.ref, '<= [0-9]+\)$', '<= 0)')) INTO slop0;
        EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I WHERE %s', tbl, p.ref) INTO sloppy;
        total := total + 1;
        IF exact <> slop0 THEN
            differ := differ + 1;
        END IF;
        IF cardinality(sloppy) > cardinality(exact) THEN
            wider := wider + 1;
        END IF;
    END LOOP;
END $$;
CREATE FUNCTION check_corpus(c text, tbl text, idx text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p record;
    q text;
    ref int[];
    got int[];
    ord int[];
    seq int[];
    keep text := format('NOT EXISTS (SELECT FROM %I l WHERE l.id = t.id)', tbl || '_limits');
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I', tbl || '_limits') INTO n;
    IF n = 0 THEN
        keep := 'true'; -- the ordered scan stays a plain index scan
    END IF;
    FOR p IN SELECT * FROM phrases WHERE corpus = c ORDER BY bucket, qid LOOP
        q := format('quarry_query_parse(%L, %L)', p.query, idx);
        BEGIN
            seq := NULL;
            PERFORM set_config('enable_seqscan', 'on', true);
            EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I t WHERE %s AND %s',
                           tbl, p.ref, keep) INTO ref;
            PERFORM set_config('enable_seqscan', 'off', true);
            EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I t WHERE body @@@ %s AND %s',
                           tbl, q, keep) INTO got;
            EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM (
                                SELECT id, body <@> %1$s AS s FROM %2$I t WHERE %3$s ORDER BY body <@> %1$s LIMIT %4$s) o
                            WHERE s < 0', q, tbl, keep, cardinality(ref) + 1) INTO ord;
            IF p.qid % 10 = 1 THEN
                PERFORM set_config('enable_seqscan', 'on', true);
                PERFORM set_config('enable_indexscan', 'off', true);
                PERFORM set_config('enable_bitmapscan', 'off', true);
                EXECUTE format('SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM %I t WHERE body @@@ %s AND %s',
                               tbl, q, keep) INTO seq;
                PERFORM set_config('enable_indexscan', 'on', true);
                PERFORM set_config('enable_bitmapscan', 'on', true);
            END IF;
            INSERT INTO results VALUES (c, p.bucket, p.qid, cardinality(ref), cardinality(got), cardinality(ord),
                cardinality(seq),
                ARRAY(SELECT unnest(ref) EXCEPT SELECT unnest(got) ORDER BY 1),
                ARRAY(SELECT unnest(got) EXCEPT SELECT unnest(ref) ORDER BY 1),
                ord = ref, seq IS NULL OR seq = ref, NULL);
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO results (corpus, bucket, qid, error) VALUES (c, p.bucket, p.qid, SQLERRM);
        END;
    END LOOP;
END $$;
SQL

declare -A tables=([scifact]=sf [gutenberg]=gp)
status=0
bucket_order="CASE bucket WHEN 'sentence' THEN 1 WHEN 'punctuation' THEN 2 WHEN 'stop inside' THEN 3
    WHEN 'stop at edge' THEN 4 WHEN 'stop only' THEN 5 WHEN '2 words' THEN 6 WHEN '3 words' THEN 7
    WHEN '4 words' THEN 8 WHEN 'absent' THEN 9 WHEN 'sloppy' THEN 10 WHEN 'sloppy hole' THEN 11
    WHEN '+\"p\" w' THEN 12 WHEN '+\"p\" +w' THEN 13 WHEN '-\"p\" w' THEN 14 ELSE 15 END"
for corpus in "${corpora[@]}"; do
	t=${tables[$corpus]}
	echo "# $corpus: loading and indexing"
	load "$corpus" "$t"
	plan=$(psql_c -At -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM $t
	    WHERE body @@@ quarry_query_parse('\"a b\"', '${t}_bm25')")
	if grep -q "${t}_bm25" <<<"$plan"; then
		echo "ok - $corpus: @@@ with enable_seqscan off is an index scan of ${t}_bm25"
	else
		echo "not ok - $corpus: @@@ does not use ${t}_bm25:"
		sed 's/^/#   /' <<<"$plan"
		status=1
	fi
	make_phrases "$corpus" "$t"
	# The sloppy reference at slop 0 must be phraseto_tsquery's exact phrase.
	read -r differ total wider < <(psql_c -At -F' ' -c "SELECT * FROM check_sloppy_reference('$corpus', '$t')")
	if [[ $differ == 0 ]]; then
		echo "ok - $corpus: the sloppy reference at slop 0 equals phraseto_tsquery ($total phrases; $wider match more rows at their slop)"
	else
		echo "not ok - $corpus: the sloppy reference at slop 0 differs from phraseto_tsquery for $differ of $total phrases"
		status=1
	fi
	echo "# $corpus: checking $(psql_c -At -c "SELECT count(*) FROM phrases WHERE corpus = '$corpus'") queries"
	start=$SECONDS
	psql_c -c "SET client_min_messages = warning" -c "SELECT check_corpus('$corpus', '$t', '${t}_bm25')" >/dev/null
	echo "# $corpus: checked in $((SECONDS - start)) s"
done

# Per bucket: phrases (by number of words), with any row, rows, mismatches.
echo "#"
echo "# corpus | bucket | queries | 2/3/4 words | with rows | rows (reference) | seqscan checks | mismatches"
psql_c -At -F' | ' -c "
    SELECT '# ' || p.corpus, p.bucket, count(*),
           count(*) FILTER (WHERE p.words = 2) || '/' || count(*) FILTER (WHERE p.words = 3) || '/' ||
           count(*) FILTER (WHERE p.words = 4),
           count(*) FILTER (WHERE r.ref_n > 0), coalesce(sum(r.ref_n), 0), count(r.seq_n),
           count(*) FILTER (WHERE r.error IS NOT NULL OR r.ref_n <> r.idx_n OR cardinality(r.missing) > 0
                              OR cardinality(r.extra) > 0 OR NOT r.ord_ok OR NOT r.seq_ok)
    FROM phrases p LEFT JOIN results r USING (corpus, bucket, qid)
    GROUP BY p.corpus, p.bucket ORDER BY p.corpus DESC, $bucket_order"
echo "#"
echo "# First queries of each bucket:"
psql_c -At -c "
    SELECT format('#   %s, %s: %s', corpus, bucket, string_agg(query, '  ' ORDER BY qid))
    FROM phrases WHERE qid <= 3 GROUP BY corpus, bucket ORDER BY corpus DESC, $bucket_order"

mismatch="r.error IS NOT NULL OR r.ref_n <> r.idx_n OR cardinality(r.missing) > 0 OR cardinality(r.extra) > 0
          OR NOT r.ord_ok OR NOT r.seq_ok"
while IFS='|' read -r corpus bucket n bad; do
	if [[ $bad == 0 ]]; then
		echo "ok - $corpus, $bucket: $n queries, quarry's rows = PostgreSQL's"
	else
		echo "not ok - $corpus, $bucket: $bad of $n queries differ"
		status=1
	fi
done < <(psql_c -At -c "
    SELECT p.corpus, p.bucket, count(*), count(*) FILTER (WHERE r.qid IS NULL OR $mismatch)
    FROM phrases p LEFT JOIN results r USING (corpus, bucket, qid)
    GROUP BY p.corpus, p.bucket ORDER BY p.corpus DESC, $bucket_order")
total_bad=$(psql_c -At -c "SELECT count(*) FROM results r WHERE $mismatch")
if [[ $total_bad -gt 0 ]]; then
	echo "# $total_bad mismatching queries (up to 30 shown): reference rows, @@@ by index, ordered scan, seqscan;"
	echo "# rows the index missed and rows it added (ids, up to 5 each), or the error"
	psql_c -At -c "
	    SELECT format('#   %s, %s #%s: %s  ref %s, @@@ %s, ordered %s%s, seqscan %s%s; missing %s extra %s%s',
	                  p.corpus, p.bucket, p.qid, p.query, r.ref_n, r.idx_n, r.ord_n,
	                  CASE WHEN r.ord_ok THEN '' ELSE ' (differs)' END, coalesce(r.seq_n::text, '-'),
	                  CASE WHEN r.seq_ok THEN '' ELSE ' (differs)' END,
	                  coalesce(r.missing[1:5]::text, '{}'), coalesce(r.extra[1:5]::text, '{}'),
	                  coalesce('; ERROR: ' || r.error, ''))
	    FROM phrases p JOIN results r USING (corpus, bucket, qid) WHERE $mismatch
	    ORDER BY p.corpus DESC, $bucket_order, p.qid LIMIT 30"
fi
echo "# mismatches: $total_bad"

for corpus in "${corpora[@]}"; do
	t=${tables[$corpus]}
	problems=$(psql_c -At -c "SELECT count(*) FROM quarry_verify_index('${t}_bm25')")
	if [[ $problems == 0 ]]; then
		echo "ok - $corpus: quarry_verify_index finds no problem"
	else
		echo "not ok - $corpus: quarry_verify_index reports $problems problems"
		psql_c -At -c "SELECT '#   ' || p FROM quarry_verify_index('${t}_bm25') p LIMIT 10"
		status=1
	fi
done
if grep -qE "terminated by signal|PANIC" "$work/c/server.log"; then
	echo "not ok - the server log shows a crash"
	grep -E "terminated by signal|PANIC" "$work/c/server.log" | head
	status=1
fi
exit $status
