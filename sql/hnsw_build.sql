-- quarry_hnsw: CREATE INDEX, options, the three operator classes, and scans
-- that must equal the exact order.

-- 300 deterministic 8-dimensional vectors (integer arithmetic).
CREATE TABLE items (id int PRIMARY KEY, v real[]);
INSERT INTO items
SELECT g, ARRAY(SELECT ((g * 7919 + d * 104729 + g * d * 31) % 1009)::real / 10 FROM generate_series(1, 8) d)
FROM generate_series(1, 300) g;
-- Rows with a NULL vector are kept apart: ordered scans return them last, with
-- a NULL distance, as the query without the index does.
INSERT INTO items VALUES (1000, NULL);

CREATE INDEX items_l2 ON items USING quarry_hnsw (v quarry_l2_ops);
SELECT dims, m, ef_construction, metric, slots, live, deleted, free, entry_level >= 0 AS has_entry
FROM quarry_hnsw_index_info('items_l2');

-- With ef_search above the row count the search is exhaustive: the index
-- order is the exact order, for several queries. (Rows at equal distance may
-- come in either order, so the distance sequences are compared.)
SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 400;
CREATE FUNCTION exact_dists(q real[], k int) RETURNS float8[] LANGUAGE sql AS $$
    SELECT array_agg(d ORDER BY d) FROM (
        SELECT quarry_l2_distance(v, q) d FROM items WHERE v IS NOT NULL ORDER BY d LIMIT k) s $$;
CREATE FUNCTION index_dists(q real[], k int) RETURNS float8[] LANGUAGE sql AS $$
    SELECT array_agg(d) FROM (SELECT v <-> q AS d FROM items ORDER BY v <-> q LIMIT k) s $$;
SELECT id AS query, index_dists(v, 10) = exact_dists(v, 10) AS top10_exact,
       index_dists(v, 300) = exact_dists(v, 300) AS all_rows_exact
FROM items WHERE id IN (1, 77, 150, 299) ORDER BY id;
-- A query vector that is not in the table.
SELECT index_dists('{50,50,50,50,50,50,50,50}', 20) = exact_dists('{50,50,50,50,50,50,50,50}', 20) AS exact;
-- The nearest rows themselves.
SELECT array_agg(id) FROM (SELECT id FROM items ORDER BY v <-> '{50,50,50,50,50,50,50,50}' LIMIT 5) s;
SELECT array_agg(id ORDER BY d) FROM (SELECT id, v <-> '{50,50,50,50,50,50,50,50}' d FROM items
                                      WHERE v IS NOT NULL ORDER BY d LIMIT 5) s;
-- The reported distance is the operator's value, bit for bit.
SELECT bool_and(d = v <-> '{1,2,3,4,5,6,7,8}') AS same_distance, count(*) AS rows
FROM (SELECT v, v <-> '{1,2,3,4,5,6,7,8}' AS d FROM items ORDER BY v <-> '{1,2,3,4,5,6,7,8}' LIMIT 50) s;
-- At the default ef_search (40) the first rows still match on this small set.
RESET quarry.hnsw_ef_search;
SELECT index_dists('{50,50,50,50,50,50,50,50}', 5) = exact_dists('{50,50,50,50,50,50,50,50}', 5) AS top5_exact;
-- Without LIMIT the scan returns every row once: the 300 vectors, then the NULL one.
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM items ORDER BY v <-> '{0,0,0,0,0,0,0,0}') s;
-- ORDER BY a query that turns out NULL at run time, through the index: it
-- returns the rows asked for (every row without LIMIT), with NULL distances,
-- as the operator gives.
-- A generic plan's parameter (the same EXPLAIN on every PostgreSQL version):
SET plan_cache_mode = force_generic_plan;
PREPARE null_query(real[]) AS SELECT id, v <-> $1 AS d FROM items ORDER BY v <-> $1 LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE null_query(NULL);
CREATE TEMP TABLE null_rows AS EXECUTE null_query(NULL);
SELECT count(*) AS rows, count(d) AS distances FROM null_rows;
DROP TABLE null_rows;
DEALLOCATE null_query;
RESET plan_cache_mode;
-- A sub-select's NULL, every row (its plan, checked through a filter: 17
-- prints InitPlans otherwise than 15):
CREATE FUNCTION plan_uses(query text, index_name text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE '%Index Scan using ' || index_name || ' %' THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
SELECT plan_uses($$SELECT v <-> (SELECT NULL::real[]) AS d FROM items ORDER BY v <-> (SELECT NULL::real[])$$,
                 'items_l2') AS index_scan;
SELECT count(*), count(d) FROM (SELECT v <-> (SELECT NULL::real[]) AS d FROM items
                                ORDER BY v <-> (SELECT NULL::real[])) s;
-- (A constant NULL is no ordering at all: the planner drops the ORDER BY.)
SELECT count(*) AS rows FROM (SELECT 1 FROM (SELECT id FROM items ORDER BY v <-> NULL::real[]) s) t;
DROP FUNCTION plan_uses(text, text);

-- Inner product and cosine opclasses on the same rows.
CREATE INDEX items_ip ON items USING quarry_hnsw (v quarry_ip_ops);
CREATE INDEX items_cos ON items USING quarry_hnsw (v quarry_cosine_ops) WITH (m = 8, ef_construction = 32);
SELECT indexrelid::regclass, (quarry_hnsw_index_info(indexrelid)).metric, (quarry_hnsw_index_info(indexrelid)).m
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE indrelid = 'items'::regclass AND amname = 'quarry_hnsw' ORDER BY 1;
SET quarry.hnsw_ef_search = 400;
SELECT array_agg(id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <#> '{1,0,0,0,0,0,0,9}' d FROM items
                        WHERE v IS NOT NULL ORDER BY d, id LIMIT 10) s) AS ip_exact
FROM (SELECT id FROM items ORDER BY v <#> '{1,0,0,0,0,0,0,9}' LIMIT 10) s;
SELECT array_agg(id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <=> '{1,0,0,0,0,0,0,9}' d FROM items
                        WHERE v IS NOT NULL ORDER BY d, id LIMIT 10) s) AS cosine_exact
FROM (SELECT id FROM items ORDER BY v <=> '{1,0,0,0,0,0,0,9}' LIMIT 10) s;
RESET quarry.hnsw_ef_search;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <#> '{1,2,3,4,5,6,7,8}' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '{1,2,3,4,5,6,7,8}' LIMIT 3;
-- A query of the wrong size is an error, not a wrong answer.
SELECT id FROM items ORDER BY v <-> '{1,2,3}' LIMIT 1;
RESET enable_seqscan;

-- Options: ranges, ef_construction >= 2 m, dims.
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (m = 1);
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (m = 101);
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (ef_construction = 3);
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (m = 40);
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (m = 20, ef_construction = 30);
CREATE INDEX bad ON items USING quarry_hnsw (v) WITH (dims = 16001);
CREATE INDEX bad ON items USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 4);
CREATE INDEX bad ON items USING quarry_hnsw (v quarry_l2_ops) WITH (nonsense = 4);
CREATE INDEX ok ON items USING quarry_hnsw (v quarry_l2_ops) WITH (m = 4, ef_construction = 8, dims = 8);
SELECT dims, m, ef_construction FROM quarry_hnsw_index_info('ok');
DROP INDEX ok;
-- The default opclass is not guessed: an opclass must be named.
CREATE INDEX bad ON items USING quarry_hnsw (v);
-- Only real[] columns, one column.
CREATE TABLE other (a int, b float8[]);
CREATE INDEX bad ON other USING quarry_hnsw (b quarry_l2_ops);
CREATE INDEX bad ON items USING quarry_hnsw (v quarry_l2_ops, v quarry_ip_ops);
DROP TABLE other;
SET quarry.hnsw_ef_search = 0;
SET quarry.hnsw_ef_search = 1001;
SET quarry.hnsw_max_scan_tuples = 0;

-- Bad vectors at build time.
CREATE TABLE bad_rows (v real[]);
INSERT INTO bad_rows VALUES ('{1,2}'), ('{1,2,3}');
CREATE INDEX ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
TRUNCATE bad_rows;
INSERT INTO bad_rows VALUES ('{1,NaN}');
CREATE INDEX ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
TRUNCATE bad_rows;
INSERT INTO bad_rows VALUES ('{0,0}');
-- A zero vector is no bad row: under cosine it is held as a NULL row
-- (hnsw_zero_vectors.sql), under L2 it is a vector.
CREATE INDEX zero_cos ON bad_rows USING quarry_hnsw (v quarry_cosine_ops);
SELECT null_rows, live FROM quarry_hnsw_index_info('zero_cos');
DROP INDEX zero_cos;
CREATE INDEX zero_ok ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
SELECT null_rows, live FROM quarry_hnsw_index_info('zero_ok');
DROP INDEX zero_ok;
TRUNCATE bad_rows;
INSERT INTO bad_rows VALUES ('{{1,2},{3,4}}');
CREATE INDEX ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
TRUNCATE bad_rows;
INSERT INTO bad_rows SELECT array_fill(1::real, ARRAY[16001]);
CREATE INDEX ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
-- 16,000 dimensions are fine (a node record spans 8 pages).
TRUNCATE bad_rows;
INSERT INTO bad_rows SELECT array_fill((g % 7)::real, ARRAY[16000]) FROM generate_series(1, 20) g;
CREATE INDEX wide ON bad_rows USING quarry_hnsw (v quarry_l2_ops);
SELECT dims, live, node_pages FROM quarry_hnsw_index_info('wide');
SET enable_seqscan = off;
SELECT v[1] AS nearest_to_3 FROM bad_rows ORDER BY v <-> array_fill(3::real, ARRAY[16000]) LIMIT 3;
RESET enable_seqscan;
DROP TABLE bad_rows;

-- The catalog: amvalidate checks every opclass for real.
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE amname = 'quarry_hnsw' ORDER BY opcname;
-- A broken opclass is reported, not accepted.
CREATE FUNCTION broken_support(real[]) RETURNS int4 AS 'SELECT 1' LANGUAGE sql IMMUTABLE;
CREATE OPERATOR CLASS broken_ops FOR TYPE real[] USING quarry_hnsw AS
    OPERATOR 1 <-> (real[], real[]) FOR ORDER BY float_ops,
    OPERATOR 2 <#> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 broken_support(real[]);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'broken_ops';
DROP OPERATOR CLASS broken_ops USING quarry_hnsw;
DROP OPERATOR FAMILY broken_ops USING quarry_hnsw;
DROP FUNCTION broken_support(real[]);

DROP TABLE items;
DROP FUNCTION exact_dists(real[], int);
DROP FUNCTION index_dists(real[], int);
