-- Hybrid search: ORDER BY quarry_hybrid(...) against the two-CTE recipe
-- written in plain SQL (README "Hybrid search"): each side computed by a
-- sequential scan and a sort (<@> and the distance operators give the
-- index's values bit for bit), FULL JOIN, the fusion formula. Both fusions,
-- filters, ties, NULL text and NULL vector rows, one side empty, every
-- metric, joins, CTEs, prepared statements, EXPLAIN, and the errors.
SET quarry.hnsw_ef_search = 400; -- the tables are small: the HNSW search is exact

-- 80 rows: a NULL body every 11th row, a NULL vector every 13th, three
-- categories; bodies from a few words so that BM25 scores tie.
CREATE FUNCTION hyb_vec(g int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[sin(g)::real, cos(g * 1.7)::real, ((g * 37) % 101)::real / 101, ((g * 11) % 7)::real / 7] $$;
CREATE TABLE hyb (id int PRIMARY KEY, cat text, body text, emb real[]);
INSERT INTO hyb
SELECT g, (ARRAY['a', 'b', 'c'])[1 + g % 3],
       CASE WHEN g % 11 = 0 THEN NULL
            ELSE (ARRAY['white whale', 'whale ship', 'sea captain', 'white sea', 'ship harpoon', 'the captain sails',
                        'whale whale oil'])[1 + g % 7] || ' ' || (ARRAY['north', 'south', 'east'])[1 + g % 3] END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE hyb_vec(g) END
FROM generate_series(1, 80) g;
CREATE INDEX hyb_bm25 ON hyb USING quarry_bm25 (body);
CREATE INDEX hyb_l2 ON hyb USING quarry_hnsw (emb quarry_l2_ops);
-- A copy `tbl` of hyb's rows with its own BM25 index and a quarry_hnsw
-- index of `opclass` (`options`: its WITH clause, if any).
CREATE FUNCTION hyb_copy(tbl text, opclass text, options text DEFAULT '') RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE hyb)', tbl);
    EXECUTE format('INSERT INTO %I SELECT * FROM hyb ORDER BY id', tbl);
    EXECUTE format('CREATE INDEX ON %I USING quarry_bm25 (body)', tbl);
    EXECUTE format('CREATE INDEX ON %I USING quarry_hnsw (emb %s) %s', tbl, opclass, options);
END $$;
-- The same rows under the other metrics.
SELECT hyb_copy('hyb_ip', 'quarry_ip_ops'), hyb_copy('hyb_cos', 'quarry_cosine_ops'), hyb_copy('hyb_l1', 'quarry_l1_ops');

-- The one-call form: ranks and values of the fused rows, best first.
CREATE FUNCTION hyb_run(tbl text, q quarry_query, v real[], depth int, fusion text, k float8, w float8,
                        filter text DEFAULT 'true', n int DEFAULT 1000)
RETURNS TABLE (ord bigint, id int, score float8, text_rank int, text_score float8, vector_rank int, vector_distance float8)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT row_number() OVER (), s.id, (d).score, (d).text_rank, (d).text_score, (d).vector_rank, (d).vector_distance
         FROM (SELECT id, quarry_hybrid_detail(body, $1, emb, $2, $3, $4, $5, $6) AS d FROM %s WHERE %s
               ORDER BY quarry_hybrid(body, $1, emb, $2, $3, $4, $5, $6) LIMIT %s) s', tbl, filter, n)
        USING q, v, depth, fusion, k, w;
END $$;

-- The recipe: two ordered CTEs of `depth` candidates, a FULL JOIN, the formula.
-- Text ties in index order (here the id's), vector ties by id; fused ties by
-- text rank, then vector rank, absent last.
CREATE FUNCTION hyb_recipe(tbl text, op text, q quarry_query, v real[], depth int, fusion text, k float8, w float8,
                           filter text DEFAULT 'true', n int DEFAULT 1000)
RETURNS TABLE (ord bigint, id int, score float8, text_rank int, text_score float8, vector_rank int, vector_distance float8)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($f$
        WITH t AS (
            SELECT id, -(body <@> $1) AS s, row_number() OVER (ORDER BY body <@> $1, id)::int AS r
            FROM %1$s WHERE body @@@ $1 AND (%2$s) ORDER BY r LIMIT $3),
        v AS (
            SELECT id, emb %3$s $2 AS d, row_number() OVER (ORDER BY emb %3$s $2, id)::int AS r
            FROM %1$s WHERE emb IS NOT NULL AND $2 IS NOT NULL AND (%2$s) ORDER BY r LIMIT $3),
        tr AS (SELECT min(s) AS lo, max(s) AS hi FROM t),
        vr AS (SELECT min(d) AS lo, max(d) AS hi FROM v),
        f AS (
            SELECT coalesce(t.id, v.id) AS id, t.r AS tr, t.s AS ts, v.r AS vr, v.d AS vd,
                   CASE WHEN $4 = 'rrf'
                        THEN coalesce(1 / ($5 + t.r), 0) + coalesce(1 / ($5 + v.r), 0)
                        ELSE CASE WHEN t.id IS NULL THEN 0
                                  ELSE $6 * CASE WHEN tr.hi > tr.lo THEN (t.s - tr.lo) / (tr.hi - tr.lo) ELSE 1 END END
                           + CASE WHEN v.id IS NULL THEN 0
                                  ELSE (1 - $6) * CASE WHEN vr.hi > vr.lo THEN (vr.hi - v.d) / (vr.hi - vr.lo) ELSE 1 END END
                   END AS score
            FROM t FULL JOIN v ON t.id = v.id, tr, vr)
        SELECT row_number() OVER (ORDER BY score DESC, tr NULLS LAST, vr NULLS LAST), id, score, tr, ts, vr, vd
        FROM f ORDER BY 1 LIMIT %4$s $f$, tbl, filter, op, n)
        USING q, v, depth, fusion, k, w;
END $$;

-- Whether the one-call form returns the recipe's rows, ranks and scores, bit for bit.
CREATE FUNCTION hyb_same(tbl text, op text, q quarry_query, v real[], depth int DEFAULT 100, fusion text DEFAULT 'rrf',
                         k float8 DEFAULT 60, w float8 DEFAULT 0.5, filter text DEFAULT 'true', n int DEFAULT 1000)
RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN a IS NOT DISTINCT FROM b THEN 'same ' || coalesce(cardinality(a), 0) || ' rows'
                ELSE 'DIFFERENT: ' || coalesce(a::text, '{}') || ' vs ' || coalesce(b::text, '{}') END
    FROM (SELECT array_agg(h ORDER BY h.ord) AS a FROM hyb_run(tbl, q, v, depth, fusion, k, w, filter, n) h) x,
         (SELECT array_agg(r ORDER BY r.ord) AS b FROM hyb_recipe(tbl, op, q, v, depth, fusion, k, w, filter, n) r) y $$;

-- EXPLAIN ANALYZE's lines, the same on every version (18 prints rows=10.00).
CREATE FUNCTION hyb_explain(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || query LOOP
        RETURN NEXT regexp_replace(line, 'rows=(\d+)\.00', 'rows=\1');
    END LOOP;
END $$;

-- One node names both indexes; the fused value comes from it.
EXPLAIN (COSTS OFF)
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000)) LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, quarry_hybrid(body, 'white whale', emb, '{0.1,0.2,0.3,0.4}') FROM hyb
ORDER BY quarry_hybrid(body, 'white whale', emb, '{0.1,0.2,0.3,0.4}') LIMIT 3;
SELECT hyb_explain($q$SELECT id FROM hyb WHERE cat = 'a'
ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000), depth => 10, fusion => 'linear', weight => 0.7) LIMIT 10$q$);

-- The result, with each side's rank and value (NULL where a side did not rank the row).
SELECT id, body, (quarry_hybrid_detail(body, 'white whale', emb, hyb_vec(1000), depth => 8)).*
FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000), depth => 8) LIMIT 12;
SELECT id, -quarry_hybrid(body, 'white whale', emb, hyb_vec(1000), depth => 8) AS fused
FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000), depth => 8) LIMIT 3;

-- Against the recipe: both fusions, several depths, k and weights.
SELECT hyb_same('hyb', '<->', 'white whale', hyb_vec(1000));
SELECT hyb_same('hyb', '<->', 'white whale', hyb_vec(1000), depth => 5);
SELECT hyb_same('hyb', '<->', 'captain sea', hyb_vec(2000), depth => 20, k => 1);
SELECT hyb_same('hyb', '<->', 'whale ship', hyb_vec(3000), depth => 30, fusion => 'linear');
SELECT hyb_same('hyb', '<->', 'whale ship', hyb_vec(3000), depth => 10, fusion => 'linear', w => 0.2);
SELECT hyb_same('hyb', '<->', 'harpoon', hyb_vec(4000), depth => 10, fusion => 'linear', w => 1);
SELECT hyb_same('hyb', '<->', 'harpoon', hyb_vec(4000), depth => 10, fusion => 'linear', w => 0);
SELECT hyb_same('hyb', '<->', 'white north', hyb_vec(5000), depth => 1000);
-- Parsed queries.
SELECT hyb_same('hyb', '<->', quarry_query_parse('+whale -ship'), hyb_vec(6000), depth => 10);
SELECT hyb_same('hyb', '<->', quarry_query_parse('"white sea" captain'), hyb_vec(6000), depth => 10, fusion => 'linear');
-- Every metric.
SELECT hyb_same('hyb_ip', '<#>', 'white whale', hyb_vec(7000), depth => 15);
SELECT hyb_same('hyb_cos', '<=>', 'white whale', hyb_vec(7000), depth => 15, fusion => 'linear', w => 0.3);
SELECT hyb_same('hyb_l1', '<+>', 'white whale', hyb_vec(7000), depth => 15);
-- Filters apply to each side before fusion: `depth` candidates that pass.
SELECT hyb_same('hyb', '<->', 'white whale', hyb_vec(1000), depth => 6, filter => 'cat = ''b''');
SELECT hyb_same('hyb', '<->', 'whale', hyb_vec(1000), depth => 4, fusion => 'linear', filter => 'id % 4 = 1');
SELECT count(*) AS ten_rows FROM hyb_run('hyb', 'sea', hyb_vec(1000), 10, 'rrf', 60, 0.5, 'cat = ''c'' AND id > 40', 10);
-- x IN (SELECT ...) too (the planner would make it a join above the scan,
-- after fusion; it checks x = ANY (ARRAY(SELECT ...)) on each candidate).
CREATE TABLE hyb_allowed (id int);
INSERT INTO hyb_allowed SELECT g FROM generate_series(1, 200, 3) g;
SELECT hyb_same('hyb', '<->', 'white whale', hyb_vec(1000), depth => 6, filter => 'id IN (SELECT id FROM hyb_allowed)');
SELECT count(*) AS ten_rows FROM hyb_run('hyb', 'sea', hyb_vec(1000), 10, 'rrf', 60, 0.5, 'cat <> ''a'' AND id IN (SELECT id FROM hyb_allowed)', 10);
-- One side empty: no row has the words, a NULL query, a NULL vector.
SELECT hyb_same('hyb', '<->', 'zebra', hyb_vec(1000), depth => 5);
SELECT hyb_same('hyb', '<->', NULL, hyb_vec(1000), depth => 5, fusion => 'linear');
SELECT hyb_same('hyb', '<->', 'whale', NULL, depth => 5);
SELECT hyb_same('hyb', '<->', 'zebra', NULL, depth => 5);
-- Rows with a NULL body are ranked by their vector only, rows with a NULL
-- vector by their text only.
SELECT h.id, d.body IS NULL AS null_body, d.emb IS NULL AS null_vector, h.text_rank, h.vector_rank
FROM hyb_run('hyb', 'white', hyb_vec(22), 80, 'rrf', 60, 0.5) h JOIN hyb d USING (id)
WHERE h.id % 11 = 0 OR h.id % 13 = 0 ORDER BY h.ord LIMIT 6;
-- Ties: equal fused scores go to the row the text side ranks (lower rank
-- first), then to the vector side's order.
SELECT h.ord, h.id, h.score, h.text_rank, h.vector_rank
FROM hyb_run('hyb', 'harpoon', hyb_vec(1), 3, 'rrf', 60, 0.5) h;
SELECT hyb_same('hyb', '<->', 'harpoon', hyb_vec(1), depth => 3);

-- In a join, a CTE, a subquery, a LATERAL subquery per query, a view over the
-- ranked rows.
CREATE TABLE hyb_cats (cat text PRIMARY KEY, label text);
INSERT INTO hyb_cats VALUES ('a', 'Alpha'), ('b', 'Beta'), ('c', 'Gamma');
SELECT h.id, c.label FROM hyb h JOIN hyb_cats c USING (cat)
ORDER BY quarry_hybrid(h.body, 'white whale', h.emb, hyb_vec(1000), depth => 8) LIMIT 5;
SELECT array_agg(id ORDER BY ord) = (SELECT array_agg(id ORDER BY ord) FROM hyb_recipe('hyb', '<->', 'white whale', hyb_vec(1000), 8, 'rrf', 60, 0.5, 'true', 5)) AS join_same
FROM (SELECT h.id, row_number() OVER () AS ord FROM (
    SELECT h.id FROM hyb h JOIN hyb_cats c USING (cat)
    ORDER BY quarry_hybrid(h.body, 'white whale', h.emb, hyb_vec(1000), depth => 8) LIMIT 5) h) x;
WITH ranked AS (
    SELECT id, cat, -quarry_hybrid(body, 'sea captain', emb, hyb_vec(77), depth => 10) AS fused FROM hyb
    ORDER BY quarry_hybrid(body, 'sea captain', emb, hyb_vec(77), depth => 10) LIMIT 4)
SELECT r.id, c.label, round(r.fused::numeric, 6) AS fused FROM ranked r JOIN hyb_cats c USING (cat) ORDER BY r.fused DESC, r.id;
-- The score as a column of a subquery, ordered outside (the subquery is pulled up).
SELECT id FROM (SELECT id, quarry_hybrid(body, 'sea captain', emb, hyb_vec(77), depth => 10) AS s FROM hyb) x
ORDER BY s LIMIT 4;
CREATE TABLE hyb_queries (qid int, words text, v real[]);
INSERT INTO hyb_queries VALUES (1, 'white whale', hyb_vec(1000)), (2, 'sea captain', hyb_vec(77));
SELECT q.qid, r.id, r.rank FROM hyb_queries q, LATERAL (
    SELECT id, row_number() OVER () AS rank FROM (SELECT id FROM hyb
        ORDER BY quarry_hybrid(body, quarry_query(q.words), emb, q.v, depth => 10) LIMIT 3) s) r
ORDER BY q.qid, r.rank;
SELECT q.qid, (SELECT array_agg(id ORDER BY ord) FROM hyb_recipe('hyb', '<->', quarry_query(q.words), q.v, 10, 'rrf', 60, 0.5, 'true', 3)) AS recipe
FROM hyb_queries q ORDER BY q.qid;
-- ORDER BY ... DESC: the same scan, sorted the other way above it.
EXPLAIN (COSTS OFF)
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000)) DESC LIMIT 3;

-- Prepared statements, with a generic plan.
SET plan_cache_mode = force_generic_plan;
PREPARE hyb_prep(text, real[], int, text) AS
SELECT id FROM hyb WHERE cat <> 'c' ORDER BY quarry_hybrid(body, quarry_query($1), emb, $2, depth => $3, fusion => $4) LIMIT 6;
EXPLAIN (COSTS OFF) EXECUTE hyb_prep('white whale', hyb_vec(1000), 10, 'rrf');
EXECUTE hyb_prep('white whale', hyb_vec(1000), 10, 'rrf');
SELECT array_agg(id ORDER BY ord) AS recipe FROM hyb_recipe('hyb', '<->', 'white whale', hyb_vec(1000), 10, 'rrf', 60, 0.5, 'cat <> ''c''', 6);
EXECUTE hyb_prep('sea', hyb_vec(2000), 5, 'linear');
SELECT array_agg(id ORDER BY ord) AS recipe FROM hyb_recipe('hyb', '<->', 'sea', hyb_vec(2000), 5, 'linear', 60, 0.5, 'cat <> ''c''', 6);
EXECUTE hyb_prep('zebra', hyb_vec(3000), 3, 'rrf');
SELECT array_agg(id ORDER BY ord) AS recipe FROM hyb_recipe('hyb', '<->', 'zebra', hyb_vec(3000), 3, 'rrf', 60, 0.5, 'cat <> ''c''', 6);
DEALLOCATE hyb_prep;
-- Both queries computed while the statement runs, and a filter that
-- allocates for every candidate it reads: the queries must outlive the
-- expression context the filter resets (the vector side reads its query
-- after the text side's candidates were filtered).
PREPARE hyb_prep2(text, text) AS
SELECT id FROM hyb WHERE lower(cat) || repeat('x', 200) <> 'c'
ORDER BY quarry_hybrid(body, quarry_query($1), emb, $2::real[], depth => 10) LIMIT 6;
EXECUTE hyb_prep2('white whale', hyb_vec(1000)::text);
SELECT array_agg(id ORDER BY ord) AS recipe
FROM hyb_recipe('hyb', '<->', 'white whale', hyb_vec(1000), 10, 'rrf', 60, 0.5, 'lower(cat) || repeat(''x'', 200) <> ''c''', 6);
DEALLOCATE hyb_prep2;
RESET plan_cache_mode;
-- A PL/pgSQL loop: one cached plan, new parameters each time.
DO $$
DECLARE
    r record;
    got int[];
    want int[];
BEGIN
    FOR r IN SELECT * FROM (VALUES ('white whale', 1000, 10, 'rrf'), ('sea', 2000, 5, 'linear'), ('zebra', 3000, 10, 'rrf'),
                                   ('ship harpoon', 4000, 50, 'linear'), ('captain', 5000, 7, 'rrf'), ('whale', 6000, 2, 'rrf'),
                                   ('white', 7000, 9, 'linear')) v(q, g, depth, fusion)
    LOOP
        SELECT array_agg(id) INTO got FROM (SELECT id FROM hyb
            ORDER BY quarry_hybrid(body, quarry_query(r.q), emb, hyb_vec(r.g), depth => r.depth, fusion => r.fusion) LIMIT 8) x;
        SELECT array_agg(id ORDER BY ord) INTO want FROM hyb_recipe('hyb', '<->', quarry_query(r.q), hyb_vec(r.g), r.depth, r.fusion, 60, 0.5, 'true', 8);
        IF got IS DISTINCT FROM want THEN
            RAISE NOTICE 'different for %: % vs %', r.q, got, want;
        END IF;
    END LOOP;
    RAISE NOTICE 'plpgsql loop done';
END $$;

-- Row-level security applies to both sides before fusion.
CREATE ROLE regress_hyb_reader;
GRANT SELECT ON hyb TO regress_hyb_reader;
GRANT EXECUTE ON FUNCTION hyb_vec(int) TO regress_hyb_reader;
ALTER TABLE hyb ENABLE ROW LEVEL SECURITY;
CREATE POLICY hyb_only_a ON hyb FOR SELECT TO regress_hyb_reader USING (cat = 'a');
SET ROLE regress_hyb_reader;
SELECT id, cat FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000), depth => 5) LIMIT 10;
RESET ROLE;
SELECT array_agg(id ORDER BY ord) AS recipe FROM hyb_recipe('hyb', '<->', 'white whale', hyb_vec(1000), 5, 'rrf', 60, 0.5, 'cat = ''a''', 10);
ALTER TABLE hyb DISABLE ROW LEVEL SECURITY;
DROP POLICY hyb_only_a ON hyb;
REVOKE ALL ON hyb FROM regress_hyb_reader;
REVOKE ALL ON FUNCTION hyb_vec(int) FROM regress_hyb_reader;
-- Without SELECT on the table: PostgreSQL's own error.
SET ROLE regress_hyb_reader;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, '{1,2,3,4}') LIMIT 1;
RESET ROLE;
DROP ROLE regress_hyb_reader;

-- Errors.
-- No index on a side, or two.
CREATE TABLE hyb_noidx (id int, body text, emb real[]);
INSERT INTO hyb_noidx VALUES (1, 'white whale', '{1,2,3,4}');
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') LIMIT 1;
CREATE INDEX hyb_noidx_bm25 ON hyb_noidx USING quarry_bm25 (body);
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') LIMIT 1;
CREATE INDEX hyb_noidx_l2 ON hyb_noidx USING quarry_hnsw (emb quarry_l2_ops);
CREATE INDEX hyb_noidx_simple ON hyb_noidx USING quarry_bm25 (body) WITH (text_config = 'simple');
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') LIMIT 1;
-- ... named in the query, it is used; an index of another table is refused.
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, quarry_query('whale', 'hyb_noidx_simple'), emb, '{1,2,3,4}') LIMIT 1;
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, quarry_query('whale', 'hyb_bm25'), emb, '{1,2,3,4}') LIMIT 1;
-- ... also in a generic plan, whose text is a parameter: the index argument
-- is a constant.
SET plan_cache_mode = force_generic_plan;
PREPARE hyb_named(text) AS
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, quarry_query($1, 'hyb_noidx_simple'), emb, '{1,2,3,4}') LIMIT 1;
EXECUTE hyb_named('whale');
DEALLOCATE hyb_named;
RESET plan_cache_mode;
CREATE INDEX hyb_noidx_cos ON hyb_noidx USING quarry_hnsw (emb quarry_cosine_ops);
SELECT id FROM hyb_noidx ORDER BY quarry_hybrid(body, quarry_query('whale', 'hyb_noidx_simple'), emb, '{1,2,3,4}') LIMIT 1;
-- Columns of two tables, of a view, constants.
SELECT h.id FROM hyb h, hyb_noidx n ORDER BY quarry_hybrid(h.body, 'whale', n.emb, '{1,2,3,4}') LIMIT 1;
CREATE VIEW hyb_view AS SELECT * FROM hyb;
SELECT id FROM hyb_view ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') LIMIT 1;
SELECT quarry_hybrid('white whale', 'whale', '{1,2}'::real[], '{1,2}'::real[]);
-- A query that depends on the row; the fused score in the table's own WHERE.
SELECT id FROM hyb ORDER BY quarry_hybrid(body, quarry_query(cat), emb, '{1,2,3,4}') LIMIT 1;
SELECT id FROM hyb WHERE quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') < -0.01 LIMIT 1;
-- Two different rankings of one table reference.
SELECT id, quarry_hybrid(body, 'sea', emb, '{1,2,3,4}') FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}') LIMIT 1;
-- Wrong dimensions, bad parameters.
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3}') LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', depth => 0) LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', fusion => 'max') LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', k => 0) LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', fusion => 'linear', weight => 1.5) LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', fusion => 'linear', k => -1) LIMIT 1;
SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, '{1,2,3,4}', depth => NULL) LIMIT 1;
-- The internal function called by hand, with no scan running.
SELECT quarry_hybrid_scored('(0,1)', 1, 'a', 'a', '{1}'::real[], '{1}'::real[], 10, 'rrf', 60, 0.5);

-- Scratch from scan arenas: one for the hybrid scan, one for each index scan
-- it runs (each reset once, by its first rescan).
SELECT scan_arenas_created AS arenas_before, scan_arena_resets AS resets_before FROM quarry_memory_stats() \gset
SELECT count(*) FROM (SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale', emb, hyb_vec(5), depth => 5) LIMIT 3) x;
SELECT scan_arenas_created - :arenas_before AS arenas, scan_arena_resets - :resets_before AS resets FROM quarry_memory_stats();

-- The smallest depth; a view whose query is a ranked one (the view's rows in
-- the recipe's order); a compressed vector index (storage = 'sq8': its scan
-- reranks by the exact distance, so the vector side is the same).
SELECT hyb_same('hyb', '<->', 'white whale', hyb_vec(1000), depth => 1) AS depth_1,
       hyb_same('hyb', '<->', 'white whale', hyb_vec(1000), depth => 1, fusion => 'linear') AS depth_1_linear;
CREATE VIEW hyb_ranked AS
    SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'whale ship', emb, hyb_vec(3000), depth => 30) LIMIT 5;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM hyb_ranked) v)
     = (SELECT array_agg(id ORDER BY ord) FROM hyb_recipe('hyb', '<->', 'whale ship', hyb_vec(3000), 30, 'rrf', 60, 0.5, 'true', 5))
       AS ranked_view_equals_recipe;
DROP VIEW hyb_ranked;
SELECT hyb_copy('hyb_sq8', 'quarry_l2_ops', 'WITH (storage = ''sq8'')');
SELECT hyb_same('hyb_sq8', '<->', 'white whale', hyb_vec(1000)) AS sq8_rrf,
       hyb_same('hyb_sq8', '<->', 'whale ship', hyb_vec(3000), fusion => 'linear', filter => 'cat <> ''b''') AS sq8_linear_filtered;
DROP TABLE hyb_sq8;
-- 4-bit codes under cosine (the distance to the codes divided by the stored
-- norm; the rerank gives the exact one).
SELECT hyb_copy('hyb_sq4_cos', 'quarry_cosine_ops', 'WITH (storage = ''sq4'')');
SELECT hyb_same('hyb_sq4_cos', '<=>', 'white whale', hyb_vec(7000)) AS sq4_cosine_rrf,
       hyb_same('hyb_sq4_cos', '<=>', 'whale ship', hyb_vec(3000), depth => 15, fusion => 'linear', w => 0.3) AS sq4_cosine_linear;
DROP TABLE hyb_sq4_cos;

-- Rows updated in place (HOT: a column no index covers) keep the TID the
-- indexes hold, the root of their chain, while their visible version moves.
-- Candidates are named by that TID; without quals, a candidate on a page the
-- visibility map marks all-visible (after VACUUM) is taken without reading
-- its row. Before and after VACUUM, with and without a filter, the one call
-- equals the recipe, and every updated row's fused values reach the SELECT
-- list through the ctid of its new version.
CREATE TABLE hyb_hot (id int PRIMARY KEY, body text, emb real[], note text) WITH (fillfactor = 50);
INSERT INTO hyb_hot SELECT id, body, emb, 'old' FROM hyb ORDER BY id;
CREATE INDEX ON hyb_hot USING quarry_bm25 (body);
CREATE INDEX ON hyb_hot USING quarry_hnsw (emb quarry_l2_ops);
UPDATE hyb_hot SET note = 'new' WHERE id % 4 = 0;
DELETE FROM hyb_hot WHERE id % 9 = 0;
SELECT hyb_same('hyb_hot', '<->', 'white whale', hyb_vec(1000)) AS before_vacuum,
       hyb_same('hyb_hot', '<->', 'whale ship', hyb_vec(3000), filter => 'id % 2 = 0') AS before_vacuum_filtered;
VACUUM hyb_hot;
SELECT hyb_same('hyb_hot', '<->', 'white whale', hyb_vec(1000)) AS all_visible,
       hyb_same('hyb_hot', '<->', 'whale ship', hyb_vec(3000), fusion => 'linear') AS all_visible_linear,
       hyb_same('hyb_hot', '<->', 'whale ship', hyb_vec(3000), filter => 'id % 2 = 0') AS all_visible_filtered;
SELECT count(*) AS updated_rows_ranked, count(*) FILTER (WHERE (d).score IS NULL) AS without_score
FROM (SELECT id, note, quarry_hybrid_detail(body, 'white whale', emb, hyb_vec(1000)) AS d FROM hyb_hot
      ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1000)) LIMIT 100) s WHERE note = 'new';
DROP TABLE hyb_hot;

DROP VIEW hyb_view;
-- At most 16 hybrid scans open at once in a backend: 16 in one statement
-- run, the 17th is an ERROR, and the slots are free again afterwards.
\set VERBOSITY terse
DO $$
DECLARE
    q text;
    n int;
BEGIN
    FOR k IN 16..17 LOOP
        SELECT 'SELECT count(*) FROM ' || string_agg(format(
                   '(SELECT id FROM hyb ORDER BY quarry_hybrid(body, ''white whale'', emb, hyb_vec(%s)) LIMIT 1) s%s', i, i), ', ')
          INTO q FROM generate_series(1, k) i;
        EXECUTE q INTO n;
        RAISE NOTICE '% hybrid scans in one statement: % row', k, n;
    END LOOP;
END $$;
\set VERBOSITY default
SELECT count(*) AS after_the_error FROM (SELECT id FROM hyb ORDER BY quarry_hybrid(body, 'white whale', emb, hyb_vec(1)) LIMIT 3) s;

DROP TABLE hyb, hyb_ip, hyb_cos, hyb_l1, hyb_cats, hyb_queries, hyb_noidx, hyb_allowed;
DROP FUNCTION hyb_run, hyb_recipe, hyb_same, hyb_vec, hyb_explain, hyb_copy;
RESET quarry.hnsw_ef_search;
