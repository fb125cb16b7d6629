-- Several fields with weights (BM25F): an index over (title, body), checked
-- against BM25F written in plain SQL over to_tsvector (the README's formula:
-- per-field length normalisation, df the largest over the fields).
SET extra_float_digits = 0;
CREATE EXTENSION IF NOT EXISTS quarry;
CREATE TABLE bf_descriptions (id serial PRIMARY KEY, description text);
\copy bf_descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
-- Titles: the first two words of a description; a few rows without a title,
-- a few without a body, a few with neither.
CREATE TABLE bf_docs AS
SELECT id,
       CASE WHEN id % 17 = 0 THEN NULL ELSE split_part(description, ' ', 1) || ' ' || split_part(description, ' ', 2) END AS title,
       CASE WHEN id % 23 = 0 THEN NULL ELSE description END AS body,
       id % 3 AS category
FROM bf_descriptions;
UPDATE bf_docs SET title = NULL, body = NULL WHERE id % 97 = 0;
CREATE INDEX bf_fields ON bf_docs USING quarry_bm25 (title, body)
  WITH (text_config = 'english', weights = 'title=3, body=1');
SELECT doc_count, null_rows FROM quarry_bm25_stats('bf_fields');
-- Each field's name, weight and lengths against the same count in plain SQL
-- (lexemes with their repeats, as the reference below counts them).
SELECT f.field, f.name, f.weight,
       f.total_length = (SELECT sum(coalesce((SELECT sum(array_length(u.positions, 1))
                                              FROM unnest(to_tsvector('english', coalesce(
                                                  CASE f.field WHEN 1 THEN d.title ELSE d.body END, ''))) u), 0))
                         FROM bf_docs d) AS total_matches,
       abs(f.avg_length * s.doc_count - f.total_length) < 1e-6 AS avg_matches
FROM quarry_bm25_fields('bf_fields') f, quarry_bm25_stats('bf_fields') s ORDER BY f.field;
SELECT positions, fields, total_length = (SELECT sum(total_length) FROM quarry_bm25_fields('bf_fields')) AS fields_add_up
FROM quarry_bm25_stats('bf_fields');

-- The reference: BM25F of every row for a query, in plain SQL.
CREATE FUNCTION bm25f_reference(q text, w_title float8, w_body float8, k1 float8 DEFAULT 1.2, b float8 DEFAULT 0.75)
RETURNS TABLE (id int, score float8) LANGUAGE sql AS $$
WITH fields AS (
    SELECT d.id, f.field, f.weight, to_tsvector('english', coalesce(f.value, '')) AS tsv
    FROM bf_docs d,
         LATERAL (VALUES (1, d.title, w_title), (2, d.body, w_body)) AS f(field, value, weight)
    WHERE d.title IS NOT NULL OR d.body IS NOT NULL
),
lens AS (
    SELECT f.id, f.field, f.weight, f.tsv,
           coalesce((SELECT sum(array_length(u.positions, 1)) FROM unnest(f.tsv) u), 0) AS len
    FROM fields f
),
n AS (SELECT count(DISTINCT id)::float8 AS n FROM lens),
avg AS (SELECT field, sum(len)::float8 / (SELECT n FROM n) AS avgdl FROM lens GROUP BY field),
qterms AS (
    SELECT u.lexeme, array_length(u.positions, 1) AS qtf
    FROM unnest(to_tsvector('english', q)) u
),
tfs AS (
    SELECT l.id, l.field, l.weight, l.len, t.lexeme,
           coalesce((SELECT array_length(u.positions, 1) FROM unnest(l.tsv) u WHERE u.lexeme = t.lexeme), 0) AS tf
    FROM lens l, qterms t
),
df AS (
    SELECT lexeme, max(c) AS df FROM (
        SELECT lexeme, field, count(*) FILTER (WHERE tf > 0) AS c FROM tfs GROUP BY lexeme, field) s
    GROUP BY lexeme
),
folded AS (
    SELECT t.id, t.lexeme,
           sum(CASE WHEN t.tf = 0 THEN 0
                    ELSE t.weight * t.tf / (1 - b + b * t.len / a.avgdl) END) AS freq
    FROM tfs t JOIN avg a USING (field)
    GROUP BY t.id, t.lexeme
)
SELECT f.id,
       sum(CASE WHEN f.freq = 0 THEN 0 ELSE
           q.qtf * ln(1 + ((SELECT n FROM n) - df.df + 0.5) / (df.df + 0.5)) * f.freq * (k1 + 1) / (f.freq + k1) END)
FROM folded f JOIN df USING (lexeme) JOIN qterms q USING (lexeme)
GROUP BY f.id
$$;

-- Every row's score for a few bf_queries: the index's (the computing path, and
-- the ordered scan's values) against the reference.
CREATE TABLE bf_queries (q text);
INSERT INTO bf_queries VALUES ('index access method'), ('storage type'), ('function returns trigger'),
  ('system catalog'), ('heap table'), ('text search configuration parser');
SELECT q.q,
       count(*) AS rows_scored,
       count(*) FILTER (WHERE abs(-((d.title, d.body) <@> q.q) - coalesce(r.score, 0)) > 1e-9 * greatest(1, abs(r.score))) AS differ
FROM bf_queries q CROSS JOIN bf_docs d
LEFT JOIN LATERAL (SELECT score FROM bm25f_reference(q.q, 3, 1) r WHERE r.id = d.id) r ON true
WHERE d.title IS NOT NULL OR d.body IS NOT NULL
GROUP BY q.q ORDER BY q.q;

-- The ordered scan's top 10 equals the reference's top 10 (ids, in order),
-- and its scores are the computed ones bit for bit.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM bf_docs ORDER BY (title, body) <@> 'index access method' LIMIT 10;
SELECT q.q,
       (SELECT array_agg(id) FROM (SELECT id FROM bf_docs ORDER BY (title, body) <@> q.q LIMIT 10) s) =
       (SELECT array_agg(id) FROM (SELECT id FROM bm25f_reference(q.q, 3, 1) ORDER BY score DESC, id LIMIT 10) s) AS same_top10
FROM bf_queries q ORDER BY q.q;
WITH scan AS (
    SELECT id, (title, body) <@> 'storage type' AS s FROM bf_docs ORDER BY (title, body) <@> 'storage type' LIMIT 20
)
SELECT count(*) AS rows, count(*) FILTER (WHERE s <> (SELECT (title, body) <@> 'storage type' FROM bf_docs f WHERE f.id = scan.id)) AS differ
FROM scan;
RESET enable_seqscan;

-- Weights are read at query time: with title=1 the reference changes too.
ALTER INDEX bf_fields SET (weights = 'title=1, body=2');
SELECT count(*) FILTER (WHERE abs(-((d.title, d.body) <@> 'storage type') - coalesce(r.score, 0)) > 1e-9 * greatest(1, abs(r.score))) AS differ
FROM bf_docs d LEFT JOIN bm25f_reference('storage type', 1, 2) r USING (id)
WHERE d.title IS NOT NULL OR d.body IS NOT NULL;
ALTER INDEX bf_fields SET (weights = 'title=3, body=1');

-- title:word and title:"a phrase" look in one field; a phrase in no field
-- spans two.
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('title:heap')) AS title_heap,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(title, '')) @@ to_tsquery('english', 'heap')) AS reference
FROM bf_docs;
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('body:"access method"')) AS body_phrase,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(body, '')) @@ phraseto_tsquery('english', 'access method')) AS reference
FROM bf_docs;
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('"access method"')) AS any_phrase,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(title, '')) @@ phraseto_tsquery('english', 'access method')
                           OR to_tsvector('english', coalesce(body, '')) @@ phraseto_tsquery('english', 'access method')) AS reference
FROM bf_docs;
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('+title:index -body:btree')) AS must_not,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(title, '')) @@ to_tsquery('english', 'index')
                          AND NOT to_tsvector('english', coalesce(body, '')) @@ to_tsquery('english', 'btree')) AS reference
FROM bf_docs;
-- A prefix over every field and in one.
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('trig*')) AS prefix_any,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, '')) @@ to_tsquery('english', 'trig:*')) AS reference
FROM bf_docs;
SELECT count(*) FILTER (WHERE (title, body) @@@ quarry_query_parse('title:trig*')) AS prefix_title,
       count(*) FILTER (WHERE to_tsvector('english', coalesce(title, '')) @@ to_tsquery('english', 'trig:*')) AS reference
FROM bf_docs;

-- Bitmap match with a filter on another column, and the score in SELECT.
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bf_docs WHERE (title, body) @@@ 'trigger' AND category = 1;
SELECT count(*) FROM bf_docs WHERE (title, body) @@@ 'trigger' AND category = 1;
RESET enable_indexscan;
SELECT id, round(((title, body) <@> 'trigger')::numeric, 6) AS score FROM bf_docs
WHERE category = 1 ORDER BY (title, body) <@> 'trigger' LIMIT 5;
RESET enable_seqscan;

-- NULL fields: a row with neither has a NULL score and is not in the index.
SELECT id, title, body, (title, body) <@> 'trigger' AS score FROM bf_docs WHERE id = 97;

-- Writes: inserted rows (pending list), updates, deletes and VACUUM keep the
-- index right.
INSERT INTO bf_docs (id, title, body, category) VALUES (100001, 'Trigger trigger', NULL, 0), (100002, NULL, 'a trigger', 0), (100003, NULL, NULL, 0);
UPDATE bf_docs SET title = 'index trigger' WHERE id = 5;
DELETE FROM bf_docs WHERE id = 7;
VACUUM bf_docs;
SELECT count(*) AS problems FROM quarry_verify_index('bf_fields');
SELECT (SELECT array_agg(id) FROM (SELECT id FROM bf_docs ORDER BY (title, body) <@> 'trigger' LIMIT 10) s) =
       (SELECT array_agg(id) FROM (SELECT id FROM bm25f_reference('trigger', 3, 1) ORDER BY score DESC, id LIMIT 10) s) AS same_top10_after_writes;
SELECT quarry_bm25_merge('bf_fields');
SELECT count(*) AS problems FROM quarry_verify_index('bf_fields');

-- Mistakes.
SELECT count(*) FROM bf_docs WHERE (title, body) @@@ quarry_query_parse('nosuch:trigger');
SELECT count(*) FROM bf_docs WHERE (title, body, body) <@> quarry_query('trigger', 'bf_fields') < 0;
SELECT count(*) FROM bf_docs WHERE title <@> quarry_query('trigger', 'bf_fields') < 0;
SELECT count(*) FROM bf_docs WHERE (id, body) <@> quarry_query('trigger', 'bf_fields') < 0;
ALTER INDEX bf_fields SET (weights = 'title=x');
ALTER INDEX bf_fields SET (weights = 'titel=2');
SELECT count(*) FROM bf_docs WHERE (title, body) @@@ 'trigger';
SELECT * FROM quarry_bm25_fields('bf_fields');
ALTER INDEX bf_fields RESET (weights);
CREATE INDEX ON bf_docs USING quarry_bm25 (title, body) WITH (weights = 'nosuch=2');
CREATE TABLE bf_wide (a text, b text, c text, d text, e text, f text, g text, h text, i text);
CREATE INDEX ON bf_wide USING quarry_bm25 (a, b, c, d, e, f, g, h, i);
DROP TABLE bf_docs, bf_descriptions, bf_queries, bf_wide;
DROP FUNCTION bm25f_reference;
-- A partial index's predicate alone (no @@@): the bitmap scan returns every
-- row of the index, those whose value is NULL too (it returned none before).
CREATE TABLE bf_partial (id int, category text, body text);
INSERT INTO bf_partial SELECT g, CASE WHEN g % 3 = 0 THEN 'news' ELSE 'blog' END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'text ' || g END FROM generate_series(1, 300) g;
CREATE INDEX bf_partial_idx ON bf_partial USING quarry_bm25 (body) WHERE category = 'news';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM bf_partial WHERE category = 'news';
SELECT count(*) FROM bf_partial WHERE category = 'news';
RESET enable_seqscan;
SELECT count(*) AS reference FROM bf_partial WHERE category = 'news';
DROP TABLE bf_partial;
-- An index built on an empty table (the usual order: the index first, then
-- the rows), then filled: the build's empty segment suits any fields.
CREATE TABLE bf_empty (id int, title text, body text);
CREATE INDEX bf_empty_idx ON bf_empty USING quarry_bm25 (title, body) WITH (text_config = 'english');
INSERT INTO bf_empty VALUES (1, 'hello', 'world'), (2, 'world', 'peace'), (3, NULL, 'worlds apart');
SELECT id FROM bf_empty WHERE (title, body) @@@ quarry_query_parse('body:world') ORDER BY id;
SELECT id FROM bf_empty WHERE (title, body) @@@ quarry_query_parse('title:wrld~1') ORDER BY id;
SELECT quarry_bm25_merge('bf_empty_idx');
SELECT id FROM bf_empty ORDER BY (title, body) <@> 'world' LIMIT 3;
SELECT count(*) AS problems FROM quarry_verify_index('bf_empty_idx');
-- Highlighting a column of an index of fields (the index named): a clause of
-- one field marks its words in the column shown.
SELECT quarry_snippet(body, quarry_query_parse('title:world peace', 'bf_empty_idx')) FROM bf_empty WHERE id = 2;
SELECT * FROM quarry_highlights('hello world', quarry_query_parse('body:world', 'bf_empty_idx'));
DROP TABLE bf_empty;
