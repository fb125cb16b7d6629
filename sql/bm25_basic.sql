-- quarry_bm25: creating indexes, options, ordered and boolean scans, plans,
-- NULLs and edge-case texts.
CREATE TABLE notes (id int PRIMARY KEY, category text, body text);
INSERT INTO notes VALUES
    (1, 'zoo',  'The quick brown fox jumps over the lazy dog'),
    (2, 'tech', 'A fast allocator reduces fragmentation of memory'),
    (3, 'tech', 'Memory fragmentation in long running servers'),
    (4, 'zoo',  'Dogs and foxes are animals; a dog barks at a fox'),
    (5, 'zoo',  NULL),
    (6, 'tech', ''),
    (7, 'misc', 'the and of to'),
    (8, 'tech', 'Allocators: jemalloc arenas return memory to the operating system'),
    (9, 'misc', 'Fjörd Ñandú crème brûlée — straße 東京 naïve café');

-- Bad options are clear errors.
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (text_config = 'no_such_config');
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (k1 = -1);
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (b = 1.5);
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (b = -0.1);
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (nonsense = 1);
-- A configuration of one's own is named with its schema (indexes are rebuilt,
-- restored and upgraded under other search paths); the index records it by
-- name, so after pg_upgrade it finds it again whatever its OID.
CREATE TEXT SEARCH CONFIGURATION notes_cfg (COPY = english);
CREATE INDEX ON notes USING quarry_bm25 (body) WITH (text_config = 'notes_cfg');
CREATE INDEX notes_cfg_idx ON notes USING quarry_bm25 (body) WITH (text_config = 'public.notes_cfg');
SELECT text_config FROM quarry_bm25_stats('notes_cfg_idx');
SELECT count(*) FROM notes WHERE body @@@ quarry_query('arenas', 'notes_cfg_idx');
DROP INDEX notes_cfg_idx;
-- The index depends on its configuration: renamed, it is still the index's
-- (found by the OID the dependency pins); it is not dropped from under it.
CREATE INDEX notes_cfg_idx ON notes USING quarry_bm25 (body) WITH (text_config = 'public.notes_cfg');
ALTER TEXT SEARCH CONFIGURATION notes_cfg RENAME TO notes_cfg_renamed;
SELECT count(*) FROM notes WHERE body @@@ quarry_query('arenas', 'notes_cfg_idx');
-- Another configuration under the old name is not the index's (english:
-- "the" is a stop word; simple: it is not), in a new session too.
CREATE TEXT SEARCH CONFIGURATION public.notes_cfg (COPY = simple);
\c
SELECT count(*) FROM notes WHERE body @@@ quarry_query('the', 'notes_cfg_idx');
SELECT text_config FROM quarry_bm25_stats('notes_cfg_idx');
DROP TEXT SEARCH CONFIGURATION public.notes_cfg;
DROP TEXT SEARCH CONFIGURATION notes_cfg_renamed;
DROP TEXT SEARCH CONFIGURATION notes_cfg_renamed CASCADE;
SELECT count(*) FROM pg_class WHERE relname = 'notes_cfg_idx';
-- Names of any legal length and spelling, recorded and found again.
CREATE SCHEMA "Cfg Schema ................................................. 63";
CREATE TEXT SEARCH CONFIGURATION "Cfg Schema ................................................. 63"."My Config .................................................. 63" (COPY = simple);
CREATE INDEX notes_long_cfg_idx ON notes USING quarry_bm25 (body)
    WITH (text_config = '"Cfg Schema ................................................. 63"."My Config .................................................. 63"');
INSERT INTO notes VALUES (10, 'misc', 'the arenas');
SELECT count(*) FROM notes WHERE body @@@ quarry_query('the', 'notes_long_cfg_idx');
SELECT text_config FROM quarry_bm25_stats('notes_long_cfg_idx');
DELETE FROM notes WHERE id = 10;
DROP SCHEMA "Cfg Schema ................................................. 63" CASCADE;
-- An unqualified name is the built-in configuration, whatever the search
-- path puts first (a restore or PostgreSQL 17's REINDEX would not see it).
CREATE TEXT SEARCH CONFIGURATION public.english (COPY = simple);
SET search_path = public, pg_catalog;
CREATE INDEX notes_english_idx ON notes USING quarry_bm25 (body) WITH (text_config = 'english');
SELECT text_config FROM quarry_bm25_stats('notes_english_idx');
SELECT count(*) FROM notes WHERE body @@@ quarry_query('the', 'notes_english_idx');
DROP INDEX notes_english_idx;
DROP TEXT SEARCH CONFIGURATION public.english;
RESET search_path;
CREATE INDEX ON notes USING quarry_bm25 (id);
CREATE INDEX ON notes USING quarry_bm25 (body) INCLUDE (category);

CREATE INDEX notes_body_idx ON notes USING quarry_bm25 (body) WITH (text_config = 'english');
-- NULL rows are no documents (kept apart, for ordered scans); the empty and
-- the all-stop-word rows are documents of length 0.
SELECT doc_count, total_length, segments, pending_rows, text_config, null_rows
FROM quarry_bm25_stats('notes_body_idx');

-- The index's tokens are to_tsvector's lexemes: total length = sum of positions.
SELECT sum(array_length(positions, 1)) AS to_tsvector_length
FROM notes, unnest(to_tsvector('english', body)) WHERE body IS NOT NULL;

SET enable_seqscan = off;

-- ORDER BY ... LIMIT is an ordered index scan.
EXPLAIN (COSTS OFF)
SELECT id FROM notes ORDER BY body <@> 'memory fragmentation' LIMIT 3;

SELECT id, round((body <@> 'memory fragmentation')::numeric, 6) AS score
FROM notes ORDER BY body <@> 'memory fragmentation' LIMIT 3;

-- Without LIMIT the scan goes on past the matching rows with score 0, in index
-- order, then the NULL bodies with a NULL score: the same rows as without the
-- index.
SELECT id, round((body <@> 'memory fragmentation')::numeric, 6) AS score
FROM notes ORDER BY body <@> 'memory fragmentation';

-- Stemming: "foxes", "dogs" match "fox", "dog"; repeated terms count.
SELECT id, round((body <@> 'Foxes DOGS')::numeric, 6) AS score
FROM notes ORDER BY body <@> 'Foxes DOGS' LIMIT 2;

-- Boolean match: rows with at least one query term, by index scan and bitmap scan.
EXPLAIN (COSTS OFF) SELECT id FROM notes WHERE body @@@ 'allocator';
SELECT id FROM notes WHERE body @@@ 'allocator' ORDER BY id;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM notes WHERE body @@@ 'allocator fox';
SELECT id FROM notes WHERE body @@@ 'allocator fox' ORDER BY id;
-- Combined with another index by BitmapAnd.
CREATE TABLE words (n int, body text);
INSERT INTO words SELECT g, 'word' || (g % 50) || ' shared text ' || CASE WHEN g % 97 = 0 THEN 'rare' ELSE '' END
FROM generate_series(1, 20000) g;
CREATE INDEX words_body_idx ON words USING quarry_bm25 (body);
CREATE INDEX words_n_idx ON words (n);
ANALYZE words;
EXPLAIN (COSTS OFF) SELECT n FROM words WHERE body @@@ 'rare' AND n BETWEEN 1000 AND 3000;
SELECT n FROM words WHERE body @@@ 'rare' AND n BETWEEN 1000 AND 3000 ORDER BY n;
RESET enable_indexscan;

-- A WHERE filter on another column still yields k rows when they exist.
SELECT id, category FROM notes WHERE category = 'zoo'
ORDER BY body <@> 'memory allocator fox' LIMIT 2;

-- Non-ASCII text is tokenized like to_tsvector does.
SELECT id FROM notes WHERE body @@@ 'straße';
SELECT id FROM notes WHERE body @@@ '東京';
SELECT to_tsvector('english', 'Fjörd Ñandú crème brûlée — straße 東京 naïve café') @@
       plainto_tsquery('english', 'straße') AS tsvector_agrees;

-- Queries with only stop words, empty queries, NULL queries.
SELECT count(*) FROM notes WHERE body @@@ 'the and of';
SELECT count(*) FROM notes WHERE body @@@ '';
SELECT count(*) FROM notes WHERE body @@@ NULL;
SELECT id, body <@> 'the of' AS score FROM notes ORDER BY body <@> 'the of' LIMIT 3;
SELECT count(*) FROM (SELECT id FROM notes ORDER BY body <@> NULL) s;

-- A document of several megabytes is indexed and scored.
INSERT INTO notes SELECT 100, 'big', repeat('memory ', 300000) || 'elephant';
SELECT length(body) FROM notes WHERE id = 100;
SELECT id FROM notes ORDER BY body <@> 'elephant' LIMIT 1;
SELECT id, round((body <@> 'memory')::numeric, 6) FROM notes ORDER BY body <@> 'memory' LIMIT 2;
DELETE FROM notes WHERE id = 100;

-- varchar columns, expression and partial indexes.
CREATE TABLE titles (id int, title varchar(100), tag text);
INSERT INTO titles SELECT g, 'title number ' || g || CASE WHEN g % 3 = 0 THEN ' fizz' ELSE '' END,
                          CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END
FROM generate_series(1, 30) g;
CREATE INDEX titles_title_idx ON titles USING quarry_bm25 (title);
EXPLAIN (COSTS OFF) SELECT id FROM titles ORDER BY title <@> 'fizz' LIMIT 3;
SELECT id FROM titles ORDER BY title <@> 'fizz', id LIMIT 3;
DROP INDEX titles_title_idx;

CREATE INDEX titles_expr_idx ON titles USING quarry_bm25 ((title || ' ' || tag));
EXPLAIN (COSTS OFF) SELECT id FROM titles ORDER BY (title || ' ' || tag) <@> 'fizz even' LIMIT 3;
SELECT id FROM titles ORDER BY (title || ' ' || tag) <@> 'fizz even' LIMIT 3;
DROP INDEX titles_expr_idx;

CREATE INDEX titles_part_idx ON titles USING quarry_bm25 (title) WHERE tag = 'even';
SELECT doc_count FROM quarry_bm25_stats('titles_part_idx');
EXPLAIN (COSTS OFF) SELECT id FROM titles WHERE tag = 'even' ORDER BY title <@> 'fizz' LIMIT 3;
SELECT id FROM titles WHERE tag = 'even' ORDER BY title <@> 'fizz' LIMIT 3;

-- The default text search configuration is recorded at build time.
SET default_text_search_config = 'simple';
CREATE INDEX titles_simple_idx ON titles USING quarry_bm25 (tag);
RESET default_text_search_config;
SELECT text_config FROM quarry_bm25_stats('titles_simple_idx');

-- Unlogged tables: the init fork holds an empty index.
CREATE UNLOGGED TABLE scratch (body text);
CREATE INDEX scratch_idx ON scratch USING quarry_bm25 (body);
INSERT INTO scratch VALUES ('unlogged text search works');
SELECT body FROM scratch WHERE body @@@ 'search';

RESET enable_seqscan;
DROP TABLE notes, titles, scratch, words;
