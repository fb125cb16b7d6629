-- quarry 0.1.0: BM25 full-text search and HNSW vector search as index access methods.
\echo Use "CREATE EXTENSION quarry" to load this file. \quit

------------------------------------------------------------------------------
-- Memory
------------------------------------------------------------------------------

-- This backend's allocator counters. Build arenas are the private jemalloc
-- arenas index builds allocate from; scan arenas are the per-scan bump arenas.
CREATE FUNCTION quarry_memory_stats(
    OUT build_arenas_created bigint,   -- build arenas ever created in this backend
    OUT build_arenas_destroyed bigint, -- ... and destroyed (end of build, or abort)
    OUT build_arenas_live bigint,      -- created - destroyed: 0 when no build runs
    OUT build_bytes_current bigint,    -- bytes live in build arenas now
    OUT build_bytes_peak bigint,       -- high-water mark of build_bytes_current
    OUT scan_arenas_created bigint,    -- one per index scan
    OUT scan_arena_resets bigint,      -- one per rescan
    OUT scan_blocks_allocated bigint,  -- blocks scan arenas took from palloc
    OUT scan_allocations bigint,       -- allocations served by scan arenas
    OUT scan_bytes_peak bigint,        -- largest block footprint of one scan arena
    OUT backend_rss_bytes bigint)      -- resident set size of this backend
RETURNS record
AS 'MODULE_PATHNAME', 'quarry_memory_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- Sets build_bytes_peak and scan_bytes_peak back to their current values.
CREATE FUNCTION quarry_memory_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'quarry_memory_stats_reset'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
