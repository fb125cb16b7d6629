-- ALTER EXTENSION quarry UPDATE from 0.1.0 gives the same objects, with the
-- same markings and privileges, as installing the current version afresh.
SELECT current_database() AS regress_db \gset
CREATE DATABASE quarry_upgrade_old;
CREATE DATABASE quarry_upgrade_new;
\c quarry_upgrade_old
SET client_min_messages = warning;
CREATE EXTENSION quarry VERSION '0.1.0';
RESET client_min_messages;
-- Until the update, 0.1.0's script grants the verifier to PUBLIC; the library
-- refuses to run it for anyone but a superuser then.
CREATE TABLE upgrade_docs (id int, body text);
INSERT INTO upgrade_docs VALUES (1, 'one'), (2, 'two');
CREATE INDEX upgrade_docs_idx ON upgrade_docs USING quarry_bm25 (body);
CREATE ROLE regress_quarry_upgrade_user;
GRANT SELECT ON upgrade_docs TO regress_quarry_upgrade_user;
SET ROLE regress_quarry_upgrade_user;
SELECT * FROM quarry_verify_index('upgrade_docs_idx');
RESET ROLE;
SELECT count(*) AS problems FROM quarry_verify_index('upgrade_docs_idx');
-- 0.1.0's quarry_bm25_stats (12 columns) works with this library until the update.
SELECT * FROM quarry_bm25_stats('upgrade_docs_idx');
-- 0.1.0's quarry_hnsw_index_info (12 columns) as well; the update adds
-- zero_vectors (this index keeps a zero vector with its NULL rows).
CREATE TABLE upgrade_vecs (id int, v real[]);
INSERT INTO upgrade_vecs VALUES (1, '{1,0}'), (2, NULL), (3, '{0,0}');
CREATE INDEX upgrade_vecs_idx ON upgrade_vecs USING quarry_hnsw (v quarry_cosine_ops);
SELECT * FROM quarry_hnsw_index_info('upgrade_vecs_idx');
SET client_min_messages = warning;
ALTER EXTENSION quarry UPDATE;
SELECT positions, fields FROM quarry_bm25_stats('upgrade_docs_idx');
SELECT live, null_rows, zero_vectors FROM quarry_hnsw_index_info('upgrade_vecs_idx');
RESET client_min_messages;
SET ROLE regress_quarry_upgrade_user;
SELECT * FROM quarry_verify_index('upgrade_docs_idx');
RESET ROLE;
SELECT extversion FROM pg_extension WHERE extname = 'quarry';
-- Every function of the extension: signature, volatility, strictness,
-- parallel safety, whether PUBLIC may execute it (listed), and its result
-- type with OUT columns (compared).
CREATE TEMP VIEW quarry_functions AS
SELECT p.oid::regprocedure::text AS function, p.provolatile AS volatile, p.proisstrict AS strict,
       p.proparallel AS parallel, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       pg_get_function_result(p.oid) AS result
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'quarry';
SELECT function, volatile, strict, parallel, public_may_execute FROM quarry_functions ORDER BY function;
SELECT md5(string_agg(format('%s %s %s %s %s %s', function, volatile, strict, parallel, public_may_execute, result), ';' ORDER BY function))
    AS upgraded FROM quarry_functions \gset
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quarry' AND d.deptype = 'e' \gset upgraded_
\c quarry_upgrade_new
-- Installed under a hostile search_path: a schema first on the path holds
-- functions with the names and signatures quarry's script refers to; the
-- script's references are qualified, so none of them is captured.
CREATE SCHEMA hostile;
CREATE FUNCTION hostile.contsel(internal, oid, internal, integer) RETURNS double precision
    LANGUAGE sql AS $$ SELECT 0.5::double precision $$;
CREATE FUNCTION hostile.quarry_bm25_score(text, text) RETURNS double precision
    LANGUAGE sql AS $$ SELECT 42::double precision $$;
SET search_path = hostile, public;
SET client_min_messages = warning;
CREATE EXTENSION quarry SCHEMA public;
RESET client_min_messages;
RESET search_path;
SELECT o.oprnamespace::regnamespace AS schema, o.oprname,
       fn.pronamespace::regnamespace || '.' || fn.proname AS function,
       coalesce(rs.pronamespace::regnamespace || '.' || rs.proname, '-') AS restrict
FROM pg_operator o JOIN pg_depend d ON d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e'
JOIN pg_proc fn ON fn.oid = o.oprcode LEFT JOIN pg_proc rs ON rs.oid = o.oprrest
ORDER BY o.oprname, 3;
CREATE TEMP VIEW quarry_functions AS
SELECT p.oid::regprocedure::text AS function, p.provolatile AS volatile, p.proisstrict AS strict,
       p.proparallel AS parallel, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       pg_get_function_result(p.oid) AS result
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'quarry';
SELECT md5(string_agg(format('%s %s %s %s %s %s', function, volatile, strict, parallel, public_may_execute, result), ';' ORDER BY function))
    = :'upgraded' AS same_functions
FROM quarry_functions;
SELECT count(*) = :upgraded_objects AS same_object_count FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quarry' AND d.deptype = 'e';
\c :regress_db
DROP DATABASE quarry_upgrade_old;
DROP ROLE regress_quarry_upgrade_user;
DROP DATABASE quarry_upgrade_new;
