#!/usr/bin/env bash
# quarry on Citus distributed tables (README "Scaling out with Citus"): a
# coordinator and two workers on loopback (test/lib/citus_cluster.sh), a table
# distributed in 8 shards with a quarry_bm25 and a quarry_hnsw index created
# through the coordinator, and next to it the same rows in one ordinary table
# (the reference). Checked through the coordinator:
#   - both indexes exist on every shard; EXPLAIN shows each shard's ordered
#     index scan under its LIMIT;
#   - quarry.bm25_statistics = 'global': for every query the top 10 has the
#     reference's scores, in order, and each returned row's score is its score
#     in the reference (ties at the 10th score may pick other rows); in 'shard'
#     mode most queries differ (the comparison can fail);
#   - @@@ counts, a WHERE filter on another column, the score in the SELECT
#     list, a named index, prepared statements past the fifth execution,
#     quarry.* settings reaching the shards (SET LOCAL with
#     citus.propagate_set_commands, ALTER ROLE ... SET);
#   - HNSW recall@10 at the default ef_search against exact neighbours, for the
#     distributed and the ordinary table; the hybrid form;
#   - INSERT, UPDATE, DELETE and VACUUM through the coordinator, then
#     quarry_verify_index on every shard's index and the global scores again;
#     a shard moved by citus_move_shard_placement and one copied by
#     citus_copy_shard_placement keep a working, sound index; REINDEX through
#     the coordinator.
# Data: SciFact (../shared/data/scifact, with its fastText vectors) when
# present, else PostgreSQL's object descriptions (sql/data) with made-up
# vectors. Skips when Citus is not installed in this PostgreSQL
# (test/build_citus.sh).
set -euo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"
source "$QUARRY_REPO/test/lib/citus_cluster.sh"
source "$QUARRY_REPO/test/lib/checks.sh"
source "$QUARRY_REPO/test/lib/scifact.sh"

if [[ ! -e $PG_BINDIR/../lib/citus.so ]]; then
	echo "SKIP: Citus is not installed in $PG_BINDIR's PostgreSQL (test/build_citus.sh)"
	echo "# NOTE: 095_citus skipped: no Citus in this PostgreSQL"
	exit 0
fi

base=$QUARRY_WORKSPACE/citus
citus_start "$base" "session_preload_libraries='quarry'"
cq() { citus_psql "$base" coordinator -q -At "$@"; }
on_workers() { # SQL: one line per worker, "port|result"
	cq -c "SELECT nodeport || '|' || result FROM run_command_on_workers(\$q\$$1\$q\$) ORDER BY nodeport"
}

check "two workers registered" 2 "$(cq -c "SELECT count(*) FROM pg_dist_node WHERE groupid <> 0")"

# --- data: docs (distributed) and ref (one table), the same rows -------------
sf=${QUARRY_DATA:+$QUARRY_DATA/scifact}
cq -c "CREATE TABLE raw (id bigint, body text, emb real[]); CREATE TABLE raw_queries (qid int, q text, v real[])"
if [[ -n $sf && -r $sf/corpus.jsonl && -r $sf/embeddings-fasttext128/corpus_vectors.tsv ]]; then
	echo "# data: SciFact (5,183 abstracts, 300 test queries, fastText 128-d vectors)"
	scifact_sql "$sf" | cq
else
	echo "# data: SciFact not found under QUARRY_DATA; PostgreSQL's object descriptions instead"
	echo "# NOTE: 095_citus ran on PostgreSQL's object descriptions: SciFact (QUARRY_DATA) is absent"
	cq <<SQL
CREATE TEMP TABLE d (rn serial, t text);
\\copy d (t) FROM '$QUARRY_REPO/sql/data/pg15_descriptions.txt'
INSERT INTO raw SELECT g.id, g.body,
    (SELECT array_agg(sin(g.id * 0.37 + k * 1.3)::real ORDER BY k) FROM generate_series(1, 16) k)
FROM (SELECT (rn - 1) / 3 AS id, string_agg(t, '. ' ORDER BY rn) AS body FROM d GROUP BY (rn - 1) / 3) g;
-- Queries: two of the corpus's words each (every 7th and 11th most frequent).
CREATE TEMP TABLE words AS SELECT row_number() OVER (ORDER BY ndoc DESC, word) AS n, word
FROM ts_stat('SELECT to_tsvector(''simple'', t) FROM d') WHERE length(word) > 3;
INSERT INTO raw_queries SELECT g, a.word || ' ' || b.word,
    (SELECT array_agg(cos(g * 0.7 + k * 0.9)::real ORDER BY k) FROM generate_series(1, 16) k)
FROM generate_series(1, 200) g JOIN words a ON a.n = g * 7 JOIN words b ON b.n = g * 11 + 3;
SQL
fi
cq <<'SQL'
CREATE TABLE docs (id bigint PRIMARY KEY, body text, emb real[], n int);
SELECT create_distributed_table('docs', 'id', shard_count => 8);
INSERT INTO docs SELECT id, body, emb, (id % 7)::int FROM raw;
CREATE TABLE ref (id bigint PRIMARY KEY, body text, emb real[], n int);
INSERT INTO ref SELECT id, body, emb, (id % 7)::int FROM raw;
CREATE INDEX docs_body_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX docs_emb_idx ON docs USING quarry_hnsw (emb quarry_cosine_ops);
CREATE INDEX ref_body_idx ON ref USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX ref_emb_idx ON ref USING quarry_hnsw (emb quarry_cosine_ops);
SQL
rows=$(cq -c "SELECT count(*) FROM ref")
echo "# $rows rows, $(cq -c "SELECT count(*) FROM raw_queries") queries"
check "the distributed table holds the reference's rows" "$rows" "$(cq -c "SELECT count(*) FROM docs")"
shard_indexes="SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
               WHERE c.relname ~ '^docs_(body|emb)_idx_[0-9]+\$' AND a.amname IN ('quarry_bm25', 'quarry_hnsw')"
check "both indexes exist on each of the 8 shards" 16 \
	"$(on_workers "$shard_indexes" | cut -d'|' -f2 | awk '{s += $1} END {print s}')"

# --- plans ----------------------------------------------------------------------
plan=$(cq -c "EXPLAIN (COSTS OFF, VERBOSE) SELECT id, body <@> 'protein folding' FROM docs ORDER BY body <@> 'protein folding' LIMIT 10")
check "EXPLAIN: 8 tasks" 1 "$(grep -c 'Task Count: 8' <<<"$plan")"
check "EXPLAIN: LIMIT 10 sent to the shards" 1 "$(grep -c "ORDER BY (body OPERATOR(public.<@>) 'protein folding'::public.quarry_query) LIMIT '10'" <<<"$plan")"
check "EXPLAIN: the shard's ordered scan of its quarry_bm25 index" 1 "$(grep -c 'Index Scan using docs_body_idx_[0-9]* on' <<<"$plan")"
v1=$(cq -c "SELECT v FROM raw_queries ORDER BY qid LIMIT 1")
# A shard of a few hundred rows is cheaper to search exactly: the planner may
# choose a sequential scan there. Forced (SET LOCAL, propagated) it shows the
# shard's index scan.
vplan=$(cq -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL enable_seqscan = off" \
	-c "EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY emb <=> '$v1'::real[] LIMIT 10" -c "COMMIT")
check "EXPLAIN: the shard's ordered scan of its quarry_hnsw index" 1 "$(grep -c 'Index Scan using docs_emb_idx_[0-9]* on' <<<"$vplan")"
check "EXPLAIN: LIMIT 10 sent to the shards (HNSW)" 1 "$(grep -c "LIMIT '10'" <<<"$(cq -c "EXPLAIN (COSTS OFF, VERBOSE) SELECT id FROM docs ORDER BY emb <=> '$v1'::real[] LIMIT 10")")"

# --- BM25 through the coordinator against one table -------------------------------
# Top 10 of every query in each mode; 'ref' is the ordinary table.
cq <<'SQL'
CREATE TABLE top (mode text, qid int, rank int, id bigint, score float8);
CREATE FUNCTION run_top(mode text, tbl text, extra text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r record; t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM set_config('quarry.bm25_statistics', CASE WHEN mode = 'shard' THEN 'shard' ELSE 'global' END, true);
    FOR r IN SELECT qid, q FROM raw_queries ORDER BY qid LOOP
        EXECUTE format('INSERT INTO top SELECT %L, %s, row_number() OVER (ORDER BY s, id), id, s
                        FROM (SELECT id, body <@> %L AS s FROM %I %s ORDER BY body <@> %L LIMIT 10) t',
                       mode, r.qid, r.q, tbl, extra, r.q);
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / (SELECT count(*) FROM raw_queries);
END $$;
-- For each mode: queries whose top 10 has the reference's scores in order
-- and whose every row has its reference score.
CREATE FUNCTION equal_tops(m text, ref_mode text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM raw_queries q
    WHERE (SELECT array_agg(score ORDER BY rank) FROM top WHERE mode = m AND qid = q.qid)
          IS NOT DISTINCT FROM (SELECT array_agg(score ORDER BY rank) FROM top WHERE mode = ref_mode AND qid = q.qid)
      AND NOT EXISTS (SELECT FROM top t JOIN ref r ON r.id = t.id
                      WHERE t.mode = m AND t.qid = q.qid AND r.body <@> q.q IS DISTINCT FROM t.score)
$$;
SQL
queries=$(cq -c "SELECT count(*) FROM raw_queries")
ms_ref=$(cq -c "SELECT round(run_top('ref', 'ref', '')::numeric, 2)")
ms_global=$(cq -c "SELECT round(run_top('global', 'docs', '')::numeric, 2)")
ms_shard=$(cq -c "SELECT round(run_top('shard', 'docs', '')::numeric, 2)")
echo "# top 10 per query (server side): one table $ms_ref ms, distributed global $ms_global ms, shard $ms_shard ms"
check "global statistics: every query's top 10 equals one table's (scores in order, each row's score)" \
	"$queries" "$(cq -c "SELECT equal_tops('global', 'ref')")"
check "global statistics: the top-10 ids are the reference's but for ties at the 10th score" 0 \
	"$(cq -c "SELECT count(*) FROM top g WHERE g.mode = 'global' AND NOT EXISTS (SELECT FROM top r WHERE r.mode = 'ref' AND r.qid = g.qid AND r.id = g.id)
	          AND g.score < (SELECT max(score) FROM top r WHERE r.mode = 'ref' AND r.qid = g.qid)")"
shard_equal=$(cq -c "SELECT equal_tops('shard', 'ref')")
echo "# shard statistics: $shard_equal of $queries queries equal one table's top 10"
check "shard statistics differ from one table's for most queries (the check can fail)" t \
	"$(cq -c "SELECT $shard_equal < $queries / 2")"
# A filter on another column, and the same with a named index.
cq -c "SELECT run_top('global_filter', 'docs', 'WHERE n = 3')" -c "SELECT run_top('ref_filter', 'ref', 'WHERE n = 3')" >/dev/null
check "global statistics with WHERE n = 3: equal to one table's" "$queries" "$(cq -c "SELECT equal_tops('global_filter', 'ref_filter')")"
check "a filtered top 10 holds only matching rows" 0 \
	"$(cq -c "SELECT count(*) FROM top t JOIN ref r USING (id) WHERE t.mode = 'global_filter' AND r.n <> 3")"
# A query whose top 10 has ten distinct scores (no ties to order either way).
q1=$(cq -c "SELECT q FROM raw_queries r WHERE (SELECT count(DISTINCT score) FROM top WHERE mode = 'ref' AND qid = r.qid) = 10 ORDER BY qid LIMIT 1")
echo "# the query of the next checks: $q1"
check "a query whose top 10 has ten distinct scores exists" t "$([[ -n $q1 ]] && echo t || echo f)"
named=$(cq -c "SET quarry.bm25_statistics = 'global'" -c "SELECT string_agg(id || '=' || s, ',') FROM (SELECT id, body <@> quarry_query(\$\$$q1\$\$, 'docs_body_idx') AS s FROM docs ORDER BY body <@> quarry_query(\$\$$q1\$\$, 'docs_body_idx') LIMIT 10) t")
unnamed=$(cq -c "SET quarry.bm25_statistics = 'global'" -c "SELECT string_agg(id || '=' || s, ',') FROM (SELECT id, body <@> \$\$$q1\$\$ AS s FROM docs ORDER BY body <@> \$\$$q1\$\$ LIMIT 10) t")
check "a query naming docs_body_idx runs on shards whose indexes have other names" "$unnamed" "$named"
check "@@@ through the coordinator counts the reference's rows" \
	"$(cq -c "SELECT count(*) FROM ref WHERE body @@@ 'protein OR cell'")" "$(cq -c "SELECT count(*) FROM docs WHERE body @@@ 'protein OR cell'")"
check "@@@ with the query syntax" \
	"$(cq -c "SELECT count(*) FROM ref WHERE body @@@ quarry_query_parse('+protein -cell')")" \
	"$(cq -c "SELECT count(*) FROM docs WHERE body @@@ quarry_query_parse('+protein -cell')")"
# Prepared statements: custom plans carry the statistics past the fifth run.
prepared=$(cq <<SQL
SET quarry.bm25_statistics = 'global';
PREPARE p(text) AS SELECT string_agg(id || '=' || s, ',') FROM (SELECT id, body <@> \$1::quarry_query AS s FROM docs ORDER BY body <@> \$1::quarry_query LIMIT 10) t;
EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$);
EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$); EXECUTE p(\$\$$q1\$\$);
SQL
)
check "a prepared statement scores with global statistics on all 8 executions" 8 "$(grep -cxF "$unnamed" <<<"$prepared")"
shard_top=$(cq -c "SELECT string_agg(id || '=' || s, ',') FROM (SELECT id, body <@> \$\$$q1\$\$ AS s FROM docs ORDER BY body <@> \$\$$q1\$\$ LIMIT 10) t")
check "(that query's top 10 with shard statistics differs, so the check above can fail)" t \
	"$([[ $shard_top != "$unnamed" ]] && echo t || echo f)"
# A query computed from a subquery cannot be collected while planning: an
# ERROR in 'global' mode, not a silent fallback to each shard's statistics.
check "global statistics: a query from a subquery is an ERROR" 1 \
	"$(cq -c "SET quarry.bm25_statistics = 'global'" -c "SELECT id FROM docs ORDER BY body <@> (SELECT q FROM raw_queries ORDER BY qid LIMIT 1) LIMIT 1" 2>&1 |
		grep -c "cannot collect the statistics of this query")"

# --- quarry.* settings on the shards ----------------------------------------------
setting_on_shards="SELECT string_agg(DISTINCT split_part(s, ':', 1), ',') FROM (SELECT current_setting('quarry.hnsw_ef_search') || ':' || id AS s FROM docs) t"
check "SET LOCAL with citus.propagate_set_commands = 'local' reaches the shards" 77 \
	"$(cq -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL quarry.hnsw_ef_search = 77" -c "$setting_on_shards" -c "COMMIT")"
check "a plain SET does not (Citus does not forward it)" 40 \
	"$(cq -c "SET quarry.hnsw_ef_search = 77" -c "$setting_on_shards")"
cq -c "ALTER ROLE CURRENT_USER SET quarry.hnsw_ef_search = 55"
check "ALTER ROLE ... SET on the coordinator reaches the shards (new sessions)" 55 "$(cq -c "$setting_on_shards")"
cq -c "ALTER ROLE CURRENT_USER RESET quarry.hnsw_ef_search"

# --- HNSW: recall@10 at the default ef_search, against exact neighbours ------------
cq <<'SQL'
CREATE TABLE exact AS
SELECT q.qid, array_agg(id ORDER BY d, id) AS ids FROM raw_queries q,
LATERAL (SELECT id, emb <=> q.v AS d FROM raw ORDER BY emb <=> q.v, id LIMIT 10) t GROUP BY q.qid;
CREATE FUNCTION vector_recall(tbl text, OUT recall float8, OUT ms float8) LANGUAGE plpgsql AS $$
DECLARE r record; hits bigint := 0; got bigint[]; t0 timestamptz := clock_timestamp();
BEGIN
    FOR r IN SELECT q.qid, q.v, e.ids FROM raw_queries q JOIN exact e USING (qid) ORDER BY qid LOOP
        EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY emb <=> $1 LIMIT 10) t', tbl) INTO got USING r.v;
        hits := hits + (SELECT count(*) FROM unnest(got) g WHERE g = ANY (r.ids));
    END LOOP;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000 / (SELECT count(*) FROM raw_queries);
    recall := hits::float8 / (10 * (SELECT count(*) FROM raw_queries));
END $$;
SQL
read -r ref_recall ref_ms <<<"$(cq -F' ' -c "SELECT round(recall::numeric, 4), round(ms::numeric, 2) FROM vector_recall('ref')")"
read -r dist_recall dist_ms <<<"$(cq -F' ' -c "SELECT round(recall::numeric, 4), round(ms::numeric, 2) FROM vector_recall('docs')")"
read -r forced_recall forced_ms <<<"$(cq -F' ' -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL enable_seqscan = off" \
	-c "SELECT round(recall::numeric, 4), round(ms::numeric, 2) FROM vector_recall('docs')" -c "COMMIT")"
echo "# HNSW recall@10 at ef_search 40: one table $ref_recall ($ref_ms ms/query); 8 shards as planned $dist_recall ($dist_ms ms/query),"
echo "# 8 shards through their indexes (enable_seqscan off) $forced_recall ($forced_ms ms/query)"
check "HNSW recall@10 through the coordinator is at least one table's" t "$(cq -c "SELECT $dist_recall >= $ref_recall")"
check "HNSW recall@10 through every shard's index is at least one table's" t "$(cq -c "SELECT $forced_recall >= $ref_recall")"

# <-> through a second index (L2), its distance in the SELECT list, and a
# filter on another column: each returned distance is the exact one, and the
# recall against exact filtered neighbours is at least one table's.
cq -c "CREATE INDEX docs_emb_l2 ON docs USING quarry_hnsw (emb quarry_l2_ops)" \
	-c "CREATE INDEX ref_emb_l2 ON ref USING quarry_hnsw (emb quarry_l2_ops)"
cq <<'SQL'
CREATE INDEX ON raw (id);
CREATE FUNCTION l2_check(tbl text, OUT recall float8, OUT wrong_distances bigint) LANGUAGE plpgsql AS $$
DECLARE r record; hits bigint := 0; wrong bigint := 0; got record; exact bigint[];
BEGIN
    FOR r IN SELECT qid, v FROM raw_queries ORDER BY qid LIMIT 100 LOOP
        exact := ARRAY(SELECT id FROM raw WHERE id % 7 = 3 ORDER BY emb <-> r.v, id LIMIT 10);
        FOR got IN EXECUTE format('SELECT id, emb <-> $1 AS d FROM %I WHERE n = 3 ORDER BY emb <-> $1 LIMIT 10', tbl) USING r.v LOOP
            IF got.id = ANY (exact) THEN
                hits := hits + 1;
            END IF;
            IF got.d IS DISTINCT FROM (SELECT emb <-> r.v FROM raw WHERE id = got.id) THEN
                wrong := wrong + 1;
            END IF;
        END LOOP;
    END LOOP;
    recall := hits / 1000.0;
    wrong_distances := wrong;
END $$;
SQL
l2_plan=$(cq -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL enable_seqscan = off" \
	-c "EXPLAIN (COSTS OFF) SELECT id, emb <-> '$v1'::real[] FROM docs WHERE n = 3 ORDER BY emb <-> '$v1'::real[] LIMIT 10" -c "COMMIT")
check "EXPLAIN: <-> orders by the shards' L2 index" 1 "$(grep -c 'Index Scan using docs_emb_l2_[0-9]* on' <<<"$l2_plan")"
read -r l2_ref_recall l2_ref_wrong <<<"$(cq -F' ' -c "SELECT round(recall::numeric, 4), wrong_distances FROM l2_check('ref')")"
read -r l2_recall l2_wrong <<<"$(cq -F' ' -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL enable_seqscan = off" \
	-c "SELECT round(recall::numeric, 4), wrong_distances FROM l2_check('docs')" -c "COMMIT")"
echo "# <-> with WHERE n = 3 (100 queries): recall@10 one table $l2_ref_recall, 8 shards' indexes $l2_recall"
check "<->: every distance in the SELECT list is the exact distance" 0 "$l2_wrong"
check "<-> with a filter: recall@10 through the shards' indexes is at least one table's" t \
	"$(cq -c "SELECT $l2_recall >= $l2_ref_recall")"
# (the hybrid scan below wants one quarry_hnsw index on the column)
cq -c "DROP INDEX docs_emb_l2" -c "DROP INDEX ref_emb_l2"

# --- hybrid ---------------------------------------------------------------------------
# Each shard fuses its own two rankings (README: a distributed table's fusion
# is per shard); the queries must be constants or parameters there.
hybrid=$(cq -c "SELECT count(*) FROM (SELECT id FROM docs ORDER BY quarry_hybrid(body, \$\$$q1\$\$, emb, '$v1'::real[]) LIMIT 10) t")
check "quarry_hybrid through the coordinator returns 10 rows" 10 "$hybrid"
hplan=$(cq -c "EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY quarry_hybrid(body, 'protein', emb, '$v1'::real[]) LIMIT 10")
check "EXPLAIN: each shard runs the hybrid scan over its two indexes" 1 \
	"$(grep -c 'Custom Scan (QuarryHybrid) on docs_[0-9]*' <<<"$hplan")"

# --- writes through the coordinator, then every shard's index verified --------------
cq <<'SQL'
INSERT INTO docs SELECT id + 100000000, 'protein folding ' || body, emb, n FROM ref WHERE id % 50 = 1;
INSERT INTO ref SELECT id + 100000000, 'protein folding ' || body, emb, n FROM ref WHERE id % 50 = 1;
UPDATE docs SET body = body || ' protein' WHERE id % 40 = 2;
UPDATE ref SET body = body || ' protein' WHERE id % 40 = 2;
DELETE FROM docs WHERE id % 30 = 3;
DELETE FROM ref WHERE id % 30 = 3;
VACUUM docs;
VACUUM ref;
SQL
verify="SELECT count(*) || ' indexes, ' || coalesce(sum((SELECT count(*) FROM quarry_verify_index(c.oid))), 0) || ' problems'
        FROM pg_class c JOIN pg_am a ON a.oid = c.relam
        WHERE c.relname ~ '^docs_(body|emb)_idx_[0-9]+\$' AND a.amname IN ('quarry_bm25', 'quarry_hnsw')"
check "after INSERT, UPDATE, DELETE, VACUUM: quarry_verify_index finds nothing on any shard" \
	"16 indexes, 0 problems" "$(on_workers "$verify" | cut -d'|' -f2 | awk -F'[ ,]+' '{i += $1; p += $3} END {print i " indexes, " p " problems"}')"
check "after the writes the distributed table holds the reference's rows" "$(cq -c "SELECT count(*) FROM ref")" "$(cq -c "SELECT count(*) FROM docs")"
cq -c "TRUNCATE top" -c "SELECT run_top('ref', 'ref', '')" -c "SELECT run_top('global', 'docs', '')" >/dev/null
check "after the writes: every query's top 10 still equals one table's" "$queries" "$(cq -c "SELECT equal_tops('global', 'ref')")"

# --- a shard moved, a shard copied -----------------------------------------------------
shard=$(cq -c "SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'docs'::regclass")
from=$(cq -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")
to=$(cq -c "SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 AND nodeport <> $from")
cq -c "SELECT citus_move_shard_placement($shard, '127.0.0.1', $from, '127.0.0.1', $to, shard_transfer_mode => 'block_writes')" >/dev/null
check "citus_move_shard_placement moved shard $shard" "$to" "$(cq -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")"
moved="SELECT count(*) || ' ' || coalesce(sum((SELECT count(*) FROM quarry_verify_index(c.oid))), 0)
       FROM pg_class c WHERE c.relname IN ('docs_body_idx_$shard', 'docs_emb_idx_$shard')"
check "the moved shard's two indexes on its new worker: sound" "2 0" \
	"$(on_workers "$moved" | grep "^$to|" | cut -d'|' -f2)"
# The moved shard's index was built anew: its document frequencies no longer
# count the rows VACUUM removed (segments keep counting them until merged,
# README "Scoring"). REINDEX, through the coordinator for every shard, makes
# both sides count only the rows present.
cq -c "REINDEX TABLE docs" -c "REINDEX TABLE ref"
cq -c "TRUNCATE top" -c "SELECT run_top('ref', 'ref', '')" -c "SELECT run_top('global', 'docs', '')" >/dev/null
check "after the move and REINDEX: every query's top 10 still equals one table's" "$queries" "$(cq -c "SELECT equal_tops('global', 'ref')")"
coordinator=$(citus_port "$base" coordinator)
cq <<'SQL'
SET citus.shard_replication_factor = 2;
CREATE TABLE copied (id bigint PRIMARY KEY, body text);
SELECT create_distributed_table('copied', 'id', shard_count => 2);
INSERT INTO copied SELECT id, body FROM ref;
CREATE INDEX copied_idx ON copied USING quarry_bm25 (body) WITH (text_config = 'english');
SQL
cshard=$(cq -c "SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'copied'::regclass")
cq -c "SELECT citus_copy_shard_placement($cshard, '127.0.0.1', (SELECT min(nodeport) FROM citus_shards WHERE shardid = $cshard), '127.0.0.1', $coordinator, transfer_mode => 'block_writes')" >/dev/null
check "citus_copy_shard_placement made a third placement" 3 "$(cq -c "SELECT count(*) FROM citus_shards WHERE shardid = $cshard")"
copy_check=$(cq -c "SET citus.override_table_visibility = off" -c "SELECT (SELECT count(*) FROM quarry_verify_index('copied_idx_$cshard')) || ' ' ||
	(SELECT count(*) FROM copied_$cshard WHERE body @@@ 'protein') || ' ' || (SELECT count(*) FROM copied_$cshard WHERE to_tsvector('english', body) @@ to_tsquery('english', 'protein'))")
read -r copy_problems copy_hits copy_reference <<<"$copy_check"
check "the copied shard's index on the coordinator is sound" 0 "$copy_problems"
check "the copied shard's index finds what to_tsvector finds" "$copy_reference" "$copy_hits"

echo "# $failures failed"
[[ $failures -eq 0 ]]
