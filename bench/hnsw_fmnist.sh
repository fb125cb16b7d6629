#!/usr/bin/env bash
# quarry_hnsw on Fashion-MNIST (60,000 x 784, L2, 10,000 queries), single
# backend, m = 16, ef_construction = 64, next to hnswlib (single thread, same
# m/ef_construction: the in-process ceiling) and exact search.
#
#   bench/hnsw_fmnist.sh                       everything (about 10 minutes)
#   QUARRY_DESTDIR=/tmp/pg-x bench/hnsw_fmnist.sh   into a private PostgreSQL copy
#   BENCH_QUERIES=2000 bench/hnsw_fmnist.sh    fewer queries per ef_search value
#
# It builds and installs quarry, starts a throwaway cluster (shared_buffers
# 1 GB, maintenance_work_mem 2 GB), loads the data (vectors stored PLAIN:
# uncompressed, see README), and measures:
#   - CREATE INDEX time, index size, backend memory before / peak / after
#   - recall@10 and queries per second over a sweep of ef_search, through SQL
#     (a PL/pgSQL loop in one backend, per-query clock_timestamp(), as the
#     pgvector anchor was measured), hnswlib in-process, exact search
#   - online inserts (10,000 rows into a 50,000-row indexed table, WAL-logged)
#   - VACUUM after deleting 10 %, against rebuilding the index
# Results: bench/results/hnsw_fmnist.md (tables), hnsw_fmnist.tsv (the sweep),
# hnsw_fmnist.png (recall vs QPS). Timings depend on what else the machine
# runs; the report says which CPU and load it saw.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
data=${QUARRY_DATA:-$(cd "$repo/.." && pwd)/shared/data}/fashion-mnist
[[ -f $data/gt_l2_k100_dist.fvecs ]] || { echo "Fashion-MNIST with ground truth not found in $data" >&2; exit 1; }
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh
nq=${BENCH_QUERIES:-10000}
efs=(10 20 40 80 120 200 400)
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

work=$(make_workspace bench)
port=$(free_port)
cleanup() {
	cluster_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work" "$port" "shared_buffers='1GB'" "maintenance_work_mem='2GB'" "max_wal_size='8GB'" \
	"lc_messages='C'" "jit=off"
psql_b() { cluster_psql "$work" "$port" -q -At "$@"; }
psql_b -c "CREATE EXTENSION quarry"

echo "== load"
tsv="$work/tsv"
mkdir -p "$tsv"
bench/fmnist.py tsv "$data" train >"$tsv/train.tsv"
bench/fmnist.py tsv "$data" test >"$tsv/test.tsv"
bench/fmnist.py gtdist "$data" 10000 10 | awk -F'\t' '{ n = split($2, a, ","); gsub(/[{}]/, "", a[n]); print $1 "\t" a[n] }' \
	>"$tsv/gt10.tsv"
chmod -R a+rX "$tsv"
psql_b <<EOF
CREATE TABLE fm (id int PRIMARY KEY, label int, v real[]);
ALTER TABLE fm ALTER v SET STORAGE PLAIN;
COPY fm FROM '$tsv/train.tsv';
CREATE TABLE fmq (id int PRIMARY KEY, label int, v real[]);
ALTER TABLE fmq ALTER v SET STORAGE PLAIN;
COPY fmq FROM '$tsv/test.tsv';
CREATE TABLE fmgt (id int PRIMARY KEY, d10 float8); -- squared L2 distance of the 10th true neighbour
COPY fmgt FROM '$tsv/gt10.tsv';
VACUUM ANALYZE fm; VACUUM ANALYZE fmq; ANALYZE fmgt;
CHECKPOINT;
EOF

echo "== CREATE INDEX"
# One session: note its memory, build, note it again; a sampler reads the
# backend's private memory (RssAnon) every 20 ms meanwhile.
rss_anon() { awk '/^RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
build_sql="$work/build.sql"
cat >"$build_sql" <<'EOF'
SELECT pg_backend_pid();
SELECT pg_sleep(0.3);
SELECT backend_rss_bytes FROM quarry_memory_stats();
SELECT extract(epoch FROM clock_timestamp()) \gset t0_
CREATE INDEX fm_v ON fm USING quarry_hnsw (v quarry_l2_ops) WITH (m = 16, ef_construction = 64);
SELECT extract(epoch FROM clock_timestamp()) - :t0_extract AS build_seconds;
SELECT build_bytes_peak, build_arenas_live, backend_rss_bytes FROM quarry_memory_stats();
SELECT pg_sleep(0.3);
EOF
chmod a+r "$build_sql"
cluster_psql "$work" "$port" -q -At -f "$build_sql" >"$work/build.out" &
build_job=$!
sleep 0.15
bpid=$(head -1 "$work/build.out")
anon_before=$(rss_anon "$bpid")
anon_peak=$anon_before
vm_hwm=0
anon_after=0
while kill -0 "$build_job" 2>/dev/null; do
	a=$(rss_anon "$bpid")
	[[ -n $a && $a -gt $anon_peak ]] && anon_peak=$a
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$bpid/status" 2>/dev/null || true)
	[[ -n $hwm ]] && vm_hwm=$hwm
	# Line 4 (the build time) is printed once CREATE INDEX returned.
	if [[ -n $(sed -n 4p "$work/build.out") && $anon_after -eq 0 ]]; then
		sleep 0.1
		anon_after=$(rss_anon "$bpid")
	fi
	sleep 0.02
done
wait "$build_job"
mapfile -t b <"$work/build.out"
build_seconds=$(printf '%.2f' "${b[3]}")
arena_peak=$(echo "${b[4]}" | cut -d'|' -f1)
index_bytes=$(psql_b -c "SELECT pg_relation_size('fm_v')")
raw_bytes=$((60000 * 784 * 4))
echo "build ${build_seconds}s, index $((index_bytes / 1000000)) MB, RssAnon ${anon_before} -> peak ${anon_peak} -> ${anon_after} kB"

echo "== queries through SQL"
sweep_function() { # NAME TABLE
	sed -e "s/@NAME@/$1/" -e "s/@TABLE@/$2/" <<'EOF'
-- LIMIT 10 is a literal, as an application writes it: with a parameter there
-- PostgreSQL would plan every query anew (a generic plan cannot cost LIMIT $n).
CREATE FUNCTION @NAME@(ef int, nq int, OUT recall float8, OUT qps float8, OUT mean_us float8) AS $$
DECLARE
    r record;
    d float8[];
    hits bigint := 0;
    t0 timestamptz;
    total float8 := 0;
BEGIN
    PERFORM set_config('quarry.hnsw_ef_search', ef::text, true);
    FOR r IN SELECT q.id, q.v, g.d10 FROM fmq q JOIN fmgt g USING (id) WHERE q.id < nq ORDER BY q.id LOOP
        t0 := clock_timestamp();
        SELECT array_agg(dist) INTO d FROM (SELECT v <-> r.v AS dist FROM @TABLE@ ORDER BY v <-> r.v LIMIT 10) s;
        total := total + extract(epoch FROM clock_timestamp() - t0);
        -- recall@10 with ties: a row at the 10th true distance is a hit
        hits := hits + (SELECT count(*) FROM unnest(d) x WHERE x * x <= r.d10 * (1 + 1e-6));
    END LOOP;
    recall := hits::float8 / (nq * 10);
    qps := nq / total;
    mean_us := total / nq * 1e6;
END $$ LANGUAGE plpgsql;
EOF
}
sweep_function bench_sweep fm | psql_b
psql_b -c "SELECT * FROM bench_sweep(40, 2000)" >/dev/null # warm-up: pages, buffer hints
sweep="$out/hnsw_fmnist.tsv"
echo -e "system\tef_search\trecall_at_10\tqps" >"$sweep"
for ef in "${efs[@]}"; do
	IFS='|' read -r recall qps mean <<<"$(psql_b -c "SELECT * FROM bench_sweep($ef, $nq)")"
	printf 'quarry ef=%-4s recall %.4f  %7.0f QPS  %6.0f us\n' "$ef" "$recall" "$qps" "$mean"
	echo -e "quarry\t$ef\t$recall\t$qps" >>"$sweep"
done
# The same with the default storage of real[] (compressed): every row the
# query returns is decompressed to compute the distance in its target list.
psql_b <<'EOF'
CREATE TABLE fm_default (id int PRIMARY KEY, label int, v real[]);
INSERT INTO fm_default SELECT id, label, v::text::real[] FROM fm; -- new datums: compressed
VACUUM ANALYZE fm_default;
CREATE INDEX ON fm_default USING quarry_hnsw (v quarry_l2_ops);
EOF
sweep_function bench_sweep_default fm_default | psql_b
psql_b -c "SELECT * FROM bench_sweep_default(40, 2000)" >/dev/null
compressed_qps=$(psql_b -c "SELECT * FROM bench_sweep_default(40, $nq)")
psql_b -c "DROP TABLE fm_default"

echo "== exact search (sequential scan + sort)"
IFS='|' read -r exact_recall exact_qps exact_mean <<<"$(psql_b -c "SET enable_indexscan = off" \
	-c "SELECT * FROM bench_sweep(40, 100)")"
echo -e "exact\t-\t$exact_recall\t$exact_qps" >>"$sweep"
printf 'exact: recall %.4f, %.1f QPS\n' "$exact_recall" "$exact_qps"

echo "== hnswlib (in-process, one thread)"
g++ -O3 -march=native -std=c++17 bench/hnswlib_fmnist.cpp -lz -lpthread -o "$work/hnswlib_fmnist"
"$work/hnswlib_fmnist" "$data" 16 64 "${efs[@]}" | tee "$work/hnswlib.out"
hnswlib_build=$(awk '/^build/ {print $2}' "$work/hnswlib.out")
awk '/^ef/ {print "hnswlib\t" $2 "\t" $4 "\t" $6}' "$work/hnswlib.out" >>"$sweep"

echo "== inserts and VACUUM"
ins=$(psql_b <<'EOF'
CREATE TABLE ins (id int, label int, v real[]);
ALTER TABLE ins ALTER v SET STORAGE PLAIN;
INSERT INTO ins SELECT * FROM fm WHERE id < 50000;
CREATE INDEX ins_v ON ins USING quarry_hnsw (v quarry_l2_ops);
CHECKPOINT;
SELECT extract(epoch FROM clock_timestamp()) \gset a_
INSERT INTO ins SELECT * FROM fm WHERE id >= 50000;
SELECT 10000 / (extract(epoch FROM clock_timestamp()) - :a_extract);
DELETE FROM ins WHERE id % 10 = 0;
CHECKPOINT;
SELECT extract(epoch FROM clock_timestamp()) \gset b_
VACUUM ins;
SELECT extract(epoch FROM clock_timestamp()) - :b_extract;
SELECT extract(epoch FROM clock_timestamp()) \gset c_
REINDEX INDEX ins_v;
SELECT extract(epoch FROM clock_timestamp()) - :c_extract;
EOF
)
mapfile -t ins_lines <<<"$ins"
insert_rate=$(printf '%.0f' "${ins_lines[0]}")
vacuum_seconds=$(printf '%.2f' "${ins_lines[1]}")
reindex_seconds=$(printf '%.2f' "${ins_lines[2]}")
echo "inserts ${insert_rate} rows/s; VACUUM after deleting 10% ${vacuum_seconds}s; REINDEX ${reindex_seconds}s"

echo "== report"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "# quarry_hnsw on Fashion-MNIST"
	echo
	echo "60,000 x 784 float vectors, L2, m = 16, ef_construction = 64, one backend; $(date -u +%Y-%m-%d),"
	echo "$(nproc) x $cpu. Load average at the start $load_start, at the end $load: other work on the machine"
	echo "shows in every timing here (hnswlib's numbers show how much; compare the two columns)."
	echo "Command: \`bench/hnsw_fmnist.sh\` (queries per ef_search: $nq)."
	echo
	echo "## Recall@10 and queries per second"
	echo
	echo "| ef_search | quarry through SQL: recall / QPS | hnswlib in-process: recall / QPS | quarry QPS / hnswlib QPS |"
	echo "|---|---|---|---|"
	for ef in "${efs[@]}"; do
		q=$(awk -F'\t' -v e="$ef" '$1 == "quarry" && $2 == e {printf "%.4f / %.0f", $3, $4}' "$sweep")
		h=$(awk -F'\t' -v e="$ef" '$1 == "hnswlib" && $2 == e {printf "%.4f / %.0f", $3, $4}' "$sweep")
		r=$(awk -F'\t' -v e="$ef" '$2 == e {v[$1] = $4} END {if (v["hnswlib"] > 0) printf "%.2f", v["quarry"] / v["hnswlib"]}' "$sweep")
		echo "| $ef | $q | $h | $r |"
	done
	printf '| exact (seq scan + sort) | %.4f / %.1f | | |\n' "$exact_recall" "$exact_qps"
	echo
	IFS='|' read -r c_recall c_qps _ <<<"$compressed_qps"
	printf 'With the default (compressed) storage of the table, ef_search 40: recall %.4f, %.0f QPS.\n' \
		"$c_recall" "$c_qps"
	echo
	echo "## Build, size, memory, inserts, VACUUM"
	echo
	echo "| measure | quarry | reference |"
	echo "|---|---|---|"
	echo "| CREATE INDEX (serial) | ${build_seconds} s | hnswlib 1 thread ${hnswlib_build} s; pgvector 19.5 s (anchor) |"
	printf '| index size | %d MB = %.3f x the raw vectors (%d MB) | pgvector 234 MB |\n' $((index_bytes / 1000000)) \
		"$(awk -v a="$index_bytes" -v b="$raw_bytes" 'BEGIN {print a / b}')" $((raw_bytes / 1000000))
	echo "| build arena peak (the graph in memory) | $((arena_peak / 1000000)) MB | |"
	echo "| backend private memory (RssAnon) before / peak during / after CREATE INDEX | $((anon_before / 1000)) / $((anon_peak / 1000)) / $((anon_after / 1000)) MB | |"
	echo "| backend peak RSS (VmHWM, shared buffers it touched included) | $((${vm_hwm:-0} / 1000)) MB | |"
	echo "| online inserts, WAL-logged (10,000 into 50,000) | ${insert_rate} rows/s | pgvector 771 rows/s (anchor) |"
	echo "| VACUUM after deleting 10 % | ${vacuum_seconds} s | REINDEX ${reindex_seconds} s; pgvector 37.6 s (anchor) |"
	echo
	echo "pgvector figures are the anchors measured earlier on this machine class (pgvector 0.8.6,"
	echo "shared notes), not rerun here."
} >"$out/hnsw_fmnist.md"
/usr/bin/python3 bench/plot_recall_qps.py "$sweep" "$out/hnsw_fmnist.png"
cat "$out/hnsw_fmnist.md"
