-- quarry 0.2.0: BM25 full-text search and HNSW vector search as index access methods.
--
-- Written to be safe whatever the installing session's search_path holds:
-- every reference to one of quarry's own objects is qualified with
-- @extschema@ (quarry is not relocatable), every built-in function or
-- operator class it names with pg_catalog, and nothing is CREATE OR REPLACE.
-- Privileges: README "Security". quarry_verify_index is not granted to PUBLIC.
\echo Use "CREATE EXTENSION quarry" to load this file. \quit

------------------------------------------------------------------------------
-- Memory
------------------------------------------------------------------------------

-- This backend's allocator counters. Build arenas are the private jemalloc
-- arenas index builds allocate from; scan arenas are the per-scan bump arenas.
CREATE FUNCTION @extschema@.quarry_memory_stats(
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
    OUT backend_rss_bytes bigint,      -- resident set size of this backend (shared buffers it touched included)
    OUT backend_anon_bytes bigint)     -- its private memory (malloc, palloc, jemalloc): what a build leaves behind
RETURNS record
AS 'MODULE_PATHNAME', 'quarry_memory_stats'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- Sets build_bytes_peak and scan_bytes_peak back to their current values.
CREATE FUNCTION @extschema@.quarry_memory_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'quarry_memory_stats_reset'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

------------------------------------------------------------------------------
-- BM25 full-text search: the quarry_bm25 access method
------------------------------------------------------------------------------

-- A BM25 query: its text and, once resolved, the quarry_bm25 index whose
-- statistics score it. A literal ('words'::quarry_query) leaves the index to be
-- resolved from the column it is compared with.
CREATE TYPE @extschema@.quarry_query;

CREATE FUNCTION @extschema@.quarry_query_in(cstring) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_query_out(@extschema@.quarry_query) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.quarry_query (
    INPUT = @extschema@.quarry_query_in,
    OUTPUT = @extschema@.quarry_query_out,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);

CREATE FUNCTION @extschema@.quarry_query(text) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME', 'quarry_query_from_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (text AS @extschema@.quarry_query) WITH FUNCTION @extschema@.quarry_query(text) AS IMPLICIT;

-- A query scored with the statistics of the named quarry_bm25 index. IMMUTABLE
-- so that a constant query folds at planning time and the planner sees which
-- index it names: the value depends on its arguments only (the index's OID);
-- the catalog is read to refuse an index of another kind, never to compute
-- the value. Reading the index's statistics needs SELECT on its table; that is
-- checked where they are read (<@>, @@@), not here.
CREATE FUNCTION @extschema@.quarry_query(query text, index regclass) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME', 'quarry_query_for_index' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A query read with the query syntax (README "Query syntax"): words score,
-- "w1 w2" is a phrase ("w1 w2"~N with slop), word* a prefix, word~N a fuzzy
-- term, + requires a clause and - excludes it. Prints as
-- 'parsed:<text>'::quarry_query, which reads back as the same query.
CREATE FUNCTION @extschema@.quarry_query_parse(query text) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME', 'quarry_query_parse' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_query_parse(query text, index regclass) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME', 'quarry_query_parse_for_index' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_query_is_parsed(@extschema@.quarry_query) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Used by the planner: names the index unless the query names one already.
-- The second form is what the planner of 0.2.0 and later calls: `resolved`
-- is its constant (the index of the operator's column, and the column read
-- the scoring checks; README "Security"). The first is kept for 0.1.0.
CREATE FUNCTION @extschema@.quarry_query_resolve(@extschema@.quarry_query, oid) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_query_resolve(query @extschema@.quarry_query, resolved @extschema@.quarry_query)
    RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME', 'quarry_query_resolve_column' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.quarry_query_index(@extschema@.quarry_query) RETURNS regclass
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_query_text(@extschema@.quarry_query) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- text <@> query: minus the BM25 score of the text for the query (0 when no
-- query term occurs), so ORDER BY col <@> 'q' ranks best first.
-- PARALLEL RESTRICTED: a score of a row an index scan returned uses the
-- statistics that scan ranked with, which only the scan's backend knows.
CREATE FUNCTION @extschema@.quarry_bm25_score(text, @extschema@.quarry_query) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000;
CREATE OPERATOR @extschema@.<@> (
    LEFTARG = text,
    RIGHTARG = @extschema@.quarry_query,
    FUNCTION = @extschema@.quarry_bm25_score
);

-- What the planner puts in the projection of an ordered quarry_bm25 index scan
-- in place of `text <@> query`: the value the scan ranked the row with, taken
-- from the scan (no tokenizing) when the row is the one it just returned, else
-- computed as <@> computes it. The same value either way.
CREATE FUNCTION @extschema@.quarry_bm25_scored(tid, text, @extschema@.quarry_query) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1;

-- text @@@ query: the text holds at least one query term (a parsed query: and
-- every required term, no excluded one).
CREATE FUNCTION @extschema@.quarry_bm25_match(text, @extschema@.quarry_query) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000;
CREATE OPERATOR @extschema@.@@@ (
    LEFTARG = text,
    RIGHTARG = @extschema@.quarry_query,
    FUNCTION = @extschema@.quarry_bm25_match,
    RESTRICT = pg_catalog.contsel,
    JOIN = pg_catalog.contjoinsel
);

CREATE FUNCTION @extschema@.quarry_bm25_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD quarry_bm25 TYPE INDEX HANDLER @extschema@.quarry_bm25_handler;
COMMENT ON ACCESS METHOD quarry_bm25 IS 'BM25 full-text search index';

CREATE OPERATOR CLASS @extschema@.quarry_bm25_ops DEFAULT FOR TYPE text USING quarry_bm25 AS
    OPERATOR 1 @extschema@.@@@ (text, @extschema@.quarry_query),
    OPERATOR 2 @extschema@.<@> (text, @extschema@.quarry_query) FOR ORDER BY pg_catalog.float_ops;

-- Fields (BM25F): a quarry_bm25 index on several columns, (title, body),
-- is queried with the row of its columns in their order as the left operand:
-- ORDER BY (title, body) <@> 'q', WHERE (title, body) @@@ 'q'. The planner
-- presents such an index as one column holding that row (src/am/bm25/bm25_fields_plan.cpp).
-- Minus the row's BM25F score (NULL when every field is NULL), and whether
-- the row matches; PARALLEL RESTRICTED as for one column.
CREATE FUNCTION @extschema@.quarry_bm25_row_score(record, @extschema@.quarry_query) RETURNS double precision
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000;
CREATE OPERATOR @extschema@.<@> (
    LEFTARG = record,
    RIGHTARG = @extschema@.quarry_query,
    FUNCTION = @extschema@.quarry_bm25_row_score
);
CREATE FUNCTION @extschema@.quarry_bm25_row_match(record, @extschema@.quarry_query) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000;
CREATE OPERATOR @extschema@.@@@ (
    LEFTARG = record,
    RIGHTARG = @extschema@.quarry_query,
    FUNCTION = @extschema@.quarry_bm25_row_match,
    RESTRICT = pg_catalog.contsel,
    JOIN = pg_catalog.contjoinsel
);
ALTER OPERATOR FAMILY @extschema@.quarry_bm25_ops USING quarry_bm25 ADD
    OPERATOR 1 @extschema@.@@@ (record, @extschema@.quarry_query),
    OPERATOR 2 @extschema@.<@> (record, @extschema@.quarry_query) FOR ORDER BY pg_catalog.float_ops;
-- quarry_bm25_scored for a row: the scan's value for the row it just
-- returned, else computed as <@> (record, quarry_query) computes it.
CREATE FUNCTION @extschema@.quarry_bm25_scored(tid, record, @extschema@.quarry_query) RETURNS double precision
    AS 'MODULE_PATHNAME', 'quarry_bm25_row_scored' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1;

-- Flushes the pending list and merges every segment into one (document
-- frequencies then count exactly the rows present). Returns the segment count.
-- Needs what REINDEX needs (ownership of the table; MAINTAIN on PostgreSQL 17
-- and later) and runs as the table's owner.
CREATE FUNCTION @extschema@.quarry_bm25_merge(index regclass) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- Statistics and structure of a quarry_bm25 index (SELECT on its table).
-- VOLATILE: it reads the index as it is now, like pg_relation_size.
CREATE FUNCTION @extschema@.quarry_bm25_stats(index regclass,
    OUT doc_count bigint,      -- N: indexed rows (removed rows excluded once VACUUM ran)
    OUT total_length bigint,   -- sum of their lengths in lexemes
    OUT avg_length double precision,
    OUT segments integer,
    OUT segment_rows bigint,   -- rows stored in segments, removed ones included
    OUT removed_rows bigint,   -- rows VACUUM removed that segments still hold
    OUT pending_rows integer,  -- rows in the pending list
    OUT pending_bytes bigint,
    OUT retired_sets integer,  -- page sets waiting to be recycled
    OUT pages bigint,          -- size of the index in pages
    OUT text_config regconfig,
    OUT null_rows bigint,      -- rows whose value is NULL: not in N, returned last by ORDER BY scans
    OUT positions boolean,     -- term positions stored (phrase queries need them)
    OUT fields integer)        -- indexed columns (fields; quarry_bm25_fields lists them)
RETURNS record
AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- One row per field (indexed column) of a quarry_bm25 index: its name, its
-- weight (the weights option, 1 when unnamed) and its total and average
-- length in lexemes over the N rows.
CREATE FUNCTION @extschema@.quarry_bm25_fields(index regclass,
    OUT field integer, OUT name name, OUT weight double precision,
    OUT total_length bigint, OUT avg_length double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- BM25 statistics of a distributed table (README "Scaling out with Citus").
-- Each shard of a Citus distributed table has its own quarry_bm25 index and
-- scores with its own N, lengths and document frequencies; a query carrying
-- the table's statistics scores the same on every shard.
--
-- quarry_bm25_term_statistics: the sum over these indexes (a worker's shards
-- of one table) of N, the total lengths and the document frequency of every
-- term the query looks up in them. Needs what quarry_bm25_stats needs.
CREATE FUNCTION @extschema@.quarry_bm25_term_statistics(indexes pg_catalog.regclass[],
    query @extschema@.quarry_query) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
-- The sum of several of those (one per worker).
CREATE FUNCTION @extschema@.quarry_bm25_sum_statistics(statistics pg_catalog.text[]) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The query scored with the given statistics (NULL: the index's own).
CREATE FUNCTION @extschema@.quarry_query_with_statistics(query @extschema@.quarry_query,
    statistics pg_catalog.text) RETURNS @extschema@.quarry_query
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- The statistics a query carries, or NULL.
CREATE FUNCTION @extschema@.quarry_query_statistics(query @extschema@.quarry_query) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- The statistics of the whole table of `index` for `query`: on a Citus
-- distributed table the sum over its shards, collected with one query that
-- Citus sends to every shard (SELECT quarry_bm25_shard_statistics(<key>,
-- <query>) FROM <table>, over its cached connections, in the current
-- transaction); on any other table the index's own. The planner calls it
-- when quarry.bm25_statistics is 'global'; callable directly to collect once
-- for several queries.
CREATE FUNCTION @extschema@.quarry_bm25_global_statistics(index pg_catalog.regclass,
    query @extschema@.quarry_query) RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
-- What each shard answers to the query above: the planner hook turns
-- SELECT quarry_bm25_shard_statistics(<key>, <query>) FROM <table> into one
-- row, the statistics of <table>'s quarry_bm25 index on <key>. Any other use
-- is an error.
CREATE FUNCTION @extschema@.quarry_bm25_shard_statistics(key "any", query @extschema@.quarry_query)
    RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- The query carrying the statistics of the whole table of `index`.
CREATE FUNCTION @extschema@.quarry_global_query(query @extschema@.quarry_query, index pg_catalog.regclass)
    RETURNS @extschema@.quarry_query LANGUAGE sql VOLATILE STRICT PARALLEL UNSAFE
    RETURN @extschema@.quarry_query_with_statistics(query, @extschema@.quarry_bm25_global_statistics(index, query));

------------------------------------------------------------------------------
-- Verification
------------------------------------------------------------------------------

-- Checks a quarry index against its table and its own invariants; one row per
-- problem found, none when the index is sound. Holds a ShareLock on the table
-- (writers wait) while it runs, and evaluates the index's expressions as the
-- table's owner. Like amcheck's functions it is not granted to PUBLIC: a
-- superuser grants it (GRANT EXECUTE ON FUNCTION quarry_verify_index(regclass)
-- TO monitoring_role), as README "Security" explains.
CREATE FUNCTION @extschema@.quarry_verify_index(index regclass) RETURNS SETOF text
AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.quarry_verify_index(regclass) FROM PUBLIC;

------------------------------------------------------------------------------
-- HNSW vector search: the quarry_hnsw index access method
------------------------------------------------------------------------------

-- Distances between vectors stored as real[] (one dimension, no NULL element,
-- equal lengths; NaN and infinite values are errors). The float kernels are the
-- index's own, so an index scan reports exactly these values.
CREATE FUNCTION @extschema@.quarry_l2_distance(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_l2_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.quarry_negative_inner_product(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_negative_inner_product'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- 1 - cos(a, b); NaN for a zero vector (the angle is undefined), as pgvector.
CREATE FUNCTION @extschema@.quarry_cosine_distance(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_cosine_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<-> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = @extschema@.quarry_l2_distance, COMMUTATOR = OPERATOR(@extschema@.<->));
CREATE OPERATOR @extschema@.<#> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = @extschema@.quarry_negative_inner_product, COMMUTATOR = OPERATOR(@extschema@.<#>));
CREATE OPERATOR @extschema@.<=> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = @extschema@.quarry_cosine_distance, COMMUTATOR = OPERATOR(@extschema@.<=>));

CREATE FUNCTION @extschema@.quarry_hnsw_handler(internal) RETURNS index_am_handler
AS 'MODULE_PATHNAME', 'quarry_hnsw_handler'
LANGUAGE C;

CREATE ACCESS METHOD quarry_hnsw TYPE INDEX HANDLER @extschema@.quarry_hnsw_handler;
COMMENT ON ACCESS METHOD quarry_hnsw IS 'HNSW approximate nearest-neighbour search over real[] vectors';

-- Support function 1 of the operator classes: names the metric (1 L2,
-- 2 inner product, 3 cosine).
CREATE FUNCTION @extschema@.quarry_hnsw_l2_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_l2_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.quarry_hnsw_ip_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_ip_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.quarry_hnsw_cosine_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_cosine_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS @extschema@.quarry_l2_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 @extschema@.<-> (real[], real[]) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.quarry_hnsw_l2_support(internal);

CREATE OPERATOR CLASS @extschema@.quarry_ip_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 @extschema@.<#> (real[], real[]) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.quarry_hnsw_ip_support(internal);

CREATE OPERATOR CLASS @extschema@.quarry_cosine_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 @extschema@.<=> (real[], real[]) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.quarry_hnsw_cosine_support(internal);

-- What a quarry_hnsw index holds, from its metapage and TID stream (SELECT on
-- its table).
CREATE FUNCTION @extschema@.quarry_hnsw_index_info(
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
    OUT total_pages bigint,  -- pages of the whole index
    OUT null_rows bigint,    -- rows whose vector is NULL: returned last by ORDER BY scans
    OUT zero_vectors text)   -- cosine: whether those rows may include zero vectors: none, held (since
                             -- one was added; VACUUM does not clear it), unknown (written before 0.2.0
                             -- kept this mark: counts as held; REINDEX sets it)
RETURNS record
AS 'MODULE_PATHNAME', 'quarry_hnsw_index_info'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

-- Highlighting (README "Highlighting"): the best fragments of a text with the
-- query's words marked, and the character offsets of every matching word.
-- Tokenized with the query's index's configuration; no statistics are read.
-- PARALLEL RESTRICTED: an unnamed query takes the index the statement's scan
-- ran it with, which only the scan's backend knows.
CREATE FUNCTION @extschema@.quarry_snippet(pg_catalog.text, @extschema@.quarry_query,
    start_tag pg_catalog.text DEFAULT '<b>', stop_tag pg_catalog.text DEFAULT '</b>',
    max_fragments pg_catalog.int4 DEFAULT 1, fragment_words pg_catalog.int4 DEFAULT 30)
    RETURNS pg_catalog.text
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000;
CREATE FUNCTION @extschema@.quarry_highlights(pg_catalog.text, @extschema@.quarry_query,
    OUT start_offset pg_catalog.int4, OUT end_offset pg_catalog.int4, OUT lexeme pg_catalog.text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1000 ROWS 10;

-- What the planner puts in an ordered quarry_hnsw scan's projection in place
-- of <->, <#>, <=>: the distance the scan ordered the row by when the row is
-- the one it just returned (no detoasting, no distance computed again), else
-- the operator's value; the same value either way.
CREATE FUNCTION @extschema@.quarry_hnsw_scored(pg_catalog.tid, pg_catalog.float4[], pg_catalog.float4[],
    pg_catalog.regclass, pg_catalog.int4) RETURNS pg_catalog.float8
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1;

-- L1 (taxicab) distance, sum |a[i] - b[i]| (as pgvector's <+>), and its
-- quarry_hnsw operator class.
CREATE FUNCTION @extschema@.quarry_l1_distance(real[], real[]) RETURNS float8
AS 'MODULE_PATHNAME', 'quarry_l1_distance'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR @extschema@.<+> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = @extschema@.quarry_l1_distance, COMMUTATOR = OPERATOR(@extschema@.<+>));
CREATE FUNCTION @extschema@.quarry_hnsw_l1_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_l1_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS @extschema@.quarry_l1_ops
    FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 @extschema@.<+> (real[], real[]) FOR ORDER BY pg_catalog.float_ops,
    FUNCTION 1 @extschema@.quarry_hnsw_l1_support(internal);

-- Hybrid search (README "Hybrid search"): ORDER BY quarry_hybrid(text_column,
-- text_query, vector_column, vector_query [, depth, fusion, k, weight]) on one
-- table is one scan of its quarry_bm25 and quarry_hnsw indexes that fuses the
-- two rankings. quarry_hybrid is minus the fused score (ORDER BY ascending
-- ranks best first, as <@>); quarry_hybrid_detail gives the fused score and
-- each side's rank and value. The planner turns both into the *_scored
-- functions below, which read the scan's values: computed alone they ERROR.
CREATE TYPE @extschema@.quarry_hybrid_detail AS (
    score pg_catalog.float8, text_rank pg_catalog.int4, text_score pg_catalog.float8,
    vector_rank pg_catalog.int4, vector_distance pg_catalog.float8);
CREATE FUNCTION @extschema@.quarry_hybrid(text_column pg_catalog.text, text_query @extschema@.quarry_query,
    vector_column anyelement, vector_query anyelement, depth pg_catalog.int4 DEFAULT 100,
    fusion pg_catalog.text DEFAULT 'rrf', k pg_catalog.float8 DEFAULT 60, weight pg_catalog.float8 DEFAULT 0.5)
    RETURNS pg_catalog.float8
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1;
CREATE FUNCTION @extschema@.quarry_hybrid_detail(text_column pg_catalog.text, text_query @extschema@.quarry_query,
    vector_column anyelement, vector_query anyelement, depth pg_catalog.int4 DEFAULT 100,
    fusion pg_catalog.text DEFAULT 'rrf', k pg_catalog.float8 DEFAULT 60, weight pg_catalog.float8 DEFAULT 0.5)
    RETURNS @extschema@.quarry_hybrid_detail
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1;
CREATE FUNCTION @extschema@.quarry_hybrid_scored(pg_catalog.tid, pg_catalog.int4, pg_catalog.text,
    @extschema@.quarry_query, anyelement, anyelement, pg_catalog.int4, pg_catalog.text, pg_catalog.float8,
    pg_catalog.float8) RETURNS pg_catalog.float8
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1;
CREATE FUNCTION @extschema@.quarry_hybrid_detail_scored(pg_catalog.tid, pg_catalog.int4, pg_catalog.text,
    @extschema@.quarry_query, anyelement, anyelement, pg_catalog.int4, pg_catalog.text, pg_catalog.float8,
    pg_catalog.float8) RETURNS @extschema@.quarry_hybrid_detail
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL RESTRICTED COST 1;
