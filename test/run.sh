#!/usr/bin/env bash
# The one test command. On a fresh Debian bookworm machine it:
#   1. installs missing Debian packages (test/deps.sh)
#   2. builds and installs the extension (make && make install) into the system's
#      PostgreSQL 15, and pgvector (test/build_pgvector.sh: built once from Debian's
#      source package into the cache, for quarry_pgvector's tests)
#   3. builds and runs the unit tests of the core with ctest, plainly and under
#      AddressSanitizer + UndefinedBehaviorSanitizer, then the libFuzzer targets
#      of test/fuzz for QUARRY_FUZZ_SECONDS (default 60) each
#   4. starts a throwaway cluster as an unprivileged user on a free port with its
#      own data directory, runs pg_regress (sql/ + expected/), stops it
#   5. runs the scripts in test/t (TAP *.pl and *.sh; each starts its own clusters),
#      and 030 and 040 again on compressed quarry_hnsw layouts (sq8; 040 also sq4)
#   6. on PostgreSQL 17 and on 18: builds the server once (test/build_pg.sh, into a
#      cache outside the clone), builds quarry against it in build/pgN (a copy of
#      the tree: the tree's own objects are the PostgreSQL 15 ones) and installs it
#      there, with pgvector; runs pg_regress, the crash-recovery and replica scripts
#      (test/t/030, 040), and pg_upgrade from a 15 cluster (test/t/080_pg_upgrade.sh)
# Each stage starts with a line "== what" and ends with "== what: N s" (its wall
# clock time). The last line is "N passed, N failed"; the exit status is non-zero
# on any failure. A server version that cannot be built is a failure of every
# stage that needs it, never a skip. Clusters are stopped even when something fails.
#
#   test/run.sh              everything
#   test/run.sh STAGE ...    only those stages (after the build), in the order below:
#     unit sanitize fuzz     the core's unit tests, under ASan+UBSan, fuzzing (no server)
#     regress scripts        pg_regress, and every script in test/t, on QUARRY_PG's server
#     regress17 regress18    pg_regress on PostgreSQL 17, 18
#     scripts17 scripts18    test/t/030_crash_recovery.pl and 040_replica.pl on 17, 18
#     upgrade17 upgrade18    pg_upgrade from 15 to 17, 18 (test/t/080_pg_upgrade.sh)
#     upgrade                upgrade17 upgrade18 (with QUARRY_PG=N: upgradeN)
#
# Environment: QUARRY_PG=15|17|18 (default 15) is the server `regress` and `scripts`
# use: 15 the system's, 17 or 18 built as in 6. With 17 or 18 the default stages are
# regress, scripts and upgradeN: unit, sanitize and fuzz do not involve the server
# (the same as on 15) and run only when named. QUARRY_DATA (default ../shared/data
# next to the repository): real data some tests use; when absent they skip with a
# message. QUARRY_KEEP=1 keeps the workspace (logs, clusters' data) for inspection.
# QUARRY_DESTDIR=DIR installs into a private copy of PostgreSQL in DIR
# (test/private_pg.sh for 15, a copy of the cached prefix for 17 and 18) instead of
# the shared one, so several checkouts can be tested side by side. QUARRY_T=REGEX
# runs only the scripts in test/t whose file name matches.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

QUARRY_PG=${QUARRY_PG:-15}
case $QUARRY_PG in
15 | 17 | 18) ;;
*)
	echo "run.sh: QUARRY_PG must be 15, 17 or 18 (it is '$QUARRY_PG')" >&2
	exit 2
	;;
esac

if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh
source test/lib/pg_versions.sh

# --- stages -------------------------------------------------------------------
all_stages=(unit sanitize fuzz regress scripts regress17 regress18 scripts17 scripts18 upgrade17 upgrade18)
stages=()
if [[ $# -eq 0 ]]; then
	if [[ $QUARRY_PG == 15 ]]; then
		stages=("${all_stages[@]}")
	else
		stages=(regress scripts "upgrade$QUARRY_PG")
		echo "QUARRY_PG=$QUARRY_PG: stages regress scripts upgrade$QUARRY_PG; unit, sanitize and fuzz do not" \
			"involve the server, are the same as on 15 and are skipped (name them to run them)"
	fi
fi
for s in "$@"; do
	case $s in
	upgrade)
		if [[ $QUARRY_PG == 15 ]]; then stages+=(upgrade17 upgrade18); else stages+=("upgrade$QUARRY_PG"); fi
		;;
	unit | sanitize | fuzz | regress | scripts | regress1[78] | scripts1[78] | upgrade1[78]) stages+=("$s") ;;
	*)
		echo "run.sh: unknown stage '$s' (stages: ${all_stages[*]} upgrade)" >&2
		exit 2
		;;
	esac
done
want() {
	local s
	for s in "${stages[@]}"; do [[ $s == "$1" ]] && return 0; done
	return 1
}
want_upgrade() { want upgrade17 || want upgrade18; }

# --- results --------------------------------------------------------------------
passed=0
failed=0
failures=()
pass() { passed=$((passed + $1)); }
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAILED: $1"
}
stage_title=""
stage_t0=0
stage_times=()
stage_begin() {
	stage_title=$1
	stage_t0=$SECONDS
	echo "== $stage_title"
}
stage_end() {
	local s=$((SECONDS - stage_t0))
	echo "== $stage_title: $s s"
	stage_times+=("$(printf '%5s s  %s' "$s" "$stage_title")")
}
summary() {
	echo
	if [[ ${#stage_times[@]} -gt 0 ]]; then
		echo "Stage times (wall clock):"
		printf '  %s\n' "${stage_times[@]}"
	fi
	if [[ ${#failures[@]} -gt 0 ]]; then
		echo "Failures:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}

workspace=""
started_clusters=() # "BINDIR|DIR" of the clusters run.sh itself starts
cleanup() {
	local c
	for c in "${started_clusters[@]}"; do
		PG_BINDIR=${c%%|*} cluster_stop "${c#*|}"
	done
	if [[ -n $workspace ]]; then
		if [[ ${QUARRY_KEEP:-0} == 1 || $failed -gt 0 ]]; then
			echo "Logs and data kept in $workspace"
		else
			rm -rf "$workspace"
		fi
	fi
}
trap cleanup EXIT

export QUARRY_DATA=${QUARRY_DATA:-$(cd "$repo/.." && pwd)/shared/data}
if [[ -d $QUARRY_DATA && -r $QUARRY_DATA ]]; then
	echo "Shared data: $QUARRY_DATA"
else
	echo "Shared data: not found at $QUARRY_DATA; tests that need it will skip"
	QUARRY_DATA=""
fi

# --- 1, 2: dependencies, build, install --------------------------------------
stage_begin "dependencies"
if ! test/deps.sh test; then
	fail "installing dependencies"
	summary
	exit 1
fi
stage_end

# PostgreSQL 15 (the system's): built in the tree, installed as before. Needed when
# it is QUARRY_PG's server (unless only stages of 17 and 18 were asked for), and as
# the source of the upgrade tests.
if { [[ $QUARRY_PG == 15 ]] && { want unit || want sanitize || want fuzz || want regress || want scripts; }; } ||
	want_upgrade; then
	# -Werror: no compiler warning is tolerated.
	install_cmd=(make -s install QUARRY_CXXFLAGS=-Werror)
	[[ $(id -u) -ne 0 ]] && install_cmd=(sudo "${install_cmd[@]}")
	if [[ -n ${QUARRY_DESTDIR:-} ]]; then
		test/private_pg.sh "$QUARRY_DESTDIR"
		install_cmd+=(DESTDIR="$QUARRY_DESTDIR")
	fi
	stage_begin "build and install (PG 15)"
	if ! make -s -j"$(nproc)" QUARRY_CXXFLAGS=-Werror >build.log 2>&1 || ! "${install_cmd[@]}" >>build.log 2>&1; then
		tail -40 build.log
		fail "make && make install (see build.log)"
		summary
		exit 1
	fi
	# pgvector, for quarry_pgvector's tests: built once into the cache, installed
	# where quarry was (silent when it is there).
	if ! test/build_pgvector.sh pg_config "${QUARRY_DESTDIR:-}"; then
		fail "pgvector: build or install (test/build_pgvector.sh)"
		summary
		exit 1
	fi
	# Citus, for test/t/095_citus.sh (a test dependency only): built once into
	# the cache, installed where quarry was (silent when it is there).
	citus_rc=0
	test/build_citus.sh pg_config "${QUARRY_DESTDIR:-}" || citus_rc=$?
	if [[ $citus_rc -ne 0 && $citus_rc -ne 3 ]]; then
		fail "Citus: build or install (test/build_citus.sh)"
		summary
		exit 1
	fi
	rm -f build.log
	pass 1
	stage_end
	pg_bindir[15]=$PG_BINDIR
fi

# PostgreSQL 17 and 18: the server and quarry built once per run, at the first
# stage that needs them. pg_state[N] is ok or failed.
declare -A pg_state=()
ensure_pg() { # N: 0 when pg_bindir[N] is ready
	local n=$1
	[[ $n == 15 ]] && return 0
	case ${pg_state[$n]:-} in
	ok) return 0 ;;
	failed) return 1 ;;
	esac
	stage_begin "PostgreSQL $n: server and quarry build"
	if pg_prepare_built "$n" "$repo/build/pg$n.log"; then
		pg_state[$n]=ok
		pass 1
	else
		pg_state[$n]=failed
		fail "PostgreSQL $n: server or quarry build (log: build/pg$n.log)"
	fi
	stage_end
	[[ ${pg_state[$n]} == ok ]]
}
unavailable() { # N what
	fail "$2: not run, PostgreSQL $1 is not available (its build failed above)"
}

if [[ $QUARRY_PG != 15 ]] && ! ensure_pg "$QUARRY_PG"; then
	summary
	exit 1
fi

workspace=$(make_workspace test)

# --- 3: unit tests ----------------------------------------------------------
run_ctest() { # name build-dir cmake-args...
	local name=$1 dir=$2
	shift 2
	stage_begin "unit tests ($name)"
	if ! cmake -S . -B "$dir" "$@" >"$workspace/cmake-$name.log" 2>&1 ||
		! cmake --build "$dir" -j"$(nproc)" >>"$workspace/cmake-$name.log" 2>&1; then
		tail -40 "$workspace/cmake-$name.log"
		fail "unit tests ($name): build"
		stage_end
		return
	fi
	local out total nfailed
	out=$(ctest --test-dir "$dir" --output-on-failure --timeout 600 2>&1)
	echo "$out" | grep -E "tests passed|Failed|\*\*\*" | tail -30
	total=$(echo "$out" | sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p')
	nfailed=$(echo "$out" | sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p')
	if [[ -z $total ]]; then
		fail "unit tests ($name): ctest did not finish"
		stage_end
		return
	fi
	pass $((total - nfailed))
	if [[ $nfailed -gt 0 ]]; then
		failed=$((failed + nfailed))
		failures+=("unit tests ($name): $nfailed failed")
	fi
	stage_end
}
want unit && run_ctest plain build/unit -DCMAKE_BUILD_TYPE=RelWithDebInfo
want sanitize && run_ctest asan+ubsan build/asan -DQUARRY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

# --- 3b: fuzzing --------------------------------------------------------------
if want fuzz; then
	stage_begin "fuzzing (${QUARRY_FUZZ_SECONDS:-60} s per target)"
	mkdir -p "$workspace/fuzz"
	if test/fuzz/run.sh "${QUARRY_FUZZ_SECONDS:-60}" "$workspace/fuzz"; then
		pass 1
	else
		fail "fuzzing (reproducers in $workspace/fuzz)"
	fi
	stage_end
fi

# --- 4: pg_regress ------------------------------------------------------------
run_regress() { # N: the whole suite on a throwaway cluster of PostgreSQL N
	local n=$1 label="pg_regress (PG $1)"
	# Built before the stage's clock starts (the build is a stage of its own).
	if ! ensure_pg "$n"; then
		stage_begin "$label"
		unavailable "$n" "$label"
		stage_end
		return
	fi
	stage_begin "$label"
	local PG_BINDIR=${pg_bindir[$n]}
	local dir=$workspace/regress$n port tests pg_regress out name
	mkdir -p "$dir"
	# Every file of expected/, the alternative outputs (expected/NAME_1.out ...) too.
	cp -r sql expected "$dir/"
	[[ $(id -u) -eq 0 ]] && chown -R postgres: "$dir"
	port=$(free_port)
	started_clusters+=("$PG_BINDIR|$dir")
	# autovacuum off: an autovacuum ANALYZE's snapshot, taken before a test's
	# DELETE commits, keeps the next VACUUM from removing those rows (a PG 18
	# run of hnsw_insert_vacuum counted 1,500 live rows where 1,000 were left).
	if ! cluster_start "$dir" "$port" "lc_messages='C'" "autovacuum=off"; then
		fail "$label: cluster did not start"
	else
		tests=$(make -s regress-list)
		pg_regress="$(dirname "$("$PG_BINDIR/pg_config" --pgxs)")/../test/regress/pg_regress"
		out=$(cd "$dir" && as_cluster_user "$pg_regress" --inputdir=. --outputdir=. \
			--host="$dir" --port="$port" --bindir="$PG_BINDIR" \
			--load-extension=quarry --dbname=quarry_regression $tests 2>&1)
		echo "$out" | grep -E "^(test| +[a-z_0-9]+ +\.\.\.)|\.\.\. |^(not )?ok [0-9]+ |tests (passed|failed)" |
			sed 's/^/  /'
		# A test counts as passed only when pg_regress says so for it by name:
		# "test name ... ok" (PostgreSQL 15) or "ok N - name" (16 and later; "+"
		# instead of "-" in a parallel group).
		for name in $tests; do
			if grep -qE "^(test +| *)$name +\.\.\. +ok|^ok +[0-9]+ +[-+] +$name( |$)" <<<"$out"; then
				pass 1
			else
				fail "$label: $name"
			fi
		done
		if [[ -f $dir/regression.diffs ]]; then
			head -200 "$dir/regression.diffs"
		fi
		if [[ -z $tests ]]; then
			fail "$label: no test ran"
		fi
		if grep -qE "terminated by signal|server process .* was terminated" "$dir/server.log"; then
			grep -E "terminated by signal" "$dir/server.log" | head
			fail "$label: a backend crashed (see $dir/server.log)"
		fi
	fi
	cluster_stop "$dir"
	stage_end
}

# --- 5: scripts in test/t -----------------------------------------------------
# One script, in TDIR, against the server in BINDIR; passes or fails it.
run_script() { # script tdir bindir [VAR=VALUE...]
	local script=$1 tdir=$2 bindir=$3
	shift 3
	local name start status elapsed skipped perl5lib arg
	name=$(basename "$script")
	for arg in "$@"; do [[ $arg == QUARRY_HNSW_STORAGE=* ]] && name+=" (${arg#*=})"; done
	mkdir -p "$tdir"
	[[ $(id -u) -eq 0 ]] && chown -R postgres: "$(dirname "$tdir")"
	start=$SECONDS
	if [[ $script == *.pl ]] && ! as_cluster_user test -r "$repo/$script" -a -r "$repo/test/lib/QuarryTest.pm"; then
		# prove runs as the cluster user, from the clone (a clone under /root,
		# mode 700, is out of its reach).
		printf '  %-40s FAILED\n' "$name"
		fail "$stage_title: test/t/$name: the cluster user $(cluster_user) cannot read $repo (clone it where that user can read, e.g. under /work or /srv)"
		return 0
	fi
	if [[ $script == *.pl ]]; then
		# The TAP modules of that server's PGXS; TESTDIR for 15, TESTDATADIR and
		# TESTLOGDIR for 17 and later.
		perl5lib="$(dirname "$("$bindir/pg_config" --pgxs)")/../test/perl"
		# PostgreSQL::Test::Cluster of 17 and later reads extra initdb options from
		# PG_TEST_INITDB_EXTRA_OPTS: no data checksums, as cluster.sh's clusters.
		(cd "$tdir" && as_cluster_user env PATH="$bindir:$PATH" PERL5LIB="$perl5lib:$repo/test/lib" \
			PG_TEST_INITDB_EXTRA_OPTS="$(PG_BINDIR=$bindir initdb_checksum_opts)" \
			TESTDIR="$tdir" TESTDATADIR="$tdir/tmp_check" TESTLOGDIR="$tdir/log" PG_REGRESS=true \
			QUARRY_DATA="$QUARRY_DATA" QUARRY_REPO="$repo" PG_BINDIR="$bindir" "$@" \
			timeout 1800 prove -v "$repo/$script") >"$tdir/output.log" 2>&1
	else
		(cd "$tdir" && env QUARRY_WORKSPACE="$tdir" QUARRY_REPO="$repo" QUARRY_DATA="$QUARRY_DATA" \
			PG_BINDIR="$bindir" "$@" timeout 1800 "$repo/$script") >"$tdir/output.log" 2>&1
	fi
	status=$?
	elapsed=$((SECONDS - start))
	if [[ $status -eq 0 ]]; then
		pass 1
		skipped=$(grep -m1 -oE "(# )?SKIP.*|skipped:.*" "$tdir/output.log" || true)
		printf '  %-40s ok   %4ss %s\n' "$name" "$elapsed" "$skipped"
	else
		printf '  %-40s FAILED (exit %s) %4ss\n' "$name" "$status" "$elapsed"
		# The failed checks (they may be far from the end), then the end.
		if grep -qE "^ *not ok" "$tdir/output.log"; then
			grep -E "^ *not ok" "$tdir/output.log" | head -20 | sed 's/^ */    /'
			echo "    ... the last lines of $tdir/output.log:"
			tail -10 "$tdir/output.log" | sed 's/^/    /'
		else
			tail -40 "$tdir/output.log" | sed 's/^/    /'
		fi
		fail "$stage_title: test/t/$name"
	fi
	# What a script says it worked around ("# NOTE: ...") is shown either way.
	grep -E "^ *# NOTE" "$tdir/output.log" | sed 's/^ */    /'
	return 0
}

# test/t/080_pg_upgrade.sh runs in the upgrade stages (one target version each).
upgrade_script=test/t/080_pg_upgrade.sh

run_scripts() { # N only-regex label-suffix: the scripts of test/t on PostgreSQL N
	local n=$1 only=$2 label="test/t (PG $1$3)"
	local script name tdir ran=0
	# Built before the stage's clock starts (the build is a stage of its own).
	if ! ensure_pg "$n"; then
		stage_begin "$label"
		unavailable "$n" "$label"
		stage_end
		return
	fi
	stage_begin "$label"
	for script in test/t/*.pl test/t/*.sh; do
		[[ -e $script ]] || continue
		name=$(basename "$script")
		[[ -n $only && ! $name =~ $only ]] && continue
		[[ -n ${QUARRY_T:-} && ! $name =~ $QUARRY_T ]] && continue
		if [[ $script == "$upgrade_script" ]]; then
			printf '  %-40s in the stages upgrade17, upgrade18\n' "$name"
			continue
		fi
		tdir="$workspace/t$n/${name%.*}"
		run_script "$script" "$tdir" "${pg_bindir[$n]}"
		ran=$((ran + 1))
		# Crash recovery and replicas once more on compressed quarry_hnsw
		# layouts (QUARRY_HNSW_STORAGE, test/lib/QuarryTest.pm), in the
		# scripts stage: 030 on sq8 and sq4 (3 crash rounds), 040 on sq8 and sq4.
		if [[ -z $only ]]; then
			case $name in
			030_*)
				run_script "$script" "$tdir-sq8" "${pg_bindir[$n]}" QUARRY_HNSW_STORAGE=sq8 QUARRY_CRASH_ROUNDS=3
				run_script "$script" "$tdir-sq4" "${pg_bindir[$n]}" QUARRY_HNSW_STORAGE=sq4 QUARRY_CRASH_ROUNDS=3
				;;
			040_*)
				run_script "$script" "$tdir-sq8" "${pg_bindir[$n]}" QUARRY_HNSW_STORAGE=sq8
				run_script "$script" "$tdir-sq4" "${pg_bindir[$n]}" QUARRY_HNSW_STORAGE=sq4
				;;
			esac
		fi
	done
	# Scripts 17 and 18 must run 030 and 040: none found is a failure.
	if [[ -n $only && $ran -eq 0 && -z ${QUARRY_T:-} ]]; then
		fail "$label: no script matched $only"
	elif [[ -n ${QUARRY_T:-} && $ran -eq 0 ]]; then
		echo "  no script of this stage matches QUARRY_T=$QUARRY_T"
	fi
	stage_end
}

# --- 6: pg_upgrade from 15 ------------------------------------------------------
run_upgrade() { # N
	local n=$1 label="pg_upgrade 15 -> $1"
	# Built before the stage's clock starts (the build is a stage of its own).
	if ! ensure_pg "$n"; then
		stage_begin "$label"
		unavailable "$n" "$label"
		stage_end
		return
	fi
	stage_begin "$label"
	run_script "$upgrade_script" "$workspace/upgrade$n/$(basename "${upgrade_script%.*}")" "${pg_bindir[$n]}" \
		QUARRY_UPGRADE_TO="$n" PG_BINDIR15="${pg_bindir[15]}" "PG_BINDIR$n=${pg_bindir[$n]}"
	stage_end
}

want regress && run_regress "$QUARRY_PG"
want scripts && run_scripts "$QUARRY_PG" "" ""
for n in 17 18; do
	want "regress$n" && run_regress "$n"
done
for n in 17 18; do
	want "scripts$n" && run_scripts "$n" '^0(30|40)_' ": crash recovery, replica"
done
for n in 17 18; do
	want "upgrade$n" && run_upgrade "$n"
done

summary
