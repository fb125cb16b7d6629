-- Privileges: every quarry function, operator and maintenance call, run as
-- five roles, each cell its result or its ERROR; what PostgreSQL itself
-- requires is the reference (SELECT on the table to read statistics, what
-- REINDEX asks to maintain, amcheck's model for the verifier). Then the
-- escalation case (an index expression that makes its owner superuser when a
-- superuser evaluates it), row-level security for both index types, and a
-- malicious search_path.
SET client_min_messages = warning;
CREATE ROLE regress_quarry_owner;
CREATE ROLE regress_quarry_reader;        -- SELECT on the tables
CREATE ROLE regress_quarry_col_reader;    -- SELECT (id, body) only: not emb
CREATE ROLE regress_quarry_outsider;      -- USAGE on the schema, nothing else
CREATE ROLE regress_quarry_super SUPERUSER;
RESET client_min_messages;
CREATE SCHEMA priv AUTHORIZATION regress_quarry_owner;
GRANT USAGE ON SCHEMA priv TO regress_quarry_reader, regress_quarry_col_reader, regress_quarry_outsider;

SET ROLE regress_quarry_owner;
CREATE TABLE priv.docs (id int PRIMARY KEY, body text, emb real[]);
-- 'salary' is in almost every row, 'payroll' in none: the IDF tells them apart.
INSERT INTO priv.docs
SELECT g, CASE WHEN g % 10 = 0 THEN 'board minutes ' || g ELSE 'salary of employee ' || g END,
       ARRAY[g % 7, g % 11, g % 13]::real[]
FROM generate_series(1, 60) g;
CREATE INDEX docs_bm25 ON priv.docs USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX docs_hnsw ON priv.docs USING quarry_hnsw (emb quarry_l2_ops);
GRANT SELECT ON priv.docs TO regress_quarry_reader;
GRANT SELECT (id, body) ON priv.docs TO regress_quarry_col_reader;
-- A view the owner grants to everyone: reading through it is reading with the
-- owner's rights, as for any PostgreSQL view.
CREATE VIEW priv.docs_view AS SELECT id, body FROM priv.docs WHERE id <= 30;
GRANT SELECT ON priv.docs_view TO PUBLIC;
RESET ROLE;
-- A quarry_query value that carries the index, stored where everyone reads it.
CREATE TABLE stored_queries (q quarry_query);
INSERT INTO stored_queries VALUES (quarry_query('payroll', 'priv.docs_bm25'));
GRANT SELECT ON stored_queries TO PUBLIC;

-- try_as(role, statement): the statement's one-value result, or its ERROR.
CREATE FUNCTION try_as(role name, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', role);
    EXECUTE stmt INTO result;
    RESET ROLE;
    RETURN coalesce(result, 'NULL');
EXCEPTION WHEN others THEN
    RETURN 'ERROR: ' || SQLERRM;
END $$;

CREATE TABLE calls (n serial, what text, stmt text);
INSERT INTO calls (what, stmt) VALUES
    ('score of a constant, common word',
     $$SELECT round((('salary' <@> quarry_query('salary', 'priv.docs_bm25')))::numeric, 4)$$),
    ('score of a constant, absent word',
     $$SELECT round((('payroll' <@> quarry_query('payroll', 'priv.docs_bm25')))::numeric, 4)$$),
    ('match of a constant',
     $$SELECT 'salary' @@@ quarry_query('salary', 'priv.docs_bm25')$$),
    ('parsed query score',
     $$SELECT round((('salary' <@> quarry_query_parse('+salary', 'priv.docs_bm25')))::numeric, 4)$$),
    ('parsed query match',
     $$SELECT 'salary' @@@ quarry_query_parse('+salary -board', 'priv.docs_bm25')$$),
    ('stored quarry_query value',
     $$SELECT round(('payroll' <@> q)::numeric, 4) FROM stored_queries$$),
    ('quarry_query(text, index) itself',
     $$SELECT quarry_query_index(quarry_query('x', 'priv.docs_bm25'))::text$$),
    ('ORDER BY <@> LIMIT 3',
     $$SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs ORDER BY body <@> 'board' LIMIT 3) s$$),
    ('score in SELECT list of a scan',
     $$SELECT round(min(s)::numeric, 4) FROM (SELECT body <@> 'board' AS s FROM priv.docs ORDER BY body <@> 'board' LIMIT 3) s$$),
    ('WHERE @@@',
     $$SELECT count(*) FROM priv.docs WHERE body @@@ 'board'$$),
    ('ORDER BY <@> through the view',
     $$SELECT array_agg(round(-s::numeric, 4))::text FROM (SELECT body <@> 'board' AS s FROM priv.docs_view ORDER BY body <@> 'board' LIMIT 2) s$$),
    ('ORDER BY <-> LIMIT 3',
     $$SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs ORDER BY emb <-> '{0,0,0}' LIMIT 3) s$$),
    ('distance of constants',
     $$SELECT '{1,2}'::real[] <-> '{4,6}'::real[]$$),
    ('quarry_bm25_stats',
     $$SELECT doc_count FROM quarry_bm25_stats('priv.docs_bm25')$$),
    ('quarry_hnsw_index_info',
     $$SELECT live FROM quarry_hnsw_index_info('priv.docs_hnsw')$$),
    ('quarry_bm25_merge',
     $$SELECT quarry_bm25_merge('priv.docs_bm25')$$),
    ('REINDEX INDEX (PostgreSQL, the reference)',
     $$SELECT reindex_as_caller('priv.docs_bm25')$$),
    ('quarry_verify_index, bm25',
     $$SELECT count(*) FROM quarry_verify_index('priv.docs_bm25')$$),
    ('quarry_verify_index, hnsw',
     $$SELECT count(*) FROM quarry_verify_index('priv.docs_hnsw')$$),
    ('quarry_memory_stats',
     $$SELECT build_arenas_live FROM quarry_memory_stats()$$);
-- REINDEX is a utility statement: a function runs it for try_as.
CREATE FUNCTION reindex_as_caller(idx text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('REINDEX INDEX %s', idx);
    RETURN 'done';
END $$;

SET enable_seqscan = off;
CREATE VIEW matrix AS
SELECT n, what,
       try_as('regress_quarry_owner', stmt) AS owner,
       try_as('regress_quarry_reader', stmt) AS reader,
       try_as('regress_quarry_col_reader', stmt) AS col_reader,
       try_as('regress_quarry_outsider', stmt) AS outsider,
       try_as('regress_quarry_super', stmt) AS superuser
FROM calls;
\x on
SELECT * FROM matrix ORDER BY n;
\x off
SELECT count(*) * 5 AS cells,
       sum((owner LIKE 'ERROR%')::int + (reader LIKE 'ERROR%')::int + (col_reader LIKE 'ERROR%')::int +
           (outsider LIKE 'ERROR%')::int + (superuser LIKE 'ERROR%')::int) AS errors
FROM matrix;

-- The verifier, granted as README "Security" says: the grantee runs it, on
-- any index (as amcheck's grantees do).
GRANT EXECUTE ON FUNCTION quarry_verify_index(regclass) TO regress_quarry_reader;
SELECT try_as('regress_quarry_reader', stmt) AS reader, try_as('regress_quarry_outsider', stmt) AS outsider
FROM calls WHERE what LIKE 'quarry_verify_index%' ORDER BY n;
REVOKE EXECUTE ON FUNCTION quarry_verify_index(regclass) FROM regress_quarry_reader;
RESET enable_seqscan;

-- === Escalation: an index expression that tries to make its owner superuser ===
-- docs_owner's IMMUTABLE index expression calls a VOLATILE function the same
-- role wrote; when anybody else evaluates it, it runs ALTER ROLE ... SUPERUSER.
-- A superuser verifies the indexes: the expression must run as the owner.
SET ROLE regress_quarry_owner;
CREATE TABLE priv.seen (who name, what text);
CREATE FUNCTION priv.escalate(t text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO priv.seen VALUES (current_user, 'text');
    IF current_user <> 'regress_quarry_owner' THEN
        EXECUTE 'ALTER ROLE regress_quarry_owner SUPERUSER';
    END IF;
    RETURN t;
END $$;
CREATE FUNCTION priv.innocent(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT priv.escalate(t) $$;
CREATE FUNCTION priv.escalate_vec(v real[]) RETURNS real[] LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO priv.seen VALUES (current_user, 'vector');
    IF current_user <> 'regress_quarry_owner' THEN
        EXECUTE 'ALTER ROLE regress_quarry_owner SUPERUSER';
    END IF;
    RETURN v;
END $$;
CREATE FUNCTION priv.innocent_vec(v real[]) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$ SELECT priv.escalate_vec(v) $$;
CREATE TABLE priv.trap (id int, body text, emb real[]);
INSERT INTO priv.trap SELECT g, 'row ' || g, ARRAY[g, 1]::real[] FROM generate_series(1, 5) g;
CREATE INDEX trap_bm25 ON priv.trap USING quarry_bm25 (priv.innocent(body)) WHERE priv.innocent(body) IS NOT NULL;
CREATE INDEX trap_hnsw ON priv.trap USING quarry_hnsw (priv.innocent_vec(emb) quarry_l2_ops);
RESET ROLE;
TRUNCATE priv.seen;
SELECT count(*) AS problems FROM quarry_verify_index('priv.trap_bm25');
SELECT count(*) AS problems FROM quarry_verify_index('priv.trap_hnsw');
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'regress_quarry_owner';
SELECT who, what, count(*) FROM priv.seen GROUP BY who, what ORDER BY who, what;

-- === Row-level security ========================================================
-- 400 rows over 10 tenants; the reader sees its tenant's 40. An ordered scan
-- returns exactly the rows the policy lets through, k of them when k exist,
-- in the order of the unindexed plan; the statistics count every row.
SET ROLE regress_quarry_owner;
CREATE TABLE priv.tenant_docs (id int PRIMARY KEY, tenant name, body text, emb real[]);
INSERT INTO priv.tenant_docs
SELECT g, CASE WHEN g % 10 = 3 THEN 'regress_quarry_reader' ELSE 'tenant_' || g % 10 END,
       'note ' || CASE WHEN g % 8 = 3 THEN 'budget review ' ELSE 'travel ' END || repeat('filler ', g % 6) || g,
       ARRAY[g % 17, g % 19, (g * 7) % 23]::real[]
FROM generate_series(1, 400) g;
CREATE INDEX tenant_bm25 ON priv.tenant_docs USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX tenant_hnsw ON priv.tenant_docs USING quarry_hnsw (emb quarry_l2_ops);
ALTER TABLE priv.tenant_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON priv.tenant_docs FOR SELECT USING (tenant = current_user);
GRANT SELECT ON priv.tenant_docs TO regress_quarry_reader;
-- The owner's view of the scores (no policy applies to the owner).
CREATE TABLE priv.owner_scores AS SELECT id, body <@> 'budget' AS score FROM priv.tenant_docs;
GRANT SELECT ON priv.owner_scores TO regress_quarry_reader;
RESET ROLE;

SET ROLE regress_quarry_reader;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM priv.tenant_docs ORDER BY body <@> 'budget' LIMIT 15;
CREATE TEMP TABLE rls_bm25 AS
SELECT row_number() OVER () AS rank, id, tenant, body <@> 'budget' AS score
FROM (SELECT id, tenant, body FROM priv.tenant_docs ORDER BY body <@> 'budget' LIMIT 15) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE rls_bm25_ref AS
SELECT row_number() OVER () AS rank, id, score
FROM (SELECT id, body <@> 'budget' AS score FROM priv.tenant_docs ORDER BY body <@> 'budget', id LIMIT 15) s;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- 15 rows, all the reader's, 10 of them matching (the reader has 10 'budget'
-- rows), then non-matching ones at score 0; the same scores as the reference.
SELECT count(*) AS rows, bool_and(tenant = 'regress_quarry_reader') AS all_own,
       count(*) FILTER (WHERE score < 0) AS matching
FROM rls_bm25;
SELECT count(*) AS same_score_at_rank
FROM rls_bm25 i JOIN rls_bm25_ref r USING (rank) WHERE i.score = r.score;
SELECT (SELECT array_agg(id ORDER BY id) FROM rls_bm25 WHERE score < 0)
     = (SELECT array_agg(id ORDER BY id) FROM rls_bm25_ref WHERE score < 0) AS same_matching_rows;
-- Statistics are the whole index's: the reader's scores equal the owner's.
SELECT count(*) AS scores_equal_to_owners FROM rls_bm25 i JOIN priv.owner_scores o USING (id) WHERE i.score = o.score;
SELECT count(*) AS matching_rows_seen FROM priv.tenant_docs WHERE body @@@ 'budget';
-- quarry_hnsw: k nearest among the reader's rows, equal to the exact order.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM priv.tenant_docs ORDER BY emb <-> '{3,4,5}' LIMIT 12;
CREATE TEMP TABLE rls_hnsw AS
SELECT id, tenant FROM priv.tenant_docs ORDER BY emb <-> '{3,4,5}' LIMIT 12;
RESET enable_seqscan;
SELECT count(*) AS rows, bool_and(tenant = 'regress_quarry_reader') AS all_own FROM rls_hnsw;
SELECT count(*) AS in_exact_top12
FROM rls_hnsw WHERE id IN (SELECT id FROM priv.tenant_docs ORDER BY quarry_l2_distance(emb, '{3,4,5}'), id LIMIT 12);
DROP TABLE rls_bm25, rls_bm25_ref, rls_hnsw;
RESET ROLE;

-- === A malicious search_path ==================================================
-- Objects planted in a schema first on the path do not capture quarry's calls.
CREATE SCHEMA trap_path;
CREATE FUNCTION trap_path.quarry_query_resolve(quarry_query, oid) RETURNS quarry_query
    LANGUAGE sql AS $$ SELECT 'hijacked'::quarry_query $$;
CREATE FUNCTION trap_path.text_score(text, text) RETURNS double precision
    LANGUAGE sql AS $$ SELECT 42::double precision $$;
CREATE OPERATOR trap_path.<@> (LEFTARG = text, RIGHTARG = text, FUNCTION = trap_path.text_score);
SET search_path = trap_path, public;
SET enable_seqscan = off;
-- A parameter: the planner names the index through quarry_query_resolve.
PREPARE ranked(quarry_query) AS
    SELECT id, round((body <@> $1)::numeric, 4) AS score FROM priv.docs ORDER BY body <@> $1 LIMIT 3;
EXECUTE ranked('board');
DEALLOCATE ranked;
RESET enable_seqscan;
RESET search_path;

DROP SCHEMA trap_path CASCADE;
DROP SCHEMA priv CASCADE;
DROP TABLE stored_queries, calls CASCADE;
DROP FUNCTION try_as(name, text);
DROP FUNCTION reindex_as_caller(text);
DROP ROLE regress_quarry_owner, regress_quarry_reader, regress_quarry_col_reader, regress_quarry_outsider,
    regress_quarry_super;
