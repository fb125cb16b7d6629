-- The planner's choice between a quarry_hnsw scan and an exact sequential
-- scan. A scored node is priced as CPU work, not a random page read, so a
-- high ef_search keeps the index on a table where it is far faster (before,
-- ef_search 160 on 60,000 784-d vectors gave an exact scan a hundred times
-- slower); a table of a few hundred rows still gets the exact scan.
CREATE TABLE cost_items (id int, v real[]);
ALTER TABLE cost_items ALTER v SET STORAGE EXTERNAL; -- a small heap: the sequential scan looks cheap
INSERT INTO cost_items SELECT g, ARRAY(SELECT ((g * d) % 97)::real FROM generate_series(1, 784) d)
FROM generate_series(1, 5000) g;
CREATE INDEX cost_items_v ON cost_items USING quarry_hnsw (v quarry_l2_ops);
ANALYZE cost_items;
CREATE FUNCTION cost_plan(ef int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    PERFORM set_config('quarry.hnsw_ef_search', ef::text, true);
    FOR line IN EXPLAIN (costs off) SELECT id FROM cost_items ORDER BY v <-> (SELECT v FROM cost_items WHERE id = 7) LIMIT 10 LOOP
        IF line ~ 'Index Scan using cost_items_v' THEN RETURN 'index'; END IF;
        IF line ~ 'Seq Scan on cost_items' AND line !~ 'cost_items_1' THEN RETURN 'seqscan'; END IF;
    END LOOP;
    RETURN 'other';
END $$;
SELECT ef, cost_plan(ef) FROM unnest(ARRAY[10, 40, 100, 200, 400, 1000]) ef;
-- A few hundred rows: the exact scan.
DELETE FROM cost_items WHERE id > 300;
VACUUM ANALYZE cost_items;
SELECT ef, cost_plan(ef) FROM unnest(ARRAY[10, 40]) ef;
DROP TABLE cost_items;
DROP FUNCTION cost_plan;
