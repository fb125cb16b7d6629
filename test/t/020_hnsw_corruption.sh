#!/usr/bin/env bash
# quarry_hnsw with an index page overwritten on disk: every statement either
# succeeds or fails with an ERROR naming the index (never a crash, never rows
# out of distance order), and REINDEX brings back exact answers and a clean
# quarry_verify_index.
#
#   1. For three seeds, nine indexes of 2,000 random 16-d vectors each: the
#      server is stopped, one page of each index is overwritten with dd
#      (the metapage, a node page or a random block; with random bytes, zeros,
#      or random bytes under the page's own header and special space, which
#      pass PostgreSQL's and quarry's page checks), the server is started and
#      24 statements run against each: ordered scans, a filtered (iterative)
#      scan, a NULL-query scan, inserts, DELETE + VACUUM, quarry_verify_index,
#      quarry_hnsw_index_info. The outcome of each case is printed: one
#      letter per statement in that order (S succeeded, E ERROR naming the
#      index), the verifier's count, the most frequent messages.
#   2. Controlled corruption of three node records (a self-link, a link past
#      the node count, a NaN in a vector): quarry_verify_index names each.
#   3. After REINDEX: 10 queries per index equal exact search and the verifier
#      reports nothing; the server log shows no crash.
#
# TAP-style output ("ok - ..." / "not ok - ..."); exits non-zero on failure.
set -uo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"

dir=$QUARRY_WORKSPACE/cluster
mkdir -p "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
port=$(free_port)
trap 'cluster_stop "$dir"' EXIT
cluster_start "$dir" "$port" "lc_messages='C'" "autovacuum=off" || exit 1
data=$dir/data
psql_t() { cluster_psql "$dir" "$port" -q -At "$@"; }

tests=0
failures=0
ok() {
	tests=$((tests + 1))
	echo "ok - $*"
}
not_ok() {
	tests=$((tests + 1))
	failures=$((failures + 1))
	echo "not ok - $*"
}

restart() {
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	"$@"
	as_cluster_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

psql_t <<'EOF' || exit 1
CREATE EXTENSION quarry;
-- A deterministic pseudo-random 16-d vector for (seed, g).
CREATE FUNCTION vec(seed int, g int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint8(seed * 1000003::bigint + g * 64 + d)) % 10000)::real / 100
                 FROM generate_series(1, 16) d) $$;
-- Whether the index's top k for q equals exact search (distances compared).
CREATE FUNCTION exact_top(tab regclass, q real[], k int) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    by_index float8[];
    exact float8[];
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL quarry.hnsw_ef_search = 1000;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT v <-> $1 AS d FROM %s ORDER BY v <-> $1 LIMIT %s) s', tab, k)
        INTO by_index USING q;
    EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT quarry_l2_distance(v, $1) AS d FROM %s
                    WHERE v IS NOT NULL ORDER BY 1 LIMIT %s) s', tab, k) INTO exact USING q;
    RETURN by_index = exact;
END $$;
EOF

# Bytes for one page: random | zeros | header (random under the page's own
# header and special space). Deterministic per (seed, case).
make_page() { # kind case block original-page-file out-file
	python3 - "$@" <<'PYEOF'
import random, sys
kind, case, block, original, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(case * 100000 + block)
page = bytes(rng.getrandbits(8) for _ in range(8192))
if kind == "zeros":
    page = bytes(8192)
elif kind == "header":
    orig = open(original, "rb").read()
    page = orig[:24] + page[24:8184] + orig[8184:]
open(out, "wb").write(page)
PYEOF
}

# Runs one statement; prints "ok", "error <message>" or "crash <message>".
run() { # sql...
	local out rc
	out=$(cluster_psql "$dir" "$port" -q -At -c "SET enable_seqscan = off" "$@" 2>&1)
	rc=$?
	if [[ $rc -eq 0 ]]; then
		echo "ok $out"
	elif grep -q "^ERROR:" <<<"$out"; then
		echo "error $(grep -m1 "^ERROR:" <<<"$out")"
	else
		echo "crash $(head -1 <<<"$out")"
	fi
}

declare -A case_index case_path case_block case_kind case_target case_number
seeds=(1 2 3)
kinds=(random zeros header)
targets=(meta node any)

# --- 1. garbage pages -----------------------------------------------------------
cases=()
for seed in "${seeds[@]}"; do
	n=0
	for target in "${targets[@]}"; do
		for kind in "${kinds[@]}"; do
			n=$((n + 1))
			name="c${seed}_$n"
			psql_t <<EOF || exit 1
CREATE TABLE $name (id int PRIMARY KEY, v real[]);
INSERT INTO $name SELECT g, vec($seed * 10 + $n, g) FROM generate_series(1, 2000) g;
CREATE INDEX ${name}_v ON $name USING quarry_hnsw (v quarry_l2_ops) WITH (m = 8, ef_construction = 32);
EOF
			IFS='|' read -r node_pages total_pages <<<"$(psql_t -c "SELECT node_pages, total_pages FROM quarry_hnsw_index_info('${name}_v')")"
			case $target in
				meta) block=0 ;;
				node) block=$((1 + (seed * 7919 + n * 31) % node_pages)) ;;
				any) block=$(((seed * 104729 + n * 613) % total_pages)) ;;
			esac
			case_index[$name]=${name}_v
			case_path[$name]=$(psql_t -c "SELECT pg_relation_filepath('${name}_v')")
			case_block[$name]=$block
			case_kind[$name]=$kind
			case_target[$name]=$target
			case_number[$name]=$((seed * 100 + n))
			cases+=("$name")
		done
	done
done

corrupt_all() {
	local name file
	for name in "${cases[@]}"; do
		file=$data/${case_path[$name]}
		dd if="$file" of="$dir/orig.page" bs=8192 skip="${case_block[$name]}" count=1 status=none
		make_page "${case_kind[$name]}" "${case_number[$name]}" "${case_block[$name]}" "$dir/orig.page" "$dir/bad.page"
		dd if="$dir/bad.page" of="$file" bs=8192 seek="${case_block[$name]}" count=1 conv=notrunc status=none
	done
}
restart corrupt_all

statements=0
for name in "${cases[@]}"; do
	idx=${case_index[$name]}
	path=${case_path[$name]}
	seed=${name#c}
	seed=${seed%%_*}
	n_ok=0
	n_err=0
	bad=()
	messages=()
	results=()
	for q in $(seq 1 12); do
		results+=("$(run -c "SELECT string_agg((v <-> vec(77, $q))::text, ',') FROM (SELECT v FROM $name ORDER BY v <-> vec(77, $q) LIMIT 10) s")")
	done
	results+=("$(run -c "SET quarry.hnsw_max_scan_tuples = 100000" -c "SELECT count(*) FROM (SELECT id FROM $name WHERE id % 10 = 3 ORDER BY v <-> vec(78, 1) LIMIT 10) s")")
	# A NULL query (a parameter, or the planner would drop the ORDER BY) reads
	# every slot in node order.
	results+=("$(run -c "SELECT count(*) FROM (SELECT id FROM $name ORDER BY v <-> (SELECT NULL::real[])) s")")
	for k in 1 2 3 4 5; do
		results+=("$(run -c "INSERT INTO $name VALUES ($((100000 + k)), vec(79, $k))")")
	done
	results+=("$(run -c "DELETE FROM $name WHERE id % 17 = 0")")
	results+=("$(run -c "VACUUM (INDEX_CLEANUP ON) $name")")
	verify_at=${#results[@]}
	results+=("$(run -c "SELECT count(*) FROM quarry_verify_index('$idx')")")
	results+=("$(run -c "SELECT slots, live FROM quarry_hnsw_index_info('$idx')")")
	results+=("$(run -c "SELECT id FROM $name ORDER BY v <-> vec(77, 1) LIMIT 1")")
	codes=""
	verifier=""
	for i in "${!results[@]}"; do
		r=${results[$i]}
		statements=$((statements + 1))
		status=${r%% *}
		rest=${r#* }
		codes+=$([[ $status == ok ]] && echo S || echo E)
		[[ $i -eq $verify_at ]] && verifier=$([[ $status == ok ]] && echo "$rest problems" || echo "ERROR")
		if [[ $status == ok ]]; then
			n_ok=$((n_ok + 1))
			# An ordered scan that succeeded returns its rows nearest first.
			if [[ $rest == *,* ]] && ! sort -g -C < <(tr ',' '\n' <<<"$rest"); then
				bad+=("rows out of distance order: $rest")
			fi
		elif [[ $status == error && ( $rest == *"\"$idx\""* || $rest == *"$path"* ) ]]; then
			n_err=$((n_err + 1))
			messages+=("${rest#ERROR:  }")
		else
			bad+=("$r")
		fi
	done
	distinct=$(printf '%s\n' "${messages[@]}" | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -3 |
		awk '{$1 = $1 "x"; print}' | paste -sd';' -)
	label="seed $seed, ${case_target[$name]} page (block ${case_block[$name]}), ${case_kind[$name]}: ${#results[@]} statements $codes, $n_ok succeeded, $n_err ERROR naming the index; verifier: $verifier"
	if [[ ${#bad[@]} -eq 0 ]]; then
		ok "$label${distinct:+ [$distinct]}"
	else
		not_ok "$label; unexpected: ${bad[0]}"
	fi
done

# --- 2. controlled corruption of node records -----------------------------------
psql_t <<'EOF' || exit 1
CREATE TABLE ctl (id int PRIMARY KEY, v real[]);
INSERT INTO ctl SELECT g, vec(5, g) FROM generate_series(1, 2000) g;
CREATE INDEX ctl_v ON ctl USING quarry_hnsw (v quarry_l2_ops) WITH (m = 8, ef_construction = 32);
EOF
ctl_file=$data/$(psql_t -c "SELECT pg_relation_filepath('ctl_v')")
record_size=$((20 + 4 * 16 + 4 * 16)) # header, 2m links, 16 floats
# Byte offset in the file of byte `at` of node `node`'s record (one extent
# of node pages from block 1, 8,160 payload bytes after a 24-byte header).
record_byte() { # node at
	local byte=$(($1 * record_size + $2))
	echo $(((1 + byte / 8160) * 8192 + 24 + byte % 8160))
}
write_u32() { # file offset value
	python3 -c "import struct,sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); f.write(struct.pack('<I', int(sys.argv[3], 0)))" "$@"
}
corrupt_ctl() {
	write_u32 "$ctl_file" "$(record_byte 5 20)" 5          # node 5: first link to itself
	write_u32 "$ctl_file" "$(record_byte 6 20)" 999999     # node 6: first link past the node count
	write_u32 "$ctl_file" "$(record_byte 7 84)" 0x7fc00000 # node 7: NaN as its first element
}
restart corrupt_ctl
report=$(psql_t -c "SELECT * FROM quarry_verify_index('ctl_v')" 2>&1)
echo "$report" | sed 's/^/  # /'
for expected in "node 5 links to itself on layer 0" "node 6 links to node 999999 on layer 0" \
	"node 7: element 1 of its vector is not finite"; do
	if grep -qF "$expected" <<<"$report"; then
		ok "quarry_verify_index reports \"$expected\""
	else
		not_ok "quarry_verify_index does not report \"$expected\""
	fi
done
n_err=0
n_ok=0
bad=()
for q in $(seq 1 40); do
	r=$(run -c "SELECT count(*) FROM (SELECT id FROM ctl ORDER BY v <-> vec(5, $q) LIMIT 10) s")
	statements=$((statements + 1))
	case $r in
		ok*) n_ok=$((n_ok + 1)) ;;
		"error"*'"ctl_v"'*) n_err=$((n_err + 1)) ;;
		*) bad+=("$r") ;;
	esac
done
if [[ ${#bad[@]} -eq 0 && $n_err -gt 0 ]]; then
	ok "scans of the corrupted records: $n_ok succeeded, $n_err ERROR naming the index"
else
	not_ok "scans of the corrupted records: $n_ok succeeded, $n_err errors; unexpected: ${bad[0]:-no scan met the corruption}"
fi
cases+=(ctl)
case_index[ctl]=ctl_v

# --- 3. REINDEX ----------------------------------------------------------------
for name in "${cases[@]}"; do
	idx=${case_index[$name]}
	r=$(run -c "REINDEX INDEX $idx")
	problems=$(psql_t -c "SELECT count(*) FROM quarry_verify_index('$idx')" 2>&1)
	exact=$(psql_t -c "SELECT count(*) FILTER (WHERE exact_top('$name', vec(80, q), 10)) FROM generate_series(1, 10) q" 2>&1)
	statements=$((statements + 3))
	if [[ $r == ok* && $problems == 0 && $exact == 10 ]]; then
		ok "$idx after REINDEX: verifier clean, 10 of 10 queries exact"
	else
		not_ok "$idx after REINDEX: $r; verifier: $problems; exact queries: $exact of 10"
	fi
done

if grep -E "terminated by signal|PANIC|TRAP:|server process .* was terminated" "$dir/server.log"; then
	not_ok "the server log shows a crash"
else
	ok "no crash in the server log ($statements statements, ${#cases[@]} corrupted indexes)"
fi
echo "1..$tests"
[[ $failures -eq 0 ]]
