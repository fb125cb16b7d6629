-- quarry_pgvector 0.2.0: operator classes of quarry_hnsw for pgvector's types,
-- under pgvector's own operators, so an index on a vector or halfvec column
-- serves the queries an application already sends:
--   CREATE INDEX ON items USING quarry_hnsw (embedding quarry_vector_cosine_ops);
--   SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10;
-- The operators and types are pgvector's; the code reading the values is
-- quarry's (quarry.so reads pgvector's on-disk layout itself and does not
-- link against pgvector). Support function 1 names the metric as for real[]
-- (1 L2, 2 inner product, 3 cosine, 4 L1), support function 2 the input
-- format (2 vector, 3 halfvec).
--
-- pgvector's schema is looked up in the catalog, not through the search_path,
-- and every name is written with its schema (README "Security").
\echo Use "CREATE EXTENSION quarry_pgvector" to load this file. \quit

CREATE FUNCTION @extschema@.quarry_pgvector_l2_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_l2_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_pgvector_ip_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_ip_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_pgvector_cosine_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_cosine_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_pgvector_l1_support(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_l1_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_pgvector_vector_format(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_vector_format'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.quarry_pgvector_halfvec_format(internal) RETURNS int4
AS 'MODULE_PATHNAME', 'quarry_hnsw_halfvec_format'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- For each type:
-- * quarry_{vector,halfvec}_{l2,ip,cosine,l1}_ops, each ordering by pgvector's
--   operator of its metric: <-> L2, <#> negative inner product, <=> cosine
--   distance, <+> L1;
-- * quarry_hnsw_scored(tid, type, type, regclass, int4): what the planner puts
--   in an ordered quarry_hnsw scan's projection in place of pgvector's <->,
--   <#>, <=> and <+> (quarry.so's planner hook): the distance of the row the
--   scan just returned, computed by pgvector's own operator function on the
--   row's vector as the index holds it (storage 'full', not <=>: a cosine
--   index holds normalised vectors) or as the rerank of a compressed index
--   read it (no second detoasting of the row's vector), else pgvector's
--   operator on the two values; the same value either way.
DO $$
DECLARE
    vector_schema pg_catalog.name := (
        SELECT n.nspname FROM pg_catalog.pg_extension e
        JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'vector');
    type_name pg_catalog.text;
    metric pg_catalog.text[];
BEGIN
    FOREACH type_name IN ARRAY ARRAY['vector', 'halfvec'] LOOP
        FOREACH metric SLICE 1 IN ARRAY ARRAY[['l2', '<->'], ['ip', '<#>'], ['cosine', '<=>'], ['l1', '<+>']] LOOP
            EXECUTE pg_catalog.format(
                'CREATE OPERATOR CLASS @extschema@.%I FOR TYPE %I.%I USING quarry_hnsw AS '
                'OPERATOR 1 %I.%s (%I.%I, %I.%I) FOR ORDER BY pg_catalog.float_ops, '
                'FUNCTION 1 @extschema@.%I(internal), FUNCTION 2 @extschema@.%I(internal)',
                'quarry_' || type_name || '_' || metric[1] || '_ops', vector_schema, type_name,
                vector_schema, metric[2], vector_schema, type_name, vector_schema, type_name,
                'quarry_pgvector_' || metric[1] || '_support', 'quarry_pgvector_' || type_name || '_format');
        END LOOP;
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION @extschema@.quarry_hnsw_scored(pg_catalog.tid, %I.%I, %I.%I, '
            'pg_catalog.regclass, pg_catalog.int4) RETURNS pg_catalog.float8 '
            'AS %L, %L LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1',
            vector_schema, type_name, vector_schema, type_name,
            'MODULE_PATHNAME', 'quarry_hnsw_scored_pgvector');
    END LOOP;
END
$$;
