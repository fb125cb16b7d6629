-- quarry 0.1.1 -> 0.2.0. 0.1.1 was never released: it is what main built
-- before the version became 0.2.0, with the same SQL objects. This script lets
-- a database created from such a build update (ALTER EXTENSION quarry UPDATE):
-- it adds what 0.2.0 gained since: the operators on several fields (BM25F),
-- and L1 distance on real[] (<+>, quarry_l1_ops).
\echo Use "ALTER EXTENSION quarry UPDATE TO '0.2.0'" to load this file. \quit

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

-- quarry_hnsw_index_info gains a column (zero_vectors): a new signature, so it
-- is dropped and created again (a view of yours on it must be dropped first;
-- a GRANT or REVOKE of yours on it must be made again).
DROP FUNCTION @extschema@.quarry_hnsw_index_info(regclass);
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

-- quarry_bm25_stats gains two columns (positions, fields): a new signature,
-- so it is dropped and created again (a view of yours on it must be dropped
-- first); quarry_bm25_fields lists an index's fields.
DROP FUNCTION @extschema@.quarry_bm25_stats(regclass);
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
CREATE FUNCTION @extschema@.quarry_bm25_fields(index regclass,
    OUT field integer, OUT name name, OUT weight double precision,
    OUT total_length bigint, OUT avg_length double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

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
