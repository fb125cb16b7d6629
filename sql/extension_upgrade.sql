-- ALTER EXTENSION quarry UPDATE from 0.1.0 gives the same objects, with the
-- same markings and privileges, as installing the current version afresh.
SELECT current_database() AS regress_db \gset
CREATE DATABASE quarry_upgrade_old;
CREATE DATABASE quarry_upgrade_new;
\c quarry_upgrade_old
SET client_min_messages = warning;
CREATE EXTENSION quarry VERSION '0.1.0';
ALTER EXTENSION quarry UPDATE;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'quarry';
-- Every function of the extension: signature, volatility, strictness,
-- parallel safety, whether PUBLIC may execute it.
CREATE TEMP VIEW quarry_functions AS
SELECT p.oid::regprocedure::text AS function, p.provolatile AS volatile, p.proisstrict AS strict,
       p.proparallel AS parallel, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'quarry';
SELECT * FROM quarry_functions ORDER BY function;
SELECT md5(string_agg(format('%s %s %s %s %s', function, volatile, strict, parallel, public_may_execute), ';' ORDER BY function))
    AS upgraded FROM quarry_functions \gset
SELECT count(*) AS objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quarry' AND d.deptype = 'e' \gset upgraded_
\c quarry_upgrade_new
SET client_min_messages = warning;
CREATE EXTENSION quarry;
RESET client_min_messages;
CREATE TEMP VIEW quarry_functions AS
SELECT p.oid::regprocedure::text AS function, p.provolatile AS volatile, p.proisstrict AS strict,
       p.proparallel AS parallel, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'quarry';
SELECT md5(string_agg(format('%s %s %s %s %s', function, volatile, strict, parallel, public_may_execute), ';' ORDER BY function))
    = :'upgraded' AS same_functions
FROM quarry_functions;
SELECT count(*) = :upgraded_objects AS same_object_count FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = 'quarry' AND d.deptype = 'e';
\c :regress_db
DROP DATABASE quarry_upgrade_old;
DROP DATABASE quarry_upgrade_new;
