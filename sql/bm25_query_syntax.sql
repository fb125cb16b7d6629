-- quarry_query_parse(): the query syntax (+must, -must_not, words) over a
-- few hundred real documents (PostgreSQL's object descriptions, 15 to a
-- document). For every query: the index-scan top k equals the exact top k of
-- a sequential scan (scores bit for bit, ties and the zero-score tail in index
-- order), @@@ returns the same rows through a bitmap scan, a plain index scan
-- and a sequential scan, and both agree with an independent formulation over
-- to_tsvector lexemes written from the query's clauses by hand. (Quoted
-- phrases: bm25_phrases.sql; prefix and fuzzy terms: bm25_prefix_fuzzy.sql.)

-- The type: a parsed query prints as parsed:<text> and reads back the same.
SELECT quarry_query_parse('+index -"access method"') AS parsed,
       quarry_query_is_parsed(quarry_query_parse('a')) AS is_parsed,
       quarry_query_is_parsed('a') AS literal_is_parsed,
       quarry_query_text(quarry_query_parse('+a -b')) AS text_part;
SELECT q, quarry_query_in(quarry_query_out(q)) AS read_back,
       quarry_query_is_parsed(quarry_query_in(quarry_query_out(q))) AS read_back_parsed,
       quarry_query_text(quarry_query_in(quarry_query_out(q))) = quarry_query_text(q) AS same_text
FROM (VALUES (quarry_query_parse('+a -b')), ('plain words'::quarry_query),
             (quarry_query('parsed:x'::text)), (quarry_query('plain:y'::text)), (quarry_query_parse('parsed:z')),
             (quarry_query_parse('')), (quarry_query(''))) v(q);
SELECT 'parsed:+a'::quarry_query AS literal, quarry_query_is_parsed('parsed:+a') AS literal_parsed,
       quarry_query_text('plain:parsed:+a') AS escaped_text;
SELECT quarry_query_parse(NULL) IS NULL AS null_in_null_out;

-- (PostgreSQL 15's descriptions, from a file: the same on every version.)
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE qs_docs AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body
FROM descriptions GROUP BY (rn - 1) / 15 ORDER BY 1;
DROP TABLE descriptions;
SELECT count(*) > 300 AS few_hundred_docs FROM qs_docs;
-- A few rows the words below are about (operators inside words, accents).
INSERT INTO qs_docs
SELECT 10000 + g, CASE g % 4 WHEN 0 THEN 'send an e-mail about the c++ function'
                             WHEN 1 THEN 'mail the index report'
                             WHEN 2 THEN 'été café index function'
                             ELSE 'state-of-the-art text search' END
FROM generate_series(1, 12) g;

CREATE INDEX qs_docs_idx ON qs_docs USING quarry_bm25 (body) WITH (text_config = 'english');
-- More rows after the build: they are in the pending list.
INSERT INTO qs_docs
SELECT 20000 + g, CASE g % 3 WHEN 0 THEN 'aggregate function of the index access method'
                             WHEN 1 THEN 'text search configuration for binary output'
                             ELSE 'large object time zone' END
FROM generate_series(1, 30) g;
SELECT segment_rows > 0 AS has_segment, pending_rows AS pending FROM quarry_bm25_stats('qs_docs_idx');

-- The qs_queries, with their clauses written out by hand: `scored` holds the
-- SHOULD and MUST texts, `must` and `mustnot` one entry per clause.
CREATE TABLE qs_queries (qid int, q text, scored text, must text[], mustnot text[]);
INSERT INTO qs_queries VALUES
    (1, 'index +access', 'index access', '{access}', '{}'),
    (2, '+function -aggregate', 'function', '{function}', '{aggregate}'),
    (3, '+text +search configuration', 'text search configuration', '{text,search}', '{}'),
    (4, 'operator -binary -input', 'operator', '{}', '{binary,input}'),
    (5, '-function', '', '{}', '{function}'),
    (6, '-function -"index"', '', '{}', '{function,index}'),
    (7, 'the of and', '', '{}', '{}'),
    (8, '+the index', 'the index', '{the}', '{}'),
    (9, 'e-mail c++', 'e-mail c++', '{}', '{}'),
    (10, '+text +search +configuration', 'text search configuration', '{text,search,configuration}', '{}'),
    (11, '++access method', '+access method', '{+access}', '{}'),
    (12, 'timestamp +zone -time', 'timestamp zone', '{zone}', '{time}'),
    (13, 'large +object -"large"', 'large object', '{object}', '{large}'),
    (14, '+type +input -output', 'type input', '{type,input}', '{output}'),
    (15, 'array aggregate function', 'array aggregate function', '{}', '{}'),
    (16, E'+\t- \n"" + - ++ --index été "', 'été +', '{+}', '{-index}'),
    (17, E'\x01 +\x7f\x02function -"\x03', E'\x01 \x7f\x02function', E'{"\x7f\x02function"}', E'{"\x03"}'),
    (18, 'mail -e-mail', 'mail', '{}', '{e-mail}'),
    (19, '+zzzqqq function', 'zzzqqq function', '{zzzqqq}', '{}'),
    (20, '+"" - + "', '', '{}', '{}');

-- The reference, from the lexemes of to_tsvector.
CREATE TABLE qs_terms AS
    SELECT m.id, u.lexeme, array_length(u.positions, 1) AS tf
    FROM qs_docs m, unnest(to_tsvector('english', m.body)) u;
CREATE TABLE qs_ref_docs AS
    SELECT m.id, coalesce(array_agg(t.lexeme) FILTER (WHERE t.lexeme IS NOT NULL), '{}') AS lexemes,
           coalesce(sum(t.tf), 0)::float8 AS len
    FROM qs_docs m LEFT JOIN qs_terms t ON t.id = m.id GROUP BY m.id;
CREATE FUNCTION qs_lexemes(texts text[]) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(u.lexeme), '{}')
    FROM unnest(texts) c, unnest(to_tsvector('english', c)) u
$$;
-- Rows that match: every MUST lexeme, no MUST_NOT lexeme, some scored lexeme.
CREATE FUNCTION qs_match(scored text, must text[], mustnot text[])
RETURNS TABLE (id int) LANGUAGE sql STABLE AS $$
    SELECT d.id FROM qs_ref_docs d
    WHERE d.lexemes @> qs_lexemes(must) AND NOT d.lexemes && qs_lexemes(mustnot)
      AND d.lexemes && qs_lexemes(ARRAY[scored])
$$;
-- BM25 over the scored lexemes (Lucene's IDF), for every row with one of them.
CREATE FUNCTION qs_bm25(q text)
RETURNS TABLE (id int, score float8) LANGUAGE sql STABLE AS $$
    WITH lens AS (SELECT id, len FROM qs_ref_docs),
    stats AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    qt AS (SELECT u.lexeme, array_length(u.positions, 1) AS qtf FROM unnest(to_tsvector('english', q)) u),
    df AS (SELECT t.lexeme, count(*)::float8 AS df FROM qs_terms t JOIN qt USING (lexeme) GROUP BY t.lexeme)
    SELECT t.id, sum(qt.qtf * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * 2.2
                     / (t.tf + 1.2 * (0.25 + 0.75 * l.len / s.avgdl)))
    FROM qs_terms t JOIN qt USING (lexeme) JOIN df USING (lexeme) JOIN lens l ON l.id = t.id, stats s
    GROUP BY t.id
$$;

-- One row per query and check. The statements run with literal qs_queries
-- (EXECUTE), as an application's would.
CREATE FUNCTION qs_ranked(q text, k int, ordered_by_index boolean)
RETURNS TABLE (id int, score float8) LANGUAGE plpgsql AS $$
BEGIN
    IF ordered_by_index THEN
        SET LOCAL enable_seqscan = off;
        SET LOCAL enable_bitmapscan = off;
        RETURN QUERY EXECUTE format(
            'SELECT id, body <@> quarry_query_parse(%L) FROM qs_docs ORDER BY body <@> quarry_query_parse(%L) LIMIT %s',
            q, q, k);
    ELSE
        SET LOCAL enable_indexscan = off;
        SET LOCAL enable_bitmapscan = off;
        RETURN QUERY EXECUTE format(
            'SELECT id, body <@> quarry_query_parse(%L, ''qs_docs_idx'') AS s FROM qs_docs ORDER BY s, id LIMIT %s',
            q, k);
    END IF;
END $$;
CREATE FUNCTION qs_count(q text, scan text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    SET LOCAL enable_seqscan = off;
    IF scan = 'bitmap' THEN
        SET LOCAL enable_indexscan = off;
    ELSIF scan = 'index' THEN
        SET LOCAL enable_bitmapscan = off;
    ELSE
        SET LOCAL enable_seqscan = on;
        SET LOCAL enable_indexscan = off;
        SET LOCAL enable_bitmapscan = off;
    END IF;
    IF scan = 'seq' THEN
        EXECUTE format('SELECT count(*) FROM qs_docs WHERE body @@@ quarry_query_parse(%L, ''qs_docs_idx'')', q) INTO n;
    ELSE
        EXECUTE format('SELECT count(*) FROM qs_docs WHERE body @@@ quarry_query_parse(%L)', q) INTO n;
    END IF;
    RETURN n;
END $$;

-- Matching rows: the reference count, and the same count from a bitmap scan,
-- an index scan and a sequential scan; the rows themselves are the reference's.
SELECT qid, (SELECT count(*) FROM qs_match(scored, must, mustnot)) AS reference,
       qs_count(q, 'bitmap') AS bitmap, qs_count(q, 'index') AS index, qs_count(q, 'seq') AS seq
FROM qs_queries ORDER BY qid;
SELECT qid,
       (SELECT array_agg(id ORDER BY id) FROM qs_match(scored, must, mustnot))
       IS NOT DISTINCT FROM
       (SELECT array_agg(id ORDER BY id) FROM qs_docs WHERE body @@@ quarry_query_parse(q, 'qs_docs_idx'))
       AS same_rows
FROM qs_queries ORDER BY qid;

-- Scores: a matching row's score is BM25 over the scored lexemes (within 1e-9:
-- SQL sums in another order); every other row scores 0.
SELECT qid, x.scores_ok, x.matching
FROM qs_queries CROSS JOIN LATERAL (
    WITH r AS (SELECT id FROM qs_match(scored, must, mustnot)),
    b AS (SELECT * FROM qs_bm25(scored)),
    s AS (SELECT id, body <@> quarry_query_parse(q, 'qs_docs_idx') AS score FROM qs_docs)
    SELECT bool_and(CASE WHEN r.id IS NULL THEN s.score = 0 ELSE abs(-s.score - b.score) < 1e-9 END) AS scores_ok,
           count(r.id) AS matching
    FROM s LEFT JOIN r USING (id) LEFT JOIN b USING (id)) x
ORDER BY qid;

-- Top k: the index scan (k = 10, and far enough to reach the zero-score tail)
-- equals the exact ranking of a sequential scan, ids and scores; the score in
-- the SELECT list is the ordering's (non-decreasing down the scan).
CREATE FUNCTION qs_topk(q text, k int)
RETURNS TABLE (same_topk boolean, ordered boolean, zero_rows bigint) LANGUAGE sql AS $$
    WITH i AS (SELECT array_agg(id) AS ids, array_agg(score) AS scores FROM qs_ranked(q, k, true)),
    s AS (SELECT array_agg(id) AS ids, array_agg(score) AS scores FROM qs_ranked(q, k, false)),
    o AS (SELECT bool_and(ok) AS ok FROM (
              SELECT score >= lag(score, 1, '-Infinity') OVER (ROWS UNBOUNDED PRECEDING) AS ok
              FROM qs_ranked(q, k, true)) x)
    SELECT i.ids = s.ids AND i.scores = s.scores, o.ok, (SELECT count(*) FROM unnest(i.scores) z WHERE z = 0)
    FROM i, s, o
$$;
SELECT qid, t10.same_topk AS top10_same, t10.ordered AS top10_ordered,
       tail.same_topk AS tail_same, tail.ordered AS tail_ordered, tail.zero_rows AS tail_zero_rows
FROM qs_queries,
     LATERAL qs_topk(q, 10) t10,
     LATERAL qs_topk(q, (SELECT count(*) FROM qs_match(scored, must, mustnot))::int + 7) tail
ORDER BY qid;

-- A parsed query without operators is the plain query; the plain query is
-- unchanged by the syntax (+ and - are words to it).
SELECT bool_and(a.body <@> quarry_query_parse('array aggregate function') = a.body <@> 'array aggregate function')
       AS parsed_equals_plain,
       count(*) FILTER (WHERE a.body @@@ '+zzzqqq function') = count(*) FILTER (WHERE a.body @@@ 'function')
       AS plain_ignores_operators
FROM qs_docs a;

-- The plan: an ordered index scan with the parsed query, and a bitmap scan.
EXPLAIN (COSTS OFF)
SELECT id FROM qs_docs ORDER BY body <@> quarry_query_parse('+function -aggregate') LIMIT 5;
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM qs_docs WHERE body @@@ quarry_query_parse('+function -aggregate');
RESET enable_seqscan;
RESET enable_indexscan;

-- A WHERE @@@ with a parsed query and an ORDER BY with another one: every
-- matching row, ranked for the second query (then its zero-score tail), as a
-- sequential scan orders them.
SET enable_seqscan = off;
CREATE TABLE qs_both AS
SELECT id, row_number() OVER () AS rank
FROM (SELECT id FROM qs_docs WHERE body @@@ quarry_query_parse('+function -aggregate')
      ORDER BY body <@> quarry_query_parse('index') LIMIT 1000) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS both_rows,
       array_agg(b.id ORDER BY b.rank) = (
           SELECT array_agg(id ORDER BY body <@> quarry_query_parse('index', 'qs_docs_idx'), id)
           FROM qs_docs WHERE body @@@ quarry_query_parse('+function -aggregate', 'qs_docs_idx')) AS same_order,
       count(*) = (SELECT count(*) FROM qs_match('function', '{function}', '{aggregate}')) AS matches_reference
FROM qs_both b;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- After a merge (no pending rows), the same answers.
SELECT quarry_bm25_merge('qs_docs_idx') AS segments;
SELECT qid, qs_count(q, 'bitmap') = (SELECT count(*) FROM qs_match(scored, must, mustnot)) AS bitmap_ok,
       (qs_topk(q, 10)).same_topk AS top10_same
FROM qs_queries ORDER BY qid;

DROP TABLE qs_docs, qs_queries, qs_terms, qs_ref_docs, qs_both;
DROP FUNCTION qs_lexemes, qs_match, qs_bm25, qs_ranked, qs_count, qs_topk;
