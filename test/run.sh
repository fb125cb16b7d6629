#!/usr/bin/env bash
# The one test command. On a fresh Debian bookworm machine it:
#   1. installs missing Debian packages (test/deps.sh)
#   2. builds and installs the extension (make && make install)
#   3. builds and runs the unit tests of the core with ctest, plainly and under
#      AddressSanitizer + UndefinedBehaviorSanitizer, then the libFuzzer targets
#      of test/fuzz for QUARRY_FUZZ_SECONDS (default 60) each
#   4. starts a throwaway cluster as an unprivileged user on a free port with its
#      own data directory, runs pg_regress (sql/ + expected/), stops it
#   5. runs the scripts in test/t (TAP *.pl and *.sh; each starts its own clusters)
# and prints a last line "N passed, N failed"; the exit status is non-zero on
# any failure. Clusters are stopped even when something fails.
#
#   test/run.sh              everything
#   test/run.sh unit|sanitize|fuzz|regress|scripts ...   only those stages (after build)
#
# Environment: QUARRY_DATA (default ../shared/data next to the repository): real
# data some tests use; when absent they skip with a message. QUARRY_KEEP=1 keeps
# the workspace (logs, clusters' data) for inspection. QUARRY_DESTDIR=DIR installs
# into a private copy of PostgreSQL in DIR (test/private_pg.sh) instead of the
# system's, so several checkouts can be tested side by side. QUARRY_T=REGEX runs
# only the scripts in test/t whose file name matches.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	export PG_BINDIR="$QUARRY_DESTDIR$(pg_config --bindir)"
fi
source test/lib/cluster.sh

stages=("$@")
[[ ${#stages[@]} -eq 0 ]] && stages=(unit sanitize fuzz regress scripts)
want() {
	local s
	for s in "${stages[@]}"; do [[ $s == "$1" ]] && return 0; done
	return 1
}

passed=0
failed=0
failures=()
pass() { passed=$((passed + $1)); }
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAILED: $1"
}
summary() {
	echo
	if [[ ${#failures[@]} -gt 0 ]]; then
		echo "Failures:"
		printf '  %s\n' "${failures[@]}"
	fi
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
}

workspace=""
cleanup() {
	if [[ -n $workspace ]]; then
		cluster_stop "$workspace/regress"
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
echo "== dependencies"
if ! test/deps.sh test; then
	fail "installing dependencies"
	summary
	exit 1
fi
install_cmd=(make -s install)
[[ $(id -u) -ne 0 ]] && install_cmd=(sudo make -s install)
if [[ -n ${QUARRY_DESTDIR:-} ]]; then
	test/private_pg.sh "$QUARRY_DESTDIR"
	install_cmd=(make -s install DESTDIR="$QUARRY_DESTDIR")
fi

echo "== build and install"
if ! make -s -j"$(nproc)" >build.log 2>&1 || ! "${install_cmd[@]}" >>build.log 2>&1; then
	tail -40 build.log
	fail "make && make install (see build.log)"
	summary
	exit 1
fi
rm -f build.log
pass 1

workspace=$(make_workspace test)

# --- 3: unit tests ----------------------------------------------------------
run_ctest() { # name build-dir cmake-args...
	local name=$1 dir=$2
	shift 2
	echo "== unit tests ($name)"
	if ! cmake -S . -B "$dir" "$@" >"$workspace/cmake-$name.log" 2>&1 ||
		! cmake --build "$dir" -j"$(nproc)" >>"$workspace/cmake-$name.log" 2>&1; then
		tail -40 "$workspace/cmake-$name.log"
		fail "unit tests ($name): build"
		return
	fi
	local out total nfailed
	out=$(ctest --test-dir "$dir" --output-on-failure --timeout 600 2>&1)
	echo "$out" | grep -E "tests passed|Failed|\*\*\*" | tail -30
	total=$(echo "$out" | sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p')
	nfailed=$(echo "$out" | sed -n 's/.* \([0-9]*\) tests failed out of.*/\1/p')
	if [[ -z $total ]]; then
		fail "unit tests ($name): ctest did not finish"
		return
	fi
	pass $((total - nfailed))
	if [[ $nfailed -gt 0 ]]; then
		failed=$((failed + nfailed))
		failures+=("unit tests ($name): $nfailed failed")
	fi
}
want unit && run_ctest plain build/unit -DCMAKE_BUILD_TYPE=RelWithDebInfo
want sanitize && run_ctest asan+ubsan build/asan -DQUARRY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

# --- 3b: fuzzing --------------------------------------------------------------
if want fuzz; then
	echo "== fuzzing (${QUARRY_FUZZ_SECONDS:-60} s per target)"
	mkdir -p "$workspace/fuzz"
	if test/fuzz/run.sh "${QUARRY_FUZZ_SECONDS:-60}" "$workspace/fuzz"; then
		pass 1
	else
		fail "fuzzing (reproducers in $workspace/fuzz)"
	fi
fi

# --- 4: pg_regress ------------------------------------------------------------
if want regress; then
	echo "== pg_regress"
	mkdir -p "$workspace/regress"
	cp -r sql expected "$workspace/regress/"
	[[ $(id -u) -eq 0 ]] && chown -R postgres: "$workspace/regress"
	port=$(free_port)
	if ! cluster_start "$workspace/regress" "$port" "lc_messages='C'"; then
		fail "pg_regress: cluster did not start"
	else
		tests=$(make -s regress-list)
		pg_regress="$(dirname "$("$PG_BINDIR/pg_config" --pgxs)")/../test/regress/pg_regress"
		out=$(cd "$workspace/regress" && as_cluster_user "$pg_regress" --inputdir=. --outputdir=. \
			--host="$workspace/regress" --port="$port" --bindir="$PG_BINDIR" \
			--load-extension=quarry --dbname=quarry_regression $tests 2>&1)
		echo "$out" | grep -E "^(test| +[a-z_0-9]+ +\.\.\.)|\.\.\. |^(not )?ok [0-9]+ " | sed 's/^/  /'
		# A test counts as passed only when pg_regress says so for it by name:
		# "test name ... ok" (PostgreSQL 15) or "ok N - name" (16 and later).
		for name in $tests; do
			if echo "$out" | grep -qE "^(test +| *)$name +\.\.\. +ok|^ok +[0-9]+ +[-+] +$name( |$)"; then
				pass 1
			else
				fail "pg_regress: $name"
			fi
		done
		if [[ -f $workspace/regress/regression.diffs ]]; then
			head -200 "$workspace/regress/regression.diffs"
		fi
		if [[ -z $tests ]]; then
			fail "pg_regress: no test ran"
		fi
		if grep -qE "terminated by signal|server process .* was terminated" "$workspace/regress/server.log"; then
			grep -E "terminated by signal" "$workspace/regress/server.log" | head
			fail "pg_regress: a backend crashed (see server.log)"
		fi
	fi
	cluster_stop "$workspace/regress"
fi

# --- 5: scripts in test/t -----------------------------------------------------
if want scripts; then
	echo "== test/t"
	export QUARRY_REPO=$repo PG_BINDIR
	perl5lib="$(dirname "$("$PG_BINDIR/pg_config" --pgxs)")/../test/perl"
	for script in test/t/*.pl test/t/*.sh; do
		[[ -e $script ]] || continue
		name=$(basename "$script")
		[[ -n ${QUARRY_T:-} && ! $name =~ $QUARRY_T ]] && continue
		tdir="$workspace/t/${name%.*}"
		mkdir -p "$tdir"
		[[ $(id -u) -eq 0 ]] && chown -R postgres: "$workspace/t"
		start=$(date +%s)
		if [[ $script == *.pl ]]; then
			(cd "$tdir" && as_cluster_user env PATH="$PG_BINDIR:$PATH" PERL5LIB="$perl5lib:$repo/test/lib" \
				TESTDIR="$tdir" PG_REGRESS=true QUARRY_DATA="$QUARRY_DATA" QUARRY_REPO="$repo" \
				timeout 1800 prove -v "$repo/$script") >"$tdir/output.log" 2>&1
		else
			(cd "$tdir" && QUARRY_WORKSPACE="$tdir" timeout 1800 "$repo/$script") >"$tdir/output.log" 2>&1
		fi
		status=$?
		elapsed=$(($(date +%s) - start))
		if [[ $status -eq 0 ]]; then
			pass 1
			skipped=$(grep -m1 -oE "(# )?SKIP.*|skipped:.*" "$tdir/output.log" || true)
			printf '  %-40s ok   %4ss %s\n' "$name" "$elapsed" "$skipped"
		else
			printf '  %-40s FAILED (exit %s) %4ss\n' "$name" "$status" "$elapsed"
			tail -40 "$tdir/output.log" | sed 's/^/    /'
			fail "test/t/$name"
		fi
	done
fi

summary
