#!/usr/bin/env bash
# fuzz.sh FUZZTIME PKG:TARGET... — run each Go fuzz target for FUZZTIME.
#
# Fuzzing is discovery; the deterministic gate is the seed corpus, which
# `go test ./...` replays. A real finding always leaves a reproducer under
# PKG/testdata/fuzz/TARGET/ ("Failing input written to …"), and that fails
# this script with the whole log and the command that replays it. The Go
# fuzzing engine can also end a run with a bare "context deadline exceeded"
# when -fuzztime expires while a worker is mid-input, without any finding
# (golang/go#75804); such a run, and only such a run, is repeated once.
set -euo pipefail

fuzztime=$1
shift
go=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

corpus() { # files in the target's corpus directory, one per line
	local dir=$1/testdata/fuzz/$2
	[ -d "$dir" ] && find "$dir" -type f | sort || true
}

# boundary_flake LOG: the run failed only because -fuzztime ran out.
boundary_flake() {
	grep -q 'context deadline exceeded' "$1" &&
		! grep -qE 'Failing input written to|panic:|fuzzing process hung|_test\.go:[0-9]+:' "$1"
}

for t in "$@"; do
	pkg=${t%%:*} name=${t#*:}
	for attempt in 1 2; do
		echo "fuzz $name ($pkg, $fuzztime)"
		before=$(corpus "$pkg" "$name")
		if "$go" test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "./$pkg" >"$log" 2>&1; then
			break
		fi
		added=$(comm -13 <(printf '%s\n' "$before") <(corpus "$pkg" "$name") | sed '/^$/d')
		if [ -z "$added" ] && [ "$attempt" = 1 ] && boundary_flake "$log"; then
			echo "fuzz $name: the fuzzing engine stopped at the time limit without a finding (golang/go#75804); running it again" >&2
			continue
		fi
		cat "$log" >&2
		for f in $added; do
			echo "reproduce: $go test -run='^$name/$(basename "$f")\$' ./$pkg" >&2
		done
		exit 1
	done
done
