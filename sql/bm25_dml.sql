-- quarry_bm25 under change: inserts, updates and deletes are searchable at
-- once; statistics follow; VACUUM removes dead rows; the pending list flushes
-- into segments and segments merge; filtered top-k finds k rows at any
-- selectivity.
SET quarry.bm25_pending_limit = '64kB';

CREATE TABLE docs (id int PRIMARY KEY, grp int, body text);
-- 2000 rows over a small vocabulary: term i occurs in rows whose id is a
-- multiple of i.
INSERT INTO docs
SELECT g, g % 10,
       (SELECT string_agg('w' || i, ' ') FROM generate_series(2, 40) i WHERE g % i = 0) || ' common'
FROM generate_series(1, 2000) g;
-- Without positions: the churn below is sized so that a segment keeps fewer
-- than a tenth of its rows removed (positions would change the sizes, and
-- the merges, that scenario depends on; bm25_phrases.sql covers DML with them).
CREATE INDEX docs_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'simple', positions = off);

-- Exact statistics: N and the total length equal a count over the table.
CREATE FUNCTION stats_match() RETURNS TABLE (n_ok boolean, length_ok boolean) LANGUAGE sql AS $$
    SELECT s.doc_count = t.n, s.total_length = t.len
    FROM quarry_bm25_stats('docs_idx') s,
         (SELECT count(*) AS n,
                 sum((SELECT coalesce(sum(array_length(positions, 1)), 0)
                      FROM unnest(to_tsvector('simple', body)))) AS len
          FROM docs WHERE body IS NOT NULL) t
$$;
SELECT * FROM stats_match();

-- The reference: exhaustive BM25 in SQL over the current rows.
CREATE FUNCTION reference(q text) RETURNS TABLE (id int, score float8) LANGUAGE sql AS $$
    WITH terms AS (SELECT d.id, u.lexeme, array_length(u.positions, 1) AS tf
                   FROM docs d, unnest(to_tsvector('simple', d.body)) u),
    lens AS (SELECT d.id, coalesce(sum(t.tf), 0)::float8 AS len FROM docs d LEFT JOIN terms t USING (id)
             WHERE d.body IS NOT NULL GROUP BY d.id),
    st AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    qt AS (SELECT u.lexeme, array_length(u.positions, 1) AS qtf FROM unnest(to_tsvector('simple', q)) u),
    df AS (SELECT t.lexeme, count(*)::float8 AS df FROM terms t JOIN qt USING (lexeme) GROUP BY t.lexeme)
    SELECT t.id, sum(qt.qtf * ln(1 + (st.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * 2.2
                     / (t.tf + 1.2 * (0.25 + 0.75 * l.len / st.avgdl)))
    FROM terms t JOIN qt USING (lexeme) JOIN df USING (lexeme) JOIN lens l USING (id), st GROUP BY t.id
$$;
-- Top 10 of the index scan against the reference: rank by rank the same
-- scores (within 1e-9), and every row returned has the reference's score.
-- (Rows with equal scores come in index order, which after updates is not id
-- order, so ids are compared through their scores.)
CREATE FUNCTION top10_matches(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
BEGIN
    SET LOCAL enable_seqscan = off;
    CREATE TEMP TABLE idx_top ON COMMIT DROP AS
        SELECT id, -(body <@> q) AS score, row_number() OVER () AS rn
        FROM (SELECT * FROM docs ORDER BY body <@> q LIMIT 10) s;
    CREATE TEMP TABLE ref_all ON COMMIT DROP AS SELECT * FROM reference(q);
    SELECT bool_and(abs(i.score - r.score) < 1e-9) INTO ok
    FROM idx_top i
    JOIN (SELECT score, row_number() OVER (ORDER BY score DESC) AS rn FROM ref_all) r USING (rn);
    ok := ok AND (SELECT bool_and(abs(i.score - r.score) < 1e-9) FROM idx_top i JOIN ref_all r USING (id))
             AND (SELECT count(*) FROM idx_top) = least(10, (SELECT count(*) FROM docs WHERE body IS NOT NULL));
    DROP TABLE idx_top, ref_all;
    RETURN ok;
END $$;

SELECT top10_matches('w7 w11 w13'), top10_matches('w2 common');

-- Inserts are searchable at once and counted in the statistics.
INSERT INTO docs VALUES (5001, 1, 'zebra crossing zebra'), (5002, 2, 'zebra');
SELECT pending_rows FROM quarry_bm25_stats('docs_idx');
SET enable_seqscan = off;
SELECT id FROM docs ORDER BY body <@> 'zebra' LIMIT 2;
SELECT id FROM docs WHERE body @@@ 'crossing';
RESET enable_seqscan;
SELECT * FROM stats_match();
SELECT top10_matches('zebra w3');

-- Updates: the new version is found, the old one no longer matches. Until
-- VACUUM, the old version still counts in N (as in any index); afterwards the
-- statistics are exact again.
UPDATE docs SET body = 'giraffe' WHERE id = 5002;
SET enable_seqscan = off;
SELECT id FROM docs WHERE body @@@ 'giraffe';
SELECT id FROM docs WHERE body @@@ 'zebra';
RESET enable_seqscan;
SELECT doc_count FROM quarry_bm25_stats('docs_idx');
VACUUM docs;
SELECT doc_count FROM quarry_bm25_stats('docs_idx');
SELECT * FROM stats_match();

-- Enough inserts to flush the pending list into a segment (64kB limit) and
-- merge it with the first; statistics stay exact.
INSERT INTO docs
SELECT g, g % 10, 'inserted ' || (SELECT string_agg('w' || i, ' ') FROM generate_series(2, 40) i WHERE g % i = 0)
FROM generate_series(2001, 4000) g;
SELECT pending_rows < 2000 AS flushed, pending_bytes < 65536 AS pending_small, retired_sets > 0 AS merged
FROM quarry_bm25_stats('docs_idx');
SELECT * FROM stats_match();
SELECT top10_matches('w7 w11 w13'), top10_matches('inserted w5'), top10_matches('w17 w19 w23 common');

-- Deletes and VACUUM: removed rows leave N and the total length at once.
DELETE FROM docs WHERE id % 3 = 0;
VACUUM docs;
SELECT * FROM stats_match();
SET enable_seqscan = off;
SELECT count(*) AS deleted_rows_returned
FROM (SELECT id FROM docs ORDER BY body <@> 'w3 w6 w9' LIMIT 100) s WHERE id % 3 = 0;
SELECT count(*) AS bitmap_matches FROM docs WHERE body @@@ 'w5';
RESET enable_seqscan;
SELECT count(*) AS true_matches FROM docs WHERE to_tsvector('simple', body) @@ 'w5'::tsquery;

-- VACUUM compacted the segments that lost a third of their rows, so document
-- frequencies are exact again and scores equal the reference.
SELECT removed_rows FROM quarry_bm25_stats('docs_idx');
SELECT top10_matches('w7 w11 w13'), top10_matches('inserted w5');

-- Churn: updating the same rows again and again keeps the index bounded.
CREATE TABLE sizes (round int, pages bigint);
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 1, pages FROM quarry_bm25_stats('docs_idx');
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 2, pages FROM quarry_bm25_stats('docs_idx');
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 3, pages FROM quarry_bm25_stats('docs_idx');
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 4, pages FROM quarry_bm25_stats('docs_idx');
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 5, pages FROM quarry_bm25_stats('docs_idx');
UPDATE docs SET body = body || ' x' WHERE id <= 1000;
VACUUM docs;
INSERT INTO sizes SELECT 6, pages FROM quarry_bm25_stats('docs_idx');
-- Pages recycled by one VACUUM are reused by the next round's rows.
SELECT max(pages) FILTER (WHERE round > 3) <= 1.25 * max(pages) FILTER (WHERE round <= 3) AS bounded FROM sizes;
-- N and the total length are exact. A segment that lost fewer than a tenth of
-- its rows is not compacted yet: its document frequencies still count the
-- removed rows (as Lucene's do until a merge), so scores are close to, but
-- not exactly, the reference's.
SELECT * FROM stats_match();
SELECT removed_rows > 0 AS segments_hold_removed_rows FROM quarry_bm25_stats('docs_idx');
SELECT top10_matches('x w5 w7') AS exact_before_merge;

-- Filtered top-k: a selective filter on another column still gets k rows, in
-- score order, because the scan keeps producing rows past its first batch.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM docs WHERE grp = 7 AND id % 13 = 0 ORDER BY body <@> 'w2 w7 common' LIMIT 10;
SELECT count(*) AS rows_returned FROM (
    SELECT id FROM docs WHERE grp = 7 AND id % 13 = 0 ORDER BY body <@> 'w2 w7 common' LIMIT 10) s;
SELECT least(10, count(*)) AS rows_expected FROM docs WHERE grp = 7 AND id % 13 = 0 AND body IS NOT NULL;
-- The rows with a positive score are the reference's best among those rows.
SELECT array_agg(id) = (SELECT array_agg(id) FROM (
           SELECT r.id FROM reference('w2 w7 common') r JOIN docs d USING (id)
           WHERE d.grp = 7 AND d.id % 13 = 0 ORDER BY r.score DESC, r.id LIMIT 10) x) AS best_rows
FROM (SELECT id FROM docs WHERE grp = 7 AND id % 13 = 0 AND body <@> 'w2 w7 common' < 0
      ORDER BY body <@> 'w2 w7 common' LIMIT 10) s;
RESET enable_seqscan;

-- Merging everything leaves one segment, exact statistics, the same answers.
SELECT quarry_bm25_merge('docs_idx');
SELECT segments, pending_rows, removed_rows FROM quarry_bm25_stats('docs_idx');
SELECT * FROM stats_match();
SELECT top10_matches('w7 w11 w13'), top10_matches('x w5 w7');

-- TRUNCATE empties the index; it works again afterwards.
TRUNCATE docs;
SELECT doc_count, segments FROM quarry_bm25_stats('docs_idx');
INSERT INTO docs VALUES (1, 1, 'after truncate');
SET enable_seqscan = off;
SELECT id FROM docs WHERE body @@@ 'truncate';
RESET enable_seqscan;

-- NULL rows: an ordered scan returns them last, with a NULL score, after an
-- insert and across VACUUM, exactly like the sequential plan; @@@ never matches
-- them; the null-row list reuses its pages when NULL rows come and go.
CREATE TABLE nullable (id int PRIMARY KEY, body text);
INSERT INTO nullable SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'w' || (g % 7) || ' text' END
FROM generate_series(1, 3000) g;
CREATE INDEX nullable_idx ON nullable USING quarry_bm25 (body) WITH (text_config = 'simple');
INSERT INTO nullable SELECT g, NULL FROM generate_series(3001, 4000) g;
SELECT doc_count, null_rows FROM quarry_bm25_stats('nullable_idx');
CREATE FUNCTION ordered_ids(q text, by_index boolean) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE result int[];
BEGIN
    IF by_index THEN
        SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
    ELSE
        SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off;
    END IF;
    -- Ties (score 0, NULL) in id order on both sides.
    SELECT array_agg(id ORDER BY s, id) INTO result FROM (
        SELECT id, body <@> quarry_query(q, 'nullable_idx') AS s FROM nullable
        ORDER BY body <@> quarry_query(q, 'nullable_idx')) x;
    RETURN result;
END $$;
SELECT cardinality(ordered_ids('w3', true)) AS index_rows,
       ordered_ids('w3', true) = ordered_ids('w3', false) AS same_as_sequential;
SET enable_seqscan = off;
SELECT count(*) FROM nullable WHERE body @@@ 'w3 text';
SELECT id, body <@> 'w3' AS s FROM nullable ORDER BY body <@> 'w3' OFFSET 3995;
RESET enable_seqscan;
DELETE FROM nullable WHERE id % 2 = 0;
VACUUM nullable;
SELECT doc_count, null_rows FROM quarry_bm25_stats('nullable_idx');
SELECT ordered_ids('w3', true) = ordered_ids('w3', false) AS same_after_vacuum;
SELECT pages AS pages_before FROM quarry_bm25_stats('nullable_idx') \gset
DELETE FROM nullable WHERE body IS NULL;
VACUUM nullable;
INSERT INTO nullable SELECT g, NULL FROM generate_series(5001, 7000) g;
SELECT null_rows, pages <= :pages_before + 1 AS null_pages_reused FROM quarry_bm25_stats('nullable_idx');
SELECT count(*) AS problems FROM quarry_verify_index('nullable_idx');
DROP FUNCTION ordered_ids(text, boolean);
DROP TABLE nullable;

-- A term in every row, then VACUUM removes a twentieth of the rows (too few to compact the segment): N drops at once but
-- df counts the removed rows until their segment merges, so df > N. The term
-- still weighs more than nothing and every live row still ranks.
CREATE TABLE everywhere (id int PRIMARY KEY, body text);
INSERT INTO everywhere SELECT g, 'shared w' || (g % 5) FROM generate_series(1, 600) g;
CREATE INDEX everywhere_idx ON everywhere USING quarry_bm25 (body) WITH (text_config = 'simple');
DELETE FROM everywhere WHERE id % 20 = 0;
VACUUM everywhere;
SELECT doc_count, removed_rows FROM quarry_bm25_stats('everywhere_idx');
SET enable_seqscan = off;
SELECT count(*) AS ranked, count(*) FILTER (WHERE s < 0) AS scored, max(s) < 0 AS all_negative
FROM (SELECT body <@> 'shared' AS s FROM everywhere ORDER BY body <@> 'shared' LIMIT 1000) x;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE body <@> quarry_query('shared', 'everywhere_idx') < 0) AS scored_sequentially FROM everywhere;
DROP TABLE everywhere;

DROP FUNCTION top10_matches(text);
DROP FUNCTION reference(text);
DROP FUNCTION stats_match();
DROP TABLE docs, sizes;
