-- quarry_hnsw under churn: rounds of updates, deletes and inserts, each
-- followed by VACUUM, which frees the dead nodes' slots for the next round's
-- rows. After every round each row's own vector must come back through the
-- index: a search never ends empty (a stale link into a freed slot used to
-- strand the greedy descent there), and with an exhaustive ef_search every
-- row is found at distance 0 (no live node is cut off by the repair).

SET enable_seqscan = off;
CREATE FUNCTION churn_vec(id int, ver int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint4(id * 1000 + ver * 17 + d)) % 100000)::real / 1000
                 FROM generate_series(1, 8) d) $$;
CREATE TABLE churn (id int PRIMARY KEY, ver int NOT NULL, v real[]) WITH (autovacuum_enabled = off);
INSERT INTO churn SELECT g, 1, churn_vec(g, 1) FROM generate_series(1, 800) g;
-- A small m gives many upper-layer nodes, and links to them, to go stale.
CREATE INDEX churn_v ON churn USING quarry_hnsw (v quarry_l2_ops) WITH (m = 6, ef_construction = 24);

CREATE FUNCTION churn_round(r int) RETURNS void LANGUAGE sql AS $$
    UPDATE churn SET ver = ver + 1, v = churn_vec(id, ver + 1) WHERE (id * 7 + r) % 4 = 0;
    DELETE FROM churn WHERE (id * 11 + r) % 9 = 0;
    INSERT INTO churn SELECT g, 1, churn_vec(g, 1) FROM generate_series(800 + (r - 1) * 80 + 1, 800 + r * 80) g $$;

-- Rows whose own vector gets no row at all back, and rows not found at
-- distance 0, at this ef_search.
CREATE FUNCTION churn_check(ef int, OUT no_row bigint, OUT not_found bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('quarry.hnsw_ef_search', ef::text, true);
    SELECT count(*) FILTER (WHERE d IS NULL), count(*) FILTER (WHERE d IS DISTINCT FROM 0)
    INTO no_row, not_found
    FROM (SELECT (SELECT x.v <-> c.v FROM churn x ORDER BY x.v <-> c.v LIMIT 1) AS d FROM churn c) s;
END $$;

SELECT 0 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(1);
VACUUM churn;
SELECT 1 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(2);
VACUUM churn;
SELECT 2 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(3);
VACUUM churn;
SELECT 3 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(4);
VACUUM churn;
SELECT 4 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(5);
VACUUM churn;
SELECT 5 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT churn_round(6);
VACUUM churn;
SELECT 6 AS round, count(*) AS rows, (churn_check(10)).no_row, (churn_check(1000)).not_found FROM churn;
SELECT slots, live, deleted, free FROM quarry_hnsw_index_info('churn_v');

DROP TABLE churn;
DROP FUNCTION churn_check(int);
DROP FUNCTION churn_round(int);
DROP FUNCTION churn_vec(int, int);
