-- Phrases ("w1 w2", "w1 w2"~N) against PostgreSQL's own phrase search: the
-- rows a quarry phrase matches equal the rows where to_tsvector(cfg, body) @@
-- phraseto_tsquery(cfg, phrase), for phrases cut from the documents (2 to 4
-- words, stop words inside); sloppy phrases against a plain-SQL reference over
-- tsvector positions; scores of two-word phrases against a plain-SQL BM25 whose
-- tf is the phrase's frequency and whose IDF is the sum of the words' (as
-- Lucene scores phrases). Then +/- phrases, DML through the pending list, a
-- merge and VACUUM, highlighting, and an index without positions.
-- Documents: PostgreSQL's object descriptions (sql/data), 15 to a document.
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE ph_docs AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body
FROM descriptions GROUP BY (rn - 1) / 15;
DROP TABLE descriptions;
CREATE INDEX ph_idx ON ph_docs USING quarry_bm25 (body) WITH (text_config = 'english');
SET client_min_messages = warning; -- phraseto_tsquery's NOTICE for phrases of stop words

-- Phrases cut from the documents: every run of 2, 3 and 4 words of every
-- 20th document (words as the text search parser splits them, stop words kept).
CREATE TABLE phrases AS
WITH words AS (
    SELECT d.id, t.n, t.token
    FROM ph_docs d, LATERAL ts_parse('default', d.body) WITH ORDINALITY t(tokid, token, n)
    WHERE d.id % 20 = 0 AND t.tokid IN (1, 2, 3)),   -- asciiword, word, numword
runs AS (
    SELECT w.id, w.n, len, string_agg(x.token, ' ' ORDER BY x.n) AS phrase, count(*) AS words
    FROM words w, generate_series(2, 4) len, LATERAL (
        SELECT token, n FROM words y WHERE y.id = w.id AND y.n >= w.n ORDER BY y.n LIMIT len) x
    GROUP BY w.id, w.n, len)
SELECT DISTINCT len, lower(phrase) AS phrase FROM runs WHERE words = len;
SELECT len, count(*) AS phrases,
       count(*) FILTER (WHERE phraseto_tsquery('english', phrase)::text ~ '<[2-9]>') AS with_stop_words
FROM phrases GROUP BY len ORDER BY len;

-- Every phrase: quarry's rows (bitmap scan) against phraseto_tsquery's.
CREATE TABLE phrase_check AS
SELECT p.len, p.phrase,
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ph_docs
        WHERE body @@@ quarry_query_parse('"' || p.phrase || '"', 'ph_idx')) AS quarry,
       (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ph_docs
        WHERE to_tsvector('english', body) @@ phraseto_tsquery('english', p.phrase)) AS reference
FROM phrases p;
SELECT len, count(*) AS phrases, count(*) FILTER (WHERE quarry = reference) AS same_rows,
       sum(cardinality(reference)) AS reference_rows
FROM phrase_check GROUP BY len ORDER BY len;
SELECT * FROM phrase_check WHERE quarry <> reference LIMIT 5;

-- Positions of a lexeme in a row, from its tsvector.
CREATE FUNCTION lexeme_positions(body text, lexeme text) RETURNS int[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT array_agg(p ORDER BY p) FROM unnest(to_tsvector('english', body)) u, unnest(u.positions) p
                     WHERE u.lexeme = $2), '{}') $$;
-- Two-word phrases (two lexemes, `gap` positions apart in the query): the
-- phrase's frequency in each row, exact or within `slop` (Lucene: a pair of
-- positions pa, pb matches when |(pb - gap) - pa| <= slop; the frequency of an
-- exact phrase is the number of such pairs).
CREATE FUNCTION pair_freq(body text, a text, b text, gap int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT count(*)::int FROM unnest(lexeme_positions(body, a)) pa, unnest(lexeme_positions(body, b)) pb
    WHERE pb - gap = pa $$;
CREATE FUNCTION pair_within(body text, a text, b text, gap int, slop int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT EXISTS (SELECT FROM unnest(lexeme_positions(body, a)) pa, unnest(lexeme_positions(body, b)) pb
                   WHERE pa <> pb AND abs((pb - gap) - pa) <= slop) $$;
-- The two-word phrases whose two words are two distinct lexemes, `gap` apart.
CREATE TABLE pairs AS
SELECT phrase, lexemes[1] AS a, lexemes[2] AS b, gap FROM (
    SELECT phrase, tsvector_to_array(to_tsvector('english', phrase)) AS lexemes,
           (SELECT max(p) - min(p) FROM unnest(to_tsvector('english', phrase)) u, unnest(u.positions) p) AS gap
    FROM phrases) x
WHERE cardinality(lexemes) = 2 AND (SELECT count(*) FROM unnest(to_tsvector('english', phrase)) u, unnest(u.positions)) = 2;
-- (a is the lexeme that comes first in the phrase)
UPDATE pairs SET a = b, b = a
WHERE (SELECT u.positions[1] FROM unnest(to_tsvector('english', phrase)) u WHERE u.lexeme = a)
    > (SELECT u.positions[1] FROM unnest(to_tsvector('english', phrase)) u WHERE u.lexeme = b);
-- Sloppy: slop 1 to 3, and the words reversed (which needs slop 2 + gap).
SELECT slop, count(*) AS phrases,
       count(*) FILTER (WHERE (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ph_docs
                               WHERE body @@@ quarry_query_parse('"' || p.phrase || '"~' || slop, 'ph_idx'))
                            = (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM ph_docs
                               WHERE body @@@ quarry_query_parse(p.a || ' ' || p.b, 'ph_idx')
                                 AND pair_within(body, p.a, p.b, p.gap, slop))) AS same_rows
FROM (SELECT * FROM pairs ORDER BY md5(phrase) LIMIT 60) p, generate_series(1, 3) slop
GROUP BY slop ORDER BY slop;
-- Scores of exact two-word phrases: BM25 with tf = the phrase's frequency and
-- IDF = idf(a) + idf(b), k1 1.2, b 0.75.
CREATE FUNCTION ref_phrase_bm25(a text, b text, gap int) RETURNS TABLE (id int, score float8) LANGUAGE sql STABLE AS $$
    WITH lens AS (SELECT d.id, d.body, coalesce((SELECT sum(array_length(u.positions, 1))
                                                  FROM unnest(to_tsvector('english', d.body)) u), 0)::float8 AS len
                  FROM ph_docs d),
    stats AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    df AS (SELECT (SELECT count(*) FROM ph_docs WHERE to_tsvector('english', body) @@ quote_literal(a)::tsquery)::float8 AS dfa,
                  (SELECT count(*) FROM ph_docs WHERE to_tsvector('english', body) @@ quote_literal(b)::tsquery)::float8 AS dfb),
    tf AS (SELECT l.id, l.len, pair_freq(l.body, a, b, gap)::float8 AS f FROM lens l)
    SELECT tf.id, (ln(1 + (s.n - df.dfa + 0.5) / (df.dfa + 0.5)) + ln(1 + (s.n - df.dfb + 0.5) / (df.dfb + 0.5)))
                  * tf.f * 2.2 / (tf.f + 1.2 * (0.25 + 0.75 * tf.len / s.avgdl))
    FROM tf, stats s, df WHERE tf.f > 0 $$;
SET enable_seqscan = off;
SELECT count(*) AS phrases,
       count(*) FILTER (WHERE ranked IS NOT DISTINCT FROM reference) AS same_ranking,
       count(*) FILTER (WHERE scores_equal) AS same_scores
FROM (SELECT p.phrase,
             (SELECT array_agg(id) FROM (SELECT id, body <@> quarry_query_parse('"' || p.phrase || '"', 'ph_idx') AS s
                                        FROM ph_docs ORDER BY body <@> quarry_query_parse('"' || p.phrase || '"', 'ph_idx')) x
              WHERE s < 0) AS ranked,
             (SELECT array_agg(r.id ORDER BY r.score DESC, r.id) FROM ref_phrase_bm25(p.a, p.b, p.gap) r) AS reference,
             (SELECT coalesce(bool_and(abs(-(d.body <@> quarry_query_parse('"' || p.phrase || '"', 'ph_idx')) - r.score) < 1e-9), true)
              FROM ph_docs d JOIN ref_phrase_bm25(p.a, p.b, p.gap) r USING (id)) AS scores_equal
      FROM (SELECT * FROM pairs ORDER BY md5(phrase) LIMIT 40) p) x;
RESET enable_seqscan;

-- Rank safety under pruning: the index's top 10 (block-max WAND or MaxScore,
-- phrase bounds from their words' block impacts) has the exact top 10's
-- scores, bit for bit, for phrases mixed with words, sloppy phrases, repeated
-- words, required and excluded phrases.
CREATE FUNCTION top10_scores(q text, by_index boolean) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE
    r float8[];
BEGIN
    IF by_index THEN
        SET LOCAL enable_seqscan = off;
        SET LOCAL enable_bitmapscan = off;
    ELSE
        SET LOCAL enable_indexscan = off;
        SET LOCAL enable_bitmapscan = off;
    END IF;
    SELECT array_agg(s ORDER BY s) INTO r FROM (
        SELECT body <@> quarry_query_parse(q, 'ph_idx') AS s FROM ph_docs
        ORDER BY body <@> quarry_query_parse(q, 'ph_idx') LIMIT 10) x;
    RETURN r;
END $$;
SELECT q, top10_scores(q, true) = top10_scores(q, false) AS same_top10,
       (SELECT count(*) FROM unnest(top10_scores(q, true)) s WHERE s < 0) AS scoring
FROM unnest(ARRAY['"access method" index', '"text search" +configuration function', '"data type"~2 array',
                  '+function -"access method" operator', '"index index" index', '"operator class" "access method" "data type"',
                  '"large object"~1 "time zone" time', '"of the" "function" -"aggregate function"']) q;

-- +"phrase" requires it, -"phrase" excludes rows holding it (not its words).
SELECT (SELECT array_agg(id ORDER BY id) FROM ph_docs WHERE body @@@ quarry_query_parse('+"access method" +index', 'ph_idx'))
     = (SELECT array_agg(id ORDER BY id) FROM ph_docs WHERE to_tsvector('english', body) @@ to_tsquery('english', '(access <-> method) & index'))
       AS must_phrase,
       (SELECT array_agg(id ORDER BY id) FROM ph_docs WHERE body @@@ quarry_query_parse('+index -"access method"', 'ph_idx'))
     = (SELECT array_agg(id ORDER BY id) FROM ph_docs WHERE to_tsvector('english', body) @@ to_tsquery('english', 'index & !(access <-> method)'))
       AS must_not_phrase;
-- A phrase of one word is that word; of stop words only, nothing.
SELECT (SELECT count(*) FROM ph_docs WHERE body @@@ quarry_query_parse('"functions"', 'ph_idx'))
     = (SELECT count(*) FROM ph_docs WHERE body @@@ quarry_query_parse('functions', 'ph_idx')) AS one_word,
       (SELECT count(*) FROM ph_docs WHERE body @@@ quarry_query_parse('"of the"', 'ph_idx')) AS stop_words_only;

-- Rows inserted later (pending list), then flushed and merged, then VACUUM.
INSERT INTO ph_docs VALUES (1000, 'the zebra crossing, a zebra and a crossing'), (1001, 'crossing the zebra');
SELECT array_agg(id ORDER BY id) AS pending_exact FROM ph_docs WHERE body @@@ quarry_query_parse('"zebra crossing"', 'ph_idx');
SELECT array_agg(id ORDER BY id) AS pending_sloppy FROM ph_docs WHERE body @@@ quarry_query_parse('"zebra crossing"~2', 'ph_idx');
SELECT round((body <@> quarry_query_parse('"zebra crossing"', 'ph_idx'))::numeric, 6) = round(-r.score::numeric, 6) AS pending_score
FROM ph_docs JOIN ref_phrase_bm25('zebra', 'cross', 1) r USING (id);
SELECT quarry_bm25_merge('ph_idx') AS segments;
SELECT array_agg(id ORDER BY id) AS merged_exact FROM ph_docs WHERE body @@@ quarry_query_parse('"zebra crossing"', 'ph_idx');
DELETE FROM ph_docs WHERE id = 1000;
VACUUM ph_docs;
SELECT array_agg(id ORDER BY id) AS after_vacuum FROM ph_docs WHERE body @@@ quarry_query_parse('"zebra crossing"~2', 'ph_idx');
SELECT * FROM quarry_verify_index('ph_idx');

-- Highlighting marks the phrase's words.
SELECT quarry_snippet('an index access method and a method of access', quarry_query_parse('"access method"', 'ph_idx'));

-- Without positions: smaller, and a phrase is a clear error asking for REINDEX.
CREATE INDEX ph_nopos ON ph_docs USING quarry_bm25 (body) WITH (text_config = 'english', positions = off);
SELECT (SELECT pages FROM quarry_bm25_stats('ph_nopos')) < (SELECT pages FROM quarry_bm25_stats('ph_idx')) AS smaller;
SELECT count(*) FROM ph_docs WHERE body @@@ quarry_query_parse('"access method"', 'ph_nopos');
SELECT count(*) AS words_still_work FROM ph_docs WHERE body @@@ quarry_query_parse('+access +method', 'ph_nopos');
-- What the hint says works.
ALTER INDEX ph_nopos SET (positions = on);
-- The option alone stores nothing: the statistics say what the index holds.
SELECT positions AS before_reindex FROM quarry_bm25_stats('ph_nopos');
REINDEX INDEX ph_nopos;
SELECT positions AS reindexed FROM quarry_bm25_stats('ph_nopos');
SELECT count(*) AS after_reindex FROM ph_docs WHERE body @@@ quarry_query_parse('"access method"', 'ph_nopos');
-- Bad input: an unclosed phrase runs to the end; a slop past 255 saturates.
SELECT quarry_query_parse('"access method') AS unclosed, quarry_query_parse('"a b"~9999') AS big_slop;
SELECT count(*) FROM ph_docs WHERE body @@@ quarry_query_parse('"access method', 'ph_idx');

DROP TABLE ph_docs, phrases, phrase_check, pairs;
DROP FUNCTION ref_phrase_bm25(text, text, int);
DROP FUNCTION top10_scores(text, boolean);
DROP FUNCTION pair_within(text, text, text, int, int);
DROP FUNCTION pair_freq(text, text, text, int);
DROP FUNCTION lexeme_positions(text, text);
