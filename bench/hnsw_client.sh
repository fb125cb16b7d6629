#!/usr/bin/env bash
# quarry_hnsw and pgvector's hnsw through a real client (psycopg2, psycopg 3)
# next to the in-backend loop, both on the same vector(784) column of
# Fashion-MNIST (60,000 x 784, L2, m = 16, ef_construction = 64), in one run.
#
#   bench/hnsw_client.sh                            everything (about 3 minutes on an idle machine)
#   QUARRY_DESTDIR=/tmp/pg-x bench/hnsw_client.sh   into a private PostgreSQL copy
#   BENCH_QUERIES=1000 bench/hnsw_client.sh         queries per (mode, ef_search)
#   BENCH_EFS=20,40,80 BENCH_MODES=backend,pg3_binary bench/hnsw_client.sh
#   BENCH_ENGINES=quarry bench/hnsw_client.sh       one engine only
#   BENCH_APPEND=1 ...                              keep the rows already in the .tsv
#   BENCH_QUARRY_WITH='storage = sq8' BENCH_COLUMN_STORAGE=plain BENCH_NAME=hnsw_client_sq8_plain \
#     bench/hnsw_client.sh      quarry's index options, the column's storage, the results' file name
#
# It builds and installs quarry and pgvector (test/build_pgvector.sh), starts a
# throwaway cluster (shared_buffers 1 GB), loads the training set into
# fmv(id int, v vector(784)) with the column's default storage (as an
# application has it; BENCH_COLUMN_STORAGE sets another) and the test set into fmq, then for each engine: builds
# its index on fmv.v (serial), runs bench/hnsw_client.py (every mode, every
# ef_search: recall@10, QPS, p50/p95 latency) and drops the index again, so
# each engine is measured while its index is the only one on the column.
# Modes (see bench/hnsw_client.py): backend (PL/pgSQL loop), pg2_simple,
# pg2_prepared, pg3_text, pg3_binary, pg3_binary_dist.
# Results: bench/results/hnsw_client.md and hnsw_client.tsv (BENCH_NAME: NAME.md, NAME.tsv).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
data=${QUARRY_DATA:-$(cd "$repo/.." && pwd)/shared/data}/fashion-mnist
[[ -f $data/gt_l2_k100_dist.fvecs ]] || { echo "Fashion-MNIST with ground truth not found in $data" >&2; exit 1; }
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh
nq=${BENCH_QUERIES:-2000}
efs=${BENCH_EFS:-10,20,25,30,35,40,60,80,160}
modes=${BENCH_MODES:-backend,pg2_simple,pg2_prepared,pg3_text,pg3_binary,pg3_binary_dist}
engines=${BENCH_ENGINES:-pgvector quarry}
quarry_with=${BENCH_QUARRY_WITH:+, $BENCH_QUARRY_WITH}
column_storage=${BENCH_COLUMN_STORAGE:-}
name=${BENCH_NAME:-hnsw_client}
out=bench/results
mkdir -p "$out"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== dependencies, build, install"
test/deps.sh test bench
make -s -j"$(nproc)" >/dev/null
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	test/private_pg.sh "$QUARRY_DESTDIR"
	make -s install DESTDIR="$QUARRY_DESTDIR" >/dev/null
else
	sudo_cmd=()
	[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
	"${sudo_cmd[@]}" make -s install >/dev/null
fi
test/build_pgvector.sh pg_config "${QUARRY_DESTDIR:-}"
pgvector_version=$(sed -n 's/^default_version = .\(.*\)./\1/p' "${QUARRY_DESTDIR:-}$(pg_config --sharedir)/extension/vector.control")

work=$(make_workspace client)
port=$(free_port)
cleanup() {
	cluster_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work" "$port" "shared_buffers='1GB'" "maintenance_work_mem='2GB'" "max_wal_size='8GB'" \
	"max_parallel_maintenance_workers=0" "lc_messages='C'" "jit=off"
psql_b() { cluster_psql "$work" "$port" -q -At "$@"; }
psql_b -c "CREATE EXTENSION vector" -c "CREATE EXTENSION quarry" -c "CREATE EXTENSION quarry_pgvector"
dsn="host=127.0.0.1 port=$port dbname=postgres user=$(cluster_user)"

echo "== load"
tsv="$work/tsv"
mkdir -p "$tsv"
bench/fmnist.py tsv "$data" train >"$tsv/train.tsv"
bench/fmnist.py tsv "$data" test >"$tsv/test.tsv"
chmod -R a+rX "$tsv"
psql_b <<EOF
CREATE TEMP TABLE raw (id int, label int, v real[]);
COPY raw FROM '$tsv/train.tsv';
CREATE TABLE fmv (id int PRIMARY KEY, v vector(784));   -- the type's default storage
${column_storage:+ALTER TABLE fmv ALTER v SET STORAGE $column_storage;}
INSERT INTO fmv SELECT id, v::vector(784) FROM raw;
TRUNCATE raw;
COPY raw FROM '$tsv/test.tsv';
CREATE TABLE fmq (id int PRIMARY KEY, v vector(784));
ALTER TABLE fmq ALTER v SET STORAGE PLAIN;
INSERT INTO fmq SELECT id, v::vector(784) FROM raw;
VACUUM ANALYZE fmv; VACUUM ANALYZE fmq;
CHECKPOINT;
-- The in-backend loop: each query's ids and time (clock_timestamp() around
-- it), the query shape an application sends, the vector from a variable.
CREATE FUNCTION bench_loop(nq int) RETURNS TABLE (qid int, ids int[], seconds float8) AS \$\$
DECLARE
    r record;
    t0 timestamptz;
BEGIN
    FOR r IN SELECT q.id, q.v FROM fmq q WHERE q.id < nq ORDER BY q.id LOOP
        t0 := clock_timestamp();
        SELECT array_agg(s.id) INTO ids FROM (SELECT f.id FROM fmv f ORDER BY f.v <-> r.v LIMIT 10) s;
        seconds := extract(epoch FROM clock_timestamp() - t0);
        qid := r.id;
        RETURN NEXT;
    END LOOP;
END \$\$ LANGUAGE plpgsql;
EOF
storage=$(psql_b -c "SELECT CASE attstorage WHEN 'e' THEN 'external' WHEN 'x' THEN 'extended' WHEN 'p' THEN 'plain' ELSE 'main' END FROM pg_attribute WHERE attrelid = 'fmv'::regclass AND attname = 'v'")
toast_bytes=$(psql_b -c "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'fmv'::regclass")

sweep="$out/$name.tsv"
if [[ ${BENCH_APPEND:-0} != 1 || ! -f $sweep ]]; then
	echo -e "engine\tmode\tef_search\trecall_at_10\tqps\tp50_us\tp95_us\tqueries\tbackend_cpu_us" >"$sweep"
fi
plan_notes="$work/plan_notes"
: >"$plan_notes"
declare -A build_seconds index_mb
for engine in $engines; do
	echo "== $engine: CREATE INDEX"
	if [[ $engine == quarry ]]; then
		using="quarry_hnsw (v quarry_vector_l2_ops)"
		with=$quarry_with
	else
		using="hnsw (v vector_l2_ops)"
		with=""
	fi
	build_seconds[$engine]=$(psql_b <<EOF
SELECT extract(epoch FROM clock_timestamp()) \gset t0_
CREATE INDEX fmv_v ON fmv USING $using WITH (m = 16, ef_construction = 64$with);
SELECT round((extract(epoch FROM clock_timestamp()) - :t0_extract)::numeric, 1);
EOF
)
	index_mb[$engine]=$(psql_b -c "SELECT pg_relation_size('fmv_v') / 1000000")
	echo "build ${build_seconds[$engine]} s, ${index_mb[$engine]} MB"
	# Only the ef_search values at which the planner takes the index (the
	# query vector a parameter, as in the loop and in prepared statements):
	# the others are reported, not measured (a sequential scan and sort
	# detoasts all 60,000 vectors per query).
	setting=quarry.hnsw_ef_search
	[[ $engine == quarry ]] || setting=hnsw.ef_search
	indexed_efs=()
	for ef in ${efs//,/ }; do
		plan=$(psql_b -c "SET $setting = $ef" -c "EXPLAIN (COSTS OFF) SELECT id FROM fmv ORDER BY v <-> (SELECT v FROM fmq WHERE id = 0) LIMIT 10")
		if grep -q "Index Scan using fmv_v" <<<"$plan"; then
			indexed_efs+=("$ef")
		else
			echo "$engine: at ef_search $ef the planner chose a sequential scan and sort; not measured" | tee -a "$plan_notes"
		fi
	done
	[[ ${#indexed_efs[@]} -gt 0 ]] || { echo "the plan never uses fmv_v" >&2; exit 1; }
	echo "== $engine: queries ($nq per mode and ef_search; engine mode ef recall QPS p50 p95 n cpu_us)"
	/usr/bin/python3 bench/hnsw_client.py "$dsn" "$data" "$engine" "$modes" "$(IFS=,; echo "${indexed_efs[*]}")" "$nq" |
		tee -a "$sweep"
	psql_b -c "DROP INDEX fmv_v"
done

echo "== report"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
# The QPS of ENGINE in MODE at the lowest ef_search that reaches recall R.
qps_at() {
	awk -F'\t' -v e="$1" -v m="$2" -v r="$3" '$1 == e && $2 == m && $4 >= r && (best == "" || $3 < bef) {best = $5; bef = $3; rec = $4}
		END {if (best != "") printf "%.0f (ef %d, %.3f)", best, bef, rec; else printf "-"}' "$sweep"
}
ratio_at() {
	awk -F'\t' -v m="$1" -v r="$2" '$2 == m && $4 >= r {if (!($1 in bef) || $3 < bef[$1]) {bef[$1] = $3; q[$1] = $5}}
		END {if (q["pgvector"] > 0 && q["quarry"] > 0) printf "%.2f", q["quarry"] / q["pgvector"]; else printf "-"}' "$sweep"
}
{
	echo "# quarry_hnsw and pgvector through a client"
	echo
	echo "Fashion-MNIST, 60,000 x 784 in one \`vector(784)\` column (storage: $storage; TOAST table"
	echo "$((toast_bytes / 1000000)) MB), L2, m = 16, ef_construction = 64${quarry_with:+ (quarry also$quarry_with)}, serial builds; pgvector $pgvector_version."
	echo "$(date -u +%Y-%m-%d), $(nproc) x $cpu. Load average at the start $load_start, at the end $load"
	echo "(the machine is shared: every timing moves with it; compare the engines within this run)."
	echo "Command: \`$(env | grep '^BENCH_' | sort | sed "s/=\(.*\)/='\1'/" | tr '\n' ' ')bench/hnsw_client.sh\` ($nq queries per mode and ef_search, after 200 warm-up queries;"
	echo "psycopg2 $(/usr/bin/python3 -c 'import psycopg2; print(psycopg2.__version__.split()[0])'),"
	echo "psycopg $(/usr/bin/python3 -c 'import psycopg; print(psycopg.__version__, "(" + psycopg.pq.__impl__ + " implementation)")'),"
	echo "over TCP to 127.0.0.1)."
	echo
	echo "Modes: **backend** the PL/pgSQL loop (no client); **pg2_simple** psycopg2, the vector as a text"
	echo "literal in the statement, parsed and planned every time; **pg2_prepared** psycopg2, PREPARE once and"
	echo "EXECUTE q('[...]'); **pg3_text** psycopg 3, server-side prepared, text parameter; **pg3_binary** the"
	echo "same with a binary parameter (pgvector's send/recv format); **pg3_binary_dist** that with the"
	echo "distance in the SELECT list (\`SELECT id, v <-> \$1 AS distance FROM fmv ORDER BY v <-> \$2 LIMIT 10\`, one"
	echo "value in both parameters, as psycopg sends two placeholders). Query: \`SELECT id FROM fmv ORDER BY v <-> \$1 LIMIT 10\`."
	echo
	echo "| measure | quarry_hnsw | pgvector hnsw |"
	echo "|---|---|---|"
	echo "| CREATE INDEX (serial) | ${build_seconds[quarry]:--} s | ${build_seconds[pgvector]:--} s |"
	echo "| index size | ${index_mb[quarry]:--} MB | ${index_mb[pgvector]:--} MB |"
	echo
	echo "## QPS at the lowest ef_search reaching recall@10 >= 0.99 (>= 0.995)"
	echo
	echo "| mode | quarry | pgvector | quarry / pgvector | at >= 0.995: quarry | pgvector | ratio |"
	echo "|---|---|---|---|---|---|---|"
	for mode in ${modes//,/ }; do
		echo "| $mode | $(qps_at quarry "$mode" 0.99) | $(qps_at pgvector "$mode" 0.99) | $(ratio_at "$mode" 0.99) |" \
			"$(qps_at quarry "$mode" 0.995) | $(qps_at pgvector "$mode" 0.995) | $(ratio_at "$mode" 0.995) |"
	done
	echo
	if [[ -s $plan_notes ]]; then
		echo "Not measured (the planner does not take the index there):"
		echo
		sed 's/^/- /' "$plan_notes"
		echo
	fi
	echo "## Every measurement"
	echo
	echo "backend CPU: the server process's user + system time per query (/proc, 10 ms ticks), which other"
	echo "work on the machine moves less than the wall-clock figures."
	echo
	echo "| engine | mode | ef_search | recall@10 | QPS | p50 µs | p95 µs | backend CPU µs/query |"
	echo "|---|---|---|---|---|---|---|---|"
	tail -n +2 "$sweep" | awk -F'\t' '{printf "| %s | %s | %s | %.4f | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $9}'
} >"$out/$name.md"
cat "$out/$name.md"
