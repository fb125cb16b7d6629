-- amvalidate for quarry_bm25: the shipped operator class is valid; one with a
-- wrong operator, a wrong strategy or a missing member is reported.
SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'quarry_bm25' ORDER BY opcname;

-- Wrong operators: text = text as strategy 1, text < text as strategy 3.
CREATE OPERATOR FAMILY broken_fam USING quarry_bm25;
CREATE OPERATOR CLASS broken_ops FOR TYPE text USING quarry_bm25 FAMILY broken_fam AS
    OPERATOR 1 = (text, text),
    OPERATOR 3 < (text, text);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'broken_ops';
DROP OPERATOR FAMILY broken_fam USING quarry_bm25;

-- Missing the ordering operator.
CREATE OPERATOR CLASS match_only_ops FOR TYPE text USING quarry_bm25 AS
    OPERATOR 1 @@@ (text, quarry_query);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'match_only_ops';
DROP OPERATOR CLASS match_only_ops USING quarry_bm25;
DROP OPERATOR FAMILY match_only_ops USING quarry_bm25;

-- The members on a row of fields, (record, quarry_query), are accepted next
-- to the text ones; wrong ones are reported: @@@ as strategy 2 (a search
-- operator, not an ordering one), record = record.
CREATE OPERATOR FAMILY fields_fam USING quarry_bm25;
CREATE OPERATOR CLASS fields_ops FOR TYPE text USING quarry_bm25 FAMILY fields_fam AS
    OPERATOR 1 @@@ (text, quarry_query),
    OPERATOR 2 <@> (text, quarry_query) FOR ORDER BY float_ops;
ALTER OPERATOR FAMILY fields_fam USING quarry_bm25 ADD
    OPERATOR 1 @@@ (record, quarry_query),
    OPERATOR 2 <@> (record, quarry_query) FOR ORDER BY float_ops;
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'fields_ops';
ALTER OPERATOR FAMILY fields_fam USING quarry_bm25 DROP
    OPERATOR 1 (record, quarry_query), OPERATOR 2 (record, quarry_query);
ALTER OPERATOR FAMILY fields_fam USING quarry_bm25 ADD OPERATOR 2 @@@ (record, quarry_query);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'fields_ops';
ALTER OPERATOR FAMILY fields_fam USING quarry_bm25 DROP OPERATOR 2 (record, quarry_query);
ALTER OPERATOR FAMILY fields_fam USING quarry_bm25 ADD OPERATOR 1 = (record, record);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'fields_ops';
DROP OPERATOR FAMILY fields_fam USING quarry_bm25;

-- The access method's properties.
SELECT p.name, pg_indexam_has_property(a.oid, p.name)
FROM pg_am a, unnest(ARRAY['can_order', 'can_unique', 'can_multi_col', 'can_exclude', 'can_include']) p(name)
WHERE a.amname = 'quarry_bm25';
