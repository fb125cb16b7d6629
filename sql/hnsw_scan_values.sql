-- Distances from the scan: the projection of an ordered quarry_hnsw scan
-- takes each returned row's distance from the scan (quarry_hnsw_scored) instead
-- of detoasting the vector and computing it again. The reference is the
-- distance functions themselves, on the same rows, without the index: equal
-- to the last bit for every metric, in every plan shape below.
CREATE TABLE sv (id int PRIMARY KEY, emb real[], grp int);
INSERT INTO sv
SELECT g, ARRAY[sin(g), cos(g * 1.3), sin(g * 0.7) + 2, cos(g * 0.11)]::real[], g % 5
FROM generate_series(1, 3000) g;
INSERT INTO sv VALUES (3001, NULL, 0), (3002, NULL, 1);
CREATE INDEX sv_l2 ON sv USING quarry_hnsw (emb quarry_l2_ops);
CREATE TABLE sv_ip AS SELECT * FROM sv;
CREATE INDEX sv_ip_idx ON sv_ip USING quarry_hnsw (emb quarry_ip_ops);
CREATE TABLE sv_cos AS SELECT * FROM sv;
CREATE INDEX sv_cos_idx ON sv_cos USING quarry_hnsw (emb quarry_cosine_ops);
ANALYZE sv, sv_ip, sv_cos;
SET enable_seqscan = off;

EXPLAIN (VERBOSE, COSTS OFF) SELECT id, emb <-> '{0,1,2,0.5}' AS d FROM sv ORDER BY emb <-> '{0,1,2,0.5}' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sv_cos WHERE grp = 2 ORDER BY emb <=> '{0,1,2,0.5}' LIMIT 5;

-- What applications send most: the distance only in ORDER BY. PostgreSQL
-- keeps it in the scan's projection as a junk column nobody reads; at the top
-- of the plan (the scan, or a Limit over it) that column is a NULL. Under
-- WITH TIES (the Limit compares it), and below other nodes (an aggregate over
-- the subquery), it is the scan's value, as before.
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' LIMIT 5;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' FETCH FIRST 5 ROWS WITH TIES;
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM (SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' LIMIT 5) s;
CREATE TEMP TABLE top_ids AS
SELECT array_agg(id) AS by_index FROM (SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' LIMIT 5) s;
SELECT array_agg(id) AS with_ties FROM (SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' FETCH FIRST 5 ROWS WITH TIES) s;
SET enable_indexscan = off;
SELECT by_index = (SELECT array_agg(id) FROM (SELECT id FROM sv ORDER BY emb <-> '{0,1,2,0.5}' LIMIT 5) s) AS same_rows
FROM top_ids;
RESET enable_indexscan;

-- Every metric: the scan's distances of its 300 nearest rows equal the
-- function's, computed on the same rows.
CREATE FUNCTION compare_metric(tab regclass, op text, fn text, q real[])
RETURNS TABLE (rows bigint, equal bigint, ordered boolean) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'WITH s AS (SELECT id, emb %s $1 AS d, row_number() OVER () AS n FROM (SELECT * FROM %s ORDER BY emb %s $1 LIMIT 300) x)
         SELECT count(*), count(*) FILTER (WHERE s.d = %s(t.emb, $1)),
                bool_and(s.d >= coalesce((SELECT p.d FROM s p WHERE p.n = s.n - 1), ''-Infinity''))
         FROM s JOIN %s t USING (id)', op, tab, op, fn, tab) USING q;
END $$;
SELECT 'l2' AS metric, * FROM compare_metric('sv', '<->', 'quarry_l2_distance', '{0,1,2,0.5}');
SELECT 'ip' AS metric, * FROM compare_metric('sv_ip', '<#>', 'quarry_negative_inner_product', '{0,1,2,0.5}');
SELECT 'cosine' AS metric, * FROM compare_metric('sv_cos', '<=>', 'quarry_cosine_distance', '{0,1,2,0.5}');

-- A filter on another column, a subquery, a join, a parameter: the same values.
SELECT count(*) FILTER (WHERE d = quarry_l2_distance(emb, '{1,0,2,0}')) AS equal, count(*) AS rows
FROM (SELECT emb, emb <-> '{1,0,2,0}' AS d FROM sv WHERE grp = 3 ORDER BY emb <-> '{1,0,2,0}' LIMIT 40) s;
SELECT count(*) FILTER (WHERE s.d = quarry_cosine_distance(t.emb, '{1,0,2,0}')) AS equal, count(*) AS rows
FROM (SELECT id, emb <=> '{1,0,2,0}' AS d FROM sv_cos ORDER BY emb <=> '{1,0,2,0}' LIMIT 40) s JOIN sv_cos t USING (id);
PREPARE near(real[]) AS SELECT id, emb <-> $1 AS d FROM sv ORDER BY emb <-> $1 LIMIT 20;
CREATE TEMP TABLE near_rows AS EXECUTE near('{0.3,0.3,2.1,0.9}');
SELECT count(*) FILTER (WHERE n.d = quarry_l2_distance(t.emb, '{0.3,0.3,2.1,0.9}')) AS equal, count(*) AS rows
FROM near_rows n JOIN sv t USING (id);
-- Two parameters of one value (`emb <-> $1 AS d ... ORDER BY emb <-> $2`, as
-- drivers send it): both take the scan's function; a different value in $1
-- gets its own distance.
PREPARE near_two(real[], real[]) AS SELECT id, emb <-> $1 AS d FROM sv ORDER BY emb <-> $2 LIMIT 20;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE near_two('{0.3,0.3,2.1,0.9}', '{0.3,0.3,2.1,0.9}');
CREATE TEMP TABLE two_same AS EXECUTE near_two('{0.3,0.3,2.1,0.9}', '{0.3,0.3,2.1,0.9}');
CREATE TEMP TABLE two_different AS EXECUTE near_two('{1,0,2,0}', '{0.3,0.3,2.1,0.9}');
RESET plan_cache_mode;
SELECT (SELECT count(*) FILTER (WHERE n.d = quarry_l2_distance(t.emb, '{0.3,0.3,2.1,0.9}')) FROM two_same n JOIN sv t USING (id)) AS same_equal,
       (SELECT count(*) FILTER (WHERE n.d = quarry_l2_distance(t.emb, '{1,0,2,0}')) FROM two_different n JOIN sv t USING (id)) AS different_equal;
-- Rows whose vector is NULL come last with a NULL distance.
SELECT id, d FROM (SELECT id, emb <-> '{0,0,0,0}' AS d FROM sv ORDER BY emb <-> '{0,0,0,0}') s WHERE d IS NULL ORDER BY id;

-- The value really comes from the scan: the cursor returned one row; the
-- function asked for that row with another vector gives the scan's distance,
-- not the distance of what it was passed.
BEGIN;
DECLARE near_cursor CURSOR FOR SELECT ctid AS tid, id FROM sv ORDER BY emb <-> '{0,1,2,0.5}';
FETCH 1 FROM near_cursor \gset
SELECT quarry_hnsw_scored(:'tid', '{100,100,100,100}', '{0,1,2,0.5}', 'sv_l2', 1)
     = quarry_l2_distance((SELECT emb FROM sv WHERE id = :id), '{0,1,2,0.5}') AS from_the_scan;
-- A role that may not read the table gets the distance of what it passed.
CREATE ROLE regress_sv_outsider;
SET LOCAL ROLE regress_sv_outsider;
SELECT quarry_hnsw_scored(:'tid', '{100,100,100,100}', '{0,1,2,0.5}', 'sv_l2', 1)
     = quarry_l2_distance('{100,100,100,100}', '{0,1,2,0.5}') AS computed_for_outsider;
ROLLBACK;
SELECT quarry_hnsw_scored('(0,1)', '{1,2}', '{1,2}', 'sv_l2', 7);

RESET enable_seqscan;
DROP FUNCTION compare_metric(regclass, text, text, real[]);
DROP TABLE sv, sv_ip, sv_cos;
