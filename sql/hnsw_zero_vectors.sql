-- Zero vectors under cosine, on real[] (pgvector's types: pgvector_types.sql).
-- A zero vector has no direction: <=> gives NaN for it (as pgvector's <=>
-- does), which sorts after every number and before NULL. CREATE INDEX and
-- INSERT take such rows and keep them with the NULL rows; an ordered scan
-- returns them after every other vector and before the NULL rows, so the
-- index's answer is the sort's. Checked here against the sort itself.
SET client_min_messages = warning;

-- The operator: NaN when either side is the zero vector (-0 is zero too);
-- other bad values keep their ERRORs; L2 and inner product are unaffected.
SELECT '{0,0,0}'::real[] <=> '{1,2,3}'::real[] AS zero_left,
       '{1,2,3}'::real[] <=> '{-0,0,0}'::real[] AS zero_right,
       '{0,0}'::real[] <=> '{0,0}'::real[] AS both_zero,
       quarry_cosine_distance('{0,0}', '{1,1}') AS by_name,
       '{0,0}'::real[] <-> '{3,4}'::real[] AS l2,
       '{0,0}'::real[] <#> '{3,4}'::real[] AS ip;
SELECT '{0,0,0}'::real[] <=> '{1,NaN,3}'::real[];
SELECT '{0,0,0}'::real[] <=> '{1,2}'::real[];
-- A vector whose squared norm underflows in float still has a direction.
SELECT '{1e-30,0,0}'::real[] <=> '{1,0,0}'::real[] AS tiny;

-- The distances an ordered query returns, in order, as text ('null' for
-- NULL): equal arrays mean the same order up to ties.
CREATE FUNCTION zv_order(query text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    out text[];
BEGIN
    EXECUTE format('SELECT array_agg(coalesce(d::text, ''null'') ORDER BY n) FROM (SELECT d, row_number() OVER () AS n FROM (%s) q) s', query)
        INTO out;
    RETURN out;
END $$;
-- The same query through the index and through a sort: equal, and how it reads.
CREATE FUNCTION zv_same(query text) RETURNS TABLE (same boolean, by_index text[]) LANGUAGE plpgsql AS $$
DECLARE
    a text[];
    b text[];
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    a := zv_order(query);
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    b := zv_order(query);
    RETURN QUERY SELECT a IS NOT DISTINCT FROM b, a;
END $$;

CREATE TABLE zv (id int, v real[]);
INSERT INTO zv VALUES (1, '{1,0,0}'), (2, '{0,0,0}'), (3, NULL), (4, '{0,1,0}'),
                      (5, '{0,0,0}'), (6, NULL), (7, '{1,1,0}');
CREATE INDEX zv_full ON zv USING quarry_hnsw (v quarry_cosine_ops);
-- INSERT after the build: a zero vector, -0, a NULL, a vector.
INSERT INTO zv VALUES (8, NULL), (9, '{-0,0,0}'), (10, '{0,0,1}'), (11, '{2,0.1,0}');
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_full');
SELECT count(*) FROM quarry_verify_index('zv_full');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM zv ORDER BY v <=> '{1,0.1,0}';
RESET enable_seqscan;
-- Every row, a LIMIT that ends among the NaN rows, one that ends among the
-- NULL rows, with and without the distance in the SELECT list.
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}''');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}'' LIMIT 7');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}'' LIMIT 9');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM (SELECT id, v FROM zv ORDER BY v <=> ''{1,0.1,0}'') s');
-- Which rows: the zero vectors (2, 5, 9) right after the vectors.
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) AS nan_rows FROM (SELECT id FROM zv ORDER BY v <=> '{1,0.1,0}' OFFSET 5 LIMIT 3) s;
SELECT array_agg(id ORDER BY id) AS null_rows FROM (SELECT id FROM zv ORDER BY v <=> '{1,0.1,0}' OFFSET 8) s;
RESET enable_seqscan;
-- A zero query: NaN for every vector, NULL for the NULL rows (last).
SELECT * FROM zv_same('SELECT v <=> ''{0,0,0}'' AS d FROM zv ORDER BY v <=> ''{0,0,0}''');
SELECT * FROM zv_same('SELECT v <=> ''{0,0,0}'' AS d FROM zv ORDER BY v <=> ''{0,0,0}'' LIMIT 8');
-- A NULL query: NULL for every row.
SELECT * FROM zv_same('SELECT v <=> NULL::real[] AS d FROM zv ORDER BY v <=> NULL::real[]');
-- No ORDER BY, and the planner scans an index all the same (PostgreSQL 18
-- prefers that to a disabled sequential scan): an index-only scan that reads
-- no column, a partial index whose predicate the query implies. Every row.
SET enable_seqscan = off;
SELECT count(*) AS all_rows, (SELECT count(*) FROM zv WHERE v IS NULL) AS null_rows FROM zv;
CREATE INDEX zv_part ON zv USING quarry_hnsw (v quarry_cosine_ops) WHERE id > 3;
SELECT array_agg(id ORDER BY id) AS part_rows FROM zv WHERE id > 3;
DROP INDEX zv_part;
RESET enable_seqscan;
-- A filter, and a prepared statement with a generic plan.
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv WHERE id % 2 = 1 ORDER BY v <=> ''{1,0.1,0}''');
PREPARE zv_q(real[]) AS SELECT id, v <=> $1 AS d FROM zv ORDER BY v <=> $1 LIMIT 9;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;
CREATE TEMP TABLE zv_generic AS EXECUTE zv_q('{1,0.1,0}');
RESET enable_seqscan;
RESET plan_cache_mode;
SELECT (SELECT array_agg(coalesce(d::text, 'null')) FROM zv_generic)
       = zv_order('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}'' LIMIT 9') AS generic_plan_same;
DEALLOCATE zv_q;

-- VACUUM after deleting a zero vector and a NULL row; the list stays sound.
DELETE FROM zv WHERE id IN (5, 6);
VACUUM zv;
SELECT null_rows FROM quarry_hnsw_index_info('zv_full');
SELECT count(*) FROM quarry_verify_index('zv_full');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}''');

-- Compressed layouts: sq8 reranked from the table, and sq4 on an expression
-- (lower bounds, reranked by PostgreSQL): the same order.
DROP INDEX zv_full;
CREATE INDEX zv_sq8 ON zv USING quarry_hnsw (v quarry_cosine_ops) WITH (storage = 'sq8');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY v <=> ''{1,0.1,0}''');
SELECT * FROM zv_same('SELECT v <=> ''{0,0,0}'' AS d FROM zv ORDER BY v <=> ''{0,0,0}''');
SELECT count(*) FROM quarry_verify_index('zv_sq8');
DROP INDEX zv_sq8;
CREATE FUNCTION zv_id(real[]) RETURNS real[] IMMUTABLE STRICT LANGUAGE plpgsql AS 'BEGIN RETURN $1; END';
CREATE INDEX zv_expr ON zv USING quarry_hnsw ((zv_id(v)) quarry_cosine_ops) WITH (storage = 'sq4');
SELECT * FROM zv_same('SELECT zv_id(v) <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY zv_id(v) <=> ''{1,0.1,0}''');
SELECT * FROM zv_same('SELECT zv_id(v) <=> ''{1,0.1,0}'' AS d FROM zv ORDER BY zv_id(v) <=> ''{1,0.1,0}'' LIMIT 8');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM zv ORDER BY zv_id(v) <=> '{1,0.1,0}';
RESET enable_seqscan;
SELECT count(*) FROM quarry_verify_index('zv_expr');

-- The metapage's zero-vector mark. An index built over NULL rows only knows
-- its null-row list holds no zero vector: scans return those rows with a NULL
-- distance (nothing waits in PostgreSQL's reorder queue). A zero vector
-- inserted later marks it first; from then on that row, appended after the
-- NULL rows, comes before them, as in a sort (without the mark it would come
-- last, as a NULL).
CREATE TABLE zv_mark (id int, v real[]);
INSERT INTO zv_mark VALUES (1, '{1,0}'), (2, NULL), (3, '{0,1}'), (4, NULL);
CREATE INDEX zv_mark_v ON zv_mark USING quarry_hnsw (v quarry_cosine_ops);
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_mark_v');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.5}'' AS d FROM zv_mark ORDER BY v <=> ''{1,0.5}''');
SELECT * FROM zv_same('SELECT v <=> ''{0,0}'' AS d FROM zv_mark ORDER BY v <=> ''{0,0}''');
INSERT INTO zv_mark VALUES (6, NULL);
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_mark_v');
INSERT INTO zv_mark VALUES (5, '{0,0}');
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_mark_v');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.5}'' AS d FROM zv_mark ORDER BY v <=> ''{1,0.5}''');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.5}'' AS d FROM zv_mark ORDER BY v <=> ''{1,0.5}'' LIMIT 3');
SELECT * FROM zv_same('SELECT v <=> ''{0,0}'' AS d FROM zv_mark ORDER BY v <=> ''{0,0}''');
SET enable_seqscan = off;
SELECT id AS after_the_vectors FROM zv_mark ORDER BY v <=> '{1,0.5}' OFFSET 2 LIMIT 1;
RESET enable_seqscan;
-- VACUUM leaves the mark (it does not read the rows' values): the order
-- stays the sort's after the zero vector is gone and comes back.
DELETE FROM zv_mark WHERE id = 5;
VACUUM zv_mark;
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_mark_v');
INSERT INTO zv_mark VALUES (7, '{0,0}');
SELECT * FROM zv_same('SELECT v <=> ''{1,0.5}'' AS d FROM zv_mark ORDER BY v <=> ''{1,0.5}''');
SELECT count(*) FROM quarry_verify_index('zv_mark_v');
-- L2 keeps every vector in the graph: the list holds only NULL rows.
CREATE INDEX zv_mark_l2 ON zv_mark USING quarry_hnsw (v quarry_l2_ops);
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_mark_l2');
DROP INDEX zv_mark_v;
SELECT * FROM zv_same('SELECT v <-> ''{1,0.5}'' AS d FROM zv_mark ORDER BY v <-> ''{1,0.5}''');
DROP TABLE zv_mark;

-- A parallel build whose participants keep the null-row list in shared memory
-- (fewer such rows than it holds): the participant that meets a zero vector
-- tells the leader, which marks the metapage. Fewer vectors than ef_search:
-- the first search alone reaches them all.
CREATE TABLE zv_small (id int, v real[]);
INSERT INTO zv_small SELECT i, CASE WHEN i % 100 = 0 THEN '{0,0,0,0}'::real[] WHEN i % 150 = 1 THEN NULL
                                    ELSE ARRAY[sin(i), cos(i), sin(i * 0.5), 1]::real[] END
FROM generate_series(1, 900) i;
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
CREATE TEMP TABLE zv_arenas AS SELECT build_arenas_created AS created FROM quarry_memory_stats();
CREATE INDEX zv_small_v ON zv_small USING quarry_hnsw (v quarry_cosine_ops);
-- Workers took part: the build's arena, the leader's and at least one worker's.
SELECT m.build_arenas_created - a.created >= 3 AS workers_took_part FROM quarry_memory_stats() m, zv_arenas a;
DROP TABLE zv_arenas;
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
SELECT null_rows, zero_vectors FROM quarry_hnsw_index_info('zv_small_v');
SET quarry.hnsw_ef_search = 1000;
SELECT same, cardinality(by_index) AS rows, by_index[885:886] AS vectors_then_nan, by_index[894:895] AS nan_then_null
FROM zv_same('SELECT v <=> ''{1,0,0,1}'' AS d FROM zv_small ORDER BY v <=> ''{1,0,0,1}''');
RESET quarry.hnsw_ef_search;
DROP TABLE zv_small;

-- More rows than one page of the NULL-row list, built with two workers allowed,
-- a third of the rows zero vectors, some NULL: still the sort's order.
DROP TABLE zv;
CREATE TABLE zv (id int, v real[]);
INSERT INTO zv SELECT i, CASE WHEN i % 3 = 0 THEN '{0,0,0,0}'::real[] WHEN i % 3 = 1 AND i % 5 = 1 THEN NULL
                              ELSE ARRAY[sin(i), cos(i), sin(i * 0.5), 1]::real[] END
FROM generate_series(1, 6000) i;
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
CREATE INDEX zv_par ON zv USING quarry_hnsw (v quarry_cosine_ops);
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
SELECT null_rows, null_rows = (SELECT count(*) FROM zv WHERE v IS NULL OR v = '{0,0,0,0}') AS all_held
FROM quarry_hnsw_index_info('zv_par');
SELECT count(*) FROM quarry_verify_index('zv_par');
SET quarry.hnsw_ef_search = 1000;
SELECT same, cardinality(by_index) AS rows, by_index[3600:3601] AS vectors_then_nan, by_index[5600:5601] AS nan_then_null
FROM zv_same('SELECT v <=> ''{1,0,0,1}'' AS d FROM zv ORDER BY v <=> ''{1,0,0,1}''');
RESET quarry.hnsw_ef_search;
DROP TABLE zv;
DROP FUNCTION zv_same(text);
DROP FUNCTION zv_order(text);
DROP FUNCTION zv_id(real[]);
