-- quarry_hnsw after CREATE INDEX: inserts, updates, deletes and VACUUM.

SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 1000; -- exhaustive on these sizes: exact answers
CREATE FUNCTION vec(g int, dims int DEFAULT 6) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT ((g * 7919 + d * 104729 + g * d * 31) % 1009)::real / 10 FROM generate_series(1, dims) d) $$;

-- An index created on an empty table: the first row fixes the dimensions.
CREATE TABLE docs (id int PRIMARY KEY, v real[]);
CREATE INDEX docs_v ON docs USING quarry_hnsw (v quarry_l2_ops);
SELECT dims, slots, entry_level FROM quarry_hnsw_index_info('docs_v');
SELECT id FROM docs ORDER BY v <-> vec(1) LIMIT 3;
INSERT INTO docs SELECT g, vec(g) FROM generate_series(1, 200) g;
SELECT dims, slots, live, entry_level >= 0 AS has_entry FROM quarry_hnsw_index_info('docs_v');
INSERT INTO docs VALUES (999, '{1,2,3}');
INSERT INTO docs VALUES (999, '{1,2,3,4,5,NaN}');
INSERT INTO docs VALUES (999, NULL); -- not indexed
SELECT live FROM quarry_hnsw_index_info('docs_v');
DELETE FROM docs WHERE id = 999;

CREATE FUNCTION check_exact(q real[], k int) RETURNS bool LANGUAGE sql AS $$
    SELECT (SELECT array_agg(d) FROM (SELECT v <-> q AS d FROM docs ORDER BY v <-> q LIMIT k) i)
         = (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_l2_distance(v, q) d FROM docs
                                                 WHERE v IS NOT NULL ORDER BY d LIMIT k) e) $$;
SELECT check_exact(vec(5), 10) AS top10, check_exact(vec(1234), 200) AS everything;

-- Inserts after a build, in the same transaction as reads, and updates. A
-- small m makes every neighbour list overflow, so the inserts shrink lists
-- with the heuristic all the time. (Levels of inserted rows come from their
-- heap TIDs, so this graph is the same on every run.)
CREATE INDEX docs_v2 ON docs USING quarry_hnsw (v quarry_l2_ops) WITH (m = 4, ef_construction = 16);
DROP INDEX docs_v;
BEGIN;
INSERT INTO docs SELECT g, vec(g) FROM generate_series(201, 500) g;
SELECT check_exact(vec(300), 10) AS top10_in_transaction;
ROLLBACK;
INSERT INTO docs SELECT g, vec(g) FROM generate_series(201, 500) g;
UPDATE docs SET v = vec(id + 10000) WHERE id % 50 = 0;
SELECT live - 500 AS versions_left_to_vacuum FROM quarry_hnsw_index_info('docs_v2');
SELECT check_exact(vec(7), 10) AS top10, check_exact(vec(10100), 10) AS updated_rows;
-- Walking the whole graph in distance order reaches nearly every row (an
-- approximate index: a few nodes are reachable only through far ones).
SELECT count(*) AS rows_returned FROM (SELECT id FROM docs ORDER BY v <-> vec(31337)) s;
SELECT id FROM docs ORDER BY v <-> vec(10100) LIMIT 1;

-- DELETE + VACUUM: dead rows are never returned again, their slots become
-- free, and inserts reuse them, so the index does not grow.
DELETE FROM docs WHERE id % 10 = 3;
VACUUM docs;
SELECT slots, live, deleted, free FROM quarry_hnsw_index_info('docs_v2');
SELECT count(*) AS deleted_rows_returned
FROM (SELECT id FROM docs ORDER BY v <-> vec(3) LIMIT 1000) s WHERE id % 10 = 3;
SELECT count(*) AS rows_returned FROM (SELECT id FROM docs ORDER BY v <-> vec(3)) s;
SELECT check_exact(vec(3), 10) AS top10, check_exact(vec(42), 10) AS top10_elsewhere;
SELECT total_pages AS pages_before FROM quarry_hnsw_index_info('docs_v2') \gset
INSERT INTO docs SELECT g, vec(g) FROM generate_series(501, 550) g;
SELECT slots, live, deleted, free, total_pages = :pages_before AS same_pages FROM quarry_hnsw_index_info('docs_v2');
SELECT check_exact(vec(523), 10) AS top10, check_exact(vec(11), 10) AS top10_elsewhere;
SELECT count(*) AS rows_returned FROM (SELECT id FROM docs ORDER BY v <-> vec(11)) s;

-- Delete everything: the entry point goes, the graph is empty, and it grows
-- again from the next insert.
DELETE FROM docs;
VACUUM docs;
SELECT slots, live, free, entry_level FROM quarry_hnsw_index_info('docs_v2');
SELECT count(*) FROM (SELECT id FROM docs ORDER BY v <-> vec(1) LIMIT 5) s;
INSERT INTO docs SELECT g, vec(g) FROM generate_series(1, 100) g;
SELECT slots, live, free, entry_level >= 0 AS has_entry FROM quarry_hnsw_index_info('docs_v2');
SELECT check_exact(vec(77), 100) AS everything;

-- VACUUM with nothing to delete, and VACUUM FULL / REINDEX.
VACUUM docs;
VACUUM FULL docs;
REINDEX INDEX docs_v2;
SELECT slots, live, free FROM quarry_hnsw_index_info('docs_v2');
SELECT check_exact(vec(77), 10) AS top10;

-- TRUNCATE, and unlogged tables (their index has an init fork).
TRUNCATE docs;
SELECT slots, live, dims FROM quarry_hnsw_index_info('docs_v2');
CREATE UNLOGGED TABLE scratch (id int, v real[]);
CREATE INDEX scratch_v ON scratch USING quarry_hnsw (v quarry_cosine_ops);
INSERT INTO scratch SELECT g, vec(g, 3) FROM generate_series(1, 50) g;
SELECT id FROM scratch ORDER BY v <=> '{1,1,1}' LIMIT 3;
SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <=> '{1,1,1}' d FROM scratch ORDER BY d, id LIMIT 3) s;
DROP TABLE scratch;
-- A temporary table.
CREATE TEMP TABLE tmp (v real[]);
INSERT INTO tmp SELECT vec(g, 4) FROM generate_series(1, 30) g;
CREATE INDEX ON tmp USING quarry_hnsw (v quarry_ip_ops);
INSERT INTO tmp SELECT vec(g, 4) FROM generate_series(31, 60) g;
SELECT count(*) FROM (SELECT v FROM tmp ORDER BY v <#> '{1,0,0,0}' LIMIT 100) s;

-- Rows whose vector is NULL: built, inserted and deleted; an ordered scan
-- returns them after every vector, with a NULL distance, like the sequential
-- plan; VACUUM removes the dead ones; the list's pages are reused.
CREATE TABLE nullable (id int PRIMARY KEY, v real[]);
INSERT INTO nullable SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE vec(g, 4) END FROM generate_series(1, 2000) g;
CREATE INDEX nullable_v ON nullable USING quarry_hnsw (v quarry_l2_ops);
INSERT INTO nullable SELECT g, NULL FROM generate_series(2001, 2500) g;
SELECT live, null_rows FROM quarry_hnsw_index_info('nullable_v');
SET enable_seqscan = off;
SET quarry.hnsw_max_scan_tuples = 100000;
SELECT count(*) AS all_rows, count(d) AS with_distance,
       bool_and(d IS NULL) FILTER (WHERE n > 1500) AS nulls_last
FROM (SELECT v <-> '{1,2,3,4}' AS d, row_number() OVER () AS n FROM (
      SELECT v FROM nullable ORDER BY v <-> '{1,2,3,4}') s) t;
RESET enable_seqscan;
RESET quarry.hnsw_max_scan_tuples;
DELETE FROM nullable WHERE id % 2 = 0;
VACUUM nullable;
SELECT live, null_rows FROM quarry_hnsw_index_info('nullable_v');
SELECT total_pages AS pages_before FROM quarry_hnsw_index_info('nullable_v') \gset
DELETE FROM nullable WHERE v IS NULL;
VACUUM nullable;
INSERT INTO nullable SELECT g, NULL FROM generate_series(3001, 4000) g;
SELECT null_rows, total_pages <= :pages_before AS null_pages_reused FROM quarry_hnsw_index_info('nullable_v');
SELECT count(*) AS problems FROM quarry_verify_index('nullable_v');
DROP TABLE nullable;

DROP TABLE docs;
DROP FUNCTION check_exact(real[], int);
DROP FUNCTION vec(int, int);
