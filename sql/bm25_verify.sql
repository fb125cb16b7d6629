-- quarry_verify_index: a sound index reports no rows through inserts, updates,
-- deletes, pending flushes, merges and VACUUM; an index whose text
-- configuration changed under it reports the rows whose lengths no longer
-- match; anything that is not a quarry index is refused.
CREATE TABLE verify_docs (id int PRIMARY KEY, body text);
INSERT INTO verify_docs
SELECT i, 'word' || (i % 17) || ' common ' || repeat('filler ', i % 5) || 'tail' || (i % 3)
FROM generate_series(1, 2000) i;
CREATE INDEX verify_idx ON verify_docs USING quarry_bm25 (body) WITH (text_config = 'simple');
SELECT count(*) AS problems FROM quarry_verify_index('verify_idx');

-- Writes go to the pending list; verify sees them there.
INSERT INTO verify_docs SELECT i, 'late word' || i FROM generate_series(2001, 2300) i;
UPDATE verify_docs SET body = body || ' changed' WHERE id % 10 = 0;
DELETE FROM verify_docs WHERE id % 7 = 0;
INSERT INTO verify_docs VALUES (5000, NULL), (5001, ''), (5002, '!!! ???');
SELECT pending_rows > 0 AS has_pending FROM quarry_bm25_stats('verify_idx');
SELECT count(*) AS problems FROM quarry_verify_index('verify_idx');

-- After a merge and VACUUM the counts match the table exactly.
SELECT quarry_bm25_merge('verify_idx') IS NOT NULL AS merged;
VACUUM (INDEX_CLEANUP ON) verify_docs;
SELECT s.doc_count = (SELECT count(*) FROM verify_docs WHERE body IS NOT NULL) AS n_matches
FROM quarry_bm25_stats('verify_idx') s;
SELECT count(*) AS problems FROM quarry_verify_index('verify_idx');

-- A text search configuration changed after the build: the index's lengths no
-- longer match what the text tokenizes to, and verify names the rows.
CREATE TEXT SEARCH CONFIGURATION verify_cfg (COPY = simple);
CREATE TABLE verify_cfg_docs (id int, body text);
INSERT INTO verify_cfg_docs VALUES (1, 'alpha beta 42'), (2, 'gamma 7 delta'), (3, 'epsilon');
CREATE INDEX verify_cfg_idx ON verify_cfg_docs USING quarry_bm25 (body) WITH (text_config = 'public.verify_cfg');
SELECT count(*) AS problems FROM quarry_verify_index('verify_cfg_idx');
ALTER TEXT SEARCH CONFIGURATION verify_cfg DROP MAPPING FOR uint;
SELECT * FROM quarry_verify_index('verify_cfg_idx') ORDER BY 1;
REINDEX INDEX verify_cfg_idx;
SELECT count(*) AS problems FROM quarry_verify_index('verify_cfg_idx');

-- Not a quarry index.
SELECT * FROM quarry_verify_index('verify_docs_pkey');
SELECT * FROM quarry_verify_index('verify_docs');
SELECT * FROM quarry_verify_index(NULL);

DROP TABLE verify_docs, verify_cfg_docs;
DROP TEXT SEARCH CONFIGURATION verify_cfg;
