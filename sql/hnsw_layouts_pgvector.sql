-- quarry_hnsw's compressed layouts (storage = 'sq8', 'sq4') on pgvector's
-- vector and halfvec, every metric, against exact search (pgvector's own
-- operators on a sequential scan): the index ranks by lower bounds from its
-- codes and PostgreSQL reranks by pgvector's operator. Zero vectors under
-- cosine (pgvector's NaN) and NULL vectors come last; a zero query returns
-- every row. Needs pgvector.
CREATE EXTENSION vector;
CREATE EXTENSION quarry_pgvector;
SET client_min_messages = warning;

CREATE TABLE lay_pv (id int, v vector(8), h halfvec(8));
INSERT INTO lay_pv SELECT g, a::vector, a::halfvec
FROM generate_series(1, 2000) g, LATERAL (SELECT ARRAY(SELECT ((g * d * 37) % 101)::real / 10 - 5 FROM generate_series(1, 8) d) a) s;
INSERT INTO lay_pv VALUES (9001, '[0,0,0,0,0,0,0,0]', '[0,0,0,0,0,0,0,0]'), (9002, NULL, NULL);
SET quarry.hnsw_ef_search = 1000; -- exhaustive: exact answers
SET enable_seqscan = off;
CREATE FUNCTION lay_pv_check(ops text, col text, op text, storage text)
RETURNS TABLE (opclass text, layout text, exact_top50 bool, all_rows bigint, zero_query_rows bigint, last_id int, verify bigint)
LANGUAGE plpgsql AS $$
DECLARE
    typ text := CASE col WHEN 'v' THEN 'vector' ELSE 'halfvec' END;
    q text := '[1,2,3,4,-1,-2,-3,0.5]';
    a float8[];
    b float8[];
BEGIN
    EXECUTE format('CREATE INDEX lay_pv_idx ON lay_pv USING quarry_hnsw (%s %s) WITH (storage = %L)', col, ops, storage);
    opclass := ops; layout := storage;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT %1$s %2$s $1::%3$s AS d FROM lay_pv ORDER BY %1$s %2$s $1::%3$s LIMIT 50) s',
                   col, op, typ) INTO a USING q;
    SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT %1$s %2$s $1::%3$s AS d FROM lay_pv ORDER BY %1$s %2$s $1::%3$s LIMIT 50) s',
                   col, op, typ) INTO b USING q;
    SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
    exact_top50 := a = b;
    EXECUTE format('SELECT count(*) FROM (SELECT id FROM lay_pv ORDER BY %s %s $1::%s) s', col, op, typ) INTO all_rows USING q;
    EXECUTE format('SELECT count(*) FROM (SELECT id FROM lay_pv ORDER BY %s %s $1::%s) s', col, op, typ)
        INTO zero_query_rows USING '[0,0,0,0,0,0,0,0]';
    EXECUTE format('SELECT id FROM (SELECT id, row_number() OVER () r FROM (SELECT id FROM lay_pv ORDER BY %s %s $1::%s) s) t ORDER BY r DESC LIMIT 1',
                   col, op, typ) INTO last_id USING q;
    verify := (SELECT count(*) FROM quarry_verify_index('lay_pv_idx'));
    DROP INDEX lay_pv_idx;
    RETURN NEXT;
END $$;
SELECT c.* FROM (VALUES ('quarry_vector_l2_ops', 'v', '<->'), ('quarry_vector_ip_ops', 'v', '<#>'),
                        ('quarry_vector_cosine_ops', 'v', '<=>'), ('quarry_vector_l1_ops', 'v', '<+>'),
                        ('quarry_halfvec_l2_ops', 'h', '<->'), ('quarry_halfvec_ip_ops', 'h', '<#>'),
                        ('quarry_halfvec_cosine_ops', 'h', '<=>'), ('quarry_halfvec_l1_ops', 'h', '<+>')) o(ops, col, op),
    (VALUES ('sq8'), ('sq4')) s(storage), lay_pv_check(o.ops, o.col, o.op, s.storage) c;

DROP TABLE lay_pv;
DROP FUNCTION lay_pv_check;
DROP EXTENSION quarry_pgvector;
DROP EXTENSION vector;
