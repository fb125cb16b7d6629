-- quarry_verify_index on quarry_hnsw: a sound index reports no rows through
-- builds, inserts, duplicates, updates, deletes, rolled-back inserts and
-- VACUUM, for all three operator classes; an index whose expression changed
-- under it reports the rows whose vectors no longer match; REINDEX fixes it.
-- (test/t/020_hnsw_corruption.sh overwrites pages and checks the reports.)
CREATE FUNCTION vvec(g int, dims int DEFAULT 8) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT ((g * 7919 + d * 104729 + g * d * 31) % 1009)::real / 10 - 50
                 FROM generate_series(1, dims) d) $$;
CREATE TABLE hv (id int PRIMARY KEY, v real[]);
INSERT INTO hv SELECT g, vvec(g) FROM generate_series(1, 3000) g;
INSERT INTO hv SELECT g, vvec(g % 100) FROM generate_series(3001, 3300) g; -- duplicates
INSERT INTO hv VALUES (3301, NULL);
CREATE INDEX hv_l2 ON hv USING quarry_hnsw (v quarry_l2_ops) WITH (m = 6, ef_construction = 20);
CREATE INDEX hv_ip ON hv USING quarry_hnsw (v quarry_ip_ops) WITH (m = 6, ef_construction = 20);
CREATE INDEX hv_cos ON hv USING quarry_hnsw (v quarry_cosine_ops) WITH (m = 6, ef_construction = 20);
SELECT i, count(p) AS problems FROM unnest(ARRAY['hv_l2', 'hv_ip', 'hv_cos']) i
LEFT JOIN LATERAL quarry_verify_index(i::regclass) p ON true GROUP BY i ORDER BY i;

-- Inserts (new nodes, new duplicates, new duplicates of duplicates), updates,
-- deletes, an insert rolled back (its entries point to dead rows).
INSERT INTO hv SELECT g, vvec(g) FROM generate_series(3302, 4000) g;
INSERT INTO hv SELECT g, vvec(g % 150) FROM generate_series(4001, 4200) g;
UPDATE hv SET v = vvec(id + 50000) WHERE id % 7 = 0;
DELETE FROM hv WHERE id % 11 = 0;
BEGIN;
INSERT INTO hv SELECT g, vvec(g) FROM generate_series(5001, 5100) g;
ROLLBACK;
SELECT i, count(p) AS problems FROM unnest(ARRAY['hv_l2', 'hv_ip', 'hv_cos']) i
LEFT JOIN LATERAL quarry_verify_index(i::regclass) p ON true GROUP BY i ORDER BY i;

-- VACUUM frees the dead rows' slots and repairs the graph; inserts reuse the
-- slots; a second round of deletes hits primaries of duplicate chains.
VACUUM (INDEX_CLEANUP ON) hv;
SELECT free > 0 AS has_free_slots FROM quarry_hnsw_index_info('hv_l2');
INSERT INTO hv SELECT g, vvec(g) FROM generate_series(6001, 6500) g;
DELETE FROM hv WHERE id % 3 = 0 OR id BETWEEN 1 AND 100;
UPDATE hv SET v = vvec(id % 40) WHERE id % 13 = 0;
VACUUM (INDEX_CLEANUP ON) hv;
-- A VACUUM of a few rows may skip the indexes: their entries then point to
-- LP_DEAD slots, which is sound.
DELETE FROM hv WHERE id IN (6001, 6002);
VACUUM hv;
SELECT i, count(p) AS problems FROM unnest(ARRAY['hv_l2', 'hv_ip', 'hv_cos']) i
LEFT JOIN LATERAL quarry_verify_index(i::regclass) p ON true GROUP BY i ORDER BY i;
SELECT live = (SELECT count(v) FROM hv) AS live_nodes_match FROM quarry_hnsw_index_info('hv_l2');

-- Rows of this transaction, not committed yet, are in the index too.
BEGIN;
INSERT INTO hv SELECT g, vvec(g) FROM generate_series(7001, 7050) g;
SELECT count(*) AS problems FROM quarry_verify_index('hv_l2');
COMMIT;

-- An index created empty (the first row fixes its dimensions), and a partial one.
CREATE TABLE hv_small (id int, v real[]);
CREATE INDEX hv_small_v ON hv_small USING quarry_hnsw (v quarry_l2_ops);
SELECT count(*) AS problems FROM quarry_verify_index('hv_small_v');
INSERT INTO hv_small SELECT g, vvec(g, 3) FROM generate_series(1, 50) g;
CREATE INDEX hv_small_part ON hv_small USING quarry_hnsw (v quarry_l2_ops) WHERE id % 2 = 0;
SELECT count(*) AS problems FROM quarry_verify_index('hv_small_v');
SELECT count(*) AS problems FROM quarry_verify_index('hv_small_part');

-- An expression whose function changed after the build: the index holds the
-- old vectors, and the checker names every row that differs (here every tenth
-- under cosine, where [0,0,1] and [0,0,2] are the same unit vector; then, with
-- two dimensions instead of three, all of them).
CREATE FUNCTION hv_emb(id int) RETURNS real[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN ARRAY[id % 7, id % 5, id % 3]; END $$;
CREATE TABLE hv_expr (id int);
INSERT INTO hv_expr SELECT generate_series(1, 100);
CREATE INDEX hv_expr_e ON hv_expr USING quarry_hnsw ((hv_emb(id)) quarry_cosine_ops);
SELECT count(*) AS problems FROM quarry_verify_index('hv_expr_e');
CREATE OR REPLACE FUNCTION hv_emb(id int) RETURNS real[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN ARRAY[id % 7, id % 5, id % 3 + (id % 10 = 0)::int]; END $$;
SELECT * FROM quarry_verify_index('hv_expr_e');
CREATE OR REPLACE FUNCTION hv_emb(id int) RETURNS real[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN ARRAY[id % 7, id % 5]; END $$;
SELECT * FROM quarry_verify_index('hv_expr_e') p WHERE p NOT LIKE 'row (0,%' OR p LIKE 'row (0,1)%';
CREATE OR REPLACE FUNCTION hv_emb(id int) RETURNS real[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN ARRAY[id % 7, id % 5, id % 3 + (id % 10 = 0)::int]; END $$;
REINDEX INDEX hv_expr_e;
SELECT count(*) AS problems FROM quarry_verify_index('hv_expr_e');

DROP TABLE hv, hv_small, hv_expr;
DROP FUNCTION vvec(int, int), hv_emb(int);
