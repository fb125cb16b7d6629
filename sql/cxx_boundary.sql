-- The C/C++ error boundary (src/pg/guard.h): a C++ exception thrown inside an
-- entry point becomes a clean ERROR after every destructor on the way ran, a
-- PostgreSQL ERROR raised under C++ frames keeps its SQLSTATE, and the session
-- goes on working afterwards.
CREATE FUNCTION quarry_selftest_raise(text) RETURNS int
    AS 'quarry' LANGUAGE C STRICT;
CREATE FUNCTION quarry_selftest_destructors() RETURNS int
    AS 'quarry' LANGUAGE C STRICT;

SELECT quarry_selftest_destructors() AS destructors_before;

-- Each call below runs four frames deep with a live object per frame.
SELECT quarry_selftest_raise('runtime_error');
SELECT quarry_selftest_destructors() AS destructors_after_runtime_error;

SELECT quarry_selftest_raise('bad_alloc');
SELECT quarry_selftest_raise('quarry_error');
SELECT quarry_selftest_raise('unknown');
SELECT quarry_selftest_destructors() AS destructors_after_four_errors;

-- A PostgreSQL error under C++ frames: caught by PgCall, re-thrown with its
-- SQLSTATE (22P02) once the C++ frames are gone.
\set VERBOSITY sqlstate
SELECT quarry_selftest_raise('pg_error');
\set VERBOSITY default
SELECT quarry_selftest_destructors() AS destructors_after_pg_error;

-- Inside a transaction: the error aborts it, the rollback works, and so does
-- the next statement.
BEGIN;
SELECT quarry_selftest_raise('runtime_error');
SELECT 1;
ROLLBACK;

-- In a savepoint, the error is caught and the transaction continues.
BEGIN;
SAVEPOINT s;
SELECT quarry_selftest_raise('pg_error');
ROLLBACK TO SAVEPOINT s;
SELECT quarry_selftest_raise('none') AS destructors_seen_in_transaction;
COMMIT;

-- The session still works.
SELECT quarry_selftest_raise('none') > 0 AS session_alive;

DROP FUNCTION quarry_selftest_raise(text);
DROP FUNCTION quarry_selftest_destructors();
