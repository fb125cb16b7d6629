-- Hybrid search on pgvector's vector and halfvec columns (quarry_pgvector's
-- operator classes), every metric, against the two-CTE recipe in plain SQL
-- with pgvector's operators on a sequential scan. Needs pgvector.
CREATE EXTENSION vector;
CREATE EXTENSION quarry_pgvector;
SET quarry.hnsw_ef_search = 400;

CREATE TABLE hybv (id int PRIMARY KEY, body text, v vector(4), h halfvec(4));
INSERT INTO hybv
SELECT g, (ARRAY['white whale', 'whale ship', 'sea captain', 'white sea', 'ship harpoon'])[1 + g % 5] || ' ' || g,
       ARRAY[sin(g), cos(g * 1.7), ((g * 37) % 101) / 101.0, 0.5 + ((g * 11) % 7) / 7.0]::real[]::vector,
       ARRAY[sin(g), cos(g * 1.7), ((g * 37) % 101) / 101.0, 0.5 + ((g * 11) % 7) / 7.0]::real[]::halfvec
FROM generate_series(1, 60) g;
CREATE INDEX hybv_bm25 ON hybv USING quarry_bm25 (body);

-- One call against the recipe, for the column `col` under operator `op`:
-- 'same' or both lists. The same rows in the same order, scores within 1e-6:
-- pgvector's operators on halfvec sum in another order than the index's
-- kernels, which the index scan reports.
CREATE FUNCTION hybv_same(col text, op text, q text, vec text, depth int, fusion text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    got float8[];
    want float8[];
BEGIN
    EXECUTE format('SELECT array_agg(ARRAY[id, s]) FROM (
        SELECT id, -quarry_hybrid(body, %1$L, %2$I, %3$L, depth => %4$s, fusion => %5$L) AS s FROM hybv
        ORDER BY quarry_hybrid(body, %1$L, %2$I, %3$L, depth => %4$s, fusion => %5$L) LIMIT 20) x',
        q, col, vec, depth, fusion) INTO got;
    EXECUTE format($f$
        WITH t AS (SELECT id, -(body <@> %1$L) AS s, row_number() OVER (ORDER BY body <@> %1$L, id)::int AS r
                   FROM hybv WHERE body @@@ %1$L ORDER BY r LIMIT %4$s),
             v AS (SELECT id, %2$I %6$s %3$L AS d, row_number() OVER (ORDER BY %2$I %6$s %3$L, id)::int AS r
                   FROM hybv ORDER BY r LIMIT %4$s),
             tr AS (SELECT min(s) AS lo, max(s) AS hi FROM t),
             vr AS (SELECT min(d) AS lo, max(d) AS hi FROM v),
             f AS (SELECT coalesce(t.id, v.id) AS id, t.r AS tr, v.r AS vr,
                          CASE WHEN %5$L = 'rrf' THEN coalesce(1 / (60.0::float8 + t.r), 0) + coalesce(1 / (60.0::float8 + v.r), 0)
                          ELSE CASE WHEN t.id IS NULL THEN 0 ELSE 0.5 * CASE WHEN tr.hi > tr.lo THEN (t.s - tr.lo) / (tr.hi - tr.lo) ELSE 1 END END
                             + CASE WHEN v.id IS NULL THEN 0 ELSE 0.5 * CASE WHEN vr.hi > vr.lo THEN (vr.hi - v.d) / (vr.hi - vr.lo) ELSE 1 END END
                          END AS s
                   FROM t FULL JOIN v ON t.id = v.id, tr, vr)
        SELECT array_agg(ARRAY[id, s] ORDER BY s DESC, tr NULLS LAST, vr NULLS LAST)
        FROM (SELECT * FROM f ORDER BY s DESC, tr NULLS LAST, vr NULLS LAST LIMIT 20) x $f$,
        q, col, vec, depth, fusion, op) INTO want;
    IF array_length(got, 1) = array_length(want, 1) AND NOT EXISTS (
        SELECT FROM generate_subscripts(got, 1) i WHERE got[i][1] <> want[i][1] OR abs(got[i][2] - want[i][2]) > 1e-6) THEN
        RETURN 'same ' || array_length(got, 1) || ' rows';
    END IF;
    RETURN got::text || ' | ' || want::text;
END $$;

CREATE INDEX hybv_v ON hybv USING quarry_hnsw (v quarry_vector_l2_ops);
CREATE INDEX hybv_h ON hybv USING quarry_hnsw (h quarry_halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hybv ORDER BY quarry_hybrid(body, 'whale', v, '[0.1,0.2,0.3,0.4]') LIMIT 5;
SELECT hybv_same('v', '<->', 'white whale', '[0.1,0.2,0.3,0.4]', 10, 'rrf');
SELECT hybv_same('h', '<->', 'white whale', '[0.1,0.2,0.3,0.4]', 10, 'linear');
DROP INDEX hybv_v, hybv_h;
CREATE INDEX hybv_v ON hybv USING quarry_hnsw (v quarry_vector_ip_ops);
CREATE INDEX hybv_h ON hybv USING quarry_hnsw (h quarry_halfvec_ip_ops);
SELECT hybv_same('v', '<#>', 'sea captain', '[0.5,-0.2,0.3,0.9]', 8, 'rrf');
SELECT hybv_same('h', '<#>', 'sea captain', '[0.5,-0.2,0.3,0.9]', 8, 'linear');
DROP INDEX hybv_v, hybv_h;
CREATE INDEX hybv_v ON hybv USING quarry_hnsw (v quarry_vector_cosine_ops);
CREATE INDEX hybv_h ON hybv USING quarry_hnsw (h quarry_halfvec_cosine_ops);
SELECT hybv_same('v', '<=>', 'ship', '[0.5,-0.2,0.3,0.9]', 12, 'rrf');
SELECT hybv_same('h', '<=>', 'ship', '[0.5,-0.2,0.3,0.9]', 12, 'linear');
DROP INDEX hybv_v, hybv_h;
CREATE INDEX hybv_v ON hybv USING quarry_hnsw (v quarry_vector_l1_ops);
CREATE INDEX hybv_h ON hybv USING quarry_hnsw (h quarry_halfvec_l1_ops);
SELECT hybv_same('v', '<+>', 'harpoon white', '[1,0,0,1]', 6, 'rrf');
SELECT hybv_same('h', '<+>', 'harpoon white', '[1,0,0,1]', 6, 'linear');
-- A query vector of the wrong dimension.
SELECT id FROM hybv ORDER BY quarry_hybrid(body, 'whale', v, '[1,2,3]') LIMIT 1;

DROP TABLE hybv;
DROP FUNCTION hybv_same;
RESET quarry.hnsw_ef_search;
DROP EXTENSION quarry_pgvector;
DROP EXTENSION vector;
