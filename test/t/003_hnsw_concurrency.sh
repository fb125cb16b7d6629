#!/usr/bin/env bash
# quarry_hnsw under concurrent sessions, and after a crash:
#   1. four sessions insert 1,500 rows each into one indexed table while a
#      fifth scans and a sixth deletes and VACUUMs, all at once;
#   2. then every row is in the index exactly once (live nodes = rows after a
#      last VACUUM), quarry_verify_index reports nothing, walking the whole
#      graph in distance order returns at least 99 % of the rows, and at least
#      297 of 300 sampled rows are found as their own nearest neighbour (an
#      approximate index: not all 300);
#   3. an immediate shutdown in the middle of inserts; after WAL replay the
#      same checks hold (GenericXLog records and the build's full-page images
#      bring the index back), and inserts go on.
set -euo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"

dir=$QUARRY_WORKSPACE/cluster
mkdir -p "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
port=$(free_port)
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" "lc_messages='C'" "fsync=on" "synchronous_commit=on"
psql_t() { cluster_psql "$dir" "$port" -q -At "$@"; }
status=0
fail() {
	echo "FAIL: $*"
	status=1
}

psql_t <<'EOF'
CREATE EXTENSION quarry;
CREATE FUNCTION vec(g int) RETURNS real[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(SELECT (abs(hashint4(g * 64 + d)) % 10000)::real / 100 FROM generate_series(1, 16) d) $$;
CREATE TABLE t (id int PRIMARY KEY, v real[]);
INSERT INTO t SELECT g, vec(g) FROM generate_series(1, 2000) g;
CREATE INDEX t_v ON t USING quarry_hnsw (v quarry_l2_ops);
-- Rows whose own vector does not come back first (at distance 0).
CREATE FUNCTION lost_rows(sample int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    lost bigint := 0;
    nearest float8;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL quarry.hnsw_ef_search = 200;
    FOR r IN SELECT id, v FROM t ORDER BY hashint4(id) LIMIT sample LOOP
        SELECT v <-> r.v INTO nearest FROM t ORDER BY v <-> r.v LIMIT 1;
        IF nearest IS DISTINCT FROM 0 THEN
            lost := lost + 1;
        END IF;
    END LOOP;
    RETURN lost;
END $$;
EOF

check() { # label
	psql_t -c "VACUUM t" >/dev/null
	local rows live lost walked
	rows=$(psql_t -c "SELECT count(*) FROM t")
	live=$(psql_t -c "SELECT live FROM quarry_hnsw_index_info('t_v')")
	lost=$(psql_t -c "SELECT lost_rows(300)")
	walked=$(psql_t -c "SET enable_seqscan = off" -c "SET quarry.hnsw_max_scan_tuples = 1000000" \
		-c "SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> vec(7777777)) s")
	problems=$(psql_t -c "SELECT * FROM quarry_verify_index('t_v')")
	echo "$1: $rows rows, $live live index nodes, $walked returned by a full walk, $lost of 300 sampled rows not found, $(grep -c . <<<"$problems") problems"
	[[ -z $problems ]] || fail "$1: quarry_verify_index reports: $(head -5 <<<"$problems")"
	[[ $rows == "$live" ]] || fail "$1: index nodes ($live) != rows ($rows)"
	[[ $lost -le 3 ]] || fail "$1: $lost sampled rows not found"
	[[ $((walked * 100)) -ge $((rows * 99)) ]] || fail "$1: the full walk returned only $walked rows"
}

echo "== concurrent inserts, scans, deletes and VACUUM"
pids=()
for s in 1 2 3 4; do
	first=$((2000 + (s - 1) * 1500 + 1))
	last=$((2000 + s * 1500))
	( for chunk in $(seq "$first" 100 "$last"); do
		psql_t -c "INSERT INTO t SELECT g, vec(g) FROM generate_series($chunk, $((chunk + 99))) g"
	done ) &
	pids+=($!)
done
( for i in $(seq 1 60); do
	psql_t -c "SET enable_seqscan = off" -c "SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> vec($i + 100000) LIMIT 20) s" >/dev/null
done ) &
pids+=($!)
( for i in $(seq 1 5); do
	psql_t -c "DELETE FROM t WHERE id % 97 = $i" -c "VACUUM t"
	sleep 0.2
done ) &
pids+=($!)
for p in "${pids[@]}"; do
	wait "$p" || fail "a concurrent session failed"
done
check "after concurrent work"

echo "== crash in the middle of inserts"
( psql_t -c "INSERT INTO t SELECT g, vec(g) FROM generate_series(20001, 40000) g" >/dev/null 2>&1 || true ) &
loader=$!
for s in 1 2; do
	( for chunk in $(seq $((40000 + s * 10000)) 100 $((40000 + s * 10000 + 5000))); do
		psql_t -c "INSERT INTO t SELECT g, vec(g) FROM generate_series($chunk, $((chunk + 99))) g" >/dev/null 2>&1 || exit 0
	done ) &
done
sleep 3
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null
wait || true
as_cluster_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
check "after crash recovery"
psql_t -c "INSERT INTO t SELECT g, vec(g) FROM generate_series(100001, 101000) g"
check "after more inserts"

if grep -E "PANIC|TRAP|terminated by signal|index .* corrupted|quarry_hnsw.*(expected|unexpected)" "$dir/server.log"; then
	fail "the server log shows a crash or corruption"
fi
[[ $status -eq 0 ]] && echo "ok"
exit $status
