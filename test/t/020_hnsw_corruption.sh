#!/usr/bin/env bash
# quarry_hnsw with an index page overwritten on disk: every statement either
# succeeds or fails with an ERROR naming the index (never a crash, never rows
# out of distance order), and REINDEX brings back exact answers and a clean
# quarry_verify_index. Everything runs on each layout (storage = 'full',
# 'sq8', 'sq4': float vectors, or a code header and 8- or 4-bit codes).
#
#   1. For three seeds on full and one each on sq8 and sq4, nine indexes of
#      2,000 random 16-d vectors each: the server is stopped, one page of
#      each index is overwritten with dd
#      (the metapage, a node page or a random block; with random bytes, zeros,
#      or random bytes under the page's own header and special space, which
#      pass PostgreSQL's and quarry's page checks), the server is started and
#      24 statements run against each: ordered scans, a filtered (iterative)
#      scan, a NULL-query scan, inserts, DELETE + VACUUM, quarry_verify_index,
#      quarry_hnsw_index_info. The outcome of each case is printed: one
#      letter per statement in that order (S succeeded, E ERROR naming the
#      index), the verifier's count, the most frequent messages.
#   2. Controlled corruption of node records of 21-d indexes, at offsets
#      computed for each layout's record: (a) per layout a self-link, a link
#      past the node count, a NaN in the vector or code header, and one on
#      the second page of a record that straddles two; (b) for sq8 and sq4,
#      one index per code corruption (a NaN lo, err or norm, a negative step
#      or err, a step whose codes decode past the float range, nonzero
#      padding, a norm of 2 under cosine). quarry_verify_index names each;
#      scans succeed with rows in distance order or fail with an ERROR
#      naming the index, and a scan for a corrupted row's own vector finds
#      it or fails where a scan can tell (what is not finite).
#   2c. The metapage's zero-vector mark on cosine indexes whose null-row list
#      holds zero vectors: set by the build; a mark denying them is reported
#      by the verifier, one of no such state (3) fails statements with an
#      ERROR naming the index.
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
-- A deterministic pseudo-random vector (16-d unless told) for (seed, g).
CREATE FUNCTION vec(seed int, g int, dims int DEFAULT 16) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint8(seed * 1000003::bigint + g * 64 + d)) % 10000)::real / 100
                 FROM generate_series(1, dims) d) $$;
-- Whether the index's top k for q equals exact search (distances compared),
-- by L2 (op '<->') or cosine distance ('<=>').
CREATE FUNCTION exact_top(tab regclass, q real[], k int, op text DEFAULT '<->') RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    by_index float8[];
    exact float8[];
    fn text := CASE op WHEN '<=>' THEN 'quarry_cosine_distance' ELSE 'quarry_l2_distance' END;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL quarry.hnsw_ef_search = 1000;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM %s ORDER BY v %s $1 LIMIT %s) s', op, tab, op, k)
        INTO by_index USING q;
    EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT %s(v, $1) AS d FROM %s
                    WHERE v IS NOT NULL ORDER BY 1 LIMIT %s) s', fn, tab, k) INTO exact USING q;
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

declare -A case_index case_path case_block case_kind case_target case_number case_layout case_table case_op case_dims
seeds=(1 2 3)
kinds=(random zeros header)
targets=(meta node any)
# The layouts, the prefix of their tables' names (full keeps "c"), and
# their seeds: every target and kind on each layout, three times on full
# (page checks are the same for all layouts; records are not).
layouts=(full sq8 sq4)
declare -A prefix=([full]=c [sq8]=q8_ [sq4]=q4_)
declare -A layout_seeds=([full]="${seeds[*]}" [sq8]=1 [sq4]=2)

# --- 1. garbage pages -----------------------------------------------------------
cases=()
for li in "${!layouts[@]}"; do
	layout=${layouts[$li]}
	for seed in ${layout_seeds[$layout]}; do
		n=0
		for target in "${targets[@]}"; do
			for kind in "${kinds[@]}"; do
				n=$((n + 1))
				name="${prefix[$layout]}${seed}_$n"
				psql_t <<EOF || exit 1
CREATE TABLE $name (id int PRIMARY KEY, v real[]);
INSERT INTO $name SELECT g, vec($seed * 10 + $n, g) FROM generate_series(1, 2000) g;
CREATE INDEX ${name}_v ON $name USING quarry_hnsw (v quarry_l2_ops)
    WITH (m = 8, ef_construction = 32, storage = '$layout');
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
				# Other random bytes for each layout (full's as before).
				case_number[$name]=$((li * 1000 + seed * 100 + n))
				case_layout[$name]=$layout
				cases+=("$name")
			done
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
	seed=${name#"${prefix[${case_layout[$name]}]}"}
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
	label="${case_layout[$name]}, seed $seed, ${case_target[$name]} page (block ${case_block[$name]}), ${case_kind[$name]}: ${#results[@]} statements $codes, $n_ok succeeded, $n_err ERROR naming the index; verifier: $verifier"
	if [[ ${#bad[@]} -eq 0 ]]; then
		ok "$label${distinct:+ [$distinct]}"
	else
		not_ok "$label; unexpected: ${bad[0]}"
	fi
done

# --- 2. controlled corruption of node records -----------------------------------
# 21-d vectors (sq8's codes end in 3 bytes of padding, sq4's in a padding
# nibble and a byte). Record arithmetic of src/am/hnsw/README.md, "On-disk
# format".
ctl_dims=21
links_end=$((20 + 4 * 2 * 8)) # NodeHeader, links0[2m] (m = 8): the stored vector starts here
# Bytes of a stored vector: dims floats, or CodeHeader {lo, step, err, norm}
# and codes padded to 4 bytes (StoredVectorBytes, src/hnsw/quantizer.h).
vector_bytes() { # layout dims
	case $1 in
		full) echo $((4 * $2)) ;;
		sq8) echo $((16 + ($2 + 3) / 4 * 4)) ;;
		sq4) echo $((16 + (($2 + 1) / 2 + 3) / 4 * 4)) ;;
	esac
}
# Byte offset in the file of byte `at` of node `node`'s record (one extent
# of node pages from block 1, 8,160 payload bytes after a 24-byte header).
record_byte() { # record-size node at
	local byte=$(($2 * $1 + $3))
	echo $(((1 + byte / 8160) * 8192 + 24 + byte % 8160))
}
# The first node whose record bytes [from, to) cross the end of a page, and
# the offset in its record of the first of them on the next page.
straddling() { # record-size from to
	local n start next
	for ((n = 0; n < 2000; n++)); do
		start=$((n * $1))
		next=$(((start + $2) / 8160 * 8160 + 8160))
		if ((next < start + $3)); then
			echo "$n $((next - start))"
			return
		fi
	done
}
# Writes at byte `offset` of a file: u32 (an integer), u8 (one byte), f32 (a
# float: nan, -1, 3e38) or or8 (bits ORed into one byte).
poke() { # file offset type value
	python3 - "$@" <<'PYEOF'
import struct, sys
path, offset, kind, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path, "r+b") as f:
    f.seek(offset)
    if kind == "u32":
        f.write(struct.pack("<I", int(value, 0)))
    elif kind == "u8":
        f.write(bytes([int(value, 0)]))
    elif kind == "f32":
        f.write(struct.pack("<f", float(value)))
    else:
        old = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([old | int(value, 0)]))
PYEOF
}
# The heap TID in a node's record (NodeHeader bytes 4-9: block hi, lo, offset).
record_tid() { # file record-size node
	python3 - "$1" "$(record_byte "$2" "$3" 4)" "$(record_byte "$2" "$3" 6)" "$(record_byte "$2" "$3" 8)" <<'PYEOF'
import struct, sys
f = open(sys.argv[1], "rb")
hi, lo, off = (struct.unpack("<H", (f.seek(int(a)), f.read(2))[1])[0] for a in sys.argv[2:5])
print(f"({hi << 16 | lo},{off})")
PYEOF
}
ctl_writes=()                              # "index record-size node at type value", applied by corrupt_ctl
declare -A ctl_expected ctl_tids ctl_file # per index: the verifier's expected messages (one a line), ...
ctl_indexes=()
# Corrupts byte `at` of node `node`'s record (of size rs) in `index`, and
# expects the verifier to say `message`.
expect() { # index rs node at type value message
	ctl_writes+=("$1 $2 $3 $4 $5 $6")
	ctl_expected[$1]+="$7"$'\n'
}
# A table of the 21-d rows and an index on it, whose records fill as many
# node pages as the arithmetic says.
ctl_index() { # table layout opclass source-table
	local source="SELECT g, vec(5, g, $ctl_dims) FROM generate_series(1, 2000) g"
	[[ -n ${4:-} ]] && source="SELECT * FROM $4"
	psql_t <<EOF || exit 1
CREATE TABLE $1 (id int PRIMARY KEY, v real[]);
INSERT INTO $1 $source;
CREATE INDEX $1_v ON $1 USING quarry_hnsw (v $3) WITH (m = 8, ef_construction = 32, storage = '$2');
EOF
	local rs=$((links_end + $(vector_bytes "$2" $ctl_dims)))
	local node_pages
	node_pages=$(psql_t -c "SELECT node_pages FROM quarry_hnsw_index_info('$1_v')")
	if [[ $node_pages != $(((2000 * rs + 8159) / 8160)) ]]; then
		not_ok "$1_v: records of $rs bytes do not fill its $node_pages node pages"
	fi
	ctl_indexes+=("$1_v")
	case_table[$1_v]=$1
	case_op[$1_v]=$([[ $3 == quarry_cosine_ops ]] && echo '<=>' || echo '<->')
	ctl_file[$1_v]=$data/$(psql_t -c "SELECT pg_relation_filepath('$1_v')")
}

# 2a. Per layout, one index with a self-link, a link past the node count, a
# NaN in the first field of a vector (a float, or the code header's lo) and
# one in the part of a record that straddles two pages.
for layout in "${layouts[@]}"; do
	name=ctl_$layout
	ctl_index "$name" "$layout" quarry_l2_ops
	idx=${name}_v
	rs=$((links_end + $(vector_bytes "$layout" $ctl_dims)))
	expect "$idx" $rs 5 20 u32 5 "node 5 links to itself on layer 0"
	expect "$idx" $rs 6 20 u32 999999 "node 6 links to node 999999 on layer 0"
	if [[ $layout == full ]]; then
		expect "$idx" $rs 7 $links_end f32 nan "node 7: element 1 of its vector is not finite"
		read -r node at <<<"$(straddling $rs $links_end $rs)"
		expect "$idx" $rs "$node" "$at" f32 nan "node $node: element $(((at - links_end) / 4 + 1)) of its vector is not finite"
	else
		expect "$idx" $rs 7 $links_end f32 nan "node 7: a code header field is not finite"
		read -r node at <<<"$(straddling $rs $links_end $((links_end + 16)))"
		expect "$idx" $rs "$node" "$at" f32 nan "node $node: a code header field is not finite"
	fi
	ok "$idx: records of $rs bytes; node $node's straddles a page's end at byte $at"
done

# 2b. sq8 and sq4: one index per corruption of node 7's code header or
# padding. `found`: a scan for that row's own vector either returns it
# first or fails with an ERROR naming the index (what a scan can see: a
# value that is not finite). `any`: wrong contents a scan cannot tell from
# sound ones, which may lose the row until REINDEX (the README's "What
# remains"): only the verifier must see them. Under cosine a NaN err or
# norm leaves the distance to the codes finite (it divides by the norm only
# when that is > 0) but makes the rerank's lower bound NaN: the scan checks
# that bound (DiskGraph::LowerBound) as it checks distances.
code_cases=(
	# key opclass byte(of the code header; pad: the record's last, nibble: sq4's last code) type value expect message
	"lo_nan l2 0 f32 nan found a code header field is not finite"
	"err_nan l2 8 f32 nan found a code header field is not finite"
	"step_big l2 4 f32 3e38 found the codes decode to values that are not finite"
	"step_neg l2 4 f32 -1 any a code header field is negative"
	"err_neg l2 8 f32 -1 any a code header field is negative"
	"pad l2 pad or8 0x01 found the padding after the codes is not zero"
	"nibble l2 nibble or8 0xf0 found the padding after the codes is not zero"
	"cerr_nan cosine 8 f32 nan found a code header field is not finite"
	"cnorm_nan cosine 12 f32 nan found a code header field is not finite"
	"cnorm_2 cosine 12 f32 2 any its codes decode to norm 2 in a cosine index"
)
declare -A code_expect
for layout in sq8 sq4; do
	rs=$((links_end + $(vector_bytes "$layout" $ctl_dims)))
	for c in "${code_cases[@]}"; do
		read -r key ops at type value expectation message <<<"$c"
		[[ $key == nibble && $layout != sq4 ]] && continue
		case $at in
			pad) at=$((rs - 1)) ;;
			nibble) at=$((links_end + 16 + ctl_dims / 2)) ;; # 21 codes: the high nibble of byte 10
			*) at=$((links_end + at)) ;;
		esac
		name=code_${layout}_$key
		ctl_index "$name" "$layout" "quarry_${ops}_ops" "ctl_$layout"
		expect "${name}_v" $rs 7 "$at" "$type" "$value" "node 7: $message"
		code_expect[${name}_v]=$expectation
	done
done

corrupt_ctl() {
	local w idx rs node at type value
	for w in "${ctl_writes[@]}"; do
		read -r idx rs node at type value <<<"$w"
		ctl_tids[$idx]+="'$(record_tid "${ctl_file[$idx]}" "$rs" "$node")',"
		poke "${ctl_file[$idx]}" "$(record_byte "$rs" "$node" "$at")" "$type" "$value"
	done
}
restart corrupt_ctl

# Runs one ordered scan of `tab` for row `q`'s vector; sets scan_result to
# ok (rows in distance order), error (an ERROR naming the index) or bad,
# and scan_rows to "id:distance,...".
scan_row() { # index q [setting...]
	local idx=$1 q=$2 tab=${case_table[$1]} op=${case_op[$1]} r
	shift 2
	r=$(run "$@" -c "SELECT string_agg(id || ':' || (v $op vec(5, $q, $ctl_dims)), ',')
	                 FROM (SELECT id, v FROM $tab ORDER BY v $op vec(5, $q, $ctl_dims) LIMIT 10) s")
	statements=$((statements + 1))
	scan_rows=${r#* }
	case $r in
		ok*)
			scan_result=ok
			if ! sort -g -C < <(tr ',' '\n' <<<"$scan_rows" | cut -d: -f2); then
				scan_result=bad
				scan_rows="rows out of distance order: $scan_rows"
			fi
			;;
		"error"*"\"$idx\""*) scan_result=error ;;
		*) scan_result=bad scan_rows=$r ;;
	esac
}

for idx in "${ctl_indexes[@]}"; do
	tab=${case_table[$idx]}
	report=$(psql_t -c "SELECT * FROM quarry_verify_index('$idx')" 2>&1)
	echo "$report" | sed "s/^/  # $idx: /"
	while IFS= read -r expected; do
		[[ -z $expected ]] && continue
		if grep -qF "$expected" <<<"$report"; then
			ok "$idx: quarry_verify_index reports \"$expected\""
		else
			not_ok "$idx: quarry_verify_index does not report \"$expected\""
		fi
	done <<<"${ctl_expected[$idx]}"
	corrupted_rows=$(psql_t -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM $tab
	                            WHERE ctid = ANY(ARRAY[${ctl_tids[$idx]%,}]::tid[])")
	cases+=("$idx")
	case_index[$idx]=$idx
	case_dims[$idx]=$ctl_dims
	if [[ -n ${code_expect[$idx]:-} ]]; then
		# 2b: the corrupted row's own vector, searched widely (ef_search 400
		# of 2,000 rows: a sound index returns the row first).
		scan_row "$idx" "$corrupted_rows" -c "SET quarry.hnsw_ef_search = 400"
		found=$([[ $scan_result == ok && $scan_rows == "$corrupted_rows:"* ]] && echo yes || echo no)
		label="$idx: a scan for the corrupted row $corrupted_rows"
		if [[ $scan_result == bad ]]; then
			not_ok "$label: $scan_rows"
		elif [[ $scan_result == error ]]; then
			ok "$label fails with an ERROR naming the index"
		elif [[ $found == yes ]]; then
			ok "$label returns it first"
		elif [[ ${code_expect[$idx]} == any ]]; then
			ok "$label succeeds without it (rows in distance order; the verifier reports it)"
		else
			not_ok "$label succeeds without it, and without an ERROR: ${scan_rows:0:80}"
		fi
		continue
	fi
	# 2a: scans for the vectors of rows 1..40 and of the corrupted nodes'
	# rows: each succeeds with its rows in distance order, or fails with an
	# ERROR naming the index, and some meet the corruption.
	n_err=0
	n_ok=0
	bad=()
	for q in $(seq 1 40) $corrupted_rows; do
		scan_row "$idx" "$q"
		case $scan_result in
			ok) n_ok=$((n_ok + 1)) ;;
			error) n_err=$((n_err + 1)) ;;
			*) bad+=("$scan_rows") ;;
		esac
	done
	if [[ ${#bad[@]} -eq 0 && $n_err -gt 0 ]]; then
		ok "$idx: scans of the corrupted records: $n_ok succeeded, $n_err ERROR naming the index"
	else
		not_ok "$idx: scans of the corrupted records: $n_ok succeeded, $n_err errors; unexpected: ${bad[0]:-no scan met the corruption}"
	fi
done

# 2c. The metapage's zero-vector mark (MetaPage::zero_vectors: byte 18 of its
# content, after the 24-byte page header): cosine indexes whose null-row
# lists hold zero vectors (every 10th row; every 10th + 1 is NULL). The build
# marks them (2); marked 1 instead ("never held one"), the verifier reports
# it (scans would return those rows among the NULL ones); marked 3 (no such
# state), statements fail with an ERROR naming the index.
zero_meta_byte=$((24 + 18))
declare -A zero_file
for name in zero_denied zero_bad; do
	psql_t <<EOF || exit 1
CREATE TABLE $name (id int PRIMARY KEY, v real[]);
INSERT INTO $name SELECT g, CASE g % 10 WHEN 0 THEN array_fill(0::real, ARRAY[16]) WHEN 1 THEN NULL
                                        ELSE vec(6, g) END FROM generate_series(1, 500) g;
CREATE INDEX ${name}_v ON $name USING quarry_hnsw (v quarry_cosine_ops);
EOF
	zero_file[$name]=$data/$(psql_t -c "SELECT pg_relation_filepath('${name}_v')")
	cases+=("$name")
	case_index[$name]=${name}_v
	case_table[$name]=$name
	case_op[$name]='<=>'
done
psql_t -c "CHECKPOINT" >/dev/null
mark=$(od -An -tu1 -j $zero_meta_byte -N1 "${zero_file[zero_denied]}" | tr -d ' ')
if [[ $mark == 2 ]]; then
	ok "zero_denied_v: the build marked the metapage (zero vectors held)"
else
	not_ok "zero_denied_v: the metapage's zero-vector mark is '$mark', not 2"
fi
corrupt_zero() {
	poke "${zero_file[zero_denied]}" $zero_meta_byte u8 1
	poke "${zero_file[zero_bad]}" $zero_meta_byte u8 3
}
restart corrupt_zero
report=$(psql_t -c "SELECT * FROM quarry_verify_index('zero_denied_v')" 2>&1)
echo "$report" | sed "s/^/  # zero_denied_v: /"
if grep -qF "the null-row list holds a zero vector, but the metapage says it never held one" <<<"$report"; then
	ok "zero_denied_v: quarry_verify_index reports the zero vectors the metapage denies"
else
	not_ok "zero_denied_v: quarry_verify_index does not report the zero vectors the metapage denies"
fi
for statement in "SELECT id FROM zero_bad ORDER BY v <=> vec(6, 1) LIMIT 5" "INSERT INTO zero_bad VALUES (1000, vec(6, 1000))"; do
	r=$(run -c "$statement")
	statements=$((statements + 1))
	if [[ $r == error*'"zero_bad_v"'* ]]; then
		ok "zero_bad_v: '${statement:0:40}' fails with an ERROR naming the index"
	else
		not_ok "zero_bad_v: '${statement:0:40}': $r"
	fi
done
report=$(psql_t -c "SELECT * FROM quarry_verify_index('zero_bad_v')" 2>&1)
if grep -qF "zero-vector state 3" <<<"$report"; then
	ok "zero_bad_v: quarry_verify_index reports the mark"
else
	not_ok "zero_bad_v: quarry_verify_index does not report the mark: $report"
fi

# --- 3. REINDEX ----------------------------------------------------------------
for name in "${cases[@]}"; do
	idx=${case_index[$name]}
	r=$(run -c "REINDEX INDEX $idx")
	problems=$(psql_t -c "SELECT count(*) FROM quarry_verify_index('$idx')" 2>&1)
	exact=$(psql_t -c "SELECT count(*) FILTER (WHERE exact_top('${case_table[$name]:-$name}',
	                   vec(80, q, ${case_dims[$name]:-16}), 10, '${case_op[$name]:-<->}')) FROM generate_series(1, 10) q" 2>&1)
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
