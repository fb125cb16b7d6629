-- Highlighting: quarry_highlights and quarry_snippet against PostgreSQL's own
-- tokenizer (ts_debug: every token of a text with the lexemes its
-- configuration gives it). A word matches when its lexemes meet the query's
-- scored lexemes. Documents: PostgreSQL's object descriptions (sql/data), 15
-- to a document, and texts in other scripts.
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE hl_docs AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body
FROM descriptions GROUP BY (rn - 1) / 15;
DROP TABLE descriptions;
INSERT INTO hl_docs VALUES
    (-1, 'Größere Dateien — naïve café-owners’ “quotes” and Ελληνικά γράμματα: index, indexes, INDEXED!'),
    (-2, 'whale-ship harpooners: the whale''s ship, whales and whaling ships. http://whale.example.com/ship'),
    (-3, ''),
    (-4, 'stop words only: the of and');
CREATE INDEX hl_idx ON hl_docs USING quarry_bm25 (body) WITH (text_config = 'english');

-- The reference: the tokens of `body` whose lexemes meet the lexemes of `q`
-- (a plain query's words), in text order.
CREATE FUNCTION ref_matches(body text, q text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(d.token ORDER BY d.n), '{}')
    FROM ts_debug('english', body) WITH ORDINALITY d(alias, description, token, dictionaries, dictionary, lexemes, n)
    WHERE d.lexemes && tsvector_to_array(to_tsvector('english', q)) $$;
-- quarry_highlights' matches, read back from the text at the offsets.
CREATE FUNCTION hl_matches(body text, q quarry_query) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(substr(body, h.start_offset + 1, h.end_offset - h.start_offset) ORDER BY h.n), '{}')
    FROM quarry_highlights(body, q) WITH ORDINALITY h(start_offset, end_offset, lexeme, n) $$;

CREATE TABLE hl_queries (q text);
INSERT INTO hl_queries VALUES ('function'), ('index access method'), ('text search configuration'),
    ('operator operator class'), ('whale ship'), ('größere dateien'), ('café owners'), ('ελληνικά'),
    ('indexes'), ('the of'), ('zzz');

-- Every document × every query: the same matched words as the reference.
SELECT q.q, count(*) AS docs, count(*) FILTER (WHERE hl_matches(d.body, quarry_query(q.q, 'hl_idx')) = ref_matches(d.body, q.q)) AS same,
       sum(cardinality(ref_matches(d.body, q.q))) AS matched_words
FROM hl_docs d, hl_queries q GROUP BY q.q ORDER BY q.q;
-- Offsets in characters, not bytes, and the lexeme each word matched.
SELECT * FROM quarry_highlights((SELECT body FROM hl_docs WHERE id = -1), quarry_query('indexes Ελληνικά dateien', 'hl_idx'));
SELECT * FROM quarry_highlights((SELECT body FROM hl_docs WHERE id = -2), quarry_query('whale ship', 'hl_idx'));
-- A parsed query marks its SHOULD and MUST words, not its MUST_NOT ones.
SELECT hl_matches(body, quarry_query_parse('+whale -ship harpooner', 'hl_idx')) FROM hl_docs WHERE id = -2;

-- Snippets: every fragment, tags removed, is a piece of the text; every marked
-- word is a matching token; and a fragment marks every matching word it holds
-- (the reference tokenizes the fragment alone).
CREATE FUNCTION snippet_checks(body text, q text, frags int, words int)
RETURNS TABLE (fragments int, all_in_text boolean, marks_match boolean) LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT quarry_snippet(body, quarry_query(q, 'hl_idx'), '[[', ']]', frags, words) AS snippet),
    f AS (SELECT x.frag, replace(replace(x.frag, '[[', ''), ']]', '') AS plain
          FROM s, regexp_split_to_table(s.snippet, ' \.\.\. ') AS x(frag) WHERE s.snippet <> '')
    SELECT count(*)::int,
           coalesce(bool_and(position(plain IN body) > 0), true),
           coalesce(bool_and((SELECT coalesce(array_agg(m[1]), '{}') FROM regexp_matches(frag, '\[\[(.*?)\]\]', 'g') m)
                             = ref_matches(plain, q)), true)
    FROM f $$;
SELECT q.q, f.frags, w.words,
       count(*) FILTER (WHERE c.all_in_text AND c.marks_match) AS sound, count(*) AS docs,
       max(c.fragments) AS most_fragments
FROM hl_queries q, (VALUES (1), (3)) f(frags), (VALUES (5), (30)) w(words), hl_docs d,
     LATERAL snippet_checks(d.body, q.q, f.frags, w.words) c
GROUP BY q.q, f.frags, w.words ORDER BY q.q, f.frags, w.words;
-- What they look like.
SELECT quarry_snippet(body, quarry_query('whale ship', 'hl_idx'), fragment_words => 8) FROM hl_docs WHERE id = -2;
SELECT quarry_snippet(body, quarry_query('indexes ελληνικά', 'hl_idx'), '<em>', '</em>', 2, 4) FROM hl_docs WHERE id = -1;
SELECT quarry_snippet(body, quarry_query('index access method', 'hl_idx'), max_fragments => 2, fragment_words => 10)
FROM hl_docs ORDER BY body <@> quarry_query('index access method', 'hl_idx') LIMIT 3;
-- No match: the start of the text, unmarked; an empty text: empty.
SELECT quarry_snippet(body, quarry_query('zzz', 'hl_idx'), fragment_words => 5) FROM hl_docs WHERE id = -2;
SELECT quarry_snippet(body, quarry_query('the', 'hl_idx')) FROM hl_docs WHERE id = -4;
SELECT quarry_snippet(body, quarry_query('whale', 'hl_idx')) = '' AS empty FROM hl_docs WHERE id = -3;

-- An unnamed query takes the index of its column, as <@> does, or the index
-- the statement's scan ran it with.
SELECT quarry_snippet(body, 'whale', fragment_words => 4) FROM hl_docs WHERE id = -2;
SELECT h.lexeme, count(*) FROM hl_docs d, quarry_highlights(d.body, 'whale ship') h GROUP BY 1 ORDER BY 1;
SELECT quarry_snippet('whale', 'whale');

-- Bad input: clear errors; NULL in, NULL out.
SELECT quarry_snippet(body, quarry_query('whale', 'hl_idx'), max_fragments => 0) FROM hl_docs WHERE id = -2;
SELECT quarry_snippet(body, quarry_query('whale', 'hl_idx'), fragment_words => 1001) FROM hl_docs WHERE id = -2;
SELECT quarry_snippet(NULL, quarry_query('whale', 'hl_idx')) IS NULL AS null_text,
       quarry_snippet('whale', quarry_query('whale', 'hl_idx'), NULL) IS NULL AS null_tag;
-- A query whose lexemes a tsquery cannot hold (1 MB): a clear ERROR, without the text.
SELECT quarry_snippet('w1xxxxxxxxxxxxxxxxxx', quarry_query(
    (SELECT string_agg('w' || g || 'xxxxxxxxxxxxxxxxxx', ' ') FROM generate_series(1, 60000) g), 'hl_idx'));
CREATE TABLE hl_plain (body text);
CREATE INDEX hl_btree ON hl_plain (body);
SELECT quarry_snippet('whale', quarry_query('whale', 'hl_btree'));

-- A thesaurus (phrases across words): the exact path, the same references.
CREATE TEXT SEARCH DICTIONARY hl_ths (TEMPLATE = thesaurus, DictFile = thesaurus_sample, Dictionary = english_stem);
CREATE TEXT SEARCH CONFIGURATION hl_ths_cfg (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION hl_ths_cfg ALTER MAPPING FOR asciiword WITH hl_ths, english_stem;
CREATE TABLE hl_astro (body text);
INSERT INTO hl_astro VALUES ('bright supernovae stars and one supernovae alone, stars too');
CREATE INDEX hl_astro_idx ON hl_astro USING quarry_bm25 (body) WITH (text_config = 'public.hl_ths_cfg');
SELECT * FROM quarry_highlights((SELECT body FROM hl_astro), quarry_query('supernovae stars', 'hl_astro_idx'));
SELECT quarry_snippet(body, quarry_query('supernovae stars', 'hl_astro_idx')) FROM hl_astro;
-- Exact tokenizing gives a hyphenated word and each of its parts: more words
-- than half the bytes (the word arrays grow).
SELECT length(quarry_snippet(repeat('b-c ', 50000), quarry_query('b', 'hl_astro_idx'))) AS long_hyphenated,
       quarry_snippet(repeat('b-c ', 4), quarry_query('b', 'hl_astro_idx'), fragment_words => 5) AS short;

DROP TABLE hl_docs, hl_queries, hl_plain, hl_astro;
DROP FUNCTION ref_matches(text, text);
DROP FUNCTION hl_matches(text, quarry_query);
DROP FUNCTION snippet_checks(text, text, int, int);
DROP TEXT SEARCH CONFIGURATION hl_ths_cfg;
DROP TEXT SEARCH DICTIONARY hl_ths;
