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

------------------------------------------------------------------------------
-- HNSW vector search: the quarry_hnsw index access method
------------------------------------------------------------------------------

-- Distances between vectors stored as real[] (one dimension, no NULL element,
-- equal lengths; NaN and infinite values are errors). The float kernels are the
-- index's own, so an index scan reports exactly these values.
CREATE FUNCTION quarry_l2_distance(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_l2_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION quarry_negative_inner_product(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_negative_inner_product'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- 1 - cos(a, b); an error for a zero vector (the angle is undefined).
CREATE FUNCTION quarry_cosine_distance(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_cosine_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = quarry_l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = quarry_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = quarry_cosine_distance, COMMUTATOR = '<=>');

CREATE FUNCTION quarry_hnsw_handler(internal) RETURNS index_am_handler
AS 'MODULE_PATHNAME', 'quarry_hnsw_handler'
LANGUAGE C;

CREATE ACCESS METHOD quarry_hnsw TYPE INDEX HANDLER quarry_hnsw_handler;
COMMENT ON ACCESS METHOD quarry_hnsw IS 'HNSW approximate nearest-neighbour search over real[] vectors';

-- Support function 1 of the operator classes: names the metric (1 L2,
-- 2 inner product, 3 cosine).
CREATE FUNCTION quarry_hnsw_l2_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_l2_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION quarry_hnsw_ip_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_ip_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION quarry_hnsw_cosine_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_cosine_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS quarry_l2_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 <-> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 quarry_hnsw_l2_support(internal);

CREATE OPERATOR CLASS quarry_ip_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 <#> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 quarry_hnsw_ip_support(internal);

CREATE OPERATOR CLASS quarry_cosine_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 <=> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 quarry_hnsw_cosine_support(internal);

-- What a quarry_hnsw index holds, from its metapage and TID stream.
CREATE FUNCTION quarry_hnsw_index_info(
    index regclass,
    OUT dims int,            -- vector dimensions (0: not fixed yet)
    OUT m int,
    OUT ef_construction int,
    OUT metric text,         -- l2, inner_product or cosine
    OUT slots bigint,        -- node slots ever allocated
    OUT live bigint,         -- nodes scans can return
    OUT deleted bigint,      -- dead rows VACUUM has not finished with
    OUT free bigint,         -- slots inserts will reuse
    OUT entry_level int,     -- level of the entry point (-1: empty graph)
    OUT node_pages bigint,   -- pages of node records
    OUT total_pages bigint)  -- pages of the whole index
RETURNS record
AS 'MODULE_PATHNAME', 'quarry_hnsw_index_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;
