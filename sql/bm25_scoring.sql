-- quarry_bm25 scores against an independent BM25 written in plain SQL over
-- to_tsvector lexemes, on a few hundred real documents (PostgreSQL's own
-- object descriptions, 15 to a document), and rank safety: the index's top k is
-- the exhaustive top k for every k. The descriptions are PostgreSQL 15's, from
-- a file (sql/data): the same documents on every server version.
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE manual AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body
FROM descriptions GROUP BY (rn - 1) / 15 ORDER BY 1;
DROP TABLE descriptions;
SELECT count(*) > 300 AS few_hundred_docs FROM manual;

CREATE INDEX manual_idx ON manual USING quarry_bm25 (body) WITH (text_config = 'english');

-- The reference: BM25 with Lucene's IDF, ln(1 + (N - df + 0.5) / (df + 0.5)),
-- tf = number of positions of the lexeme, length = sum of tf, qtf = positions
-- of the lexeme in the query.
CREATE TABLE ref_terms AS
    SELECT m.id, u.lexeme, array_length(u.positions, 1) AS tf
    FROM manual m, unnest(to_tsvector('english', m.body)) u;
CREATE TABLE ref_lens AS
    SELECT m.id, coalesce(sum(t.tf), 0)::float8 AS len
    FROM manual m LEFT JOIN ref_terms t ON t.id = m.id GROUP BY m.id;
CREATE FUNCTION reference_bm25(q text, k1 float8, b float8)
RETURNS TABLE (id int, score float8) LANGUAGE sql STABLE AS $$
    WITH terms AS (SELECT * FROM ref_terms),
    lens AS (SELECT * FROM ref_lens),
    stats AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    qt AS (SELECT u.lexeme, array_length(u.positions, 1) AS qtf FROM unnest(to_tsvector('english', q)) u),
    df AS (SELECT t.lexeme, count(*)::float8 AS df FROM terms t JOIN qt USING (lexeme) GROUP BY t.lexeme)
    SELECT t.id, sum(qt.qtf * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * (k1 + 1)
                     / (t.tf + k1 * (1 - b + b * l.len / s.avgdl)))
    FROM terms t JOIN qt USING (lexeme) JOIN df USING (lexeme) JOIN lens l ON l.id = t.id, stats s
    GROUP BY t.id
$$;

CREATE TABLE queries (qid int, q text);
INSERT INTO queries VALUES
    (1, 'function'), (2, 'index access method'), (3, 'text search configuration'),
    (4, 'convert timestamp to text with time zone'), (5, 'aggregate'), (6, 'large object'),
    (7, 'sequence generator'), (8, 'binary input output receive send'),
    (9, 'operator operator operator'), (10, 'zzz qqq nonexistent'), (11, 'array');

-- Every ranked row of every query (the index scan gives the full ranking
-- when asked for every row): the same rows as the reference, scores within
-- 1e-9, in score order with ties in index order. (Scores are compared with a
-- tolerance because SQL sums the terms in another order.)
CREATE FUNCTION compare_all(k1 float8, b float8)
RETURNS TABLE (qid int, rows_compared bigint, same_rows boolean, scores_equal boolean, ordered boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR r IN SELECT * FROM queries ORDER BY 1 LOOP
        RETURN QUERY
        WITH idx AS (
            SELECT m.id, -(m.body <@> r.q) AS score, row_number() OVER () AS rank
            FROM (SELECT * FROM manual ORDER BY body <@> r.q) m
            WHERE m.body <@> r.q < 0),
        ordered AS (
            SELECT bool_and(i.score < p.score OR (i.score = p.score AND i.id > p.id)) AS ok
            FROM idx i JOIN idx p ON p.rank = i.rank - 1),
        ref AS (SELECT x.id, x.score FROM reference_bm25(r.q, k1, b) x)
        SELECT r.qid, count(*), bool_and(idx.id IS NOT NULL AND ref.id IS NOT NULL),
               coalesce(bool_and(abs(idx.score - ref.score) < 1e-9), true),
               coalesce((SELECT ok FROM ordered), true)
        FROM idx FULL JOIN ref USING (id);
    END LOOP;
END $$;

SELECT * FROM compare_all(1.2, 0.75);

-- k1 and b are read at query time: changing them rescores without a rebuild.
ALTER INDEX manual_idx SET (k1 = 0.9, b = 0.4);
SELECT * FROM compare_all(0.9, 0.4);
ALTER INDEX manual_idx SET (k1 = 2.0, b = 1.0);
SELECT bool_and(same_rows AND scores_equal AND ordered) AS all_equal FROM compare_all(2.0, 1.0);
ALTER INDEX manual_idx SET (k1 = 0, b = 0);
SELECT bool_and(same_rows AND scores_equal AND ordered) AS all_equal FROM compare_all(0, 0);
ALTER INDEX manual_idx RESET (k1, b);

-- Rank safety for every k: block-max WAND with LIMIT k returns min(k, matches)
-- rows, each scoring at least the exhaustive k-th best score.
SET enable_seqscan = off;
SELECT k, bool_and(ok) AS top_k_exact
FROM (VALUES (1), (2), (3), (5), (10), (25), (100)) AS ks(k),
LATERAL (
    SELECT q.qid,
           (SELECT count(*) FROM (SELECT 1 FROM manual WHERE body <@> q.q < 0 ORDER BY body <@> q.q LIMIT ks.k) s)
               = least(ks.k, (SELECT count(*) FROM reference_bm25(q.q, 1.2, 0.75)))
           AND (SELECT coalesce(min(-(body <@> q.q)), 1e308)
                FROM (SELECT body FROM manual ORDER BY body <@> q.q LIMIT ks.k) s WHERE body <@> q.q < 0)
               >= (SELECT coalesce(min(score), 0) - 1e-9
                   FROM (SELECT score FROM reference_bm25(q.q, 1.2, 0.75) ORDER BY score DESC LIMIT ks.k) s)
           AS ok
    FROM queries q) per_query
GROUP BY k ORDER BY k;

-- The score in the SELECT list equals the reference, in another plan shape.
SELECT count(*) AS rows_joined,
       bool_and(abs(-(body <@> 'index access method') - r.score) < 1e-9) AS equal
FROM manual JOIN reference_bm25('index access method', 1.2, 0.75) r USING (id);
RESET enable_seqscan;

-- A query term absent from the index scores nothing; a document without any
-- query term scores 0.
SELECT count(*) FILTER (WHERE body <@> 'zzz qqq nonexistent' = 0) = count(*) AS all_zero FROM manual;

DROP FUNCTION compare_all(float8, float8);
DROP FUNCTION reference_bm25(text, float8, float8);
DROP TABLE manual, queries, ref_terms, ref_lens;
