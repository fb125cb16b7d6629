#!/usr/bin/env bash
# quarry_hnsw against pgvector's hnsw on the 1M x 100 fastText Gutenberg
# vectors (1,012,445 rows, cosine, 10,000 held-out queries with exact ground
# truth; 9 rows are zero vectors), m = 16, ef_construction = 64, in one run:
# pgvector with its parallel build (max_parallel_maintenance_workers = 1, plus
# the leader) and quarry in each variant asked for.
#
#   bench/hnsw_1m.sh                              pgvector + quarry "serial" (about 15 minutes)
#   QUARRY_DESTDIR=/tmp/pg-x bench/hnsw_1m.sh     into a private PostgreSQL copy
#   QUARRY_VARIANTS="serial parallel" bench/hnsw_1m.sh
#   BENCH_QUERIES=1000 BENCH_EFS=40,80,160,320 BENCH_MODES=pg2_prepared,pg3_binary bench/hnsw_1m.sh
#   BENCH_PGVECTOR=0 bench/hnsw_1m.sh             quarry's variants only
#
# A quarry variant NAME is a CREATE INDEX WITH clause and settings for the
# build session:
#   QUARRY_VARIANT_<NAME>_WITH   default "m = 16, ef_construction = 64"
#   QUARRY_VARIANT_<NAME>_SET    default for serial "max_parallel_maintenance_workers = 0",
#                                for parallel "max_parallel_maintenance_workers = 1",
#                                else none (semicolon-separated SET commands' bodies)
# e.g. QUARRY_VARIANTS="serial sq8" QUARRY_VARIANT_sq8_WITH="m = 16, ef_construction = 64, storage = 'sq8'".
#
# The base vectors are not shipped: they are rebuilt from the paragraphs and
# the word vectors as the data folder's README says (35 s, numpy) into
# BENCH_CACHE (default /var/tmp/quarry-bench), checked against the README's
# sha256, and turned into a binary COPY file there (both reused next time).
# Per build: time, index size, the build backend's peak private memory
# (RssAnon) and peak RSS (VmHWM: shared memory it touched included, e.g.
# pgvector's parallel graph in DSM; the worker's own memory is not counted),
# and quarry's graph memory (the serial build's arena peak; the parallel
# build's shared graph in DSM and the leader's arena peak).
# Per index: recall@10 and QPS, p50/p95 through psycopg2 (prepared, text
# literal) and psycopg 3 (prepared, binary parameter) over an ef_search sweep.
# Results: bench/results/hnsw_1m.md and hnsw_1m.tsv.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source test/lib/cluster.sh
source bench/lib.sh
require_data gutenberg-paragraphs/fasttext100/gt_cos_k100.ivecs
ft=$QUARRY_DATA/gutenberg-paragraphs/fasttext100
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
nq=${BENCH_QUERIES:-2000}
efs=${BENCH_EFS:-20,30,40,50,60,80,160,320}
modes=${BENCH_MODES:-pg2_prepared,pg3_binary}
variants=${QUARRY_VARIANTS:-serial}
cache=${BENCH_CACHE:-/var/tmp/quarry-bench}
base_sha=08f04f0a51688291767299347ad9d7dfad27bdf349f87d6e83fc0116f2fecede
out=bench/results
mkdir -p "$out" "$cache"

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

echo "== base vectors"
base=$cache/fasttext100-base.fvecs
if [[ ! -f $base ]]; then
	xzcat "$QUARRY_DATA/gutenberg-paragraphs/gutenberg_1m.tsv.xz" | cut -f4 | /usr/bin/python3 -c 'import sys, re
for l in sys.stdin: sys.stdout.write(" ".join(re.findall(r"[a-z0-9]+", l.lower())) + "\n")' >"$cache/docs.txt"
	/usr/bin/python3 "$QUARRY_DATA/tools/ft_sentence_vectors.py" "$ft/words.vec.xz" "$cache/docs.txt" "$base.new"
	rm -f "$cache/docs.txt"
	mv "$base.new" "$base"
fi
sha=$(sha256sum "$base" | cut -d' ' -f1)
if [[ $sha != "$base_sha" ]]; then
	echo "warning: $base has sha256 $sha, not the README's $base_sha: the ground truth may not match" >&2
fi
copy=$cache/fasttext100-base.copy
[[ -f $copy && $copy -nt $base ]] || /usr/bin/python3 bench/hnsw_1m.py copy "$base" "$copy"
chmod a+r "$cache" "$base" "$copy"

work=$(make_workspace 1m)
port=$(free_port)
cleanup() {
	cluster_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work" "$port" "shared_buffers='3GB'" "maintenance_work_mem='4GB'" "max_wal_size='10GB'" \
	"max_parallel_workers=2" "lc_messages='C'" "jit=off" "checkpoint_timeout='30min'"
psql_b() { cluster_psql "$work" "$port" -q -At "$@"; }
psql_b -c "CREATE EXTENSION vector" -c "CREATE EXTENSION quarry" -c "CREATE EXTENSION quarry_pgvector"
dsn="host=127.0.0.1 port=$port dbname=postgres user=$(cluster_user)"

echo "== load"
load_seconds=$(psql_b <<EOF
SELECT extract(epoch FROM clock_timestamp()) \gset t0_
CREATE TABLE t1m (id int PRIMARY KEY, v vector(100));
COPY t1m FROM '$copy' WITH (FORMAT binary);
VACUUM ANALYZE t1m;
CHECKPOINT;
SELECT round((extract(epoch FROM clock_timestamp()) - :t0_extract)::numeric, 1);
EOF
)
rows=$(psql_b -c "SELECT count(*) FROM t1m")
zero_rows=$(psql_b -c "SELECT count(*) FROM t1m WHERE vector_norm(v) = 0")
echo "$rows rows ($zero_rows zero vectors) in $load_seconds s"

sweep="$out/hnsw_1m.tsv"
echo -e "engine\tmode\tef_search\trecall_at_10\tqps\tp50_us\tp95_us\tqueries\tbackend_cpu_us" >"$sweep"
builds="$work/builds.tsv"
: >"$builds"

# Builds index t1m_v with USING/WITH after the SET commands, in one session,
# sampling the backend's RssAnon and VmHWM every 20 ms; appends
# "name, seconds, MB, peak RssAnon kB, VmHWM kB, settings, quarry graph memory"
# to $builds. quarry's graph memory: the build arena's peak (serial) or the
# parallel build's shared graph in DSM and the leader's arena peak, from the
# build's DEBUG line and quarry_memory_stats().
build() { # NAME USING WITH SETS
	local name=$1 using=$2 with=$3 sets=$4 sql="$work/build-$1.sql" outf="$work/build-$1.out"
	{
		echo "SELECT pg_backend_pid();"
		echo "SELECT pg_sleep(0.3);"
		local s
		IFS=';' read -ra s <<<"$sets"
		for set in "${s[@]}"; do [[ -n ${set// /} ]] && echo "SET $set;"; done
		[[ $using == quarry_hnsw* ]] && echo "SET client_min_messages = debug1;"
		echo "SELECT extract(epoch FROM clock_timestamp()) \\gset t0_"
		echo "CREATE INDEX t1m_v ON t1m USING $using WITH ($with);"
		echo "SELECT 'TIME', round((extract(epoch FROM clock_timestamp()) - :t0_extract)::numeric, 1);"
		echo "RESET client_min_messages;"
		[[ $using == quarry_hnsw* ]] && echo "SELECT 'PEAK', build_bytes_peak / 1024 FROM quarry_memory_stats();"
	} >"$sql"
	chmod a+r "$sql"
	cluster_psql "$work" "$port" -q -At -f "$sql" >"$outf" 2>"$outf.err" &
	local job=$! pid="" peak=0 hwm=0 a h
	while kill -0 "$job" 2>/dev/null; do
		[[ -z $pid ]] && pid=$(head -1 "$outf" 2>/dev/null || true)
		if [[ -n $pid ]]; then
			a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
			h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
			[[ -n $a && $a -gt $peak ]] && peak=$a
			[[ -n $h ]] && hwm=$h
		fi
		sleep 0.02
	done
	wait "$job"
	local seconds mb arena graph memory=""
	seconds=$(grep '^TIME|' "$outf" | cut -d'|' -f2)
	mb=$(psql_b -c "SELECT pg_relation_size('t1m_v') / 1000000")
	if [[ $using == quarry_hnsw* ]]; then
		arena=$(grep '^PEAK|' "$outf" | cut -d'|' -f2)
		graph=$(grep -o 'shared graph [0-9]* kB' "$outf.err" | grep -o '[0-9]*' || true)
		if [[ -n $graph ]]; then
			memory="shared graph (DSM) $((graph / 1024)) MB, leader's arena peak $((arena / 1024)) MB"
		else
			memory="build arena peak $((arena / 1024)) MB"
		fi
	fi
	echo -e "$name\t$seconds\t$mb\t$peak\t$hwm\tWITH ($with); $sets\t$memory" >>"$builds"
	echo "$name: build $seconds s, $mb MB, backend RssAnon peak $((peak / 1000)) MB, VmHWM $((hwm / 1000)) MB; $memory"
}

measure() { # NAME
	echo "== $1: queries ($nq per mode and ef_search; engine mode ef recall QPS p50 p95 n cpu_us)"
	/usr/bin/python3 bench/hnsw_1m.py query "$dsn" "$ft" "$base" "$1" "$modes" "$efs" "$nq" | tee -a "$sweep"
	psql_b -c "DROP INDEX t1m_v"
}

if [[ ${BENCH_PGVECTOR:-1} == 1 ]]; then
	echo "== pgvector: parallel CREATE INDEX"
	build pgvector "hnsw (v vector_cosine_ops)" "m = 16, ef_construction = 64" "max_parallel_maintenance_workers = 1"
	measure pgvector
fi
for variant in $variants; do
	with_var=QUARRY_VARIANT_${variant}_WITH
	set_var=QUARRY_VARIANT_${variant}_SET
	case $variant in
	serial) default_set="max_parallel_maintenance_workers = 0" ;;
	parallel) default_set="max_parallel_maintenance_workers = 1" ;;
	*) default_set="" ;;
	esac
	echo "== quarry-$variant: CREATE INDEX"
	build "quarry-$variant" "quarry_hnsw (v quarry_vector_cosine_ops)" "${!with_var:-m = 16, ef_construction = 64}" \
		"${!set_var-$default_set}"
	measure "quarry-$variant"
done

echo "== report"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "# quarry_hnsw and pgvector on 1M x 100 fastText vectors (cosine)"
	echo
	echo "$rows rows of \`vector(100)\` ($zero_rows zero vectors), Gutenberg paragraphs, 10,000 held-out queries"
	echo "(first $nq used) with exact ground truth; m = 16, ef_construction = 64; pgvector $pgvector_version."
	echo "$(date -u +%Y-%m-%d), $(nproc) x $cpu, shared_buffers 3 GB, maintenance_work_mem 4 GB. Load average"
	echo "at the start $load_start, at the end $load (the machine is shared: compare within this run)."
	# The command as run: every BENCH_ and QUARRY_VARIANT setting of the environment.
	settings=$(env | grep -E '^(BENCH_|QUARRY_VARIANT)' | sort | sed -E 's/^([^=]*)=(.*)$/\1="\2"/' | tr '\n' ' ')
	echo "Command: \`${settings}bench/hnsw_1m.sh\`; loading the table took $load_seconds s."
	echo
	echo "## Builds"
	echo
	echo "| index | CREATE INDEX | size | backend RssAnon peak | backend VmHWM | quarry's graph memory | WITH; settings |"
	echo "|---|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s s | %s MB | %d MB | %d MB | %s | %s |\n", $1, $2, $3, $4 / 1000, $5 / 1000, $7, $6}' "$builds"
	pg_build=$(awk -F'\t' '$1 == "pgvector" {print $2}' "$builds")
	if [[ -n $pg_build ]]; then
		echo
		awk -F'\t' -v p="$pg_build" '$1 != "pgvector" {printf "%s builds %.2f times as fast as pgvector'"'"'s parallel build.\n", $1, p / $2}' "$builds"
	fi
	echo
	echo "## Recall@10 and QPS"
	echo
	echo "Backend CPU: the server process's user + system time per query (/proc, 10 ms ticks), which"
	echo "other work on the machine moves less than the wall-clock QPS and latencies."
	echo
	echo "| index | mode | ef_search | recall@10 | QPS | p50 µs | p95 µs | backend CPU µs/query |"
	echo "|---|---|---|---|---|---|---|---|"
	tail -n +2 "$sweep" | awk -F'\t' '{printf "| %s | %s | %s | %.4f | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $9}'
	echo
	echo "## QPS at the lowest ef_search reaching recall@10 >= 0.95"
	echo
	echo "| index | mode | QPS (ef_search, recall) |"
	echo "|---|---|---|"
	tail -n +2 "$sweep" | awk -F'\t' '$4 >= 0.95 {k = $1 "\t" $2; if (!(k in ef) || $3 < ef[k]) {ef[k] = $3; q[k] = $5; r[k] = $4}}
		END {for (k in ef) {split(k, a, "\t"); printf "| %s | %s | %s (%d, %.3f) |\n", a[1], a[2], q[k], ef[k], r[k]}}' | sort
	echo
	echo "(\"-\" or a missing row: that index did not reach 0.95 at the ef_search values tried.)"
} >"$out/hnsw_1m.md"
cat "$out/hnsw_1m.md"
