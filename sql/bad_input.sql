-- Hostile inputs for every SQL entry point of quarry, each with its expected
-- clear ERROR or result: NULLs, empty values, huge values, NaN and infinities,
-- wrong dimensions, malformed arrays, bytes that are not UTF-8 (where the
-- server allows them), absurd options, unknown configurations, objects of the
-- wrong kind. Nothing here may crash the server or answer silently wrong.
\set VERBOSITY terse
CREATE TABLE bad_docs (id int PRIMARY KEY, body text, v real[]);
INSERT INTO bad_docs VALUES (1, 'alpha beta', '{1,0,0}'), (2, 'beta gamma', '{0,1,0}'), (3, NULL, NULL);
CREATE INDEX bad_bm25 ON bad_docs USING quarry_bm25 (body) WITH (text_config = 'simple');
CREATE INDEX bad_hnsw ON bad_docs USING quarry_hnsw (v quarry_l2_ops);

-- === quarry_query: the type, its constructors and accessors ===================
SELECT quarry_query(NULL::text) IS NULL AS null_text;
SELECT quarry_query('', 'bad_bm25')::text AS empty_query;
SELECT quarry_query('alpha', NULL) IS NULL AS null_index;
SELECT quarry_query('alpha', 'bad_docs');            -- a table
SELECT quarry_query('alpha', 'bad_hnsw');            -- another access method
SELECT quarry_query('alpha', 'no_such_index');       -- unknown name
SELECT quarry_query('alpha', 0::oid::regclass);      -- no relation at all
SELECT quarry_query_index('alpha'::quarry_query) IS NULL AS unresolved_index;
SELECT quarry_query_text(quarry_query('alpha beta', 'bad_bm25'));
SELECT quarry_query_resolve('alpha'::quarry_query, 'bad_docs'::regclass::oid);
SELECT length(quarry_query_text(quarry_query(repeat('x', 1000000), 'bad_bm25'))) AS huge_query_kept;
SELECT 'alpha'::quarry_query::text AS literal;

-- === <@> and @@@ ==============================================================
SELECT id, body <@> quarry_query('alpha', 'bad_bm25') AS s FROM bad_docs ORDER BY id;
SELECT NULL::text <@> quarry_query('alpha', 'bad_bm25') AS null_text;
SELECT 'alpha'::text <@> NULL::quarry_query AS null_query;
SELECT 'alpha'::text <@> 'alpha';                     -- no index named, none scanned
SELECT '' <@> quarry_query('alpha', 'bad_bm25') AS empty_text;
SELECT 'alpha' <@> quarry_query('', 'bad_bm25') AS empty_query;
SELECT 'alpha' <@> quarry_query('the of and !!! ???', 'bad_bm25') AS punctuation_only;
SELECT count(*) FROM bad_docs WHERE body @@@ quarry_query('', 'bad_bm25');
SELECT count(*) FROM bad_docs WHERE body @@@ quarry_query(NULL, 'bad_bm25');
-- A multi-megabyte document and query are scored, not refused.
SELECT round((repeat('alpha ', 400000) <@> quarry_query('alpha', 'bad_bm25'))::numeric, 6) AS huge_text;
SELECT round((('alpha ' || repeat('zeta ', 400000)) <@> quarry_query(repeat('alpha ', 100000), 'bad_bm25'))::numeric, 6) < 0
    AS huge_query_scores;
-- A word longer than PostgreSQL's lexeme limit (2 kB) is skipped, as by to_tsvector.
SELECT (repeat('a', 5000) || ' alpha') <@> quarry_query('alpha', 'bad_bm25') < 0 AS long_word_skipped;
-- Control characters, NUL-free binary-looking text, emoji and combining marks.
SELECT (E'alpha\t\n\r\u0001\u007f' <@> quarry_query('alpha', 'bad_bm25')) < 0 AS control_chars;
SELECT ('αλφα 🦀 é e' || U&'\0301' || ' alpha') <@> quarry_query('alpha 🦀', 'bad_bm25') < 0 AS non_ascii;
-- quarry_query_parse: NULLs, the wrong relation, empty and operator-only
-- queries (nothing matches, every row scores 0), a 1 MB query of 180,000
-- clauses, an unclosed quote over 1 MB, control bytes.
SELECT quarry_query_parse(NULL) IS NULL AS null_text, quarry_query_parse('alpha', NULL) IS NULL AS null_index;
SELECT quarry_query_parse('alpha', 'bad_docs');            -- a table
SELECT quarry_query_parse('', 'bad_bm25')::text AS empty_parsed;
SELECT 'alpha beta' <@> quarry_query_parse('', 'bad_bm25') AS empty_scores_zero;
SELECT count(*) AS operators_only FROM bad_docs WHERE body @@@ quarry_query_parse('+ - "" -" ', 'bad_bm25');
SELECT 'alpha beta' <@> quarry_query_parse('-alpha', 'bad_bm25') AS only_negative;
SET enable_seqscan = off;
SELECT id, body <@> quarry_query_parse('-alpha') AS s FROM bad_docs ORDER BY body <@> quarry_query_parse('-alpha');
SELECT count(*) AS only_negative_rows FROM bad_docs WHERE body @@@ quarry_query_parse('-alpha');
SELECT id FROM bad_docs ORDER BY body <@> quarry_query_parse(repeat('+beta -zeta alpha ', 60000)) LIMIT 3;
-- An unclosed quote of 200,000 words is a phrase: longer than a phrase may be.
SELECT id FROM bad_docs WHERE body @@@ quarry_query_parse('"' || repeat('gamma ', 200000)) ORDER BY id;
RESET enable_seqscan;
SELECT ('alpha beta' <@> quarry_query_parse(repeat('+beta -zeta alpha ', 60000), 'bad_bm25')) < 0 AS huge_parsed_scores,
       ('alpha zeta beta' <@> quarry_query_parse(repeat('+beta -zeta alpha ', 60000), 'bad_bm25')) AS huge_excluded;
SELECT E'alpha\u0001beta' @@@ quarry_query_parse(E'+\u0001alpha\u0002 -"\u007f', 'bad_bm25') AS control_bytes;
-- Text that is not valid UTF-8 never reaches quarry in a UTF-8 database.
SELECT convert_from('\xfffe616c706861'::bytea, 'UTF8');

-- === CREATE INDEX ... USING quarry_bm25: options and columns ====================
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (text_config = 'klingon');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (text_config = '');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (text_config = 'pg_catalog.');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (k1 = -1);
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (k1 = 'NaN');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (k1 = 'Infinity');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (k1 = 1e308);
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (k1 = 'many');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (b = 1.5);
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (b = -0.1);
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (b = 'NaN');
CREATE INDEX ON bad_docs USING quarry_bm25 (body) WITH (colour = 'blue');
CREATE INDEX ON bad_docs USING quarry_bm25 (id);
CREATE INDEX ON bad_docs USING quarry_bm25 (body) INCLUDE (id);
CREATE UNIQUE INDEX ON bad_docs USING quarry_bm25 (body);
CREATE INDEX ON bad_docs USING quarry_bm25 (body DESC);
-- Edge values that are valid: k1 = 0 (term frequency ignored), b = 0 and 1.
CREATE INDEX bad_edge ON bad_docs USING quarry_bm25 (body) WITH (text_config = 'simple', k1 = 0, b = 1);
SELECT id, round((body <@> quarry_query('beta', 'bad_edge'))::numeric, 6) FROM bad_docs ORDER BY id;
DROP INDEX bad_edge;

-- === quarry_bm25_stats, quarry_bm25_merge, quarry_verify_index ===============
SELECT doc_count FROM quarry_bm25_stats('bad_bm25');
SELECT * FROM quarry_bm25_stats(NULL);
SELECT * FROM quarry_bm25_stats('bad_docs');
SELECT * FROM quarry_bm25_stats('bad_hnsw');
SELECT quarry_bm25_merge(NULL);
SELECT quarry_bm25_merge('bad_docs_pkey');
SELECT quarry_bm25_merge(0::oid::regclass);
SELECT * FROM quarry_verify_index('bad_docs_pkey');
SELECT * FROM quarry_verify_index(0::oid::regclass);

-- === distances: <->, <#>, <=> on real[] =========================================
SELECT '{1,2,3}'::real[] <-> '{1,2}'::real[];          -- different lengths
SELECT '{}'::real[] <-> '{}'::real[];                  -- empty
SELECT '{{1,2},{3,4}}'::real[] <-> '{1,2,3,4}'::real[]; -- two dimensions
SELECT '{1,NULL,3}'::real[] <-> '{1,2,3}'::real[];      -- NULL element
SELECT '{1,NaN,3}'::real[] <-> '{1,2,3}'::real[];
SELECT '{1,Infinity,3}'::real[] <#> '{1,2,3}'::real[];
SELECT '{1,-Infinity,3}'::real[] <=> '{1,2,3}'::real[];
SELECT '{0,0,0}'::real[] <=> '{1,2,3}'::real[];         -- cosine of a zero vector: NaN, not an error
SELECT '{3e38,3e38}'::real[] <-> '{-3e38,-3e38}'::real[]; -- overflows float4 while summing
SELECT NULL::real[] <-> '{1,2,3}'::real[] AS null_vector;
SELECT '{1,2' :: real[];                               -- malformed literal
SELECT '[0:2]={1,2,3}'::real[] <-> '{1,2,3}'::real[] AS shifted_bounds;
SELECT array_fill(1::real, ARRAY[20000]) <-> array_fill(2::real, ARRAY[20000]) AS long_vectors;

-- === quarry_hnsw: inserts, queries, options =====================================
INSERT INTO bad_docs VALUES (10, 'x', '{1,2}');            -- wrong dimension count
INSERT INTO bad_docs VALUES (11, 'x', '{1,NaN,3}');
INSERT INTO bad_docs VALUES (12, 'x', '{1,Infinity,3}');
INSERT INTO bad_docs VALUES (13, 'x', '{1,NULL,3}');
INSERT INTO bad_docs VALUES (14, 'x', '{{1,2,3}}');
INSERT INTO bad_docs VALUES (15, 'x', '{}');
INSERT INTO bad_docs VALUES (16, 'x', NULL);               -- NULL rows are not indexed
SET enable_seqscan = off;
SELECT id FROM bad_docs ORDER BY v <-> '{1,2}' LIMIT 1;
SELECT id FROM bad_docs ORDER BY v <-> '{1,NaN,0}' LIMIT 1;
-- Rows whose vector is NULL come last (NULL distance), as without the index.
SELECT count(*) AS all_rows FROM (SELECT id FROM bad_docs ORDER BY v <-> NULL::real[]) x;
SELECT array_agg(id ORDER BY id) AS rows_with_nulls_last
FROM (SELECT id FROM bad_docs ORDER BY v <-> '{1,0,0}' LIMIT 5) x;
SELECT id FROM bad_docs ORDER BY v <-> '{1,0,0}' LIMIT 2;
RESET enable_seqscan;
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (m = 1);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (m = 1000);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (ef_construction = 0);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (m = 16, ef_construction = 8);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (dims = -1);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 100000);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (dims = 4);   -- rows have 3
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops) WITH (m = 'lots');
CREATE INDEX ON bad_docs USING quarry_hnsw (body);
CREATE INDEX ON bad_docs USING quarry_hnsw (v);
CREATE INDEX ON bad_docs USING quarry_hnsw (v quarry_l2_ops, v quarry_l2_ops);
SET quarry.hnsw_ef_search = 0;
SET quarry.hnsw_ef_search = 100000;
SET quarry.hnsw_max_scan_tuples = -5;
-- (PostgreSQL 17 words this error with units: print its code and the start.)
DO $$ BEGIN SET quarry.bm25_pending_limit = '1kB';
EXCEPTION WHEN others THEN RAISE NOTICE '% %', SQLSTATE, split_part(SQLERRM, ' (', 1); END $$;
SET quarry.no_such_setting = 1;
SELECT * FROM quarry_hnsw_index_info(NULL);
SELECT * FROM quarry_hnsw_index_info('bad_bm25');
SELECT * FROM quarry_hnsw_index_info('bad_docs');

-- === quarry_memory_stats ======================================================
SELECT build_arenas_live FROM quarry_memory_stats();
SELECT quarry_memory_stats_reset();

-- === Text that is not UTF-8, where the server allows it: SQL_ASCII ============
SELECT current_database() AS regress_db \gset
CREATE DATABASE quarry_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c quarry_ascii
SET client_min_messages = warning;
CREATE EXTENSION quarry;
CREATE TABLE raw_docs (id int, body text);
INSERT INTO raw_docs VALUES (1, E'alpha \xff\xfe\xfd beta'), (2, E'\xc3\x28 gamma'), (3, E'\xe2\x82 alpha alpha');
CREATE INDEX raw_idx ON raw_docs USING quarry_bm25 (body) WITH (text_config = 'simple');
SET enable_seqscan = off;
SELECT id, round((body <@> quarry_query('alpha', 'raw_idx'))::numeric, 6) AS s
FROM raw_docs ORDER BY body <@> quarry_query('alpha', 'raw_idx'), id;
SELECT id FROM raw_docs ORDER BY body <@> quarry_query(E'\xff\xfe\xfd', 'raw_idx') LIMIT 3;
SELECT count(*) AS problems FROM quarry_verify_index('raw_idx');
\c :regress_db
DROP DATABASE quarry_ascii;
DROP TABLE bad_docs;
