#!/usr/bin/env bash
# quarry_hnsw's vector layouts side by side, in one run: storage = 'full',
# 'sq8' and 'sq4' (m = 16, ef_construction = 64), and sq8 and full at m = 12, one table per layout
# (vectors STORAGE PLAIN), on Fashion-MNIST (60,000 x 784, L2) and, with
# BENCH_1M=1, on the 1M fastText set (1,012,436 x 100, cosine).
#
#   bench/hnsw_layouts.sh                            Fashion-MNIST
#   BENCH_1M=1 bench/hnsw_layouts.sh                 and the 1M set
#   QUARRY_DESTDIR=/tmp/pg-x bench/hnsw_layouts.sh   into a private PostgreSQL copy
#   BENCH_QUERIES=1000                               queries per ef_search (default 2000)
#   BENCH_EFS="10 40 120"  BENCH_LAYOUTS="full sq8"  BENCH_FMNIST=0   a shorter run
#   BENCH_LAYOUTS="full sq8 sq8-m12"                 a layout with another m: STORAGE-mM
#
# Measures per layout: CREATE INDEX time, index size (against the raw float32
# vectors), build arena peak, and recall@10 / queries per second through SQL
# (PL/pgSQL loop in one backend, as bench/hnsw_fmnist.sh) over a sweep of
# ef_search. The layouts are measured one after the other for each ef_search
# value, so machine noise hits them alike: compare the ratios.
# Results: bench/results/hnsw_layouts.md, .tsv (sweep), .builds.tsv (BENCH_NAME renames them).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
shared=${QUARRY_DATA:-$(cd "$repo/.." && pwd)/shared/data}
fm=$shared/fashion-mnist
ft=$shared/gutenberg-paragraphs/fasttext100
[[ -f $fm/gt_l2_k100_dist.fvecs ]] || { echo "Fashion-MNIST not found in $fm" >&2; exit 1; }
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh
nq=${BENCH_QUERIES:-2000}
efs=(${BENCH_EFS:-10 20 30 40 50 60 80 120 200})
layouts=(${BENCH_LAYOUTS:-full sq8 sq4 sq8-m12 full-m12})
out=bench/results
mkdir -p "$out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

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

work=$(make_workspace bench-layouts)
port=$(free_port)
cleanup() {
	cluster_stop "$work"
	rm -rf "$work"
}
trap cleanup EXIT
cluster_start "$work" "$port" "shared_buffers='2GB'" "maintenance_work_mem='3GB'" "max_wal_size='8GB'" \
	"lc_messages='C'" "jit=off" "max_parallel_workers_per_gather=0"
psql_b() { cluster_psql "$work" "$port" -q -At "$@"; }
psql_b -c "CREATE EXTENSION quarry"
tsv="$work/tsv"
mkdir -p "$tsv"

# A recall/QPS function over table $2 with operator $3; the ground truth is
# in table $4 (query id, ids of its 10 true neighbours).
sweep_function() { # NAME TABLE OP QUERIES GT
	sed -e "s/@NAME@/$1/" -e "s/@TABLE@/$2/" -e "s/@OP@/$3/g" -e "s/@QUERIES@/$4/" -e "s/@GT@/$5/" <<'EOF'
CREATE FUNCTION @NAME@(ef int, nq int, OUT recall float8, OUT qps float8) AS $$
DECLARE
    r record;
    got int[];
    hits bigint := 0;
    t0 timestamptz;
    total float8 := 0;
BEGIN
    PERFORM set_config('quarry.hnsw_ef_search', ef::text, true);
    FOR r IN SELECT q.id, q.v, g.ids FROM @QUERIES@ q JOIN @GT@ g USING (id) WHERE q.id < nq ORDER BY q.id LOOP
        t0 := clock_timestamp();
        SELECT array_agg(id) INTO got FROM (SELECT id FROM @TABLE@ ORDER BY v @OP@ r.v LIMIT 10) s;
        total := total + extract(epoch FROM clock_timestamp() - t0);
        hits := hits + (SELECT count(*) FROM unnest(got) x WHERE x = ANY (r.ids));
    END LOOP;
    recall := hits::float8 / (nq * 10);
    qps := nq / total;
END $$ LANGUAGE plpgsql;
EOF
}

# Builds one index per layout on copies of table $1 and sweeps ef_search.
# Appends "set layout ef recall qps" to the sweep file and
# "set layout build_s index_bytes raw_bytes arena_peak" to the build file.
# A layout is STORAGE (m = 16) or STORAGE-mM: its table's suffix and WITH clause.
layout_table() { echo "${1//-/_}"; }
layout_with() { # LAYOUT
	local storage=${1%%-m*} m=16
	[[ $1 == *-m* ]] && m=${1##*-m}
	echo "m = $m, ef_construction = 64, storage = '$storage'"
}

run_set() { # SET TABLE OPCLASS OP RAW_BYTES QUERIES GT
	local set=$1 table=$2 opclass=$3 op=$4 raw=$5 queries=$6 gt=$7
	for layout in "${layouts[@]}"; do
		local t="${table}_$(layout_table "$layout")"
		psql_b -c "CREATE TABLE $t (LIKE $table INCLUDING ALL)" -c "ALTER TABLE $t ALTER v SET STORAGE PLAIN" \
			-c "INSERT INTO $t SELECT * FROM $table" -c "VACUUM ANALYZE $t" -c "CHECKPOINT"
		local res
		res=$(psql_b <<EOF
SELECT quarry_memory_stats_reset();
SELECT extract(epoch FROM clock_timestamp()) \gset t0_
CREATE INDEX ${t}_idx ON $t USING quarry_hnsw (v $opclass) WITH ($(layout_with "$layout"));
SELECT extract(epoch FROM clock_timestamp()) - :t0_extract, pg_relation_size('${t}_idx'), build_bytes_peak FROM quarry_memory_stats();
EOF
		)
		res=$(echo "$res" | tail -1)
		IFS='|' read -r secs bytes peak <<<"$res"
		echo -e "$set\t$layout\t$secs\t$bytes\t$raw\t$peak" >>"$builds"
		printf '%s %-4s build %6.1f s, index %5d MB = %.3f x raw, arena peak %d MB\n' "$set" "$layout" "$secs" \
			$((bytes / 1000000)) "$(awk -v a="$bytes" -v b="$raw" 'BEGIN {print a / b}')" $((peak / 1000000))
		sweep_function "sweep_${t}" "$t" "$op" "$queries" "$gt" | psql_b
		psql_b -c "SELECT * FROM sweep_${t}(40, $((nq / 2)))" >/dev/null # warm-up
	done
	for ef in "${efs[@]}"; do
		for layout in "${layouts[@]}"; do
			IFS='|' read -r recall qps <<<"$(psql_b -c "SELECT * FROM sweep_${table}_$(layout_table "$layout")($ef, $nq)")"
			printf '%s %-4s ef=%-4s recall %.4f %7.0f QPS\n' "$set" "$layout" "$ef" "$recall" "$qps"
			echo -e "$set\t$layout\t$ef\t$recall\t$qps" >>"$sweep"
		done
	done
	for layout in "${layouts[@]}"; do
		psql_b -c "DROP TABLE ${table}_$(layout_table "$layout")"
	done
}

name=${BENCH_NAME:-hnsw_layouts}
sweep="$out/$name.tsv"
builds="$work/builds.tsv"
echo -e "set\tlayout\tef_search\trecall_at_10\tqps" >"$sweep"
: >"$builds"

if [[ ${BENCH_FMNIST:-1} == 1 ]]; then
echo "== Fashion-MNIST"
bench/fmnist.py tsv "$fm" train >"$tsv/train.tsv"
bench/fmnist.py tsv "$fm" test >"$tsv/test.tsv"
bench/fmnist.py gt "$fm" 10000 10 >"$tsv/gt.tsv"
chmod -R a+rX "$tsv"
psql_b <<EOF
CREATE TABLE fm (id int PRIMARY KEY, label int, v real[]);
COPY fm FROM '$tsv/train.tsv';
CREATE TABLE fmq (id int PRIMARY KEY, label int, v real[]);
COPY fmq FROM '$tsv/test.tsv';
CREATE TABLE fmgt (id int PRIMARY KEY, ids int[]);
COPY fmgt FROM '$tsv/gt.tsv';
ANALYZE fmq; ANALYZE fmgt;
EOF
run_set fmnist fm quarry_l2_ops '<->' $((60000 * 784 * 4)) fmq fmgt
psql_b -c "DROP TABLE fm"
fi

if [[ ${BENCH_1M:-0} == 1 ]]; then
	echo "== 1M fastText (cosine)"
	base=${BENCH_FT_BASE:-$ft/base.fvecs}
	[[ -f $base ]] || { echo "$base not found: build it as $ft/README.md says (or set BENCH_FT_BASE)" >&2; exit 1; }
	# Rows 1..N (id = row + 1); the all-zero vectors are left out (cosine
	# has no direction for them). Queries: the first 10,000 of queries.fvecs.
	/usr/bin/python3 - "$base" "$ft/queries.fvecs" "$ft/gt_cos_k100.ivecs" "$tsv" <<'PY'
import sys, numpy as np
base, queries, gt, out = sys.argv[1:]
def fvecs(p):
    a = np.fromfile(p, dtype=np.int32); d = a[0]
    return a.reshape(-1, d + 1)[:, 1:].view(np.float32)
def write(path, m, ids):
    with open(path, "w") as f:
        for i, row in zip(ids, m):
            if not np.any(row):
                continue
            f.write("%d\t{%s}\n" % (i, ",".join("%r" % float(x) for x in row)))
b = fvecs(base)
write(out + "/ft.tsv", b, range(1, len(b) + 1))
q = fvecs(queries)
write(out + "/ftq.tsv", q, range(len(q)))
g = np.fromfile(gt, dtype=np.int32).reshape(-1, 101)[:, 1:11] + 1
with open(out + "/ftgt.tsv", "w") as f:
    for i, row in enumerate(g):
        f.write("%d\t{%s}\n" % (i, ",".join(map(str, row))))
PY
	chmod -R a+rX "$tsv"
	psql_b <<EOF
CREATE TABLE ft (id int PRIMARY KEY, v real[]);
COPY ft FROM '$tsv/ft.tsv';
CREATE TABLE ftq (id int PRIMARY KEY, v real[]);
COPY ftq FROM '$tsv/ftq.tsv';
CREATE TABLE ftgt (id int PRIMARY KEY, ids int[]);
COPY ftgt FROM '$tsv/ftgt.tsv';
ANALYZE ftq; ANALYZE ftgt;
EOF
	rm -f "$tsv"/ft*.tsv
	nrows=$(psql_b -c "SELECT count(*) FROM ft")
	run_set fasttext1m ft quarry_cosine_ops '<=>' $((nrows * 100 * 4)) ftq ftgt
fi

echo "== report"
cpu=$(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "# quarry_hnsw vector layouts"
	echo
	echo "m = 16 (a layout named STORAGE-mM: m = M), ef_construction = 64, one backend, vectors STORAGE PLAIN;"
	echo "$(date -u +%Y-%m-%d), $(nproc) x $cpu."
	echo "Load average at the start $load_start, at the end $load (other work on the machine shows in every"
	echo "timing; the layouts were measured one after the other at each ef_search, so compare ratios)."
	echo "Command: \`BENCH_LAYOUTS=\"${layouts[*]}\" BENCH_EFS=\"${efs[*]}\" bench/hnsw_layouts.sh\` (BENCH_1M=${BENCH_1M:-0}; queries per ef_search: $nq)."
	echo
	echo "## Build and size"
	echo
	echo "| set | layout | CREATE INDEX | index size | / raw float32 vectors | build arena peak |"
	echo "|---|---|---|---|---|---|"
	awk -F'\t' '{printf "| %s | %s | %.1f s | %.1f MB | %.3f x | %d MB |\n", $1, $2, $3, $4 / 1e6, $4 / $5, $6 / 1e6}' "$builds"
	for set in $(cut -f1 "$builds" | sort -u); do
		echo
		echo "## Recall@10 / queries per second: $set"
		echo
		awk -F'\t' -v s="$set" -v ls="${layouts[*]}" -v efs="${efs[*]}" -f bench/hnsw_layouts_report.awk "$sweep"
	done
} >"$out/$name.md"
cp "$builds" "$out/$name.builds.tsv"
cat "$out/$name.md"
