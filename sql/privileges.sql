-- Privileges: every quarry function, operator and maintenance call, run as
-- five roles, each cell its result or its ERROR, each cell a statement of its
-- own; what PostgreSQL itself requires is the reference (SELECT on the table
-- to read statistics, what REINDEX asks to maintain, amcheck's model for the
-- verifier). Then the escalation case (an index expression that makes its
-- owner superuser when a superuser evaluates it), row-level security for both
-- index types, views, roles changing under cached expressions, parallel
-- plans, and a malicious search_path.
SET client_min_messages = warning;
CREATE ROLE regress_quarry_owner;
CREATE ROLE regress_quarry_reader;        -- SELECT on the tables
CREATE ROLE regress_quarry_col_reader;    -- SELECT (id, body) only: not emb
CREATE ROLE regress_quarry_outsider;      -- USAGE on the schema, the views, nothing else
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
-- Views the owner grants to everyone: reading through them is reading with
-- the owner's rights, as for any PostgreSQL view.
CREATE VIEW priv.docs_view AS SELECT id, body, emb FROM priv.docs WHERE id <= 30;
GRANT SELECT ON priv.docs_view TO PUBLIC;
RESET ROLE;
-- A quarry_query value that carries the index, stored where everyone reads it.
CREATE TABLE stored_queries (q quarry_query);
INSERT INTO stored_queries VALUES (quarry_query('payroll', 'priv.docs_bm25'));
GRANT SELECT ON stored_queries TO PUBLIC;
-- A table everyone may write into (for a data-modifying CTE).
CREATE TABLE sink (body text);
GRANT SELECT, INSERT ON sink TO PUBLIC;

-- An ERROR's text, one wording on every version: PostgreSQL 17 and later say
-- "permission denied for index i" where 15 and 16 say "must be owner of
-- index i" (the MAINTAIN privilege), for REINDEX as for quarry_bm25_merge.
CREATE FUNCTION error_text(msg text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT 'ERROR: ' || regexp_replace(msg, '^must be owner of ', 'permission denied for ') $$;
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
    RETURN error_text(SQLERRM);
END $$;
-- REINDEX is a utility statement: a function runs it for try_as.
CREATE FUNCTION reindex_as_caller(idx text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('REINDEX INDEX %s', idx);
    RETURN 'done';
END $$;

CREATE TABLE calls (n serial, what text, stmt text);
INSERT INTO calls (what, stmt) VALUES
    ('score of a constant, common word',
     $$SELECT round((('salary' <@> quarry_query('salary', 'priv.docs_bm25')))::numeric, 4)$$),
    ('score of a constant, absent word',
     $$SELECT round((('payroll' <@> quarry_query('payroll', 'priv.docs_bm25')))::numeric, 4)$$),
    ('match of a constant',
     $$SELECT 'salary' @@@ quarry_query('salary', 'priv.docs_bm25')$$),
    ('parsed query score of a constant',
     $$SELECT round((('salary' <@> quarry_query_parse('+salary', 'priv.docs_bm25')))::numeric, 4)$$),
    ('parsed query match of a constant',
     $$SELECT 'salary' @@@ quarry_query_parse('+salary -board', 'priv.docs_bm25')$$),
    ('stored quarry_query value',
     $$SELECT round(('payroll' <@> q)::numeric, 4) FROM stored_queries$$),
    ('quarry_query_resolve called directly',
     $$SELECT round(('payroll' <@> quarry_query_resolve('payroll', 'priv.docs_bm25'::regclass::oid))::numeric, 4)$$),
    ('quarry_query_resolve with a query value',
     $$SELECT round(('payroll' <@> quarry_query_resolve('payroll'::quarry_query, quarry_query('x', 'priv.docs_bm25')))::numeric, 4)$$),
    ('constructors and accessors (no statistics)',
     $$SELECT quarry_query_index(quarry_query('x', 'priv.docs_bm25'))::text || ' ' ||
              quarry_query_text(quarry_query_parse('+x', 'priv.docs_bm25')) || ' ' ||
              quarry_query_is_parsed(quarry_query_parse('+x')) || ' ' || quarry_query('x')::text$$),
    ('ORDER BY <@> LIMIT 3',
     $$SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs ORDER BY body <@> 'board' LIMIT 3) s$$),
    ('score in the SELECT list of a ranked scan',
     $$SELECT round(min(s)::numeric, 4) FROM (SELECT body <@> 'board' AS s FROM priv.docs ORDER BY body <@> 'board' LIMIT 3) s$$),
    ('score of the table''s rows, no index scan',
     $$SELECT round(min(s)::numeric, 4) FROM (SELECT body <@> 'board' AS s FROM priv.docs ORDER BY id LIMIT 20) s$$),
    ('WHERE @@@ (bitmap scan)',
     $$SELECT count(*) FROM priv.docs WHERE body @@@ 'board'$$),
    ('ranked through the view',
     $$SELECT array_agg(round(-s::numeric, 4))::text FROM (SELECT body <@> 'board' AS s FROM priv.docs_view ORDER BY body <@> 'board' LIMIT 2) s$$),
    ('scores through the view, no index scan',
     $$SELECT round(min(s)::numeric, 4) FROM (SELECT body <@> 'board' AS s FROM priv.docs_view ORDER BY id LIMIT 20) s$$),
    ('a constant in a UNION with the view''s column, index named',
     $$SELECT round(min(b <@> quarry_query('payroll', 'priv.docs_bm25'))::numeric, 4)
       FROM (SELECT body AS b FROM priv.docs_view WHERE false UNION ALL SELECT 'payroll') s$$),
    ('a constant in a UNION with the view''s column, index not named',
     $$SELECT round(min(b <@> 'payroll')::numeric, 4)
       FROM (SELECT body AS b FROM priv.docs_view WHERE false UNION ALL SELECT 'payroll') s$$),
    ('a constant RETURNING from a data-modifying CTE over the view',
     $$WITH c AS (INSERT INTO sink SELECT body FROM priv.docs_view WHERE id = 1 RETURNING 'payroll'::text AS x)
       SELECT round((x <@> quarry_query('payroll', 'priv.docs_bm25'))::numeric, 4) FROM c$$),
    ('quarry_bm25_scored called directly',
     $$SELECT round(quarry_bm25_scored('(0,10)', 'board minutes', quarry_query('board', 'priv.docs_bm25'))::numeric, 4)$$),
    ('a constant next to a view scan of it',
     $$SELECT (SELECT count(*) FROM (SELECT id FROM priv.docs_view ORDER BY body <@> 'payroll' LIMIT 1) s) || ' ' ||
              round(('payroll' <@> quarry_query('payroll', 'priv.docs_bm25'))::numeric, 4)$$),
    ('ORDER BY <-> LIMIT 3',
     $$SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs ORDER BY emb <-> '{0,0,0}' LIMIT 3) s$$),
    ('ORDER BY <-> through the view',
     $$SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs_view ORDER BY emb <-> '{0,0,0}' LIMIT 3) s$$),
    ('distances of constants (<->, <#>, <=>)',
     $$SELECT ('{1,2}'::real[] <-> '{4,6}'::real[]) || ' ' || ('{1,2}'::real[] <#> '{4,6}'::real[]) || ' ' ||
              round(('{1,0}'::real[] <=> '{0,1}'::real[])::numeric, 4) || ' ' ||
              quarry_negative_inner_product('{1}', '{2}') || ' ' || quarry_cosine_distance('{1}', '{2}') || ' ' ||
              quarry_l2_distance('{1}', '{3}')$$),
    ('quarry_snippet, quarry_highlights of a constant (no statistics)',
     $$SELECT quarry_snippet('the salary board', quarry_query('board', 'priv.docs_bm25')) || ' ' ||
              (SELECT string_agg(start_offset || '-' || end_offset, ',') FROM quarry_highlights('board salary', quarry_query('salary', 'priv.docs_bm25')))$$),
    ('prefix and fuzzy terms: ranked rows, then a snippet of a constant (its terms come from the index)',
     $$SELECT (SELECT array_agg(id)::text FROM (SELECT id FROM priv.docs ORDER BY body <@> quarry_query_parse('sal* minutez~1', 'priv.docs_bm25') LIMIT 3) s) || ' ' ||
              quarry_snippet('the salary board', quarry_query_parse('sal*', 'priv.docs_bm25'))$$),
    ('quarry_hnsw_scored called directly (computes from the vectors given)',
     $$SELECT round(quarry_hnsw_scored('(0,1)', '{1,2,3}', '{0,0,0}', 'priv.docs_hnsw', 1)::numeric, 4)$$),
    ('quarry_bm25_stats',
     $$SELECT doc_count FROM quarry_bm25_stats('priv.docs_bm25')$$),
    ('quarry_bm25_fields',
     $$SELECT string_agg(name || ' ' || total_length, ',') FROM quarry_bm25_fields('priv.docs_bm25')$$),
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
    ('quarry_memory_stats, quarry_memory_stats_reset',
     $$SELECT build_arenas_live || ' ' || (SELECT quarry_memory_stats_reset()::text IS NULL) FROM quarry_memory_stats()$$);
CREATE TABLE roles (k int, role name, label text);
INSERT INTO roles VALUES (1, 'regress_quarry_owner', 'owner'), (2, 'regress_quarry_reader', 'reader'),
    (3, 'regress_quarry_col_reader', 'col_reader'), (4, 'regress_quarry_outsider', 'outsider'),
    (5, 'regress_quarry_super', 'superuser');
CREATE TABLE cells (n int, k int, result text);

-- Every cell is a top-level statement of its own (nothing one cell does can
-- reach another through the statement). Index scans are preferred, so the
-- ranked cells rank through the indexes; the unranked ones cannot.
SET enable_seqscan = off;
SET enable_indexscan = on;
\set ECHO none
SELECT format('INSERT INTO cells SELECT %s, %s, try_as(%L, %L)', n, k, role, stmt)
FROM calls, roles ORDER BY n, k \gexec
\set ECHO all
RESET enable_seqscan;
RESET enable_indexscan;

CREATE VIEW matrix AS
SELECT c.n, c.what,
       max(result) FILTER (WHERE k = 1) AS owner, max(result) FILTER (WHERE k = 2) AS reader,
       max(result) FILTER (WHERE k = 3) AS col_reader, max(result) FILTER (WHERE k = 4) AS outsider,
       max(result) FILTER (WHERE k = 5) AS superuser
FROM calls c JOIN cells USING (n) GROUP BY c.n, c.what;
\x on
SELECT * FROM matrix ORDER BY n;
\x off
SELECT count(*) AS cells, count(*) FILTER (WHERE result LIKE 'ERROR%') AS errors FROM cells;

-- The verifier, granted as README "Security" says: the grantee runs it, on
-- any index (as amcheck's grantees do).
GRANT EXECUTE ON FUNCTION quarry_verify_index(regclass) TO regress_quarry_reader;
SELECT try_as('regress_quarry_reader', stmt) AS reader, try_as('regress_quarry_outsider', stmt) AS outsider
FROM calls WHERE what LIKE 'quarry_verify_index%' ORDER BY n;
REVOKE EXECUTE ON FUNCTION quarry_verify_index(regclass) FROM regress_quarry_reader;

-- === The same query, scored as another user ====================================
-- A SECURITY DEFINER function of the owner ranks with the index; in the same
-- statement the outsider's constant is still its own read of the statistics.
CREATE FUNCTION priv.top_board() RETURNS int LANGUAGE sql SECURITY DEFINER AS
$$ SELECT id FROM priv.docs ORDER BY body <@> 'payroll' LIMIT 1 $$;
ALTER FUNCTION priv.top_board() OWNER TO regress_quarry_owner;
GRANT EXECUTE ON FUNCTION priv.top_board() TO regress_quarry_outsider;
SELECT try_as('regress_quarry_outsider',
    $$SELECT priv.top_board() || ' ' || round(('payroll' <@> quarry_query('payroll', 'priv.docs_bm25'))::numeric, 4)$$);
-- The score a scan just ranked a row with is not another user's to take:
-- quarry_bm25_scored (what the planner puts in a ranked scan's projection)
-- asks what <@> asks, whether or not the scan has the value. The owner's
-- cursor has returned row (0,10); the owner's call takes the scan's score
-- (the text 'x' would score 0), the outsider's is refused.
BEGIN;
SET LOCAL enable_seqscan = off;
SET LOCAL ROLE regress_quarry_owner;
DECLARE ranked CURSOR FOR SELECT id FROM priv.docs ORDER BY body <@> quarry_query('board', 'priv.docs_bm25');
FETCH 1 FROM ranked;
SELECT round(quarry_bm25_scored('(0,10)', 'x', quarry_query('board', 'priv.docs_bm25'))::numeric, 4) AS owner_takes;
SET LOCAL ROLE regress_quarry_outsider;
SELECT round(quarry_bm25_scored('(0,10)', 'x', quarry_query('board', 'priv.docs_bm25'))::numeric, 4) AS outsider_takes;
ROLLBACK;
-- One cached expression, two users: plpgsql keeps the expression (and its
-- prepared query) across the role change; the second call is checked again.
CREATE FUNCTION probe_as(r name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s float8;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    s := 'payroll' <@> quarry_query('payroll', 'priv.docs_bm25');
    RESET ROLE;
    RETURN round(s::numeric, 4)::text;
EXCEPTION WHEN others THEN
    RETURN error_text(SQLERRM);
END $$;
CREATE FUNCTION probe_twice() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN probe_as('regress_quarry_reader') || ' / ' || probe_as('regress_quarry_outsider');
END $$;
SELECT probe_twice();
-- The same for highlighting with a prefix, whose terms come from the index:
-- the cached highlighter is checked again for the second user.
CREATE FUNCTION snippet_as(r name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    s := quarry_snippet('salary sales salad', quarry_query_parse('sal*', 'priv.docs_bm25'));
    RESET ROLE;
    RETURN s;
EXCEPTION WHEN others THEN
    RETURN error_text(SQLERRM);
END $$;
CREATE FUNCTION snippet_twice() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN snippet_as('regress_quarry_reader') || ' / ' || snippet_as('regress_quarry_outsider');
END $$;
SELECT snippet_twice();
-- Two statements in one message: a view scan of 'payroll', then a constant.
SET ROLE regress_quarry_outsider;
SELECT id FROM priv.docs_view ORDER BY body <@> 'payroll' LIMIT 1 \; SELECT 'payroll' <@> quarry_query('payroll', 'priv.docs_bm25');
RESET ROLE;

-- === Parallel plans ============================================================
-- <@> and @@@ are PARALLEL RESTRICTED: they run in the leader, which knows
-- the statement's scans; the answers equal the serial plan's.
CREATE TABLE par_docs AS SELECT g AS id, 'salary of employee ' || g || CASE WHEN g % 9 = 0 THEN ' board' ELSE '' END AS body
FROM generate_series(1, 20000) g;
CREATE INDEX par_bm25 ON par_docs USING quarry_bm25 (body);
ANALYZE par_docs;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_docs WHERE body <@> 'board' < 0;
SELECT count(*) AS matching, round(sum(body <@> 'board')::numeric, 4) AS score_sum FROM par_docs WHERE body <@> 'board' < 0;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT count(*) AS matching, round(sum(body <@> 'board')::numeric, 4) AS score_sum FROM par_docs WHERE body <@> 'board' < 0;
DROP TABLE par_docs;

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
SELECT quarry_bm25_merge('priv.trap_bm25') AS segments;
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
-- Statistics on their own are not the reader's to read (as pg_stats hides
-- them): a constant, and the statistics functions.
SELECT 'merger' <@> quarry_query('merger', 'priv.tenant_bm25');
SELECT doc_count FROM quarry_bm25_stats('priv.tenant_bm25');
SELECT name FROM quarry_bm25_fields('priv.tenant_bm25');
-- Prefix and fuzzy terms would name terms of hidden rows (an expansion lists
-- what the whole index holds): refused under row-level security, ranked or
-- highlighted; whole words still rank.
SELECT id FROM priv.tenant_docs ORDER BY body <@> quarry_query_parse('budg*', 'priv.tenant_bm25') LIMIT 1;
SELECT quarry_snippet('budget', quarry_query_parse('budget~1', 'priv.tenant_bm25'));
SELECT count(*) FROM priv.tenant_docs WHERE body @@@ quarry_query_parse('+budget', 'priv.tenant_bm25');
SELECT live FROM quarry_hnsw_index_info('priv.tenant_hnsw');
-- quarry_hnsw: k nearest among the reader's rows, equal to the exact order.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM priv.tenant_docs ORDER BY emb <-> '{3,4,5}' LIMIT 12;
CREATE TEMP TABLE rls_hnsw AS
SELECT id, tenant FROM priv.tenant_docs ORDER BY emb <-> '{3,4,5}' LIMIT 12;
SELECT count(*) AS rows, bool_and(tenant = 'regress_quarry_reader') AS all_own FROM rls_hnsw;
SELECT count(*) AS in_exact_top12
FROM rls_hnsw WHERE id IN (SELECT id FROM priv.tenant_docs ORDER BY quarry_l2_distance(emb, '{3,4,5}'), id LIMIT 12);
-- A scan budget far below what the policy needs (the reader's rows are a
-- tenth of the table): under row-level security the scan goes on anyway, so
-- all 40 of the reader's rows come back for LIMIT 40.
SET quarry.hnsw_max_scan_tuples = 20;
SELECT count(*) AS rows, bool_and(tenant = 'regress_quarry_reader') AS all_own
FROM (SELECT id, tenant FROM priv.tenant_docs ORDER BY emb <-> '{3,4,5}' LIMIT 40) s;
RESET quarry.hnsw_max_scan_tuples;
RESET enable_seqscan;
DROP TABLE rls_bm25, rls_bm25_ref, rls_hnsw;
RESET ROLE;

-- === A malicious search_path ==================================================
-- Objects planted in a schema first on the path, with quarry's own
-- signatures, do not capture quarry's internal calls: the planner's resolve
-- function is looked up in quarry's schema.
CREATE SCHEMA trap_path;
CREATE FUNCTION trap_path.quarry_query_resolve(quarry_query, quarry_query) RETURNS quarry_query
    LANGUAGE sql AS $$ SELECT 'hijacked'::quarry_query $$;
CREATE FUNCTION trap_path.quarry_query_resolve(quarry_query, oid) RETURNS quarry_query
    LANGUAGE sql AS $$ SELECT 'hijacked'::quarry_query $$;
SET search_path = trap_path, public;
SET enable_seqscan = off;
-- A parameter: the planner names the index through quarry_query_resolve.
PREPARE ranked(quarry_query) AS
    SELECT id, round((body <@> $1)::numeric, 4) AS score FROM priv.docs ORDER BY body <@> $1 LIMIT 3;
EXECUTE ranked('board');
DEALLOCATE ranked;
RESET enable_seqscan;
RESET search_path;

-- === PostgreSQL 17's MAINTAIN privilege ========================================
-- A member of pg_maintain (17 and later) may merge, as it may REINDEX; before
-- 17 the same role may do neither. The same output on every version.
CREATE ROLE regress_quarry_maintainer;
GRANT USAGE ON SCHEMA priv TO regress_quarry_maintainer;
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'GRANT pg_maintain TO regress_quarry_maintainer';
    END IF;
END $$;
SELECT (m NOT LIKE 'ERROR%') = (current_setting('server_version_num')::int >= 170000) AS merge_as_version_says,
       (m NOT LIKE 'ERROR%') = (r NOT LIKE 'ERROR%') AS merge_as_reindex
FROM (SELECT try_as('regress_quarry_maintainer', $$SELECT quarry_bm25_merge('priv.docs_bm25')$$) AS m,
             try_as('regress_quarry_maintainer', $$SELECT reindex_as_caller('priv.docs_bm25')$$) AS r) x;

-- A constant inserted through a view and scored in RETURNING is a row being
-- written, not one the view lets its users read: it is not resolved from the
-- column (the index must be named), and a named index asks for the table.
-- A filter through the view in UPDATE's WHERE reads rows as usual.
SET ROLE regress_quarry_owner;
CREATE VIEW priv.docs_write_view AS SELECT id, body FROM priv.docs WHERE id <= 30;
GRANT SELECT, INSERT, UPDATE ON priv.docs_write_view TO regress_quarry_outsider;
RESET ROLE;
SELECT try_as('regress_quarry_outsider', $$INSERT INTO priv.docs_write_view VALUES (1001, 'payroll')
    RETURNING round((body <@> quarry_query('payroll', 'priv.docs_bm25'))::numeric, 4)$$) AS insert_named;
SELECT try_as('regress_quarry_outsider', $$INSERT INTO priv.docs_write_view VALUES (1002, 'payroll')
    RETURNING round((body <@> 'payroll')::numeric, 4)$$) AS insert_unnamed;
SELECT try_as('regress_quarry_outsider', $$WITH u AS (UPDATE priv.docs_write_view SET body = body
    WHERE body @@@ 'board' RETURNING id) SELECT count(*) FROM u$$) AS update_where;
SELECT count(*) AS rows_added FROM priv.docs WHERE id > 1000;

-- A role without USAGE on quarry's schema (public here) runs its statements:
-- the planner hooks look quarry's operators and functions up for every
-- statement without a permission check on the schema (quarry's library is
-- loaded in this backend).
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
SET ROLE regress_quarry_reader;
SELECT 1 AS one;
SELECT count(*) AS rows FROM priv.docs;
RESET ROLE;
GRANT USAGE ON SCHEMA public TO PUBLIC;

DROP SCHEMA trap_path CASCADE;
DROP SCHEMA priv CASCADE;
DROP TABLE stored_queries, sink, calls, roles, cells CASCADE;
DROP FUNCTION try_as(name, text);
DROP FUNCTION error_text(text);
DROP FUNCTION reindex_as_caller(text);
DROP FUNCTION probe_as(name);
DROP FUNCTION probe_twice();
DROP FUNCTION snippet_twice();
DROP FUNCTION snippet_as(name);
DROP ROLE regress_quarry_owner, regress_quarry_reader, regress_quarry_col_reader, regress_quarry_outsider,
    regress_quarry_super, regress_quarry_maintainer;
