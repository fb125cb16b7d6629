-- Scoring with statistics carried by the query (README "Scaling out with
-- Citus"): what a distributed table's shards do in quarry.bm25_statistics =
-- 'global'. Checked here without Citus: a table split in two "shards", each
-- with its own index, scores every row exactly as one table with one index
-- does once the query carries the sum of the two indexes' statistics.
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE whole AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body,
       min(description) AS title
FROM descriptions GROUP BY (rn - 1) / 15 ORDER BY 1;
DROP TABLE descriptions;
CREATE TABLE shard_a AS SELECT * FROM whole WHERE id % 3 = 0;
CREATE TABLE shard_b AS SELECT * FROM whole WHERE id % 3 <> 0;
CREATE INDEX whole_idx ON whole USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX shard_a_idx ON shard_a USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX shard_b_idx ON shard_b USING quarry_bm25 (body) WITH (text_config = 'english');

-- The statistics of one index: N and total length as quarry_bm25_stats has
-- them, and each term's document frequency as to_tsvector counts it.
SELECT quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'index access method');
SELECT s.doc_count, s.total_length FROM quarry_bm25_stats('whole_idx') s;
WITH t AS (SELECT quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'index access method') AS s),
terms AS (SELECT convert_from(decode(split_part(e, ':', 1), 'hex'), 'UTF8') AS term,
                 split_part(e, ':', 2)::bigint AS df
          FROM t, unnest(string_to_array(split_part(s, ' df=', 2), ',')) e)
SELECT term, df, (SELECT count(*) FROM whole WHERE to_tsvector('english', body) @@ to_tsquery('english', term)) AS tsquery_rows
FROM terms ORDER BY term;
-- A table that is not distributed: its global statistics are its index's own.
SELECT quarry_bm25_global_statistics('whole_idx', 'index access method')
     = quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'index access method') AS own;
-- What a shard answers: one row however many rows the table has.
SELECT quarry_bm25_shard_statistics(body, 'index access method') FROM whole;
-- Two indexes summed: the totals of the two, and of the whole table.
SELECT quarry_bm25_term_statistics(ARRAY['shard_a_idx', 'shard_b_idx']::regclass[], 'index access method')
     = quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'index access method') AS same_as_whole,
       quarry_bm25_sum_statistics(ARRAY[
           quarry_bm25_term_statistics(ARRAY['shard_a_idx'::regclass], 'index access method'),
           quarry_bm25_term_statistics(ARRAY['shard_b_idx'::regclass], 'index access method')])
     = quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'index access method') AS summed_as_whole;

-- Every row of both "shards" scored with the whole table's statistics equals
-- its score in the whole table (bit for bit), for plain and parsed gs_queries
-- (required, excluded, prefix and phrase clauses); with each shard's own
-- statistics most differ.
CREATE TABLE gs_queries (qid int, q quarry_query);
INSERT INTO gs_queries VALUES
    (1, 'function'), (2, 'index access method'), (3, 'text search configuration'),
    (4, quarry_query_parse('+index -btree access')), (5, quarry_query_parse('trig* function')),
    (6, quarry_query_parse('"access method" handler')), (7, 'zzzunknownword');
CREATE FUNCTION global_query(q quarry_query) RETURNS quarry_query LANGUAGE sql STABLE
RETURN quarry_query_with_statistics(q, quarry_bm25_sum_statistics(ARRAY[
    quarry_bm25_term_statistics(ARRAY['shard_a_idx'::regclass], q),
    quarry_bm25_term_statistics(ARRAY['shard_b_idx'::regclass], q)]));
CREATE TABLE gs_whole_scores AS
    SELECT qid, id, body <@> q AS score FROM gs_queries, whole WHERE body @@@ q;
CREATE TABLE gs_shard_scores AS
    SELECT qid, id, body <@> global_query(q) AS score, body <@> q AS own_score
    FROM gs_queries, shard_a WHERE body @@@ q
    UNION ALL
    SELECT qid, id, body <@> global_query(q), body <@> q
    FROM gs_queries, shard_b WHERE body @@@ q;
SELECT w.qid, count(*) AS rows, count(s.id) AS found,
       count(*) FILTER (WHERE s.score = w.score) AS equal_scores,
       count(*) FILTER (WHERE s.own_score = w.score) AS equal_with_own_statistics
FROM gs_whole_scores w LEFT JOIN gs_shard_scores s USING (qid, id) GROUP BY w.qid ORDER BY w.qid;
SELECT count(*) AS shard_rows_not_in_whole FROM gs_shard_scores s
WHERE NOT EXISTS (SELECT FROM gs_whole_scores w WHERE w.qid = s.qid AND w.id = s.id);

-- The top 10 of the two ordered index scans, merged, is the whole table's
-- top 10 (what Citus's coordinator does with each shard's LIMIT 10).
SET enable_seqscan = off;
CREATE FUNCTION merged_top10(query quarry_query) RETURNS TABLE (id int, score float8) LANGUAGE sql AS $$
    SELECT id, score FROM (
        (SELECT id, body <@> global_query(query) AS score FROM shard_a ORDER BY body <@> global_query(query) LIMIT 10)
        UNION ALL
        (SELECT id, body <@> global_query(query) FROM shard_b ORDER BY body <@> global_query(query) LIMIT 10)) m
    ORDER BY score, id LIMIT 10
$$;
EXPLAIN (COSTS OFF) SELECT id FROM shard_a ORDER BY body <@> global_query('index access method') LIMIT 10;
SELECT q.qid, (SELECT array_agg(id ORDER BY score, id) FROM merged_top10(q.q))
            = (SELECT array_agg(id ORDER BY s, id) FROM (SELECT id, body <@> q.q AS s FROM whole ORDER BY body <@> q.q LIMIT 10) w) AS same_top10
FROM gs_queries q ORDER BY q.qid;
RESET enable_seqscan;

-- An index of fields (BM25F): each field's total length is summed too.
CREATE INDEX whole_fields ON whole USING quarry_bm25 (title, body) WITH (text_config = 'english', weights = 'title=2, body=1');
CREATE INDEX shard_a_fields ON shard_a USING quarry_bm25 (title, body) WITH (text_config = 'english', weights = 'title=2, body=1');
CREATE INDEX shard_b_fields ON shard_b USING quarry_bm25 (title, body) WITH (text_config = 'english', weights = 'title=2, body=1');
SELECT split_part(quarry_bm25_term_statistics(ARRAY['whole_fields'::regclass], 'function'), ' df=', 1) AS totals;
CREATE FUNCTION global_fields_query(q quarry_query) RETURNS quarry_query LANGUAGE sql STABLE
RETURN quarry_query_with_statistics(q, quarry_bm25_term_statistics(ARRAY['shard_a_fields', 'shard_b_fields']::regclass[], q));
SELECT q.qid, count(*) AS rows,
       count(*) FILTER (WHERE s.score = w.score) AS equal_scores
FROM gs_queries q
JOIN LATERAL (SELECT id, (title, body) <@> q.q AS score FROM whole WHERE (title, body) @@@ q.q) w ON true
LEFT JOIN LATERAL (SELECT id, (title, body) <@> global_fields_query(q.q) AS score FROM shard_a WHERE (title, body) @@@ q.q
                   UNION ALL
                   SELECT id, (title, body) <@> global_fields_query(q.q) FROM shard_b WHERE (title, body) @@@ q.q) s
    ON s.id = w.id
WHERE q.qid <= 4 GROUP BY q.qid ORDER BY q.qid;
SELECT (title, body) <@> quarry_query_with_statistics('function', 'n=1 len=2 df=') FROM whole LIMIT 1;

-- A query's text form carries its statistics and reads back to itself.
SELECT quarry_query_with_statistics('index', 'n=10 len=100 df=696e646578:3');
SELECT 'stats{n=10 len=100 df=}parsed:+index'::quarry_query AS read_back,
       quarry_query_is_parsed('stats{n=10 len=100 df=}parsed:+index'::quarry_query) AS parsed;
SELECT quarry_query_statistics('stats{n=1 len=2 df=}plain:stats{x}'::quarry_query) AS statistics,
       quarry_query_text('stats{n=1 len=2 df=}plain:stats{x}'::quarry_query) AS text;
SELECT quarry_query('plain:stats{x} is a word') AS plain_query,
       quarry_query_text('plain:stats{x} is a word') AS words;
SELECT quarry_query('stats{x} is a word');
SELECT quarry_query_statistics('index') IS NULL AS no_statistics,
       quarry_query_statistics(quarry_query_with_statistics('index', NULL)) IS NULL AS removed;
-- Given statistics change the score as the BM25 formula says: with N = 1000
-- and df = 1 the IDF is ln(1 + 999.5 / 1.5) for one row of average length.
CREATE TABLE gs_one (body text);
INSERT INTO gs_one VALUES ('quokka');
CREATE INDEX one_idx ON gs_one USING quarry_bm25 (body) WITH (text_config = 'english');
SELECT round((-(body <@> quarry_query_with_statistics('quokka', 'n=1000 len=1000 df=71756f6b6b61:1')))::numeric, 12) AS score,
       round((ln(1 + 999.5 / 1.5) * 1 * 2.2 / (1 + 1.2))::numeric, 12) AS formula
FROM gs_one;

-- Bad statistics are clear errors.
SELECT quarry_query_with_statistics('x', 'n=1 len=2');
SELECT quarry_query_with_statistics('x', 'n=01 len=2 df=');
SELECT quarry_query_with_statistics('x', 'n=1 len=2 df=6162:1,6162:2');
SELECT quarry_query_with_statistics('x', 'n=1 len=2 df=ABCD:1');
SELECT quarry_query_with_statistics('x', 'n=1 len=2 df=616:1');
SELECT quarry_query_with_statistics('x', 'n=99999999999999999999 len=2 df=');
SELECT quarry_query_with_statistics('x', 'n=1 len=2 fields=1 df=');
SELECT 'stats{n=1 len=2 df=x'::quarry_query;
SELECT 'stats{n=1 len=2 dfx=}x'::quarry_query;
SELECT body <@> quarry_query_with_statistics('quokka', 'n=1 len=2 fields=1,1 df=') FROM gs_one;
SELECT quarry_bm25_sum_statistics(ARRAY['n=1 len=2 df=', 'n=1 len=2 fields=1,1 df=']);
SELECT quarry_bm25_sum_statistics(ARRAY['n=9223372036854775807 len=2 df=', 'n=1 len=2 df=']);
SELECT quarry_bm25_sum_statistics('{}');
SELECT quarry_bm25_term_statistics('{}', 'x');
SELECT quarry_bm25_term_statistics(ARRAY['whole'::regclass], 'x');
SELECT quarry_bm25_global_statistics('whole', 'x');
SELECT quarry_bm25_shard_statistics(body, 'x') FROM whole WHERE id > 3;
SELECT quarry_bm25_shard_statistics('a text'::text, 'x');
-- A query that depends on the rows is not rewritten (the table leaves the
-- FROM list): the function's ERROR, not a crash.
SELECT quarry_bm25_shard_statistics(body, body) FROM whole;
SELECT quarry_bm25_shard_statistics(body, quarry_query(title)) FROM whole;
SELECT quarry_bm25_shard_statistics(body, 'x') = 'n=' FROM whole;

-- Reading an index's statistics needs what quarry_bm25_stats needs.
CREATE ROLE quarry_stats_reader;
SET ROLE quarry_stats_reader;
SELECT quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'x');
SELECT quarry_bm25_global_statistics('whole_idx', 'x');
RESET ROLE;
GRANT SELECT ON whole TO quarry_stats_reader;
SET ROLE quarry_stats_reader;
SELECT quarry_bm25_term_statistics(ARRAY['whole_idx'::regclass], 'function') IS NOT NULL AS readable;
RESET ROLE;
DROP OWNED BY quarry_stats_reader;
DROP ROLE quarry_stats_reader;

-- quarry.bm25_statistics acts on distributed tables only: a plain table
-- scores as before in either mode.
SHOW quarry.bm25_statistics;
SET quarry.bm25_statistics = 'global';
SELECT (SELECT array_agg(body <@> 'index access method' ORDER BY id) FROM whole WHERE body @@@ 'index access method')
     = (SELECT array_agg(score ORDER BY id) FROM gs_whole_scores WHERE qid = 2) AS unchanged;
SET quarry.bm25_statistics = 'sometimes';
RESET quarry.bm25_statistics;

DROP FUNCTION merged_top10(quarry_query), global_query(quarry_query), global_fields_query(quarry_query);
DROP TABLE whole, shard_a, shard_b, gs_queries, gs_whole_scores, gs_shard_scores, gs_one;
