-- quarry_hnsw: filtered queries (the iterative scan), duplicate vectors, the
-- planner's choices.

-- Deterministic pseudo-random vectors (uniform in [0, 100) per dimension).
CREATE FUNCTION vec(g int, dims int DEFAULT 8) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint4(g * 64 + d)) % 10000)::real / 100 FROM generate_series(1, dims) d) $$;
-- 3,000 vectors; 1% of the rows are in category 'rare'. Queries use vectors
-- that are not in the table (g > 100000).
CREATE TABLE products (id int PRIMARY KEY, category text, v real[]);
INSERT INTO products
SELECT g, CASE WHEN g % 100 = 7 THEN 'rare' WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, vec(g)
FROM generate_series(1, 3000) g;
CREATE INDEX products_v ON products USING quarry_hnsw (v quarry_l2_ops);
ANALYZE products;

-- The planner uses the index for ORDER BY distance LIMIT k (no setting needed)...
EXPLAIN (COSTS OFF) SELECT id FROM products ORDER BY v <-> vec(100001) LIMIT 10;
-- ...but not without an ORDER BY on the distance, nor for another metric.
EXPLAIN (COSTS OFF) SELECT id FROM products WHERE v <-> vec(100001) < 5;
EXPLAIN (COSTS OFF) SELECT id FROM products ORDER BY v <#> vec(100001) LIMIT 10;
-- Two distances: the index orders by one only, so it is not used (ties on the
-- first would not come in the order of the second).
EXPLAIN (COSTS OFF) SELECT id FROM products ORDER BY v <-> vec(100001), v <-> vec(100002) LIMIT 10;
-- With a filter matching 1% of 3,000 rows, sorting them all is cheaper here;
-- on larger tables the index wins. Forced, the filter sits on the index scan.
EXPLAIN (COSTS OFF) SELECT id FROM products WHERE category = 'rare' ORDER BY v <-> vec(100001) LIMIT 10;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM products WHERE category = 'rare' ORDER BY v <-> vec(100001) LIMIT 10;

-- 1% selectivity: far more than ef_search (40) index rows are needed to find
-- 10 'rare' ones; the scan keeps going and returns 10, all rare, in distance
-- order: the exact answer's 10 on this data (an approximate index may miss one).
SELECT count(*) AS rows, bool_and(category = 'rare') AS all_rare
FROM (SELECT id, category FROM products WHERE category = 'rare' ORDER BY v <-> vec(100001) LIMIT 10) s;
CREATE FUNCTION filtered_overlap(q real[], cat text, k int) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT id FROM products WHERE category = cat ORDER BY v <-> q LIMIT k) i
    WHERE id IN (SELECT id FROM products WHERE category = cat ORDER BY quarry_l2_distance(v, q) LIMIT k) $$;
SELECT g AS query, filtered_overlap(vec(g), 'rare', 10) AS rare_of_10,
       filtered_overlap(vec(g), 'even', 10) AS even_of_10
FROM generate_series(100001, 100005) g;
-- All 30 rare rows, when asked for 50.
SELECT count(*) FROM (SELECT id FROM products WHERE category = 'rare' ORDER BY v <-> vec(100002) LIMIT 50) s;
-- A filter nothing matches ends when the graph is walked: no rows, no error.
SELECT count(*) FROM (SELECT id FROM products WHERE category = 'none' ORDER BY v <-> vec(100002) LIMIT 10) s;
-- quarry.hnsw_max_scan_tuples bounds the walk: with 100 the scan stops early
-- and returns fewer rare rows (one in a hundred are rare).
SET quarry.hnsw_max_scan_tuples = 100;
SELECT count(*) <= 5 AS bounded FROM (SELECT id FROM products WHERE category = 'rare' ORDER BY v <-> vec(100002) LIMIT 10) s;
RESET quarry.hnsw_max_scan_tuples;
-- Rows keep coming in distance order all the way through.
SELECT bool_and(d >= prev) AS ordered, count(*) AS rows
FROM (SELECT d, lag(d, 1, 0) OVER (ORDER BY n) AS prev
      FROM (SELECT row_number() OVER () AS n, d
            FROM (SELECT v <-> vec(100009) AS d FROM products ORDER BY v <-> vec(100009)) a) b) c;

-- Duplicates: rows with equal vectors. They hang on one graph node and come
-- right after it; none is lost, none comes twice.
CREATE TABLE dups (id int PRIMARY KEY, v real[]);
INSERT INTO dups SELECT g, vec(g % 50, 4) FROM generate_series(1, 1000) g; -- 20 copies of 50 vectors
CREATE INDEX dups_v ON dups USING quarry_hnsw (v quarry_l2_ops);
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows FROM (SELECT id FROM dups ORDER BY v <-> vec(3, 4)) s;
SELECT count(*) AS copies, count(DISTINCT v) AS vectors
FROM (SELECT id, v FROM dups ORDER BY v <-> vec(3, 4) LIMIT 20) s;
SELECT array_agg(id ORDER BY id) = (SELECT array_agg(id ORDER BY id) FROM dups WHERE v = vec(3, 4)) AS the_20_copies
FROM (SELECT id FROM dups ORDER BY v <-> vec(3, 4) LIMIT 20) s;
-- Inserted duplicates, and deleting the graph node of a duplicated vector:
-- one of its copies takes its place.
INSERT INTO dups SELECT g, vec(g % 50, 4) FROM generate_series(1001, 1100) g;
SELECT count(*) FROM (SELECT id FROM dups ORDER BY v <-> vec(3, 4)) s;
DELETE FROM dups WHERE id % 3 = 0;
VACUUM dups;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows, count(*) FILTER (WHERE id % 3 = 0) AS deleted_returned
FROM (SELECT id FROM dups ORDER BY v <-> vec(3, 4)) s;
SELECT count(*) FROM dups;
DELETE FROM dups WHERE v = vec(7, 4);
VACUUM dups;
SELECT count(*) AS rows, count(*) FILTER (WHERE v = vec(7, 4)) AS deleted_vector
FROM (SELECT id, v FROM dups ORDER BY v <-> vec(7, 4)) s;
SELECT live, deleted FROM quarry_hnsw_index_info('dups_v');
RESET enable_seqscan;

DROP TABLE dups;
DROP TABLE products;
DROP FUNCTION filtered_overlap(real[], text, int);
DROP FUNCTION vec(int, int);
