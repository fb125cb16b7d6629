-- quarry_pgvector: quarry_hnsw on pgvector's vector and halfvec, under
-- pgvector's own operators, against exact search (pgvector's operators on a
-- sequential scan). Needs pgvector installed (test/build_pgvector.sh, on
-- every PostgreSQL version): without it the test fails.
CREATE EXTENSION vector;
CREATE EXTENSION quarry_pgvector;
SET client_min_messages = warning;

-- 3,000 random 16-dimensional vectors, the same values as vector and halfvec
-- (halfvec rounds them), and 20 queries.
SELECT setseed(0.25);
CREATE TABLE pv (id int PRIMARY KEY, v vector(16), h halfvec(16));
INSERT INTO pv
SELECT i, a::vector, a::halfvec
FROM (SELECT i, array_agg(random() * 2 - 1 ORDER BY d) AS a
      FROM generate_series(1, 3000) i, generate_series(1, 16) d GROUP BY i) s;
CREATE TABLE pq (qid int PRIMARY KEY, v vector(16), h halfvec(16));
INSERT INTO pq
SELECT i, a::vector, a::halfvec
FROM (SELECT i, array_agg(random() * 2 - 1 ORDER BY d) AS a
      FROM generate_series(1, 20) i, generate_series(1, 16) d GROUP BY i) s;

-- For one column, operator class and operator: builds the index, then for
-- every query compares the index's top 10 with the exact top 10.
--   exact_top_k: at ef_search 400, the index's 10 distances are the exact 10
--                (distances, so that equal distances may come in any order)
--   same_values: every distance the index scan's query reports equals, bit
--                for bit, pgvector's operator on a sequential scan for that row
--   recall:      mean recall@10 at the default ef_search (40)
--   index_scan:  the queries ran as index scans
CREATE FUNCTION pv_check(col text, opclass text, op text,
    OUT exact_top_k boolean, OUT same_values boolean, OUT recall numeric, OUT index_scan boolean)
LANGUAGE plpgsql AS $$
DECLARE
    q record;
    query text;
    got float8[];
    want float8[];
    got_ids int[];
    want_ids int[];
    hits int := 0;
    plan text;
BEGIN
    EXECUTE format('CREATE INDEX pv_idx ON pv USING quarry_hnsw (%I %s)', col, opclass);
    exact_top_k := true;
    same_values := true;
    index_scan := true;
    FOR q IN SELECT * FROM pq ORDER BY qid LOOP
        query := format('SELECT id, %I %s %L AS d FROM pv ORDER BY %I %s %L LIMIT 10',
                        col, op, CASE WHEN col = 'v' THEN q.v::text ELSE q.h::text END,
                        col, op, CASE WHEN col = 'v' THEN q.v::text ELSE q.h::text END);
        PERFORM set_config('enable_indexscan', 'off', true);
        PERFORM set_config('enable_seqscan', 'on', true);
        EXECUTE format('SELECT array_agg(d ORDER BY d, id), array_agg(id ORDER BY d, id) FROM (%s) s', query)
            INTO want, want_ids;
        PERFORM set_config('enable_indexscan', 'on', true);
        PERFORM set_config('enable_seqscan', 'off', true);
        FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
            IF plan LIKE '%Seq Scan%' OR plan LIKE '%Sort%' THEN
                index_scan := false;
            END IF;
        END LOOP;
        PERFORM set_config('quarry.hnsw_ef_search', '400', true);
        EXECUTE format('SELECT array_agg(d ORDER BY d, id) FROM (%s) s', query) INTO got;
        IF got IS DISTINCT FROM want THEN
            exact_top_k := false;
        END IF;
        -- Each row's reported distance against the operator on a sequential scan.
        EXECUTE format('SELECT bool_and(s.d = e.d) FROM (%s) s JOIN LATERAL (SELECT %I %s %L AS d FROM pv x WHERE x.id = s.id OFFSET 0) e ON true',
                       query, col, op, CASE WHEN col = 'v' THEN q.v::text ELSE q.h::text END)
            INTO STRICT plan;
        IF plan IS DISTINCT FROM 'true' THEN
            same_values := false;
        END IF;
        PERFORM set_config('quarry.hnsw_ef_search', '40', true);
        EXECUTE format('SELECT array_agg(id) FROM (%s) s', query) INTO got_ids;
        hits := hits + (SELECT count(*) FROM unnest(got_ids) g WHERE g = ANY (want_ids));
    END LOOP;
    recall := round(hits / 200.0, 2);
    EXECUTE 'DROP INDEX pv_idx';
END
$$;

SELECT c.col, c.opclass, c.op, r.exact_top_k, r.same_values, r.recall >= 0.9 AS recall_ok, r.index_scan
FROM (VALUES ('v', 'quarry_vector_l2_ops', '<->'), ('v', 'quarry_vector_ip_ops', '<#>'),
             ('v', 'quarry_vector_cosine_ops', '<=>'), ('v', 'quarry_vector_l1_ops', '<+>'),
             ('h', 'quarry_halfvec_l2_ops', '<->'), ('h', 'quarry_halfvec_ip_ops', '<#>'),
             ('h', 'quarry_halfvec_cosine_ops', '<=>'), ('h', 'quarry_halfvec_l1_ops', '<+>')) c(col, opclass, op),
     LATERAL pv_check(c.col, c.opclass, c.op) r;

-- The index's opclasses are sound, and the projection's distance is
-- pgvector's own: quarry_hnsw_scored, which for a cosine index with storage
-- 'full' (normalised vectors in the index) calls pgvector's operator.
SELECT opcname, amvalidate(oid) FROM pg_opclass
WHERE opcname LIKE 'quarry\_vector\_%' OR opcname LIKE 'quarry\_halfvec\_%' ORDER BY 1;
CREATE INDEX pv_v_cos ON pv USING quarry_hnsw (v quarry_vector_cosine_ops);
SET enable_seqscan = off;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, v <=> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' FROM pv
ORDER BY v <=> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3;
-- Without the distance in the SELECT list, the junk column PostgreSQL keeps
-- for ORDER BY is a NULL in the scan's projection: pgvector's operator does
-- not detoast and compare each returned row's vector for nothing.
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM pv
ORDER BY v <=> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3;
CREATE TEMP TABLE pv_top AS SELECT array_agg(id) AS ids FROM (SELECT id FROM pv
ORDER BY v <=> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3) s;
SELECT count(*) FROM quarry_verify_index('pv_v_cos');
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM pv
       ORDER BY v <=> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3) s) AS same_rows FROM pv_top;
RESET enable_indexscan;

-- Zero vectors under cosine: no direction, so pgvector's <=> gives NaN, which
-- sorts after every number and before NULL. CREATE INDEX and INSERT accept
-- them; the index keeps them in its list of NULL rows, and a scan returns them
-- after every other vector and before the NULL rows, as the sort does.
CREATE TABLE pz (id int, v vector(3), h halfvec(3));
INSERT INTO pz VALUES (1, '[1,0,0]', '[1,0,0]'), (2, '[0,0,0]', '[0,0,0]'), (3, '[0,1,0]', '[0,1,0]'),
                      (4, NULL, NULL), (5, '[1,1,0]', '[1,1,0]');
CREATE INDEX pz_v ON pz USING quarry_hnsw (v quarry_vector_cosine_ops);
CREATE INDEX pz_h ON pz USING quarry_hnsw (h quarry_halfvec_cosine_ops);
INSERT INTO pz VALUES (6, '[0,0,0]', '[-0,0,0]'), (7, '[0,0,1]', '[0,0,1]');
SET enable_seqscan = off;
SELECT id, v <=> '[1,0.1,0]' AS d FROM pz ORDER BY v <=> '[1,0.1,0]';
SELECT id, h <=> '[1,0.1,0]' AS d FROM pz ORDER BY h <=> '[1,0.1,0]';
-- A zero query: every distance is NaN (equal in a sort); every row comes back.
SELECT count(*), count(v) FROM (SELECT v FROM pz ORDER BY v <=> '[0,0,0]') s;
SELECT null_rows FROM quarry_hnsw_index_info('pz_v');
SELECT count(*) FROM quarry_verify_index('pz_v');
SELECT count(*) FROM quarry_verify_index('pz_h');
-- A vector whose squared norm underflows in float (1e-30 squared) has a
-- direction, as pgvector's <=> says (distance 0 to [1,0,0]): INSERT takes
-- it, and the index ranks it among the top 3 as a sort does (rows 1 and 8
-- tie in the index, whose kernels round otherwise than pgvector's: compared
-- as sets).
INSERT INTO pz VALUES (8, '[1e-30,0,0]', '[1,0,0]');
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) AS index_top3 FROM (SELECT id FROM pz ORDER BY v <=> '[1,0.1,0]' LIMIT 3) s;
RESET enable_seqscan;
SELECT array_agg(id ORDER BY id) AS sort_top3 FROM (SELECT id FROM pz ORDER BY v <=> '[1,0.1,0]', id LIMIT 3) s;
SELECT id, v <=> '[1,0,0]' AS pgvector_distance FROM pz WHERE id = 8;
SELECT count(*) FROM quarry_verify_index('pz_v');
DELETE FROM pz WHERE id = 8;
-- Under L2 a zero vector is a vector like any other.
CREATE INDEX pz_l2 ON pz USING quarry_hnsw (v quarry_vector_l2_ops);
-- (the two zero vectors first, at 0; then one of the three rows at 1, which
-- tie: counted, not named)
SELECT count(*) FILTER (WHERE d = 0) AS at_zero, count(*) FILTER (WHERE d = 1) AS at_one
FROM (SELECT v <-> '[0,0,0]' AS d FROM pz ORDER BY v <-> '[0,0,0]' LIMIT 3) s;
SELECT null_rows FROM quarry_hnsw_index_info('pz_l2');
RESET enable_seqscan;

-- Bad inputs: a column of no fixed dimension takes vectors of any length;
-- the index takes those of its own.
CREATE TABLE pb (id int, v vector, h halfvec);
INSERT INTO pb VALUES (1, '[1,2,3]', '[1,2,3]'), (2, '[3,2,1]', '[3,2,1]');
CREATE INDEX pb_v ON pb USING quarry_hnsw (v quarry_vector_l2_ops);
CREATE INDEX pb_h ON pb USING quarry_hnsw (h quarry_halfvec_cosine_ops);
INSERT INTO pb VALUES (3, '[1,2,3,4]', '[1,2,3]');
INSERT INTO pb VALUES (3, '[1,2,3]', '[1,2,3,4]');
INSERT INTO pb VALUES (3, '[1,2,3]', '[0,0,0,0]');
SET enable_seqscan = off;
SELECT id FROM pb ORDER BY v <-> '[1,2,3,4]' LIMIT 1;
SELECT id FROM pb ORDER BY h <=> '[1,2]' LIMIT 1;
-- NULL: rows without a vector come last; a NULL query returns every row.
INSERT INTO pb VALUES (4, NULL, NULL);
SELECT id, v <-> '[1,2,3]' AS d FROM pb ORDER BY v <-> '[1,2,3]';
SELECT count(*) FROM (SELECT id FROM pb ORDER BY v <-> NULL) s;
RESET enable_seqscan;
-- An operator class of the other type, and mixing dimensions in a table
-- where the first vector fixed them.
CREATE INDEX ON pb USING quarry_hnsw (v quarry_halfvec_l2_ops);
CREATE TABLE pm (v vector);
INSERT INTO pm VALUES ('[1,2]'), ('[1,2,3]');
CREATE INDEX ON pm USING quarry_hnsw (v quarry_vector_ip_ops);
-- pgvector's own operators stay pgvector's: quarry_pgvector adds none.
SELECT count(*) FROM pg_operator o JOIN pg_depend d ON d.objid = o.oid AND d.classid = 'pg_operator'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'quarry_pgvector';

-- 16,000 dimensions, the most pgvector's types hold (its own HNSW indexes
-- 2,000 and 4,000): exact top 5 at ef_search 100, for both types.
CREATE TABLE pbig (id int, v vector(16000), h halfvec(16000));
INSERT INTO pbig
SELECT i, a::vector, a::halfvec
FROM (SELECT i, array_agg(random() ORDER BY d) AS a
      FROM generate_series(1, 40) i, generate_series(1, 16000) d GROUP BY i) s;
CREATE INDEX pbig_v ON pbig USING quarry_hnsw (v quarry_vector_l2_ops);
CREATE INDEX pbig_h ON pbig USING quarry_hnsw (h quarry_halfvec_cosine_ops);
SELECT dims FROM quarry_hnsw_index_info('pbig_v');
SET quarry.hnsw_ef_search = 100;
SET enable_seqscan = off;
CREATE TEMP TABLE pbig_got AS
SELECT 'v' AS col, array_agg(id ORDER BY n) AS ids FROM (
  SELECT id, row_number() OVER () AS n FROM (SELECT id FROM pbig ORDER BY v <-> (SELECT v FROM pbig WHERE id = 7) LIMIT 5) s) t
UNION ALL
SELECT 'h', array_agg(id ORDER BY n) FROM (
  SELECT id, row_number() OVER () AS n FROM (SELECT id FROM pbig ORDER BY h <=> (SELECT h FROM pbig WHERE id = 7) LIMIT 5) s) t;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT g.col, g.ids[1] AS nearest, g.ids = e.ids AS exact
FROM pbig_got g JOIN (
  SELECT 'v' AS col, array_agg(id ORDER BY d, id) AS ids FROM (SELECT id, v <-> (SELECT v FROM pbig WHERE id = 7) AS d FROM pbig ORDER BY 2, 1 LIMIT 5) s
  UNION ALL
  SELECT 'h', array_agg(id ORDER BY d, id) FROM (SELECT id, h <=> (SELECT h FROM pbig WHERE id = 7) AS d FROM pbig ORDER BY 2, 1 LIMIT 5) s) e
ON e.col = g.col ORDER BY 1;
RESET enable_indexscan;
RESET quarry.hnsw_ef_search;
SELECT count(*) FROM quarry_verify_index('pbig_h');

-- L1 on real[]: quarry's own <+> against plain SQL, its index, and the
-- distance the scan reports (quarry_hnsw_scored, metric 4).
SELECT '{1,-2,3}'::real[] <+> '{4,2,3}'::real[] AS l1;
CREATE TABLE pr AS SELECT id, v::real[] AS v FROM (SELECT id, v::real[] AS v FROM pv) s;
CREATE INDEX pr_l1 ON pr USING quarry_hnsw (v quarry_l1_ops);
SELECT bool_and(abs((v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}') -
                    (SELECT sum(abs(x - y)) FROM unnest(v, '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'::real[]) u(x, y))) < 1e-5)
FROM pr;
SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 400;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}' FROM pr
ORDER BY v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}' LIMIT 3;
CREATE TEMP TABLE pr_got AS
SELECT id, v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}' AS d FROM pr
ORDER BY v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}' LIMIT 10;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT (SELECT array_agg(d ORDER BY d) FROM pr_got) =
       (SELECT array_agg(d ORDER BY d) FROM (SELECT v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}' AS d FROM pr ORDER BY 1 LIMIT 10) s) AS exact,
       (SELECT bool_and(g.d = (p.v <+> '{0.5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}')) FROM pr_got g JOIN pr p USING (id)) AS same_values;
RESET enable_indexscan;
RESET quarry.hnsw_ef_search;
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'quarry_l1_ops';

DROP TABLE pv, pq, pz, pb, pm, pbig, pr;
DROP FUNCTION pv_check;
DROP EXTENSION quarry_pgvector;
DROP EXTENSION vector;
