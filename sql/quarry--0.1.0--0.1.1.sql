-- quarry 0.1.0 -> 0.1.1: privileges (README "Security").
\echo Use "ALTER EXTENSION quarry UPDATE TO '0.1.1'" to load this file. \quit

-- The verifier evaluates index expressions (as the table's owner now) and
-- locks the table: like amcheck, only roles a superuser grants it to may run it.
REVOKE ALL ON FUNCTION @extschema@.quarry_verify_index(regclass) FROM PUBLIC;

-- Markings that say what the functions do.
ALTER FUNCTION @extschema@.quarry_verify_index(regclass) PARALLEL UNSAFE;
ALTER FUNCTION @extschema@.quarry_bm25_merge(regclass) PARALLEL UNSAFE;
ALTER FUNCTION @extschema@.quarry_bm25_stats(regclass) VOLATILE PARALLEL SAFE;
