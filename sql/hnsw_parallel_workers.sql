-- A parallel CREATE INDEX of quarry_hnsw really starts workers: its DEBUG
-- lines say how many were launched and how many rows went into the shared
-- graph (the core's own line before them says "serially" on PostgreSQL 15
-- and 16, where the core plans workers for btree only and quarry asks for
-- them itself, and "with request for 2 parallel workers" on 17 and later:
-- expected/hnsw_parallel_workers_1.out). With max_parallel_maintenance_workers
-- = 0 the build is serial and says so.
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
SET maintenance_work_mem = '256MB';
CREATE TABLE hpw_items (id int, v real[]);
INSERT INTO hpw_items
SELECT i, array_agg(((i * 7919 + d * 104729) % 1000 / 1000.0)::real ORDER BY d)
FROM generate_series(1, 3000) i, generate_series(1, 8) d GROUP BY i;
INSERT INTO hpw_items VALUES (0, NULL);
ANALYZE hpw_items;
SET client_min_messages = debug1;
CREATE INDEX hpw_v ON hpw_items USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 8);
RESET client_min_messages;
SELECT live, null_rows FROM quarry_hnsw_index_info('hpw_v');
SELECT * FROM quarry_verify_index('hpw_v');
-- Without WITH (dims): probed from the first row.
DROP INDEX hpw_v;
SET client_min_messages = debug1;
CREATE INDEX hpw_v ON hpw_items USING quarry_hnsw (v quarry_l2_ops);
RESET client_min_messages;
SELECT dims, live, null_rows FROM quarry_hnsw_index_info('hpw_v');
-- A worker's ERROR ends the build, and nothing is left behind.
DROP INDEX hpw_v;
INSERT INTO hpw_items SELECT 5000 + i, '{1,2,3}' FROM generate_series(1, 200) i;
\set VERBOSITY terse
CREATE INDEX hpw_v ON hpw_items USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 8);
\set VERBOSITY default
SELECT count(*) AS leftover_indexes FROM pg_class WHERE relname = 'hpw_v';
SELECT build_arenas_live FROM quarry_memory_stats();
DROP TABLE hpw_items;
