#!/usr/bin/env bash
# Runs every native Go fuzz target (func FuzzXxx in *_test.go) for
# FUZZTIME each: `go test -fuzz` takes one target per invocation, so this
# loops. New interesting inputs stay in the build cache; failing inputs
# are written to the package's testdata/fuzz/<Target>/ (commit them with
# the fix: they become regression tests that every `go test` runs).
#   FUZZTIME=100x scripts/fuzz.sh          # what make test does: 100 executions
#   FUZZTIME=3s scripts/fuzz.sh            # 3 s each (the warm-up counts)
#   FUZZTIME=10m scripts/fuzz.sh FuzzRouter  # one target, longer
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-3s}"
PARALLEL="${FUZZ_PARALLEL:-2}"
# Go minimizes every new interesting input for up to a minute, and those
# minutes count no executions: FUZZ_MINIMIZE=1s keeps a long run executing.
MINIMIZE="${FUZZ_MINIMIZE:-60s}"
only="${1:-}"
status=0
summary=()
# package directory and target name of every fuzz target
while IFS=: read -r file target; do
	pkg="./$(dirname "$file")"
	if [ -n "$only" ] && [ "$target" != "$only" ]; then continue; fi
	echo "== fuzz $pkg $target ($FUZZTIME)"
	log="$(mktemp)"
	start=$SECONDS
	if $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" -parallel "$PARALLEL" "$pkg" 2>&1 | tee "$log" | grep -v '^fuzz: elapsed' ; then :; fi
	if grep -q '^ok' "$log"; then result=ok; else result=FAIL; status=1; fi
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)"
	summary+=("$(printf '%-6s %-28s %-18s %10s execs %5ss' "$result" "$target" "$pkg" "${execs:-?}" "$((SECONDS - start))")")
	tail -n 3 "$log" | grep -E '^(fuzz: elapsed|ok|FAIL|---)' || true
	rm -f "$log"
done < <(git ls-files '*_test.go' 2>/dev/null | xargs grep -H -o '^func Fuzz[A-Za-z0-9_]*' | sed 's/:func /:/' | sort)
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
exit $status
