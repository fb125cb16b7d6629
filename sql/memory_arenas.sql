LOAD 'quarry';
-- Build arenas: a private jemalloc arena bound to a MemoryContext is destroyed
-- when the work that holds it ends normally and when an ERROR aborts it, and the
-- backend's RSS comes back. Also: quarry.so keeps the backend on glibc malloc.
CREATE FUNCTION quarry_selftest_build_arena(int, bool) RETURNS bigint
    AS 'quarry' LANGUAGE C STRICT;
CREATE FUNCTION quarry_selftest_allocator() RETURNS text
    AS 'quarry' LANGUAGE C STRICT;

-- Loading quarry (and its private jemalloc) leaves malloc and palloc on glibc.
SELECT quarry_selftest_allocator();

SELECT quarry_memory_stats_reset();
CREATE TEMP TABLE before AS
    SELECT build_arenas_created, build_arenas_destroyed, backend_anon_bytes
    FROM quarry_memory_stats();

-- Normal end: 256 MB allocated through the arena, then the context is deleted.
SELECT quarry_selftest_build_arena(256, false) - backend_anon_bytes > 200 * 1024 * 1024
       AS rss_grew_by_200mb_at_peak
FROM before;
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_destroyed - b.build_arenas_destroyed AS destroyed,
       s.build_arenas_live,
       s.build_bytes_current,
       s.build_bytes_peak >= 256 * 1024 * 1024 AS peak_saw_256mb,
       s.backend_anon_bytes - b.backend_anon_bytes < 32 * 1024 * 1024 AS rss_back_within_32mb
FROM quarry_memory_stats() s, before b;

-- ERROR in the middle of the work, while the arena holds 512 MB.
SELECT quarry_selftest_build_arena(512, true);
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_destroyed - b.build_arenas_destroyed AS destroyed,
       s.build_arenas_live,
       s.build_bytes_current,
       s.backend_anon_bytes - b.backend_anon_bytes < 32 * 1024 * 1024 AS rss_back_within_32mb
FROM quarry_memory_stats() s, before b;

-- The same inside a transaction block that is rolled back afterwards.
BEGIN;
SELECT quarry_selftest_build_arena(128, true);
ROLLBACK;
SELECT s.build_arenas_created - b.build_arenas_created AS created,
       s.build_arenas_live,
       s.build_bytes_current
FROM quarry_memory_stats() s, before b;

-- Bad argument: a clear ERROR.
SELECT quarry_selftest_build_arena(-1, false);

DROP TABLE before;
DROP FUNCTION quarry_selftest_build_arena(int, bool);
DROP FUNCTION quarry_selftest_allocator();
