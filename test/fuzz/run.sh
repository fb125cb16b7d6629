#!/usr/bin/env bash
# Builds the libFuzzer targets of test/fuzz (clang, ASan + UBSan) and runs each
# for a bounded time over its corpus in test/fuzz/corpus/<target> (read-only:
# what a run discovers goes to a scratch directory). Prints the executions per
# target; exits non-zero when a target finds a crash, a leak or a violated
# property (the reproducer is kept and printed).
#
#   test/fuzz/run.sh [SECONDS_PER_TARGET] [WORKDIR]     (default 60, a temp dir)
#   QUARRY_FUZZ_MERGE=1 test/fuzz/run.sh 600          then adds what it found to the corpora
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-60}
work=${2:-$(mktemp -d /tmp/quarry-fuzz.XXXXXX)}
build=$repo/build/fuzz

if ! command -v clang++ >/dev/null; then
	echo "fuzz: clang++ is missing (test/deps.sh installs it)" >&2
	exit 1
fi
if ! CXX=clang++ cmake -S "$repo" -B "$build" -DQUARRY_FUZZ=ON >"$work/cmake.log" 2>&1 ||
	! cmake --build "$build" -j"$(nproc)" >>"$work/cmake.log" 2>&1; then
	tail -30 "$work/cmake.log"
	exit 1
fi

targets=(codec posting dict_page engine query_syntax highlight positions phrase vector_formats code_decoder term_statistics)
status=0
total=0
for target in "${targets[@]}"; do
	found=$work/$target
	mkdir -p "$found"
	log=$work/$target.log
	(cd "$work" && "$build/${target}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$work/$target-" "$found" "$repo/test/fuzz/corpus/$target") >"$log" 2>&1
	rc=$?
	execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
	total=$((total + ${execs:-0}))
	if [[ $rc -eq 0 ]]; then
		printf '  %-12s %10s executions, no finding\n' "$target" "$execs"
	else
		printf '  %-12s FINDING after %s executions (exit %s):\n' "$target" "$execs" "$rc"
		grep -E 'ERROR|violated|SUMMARY|Test unit written' "$log" | head -5 | sed 's/^/    /'
		status=1
	fi
done
echo "  fuzz total: $total executions"
[[ ${QUARRY_FUZZ_MERGE:-0} == 1 ]] && for target in "${targets[@]}"; do
	"$build/${target}_fuzz" -merge=1 "$repo/test/fuzz/corpus/$target" "$work/$target" >/dev/null 2>&1
done
[[ -z ${2:-} && $status -eq 0 ]] && rm -rf "$work"
exit $status
