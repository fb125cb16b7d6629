-- Plans of a quarry_bm25 index on several fields (BM25F): the row of its
-- columns in their order, (title, body) <@> q and (title, body) @@@ q, is an
-- operand PostgreSQL's own index scans, bitmap scans and ORDER BY serve (the
-- index is presented to the planner as one column holding that row); an
-- unnamed query on such a row resolves to the index. Plans and counts only:
-- the scores are checked where they are computed.
CREATE TABLE fdocs (id int PRIMARY KEY, category text, title text, body varchar, extra text);
INSERT INTO fdocs
SELECT g, CASE WHEN g % 3 = 0 THEN 'news' ELSE 'blog' END, 'title ' || g, 'body text number ' || g, 'extra'
FROM generate_series(1, 300) g;
CREATE INDEX fdocs_fields ON fdocs USING quarry_bm25 (title, body);
CREATE TABLE fcategories (category text PRIMARY KEY, label text);
INSERT INTO fcategories VALUES ('news', 'News'), ('blog', 'Blog');
ANALYZE fdocs, fcategories;
SET enable_seqscan = off;

-- The planner's view of the index: one column, the row of its fields.
SELECT indexrelid::regclass AS index, indnkeyatts, pg_get_indexdef(indexrelid)
FROM pg_index WHERE indrelid = 'fdocs'::regclass AND indexrelid <> 'fdocs_pkey'::regclass;

-- An ordered scan with LIMIT, written (title, body) or ROW(title, body).
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (title, body) <@> 'text' LIMIT 10;
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY ROW(title, body) <@> 'text' LIMIT 10;

-- With a filter on another column: still the ordered scan.
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs WHERE category = 'news' ORDER BY (title, body) <@> 'text' LIMIT 10;

-- A parsed query.
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (title, body) <@> quarry_query_parse('+text -number') LIMIT 10;

-- Boolean match: a bitmap scan, combined with another index.
SET enable_indexscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM fdocs WHERE (title, body) @@@ quarry_query_parse('title:foo bar');
EXPLAIN (COSTS OFF)
SELECT count(*) FROM fdocs WHERE (title, body) @@@ 'text' AND id < 50;
RESET enable_indexscan;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM fdocs WHERE (title, body) @@@ 'text';
RESET enable_bitmapscan;

-- The scan's value in the SELECT list: quarry_bm25_scored on the row.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, (title, body) <@> 'text' AS score FROM fdocs ORDER BY (title, body) <@> 'text' LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, (title, body) <@> 'text' AS score FROM fdocs
WHERE category = 'news' ORDER BY (title, body) <@> 'text' LIMIT 10;

-- The query as a parameter of a prepared statement, in a generic plan.
SET plan_cache_mode = force_generic_plan;
PREPARE ranked(quarry_query) AS
SELECT id, (title, body) <@> $1 AS score FROM fdocs ORDER BY (title, body) <@> $1 LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE ranked('text');
PREPARE matching(quarry_query) AS SELECT count(*) FROM fdocs WHERE (title, body) @@@ $1;
EXPLAIN (COSTS OFF) EXECUTE matching('text');
-- Two parameters of one value, as drivers send them: the SELECT list's
-- expression becomes quarry_bm25_scored too, and its scores are the ones
-- computed without the index.
PREPARE ranked_two(quarry_query, quarry_query) AS
SELECT id, (title, body) <@> $1 AS score FROM fdocs ORDER BY (title, body) <@> $2 LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE ranked_two('text', 'text');
CREATE TEMP TABLE two_rows AS EXECUTE ranked_two('text 7', 'text 7');
DEALLOCATE ranked;
DEALLOCATE matching;
DEALLOCATE ranked_two;
RESET plan_cache_mode;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS rows, count(*) FILTER (WHERE t.score = ((f.title, f.body) <@> quarry_query('text 7', 'fdocs_fields'))) AS equal
FROM two_rows t JOIN fdocs f USING (id);
RESET enable_indexscan;
RESET enable_bitmapscan;
DROP TABLE two_rows;

-- Through a view (renamed columns), and in a join.
CREATE VIEW fdocs_view AS SELECT id, category, title AS headline, body AS content FROM fdocs WHERE category = 'blog';
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs_view ORDER BY (headline, content) <@> 'text' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT d.id, c.label FROM fdocs d JOIN fcategories c USING (category)
ORDER BY (d.title, d.body) <@> 'text' LIMIT 5;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM fdocs d JOIN fcategories c USING (category) WHERE (d.title, d.body) @@@ 'text';

-- An unnamed query on the row resolves to the index: through the view, a
-- subquery, a CTE and a join it scores every row (no "name the index" error).
SELECT count(*) FROM fdocs_view WHERE (headline, content) <@> 'text' IS NOT NULL;
SELECT count(*) FROM (SELECT title AS t, body AS b FROM fdocs) s WHERE (s.t, s.b) <@> 'text' IS NOT NULL;
WITH c AS (SELECT title, body FROM fdocs) SELECT count(*) FROM c WHERE (title, body) <@> 'text' IS NOT NULL;
SELECT count(*) FROM fdocs JOIN fcategories USING (category) WHERE (title, body) <@> 'text' IS NOT NULL;
-- A query naming the index, on the row.
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (title, body) <@> quarry_query('text', 'fdocs_fields') LIMIT 10;
SELECT count(*) FROM fdocs WHERE (title, body) <@> quarry_query('text', 'fdocs_fields') IS NOT NULL;

-- One column of the index is not an operand the index serves: no index
-- scan, and the query cannot be resolved ("name the index").
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY title <@> 'text' LIMIT 10;
SELECT title <@> 'text' FROM fdocs LIMIT 1;
-- Nor are a row of its columns in another order, or of more columns, or
-- the columns of two rows of a self-join.
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (body, title) <@> 'text' LIMIT 10;
SELECT (body, title) <@> 'text' FROM fdocs LIMIT 1;
SELECT (title, body, extra) <@> 'text' FROM fdocs LIMIT 1;
SELECT (a.title, b.body) <@> 'text' FROM fdocs a JOIN fdocs b USING (id) LIMIT 1;

-- A one-column index on the same table serves title <@> q; the row still
-- takes the fields index.
CREATE INDEX fdocs_title ON fdocs USING quarry_bm25 (title);
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY title <@> 'text' LIMIT 10;
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (title, body) <@> 'text' LIMIT 10;
SELECT count(*) FROM fdocs WHERE title <@> 'text' IS NOT NULL;
DROP INDEX fdocs_title;

-- Fields that are expressions, in a partial index.
CREATE INDEX fdocs_expr_fields ON fdocs USING quarry_bm25 (lower(title), (body || ' ' || extra))
    WHERE category = 'news';
ANALYZE fdocs;
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs WHERE category = 'news'
ORDER BY (lower(title), body || ' ' || extra) <@> 'text' LIMIT 10;
-- Outside the index's predicate: no index scan.
EXPLAIN (COSTS OFF)
SELECT id FROM fdocs ORDER BY (lower(title), body || ' ' || extra) <@> 'text' LIMIT 10;
-- The statistics ANALYZE keeps for an index's first expression (here
-- lower(title), with common values) describe that column, not the row: they
-- are not taken for the row (a record compared with them would read text as
-- rows: "type with OID ... does not exist").
RESET enable_seqscan;
-- (An unnamed query on the expressions' row resolves to the partial index.)
SELECT count(*) FROM fdocs WHERE category = 'news' AND (lower(title), body || ' ' || extra) <@> 'text' IS NOT NULL;
CREATE TABLE fstats (id int, title text, body text);
INSERT INTO fstats SELECT g, 'Title ' || (g % 5), 'body ' || (g % 7) FROM generate_series(1, 1000) g;
CREATE INDEX fstats_fields ON fstats USING quarry_bm25 (lower(title), body);
ANALYZE fstats;
SELECT attname, most_common_vals IS NOT NULL AS has_common_values FROM pg_stats WHERE tablename = 'fstats_fields';
SELECT count(*) FROM fstats WHERE (lower(title), body) = (ARRAY[ROW('title 3'::text, 'body 3'::text)])[1];
DROP TABLE fstats;

DROP VIEW fdocs_view;
DROP TABLE fdocs, fcategories;
