# A check of a test script: `check LABEL EXPECTED GOT` prints "ok - LABEL",
# or "not ok - LABEL" with both values, and counts the failures in $failures
# (the script ends with `[[ $failures -eq 0 ]]` or its own summary).

failures=0

check() { # label expected got
	if [[ $2 == "$3" ]]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "#   expected: $2"
		echo "#   got:      $3"
		failures=$((failures + 1))
	fi
}
