-- Memory of quarry_bm25: builds allocate from a jemalloc build arena that is
-- gone when CREATE INDEX ends (or fails); scans allocate from a bump arena and
-- make no allocation per posting or per candidate.
CREATE TABLE small_corpus AS
SELECT g AS id, 'alpha beta gamma ' || (g % 97) || ' delta' || (g % 13) AS body FROM generate_series(1, 2000) g;
CREATE TABLE large_corpus AS
SELECT g AS id, 'alpha beta gamma ' || (g % 97) || ' delta' || (g % 13) AS body FROM generate_series(1, 40000) g;

CREATE TEMP TABLE m0 AS SELECT * FROM quarry_memory_stats();
CREATE INDEX small_idx ON small_corpus USING quarry_bm25 (body);
CREATE INDEX large_idx ON large_corpus USING quarry_bm25 (body);
SELECT s.build_arenas_created - m0.build_arenas_created AS arenas_created,
       s.build_arenas_destroyed - m0.build_arenas_destroyed AS arenas_destroyed,
       s.build_arenas_live, s.build_bytes_current,
       s.build_bytes_peak > 1024 * 1024 AS peak_over_1mb
FROM quarry_memory_stats() s, m0;

-- A build that fails half way (statement timeout) leaves no arena behind.
CREATE TABLE big_corpus AS
SELECT g AS id, repeat('lorem ipsum dolor sit amet consectetur ' || g || ' ', 20) AS body
FROM generate_series(1, 200000) g;
SET statement_timeout = '300ms';
CREATE INDEX big_idx ON big_corpus USING quarry_bm25 (body);
RESET statement_timeout;
SELECT s.build_arenas_created - m0.build_arenas_created AS arenas_created,
       s.build_arenas_destroyed - m0.build_arenas_destroyed AS arenas_destroyed,
       s.build_arenas_live, s.build_bytes_current
FROM quarry_memory_stats() s, m0;
DROP TABLE big_corpus;

-- Scans: the same query over 2,000 and over 40,000 rows (twenty times the
-- postings and candidates) makes the same number of arena allocations.
SET enable_seqscan = off;
CREATE TEMP TABLE s0 AS SELECT * FROM quarry_memory_stats();
SELECT count(*) FROM (SELECT id FROM small_corpus ORDER BY body <@> 'gamma delta7 42' LIMIT 500) s;
CREATE TEMP TABLE s1 AS SELECT * FROM quarry_memory_stats();
SELECT count(*) FROM (SELECT id FROM large_corpus ORDER BY body <@> 'gamma delta7 42' LIMIT 500) s;
CREATE TEMP TABLE s2 AS SELECT * FROM quarry_memory_stats();
SELECT s1.scan_arenas_created - s0.scan_arenas_created AS small_scans,
       s2.scan_arenas_created - s1.scan_arenas_created AS large_scans,
       s2.scan_allocations - s1.scan_allocations = s1.scan_allocations - s0.scan_allocations AS same_allocations,
       s2.scan_allocations - s1.scan_allocations < 1000 AS allocations_bounded,
       s2.scan_blocks_allocated - s1.scan_blocks_allocated <= 8 AS few_blocks
FROM s0, s1, s2;

-- A rescan (nested loop) reuses the arena: resets, and no new block once warm.
CREATE TEMP TABLE probes (q text);
INSERT INTO probes SELECT 'delta' || g || ' ' || (g * 7) FROM generate_series(1, 12) g;
CREATE TEMP TABLE r0 AS SELECT * FROM quarry_memory_stats();
SELECT count(*) FROM probes p, LATERAL (SELECT id FROM large_corpus ORDER BY body <@> p.q LIMIT 5) s;
CREATE TEMP TABLE r1 AS SELECT * FROM quarry_memory_stats();
SELECT r1.scan_arena_resets - r0.scan_arena_resets >= 12 AS rescans_reset_the_arena,
       r1.scan_arenas_created - r0.scan_arenas_created AS arenas_for_12_rescans,
       r1.scan_blocks_allocated - r0.scan_blocks_allocated <= 4 AS blocks_stay_few
FROM r0, r1;
RESET enable_seqscan;

DROP TABLE small_corpus, large_corpus, probes;

-- A build larger than maintenance_work_mem writes a segment each time the
-- inverter fills it (merging them once there are eight) and gives the same
-- index contents and answers as a build in one piece.
CREATE TABLE spill_corpus AS
SELECT g AS id, 'term' || (g % 5003) || ' other' || (g % 311) || ' word' || (g % 17) || ' ' || md5(g::text) AS body
FROM generate_series(1, 60000) g;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE b0 AS SELECT * FROM quarry_memory_stats();
CREATE INDEX spill_small_idx ON spill_corpus USING quarry_bm25 (body) WITH (text_config = 'simple');
SELECT s.build_bytes_peak < 16 * 1024 * 1024 AS arena_stayed_small, s.build_arenas_live
FROM quarry_memory_stats() s;
RESET maintenance_work_mem;
SELECT segments BETWEEN 1 AND 8 AS few_segments, doc_count, total_length FROM quarry_bm25_stats('spill_small_idx');
ALTER INDEX spill_small_idx RENAME TO spill_idx_a;
CREATE INDEX spill_idx_b ON spill_corpus USING quarry_bm25 (body) WITH (text_config = 'simple');
SELECT segments, doc_count, total_length FROM quarry_bm25_stats('spill_idx_b');
SET enable_seqscan = off;
SELECT bool_and(a = b) AS same_answers FROM (
    SELECT (SELECT array_agg(id) FROM (SELECT id FROM spill_corpus
                ORDER BY body <@> quarry_query(q, 'spill_idx_a') LIMIT 20) s) AS a,
           (SELECT array_agg(id) FROM (SELECT id FROM spill_corpus
                ORDER BY body <@> quarry_query(q, 'spill_idx_b') LIMIT 20) s) AS b
    FROM unnest(ARRAY['term42 word3', 'other7 other8 word1', 'term4999']) q) x;
RESET enable_seqscan;
DROP TABLE spill_corpus;
