-- Scores from the scan: in an ordered quarry_bm25 scan, `col <@> q` in the
-- projection (the ORDER BY column and the SELECT list) and in the scan's filter
-- is the value the scan ranked the row with (quarry_bm25_scored), not the text
-- tokenized again; bit for bit the value the computing path gives, in every
-- plan shape, and the computing path for rows a scan did not just return.
CREATE TABLE long_docs (id int PRIMARY KEY, kind int, body text);
-- 60 documents of about 20 kB (long, TOASTed), words of a few topics.
INSERT INTO long_docs
SELECT g, g % 3,
       (SELECT string_agg(CASE WHEN (g * 31 + i) % 97 = 0 THEN 'harpoon whale'
                               WHEN (g * 17 + i) % 41 = 0 THEN 'ship sea voyage'
                               WHEN (g + i) % 13 = 0 THEN 'captain ahab'
                               ELSE 'word' || ((g * 7 + i * 13) % 500) END, ' ')
        FROM generate_series(1, 2500) i)
FROM generate_series(1, 60) g;
INSERT INTO long_docs VALUES (61, 0, NULL), (62, 1, '');
CREATE INDEX long_docs_idx ON long_docs USING quarry_bm25 (body) WITH (text_config = 'english');
ANALYZE long_docs;
SELECT avg(length(body))::int > 15000 AS long_texts FROM long_docs;

-- The plan: the index scan's projection evaluates quarry_bm25_scored.
SET enable_seqscan = off;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id, body <@> 'harpoon ship' AS score FROM long_docs ORDER BY body <@> 'harpoon ship' LIMIT 5;
-- A filter on the score is the scan's too.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM long_docs WHERE body <@> 'harpoon ship' < -1 ORDER BY body <@> 'harpoon ship' LIMIT 5;

-- Every plan shape against the computing path: the same rows, the same
-- scores to the last bit (float8 equality), including the zero-score tail
-- and the NULL row.
CREATE TABLE shapes (shape text, q text, rank int, id int, score float8);
INSERT INTO shapes
SELECT 'limit', 'harpoon ship', row_number() OVER (), id, s
FROM (SELECT id, body <@> 'harpoon ship' AS s FROM long_docs ORDER BY body <@> 'harpoon ship' LIMIT 70) x;
INSERT INTO shapes
SELECT 'where', 'captain voyage', row_number() OVER (), id, s
FROM (SELECT id, body <@> 'captain voyage' AS s FROM long_docs WHERE kind = 1
      ORDER BY body <@> 'captain voyage' LIMIT 10) x;
INSERT INTO shapes
SELECT 'subquery', 'whale', row_number() OVER (), id, s
FROM (SELECT * FROM (SELECT id, body <@> 'whale' AS s FROM long_docs ORDER BY body <@> 'whale' LIMIT 8) y) x;
INSERT INTO shapes
WITH c AS MATERIALIZED (SELECT id, body <@> 'sea' AS s FROM long_docs ORDER BY body <@> 'sea' LIMIT 8)
SELECT 'cte', 'sea', row_number() OVER (), id, s FROM c;
CREATE VIEW long_view AS SELECT id, body FROM long_docs WHERE kind <> 2;
INSERT INTO shapes
SELECT 'view', 'ahab', row_number() OVER (), id, s
FROM (SELECT id, body <@> 'ahab' AS s FROM long_view ORDER BY body <@> 'ahab' LIMIT 8) x;
PREPARE ranked(quarry_query) AS SELECT id, body <@> $1 AS s FROM long_docs ORDER BY body <@> $1 LIMIT 8;
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE prepared_rows AS EXECUTE ranked('harpoon captain');
INSERT INTO shapes SELECT 'prepared', 'harpoon captain', row_number() OVER (), id, s FROM prepared_rows;
-- Two parameters (`body <@> $1 AS s ... ORDER BY body <@> $2`, as drivers
-- send one value twice): both expressions become quarry_bm25_scored; the
-- SELECT list's takes the scan's score only when its query is the scan's
-- (index, text, syntax and the statistics it carries), else computes its own
-- query's score: another text, or the same text with other statistics.
PREPARE ranked_two(quarry_query, quarry_query) AS
SELECT id, body <@> $1 AS s FROM long_docs ORDER BY body <@> $2 LIMIT 8;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE ranked_two('harpoon captain', 'harpoon captain');
CREATE TEMP TABLE two_rows AS EXECUTE ranked_two('harpoon captain', 'harpoon captain');
INSERT INTO shapes SELECT 'two parameters', 'harpoon captain', row_number() OVER (), id, s FROM two_rows;
CREATE TEMP TABLE two_other_rows AS EXECUTE ranked_two('sea', 'harpoon captain');
INSERT INTO shapes SELECT 'two parameters, another query', 'sea', row_number() OVER (), id, s FROM two_other_rows;
-- The same text with other statistics (the index's counted twice: another
-- idf) in the SELECT list: its own scores, not the scan's.
SELECT quarry_query_with_statistics('harpoon captain', quarry_bm25_sum_statistics(ARRAY[
    quarry_bm25_term_statistics(ARRAY['long_docs_idx'::regclass], 'harpoon captain'),
    quarry_bm25_term_statistics(ARRAY['long_docs_idx'::regclass], 'harpoon captain')])) AS doubled \gset
CREATE TEMP TABLE two_statistics_rows AS EXECUTE ranked_two(:'doubled', 'harpoon captain');
RESET plan_cache_mode;
-- A nested loop: one rescan per probe.
INSERT INTO shapes
SELECT 'lateral', p.q, row_number() OVER (ORDER BY p.q, x.r), x.id, x.s
FROM (VALUES ('whale'), ('voyage')) p(q),
     LATERAL (SELECT id, body <@> p.q::quarry_query AS s, row_number() OVER () AS r
              FROM long_docs ORDER BY body <@> p.q::quarry_query LIMIT 4) x;
SELECT shape, count(*) AS rows FROM shapes GROUP BY shape ORDER BY shape;

-- The computing path for the same rows: quarry_bm25_score() is not the
-- operator, so nothing rewrites it; a sequential plan computes each score.
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT s.shape, count(*) AS rows,
       count(*) FILTER (WHERE s.score IS NOT DISTINCT FROM
                        quarry_bm25_score(d.body, quarry_query(s.q, 'long_docs_idx'))) AS same_score
FROM shapes s JOIN long_docs d USING (id)
GROUP BY s.shape ORDER BY s.shape;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE r.s = (d.body <@> :'doubled'::quarry_query)) AS own_statistics,
       count(*) FILTER (WHERE r.s <> (d.body <@> 'harpoon captain')) AS differ_from_index_statistics
FROM two_statistics_rows r JOIN long_docs d USING (id);
-- The order is the computing path's order (ties in index order: id order here).
SELECT (SELECT array_agg(id ORDER BY rank) FROM shapes WHERE shape = 'limit')
     = (SELECT array_agg(id) FROM (SELECT id FROM long_docs ORDER BY body <@> 'harpoon ship', id LIMIT 70) x)
       AS same_order;
SELECT count(*) FILTER (WHERE score IS NULL) AS null_scores, count(*) FILTER (WHERE score = 0) AS zero_scores
FROM shapes WHERE shape = 'limit';
RESET enable_indexscan;
RESET enable_bitmapscan;

-- A returned row costs no tokenizing: the ranked query with its scores makes
-- one scan arena (the scan's) and no other, however long the texts.
SET enable_seqscan = off;
SELECT quarry_memory_stats_reset();
CREATE TEMP TABLE m0 AS SELECT * FROM quarry_memory_stats();
SELECT count(*), sum(s) < 0 AS scored FROM (SELECT id, body <@> 'harpoon whale ship' AS s FROM long_docs
                                          ORDER BY body <@> 'harpoon whale ship' LIMIT 20) x;
CREATE TEMP TABLE m1 AS SELECT * FROM quarry_memory_stats();
SELECT m1.scan_arenas_created - m0.scan_arenas_created AS arenas FROM m0, m1;
-- The computing path, by contrast, prepares the query for its own scoring.
SELECT count(*), sum(s) < 0 AS scored
FROM (SELECT id, quarry_bm25_score(body, 'harpoon whale ship') AS s FROM long_docs
      ORDER BY body <@> 'harpoon whale ship' LIMIT 20) x;
CREATE TEMP TABLE m2 AS SELECT * FROM quarry_memory_stats();
SELECT m2.scan_arenas_created - m1.scan_arenas_created AS arenas FROM m1, m2;
-- Two parameters of one value (generic plan): the SELECT list's scores come
-- from the scan too, no arena but the scan's; with another text in the
-- SELECT list they are computed, as above.
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE two_same_rows AS EXECUTE ranked_two('harpoon whale ship', 'harpoon whale ship');
CREATE TEMP TABLE m3 AS SELECT * FROM quarry_memory_stats();
CREATE TEMP TABLE two_different_rows AS EXECUTE ranked_two('harpoon whale', 'harpoon whale ship');
CREATE TEMP TABLE m4 AS SELECT * FROM quarry_memory_stats();
-- The scan's query carries statistics (the doubled ones): a SELECT list
-- without them computes its own score, with the index's statistics; one
-- with the same statistics takes the scan's.
CREATE TEMP TABLE stats_plain_rows AS EXECUTE ranked_two('harpoon captain', :'doubled');
CREATE TEMP TABLE m5 AS SELECT * FROM quarry_memory_stats();
CREATE TEMP TABLE stats_both_rows AS EXECUTE ranked_two(:'doubled', :'doubled');
CREATE TEMP TABLE m6 AS SELECT * FROM quarry_memory_stats();
RESET plan_cache_mode;
SELECT m3.scan_arenas_created - m2.scan_arenas_created AS same_arenas,
       m4.scan_arenas_created - m3.scan_arenas_created AS different_arenas,
       m5.scan_arenas_created - m4.scan_arenas_created AS stats_plain_arenas,
       m6.scan_arenas_created - m5.scan_arenas_created AS stats_both_arenas FROM m2, m3, m4, m5, m6;
SELECT (SELECT count(*) FILTER (WHERE t.s = (d.body <@> 'harpoon captain'))
        FROM stats_plain_rows t JOIN long_docs d USING (id)) AS stats_plain_equal,
       (SELECT count(*) FILTER (WHERE t.s = (d.body <@> :'doubled'::quarry_query) AND t.s <> (d.body <@> 'harpoon captain'))
        FROM stats_both_rows t JOIN long_docs d USING (id)) AS stats_both_equal;
SELECT (SELECT count(*) FROM two_same_rows) AS rows,
       (SELECT count(*) FILTER (WHERE t.s = quarry_bm25_score(d.body, quarry_query('harpoon whale ship', 'long_docs_idx')))
        FROM two_same_rows t JOIN long_docs d USING (id)) AS same_equal,
       (SELECT count(*) FILTER (WHERE t.s = quarry_bm25_score(d.body, quarry_query('harpoon whale', 'long_docs_idx')))
        FROM two_different_rows t JOIN long_docs d USING (id)) AS different_equal;
RESET enable_seqscan;

DEALLOCATE ranked;
DROP VIEW long_view;
DROP TABLE long_docs, shapes;
