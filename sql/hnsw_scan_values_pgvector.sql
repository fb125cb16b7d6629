-- Distances from the scan on pgvector's types: on a vector or halfvec column
-- (quarry_pgvector's opclasses) the projection takes each returned row's
-- distance from the scan (quarry_hnsw_scored), which computes it with
-- pgvector's own operator function: for <->, <#> and <+> with storage 'full'
-- on the row's vector as the index holds it, instead of detoasting the row's
-- vector; with storage 'sq8' / 'sq4' (every operator) on the row's vector
-- the rerank read from the table anyway. The reference is pgvector's
-- operator on a sequential scan: equal to the last bit. quarry's own kernels
-- are not (checked first), so a scan that gave its own distance would fail
-- here. Needs pgvector.
CREATE EXTENSION vector;
CREATE EXTENSION quarry_pgvector;
SET client_min_messages = warning;

-- 1,500 random 256-dimensional vectors (as vector and as halfvec), a few
-- NULL, and 4 queries.
SELECT setseed(0.75);
CREATE TABLE spv (id int PRIMARY KEY, v vector(256), h halfvec(256), grp int);
INSERT INTO spv
SELECT i, a::vector, a::halfvec, i % 4
FROM (SELECT i, array_agg(random() * 2 - 1 ORDER BY d) AS a
      FROM generate_series(1, 1500) i, generate_series(1, 256) d GROUP BY i) s;
INSERT INTO spv VALUES (1501, NULL, NULL, 0), (1502, NULL, NULL, 1);
CREATE TABLE spq (qid int PRIMARY KEY, v vector(256), h halfvec(256));
INSERT INTO spq
SELECT i, a::vector, a::halfvec
FROM (SELECT i, array_agg(random() * 2 - 1 ORDER BY d) AS a
      FROM generate_series(1, 4) i, generate_series(1, 256) d GROUP BY i) s;

-- quarry's kernels sum in another order than pgvector's: most distances
-- differ in the last bits (a scan that reported its own would fail below).
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE quarry_l2_distance(p.v::real[], q.v::real[]) <> (p.v <-> q.v)) > 100 AS l2_differs,
       count(*) FILTER (WHERE quarry_negative_inner_product(p.v::real[], q.v::real[]) <> (p.v <#> q.v)) > 100 AS ip_differs,
       count(*) FILTER (WHERE quarry_l1_distance(p.v::real[], q.v::real[]) <> (p.v <+> q.v)) > 100 AS l1_differs,
       count(*) FILTER (WHERE quarry_cosine_distance(p.v::real[], q.v::real[]) <> (p.v <=> q.v)) > 100 AS cosine_differs
FROM spv p, spq q WHERE p.v IS NOT NULL;

-- For one column, operator class and operator: builds the index and, for
-- every query, takes the distances of the scan's 300 nearest rows (in the
-- SELECT list, and in a filter) and compares them with pgvector's operator
-- on the same rows without the index.
--   rows:         rows the scan returned (300 per query)
--   equal:        rows whose distance is pgvector's, bit for bit
--   filtered_ok:  WHERE grp = 1 AND d < (the 300th distance), LIMIT 40: 40
--                 rows, each distance (SELECT list and filter) pgvector's
--   rewritten:    the plan calls quarry_hnsw_scored in place of the operator
--   from_scan:    for the row a cursor returned, quarry_hnsw_scored given
--                 another row's vector answers with the returned row's
--                 distance: the value comes from the scan (for every query)
CREATE FUNCTION spv_check(col text, opclass text, op text, metric int, options text DEFAULT '',
    OUT rows bigint, OUT equal bigint, OUT filtered_ok boolean, OUT rewritten boolean, OUT from_scan boolean)
LANGUAGE plpgsql AS $$
DECLARE
    q record;
    qtext text;
    query text;
    filtered text;
    farthest float8;
    n bigint;
    e bigint;
    ok boolean;
    plan text;
    c refcursor;
    tid tid;
    rid int;
BEGIN
    EXECUTE format('CREATE INDEX spv_idx ON spv USING quarry_hnsw (%I %s) %s', col, opclass, options);
    rows := 0;
    equal := 0;
    filtered_ok := true;
    rewritten := false;
    from_scan := true;
    FOR q IN SELECT * FROM spq ORDER BY qid LOOP
        qtext := CASE WHEN col = 'v' THEN q.v::text ELSE q.h::text END;
        PERFORM set_config('enable_seqscan', 'off', true);
        query := format('SELECT id, %1$I %2$s %3$L AS d FROM spv ORDER BY %1$I %2$s %3$L LIMIT 300', col, op, qtext);
        FOR plan IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
            rewritten := rewritten OR plan LIKE '%Output: id, quarry_hnsw_scored(ctid, %';
        END LOOP;
        EXECUTE format('CREATE TEMP TABLE got AS %s', query);
        OPEN c FOR EXECUTE format('SELECT ctid, id FROM spv ORDER BY %1$I %2$s %3$L', col, op, qtext);
        FETCH c INTO tid, rid;
        EXECUTE format('SELECT quarry_hnsw_scored($1, (SELECT %1$I FROM spv WHERE id = $2 %% 1500 + 1), %3$L, ''spv_idx'', %4$s)'
                       ' = ((SELECT %1$I FROM spv WHERE id = $2) %2$s %3$L)', col, op, qtext, metric)
            INTO ok USING tid, rid;
        from_scan := from_scan AND ok;
        CLOSE c;
        SELECT max(d) INTO farthest FROM got;
        filtered := format('SELECT id, %1$I %2$s %3$L AS d FROM spv WHERE grp = 1 AND %1$I %2$s %3$L < %4$s '
                           'ORDER BY %1$I %2$s %3$L LIMIT 40', col, op, qtext, farthest);
        EXECUTE format('CREATE TEMP TABLE got_filtered AS %s', filtered);
        PERFORM set_config('enable_seqscan', 'on', true);
        PERFORM set_config('enable_indexscan', 'off', true);
        EXECUTE format('SELECT count(*), count(*) FILTER (WHERE g.d = (s.%1$I %2$s %3$L)) FROM got g JOIN spv s USING (id)',
                       col, op, qtext) INTO n, e;
        rows := rows + n;
        equal := equal + e;
        EXECUTE format('SELECT count(*) = 40 AND bool_and(g.d = (s.%1$I %2$s %3$L)) FROM got_filtered g JOIN spv s USING (id)',
                       col, op, qtext) INTO ok;
        filtered_ok := filtered_ok AND ok;
        PERFORM set_config('enable_indexscan', 'on', true);
        DROP TABLE got, got_filtered;
    END LOOP;
    DROP INDEX spv_idx;
END $$;

SELECT 'vector l2' AS opclass, * FROM spv_check('v', 'quarry_vector_l2_ops', '<->', 1);
SELECT 'vector ip' AS opclass, * FROM spv_check('v', 'quarry_vector_ip_ops', '<#>', 2);
SELECT 'vector l1' AS opclass, * FROM spv_check('v', 'quarry_vector_l1_ops', '<+>', 4);
SELECT 'halfvec l2' AS opclass, * FROM spv_check('h', 'quarry_halfvec_l2_ops', '<->', 1);
SELECT 'halfvec ip' AS opclass, * FROM spv_check('h', 'quarry_halfvec_ip_ops', '<#>', 2);
SELECT 'halfvec l1' AS opclass, * FROM spv_check('h', 'quarry_halfvec_l1_ops', '<+>', 4);
-- Compressed layouts: the rerank reads each candidate's row from the table
-- and computes pgvector's value on it, for every operator and both types.
SELECT 'vector l2 sq8' AS opclass, * FROM spv_check('v', 'quarry_vector_l2_ops', '<->', 1, 'WITH (storage = sq8)');
SELECT 'vector cosine sq8' AS opclass, * FROM spv_check('v', 'quarry_vector_cosine_ops', '<=>', 3, 'WITH (storage = sq8)');
SELECT 'vector l1 sq4' AS opclass, * FROM spv_check('v', 'quarry_vector_l1_ops', '<+>', 4, 'WITH (storage = sq4)');
SELECT 'halfvec ip sq8' AS opclass, * FROM spv_check('h', 'quarry_halfvec_ip_ops', '<#>', 2, 'WITH (storage = sq8)');
SELECT 'halfvec cosine sq4' AS opclass, * FROM spv_check('h', 'quarry_halfvec_cosine_ops', '<=>', 3, 'WITH (storage = sq4)');
-- A cosine index with storage 'full' holds normalised vectors, not the
-- row's: quarry_hnsw_scored calls pgvector's operator (from_scan f), as the
-- projection would have; the values are pgvector's either way.
SELECT 'vector cosine' AS opclass, * FROM spv_check('v', 'quarry_vector_cosine_ops', '<=>', 3);

-- The rows whose vector is NULL come last, with a NULL distance.
CREATE INDEX spv_idx ON spv USING quarry_hnsw (v quarry_vector_l2_ops);
SET enable_seqscan = off;
SELECT id, d FROM (SELECT id, v <-> (SELECT v FROM spq WHERE qid = 1) AS d FROM spv
                   ORDER BY v <-> (SELECT v FROM spq WHERE qid = 1)) s WHERE d IS NULL ORDER BY id;
-- Duplicates (rows whose vector equals another's, on its node's chain):
-- each returned row's distance from its own node. The query is row 5's
-- vector moved a little: row 5 and its 3 copies come first.
INSERT INTO spv SELECT 2000 + g, v, h, 2 FROM spv, generate_series(1, 3) g WHERE id = 5;
SELECT array_agg(x + 0.01 ORDER BY n)::vector AS near5
FROM unnest((SELECT v::real[] FROM spv WHERE id = 5)) WITH ORDINALITY u(x, n) \gset
SELECT count(*) AS rows, count(*) FILTER (WHERE id IN (5, 2001, 2002, 2003)) AS row_5_and_copies,
       count(*) FILTER (WHERE s.d = (t.v <-> :'near5') AND s.d > 0) AS equal
FROM (SELECT id, v <-> :'near5' AS d FROM spv ORDER BY v <-> :'near5' LIMIT 10) s JOIN spv t USING (id);
-- A parameter, a prepared statement's generic plan: the same values.
PREPARE spv_near(vector) AS SELECT id, v <-> $1 AS d FROM spv ORDER BY v <-> $1 LIMIT 20;
SET plan_cache_mode = force_generic_plan;
SELECT v AS q2 FROM spq WHERE qid = 2 \gset
CREATE TEMP TABLE near_rows AS EXECUTE spv_near(:'q2');
RESET plan_cache_mode;
SELECT count(*) AS rows, count(*) FILTER (WHERE n.d = (s.v <-> (SELECT v FROM spq WHERE qid = 2))) AS equal
FROM near_rows n JOIN spv s USING (id);

-- Two parameters, as drivers send `v <-> %s AS d ... ORDER BY v <-> %s`:
-- both expressions become quarry_hnsw_scored; with one value in both, the
-- distances are pgvector's; with two different values, the SELECT list's is
-- the distance to its own parameter (computed), not the scan's.
PREPARE spv_two(vector, vector) AS SELECT id, v <-> $1 AS d FROM spv ORDER BY v <-> $2 LIMIT 20;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE spv_two(:'q2', :'q2');
SELECT v AS q3 FROM spq WHERE qid = 3 \gset
CREATE TEMP TABLE two_same AS EXECUTE spv_two(:'q2', :'q2');
CREATE TEMP TABLE two_different AS EXECUTE spv_two(:'q3', :'q2');
RESET plan_cache_mode;
SELECT (SELECT array_agg(id ORDER BY id) FROM two_same) = (SELECT array_agg(id ORDER BY id) FROM two_different) AS same_rows,
       (SELECT count(*) FILTER (WHERE n.d = (s.v <-> :'q2')) FROM two_same n JOIN spv s USING (id)) AS same_equal,
       (SELECT count(*) FILTER (WHERE n.d = (s.v <-> :'q3')) FROM two_different n JOIN spv s USING (id)) AS different_equal;

-- The value really comes from the scan: the cursor returned one row; the
-- function asked for that row with another vector gives the scan's distance
-- (pgvector's, of the row's own vector), not the distance of what it was
-- passed. Any other row, or a role that may not read the table, gets
-- pgvector's operator on what it passed.
BEGIN;
DECLARE near_cursor CURSOR FOR SELECT ctid AS tid, id FROM spv ORDER BY v <-> (SELECT v FROM spq WHERE qid = 3);
FETCH 1 FROM near_cursor \gset
SELECT quarry_hnsw_scored(:'tid', (SELECT v FROM spv WHERE id = :id % 1500 + 1), (SELECT v FROM spq WHERE qid = 3), 'spv_idx', 1)
     = ((SELECT v FROM spv WHERE id = :id) <-> (SELECT v FROM spq WHERE qid = 3)) AS from_the_scan,
       quarry_hnsw_scored('(0,1)', (SELECT v FROM spv WHERE id = :id % 1500 + 1), (SELECT v FROM spq WHERE qid = 3), 'spv_idx', 1)
     = ((SELECT v FROM spv WHERE id = :id % 1500 + 1) <-> (SELECT v FROM spq WHERE qid = 3)) AS other_row_computed;
CREATE ROLE regress_spv_outsider;
SET LOCAL ROLE regress_spv_outsider;
SELECT quarry_hnsw_scored(:'tid', :'q2'::vector, :'q3'::vector, 'spv_idx', 1)
     = (:'q2'::vector <-> :'q3'::vector) AS computed_for_outsider;
ROLLBACK;

-- Two cursors, for the layout of the index at hand. Row 5 and its copies
-- (one node and its duplicate chain): the second row returned gets its own
-- row's distance from the scan (a_copy, copy_from_scan). A scan restarted
-- with a NULL query (a nested loop's second probe) leaves nothing behind of
-- the row its first pass returned: asked for that row, the function computes
-- from what it is given (computed_after_rescan).
CREATE FUNCTION spv_cursor_check(near5 vector, OUT a_copy boolean, OUT copy_from_scan boolean,
    OUT computed_after_rescan boolean)
LANGUAGE plpgsql AS $$
DECLARE
    q3 vector := (SELECT v FROM spq WHERE qid = 3);
    c refcursor;
    tid tid;
    rid int;
BEGIN
    OPEN c FOR SELECT ctid, id FROM spv ORDER BY v <-> near5;
    MOVE c;
    FETCH c INTO tid, rid;
    a_copy := rid IN (5, 2001, 2002, 2003);
    copy_from_scan := quarry_hnsw_scored(tid, (SELECT v FROM spv WHERE id = 1), near5, 'spv_idx', 1)
                      = ((SELECT v FROM spv WHERE id = rid) <-> near5);
    CLOSE c;
    OPEN c FOR SELECT s.tid, s.id FROM (VALUES (1, q3), (2, NULL)) p(n, q),
        LATERAL (SELECT ctid AS tid, id FROM spv ORDER BY v <-> p.q LIMIT 1) s;
    FETCH c INTO tid, rid;
    MOVE c;
    computed_after_rescan := quarry_hnsw_scored(tid, (SELECT v FROM spv WHERE id = rid % 1500 + 1), q3, 'spv_idx', 1)
                             = ((SELECT v FROM spv WHERE id = rid % 1500 + 1) <-> q3);
    CLOSE c;
END $$;
SELECT * FROM spv_cursor_check(:'near5');

-- The same with storage 'sq8': the values come from the rerank, which reads
-- each candidate's row from the table. The rows whose vector is NULL come
-- last with a NULL distance; row 5 and its copies (one node and its chain)
-- each with its own row's value; two parameters, equal and different; a
-- restart with a NULL query leaves nothing behind.
DROP INDEX spv_idx;
CREATE INDEX spv_idx ON spv USING quarry_hnsw (v quarry_vector_l2_ops) WITH (storage = sq8);
SELECT id, d FROM (SELECT id, v <-> (SELECT v FROM spq WHERE qid = 1) AS d FROM spv
                   ORDER BY v <-> (SELECT v FROM spq WHERE qid = 1)) s WHERE d IS NULL ORDER BY id;
SELECT count(*) AS rows, count(*) FILTER (WHERE id IN (5, 2001, 2002, 2003)) AS row_5_and_copies,
       count(*) FILTER (WHERE s.d = (t.v <-> :'near5') AND s.d > 0) AS equal
FROM (SELECT id, v <-> :'near5' AS d FROM spv ORDER BY v <-> :'near5' LIMIT 10) s JOIN spv t USING (id);
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE sq8_same AS EXECUTE spv_two(:'q2', :'q2');
CREATE TEMP TABLE sq8_different AS EXECUTE spv_two(:'q3', :'q2');
RESET plan_cache_mode;
SELECT (SELECT count(*) FROM sq8_same) AS rows,
       (SELECT count(*) FILTER (WHERE n.d = (s.v <-> :'q2')) FROM sq8_same n JOIN spv s USING (id)) AS same_equal,
       (SELECT count(*) FILTER (WHERE n.d = (s.v <-> :'q3')) FROM sq8_different n JOIN spv s USING (id)) AS different_equal;
SELECT * FROM spv_cursor_check(:'near5');

-- An index on an expression: with storage 'full' the index holds the
-- expression's value, and the scan gives pgvector's operator on it (from_scan
-- t); a compressed one has no column to rerank from: its scan returns lower
-- bounds (PostgreSQL reranks) and gives no values, and the function computes
-- pgvector's operator on what it is passed (from_scan f). Either way every
-- distance is pgvector's.
CREATE FUNCTION spv_expr_check(options text, OUT index_scan boolean, OUT rewritten boolean,
    OUT rows bigint, OUT equal bigint, OUT from_scan boolean)
LANGUAGE plpgsql AS $$
DECLARE
    q vector := (SELECT v FROM spq WHERE qid = 4);
    query text := format('SELECT id, l2_normalize(v) <-> %1$L::vector AS d FROM spv '
                         'ORDER BY l2_normalize(v) <-> %1$L::vector LIMIT 50', q);
    line text;
    c refcursor;
    tid tid;
    rid int;
BEGIN
    EXECUTE format('CREATE INDEX spv_idx ON spv USING quarry_hnsw ((l2_normalize(v)) quarry_vector_l2_ops) %s', options);
    index_scan := false;
    rewritten := false;
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
        index_scan := index_scan OR line LIKE '%Index Scan using spv_idx%';
        rewritten := rewritten OR line LIKE '%Output: %quarry_hnsw_scored(%ctid, l2_normalize(%';
    END LOOP;
    EXECUTE format('CREATE TEMP TABLE expr_rows AS %s', query);
    SELECT count(*), count(*) FILTER (WHERE e.d = (l2_normalize(s.v) <-> q)) INTO rows, equal
    FROM expr_rows e JOIN spv s USING (id);
    OPEN c FOR EXECUTE format('SELECT ctid, id FROM spv ORDER BY l2_normalize(v) <-> %L::vector', q);
    FETCH c INTO tid, rid;
    from_scan := quarry_hnsw_scored(tid, (SELECT v FROM spv WHERE id = rid % 1500 + 1), q, 'spv_idx', 1)
                 = ((SELECT l2_normalize(v) FROM spv WHERE id = rid) <-> q);
    CLOSE c;
    DROP TABLE expr_rows;
END $$;
DROP INDEX spv_idx;
SELECT 'full' AS storage, * FROM spv_expr_check('');
DROP INDEX spv_idx;
SELECT 'sq8' AS storage, * FROM spv_expr_check('WITH (storage = sq8)');
RESET enable_seqscan;

-- Called directly: pgvector's operator of the metric on the values given.
SELECT quarry_hnsw_scored('(0,1)', '[1,2]'::vector, '[1,3]', 'spv_idx', 1) = ('[1,2]'::vector <-> '[1,3]') AS l2,
       quarry_hnsw_scored('(0,1)', '[1,2]'::vector, '[1,3]', 'spv_idx', 2) = ('[1,2]'::vector <#> '[1,3]') AS ip,
       quarry_hnsw_scored('(0,1)', '[1,2]'::vector, '[1,3]', 'spv_idx', 3) = ('[1,2]'::vector <=> '[1,3]') AS cosine,
       quarry_hnsw_scored('(0,1)', '[1,2]'::halfvec, '[1,3]', 'spv_idx', 4) = ('[1,2]'::halfvec <+> '[1,3]') AS l1;
SELECT quarry_hnsw_scored('(0,1)', '[1,2]'::vector, '[1,3,4]', 'spv_idx', 1);
SELECT quarry_hnsw_scored('(0,1)', '[1,2]'::vector, '[1,3]', 'spv_idx', 0);

DROP TABLE spv, spq;
DROP FUNCTION spv_check, spv_cursor_check, spv_expr_check;
DROP EXTENSION quarry_pgvector;
DROP EXTENSION vector;

-- pgvector and quarry_pgvector in a schema a role may not use: the planner
-- hook, which looks their operators and functions up for every statement,
-- must not make that role's statements fail.
CREATE SCHEMA spv_private;
CREATE EXTENSION vector SCHEMA spv_private;
CREATE EXTENSION quarry_pgvector SCHEMA spv_private;
CREATE TABLE spv_plain (id int);
INSERT INTO spv_plain VALUES (1), (2);
CREATE ROLE regress_spv_nousage;
GRANT SELECT ON spv_plain TO regress_spv_nousage;
-- A catalog change, so that the role's next statement looks everything up
-- again (the INSERT above was planned, and looked up, as the superuser).
CREATE FUNCTION spv_touch() RETURNS int LANGUAGE sql AS 'SELECT 1';
SET ROLE regress_spv_nousage;
SELECT 1 AS one;
SELECT count(*) FROM spv_plain;
RESET ROLE;
DROP TABLE spv_plain;
DROP FUNCTION spv_touch();
DROP EXTENSION quarry_pgvector;
DROP EXTENSION vector;
DROP SCHEMA spv_private;
DROP ROLE regress_spv_nousage;
