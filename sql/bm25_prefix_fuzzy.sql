-- Prefix ('word*') and fuzzy ('word~N') terms of quarry_query_parse, against
-- independent references: the index's dictionary as PostgreSQL's ts_stat
-- sees it, a plain-SQL optimal-string-alignment distance, to_tsquery's own
-- prefix matching ('word:*'), and a plain-SQL BM25 with Lucene's blended
-- document frequency and fuzzy boost (README "Prefix and fuzzy terms").
-- Documents: PostgreSQL's object descriptions (sql/data), 15 to a document.
CREATE TABLE descriptions (rn serial, description text);
\copy descriptions (description) FROM 'sql/data/pg15_descriptions.txt'
CREATE TABLE pf_docs AS
SELECT ((rn - 1) / 15)::int AS id, string_agg(description, '. ' ORDER BY rn) AS body
FROM descriptions GROUP BY (rn - 1) / 15;
DROP TABLE descriptions;
CREATE INDEX pf_idx ON pf_docs USING quarry_bm25 (body) WITH (text_config = 'english');

-- The dictionary: every lexeme and the rows holding it.
CREATE FUNCTION dictionary() RETURNS TABLE (word text, ndoc int) LANGUAGE sql STABLE AS $$
    SELECT word, ndoc FROM ts_stat('SELECT to_tsvector(''english'', body) FROM pf_docs') $$;
-- Optimal string alignment distance over characters, the textbook matrix.
CREATE FUNCTION osa(a text, b text) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    n int := length(a); m int := length(b);
    d int[] := array_fill(0, ARRAY[n + 1, m + 1]);
    cost int;
BEGIN
    FOR i IN 0..n LOOP d[i + 1][1] := i; END LOOP;
    FOR j IN 0..m LOOP d[1][j + 1] := j; END LOOP;
    FOR i IN 1..n LOOP
        FOR j IN 1..m LOOP
            cost := CASE WHEN substr(a, i, 1) = substr(b, j, 1) THEN 0 ELSE 1 END;
            d[i + 1][j + 1] := least(d[i][j + 1] + 1, d[i + 1][j] + 1, d[i][j] + cost);
            IF i > 1 AND j > 1 AND substr(a, i, 1) = substr(b, j - 1, 1) AND substr(a, i - 1, 1) = substr(b, j, 1) THEN
                d[i + 1][j + 1] := least(d[i + 1][j + 1], d[i - 1][j - 1] + 1);
            END IF;
        END LOOP;
    END LOOP;
    RETURN d[n + 1][m + 1];
END $$;
-- The terms a lexeme expands to, as README documents: a prefix keeps its most
-- frequent terms, a fuzzy term its closest (edits, then rows, then bytes), at
-- most quarry.bm25_max_expansions; a fuzzy term needs a positive boost
-- 1 - edits / min(characters).
CREATE FUNCTION ref_expansions(lexeme text, distance int)
RETURNS TABLE (word text, ndoc int, boost float8) LANGUAGE sql STABLE AS $$
    SELECT word, ndoc, boost FROM (
        SELECT d.word, d.ndoc, e.edits,
               CASE WHEN e.edits = 0 THEN 1.0
                    ELSE 1.0 - e.edits::float8 / least(length(d.word), length(lexeme)) END AS boost
        FROM dictionary() d, LATERAL (SELECT CASE WHEN distance < 0 THEN 0 ELSE osa(d.word, lexeme) END AS edits) e
        WHERE CASE WHEN distance < 0 THEN left(d.word, length(lexeme)) = lexeme
                   ELSE abs(length(d.word) - length(lexeme)) <= distance AND e.edits <= distance END) x
    WHERE boost > 0
    ORDER BY edits, ndoc DESC, word COLLATE "C"
    LIMIT current_setting('quarry.bm25_max_expansions')::int $$;
-- Plain-SQL BM25 of a query of one prefix or fuzzy word (distance -1: a
-- prefix) and plain words: every kept term scores with the largest row count
-- among the kept terms, times its boost.
CREATE FUNCTION ref_bm25(word text, distance int, plain text) RETURNS TABLE (id int, score float8)
LANGUAGE sql STABLE AS $$
    WITH terms AS (SELECT d.id, u.lexeme, array_length(u.positions, 1)::float8 AS tf
                   FROM pf_docs d, unnest(to_tsvector('english', d.body)) u),
    lens AS (SELECT d.id, coalesce(sum(t.tf), 0) AS len FROM pf_docs d LEFT JOIN terms t ON t.id = d.id GROUP BY d.id),
    stats AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    expanded AS (SELECT e.* FROM unnest(tsvector_to_array(to_tsvector('english', word))) l,
                 LATERAL ref_expansions(l, distance) e),
    qt AS (SELECT word AS lexeme, boost, (SELECT max(ndoc) FROM expanded)::float8 AS df FROM expanded
           UNION ALL
           SELECT u, 1.0, (SELECT count(*) FROM terms t WHERE t.lexeme = u)::float8
           FROM unnest(tsvector_to_array(to_tsvector('english', plain))) u)
    SELECT t.id, sum(qt.boost * ln(1 + (s.n - qt.df + 0.5) / (qt.df + 0.5)) * t.tf * 2.2
                     / (t.tf + 1.2 * (0.25 + 0.75 * l.len / s.avgdl)))
    FROM terms t JOIN qt USING (lexeme) JOIN lens l ON l.id = t.id, stats s
    GROUP BY t.id $$;
-- The index's ranking (an ordered index scan, every matching row), its bitmap
-- match, the reference ranking, and whether every score equals the
-- reference's.
CREATE FUNCTION compare(q text, word text, distance int, plain text)
RETURNS TABLE (query text, ranked int[], matched int[], reference int[], scores_equal boolean)
LANGUAGE plpgsql AS $$
DECLARE
    idx int[]; m int[]; ref int[]; same boolean;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    SELECT array_agg(id) INTO idx FROM (SELECT id, body <@> quarry_query_parse(q, 'pf_idx') AS s FROM pf_docs
                                        ORDER BY body <@> quarry_query_parse(q, 'pf_idx')) x WHERE s < 0;
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = on;
    SELECT array_agg(id ORDER BY id) INTO m FROM pf_docs WHERE body @@@ quarry_query_parse(q, 'pf_idx');
    SELECT array_agg(r.id ORDER BY r.score DESC, r.id) INTO ref FROM ref_bm25(word, distance, plain) r;
    SELECT bool_and(abs(-(d.body <@> quarry_query_parse(q, 'pf_idx')) - r.score) < 1e-9) AND count(*) = cardinality(ref)
    INTO same FROM pf_docs d JOIN ref_bm25(word, distance, plain) r USING (id);
    RETURN QUERY SELECT q, idx, m, ref, coalesce(same, ref IS NULL);
END $$;

-- What the references expand a few words to.
SELECT string_agg(word || ' ' || ndoc, ', ' ORDER BY ndoc DESC, word COLLATE "C") AS trig_prefix
FROM ref_expansions('trigger', -1);
SELECT string_agg(word || ' ' || edits, ', ' ORDER BY edits, word COLLATE "C") AS acess_within_1
FROM (SELECT word, osa(word, 'acess') AS edits FROM ref_expansions('acess', 1)) x;

-- Prefix terms: rows, ranking and scores equal the reference's.
SELECT * FROM compare('trigger*', 'trigger', -1, '');
SELECT * FROM compare('replic* slot', 'replic', -1, 'slot');
SELECT * FROM compare('Collations* encoding', 'Collations', -1, 'encoding');
-- Fuzzy terms (misspellings of access, statistics, tablespace).
SELECT * FROM compare('acess~1', 'acess', 1, '');
SELECT * FROM compare('statistcs~ view', 'statistcs', 2, 'view');
SELECT * FROM compare('tablspace~1', 'tablspace', 1, '');
SELECT * FROM compare('functoin~1', 'functoin', 1, '');  -- a transposition is one edit
SELECT * FROM compare('index~0', 'index', 0, '');        -- ~0 is the word itself
-- A bounded expansion: the three most frequent terms of 'c*'.
SET quarry.bm25_max_expansions = 3;
SELECT string_agg(word, ', ' ORDER BY ndoc DESC) AS kept FROM ref_expansions('c', -1);
SELECT * FROM compare('c*', 'c', -1, '');
SELECT * FROM compare('c~2', 'c', 2, '');
RESET quarry.bm25_max_expansions;

-- Which rows match, against to_tsquery's own prefix matching, with every
-- expansion kept: SHOULD, MUST (each '+word*' needs one of its terms) and
-- MUST_NOT (no term of '-word*').
SET quarry.bm25_max_expansions = 1024;
CREATE TABLE prefixes (q text, tsq text);
INSERT INTO prefixes VALUES ('func*', 'func:*'), ('+op* +class*', 'op:* & class:*'), ('+index* -meth*', 'index:* & !meth:*'),
    ('+trig* +rel*', 'trig:* & rel:*'), ('Replication*', 'Replication:*'), ('+e-mail*', 'e-mail:*'), ('+zz*', 'zz:*'),
    ('+statistic* +function*', 'statistic:* & function:*'), ('-ab* +b*', '!ab:* & b:*');
SELECT p.q, count(d.id) AS tsquery_rows,
       count(d.id) FILTER (WHERE d.body @@@ quarry_query_parse(p.q, 'pf_idx')) AS also_quarry,
       (SELECT count(*) FROM pf_docs e WHERE e.body @@@ quarry_query_parse(p.q, 'pf_idx')) AS quarry_rows
FROM prefixes p LEFT JOIN pf_docs d ON to_tsvector('english', d.body) @@ to_tsquery('english', p.tsq)
GROUP BY p.q ORDER BY p.q;
RESET quarry.bm25_max_expansions;

-- Inserted rows: the pending list's terms expand too, then the same after a merge.
INSERT INTO pf_docs VALUES (1000, 'zyzzyvas and zyzzyva weevils'), (1001, 'a zyzzyvx typo');
SELECT * FROM compare('zyzzyv*', 'zyzzyv', -1, '');
SELECT * FROM compare('zyzzyva~1', 'zyzzyva', 1, '');
SELECT quarry_bm25_merge('pf_idx') AS segments;
SELECT * FROM compare('zyzzyv*', 'zyzzyv', -1, '');
SELECT * FROM compare('zyzzyva~1', 'zyzzyva', 1, '');
-- A MUST prefix that expands to nothing matches no row. A prefix the
-- configuration drops (a stop word) is the lower-cased word itself, so 'In*'
-- finds 'index' (to_tsquery('english', 'in:*') would find nothing; the
-- reference is the simple configuration's prefix over the same lexemes).
SELECT count(*) AS nothing FROM pf_docs WHERE body @@@ quarry_query_parse('+qqqq* index', 'pf_idx');
SET quarry.bm25_max_expansions = 1024;
SELECT p AS stop_word_prefix,
       (SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('+' || p, 'pf_idx')) AS quarry_rows,
       (SELECT count(*) FROM pf_docs WHERE to_tsvector('english', body) @@ to_tsquery('simple', lower(rtrim(p, '*')) || ':*')) AS reference_rows
FROM unnest(ARRAY['In*', 'the*', 'A*']) p;
-- Required and excluded fuzzy terms, against the words they expand to here.
SELECT (SELECT array_agg(id ORDER BY id) FROM pf_docs WHERE body @@@ quarry_query_parse('+acess~1 -tablspace~1', 'pf_idx'))
     = (SELECT array_agg(id ORDER BY id) FROM pf_docs WHERE to_tsvector('english', body) @@ to_tsquery('english', 'access & !tablespace'))
       AS must_and_must_not_fuzzy;
RESET quarry.bm25_max_expansions;
-- Characters, not bytes: é is one edit away from e.
INSERT INTO pf_docs VALUES (1002, 'un café crème'), (1003, 'Straße und Strasse');
SELECT * FROM compare('cafe~1', 'cafe', 1, '');
SELECT * FROM compare('strase~1', 'strase', 1, '');

-- Highlighting marks the expanded words.
SELECT * FROM quarry_highlights('Triggers, trigger functions and an access method', quarry_query_parse('trigger* acess~1', 'pf_idx'));
SELECT quarry_snippet('Replication slots, replicas and replicated tables', quarry_query_parse('replic*', 'pf_idx'));

-- Bad input: clear errors.
SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('*', 'pf_idx');
SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('index +~1', 'pf_idx');
SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('index~3', 'pf_idx');
SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('index~123456789', 'pf_idx');
SET quarry.bm25_max_expansions = 0;
SET quarry.bm25_max_expansions = 1025;
-- A query whose prefixes expand to too many terms in all (repeated clauses
-- expand once).
CREATE TABLE cap_docs AS SELECT i AS id, 'zz' || i AS body FROM generate_series(1, 20000) i;
CREATE INDEX cap_idx ON cap_docs USING quarry_bm25 (body) WITH (text_config = 'simple');
SET quarry.bm25_max_expansions = 1024;
SELECT count(*) FROM cap_docs WHERE body @@@ quarry_query_parse('zz1* zz2* zz3* zz4* zz5*', 'cap_idx');
SELECT count(*) AS four_prefixes FROM cap_docs WHERE body @@@ quarry_query_parse('zz1* zz2* zz3* zz4*', 'cap_idx');
SELECT count(*) > 0 AS repeated_clauses_expand_once FROM pf_docs WHERE body @@@ quarry_query_parse(repeat('c* ', 3000), 'pf_idx');
RESET quarry.bm25_max_expansions;
-- Not expansions: '*' and '~' inside a word, a quoted word.
SELECT quarry_query_parse('a*b a~b "c*" d~1x');
SELECT count(*) FROM pf_docs WHERE body @@@ quarry_query_parse('"trigger*"', 'pf_idx');

DROP TABLE pf_docs, prefixes, cap_docs;
DROP FUNCTION compare(text, text, int, text);
DROP FUNCTION ref_bm25(text, int, text);
DROP FUNCTION ref_expansions(text, int);
DROP FUNCTION osa(text, text);
DROP FUNCTION dictionary();
