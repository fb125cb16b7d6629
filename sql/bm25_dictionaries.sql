-- Synonyms, a thesaurus and a non-English stemmer through PostgreSQL's own
-- text search dictionaries (README "Synonyms and languages"): quarry_bm25
-- tokenizes with the index's configuration, at build, insert and query time,
-- so whatever the configuration maps is indexed and searched alike. The
-- dictionaries use the sample files every PostgreSQL installs in
-- $SHAREDIR/tsearch_data (synonym_sample.syn: postgres, postgresql and postgre
-- are pgsql; thesaurus_sample.ths: "supernovae stars" is sn, "booking
-- tickets" is "order invitation cards"). The references are PostgreSQL's own:
-- the rows where to_tsvector(cfg, body) holds a lexeme of to_tsvector(cfg, q)
-- match, and their scores equal a plain-SQL BM25 over those tsvectors.
CREATE TEXT SEARCH DICTIONARY dict_syn (TEMPLATE = synonym, SYNONYMS = synonym_sample);
CREATE TEXT SEARCH CONFIGURATION dict_syn_cfg (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION dict_syn_cfg ALTER MAPPING FOR asciiword WITH dict_syn, english_stem;
CREATE TEXT SEARCH DICTIONARY dict_ths (TEMPLATE = thesaurus, DictFile = thesaurus_sample, Dictionary = english_stem);
CREATE TEXT SEARCH CONFIGURATION dict_ths_cfg (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION dict_ths_cfg ALTER MAPPING FOR asciiword, asciihword, hword_asciipart
    WITH dict_ths, english_stem;
-- What the configurations make of words.
SELECT to_tsvector('public.dict_syn_cfg', 'PostgreSQL postgres Postgre pgsql gogle') AS synonyms,
       to_tsvector('public.dict_ths_cfg', 'supernovae stars, booking tickets') AS thesaurus,
       to_tsvector('german', 'Die Häuser am Fluss') AS german;

CREATE TABLE dict_docs (id int PRIMARY KEY, body text);
INSERT INTO dict_docs VALUES
    (1, 'PostgreSQL replication slots and logical decoding'),
    (2, 'the pgsql mailing lists are archived'),
    (3, 'running postgres on a laptop, postgres everywhere'),
    (4, 'a survey of supernovae stars in nearby galaxies'),
    (5, 'booking tickets for the opera'),
    (6, 'send the order and the invitation cards early'),
    (7, 'gogle is a common typo'),
    (8, 'nothing relevant here at all'),
    (9, 'supernovae without stars'),
    (10, 'a replication slot retains WAL');
CREATE INDEX dict_syn_idx ON dict_docs USING quarry_bm25 (body) WITH (text_config = 'public.dict_syn_cfg');
CREATE TABLE dict_ths_docs AS SELECT * FROM dict_docs;
CREATE INDEX dict_ths_idx ON dict_ths_docs USING quarry_bm25 (body) WITH (text_config = 'public.dict_ths_cfg');
CREATE TABLE dict_de (id int PRIMARY KEY, body text);
INSERT INTO dict_de VALUES
    (1, 'Die Häuser am Fluss sind alt'),
    (2, 'Ein Haus am See'),
    (3, 'Wir wohnen in einem kleinen Häuschen'),
    (4, 'Der Fluss fließt durch die Stadt'),
    (5, 'Die Stadt hat viele alte Häuser und Brücken'),
    (6, 'Mäuse laufen durch das Haus');
CREATE INDEX dict_de_idx ON dict_de USING quarry_bm25 (body) WITH (text_config = 'german');

-- Plain-SQL BM25 (k1 1.2, b 0.75, Lucene's IDF) over the tsvectors of any table
-- (id, body) and configuration.
CREATE FUNCTION ref_bm25(tab regclass, cfg regconfig, q text) RETURNS TABLE (id int, score float8)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
    WITH terms AS (SELECT d.id, u.lexeme, array_length(u.positions, 1)::float8 AS tf
                   FROM %s d, unnest(to_tsvector($1, d.body)) u),
    lens AS (SELECT d.id, coalesce(sum(t.tf), 0) AS len FROM %s d LEFT JOIN terms t ON t.id = d.id GROUP BY d.id),
    stats AS (SELECT count(*)::float8 AS n, avg(len) AS avgdl FROM lens),
    qt AS (SELECT u.lexeme, array_length(u.positions, 1)::float8 AS qtf FROM unnest(to_tsvector($1, $2)) u),
    df AS (SELECT t.lexeme, count(*)::float8 AS df FROM terms t JOIN qt USING (lexeme) GROUP BY t.lexeme)
    SELECT t.id, sum(qt.qtf * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * 2.2
                     / (t.tf + 1.2 * (0.25 + 0.75 * l.len / s.avgdl)))
    FROM terms t JOIN qt USING (lexeme) JOIN df USING (lexeme) JOIN lens l ON l.id = t.id, stats s
    GROUP BY t.id $q$, tab, tab) USING cfg, q;
END $$;

-- For each query: the index's ranking (an ordered index scan, every matching
-- row), its bitmap match, and the reference's.
CREATE FUNCTION compare(tab regclass, cfg regconfig, q text)
RETURNS TABLE (query text, ranked int[], matched int[], reference int[], scores_equal boolean)
LANGUAGE plpgsql AS $$
DECLARE
    idx int[];
    m int[];
    ref int[];
    same boolean;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id, body <@> $1 AS s FROM %s ORDER BY body <@> $1) x WHERE s < 0', tab)
        INTO idx USING q;
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = on;
    EXECUTE format('SELECT array_agg(id ORDER BY id) FROM %s WHERE body @@@ $1', tab) INTO m USING q;
    SELECT array_agg(r.id ORDER BY r.score DESC, r.id) INTO ref FROM ref_bm25(tab, cfg, q) r;
    EXECUTE format($s$SELECT bool_and(abs(-(d.body <@> $1) - r.score) < 1e-9) AND count(*) = cardinality($2)
                    FROM %s d JOIN ref_bm25(%L, %L, $1) r USING (id)$s$, tab, tab, cfg) INTO same USING q, ref;
    RETURN QUERY SELECT q, idx, m, ref, coalesce(same, ref IS NULL);
END $$;

-- Synonyms: any of postgres, postgresql, postgre, pgsql finds all three rows.
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'postgresql');
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'Postgre');
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'google gogle replication');
-- Without the synonym dictionary (english alone) the same word finds one row.
SELECT array_agg(id ORDER BY id) AS english_only FROM dict_docs
WHERE body @@@ quarry_query('postgresql', 'dict_syn_idx')
  AND to_tsvector('english', body) @@ plainto_tsquery('english', 'postgresql');
-- Thesaurus: "supernovae stars" and "supernovae" alone are one lexeme (sn);
-- "booking tickets" is three (order, invit, card).
SELECT * FROM compare('dict_ths_docs', 'public.dict_ths_cfg', 'supernovae stars');
SELECT * FROM compare('dict_ths_docs', 'public.dict_ths_cfg', 'booking tickets');
SELECT * FROM compare('dict_ths_docs', 'public.dict_ths_cfg', 'stars');
-- German: Häuser and Haus stem alike (haus), Häuschen does not.
SELECT * FROM compare('dict_de', 'german', 'Haus');
SELECT * FROM compare('dict_de', 'german', 'alte Häuser');
SELECT * FROM compare('dict_de', 'german', 'Städte und Brücken');
-- Inserted rows go through the same dictionaries (pending list, then merged).
INSERT INTO dict_docs VALUES (11, 'Postgre on a phone');
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'pgsql');
SELECT quarry_bm25_merge('dict_syn_idx') AS segments;
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'pgsql');

-- Changing a dictionary changes what new text becomes, not what the index
-- holds: the rows indexed as pgsql stay pgsql while a query for 'postgres'
-- now looks for postgr. REINDEX brings the index in line (README).
ALTER TEXT SEARCH CONFIGURATION dict_syn_cfg ALTER MAPPING FOR asciiword WITH english_stem;
SELECT to_tsvector('public.dict_syn_cfg', 'postgres') AS after_change;
SELECT array_agg(id ORDER BY id) AS before_reindex FROM dict_docs WHERE body @@@ quarry_query('postgres', 'dict_syn_idx');
REINDEX INDEX dict_syn_idx;
SELECT * FROM compare('dict_docs', 'public.dict_syn_cfg', 'postgres');
SELECT * FROM quarry_verify_index('dict_syn_idx');

DROP TABLE dict_docs, dict_ths_docs, dict_de;
DROP FUNCTION compare(regclass, regconfig, text);
DROP FUNCTION ref_bm25(regclass, regconfig, text);
DROP TEXT SEARCH CONFIGURATION dict_syn_cfg;
DROP TEXT SEARCH CONFIGURATION dict_ths_cfg;
DROP TEXT SEARCH DICTIONARY dict_syn;
DROP TEXT SEARCH DICTIONARY dict_ths;
