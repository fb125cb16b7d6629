-- Parallel CREATE INDEX of quarry_hnsw on real[]: workers forced (the
-- planner's thresholds set to zero), the graph checked by the verifier and
-- against exact search, its recall@10 no more than 0.03 below the serial
-- build's (500 neighbours: 50 queries x 10), NULL rows and duplicates, each
-- metric, and a graph past maintenance_work_mem (the rest inserted on disk).
-- hnsw_parallel_workers shows that workers really take part.
SET max_parallel_maintenance_workers = 2;
SET min_parallel_table_scan_size = 0;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET maintenance_work_mem = '256MB';

-- 20,050 vectors of 16 dimensions on a few clusters, 30 NULL rows and 50
-- rows repeating an earlier vector; 50 queries.
SELECT setseed(0.5);
CREATE TABLE hpb_items (id int PRIMARY KEY, v real[]);
ALTER TABLE hpb_items ALTER v SET STORAGE PLAIN;
INSERT INTO hpb_items
SELECT i, array_agg((c * 0.7 + random())::real ORDER BY d)
FROM (SELECT i, (i % 7) AS c FROM generate_series(1, 20000) i) s, generate_series(1, 16) d
GROUP BY i, c;
INSERT INTO hpb_items SELECT 20000 + i, NULL FROM generate_series(1, 30) i;
INSERT INTO hpb_items SELECT 30000 + id, v FROM hpb_items WHERE id <= 50;
ANALYZE hpb_items;
CREATE TABLE hpb_queries AS
SELECT q, array_agg((q % 7 * 0.7 + random())::real ORDER BY d) AS v
FROM generate_series(1, 50) q, generate_series(1, 16) d GROUP BY q;

-- Exact top 10 of each query under each metric (functions, not operators:
-- no index takes them).
CREATE TABLE hpb_exact AS
SELECT 'l2' AS metric, q.q, e.id FROM hpb_queries q CROSS JOIN LATERAL
  (SELECT id FROM hpb_items WHERE v IS NOT NULL ORDER BY quarry_l2_distance(v, q.v), id LIMIT 10) e
UNION ALL
SELECT 'cosine', q.q, e.id FROM hpb_queries q CROSS JOIN LATERAL
  (SELECT id FROM hpb_items WHERE v IS NOT NULL ORDER BY quarry_cosine_distance(v, q.v), id LIMIT 10) e
UNION ALL
SELECT 'ip', q.q, e.id FROM hpb_queries q CROSS JOIN LATERAL
  (SELECT id FROM hpb_items WHERE v IS NOT NULL ORDER BY quarry_negative_inner_product(v, q.v), id LIMIT 10) e;

-- recall@10 of the index scans of one metric against hpb_exact, at
-- ef_search 100.
CREATE FUNCTION hpb_recall(metric text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE hits bigint;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_sort = off;
    SET LOCAL quarry.hnsw_ef_search = 100;
    IF metric = 'l2' THEN
        SELECT count(*) INTO hits FROM hpb_queries q CROSS JOIN LATERAL
          (SELECT id FROM hpb_items ORDER BY v <-> q.v LIMIT 10) r
          JOIN hpb_exact e ON e.metric = 'l2' AND e.q = q.q AND e.id = r.id;
    ELSIF metric = 'cosine' THEN
        SELECT count(*) INTO hits FROM hpb_queries q CROSS JOIN LATERAL
          (SELECT id FROM hpb_items ORDER BY v <=> q.v LIMIT 10) r
          JOIN hpb_exact e ON e.metric = 'cosine' AND e.q = q.q AND e.id = r.id;
    ELSE
        SELECT count(*) INTO hits FROM hpb_queries q CROSS JOIN LATERAL
          (SELECT id FROM hpb_items ORDER BY v <#> q.v LIMIT 10) r
          JOIN hpb_exact e ON e.metric = 'ip' AND e.q = q.q AND e.id = r.id;
    END IF;
    RETURN hits / 500.0;
END $$;

CREATE TABLE hpb_results (metric text, build text, recall float8);

-- Build arenas of every participant: the leader's and each worker's, as the
-- workers report them back (created and destroyed, counted in the leader's
-- quarry_memory_stats()).
CREATE TEMP TABLE hpb_arenas AS SELECT build_arenas_created AS created, build_arenas_destroyed AS destroyed
FROM quarry_memory_stats();
CREATE FUNCTION hpb_arena_delta(OUT created bigint, OUT destroyed bigint, OUT live bigint) LANGUAGE sql AS $$
SELECT m.build_arenas_created - a.created, m.build_arenas_destroyed - a.destroyed, m.build_arenas_live
FROM quarry_memory_stats() m, hpb_arenas a $$;
CREATE FUNCTION hpb_arena_mark() RETURNS void LANGUAGE sql AS $$
UPDATE hpb_arenas SET (created, destroyed) = (SELECT build_arenas_created, build_arenas_destroyed FROM quarry_memory_stats()) $$;

-- L2: parallel, then serial.
CREATE INDEX hpb_l2 ON hpb_items USING quarry_hnsw (v quarry_l2_ops);
-- Four arenas, all gone: the build's own (it writes the pages), and one per
-- participant, the leader and two workers.
SELECT * FROM hpb_arena_delta();
SELECT * FROM quarry_verify_index('hpb_l2');
SELECT dims, slots, live, null_rows FROM quarry_hnsw_index_info('hpb_l2');
-- An ordered walk returns at least 99 % of the rows (README: rows found
-- late are skipped), the 30 NULL ones last.
SET quarry.hnsw_ef_search = 1000;
SET quarry.hnsw_max_scan_tuples = 1000000;
SET enable_seqscan = off;
SELECT count(*) >= 0.99 * 20080 AS most_rows, count(*) FILTER (WHERE v IS NULL) AS nulls,
       bool_and(v IS NULL) FILTER (WHERE n > max_n - 30) AS nulls_last
FROM (SELECT id, v, n, max(n) OVER () AS max_n FROM
      (SELECT id, v, row_number() OVER () AS n FROM
        (SELECT id, v FROM hpb_items ORDER BY v <-> (SELECT v FROM hpb_queries WHERE q = 1)) o) s) t;
RESET enable_seqscan;
RESET quarry.hnsw_max_scan_tuples;
RESET quarry.hnsw_ef_search;
INSERT INTO hpb_results SELECT 'l2', 'parallel', hpb_recall('l2');
DROP INDEX hpb_l2;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hpb_l2 ON hpb_items USING quarry_hnsw (v quarry_l2_ops);
INSERT INTO hpb_results SELECT 'l2', 'serial', hpb_recall('l2');
DROP INDEX hpb_l2;

-- Cosine and inner product, the same way.
SET max_parallel_maintenance_workers = 2;
CREATE INDEX hpb_cos ON hpb_items USING quarry_hnsw (v quarry_cosine_ops);
SELECT * FROM quarry_verify_index('hpb_cos');
INSERT INTO hpb_results SELECT 'cosine', 'parallel', hpb_recall('cosine');
DROP INDEX hpb_cos;
CREATE INDEX hpb_ip ON hpb_items USING quarry_hnsw (v quarry_ip_ops) WITH (m = 12, ef_construction = 80);
SELECT * FROM quarry_verify_index('hpb_ip');
INSERT INTO hpb_results SELECT 'ip', 'parallel', hpb_recall('ip');
DROP INDEX hpb_ip;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hpb_cos ON hpb_items USING quarry_hnsw (v quarry_cosine_ops);
INSERT INTO hpb_results SELECT 'cosine', 'serial', hpb_recall('cosine');
DROP INDEX hpb_cos;
CREATE INDEX hpb_ip ON hpb_items USING quarry_hnsw (v quarry_ip_ops) WITH (m = 12, ef_construction = 80);
INSERT INTO hpb_results SELECT 'ip', 'serial', hpb_recall('ip');
DROP INDEX hpb_ip;

-- A compressed layout (storage = 'sq8'), parallel then serial: the parallel
-- build's writer sizes the records by the layout.
SET max_parallel_maintenance_workers = 2;
CREATE INDEX hpb_sq8 ON hpb_items USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
SELECT * FROM quarry_verify_index('hpb_sq8');
INSERT INTO hpb_results SELECT 'l2 sq8', 'parallel', hpb_recall('l2');
DROP INDEX hpb_sq8;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hpb_sq8 ON hpb_items USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
INSERT INTO hpb_results SELECT 'l2 sq8', 'serial', hpb_recall('l2');
DROP INDEX hpb_sq8;

-- Parallel recall at least 0.9 and no more than 0.03 below the serial
-- build's (either may come out ahead).
SELECT p.metric, p.recall >= 0.9 AS good, p.recall >= s.recall - 0.03 AS as_serial
FROM hpb_results p JOIN hpb_results s ON s.metric = p.metric AND s.build = 'serial'
WHERE p.build = 'parallel' ORDER BY 1;

-- Writes after a parallel build: inserts, deletes, VACUUM.
SET max_parallel_maintenance_workers = 2;
CREATE INDEX hpb_l2 ON hpb_items USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 16);
INSERT INTO hpb_items SELECT 40000 + q, v FROM hpb_queries;
DELETE FROM hpb_items WHERE id % 10 = 3;
VACUUM hpb_items;
SELECT * FROM quarry_verify_index('hpb_l2');
SET enable_seqscan = off;
SELECT id FROM hpb_items ORDER BY v <-> (SELECT v FROM hpb_queries WHERE q = 7) LIMIT 1;
RESET enable_seqscan;
DROP INDEX hpb_l2;

-- A cancelled parallel build (statement_timeout, long before it can end)
-- leaves no index and no build arena behind, the workers' included.
SELECT hpb_arena_mark();
SET statement_timeout = '200ms';
\set VERBOSITY terse
CREATE INDEX hpb_cancel ON hpb_items USING quarry_hnsw (v quarry_l2_ops) WITH (m = 48, ef_construction = 1000);
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS leftover_indexes FROM pg_class WHERE relname = 'hpb_cancel';
SELECT build_arenas_live FROM quarry_memory_stats();
-- (at least the build's and the leader's; each worker's when it had started)
SELECT created >= 2 AS counted, destroyed = created AS all_destroyed, live FROM hpb_arena_delta();
DROP TABLE hpb_items;
-- So does a build that an ERROR ends, in whichever participant: a NaN
-- element in rows all over the table.
CREATE TABLE hpb_bad AS
SELECT i AS id, CASE WHEN i % 1000 = 999 THEN ARRAY[1, 'NaN']::real[] ELSE ARRAY[i, 1]::real[] END AS v
FROM generate_series(1, 20000) i;
ANALYZE hpb_bad;
SELECT hpb_arena_mark();
\set VERBOSITY terse
CREATE INDEX ON hpb_bad USING quarry_hnsw (v quarry_l2_ops);
\set VERBOSITY default
SELECT created >= 2 AS counted, destroyed = created AS all_destroyed, live FROM hpb_arena_delta();
DROP TABLE hpb_bad;

-- Past maintenance_work_mem: 64 MB (the least that gets a worker) holds a
-- graph of about 15,800 vectors of 1,000 dimensions; the other rows are
-- inserted on disk after the graph is written.
SET maintenance_work_mem = '64MB';
SELECT setseed(0.25);
CREATE TABLE hpb_big (id int, v real[]);
ALTER TABLE hpb_big ALTER v SET STORAGE PLAIN;
INSERT INTO hpb_big
SELECT i, array_agg((i % 5 + random())::real ORDER BY d)
FROM generate_series(1, 16500) i, generate_series(1, 1000) d GROUP BY i;
INSERT INTO hpb_big VALUES (0, NULL);
ANALYZE hpb_big;
CREATE INDEX hpb_big_v ON hpb_big USING quarry_hnsw (v quarry_l2_ops);
SELECT * FROM quarry_verify_index('hpb_big_v');
SELECT slots, live, null_rows FROM quarry_hnsw_index_info('hpb_big_v');
-- Rows of the graph and rows inserted on disk are found by their own vector.
SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 200;
SELECT count(*) >= 0.9 * 34 AS found_by_own_vector FROM
  (SELECT id, v FROM hpb_big WHERE id % 500 = 1 OR id = 16500) s
  WHERE s.id IN (SELECT b.id FROM hpb_big b ORDER BY b.v <-> s.v LIMIT 1);
RESET quarry.hnsw_ef_search;
RESET enable_seqscan;
DROP TABLE hpb_big, hpb_queries, hpb_exact, hpb_results;
DROP FUNCTION hpb_recall;
DROP FUNCTION hpb_arena_delta, hpb_arena_mark;
