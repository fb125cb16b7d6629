#!/usr/bin/env bash
# quarry_pgvector's operator classes through pg_dump and pg_restore: a table
# with pgvector's vector and halfvec columns under quarry_hnsw indexes of four
# classes (vector cosine and L1, halfvec L2 and inner product), 3,000 rows (one
# NULL vector, one zero vector), dumped with pg_dump -Fc and restored into a
# new database. The restored indexes have the same operator classes and
# options, ordered index scans use them, their top 10 for five queries per
# index equal the original's (ids, and distances as text), and
# quarry_verify_index finds nothing. Then rows inserted after the restore are
# found through each restored index.
# Skips when pgvector is not installed in this PostgreSQL (test/build_pgvector.sh).
set -euo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"
source "$QUARRY_REPO/test/lib/checks.sh"

dir=$QUARRY_WORKSPACE/cluster
mkdir -p "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
port=$(free_port)
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" "lc_messages='C'"
psql_t() { cluster_psql "$dir" "$port" -q -At "$@"; }

if [[ $(psql_t -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") != 1 ]]; then
	echo "SKIP: pgvector is not installed in $PG_BINDIR's PostgreSQL (test/build_pgvector.sh)"
	exit 0
fi


psql_t <<'EOF'
CREATE DATABASE src;
\c src
CREATE EXTENSION vector;
CREATE EXTENSION quarry;
CREATE EXTENSION quarry_pgvector;
CREATE TABLE items (id int PRIMARY KEY, emb vector(8), h halfvec(8));
-- Deterministic pseudo-random vectors (no random(): the same on every run).
INSERT INTO items
SELECT g, v::vector(8), v::halfvec(8)
FROM generate_series(1, 3000) g,
     LATERAL (SELECT ('[' || string_agg(round(sin(g * 7.3 + d * 1.9)::numeric, 4)::text, ',') || ']') AS v
              FROM generate_series(1, 8) d) s;
UPDATE items SET emb = NULL, h = NULL WHERE id = 17;
UPDATE items SET emb = '[0,0,0,0,0,0,0,0]', h = '[0,0,0,0,0,0,0,0]' WHERE id = 18;
CREATE INDEX items_cos ON items USING quarry_hnsw (emb quarry_vector_cosine_ops) WITH (m = 12, ef_construction = 48);
CREATE INDEX items_l1 ON items USING quarry_hnsw (emb quarry_vector_l1_ops);
CREATE INDEX items_hl2 ON items USING quarry_hnsw (h quarry_halfvec_l2_ops);
CREATE INDEX items_hip ON items USING quarry_hnsw (h quarry_halfvec_ip_ops);
CREATE TABLE queries (q int PRIMARY KEY, v vector(8));
INSERT INTO queries SELECT row_number() OVER (ORDER BY id), emb FROM items WHERE id IN (5, 250, 1200, 2222, 2999);
-- Each index's top 10 for each query, through an ordered index scan.
CREATE FUNCTION top10(idx text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    expr text := CASE idx WHEN 'items_cos' THEN 'emb <=> $1' WHEN 'items_l1' THEN 'emb <+> $1'
                          WHEN 'items_hl2' THEN 'h <-> $1::halfvec(8)' ELSE 'h <#> $1::halfvec(8)' END;
    r record;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    FOR r IN SELECT q, v FROM queries ORDER BY q LOOP
        RETURN QUERY EXECUTE format('SELECT %s || '':'' || string_agg(id || ''='' || d, '','' ORDER BY n)
            FROM (SELECT id, (%s)::text AS d, row_number() OVER () AS n
                  FROM (SELECT id, emb, h FROM items ORDER BY %s LIMIT 10) t) s', r.q, expr, expr)
            USING r.v;
    END LOOP;
END $$;
-- Which index an ordered scan of each expression uses.
CREATE FUNCTION plan_index(idx text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    expr text := CASE idx WHEN 'items_cos' THEN 'emb <=> ''[1,0,0,0,0,0,0,0]''' WHEN 'items_l1' THEN 'emb <+> ''[1,0,0,0,0,0,0,0]'''
                          WHEN 'items_hl2' THEN 'h <-> ''[1,0,0,0,0,0,0,0]''::halfvec(8)' ELSE 'h <#> ''[1,0,0,0,0,0,0,0]''::halfvec(8)' END;
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY ' || expr || ' LIMIT 5' LOOP
        IF line ~ 'Index Scan using' THEN
            RETURN substring(line FROM 'using ([a-z_0-9]+)');
        END IF;
    END LOOP;
    RETURN 'no index scan';
END $$;
EOF

indexes=(items_cos items_l1 items_hl2 items_hip)
definitions="SELECT string_agg(indexrelid::regclass || ' ' || pg_get_indexdef(indexrelid), E'\n' ORDER BY indexrelid::regclass::text)
             FROM pg_index WHERE indrelid = 'items'::regclass AND indexrelid::regclass::text LIKE 'items\\_%' AND NOT indisprimary"
declare -A before
for idx in "${indexes[@]}"; do
	before[$idx]=$(psql_t -d src -c "SELECT string_agg(t, ' | ') FROM top10('$idx') t")
	entries=${before[$idx]//[^=]/}
	check "$idx: the original's top 10s hold 5 x 10 rows" 50 "${#entries}"
done
defs_before=$(psql_t -d src -c "$definitions")

as_cluster_user "$PG_BINDIR/pg_dump" -h "$dir" -p "$port" -Fc -f "$dir/src.dump" src
psql_t -c "CREATE DATABASE dst"
as_cluster_user "$PG_BINDIR/pg_restore" -h "$dir" -p "$port" -d dst --exit-on-error "$dir/src.dump"
echo "# restored with pg_restore"

check "the restored indexes have the same definitions (operator classes, options)" \
	"$defs_before" "$(psql_t -d dst -c "$definitions")"
for idx in "${indexes[@]}"; do
	check "$idx: an ordered scan uses the restored index" "$idx" "$(psql_t -d dst -c "SELECT plan_index('$idx')")"
	check "$idx: the top 10 of five queries equal the original's (ids and distances)" \
		"${before[$idx]}" "$(psql_t -d dst -c "SELECT string_agg(t, ' | ') FROM top10('$idx') t")"
	check "$idx: quarry_verify_index finds no problem" "0" \
		"$(psql_t -d dst -c "SELECT count(*) FROM quarry_verify_index('$idx')")"
done

# Writes go on into the restored indexes: a new row is its own nearest neighbour.
psql_t -d dst -c "INSERT INTO items VALUES (5000, '[9,8,7,6,5,4,3,2]', '[9,8,7,6,5,4,3,2]')"
check "a row inserted after the restore is found through items_cos, items_l1, items_hl2" "5000 5000 5000" \
	"$(psql_t -d dst -c "SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT concat_ws(' ',
  (SELECT id FROM items ORDER BY emb <=> '[9,8,7,6,5,4,3,2]' LIMIT 1),
  (SELECT id FROM items ORDER BY emb <+> '[9,8,7,6,5,4,3,2]' LIMIT 1),
  (SELECT id FROM items ORDER BY h <-> '[9,8,7,6,5,4,3,2]'::halfvec(8) LIMIT 1))" | tail -1)"

if ((failures > 0)); then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
