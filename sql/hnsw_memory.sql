-- quarry_hnsw builds its graph in a private jemalloc arena: gone after the
-- build, after a failed build and after a cancelled one, and the backend's
-- memory comes back. Scans allocate from their bump arena only.

CREATE FUNCTION vec(g int, dims int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint4(g * 64 + d)) % 10000)::real / 100 FROM generate_series(1, dims) d) $$;
CREATE TABLE mem (id int, v real[]);
INSERT INTO mem SELECT g, vec(g, 64) FROM generate_series(1, 20000) g; -- a graph of about 7 MB

SELECT quarry_memory_stats_reset();
CREATE TEMP TABLE before AS SELECT build_arenas_created, build_arenas_destroyed, backend_rss_bytes FROM quarry_memory_stats();
CREATE INDEX mem_v ON mem USING quarry_hnsw (v quarry_l2_ops);
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_destroyed - b.build_arenas_destroyed AS destroyed,
       s.build_arenas_live, s.build_bytes_current,
       s.build_bytes_peak > 5 * 1024 * 1024 AS peak_held_the_graph,
       s.backend_rss_bytes - b.backend_rss_bytes < 32 * 1024 * 1024 AS rss_back_within_32mb
FROM quarry_memory_stats() s, before b;

-- A build that fails on its last row: the arena is destroyed all the same.
DROP INDEX mem_v;
INSERT INTO mem VALUES (20001, array_fill(1::real, ARRAY[65]));
CREATE INDEX mem_bad ON mem USING quarry_hnsw (v quarry_l2_ops);
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_destroyed - b.build_arenas_destroyed AS destroyed,
       s.build_arenas_live, s.build_bytes_current
FROM quarry_memory_stats() s, before b;
DELETE FROM mem WHERE id = 20001;

-- A cancelled build (statement_timeout fires while the graph is being built).
SET statement_timeout = '300ms';
CREATE INDEX mem_slow ON mem USING quarry_hnsw (v quarry_l2_ops) WITH (m = 32, ef_construction = 400);
RESET statement_timeout;
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_destroyed - b.build_arenas_destroyed AS destroyed,
       s.build_arenas_live, s.build_bytes_current
FROM quarry_memory_stats() s, before b;

-- Not enough maintenance_work_mem: a NOTICE, the graph built so far goes to
-- disk, the remaining rows are inserted there, and the index works.
-- ANALYZE first: the NOTICE's estimate comes from the table's row count
-- (PostgreSQL 18 keeps it unknown until then; autovacuum is off in the tests).
ANALYZE mem;
SET maintenance_work_mem = '1MB';
CREATE INDEX mem_small ON mem USING quarry_hnsw (v quarry_l2_ops);
RESET maintenance_work_mem;
SELECT slots, live FROM quarry_hnsw_index_info('mem_small');
SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 100;
SELECT count(*) AS top10_found
FROM (SELECT id FROM mem ORDER BY v <-> vec(999999, 64) LIMIT 10) i
WHERE id IN (SELECT id FROM mem ORDER BY quarry_l2_distance(v, vec(999999, 64)) LIMIT 10);
DROP INDEX mem_small;

-- Scans: one arena each, one reset per rescan, a handful of blocks.
SELECT scan_arenas_created AS arenas_before, scan_arena_resets AS resets_before FROM quarry_memory_stats() \gset
CREATE INDEX mem_v ON mem USING quarry_hnsw (v quarry_l2_ops);
SELECT count(*) FROM generate_series(1, 20) g,
    LATERAL (SELECT id FROM mem ORDER BY v <-> vec(g + 100000, 64) LIMIT 10) s;
SELECT scan_arenas_created - :arenas_before AS arenas, scan_arena_resets - :resets_before AS resets
FROM quarry_memory_stats();
RESET enable_seqscan;
RESET quarry.hnsw_ef_search;

DROP TABLE before;
DROP TABLE mem;
DROP FUNCTION vec(int, int);
