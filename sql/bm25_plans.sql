-- quarry_bm25 scores in every plan shape: the SELECT list, WHERE, joins, CTEs,
-- subqueries, views, prepared statements and PL/pgSQL all give the score the
-- ordering uses; which index scores a query is resolved from its column, or
-- named explicitly.
CREATE TABLE articles (id int PRIMARY KEY, author int, title text, body text);
INSERT INTO articles
SELECT g, g % 5, 'title ' || g,
       CASE g % 4 WHEN 0 THEN 'postgres index vacuum' WHEN 1 THEN 'vacuum cleaner review'
                  WHEN 2 THEN 'index of the book' ELSE 'postgres replication slot' END || ' ' || g
FROM generate_series(1, 400) g;
CREATE INDEX articles_body_idx ON articles USING quarry_bm25 (body);
CREATE TABLE authors (id int, name text);
INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(0, 4) g;

-- One reference ranking (the index scan, every row) to compare every shape with.
SET enable_seqscan = off;
CREATE TABLE ranked AS
SELECT id, body <@> 'postgres vacuum' AS score, row_number() OVER () AS rank
FROM (SELECT * FROM articles ORDER BY body <@> 'postgres vacuum') s;
RESET enable_seqscan;
SELECT count(*), count(*) FILTER (WHERE score < 0) AS positive FROM ranked;

-- SELECT list without the index (sequential scan): the same scores.
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT bool_and(a.body <@> 'postgres vacuum' = r.score) AS seqscan_equal
FROM articles a JOIN ranked r USING (id);
-- WHERE on the score.
SELECT count(*) = (SELECT count(*) FROM ranked WHERE score < -1) AS where_equal
FROM articles WHERE body <@> 'postgres vacuum' < -1;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- A join: score of each article next to its author.
SELECT bool_and(s.score = r.score) AS join_equal
FROM (SELECT a.id, a.body <@> 'postgres vacuum' AS score
      FROM articles a JOIN authors au ON au.id = a.author) s
JOIN ranked r USING (id);

-- CTE and subquery: the column is resolved through them.
WITH c AS (SELECT id, body FROM articles)
SELECT bool_and(c.body <@> 'postgres vacuum' = r.score) AS cte_equal FROM c JOIN ranked r USING (id);
SELECT bool_and(s.score = r.score) AS subquery_equal
FROM (SELECT id, body <@> 'postgres vacuum' AS score FROM (SELECT * FROM articles) a) s
JOIN ranked r USING (id);

-- A view.
CREATE VIEW article_view AS SELECT id, body AS text_body FROM articles;
SELECT bool_and(v.text_body <@> 'postgres vacuum' = r.score) AS view_equal
FROM article_view v JOIN ranked r USING (id);

-- Prepared statement with the query as a parameter.
PREPARE search(text) AS SELECT id, body <@> $1 AS score FROM articles ORDER BY body <@> $1 LIMIT 50;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE search('postgres vacuum');
CREATE TABLE from_prepared AS EXECUTE search('postgres vacuum');
SELECT (SELECT array_agg(id) FROM from_prepared) = (SELECT array_agg(id ORDER BY rank) FROM ranked WHERE rank <= 50)
           AS prepared_equal,
       (SELECT bool_and(p.score = r.score) FROM from_prepared p JOIN ranked r USING (id)) AS prepared_scores;
RESET enable_seqscan;

-- PL/pgSQL with the query in a variable.
CREATE FUNCTION top_ids(q text, k int) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
    result int[];
BEGIN
    SELECT array_agg(id) INTO result FROM (SELECT id FROM articles ORDER BY body <@> q LIMIT k) s;
    RETURN result;
END $$;
SELECT top_ids('postgres vacuum', 50) = (SELECT array_agg(id ORDER BY rank) FROM ranked WHERE rank <= 50)
       AS plpgsql_equal;

-- A SQL function PostgreSQL inlines: planned as part of the calling query,
-- so the score in its SELECT list is resolved from the index scan that ran the
-- same query text in the statement.
CREATE FUNCTION search(q text, k int) RETURNS TABLE (id int, score float8) LANGUAGE sql STABLE AS $$
    SELECT id, body <@> q FROM articles ORDER BY body <@> q LIMIT k
$$;
SET enable_seqscan = off;
SELECT (SELECT array_agg(id) FROM search('postgres vacuum', 50)) =
       (SELECT array_agg(id ORDER BY rank) FROM ranked WHERE rank <= 50) AS inlined_equal,
       (SELECT bool_and(s.score = r.score) FROM search('postgres vacuum', 50) s JOIN ranked r USING (id))
       AS inlined_scores;
RESET enable_seqscan;
DROP FUNCTION search(text, int);

-- Explicit index: quarry_query(text, index).
SELECT bool_and(a.body <@> quarry_query('postgres vacuum', 'articles_body_idx') = r.score) AS explicit_equal
FROM articles a JOIN ranked r USING (id);
SELECT quarry_query_index(quarry_query('x', 'articles_body_idx')) AS named,
       quarry_query_text(quarry_query('x y', 'articles_body_idx')) AS query_text,
       quarry_query_index('x') AS unnamed;
SELECT quarry_query('x', 'articles_pkey');
SELECT quarry_query('x', 'no_such_index');

-- Two quarry_bm25 indexes on one column: an unnamed query cannot be resolved
-- (clear error), a named one can; each index scores with its own statistics.
CREATE INDEX articles_body_simple_idx ON articles USING quarry_bm25 (body) WITH (text_config = 'simple');
SELECT body <@> 'vacuum' FROM articles LIMIT 1;
SELECT (SELECT count(*) FROM articles WHERE body @@@ quarry_query('reviews', 'articles_body_idx')) AS english_stems,
       (SELECT count(*) FROM articles WHERE body @@@ quarry_query('reviews', 'articles_body_simple_idx')) AS simple_exact;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM articles ORDER BY body <@> quarry_query('vacuum', 'articles_body_simple_idx') LIMIT 3;
RESET enable_seqscan;
DROP INDEX articles_body_simple_idx;

-- No ORDER BY and no column read: PostgreSQL 18 prefers an index-only scan
-- of a quarry index to a disabled sequential scan (earlier versions scan the
-- table); either way every row.
SET enable_seqscan = off;
SELECT count(*) AS all_rows, (SELECT count(id) FROM articles) AS by_ids FROM articles;
-- The same on an index of two fields (which the planner sees as one column).
CREATE TABLE two_fields AS SELECT id, title, body FROM articles;
CREATE INDEX two_fields_idx ON two_fields USING quarry_bm25 (title, body);
SELECT count(*) AS all_rows FROM two_fields;
DROP TABLE two_fields;
RESET enable_seqscan;

-- A column without a quarry_bm25 index.
SELECT title <@> 'title' FROM articles LIMIT 1;
-- A literal text that is not a column.
SELECT 'postgres vacuum'::text <@> 'vacuum';

DROP FUNCTION top_ids(text, int);
DEALLOCATE search;
DROP VIEW article_view;
DROP TABLE articles, authors, ranked, from_prepared;
