-- quarry_hnsw's compressed layouts: storage = 'sq8' and 'sq4' keep 8- or
-- 4-bit codes in the index; the scan reranks its candidates by the exact
-- distance to the vectors it reads from the table (an index on an expression
-- returns lower bounds instead, and PostgreSQL reranks).

SET enable_seqscan = off;
SET quarry.hnsw_ef_search = 1000; -- exhaustive on these sizes: exact answers
CREATE FUNCTION lay_vec(g int, dims int DEFAULT 16) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (((g * 7919 + d * 104729 + g * d * 31) % 1009)::real - 300) / 97
                 FROM generate_series(1, dims) d) $$;

-- Bad values are an ERROR naming the option.
CREATE TABLE lay_bad (v real[]);
CREATE INDEX ON lay_bad USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq3');
CREATE INDEX ON lay_bad USING quarry_hnsw (v quarry_l2_ops) WITH (storage = '');
CREATE INDEX ON lay_bad USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'SQ8');
CREATE INDEX lay_bad_v ON lay_bad USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
ALTER INDEX lay_bad_v SET (storage = 'pq');
DROP TABLE lay_bad;

-- Every metric and layout against exact search (no index), top 10 by
-- distance, and the distances a scan shows are the operator's.
CREATE TABLE lay_items (id int PRIMARY KEY, v real[]);
INSERT INTO lay_items SELECT g, lay_vec(g) FROM generate_series(1, 1500) g;
CREATE FUNCTION lay_exact(op text, q real[], k int) RETURNS float8[] LANGUAGE plpgsql
SET enable_indexscan = off SET enable_seqscan = on AS $$
DECLARE r float8[];
BEGIN
    EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM lay_items ORDER BY v %s $1 LIMIT %s) s', op, op, k)
        INTO r USING q;
    RETURN r;
END $$;
CREATE FUNCTION lay_indexed(op text, q real[], k int) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE r float8[];
BEGIN
    EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM lay_items ORDER BY v %s $1 LIMIT %s) s', op, op, k)
        INTO r USING q;
    RETURN r;
END $$;
CREATE FUNCTION lay_check(p_opclass text, op text, p_storage text) RETURNS TABLE (opclass text, storage text, exact_top10 bool, exact_top100 bool, all_rows bigint, verify bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX lay_items_v ON lay_items USING quarry_hnsw (v %s) WITH (m = 8, storage = %L)', p_opclass, p_storage);
    opclass := p_opclass; storage := p_storage;
    exact_top10 := (SELECT bool_and(lay_indexed(op, lay_vec(q * 13), 10) = lay_exact(op, lay_vec(q * 13), 10))
                    FROM generate_series(1, 20) q);
    exact_top100 := lay_indexed(op, lay_vec(77777), 100) = lay_exact(op, lay_vec(77777), 100);
    EXECUTE format('SELECT count(*) FROM (SELECT id FROM lay_items ORDER BY v %s $1) s', op) INTO all_rows USING lay_vec(4242);
    verify := (SELECT count(*) FROM quarry_verify_index('lay_items_v'));
    DROP INDEX lay_items_v;
    RETURN NEXT;
END $$;
SELECT c.* FROM (VALUES ('quarry_l2_ops', '<->'), ('quarry_ip_ops', '<#>'), ('quarry_cosine_ops', '<=>'), ('quarry_l1_ops', '<+>')) o(opclass, op),
    (VALUES ('full'), ('sq8'), ('sq4')) s(storage), lay_check(o.opclass, o.op, s.storage) c;

-- The scan's plan: the index walks the graph by the codes and reranks its
-- candidates by the exact distance from the table.
CREATE INDEX lay_items_sq8 ON lay_items USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
EXPLAIN (costs off) SELECT id FROM lay_items ORDER BY v <-> lay_vec(5) LIMIT 3;
SELECT round((v <-> lay_vec(5))::numeric, 4) AS distance FROM lay_items ORDER BY v <-> lay_vec(5) LIMIT 3; -- 5 and 1014 are equal
-- A filter: the iterative scan goes on until it has its rows.
SELECT count(*) AS filtered_rows FROM (SELECT id FROM lay_items WHERE id % 50 = 0 ORDER BY v <-> lay_vec(5) LIMIT 10) s;
-- The rerank reads rows under the query's snapshot: a row deleted or
-- updated in this transaction is not ranked by its old vector, and the
-- updated row's new vector ranks it.
BEGIN;
DELETE FROM lay_items WHERE id = 5;
UPDATE lay_items SET v = lay_vec(5) WHERE id = 6;
SELECT array_agg(id ORDER BY id) AS nearest_after_changes FROM (SELECT id FROM lay_items ORDER BY v <-> lay_vec(5) LIMIT 3) s;
SELECT count(*) AS rows_after_changes FROM (SELECT id FROM lay_items ORDER BY v <-> lay_vec(5)) s;
ROLLBACK;

-- Size: codes against floats at 256 dimensions (m = 16: 128 bytes of links).
CREATE TABLE lay_size (id int, v real[]);
ALTER TABLE lay_size ALTER v SET STORAGE PLAIN;
INSERT INTO lay_size SELECT g, lay_vec(g, 256) FROM generate_series(1, 2000) g;
CREATE INDEX lay_size_full ON lay_size USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'full');
CREATE INDEX lay_size_sq8 ON lay_size USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq8');
CREATE INDEX lay_size_sq4 ON lay_size USING quarry_hnsw (v quarry_l2_ops) WITH (storage = 'sq4');
SELECT round(pg_relation_size('lay_size_sq8')::numeric / pg_relation_size('lay_size_full'), 2) AS sq8_over_full,
       round(pg_relation_size('lay_size_sq4')::numeric / pg_relation_size('lay_size_full'), 2) AS sq4_over_full,
       pg_relation_size('lay_size_sq4') < pg_relation_size('lay_size_sq8') AS sq4_smaller;
DROP TABLE lay_size;

-- Inserts, updates, deletes, duplicates, NULLs and VACUUM on a compressed
-- index built empty (the first row fixes the dimensions), then the checker.
DROP INDEX lay_items_sq8;
CREATE TABLE lay_dml (id int PRIMARY KEY, v real[]);
CREATE INDEX lay_dml_v ON lay_dml USING quarry_hnsw (v quarry_l2_ops) WITH (m = 4, ef_construction = 16, storage = 'sq4');
INSERT INTO lay_dml SELECT g, lay_vec(g) FROM generate_series(1, 400) g;
INSERT INTO lay_dml SELECT g, lay_vec(7) FROM generate_series(401, 405) g; -- duplicates of row 7
INSERT INTO lay_dml VALUES (406, NULL);
UPDATE lay_dml SET v = lay_vec(id + 5000) WHERE id % 40 = 0;
CREATE FUNCTION lay_dml_exact(q real[], k int) RETURNS bool LANGUAGE sql AS $$
    SELECT (SELECT array_agg(d) FROM (SELECT v <-> q AS d FROM lay_dml ORDER BY v <-> q LIMIT k) i)
         = (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_l2_distance(v, q) d FROM lay_dml
                                                 WHERE v IS NOT NULL ORDER BY d LIMIT k) e) $$;
SELECT lay_dml_exact(lay_vec(7), 10) AS top10_duplicates, lay_dml_exact(lay_vec(5080), 10) AS top10_updated;
SELECT array_agg(id ORDER BY id) AS duplicates_of_7 FROM (SELECT id FROM lay_dml ORDER BY v <-> lay_vec(7) LIMIT 6) s;
SELECT count(*) AS verify_after_inserts FROM quarry_verify_index('lay_dml_v');
DELETE FROM lay_dml WHERE id % 10 = 3 OR id IN (7, 402);
VACUUM lay_dml;
SELECT slots, live, deleted, free FROM quarry_hnsw_index_info('lay_dml_v');
SELECT count(*) AS deleted_rows_returned FROM (SELECT id FROM lay_dml ORDER BY v <-> lay_vec(3) LIMIT 1000) s WHERE id % 10 = 3;
INSERT INTO lay_dml SELECT g, lay_vec(g) FROM generate_series(1001, 1030) g; -- reuses free slots
SELECT slots, live, free FROM quarry_hnsw_index_info('lay_dml_v');
SELECT lay_dml_exact(lay_vec(1013), 10) AS top10_after_reuse, lay_dml_exact(lay_vec(7), 10) AS top10_duplicates;
SELECT count(*) AS rows_and_null FROM (SELECT id FROM lay_dml ORDER BY v <-> lay_vec(3)) s;
SELECT * FROM quarry_verify_index('lay_dml_v');
REINDEX INDEX lay_dml_v;
SELECT * FROM quarry_verify_index('lay_dml_v');
DROP TABLE lay_dml;

-- The same on sq8, with two indexes on one table: L2 built empty (the first
-- row fixes the dimensions) and cosine built on 300 rows already there. Both
-- take inserts, duplicates, a constant vector (codes with step 0), a NULL,
-- updates, deletes, VACUUM and inserts into the freed slots. lay_dml8_differ
-- counts the rankings, of 24 query vectors under both operators, whose top k
-- distances from the index scans differ from the exact ones (the
-- quarry_*_distance functions: no index).
CREATE TABLE lay_dml8 (id int PRIMARY KEY, v real[]);
CREATE INDEX lay_dml8_l2 ON lay_dml8 USING quarry_hnsw (v quarry_l2_ops) WITH (m = 8, storage = 'sq8');
INSERT INTO lay_dml8 SELECT g, lay_vec(g) FROM generate_series(1, 300) g;
CREATE INDEX lay_dml8_cos ON lay_dml8 USING quarry_hnsw (v quarry_cosine_ops) WITH (m = 8, storage = 'sq8');
INSERT INTO lay_dml8 SELECT g, lay_vec(g) FROM generate_series(301, 400) g;
INSERT INTO lay_dml8 SELECT g, lay_vec(11) FROM generate_series(401, 405) g; -- duplicates of row 11
INSERT INTO lay_dml8 VALUES (406, array_fill(2.5::real, ARRAY[16])), (407, NULL);
UPDATE lay_dml8 SET v = lay_vec(id + 5000) WHERE id % 40 = 0;
SELECT i.relname, d.dims, d.live, d.null_rows FROM (VALUES ('lay_dml8_l2'), ('lay_dml8_cos')) i(relname),
    quarry_hnsw_index_info(i.relname::regclass) d;
CREATE FUNCTION lay_dml8_differ(k int) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT lay_vec(q) FROM generate_series(1, 20) q UNION ALL
                          SELECT lay_vec(q) FROM unnest(ARRAY[11, 5080, 1013]) q UNION ALL
                          SELECT array_fill(2.5::real, ARRAY[16])) x(qv),
        LATERAL (VALUES ((SELECT array_agg(d) FROM (SELECT v <-> x.qv AS d FROM lay_dml8 ORDER BY v <-> x.qv LIMIT k) i),
                         (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_l2_distance(v, x.qv) d FROM lay_dml8 ORDER BY d LIMIT k) e)),
                        ((SELECT array_agg(d) FROM (SELECT v <=> x.qv AS d FROM lay_dml8 ORDER BY v <=> x.qv LIMIT k) i),
                         (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_cosine_distance(v, x.qv) d FROM lay_dml8 ORDER BY d LIMIT k) e))) r(scanned, exact)
    WHERE r.scanned IS DISTINCT FROM r.exact $$;
-- Its scans are the indexes'.
EXPLAIN (costs off) SELECT (SELECT array_agg(d) FROM (SELECT t.v <-> q.v AS d FROM lay_dml8 t ORDER BY t.v <-> q.v LIMIT 10) i),
    (SELECT array_agg(d) FROM (SELECT t.v <=> q.v AS d FROM lay_dml8 t ORDER BY t.v <=> q.v LIMIT 10) i) FROM lay_dml8 q WHERE q.id = 1;
SELECT lay_dml8_differ(10) AS top10_differ, lay_dml8_differ(100) AS top100_differ;
SELECT (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM lay_dml8 ORDER BY v <-> lay_vec(11) LIMIT 6) s) AS l2_duplicates_of_11,
       (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM lay_dml8 ORDER BY v <=> lay_vec(11) LIMIT 6) s) AS cos_duplicates_of_11;
SELECT count(*) AS verify_after_inserts FROM (SELECT quarry_verify_index('lay_dml8_l2') UNION ALL SELECT quarry_verify_index('lay_dml8_cos')) s;
DELETE FROM lay_dml8 WHERE id % 10 = 3 OR id IN (11, 402);
VACUUM lay_dml8;
SELECT i.relname, d.slots, d.live, d.deleted, d.free FROM (VALUES ('lay_dml8_l2'), ('lay_dml8_cos')) i(relname),
    quarry_hnsw_index_info(i.relname::regclass) d;
SELECT (SELECT count(*) FROM (SELECT id FROM lay_dml8 ORDER BY v <-> lay_vec(3) LIMIT 1000) s WHERE id % 10 = 3 OR id IN (11, 402)) AS l2_deleted_returned,
       (SELECT count(*) FROM (SELECT id FROM lay_dml8 ORDER BY v <=> lay_vec(3) LIMIT 1000) s WHERE id % 10 = 3 OR id IN (11, 402)) AS cos_deleted_returned;
INSERT INTO lay_dml8 SELECT g, lay_vec(g) FROM generate_series(1001, 1030) g; -- reuses free slots
SELECT i.relname, d.slots, d.live, d.free FROM (VALUES ('lay_dml8_l2'), ('lay_dml8_cos')) i(relname),
    quarry_hnsw_index_info(i.relname::regclass) d;
SELECT lay_dml8_differ(10) AS top10_differ, lay_dml8_differ(100) AS top100_differ;
-- lay_vec has period 1009: row 1020 is another duplicate of row 11.
SELECT (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM lay_dml8 ORDER BY v <-> lay_vec(11) LIMIT 4) s) AS l2_duplicates_of_11,
       (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM lay_dml8 ORDER BY v <=> lay_vec(11) LIMIT 4) s) AS cos_duplicates_of_11;
-- A walk over the whole index returns every row, the NULL last.
SELECT (SELECT count(*) FROM lay_dml8) AS table_rows,
       (SELECT count(*) FROM (SELECT id FROM lay_dml8 ORDER BY v <-> lay_vec(3)) s) AS l2_scan_rows,
       (SELECT count(*) FROM (SELECT id FROM lay_dml8 ORDER BY v <=> lay_vec(3)) s) AS cos_scan_rows,
       (SELECT id FROM lay_dml8 ORDER BY v <-> lay_vec(3) OFFSET (SELECT count(*) - 1 FROM lay_dml8)) AS l2_last,
       (SELECT id FROM lay_dml8 ORDER BY v <=> lay_vec(3) OFFSET (SELECT count(*) - 1 FROM lay_dml8)) AS cos_last;
SELECT * FROM quarry_verify_index('lay_dml8_l2');
SELECT * FROM quarry_verify_index('lay_dml8_cos');
DROP TABLE lay_dml8;
DROP FUNCTION lay_dml8_differ;

-- An expression index and TOASTed (compressed) 784-d values: PostgreSQL
-- reranks by evaluating the ORDER BY expression on the heap tuple.
CREATE TABLE lay_expr (id int, v real[]);
INSERT INTO lay_expr SELECT g, ARRAY(SELECT ((g * d) % 7 + 1)::real FROM generate_series(1, 784) d) FROM generate_series(1, 300) g;
SELECT count(*) > 0 AS some_toasted FROM lay_expr WHERE pg_column_size(v) < 784 * 4;
CREATE FUNCTION lay_half(v real[]) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$ SELECT v[1:392] $$;
CREATE INDEX lay_expr_v ON lay_expr USING quarry_hnsw (lay_half(v) quarry_l2_ops) WITH (storage = 'sq4');
CREATE INDEX lay_expr_w ON lay_expr USING quarry_hnsw (v quarry_cosine_ops) WITH (storage = 'sq8');
SELECT (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, lay_half(v) <-> lay_half(lay_vec(1, 784)) d FROM lay_expr
            ORDER BY lay_half(v) <-> lay_half(lay_vec(1, 784)) LIMIT 5) s) IS NOT NULL AS expression_scan,
       (SELECT array_agg(d) FROM (SELECT lay_half(v) <-> lay_half(lay_vec(1, 784)) d FROM lay_expr
            ORDER BY lay_half(v) <-> lay_half(lay_vec(1, 784)) LIMIT 20) s)
     = (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_l2_distance(lay_half(v), lay_half(lay_vec(1, 784))) d
            FROM lay_expr ORDER BY 1 LIMIT 20) s) AS expression_exact,
       (SELECT array_agg(d) FROM (SELECT v <=> lay_vec(2, 784) d FROM lay_expr ORDER BY v <=> lay_vec(2, 784) LIMIT 20) s)
     = (SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_cosine_distance(v, lay_vec(2, 784)) d
            FROM lay_expr ORDER BY 1 LIMIT 20) s) AS toasted_cosine_exact;
SELECT count(*) AS verify FROM quarry_verify_index('lay_expr_v');
SELECT count(*) AS verify FROM quarry_verify_index('lay_expr_w');
DROP TABLE lay_expr;
DROP TABLE lay_items;
DROP FUNCTION lay_vec, lay_exact, lay_indexed, lay_check, lay_dml_exact, lay_half;
