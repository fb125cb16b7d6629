#!/usr/bin/env bash
# Serial against parallel CREATE INDEX of quarry_hnsw on the 1M Gutenberg
# fastText set (1,012,445 x 100, cosine; shared/data/gutenberg-paragraphs/
# fasttext100), in one run: the same rows in two tables, the serial build
# (max_parallel_maintenance_workers = 0) and right after it the parallel one
# (BENCH_WORKERS workers, default 1: with the leader, one process per core
# of this 2-core machine), then both again in the other order, each with
# m = 16, ef_construction = 64.
#
#   QUARRY_DESTDIR=/tmp/pg-x bench/hnsw_parallel_build.sh
#   BENCH_QUERIES=1000 BENCH_WORKERS=2 bench/hnsw_parallel_build.sh
#
# Measures: build time, index size, memory (serial: the build arena's peak;
# parallel: the shared graph in the DSM segment, from the build's DEBUG
# line, and the leader's arena of scratch), recall@10 against the exact
# cosine neighbours (ties at the 10th distance count as hits) at ef_search
# 40, 80, 160 through SQL, the load average before each build.
# The base vectors are rebuilt from the word vectors as the data set's
# README says (35 s) into BENCH_CACHE (default /tmp/quarry-ft1m) once.
# Results: bench/results/hnsw_parallel_build.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
shared_data=${QUARRY_DATA:-$(cd "$repo/.." && pwd)/shared/data}
data=$shared_data/gutenberg-paragraphs/fasttext100
[[ -f $data/queries.fvecs ]] || { echo "skipped: $data is not available"; exit 0; }
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh
nq=${BENCH_QUERIES:-1000}
workers=${BENCH_WORKERS:-1}
cache=${BENCH_CACHE:-/tmp/quarry-ft1m}
out=bench/results
mkdir -p "$out" "$cache"

echo "== build, install"
make -s -j2 >/dev/null
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	test/private_pg.sh "$QUARRY_DESTDIR"
	make -s install DESTDIR="$QUARRY_DESTDIR" >/dev/null
else
	sudo_cmd=()
	[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
	"${sudo_cmd[@]}" make -s install >/dev/null
fi

echo "== data"
if [[ ! -f $cache/base.fvecs ]]; then
	xzcat "$shared_data/gutenberg-paragraphs/gutenberg_1m.tsv.xz" | cut -f4 | /usr/bin/python3 -c 'import sys,re
for l in sys.stdin: sys.stdout.write(" ".join(re.findall(r"[a-z0-9]+", l.lower()))+"\n")' >"$cache/docs.txt"
	/usr/bin/python3 "$shared_data/tools/ft_sentence_vectors.py" "$data/words.vec.xz" "$cache/docs.txt" "$cache/base.fvecs"
fi
[[ -f $cache/base.copy ]] || /usr/bin/python3 bench/fvecs_copy.py "$cache/base.fvecs" >"$cache/base.copy"
/usr/bin/python3 bench/fvecs_copy.py "$data/queries.fvecs" "$nq" >"$cache/queries.copy"
/usr/bin/python3 -c '
import sys, numpy as np
gt = np.fromfile(sys.argv[1], dtype="<i4").reshape(-1, 101)[: int(sys.argv[2]), 1:11]
for q, row in enumerate(gt):
    for r, i in enumerate(row):
        print(q + 1, r + 1, int(i) + 1, sep="\t")' "$data/gt_cos_k100.ivecs" "$nq" >"$cache/gt.tsv"
chmod a+r "$cache"/*.copy "$cache"/gt.tsv

work=$(make_workspace bench)
port=$(free_port)
cleanup() {
	cluster_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work" "$port" "shared_buffers='2GB'" "maintenance_work_mem='2GB'" "max_wal_size='8GB'" \
	"lc_messages='C'" "jit=off" "max_parallel_maintenance_workers=0" "max_worker_processes=8"
psql_b() { cluster_psql "$work" "$port" -q -At "$@"; }
psql_b <<EOF
CREATE EXTENSION quarry;
CREATE TABLE ft_serial (id int, v real[]);
ALTER TABLE ft_serial ALTER v SET STORAGE PLAIN;
CREATE TABLE ft_parallel (id int, v real[]);
ALTER TABLE ft_parallel ALTER v SET STORAGE PLAIN;
COPY ft_serial FROM '$cache/base.copy' WITH (format binary);
COPY ft_parallel FROM '$cache/base.copy' WITH (format binary);
-- The 9 paragraphs without a known word have the zero vector: no cosine.
UPDATE ft_serial SET v = NULL WHERE v = array_fill(0::real, ARRAY[100]);
UPDATE ft_parallel SET v = NULL WHERE v = array_fill(0::real, ARRAY[100]);
CREATE INDEX ON ft_serial (id);
CREATE INDEX ON ft_parallel (id);
VACUUM ANALYZE ft_serial;
VACUUM ANALYZE ft_parallel;
CREATE TABLE q (id int, v real[]);
COPY q FROM '$cache/queries.copy' WITH (format binary);
CREATE TABLE gt (qid int, rank int, id int);
COPY gt FROM '$cache/gt.tsv';
CREATE INDEX ON gt (qid, rank);
CREATE FUNCTION recall(tab regclass, ef int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE hits bigint := 0; qq record; tenth float8; got int;
BEGIN
    EXECUTE format('SET quarry.hnsw_ef_search = %s', ef);
    FOR qq IN SELECT id, v FROM q ORDER BY id LOOP
        EXECUTE format('SELECT t.v <=> \$1 FROM %s t JOIN gt ON gt.id = t.id WHERE gt.qid = \$2 AND gt.rank = 10', tab)
            INTO tenth USING qq.v, qq.id;
        EXECUTE format('SELECT count(*) FROM (SELECT id, v <=> \$1 AS d FROM %s ORDER BY v <=> \$1 LIMIT 10) r
                        WHERE r.id IN (SELECT id FROM gt WHERE qid = \$2) OR r.d <= \$3', tab)
            INTO got USING qq.v, qq.id, tenth;
        hits := hits + got;
    END LOOP;
    RETURN hits::float8 / (10 * (SELECT count(*) FROM q));
END \$\$;
EOF

# build TABLE WORKERS: prints "seconds|load|arena_peak_kB|shared_graph_kB"
build() {
	local table=$1 n=$2 load log
	load=$(cut -d' ' -f1 /proc/loadavg)
	psql_b -c "DROP INDEX IF EXISTS ${table}_v" >/dev/null
	log=$(psql_b 2>&1 <<EOF
SET max_parallel_maintenance_workers = $n;
SELECT quarry_memory_stats_reset();
SET client_min_messages = debug1;
\\set t0 \`date +%s.%N\`
CREATE INDEX ${table}_v ON $table USING quarry_hnsw (v quarry_cosine_ops) WITH (m = 16, ef_construction = 64);
\\set t1 \`date +%s.%N\`
RESET client_min_messages;
SELECT 'TIME', :t1 - :t0;
SELECT 'PEAK', build_bytes_peak / 1024 FROM quarry_memory_stats();
EOF
)
	local seconds peak graph
	seconds=$(grep '^TIME|' <<<"$log" | cut -d'|' -f2)
	peak=$(grep '^PEAK|' <<<"$log" | cut -d'|' -f2)
	graph=$(grep -o 'shared graph [0-9]* kB' <<<"$log" | grep -o '[0-9]*' || echo 0)
	grep -q 'workers launched' <<<"$log" || [[ $n -eq 0 ]] || { echo "no workers launched: $log" >&2; exit 1; }
	printf '%.1f|%s|%s|%s\n' "$seconds" "$load" "$peak" "$graph"
}

echo "== builds: serial, parallel ($workers workers), parallel, serial"
declare -A r
r[s1]=$(build ft_serial 0); echo "serial   ${r[s1]}"
r[p1]=$(build ft_parallel "$workers"); echo "parallel ${r[p1]}"
r[p2]=$(build ft_parallel "$workers"); echo "parallel ${r[p2]}"
r[s2]=$(build ft_serial 0); echo "serial   ${r[s2]}"
size_s=$(psql_b -c "SELECT pg_relation_size('ft_serial_v')")
size_p=$(psql_b -c "SELECT pg_relation_size('ft_parallel_v')")
verify_p=$(psql_b -c "SELECT count(*) FROM quarry_verify_index('ft_parallel_v')")

echo "== recall@10, $nq queries"
declare -A rec
for ef in 40 80 160; do
	rec[s$ef]=$(psql_b -c "SELECT round(recall('ft_serial', $ef)::numeric, 4)")
	rec[p$ef]=$(psql_b -c "SELECT round(recall('ft_parallel', $ef)::numeric, 4)")
	echo "ef_search $ef: serial ${rec[s$ef]}, parallel ${rec[p$ef]}"
done

field() { cut -d'|' -f"$2" <<<"${r[$1]}"; }
speedup() { awk -v s="$(field "$1" 1)" -v p="$(field "$2" 1)" 'BEGIN { printf "%.2f", s / p }'; }
{
	echo "# quarry_hnsw: serial against parallel CREATE INDEX, 1M x 100 fastText (cosine)"
	echo
	echo "\`bench/hnsw_parallel_build.sh\`, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)," \
		"$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), PostgreSQL" \
		"$(psql_b -c 'SHOW server_version' | cut -d' ' -f1); m = 16, ef_construction = 64," \
		"maintenance_work_mem = 2GB, parallel: max_parallel_maintenance_workers = $workers (and the leader)." \
		"Builds back to back in the order of the table; the load average (1 min) is the machine's just before each."
	echo
	echo "| build | time (s) | load before | speed-up against the serial build next to it |"
	echo "| --- | --- | --- | --- |"
	echo "| serial | $(field s1 1) | $(field s1 2) | |"
	echo "| parallel | $(field p1 1) | $(field p1 2) | $(speedup s1 p1)× |"
	echo "| parallel | $(field p2 1) | $(field p2 2) | $(speedup s2 p2)× |"
	echo "| serial | $(field s2 1) | $(field s2 2) | |"
	echo
	echo "| | serial | parallel |"
	echo "| --- | --- | --- |"
	echo "| index size | $((size_s / 1000000)) MB | $((size_p / 1000000)) MB |"
	echo "| graph memory | build arena peak $(($(field s2 3) / 1024)) MB | shared graph (DSM) $(($(field p2 4) / 1024)) MB, leader's scratch arena $(($(field p2 3) / 1024)) MB |"
	for ef in 40 80 160; do
		echo "| recall@10, ef_search $ef ($nq queries) | ${rec[s$ef]} | ${rec[p$ef]} |"
	done
	echo "| quarry_verify_index rows | | $verify_p |"
} >"$out/hnsw_parallel_build.md"
cat "$out/hnsw_parallel_build.md"
