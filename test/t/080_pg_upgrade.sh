#!/usr/bin/env bash
# pg_upgrade from PostgreSQL 15 to each version in QUARRY_UPGRADE_TO (default
# "17 18"), with both of quarry's index types in the cluster, from this quarry
# and from quarry 0.1.0 (the version users have):
#   1. two 15 clusters (binaries in PG_BINDIR15, default the system's): "15"
#      with this quarry, "0.1.0" with quarry 0.1.0 (built from this clone's
#      history into build/quarry-0.1.0, installed in a private copy of 15 in the
#      workspace; its quarry_bm25 indexes are format 2, which knows the text
#      search configuration by OID only). In each, table docs: 2,000 rows with a
#      text and a real[16], one row in 40 with NULLs, under five indexes:
#      quarry_bm25 with text_config 'english' (a configuration initdb creates:
#      its OID differs from one major version to the next, checked), 'simple'
#      (pinned: a fixed OID, no dependency recorded), "Cfg Schema"."Docs Cfg"
#      (the user's, unlike both, with a decoy "Docs Cfg" in public: a new OID
#      after pg_upgrade), none (built under default_text_search_config =
#      german, which neither new cluster has as its default), and quarry_hnsw
#      (L2); then 60 more rows (in the BM25 pending lists) and 3 with NULLs.
#      Recorded: the top 10 (ids and scores) of 3 BM25 queries on each
#      quarry_bm25 index (which differ from one index to the next, checked),
#      the top 10 ids of 3 vector queries; each is an index scan of its index;
#      quarry_verify_index reports nothing. README's pre-upgrade query lists
#      the ALTER INDEX statements to run: in "0.1.0" for docs_cfg_idx (0.1.0
#      took '"Docs Cfg"' unqualified, which a restore would not find, or find
#      as the decoy) and docs_default_idx; they are run there. In "15" (which
#      refuses '"Docs Cfg"' unqualified) it lists docs_default_idx, left
#      without text_config on purpose: the new cluster must find german by the
#      name the index records.
#   2. for each target N and each: a copy of the stopped 15 cluster is upgraded
#      with pg_upgrade (QUARRY_UPGRADE_MODE: --link, the default, or --copy)
#      into a fresh N cluster (no data checksums, as the 15 ones), as the
#      cluster user from a writable directory, with this quarry installed in
#      N's prefix; from "0.1.0", then ALTER EXTENSION quarry UPDATE.
#   3. each index as pg_upgrade left it: a scan, its statistics function, the
#      verifier, which must all work ("usable as is", checked). Should one fail,
#      the script also says whether it failed cleanly: an ERROR with an error
#      code of its own, not XX000 internal_error ("cache lookup failed ..."),
#      naming the index in its message, DETAIL or HINT, and REINDEX working.
#      Then: the recorded results equal 15's (results that differ without an
#      ERROR are a failure), the pending list is still there, the verifier
#      reports nothing; new rows are found through every index; DELETE, VACUUM,
#      quarry_bm25_merge; the verifier again.
# The system's PostgreSQL 15 (Debian 15.20) puts an attribute option pg_attver on
# every column, which 17 and 18 reject: pg_upgrade then fails for any table, quarry
# or not. The script says so (# NOTE) and retries with the option removed from the
# old cluster's user columns (QUARRY_UPGRADE_ATTVER=keep: no retry, a failure).
#
# Binaries of N: PG_BINDIR<N> if set (run.sh sets it), else
# $(test/build_pg.sh --prefix N)/bin. TAP-style output ("ok - ..." / "not ok -
# ..."), "# pg_upgrade FROM -> N: INDEX usable as is|needs REINDEX" per index;
# exits non-zero on failure.
set -uo pipefail
source "$QUARRY_REPO/test/lib/cluster.sh"
# pg_upgrade needs both clusters alike: no data checksums on either.
QUARRY_DATA_CHECKSUMS=0

targets=${QUARRY_UPGRADE_TO:-17 18}
mode=${QUARRY_UPGRADE_MODE:---link}
attver=${QUARRY_UPGRADE_ATTVER:-strip}
case $mode in
--link | --copy) ;;
*)
	echo "QUARRY_UPGRADE_MODE must be --link or --copy" >&2
	exit 2
	;;
esac
old_bindir=${PG_BINDIR15:-$(pg_config --bindir)}
ws=$QUARRY_WORKSPACE
mkdir -p "$ws"
[[ $(id -u) -eq 0 ]] && chown postgres: "$ws"

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
check() { # label command...: ok when the command succeeds (and the status of it)
	local label=$1
	shift
	if "$@"; then
		ok "$label"
	else
		not_ok "$label"
		return 1
	fi
}

running=() # "BINDIR|DIR" of the clusters to stop on exit
stop_running() {
	local c
	for c in "${running[@]}"; do PG_BINDIR=${c%%|*} cluster_stop "${c#*|}"; done
}
trap stop_running EXIT

# psql against the cluster in DIR on PORT with the binaries of PG_BINDIR; -At,
# errors on stderr. Output and status like psql's.
q() { # dir port sql...
	local dir=$1 port=$2
	shift 2
	cluster_psql "$dir" "$port" -q -At "$@"
}

indexes=(docs_en_idx docs_simple_idx docs_cfg_idx docs_default_idx docs_emb_idx)
bm25_indexes=(docs_en_idx docs_simple_idx docs_cfg_idx docs_default_idx)
bm25_queries=("index search" "upgrading replicas" "the quarry of postgres vectors")
vec_queries=("vec(7)" "vec(1234)" "vec(-5)")

# Writes the results of every recorded query to stdout: one line per row,
# "query|rank|id|score". Ties in score come back in index order, which REINDEX
# may change: ties are ordered by id within the top 10.
results() { # dir port
	local dir=$1 port=$2 idx text v
	for idx in "${bm25_indexes[@]}"; do
		for text in "${bm25_queries[@]}"; do
			q "$dir" "$port" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "
SELECT '$idx $text', row_number() OVER (ORDER BY s, id), id, s FROM (
    SELECT id, body <@> quarry_query('$text', '$idx') AS s FROM docs
    ORDER BY body <@> quarry_query('$text', '$idx') LIMIT 10) x ORDER BY s, id" || return 1
		done
	done
	for v in "${vec_queries[@]}"; do
		q "$dir" "$port" -c "SET enable_seqscan = off" -c "
SELECT 'hnsw $v', row_number() OVER (), id FROM (
    SELECT id FROM docs ORDER BY emb <-> $v LIMIT 10) x" || return 1
	done
}

# Each recorded query is an index scan of its index.
plans_use_indexes() { # dir port
	local dir=$1 port=$2 idx plan
	for idx in "${bm25_indexes[@]}"; do
		plan=$(q "$dir" "$port" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "EXPLAIN (COSTS OFF)
SELECT id FROM docs ORDER BY body <@> quarry_query('index search', '$idx') LIMIT 10") || return 1
		grep -q "Index Scan using $idx " <<<"$plan" || {
			echo "# not an index scan of $idx: $plan"
			return 1
		}
	done
	plan=$(q "$dir" "$port" -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF)
SELECT id FROM docs ORDER BY emb <-> vec(7) LIMIT 10") || return 1
	grep -q "Index Scan using docs_emb_idx " <<<"$plan" || {
		echo "# not an index scan of docs_emb_idx: $plan"
		return 1
	}
}

# The verifier's report for one index: nothing when it is sound.
verify() { # dir port index
	q "$1" "$2" -c "SELECT * FROM quarry_verify_index('$3')"
}

# --- 1. the PostgreSQL 15 clusters ----------------------------------------------
# The 15 cluster FROM ("15": this quarry; "0.1.0": quarry 0.1.0) in DIR, with the
# binaries of BINDIR: the table, the indexes (docs_cfg_idx WITH text_config = CFG),
# the recorded results in $ws/results-FROM.txt, each checked. Stopped after.
declare -A old_dir=() old_bin=() old_pending=() old_english=()
make_old_cluster() { # from dir bindir cfg
	local from=$1 dir=$2 bindir=$3 cfg=$4 port idx out want a b
	mkdir -p "$dir"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
	port=$(free_port)
	PG_BINDIR=$bindir
	echo "# old cluster $from: $("$bindir/pg_config" --version) ($bindir), pg_upgrade $mode"
	running+=("$bindir|$dir")
	cluster_start "$dir" "$port" "lc_messages='C'" "autovacuum=off" || return 1
	sed "s/@CFG@/$cfg/" <<'EOF' | q "$dir" "$port" -v ON_ERROR_STOP=1 >/dev/null || return 1
CREATE EXTENSION quarry;
-- Deterministic texts (words that stem in 'english') and 16-d vectors.
CREATE FUNCTION body(g int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg((ARRAY['index', 'indexes', 'indexing', 'search', 'searching', 'replica',
                              'replicas', 'upgrading', 'upgrade', 'quarry', 'postgres', 'vector',
                              'vectors', 'the', 'of', 'and', 'page', 'pages', 'tuple', 'heap',
                              'scan', 'scans', 'word' || (g % 31), 'term' || (g % 7)])
                      [1 + abs(hashint4(g * 37 + k)) % 24], ' ')
    FROM generate_series(1, 3 + abs(hashint4(g)) % 25) k $$;
CREATE FUNCTION vec(g int) RETURNS real[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY(SELECT (abs(hashint4(g * 64 + d)) % 10000)::real / 100 FROM generate_series(1, 16) d) $$;
CREATE TABLE docs (id int PRIMARY KEY, body text, emb real[]);
INSERT INTO docs SELECT g, CASE WHEN g % 40 <> 0 THEN body(g) END, CASE WHEN g % 40 <> 0 THEN vec(g) END
FROM generate_series(1, 2000) g;
CREATE INDEX docs_en_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'english');
CREATE INDEX docs_simple_idx ON docs USING quarry_bm25 (body) WITH (text_config = 'simple');
-- A configuration of the user's (a new OID after pg_upgrade), unlike both
-- (english's stop words, no stemming), in a schema and with a name that need
-- quoting; a decoy of the same name in public (simple), first on the path.
CREATE SCHEMA "Cfg Schema";
CREATE TEXT SEARCH DICTIONARY "Cfg Schema".docs_dict (TEMPLATE = simple, STOPWORDS = english);
CREATE TEXT SEARCH CONFIGURATION "Cfg Schema"."Docs Cfg" (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION "Cfg Schema"."Docs Cfg" ALTER MAPPING FOR asciiword, word WITH "Cfg Schema".docs_dict;
CREATE TEXT SEARCH CONFIGURATION public."Docs Cfg" (COPY = simple);
SET search_path = "Cfg Schema", public;
CREATE INDEX docs_cfg_idx ON public.docs USING quarry_bm25 (body) WITH (text_config = '@CFG@');
RESET search_path;
-- No text_config: default_text_search_config at the build (german, which
-- neither new cluster has as its default).
SET default_text_search_config = 'pg_catalog.german';
CREATE INDEX docs_default_idx ON docs USING quarry_bm25 (body);
RESET default_text_search_config;
CREATE INDEX docs_emb_idx ON docs USING quarry_hnsw (emb quarry_l2_ops);
-- After the builds: into the pending list (quarry_bm25) and the graph (quarry_hnsw).
INSERT INTO docs SELECT g, body(g), vec(g) FROM generate_series(2001, 2060) g;
INSERT INTO docs SELECT g, NULL, NULL FROM generate_series(2061, 2063) g;
EOF
	out=$(q "$dir" "$port" -c "SELECT extversion FROM pg_extension WHERE extname = 'quarry'")
	echo "# $from: quarry $out"
	local pending pending_simple
	pending=$(q "$dir" "$port" -c "SELECT pending_rows FROM quarry_bm25_stats('docs_en_idx')")
	pending_simple=$(q "$dir" "$port" -c "SELECT pending_rows FROM quarry_bm25_stats('docs_simple_idx')")
	old_pending[$from]=$pending_simple
	check "$from: rows inserted after the build are in the pending lists ($pending, $pending_simple)" \
		test "${pending:-0}" -gt 0 -a "${pending_simple:-0}" -gt 0
	results "$dir" "$port" >"$ws/results-$from.txt" 2>"$ws/results-$from.err"
	check "$from: the recorded queries run ($(wc -l <"$ws/results-$from.txt") rows)" \
		test ! -s "$ws/results-$from.err" -a "$(wc -l <"$ws/results-$from.txt")" -eq \
		$((10 * (${#bm25_queries[@]} * ${#bm25_indexes[@]} + ${#vec_queries[@]})))
	# Each configuration answers otherwise: an index that found another's
	# configuration after the upgrade would not give the recorded results.
	for a in "${bm25_indexes[@]}"; do
		for b in "${bm25_indexes[@]}"; do
			[[ $a < $b ]] || continue
			check "$from: $a and $b rank differently" \
				test "$(grep "^$a " "$ws/results-$from.txt" | cut -d' ' -f2-)" != \
				"$(grep "^$b " "$ws/results-$from.txt" | cut -d' ' -f2-)"
		done
	done
	check "$from: the recorded queries are index scans of their indexes" plans_use_indexes "$dir" "$port"
	for idx in "${indexes[@]}"; do
		out=$(verify "$dir" "$port" "$idx" 2>&1)
		check "$from: quarry_verify_index('$idx') finds no problem" test -z "$out"
	done
	q "$dir" "$port" -c "SELECT cfgname || ' ' || oid FROM pg_ts_config WHERE cfgname IN ('english', 'simple', 'german', 'Docs Cfg') ORDER BY 1" |
		sed "s/^/# $from: text search configuration OID: /"
	old_english[$from]=$(q "$dir" "$port" -c "SELECT 'english'::regconfig::oid")
	# README's query before pg_upgrade: the ALTER INDEX that names each
	# index's configuration as a restore finds it. quarry 0.1.0 took
	# '"Docs Cfg"' unqualified (a restore, and so pg_upgrade, would fail on it,
	# or with public first on the path find the decoy); docs_default_idx has no
	# text_config (a restore would use the new cluster's default).
	want="ALTER INDEX docs_default_idx SET (text_config = 'german')"
	[[ $from == 15 ]] || want="ALTER INDEX docs_cfg_idx SET (text_config = '\"Cfg Schema\".\"Docs Cfg\"')"$'\n'"$want"
	out=$(q "$dir" "$port" -c "$pre_upgrade_query" 2>&1)
	check "$from: README's pre-upgrade query names what to set: $(tr '\n' ';' <<<"$out")" test "$out" = "$want"
	if [[ $from == 15 ]]; then
		# text_config naming a configuration of the user's without its schema: a
		# restore and pg_upgrade run with search_path = '' (and 17+ builds indexes
		# with pg_catalog only), where it is not found; CREATE INDEX refuses it.
		out=$(q "$dir" "$port" -c "SET search_path = \"Cfg Schema\", public" -c "CREATE INDEX docs_cfg_unq_idx ON public.docs USING quarry_bm25 (body) WITH (text_config = '\"Docs Cfg\"')" 2>&1)
		check "$from: text_config = '\"Docs Cfg\"' (unqualified, in \"Cfg Schema\") is refused: $(head -1 <<<"$out")" \
			grep -q "must be schema-qualified" <<<"$out"
		# The statements are not run here: docs_default_idx goes through
		# pg_upgrade without text_config, so the new cluster finds german by the
		# name the index records (this quarry's format), not by the restore.
	else
		printf '%s\n\\gexec\n' "$pre_upgrade_query" | q "$dir" "$port" -v ON_ERROR_STOP=1 >"$ws/gexec-$from.log" 2>&1 ||
			sed 's/^/# /' "$ws/gexec-$from.log"
		out=$(q "$dir" "$port" -c "$pre_upgrade_query" -c "SELECT string_agg(relname || ' ' || reloptions::text, '; ' ORDER BY relname)
FROM pg_class WHERE relname IN ('docs_cfg_idx', 'docs_default_idx')" 2>&1)
		check "$from: after its ALTER INDEX statements, nothing more to set ($out)" \
			test "$out" = 'docs_cfg_idx {"text_config=\"Cfg Schema\".\"Docs Cfg\""}; docs_default_idx {text_config=german}'
	fi
	PG_BINDIR=$bindir cluster_stop "$dir"
	old_dir[$from]=$dir
	old_bin[$from]=$bindir
}

# quarry 0.1.0 (the version users upgrade from: its quarry_bm25 indexes are
# format 2), built once from this clone's history (commit 2e7b05c, the last
# 0.1.0) into build/quarry-0.1.0 with the system's pg_config and installed into
# a private copy of PostgreSQL 15 in the workspace. Prints that copy's bindir.
quarry_010_commit=2e7b05c04414149e01060fe242ae4a95496fcc6b
build_quarry_010() {
	local commit=$quarry_010_commit src prefix pg_config
	pg_config=$(command -v pg_config) || return 1
	[[ $(git -C "$QUARRY_REPO" show "$commit:quarry.control" 2>/dev/null) == *"default_version = '0.1.0'"* ]] ||
		return 1
	src=$QUARRY_REPO/build/quarry-0.1.0
	if [[ $(cat "$src/.commit" 2>/dev/null) != "$commit" ]]; then
		rm -rf "$src"
		mkdir -p "$src/build"
		git -C "$QUARRY_REPO" archive "$commit" | tar -x -C "$src" || return 1
		# The same jemalloc (its build script has not changed since).
		[[ -d $QUARRY_REPO/build/jemalloc ]] && cp -a "$QUARRY_REPO/build/jemalloc" "$src/build/"
		(cd "$src" && make -s -j"$(nproc)" PG_CONFIG="$pg_config") >"$src/build.log" 2>&1 || return 1
		echo "$commit" >"$src/.commit"
	fi
	prefix=$ws/pg15-quarry-0.1.0
	"$QUARRY_REPO/test/private_pg.sh" "$prefix" >/dev/null || return 1
	(cd "$src" && make -s install DESTDIR="$prefix" PG_CONFIG="$pg_config") >>"$src/build.log" 2>&1 || return 1
	echo "# quarry 0.1.0: commit ${commit:0:12}, built in $src" >&2
	echo "$prefix$("$pg_config" --bindir)"
}

# README's query (the block after "<!-- pre-upgrade query -->"): the ALTER INDEX
# statements that qualify text_config where it names a configuration of the
# user's without its schema.
pre_upgrade_query=$(awk '/<!-- pre-upgrade query -->/ { f = 1; next }
	f && /^```sql/ { g = 1; next } g && /^```/ { exit } g' "$QUARRY_REPO/README.md")
[[ -n $pre_upgrade_query ]] || { not_ok "README.md has the pre-upgrade query"; exit 1; }

make_old_cluster 15 "$ws/pg15" "$old_bindir" '"Cfg Schema"."Docs Cfg"' || exit 1
if bindir010=$(build_quarry_010); then
	make_old_cluster 0.1.0 "$ws/pg15-0.1.0" "$bindir010" '"Docs Cfg"' || exit 1
else
	not_ok "quarry 0.1.0 builds from this clone's history (see build/quarry-0.1.0/build.log; a shallow clone lacks it)"
fi


# pg_upgrade of a fresh copy of the 15 cluster (in DIR/old: --link ties the old
# files to the new cluster) into a fresh cluster of BINDIR's version in DIR/data,
# as the cluster user, from a directory it can write. Its output: DIR/pg_upgrade.log.
# SQL, and old_fixup (set when the pg_attver retry is needed), run on the copy first.
old_fixup=""
run_pg_upgrade() { # bindir dir port [sql]
	local bindir=$1 dir=$2 port=$3 sql=${old_fixup}${4:+; $4} p status
	rm -rf "$dir/old" "$dir/data" "$dir/upgrade"
	mkdir -p "$dir/old" "$dir/upgrade"
	cp -a "$old/data" "$dir/old/data"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/old" "$dir/upgrade"
	if [[ -n $sql ]]; then
		p=$(free_port)
		PG_BINDIR=$old_bindir cluster_configure "$dir/old" "$p"
		PG_BINDIR=$old_bindir cluster_up "$dir/old" || return 1
		PG_BINDIR=$old_bindir q "$dir/old" "$p" -v ON_ERROR_STOP=1 -c "$sql" >"$dir/old-sql.log" 2>&1
		status=$?
		PG_BINDIR=$old_bindir cluster_stop "$dir/old"
		if [[ $status -ne 0 ]]; then
			sed 's/^/# /' "$dir/old-sql.log"
			return 1
		fi
	fi
	# Without data checksums (cluster_initdb; 18's default is on), as the 15 cluster.
	PG_BINDIR=$bindir cluster_initdb "$dir" || return 1
	PG_BINDIR=$bindir cluster_configure "$dir" "$port" "lc_messages='C'" "autovacuum=off"
	(cd "$dir/upgrade" && as_cluster_user "$bindir/pg_upgrade" "$mode" \
		--old-bindir="$old_bindir" --new-bindir="$bindir" \
		--old-datadir="$dir/old/data" --new-datadir="$dir/data" \
		--old-port="$(free_port)" --new-port="$(free_port)" --socketdir="$dir/upgrade" \
		--username="$(cluster_user)") >"$dir/pg_upgrade.log" 2>&1
}

# Takes the attribute option pg_attver out of the user columns.
strip_attver_sql="UPDATE pg_attribute SET attoptions = nullif(ARRAY(SELECT o FROM unnest(attoptions) o
                                                  WHERE o NOT LIKE 'pg_attver=%'), '{}')
WHERE attrelid >= 16384 AND attoptions::text LIKE '%pg_attver=%'"

# What pg_upgrade said, as NOTE lines (test/run.sh shows them even when the
# log's tail does not reach them).
upgrade_failure() { # dir
	tail -30 "$1/pg_upgrade.log" | sed 's/^/# NOTE: pg_upgrade: /'
	grep -hE "error|ERROR|FATAL" "$1"/data/pg_upgrade_output.d/*/log/*.log "$1"/data/pg_upgrade_output.d/*/*.txt 2>/dev/null |
		head -10 | sed 's/^/# NOTE: pg_upgrade log: /'
}

# --- 2, 3. each target ------------------------------------------------------------
# Runs the recorded queries and the verifier on the upgraded cluster. For an index
# that fails with an ERROR: checks the ERROR names it, REINDEXes it, tries again.
upgrade_to() { # N FROM
	local n=$1 from=$2 var new_bindir new_dir new_port new_share f out idx t old_share old_version
	local -A case_of=()
	[[ -n ${old_dir[$from]:-} ]] || return
	old=${old_dir[$from]}
	old_bindir=${old_bin[$from]}
	old_share=$("$old_bindir/pg_config" --sharedir)
	old_version=$("$old_bindir/pg_config" --version)
	t=$n
	[[ $from == 15 ]] || t="$n from $from"
	var=PG_BINDIR$n
	new_bindir=${!var:-}
	if [[ -z $new_bindir ]]; then
		new_bindir="$("$QUARRY_REPO/test/build_pg.sh" --prefix "$n")/bin"
	fi
	if [[ ! -x $new_bindir/pg_upgrade ]]; then
		not_ok "$t: no PostgreSQL $n in $new_bindir (test/build_pg.sh $n builds it)"
		return
	fi
	echo "# target: $("$new_bindir/pg_config" --version) ($new_bindir)"

	# The same quarry on both sides.
	new_share=$("$new_bindir/pg_config" --sharedir)
	if [[ ! -f $new_share/extension/quarry.control ]]; then
		not_ok "$t: quarry is not installed in $new_share (QUARRY_PG=$n test/run.sh installs it)"
		return
	fi
	if [[ $from == 15 ]]; then
		local same=1
		for f in "$old_share"/extension/quarry.control "$old_share"/extension/quarry--*.sql; do
			cmp -s "$f" "$new_share/extension/$(basename "$f")" || same=0
		done
		check "$t: quarry in $n is the same version as in 15 (control file and install scripts)" test $same -eq 1
	fi

	new_dir=$ws/pg$n-from-$from
	mkdir -p "$new_dir"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$new_dir"
	new_port=$(free_port)
	local t0=$SECONDS
	old_fixup=""
	local other_failures=0
	while ! run_pg_upgrade "$new_bindir" "$new_dir" "$new_port"; do
		if [[ $attver != keep && -z $old_fixup ]] &&
			grep -qs 'unrecognized parameter "pg_attver"' "$new_dir"/data/pg_upgrade_output.d/*/log/*.log; then
			# Not quarry's: the system's PostgreSQL 15 (Debian 15.20) keeps an attribute
			# option pg_attver on every column, which pg_dump of 17/18 carries over and
			# their servers reject, so pg_upgrade fails for any table. Once more, with
			# the option taken out of the old cluster's user columns.
			echo "# NOTE: pg_upgrade 15 -> $n fails for any table, quarry or not: the old server ($old_version)"
			echo "# NOTE: sets the attribute option pg_attver on every column and PostgreSQL $n rejects it"
			echo "# NOTE: (ERROR: unrecognized parameter \"pg_attver\"); retrying with it removed from the old"
			echo "# NOTE: cluster's user columns (QUARRY_UPGRADE_ATTVER=keep to see the failure)"
			old_fixup=$strip_attver_sql
		elif ((other_failures++ == 0)); then
			# A failure for another reason: say what it was, and try once more (a
			# second such failure fails the check).
			echo "# NOTE: pg_upgrade 15 -> $n failed; what it said, then one more try:"
			upgrade_failure "$new_dir"
		else
			not_ok "$t: pg_upgrade $mode from 15 failed${old_fixup:+ (pg_attver removed)}"
			upgrade_failure "$new_dir"
			return
		fi
	done
	local retried=""
	((other_failures == 0)) || retried=", second try"
	ok "$t: pg_upgrade $mode from 15${old_fixup:+, pg_attver removed}$retried ($((SECONDS - t0)) s)"
	PG_BINDIR=$new_bindir
	running+=("$new_bindir|$new_dir")
	if ! cluster_up "$new_dir"; then
		not_ok "$t: the upgraded cluster starts"
		return
	fi
	q "$new_dir" "$new_port" -c "SELECT cfgname || ' ' || oid FROM pg_ts_config WHERE cfgname IN ('english', 'simple', 'german', 'Docs Cfg') ORDER BY 1" |
		sed "s/^/# $t: text search configuration OID: /"
	out=$(q "$new_dir" "$new_port" -c "SELECT 'english'::regconfig::oid")
	check "$t: english has another OID than in 15 ($out, 15: ${old_english[$from]}): what the indexes must live with" \
		test -n "$out" -a "$out" != "${old_english[$from]}"
	if [[ $from != 15 ]]; then
		# The extension's SQL objects are 0.1.0's: the update README says to run.
		local want_version
		want_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$new_share/extension/quarry.control")
		out=$(q "$new_dir" "$new_port" -c "ALTER EXTENSION quarry UPDATE" \
			-c "SELECT extversion FROM pg_extension WHERE extname = 'quarry'" 2>&1)
		check "$t: ALTER EXTENSION quarry UPDATE (to $out, $want_version expected)" test "$out" = "$want_version"
	fi

	# Every index, first as pg_upgrade left it: a scan, its statistics function,
	# the verifier. A statement that fails must say which index (in its ERROR or
	# the ERROR's DETAIL, HINT or CONTEXT); then REINDEX, and the index must give
	# the recorded answers.
	local pending_new
	pending_new=$(q "$new_dir" "$new_port" -c "SELECT pending_rows FROM quarry_bm25_stats('docs_simple_idx')" 2>&1)
	check "$t: docs_simple_idx has its pending list after the upgrade ($pending_new rows, $from: ${old_pending[$from]})" \
		test "$pending_new" = "${old_pending[$from]}"
	for idx in "${indexes[@]}"; do
		probe_index "$new_dir" "$new_port" "$idx" "$ws/probe-$n-$from-$idx"
		# Both formats are (format 2 through the dependency the restore records).
		check "$t: $idx is usable as pg_upgrade left it" test ! -s "$ws/probe-$n-$from-$idx"
		if [[ ! -s $ws/probe-$n-$from-$idx ]]; then
			case_of[$idx]="usable as is"
			continue
		fi
		case_of[$idx]="needs REINDEX"
		cut -d'|' -f2- "$ws/probe-$n-$from-$idx" | sed "s/^/# $t: $idx after pg_upgrade: /"
		# A clear ERROR: raised with an error code of its own (not XX000, an internal
		# "cannot happen" error such as "cache lookup failed"), naming the index in its
		# message, DETAIL or HINT (a CONTEXT line alone does not tell what to do).
		check "$t: $idx: every failing statement raises a user-facing ERROR (not XX000 internal_error)" \
			test "$(grep -c '^[a-z ]*internal' "$ws/probe-$n-$from-$idx")" -eq 0
		check "$t: $idx: every such ERROR names the index in its message, DETAIL or HINT" \
			test "$(grep -c '^[a-z ]*unnamed' "$ws/probe-$n-$from-$idx")" -eq 0
		out=$(q "$new_dir" "$new_port" -c "REINDEX INDEX $idx" 2>&1)
		check "$t: REINDEX INDEX $idx" test -z "$out" || echo "# $out"
	done

	results "$new_dir" "$new_port" >"$ws/results-$n-from-$from.txt" 2>"$ws/results-$n-from-$from.err"
	if [[ ! -s $ws/results-$n-from-$from.err ]] && cmp -s "$ws/results-$from.txt" "$ws/results-$n-from-$from.txt"; then
		ok "$t: the recorded queries give the same ids and scores as on 15"
	else
		not_ok "$t: the recorded queries differ from 15"
		head -5 "$ws/results-$n-from-$from.err" | sed 's/^/# /'
		diff "$ws/results-$from.txt" "$ws/results-$n-from-$from.txt" | head -20 | sed 's/^/# /'
		# Say whether REINDEX would bring them back (a silent difference is a bug).
		for idx in "${indexes[@]}"; do
			[[ ${case_of[$idx]} == "usable as is" ]] || continue
			q "$new_dir" "$new_port" -c "REINDEX INDEX $idx" >/dev/null 2>&1
		done
		results "$new_dir" "$new_port" >"$ws/results-$n-from-$from-reindexed.txt" 2>/dev/null
		if cmp -s "$ws/results-$from.txt" "$ws/results-$n-from-$from-reindexed.txt"; then
			echo "# $t: after REINDEX of every index the results equal 15's"
		else
			echo "# $t: even after REINDEX the results differ from 15's"
		fi
	fi
	check "$t: the recorded queries are index scans of their indexes" plans_use_indexes "$new_dir" "$new_port"
	for idx in "${indexes[@]}"; do
		out=$(verify "$new_dir" "$new_port" "$idx" 2>&1)
		check "$t: quarry_verify_index('$idx') finds no problem" test -z "$out" || echo "# $out"
	done

	# Writes: new rows are found through each index; DELETE + VACUUM; verify again.
	if q "$new_dir" "$new_port" -c "INSERT INTO docs SELECT g, body(g) || ' upgradedtoken' || g, vec(g)
FROM generate_series(3001, 3040) g" -c "INSERT INTO docs VALUES (3041, NULL, NULL)" >/dev/null; then
		ok "$t: INSERT after the upgrade"
	else
		not_ok "$t: INSERT after the upgrade"
	fi
	for idx in "${bm25_indexes[@]}"; do
		out=$(q "$new_dir" "$new_port" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "
SELECT count(*) FROM generate_series(3001, 3040) g
WHERE (SELECT id FROM docs ORDER BY body <@> quarry_query('upgradedtoken' || g, '$idx') LIMIT 1) = g" 2>&1)
		check "$t: the 40 new rows are found by their own token through $idx ($out)" test "$out" = 40
	done
	out=$(q "$new_dir" "$new_port" -c "SET enable_seqscan = off" -c "SET quarry.hnsw_ef_search = 200" -c "
SELECT count(*) FROM generate_series(3001, 3040) g
WHERE (SELECT id FROM docs ORDER BY emb <-> vec(g) LIMIT 1) = g" 2>&1)
	check "$t: the 40 new rows are found at distance 0 through docs_emb_idx ($out)" test "$out" = 40
	if q "$new_dir" "$new_port" -c "DELETE FROM docs WHERE id % 9 = 0" -c "VACUUM docs" \
		-c "SELECT quarry_bm25_merge('docs_en_idx')" -c "SELECT quarry_bm25_merge('docs_simple_idx')" \
		>/dev/null; then
		ok "$t: DELETE, VACUUM and quarry_bm25_merge after the upgrade"
	else
		not_ok "$t: DELETE, VACUUM and quarry_bm25_merge after the upgrade"
	fi
	for idx in "${indexes[@]}"; do
		out=$(verify "$new_dir" "$new_port" "$idx" 2>&1)
		check "$t: after writes and VACUUM, quarry_verify_index('$idx') finds no problem" test -z "$out" ||
			echo "# $out"
	done
	out=$(q "$new_dir" "$new_port" -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "
SELECT count(*) FROM docs WHERE id % 9 = 0" -c "
SELECT count(*) FROM (SELECT id FROM docs ORDER BY body <@> quarry_query('index', 'docs_en_idx')) x
WHERE id % 9 = 0" 2>&1 | tr '\n' ' ')
	check "$t: deleted rows are gone from the scans ($out)" test "$out" = "0 0 "
	if grep -qE "terminated by signal|was terminated" "$new_dir/server.log"; then
		not_ok "$t: a backend crashed (see $new_dir/server.log)"
	fi
	for idx in "${indexes[@]}"; do
		echo "# pg_upgrade $from -> $n: $idx ${case_of[$idx]}"
	done
	PG_BINDIR=$new_bindir cluster_stop "$new_dir"

}

# The ERROR (if any) the index gives after the upgrade: its recorded queries and
# the verifier.
probe_index() { # dir port index out-file
	local dir=$1 port=$2 idx=$3 out=$4 sql msg
	local -a stmts
	case $idx in
	docs_emb_idx)
		stmts=("SELECT count(*) FROM (SELECT id FROM docs ORDER BY emb <-> vec(7) LIMIT 10) x"
			"SELECT * FROM quarry_hnsw_index_info('$idx')") ;;
	*)
		stmts=("SELECT count(*) FROM (SELECT id FROM docs ORDER BY body <@> quarry_query('index search', '$idx') LIMIT 10) x"
			"SELECT count(*) FROM docs WHERE body @@@ quarry_query('index', '$idx')"
			"SELECT * FROM quarry_bm25_stats('$idx')") ;;
	esac
	stmts+=("SELECT * FROM quarry_verify_index('$idx')")
	: >"$out"
	for sql in "${stmts[@]}"; do
		if msg=$(q "$dir" "$port" -v VERBOSITY=verbose -c "SET enable_seqscan = off" \
			-c "SET enable_bitmapscan = off" -c "$sql" 2>&1 >/dev/null) && [[ -z $msg ]]; then
			continue
		fi
		[[ -n $msg ]] || msg="(failed without a message)"
		local flags="" code
		code=$(sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' <<<"$msg" | head -1)
		[[ $code == XX000 ]] && flags+=" internal"
		grep -E '^(ERROR|DETAIL|HINT): ' <<<"$msg" | grep -F "$idx" >/dev/null || flags+=" unnamed"
		# LOCATION lines (VERBOSITY verbose) are dropped from the record.
		echo "${flags:-clear}|$(head -c 60 <<<"$sql")...: $(grep -v '^LOCATION:' <<<"$msg" | tr '\n' ' ')" >>"$out"
	done
}

for n in $targets; do
	case $n in
	17 | 18)
		upgrade_to "$n" 15
		upgrade_to "$n" 0.1.0
		;;
	*) not_ok "QUARRY_UPGRADE_TO: $n is not a target version (17 or 18)" ;;
	esac
done

echo "# $tests checks, $failures failed"
[[ $failures -eq 0 && $tests -gt 0 ]]
