#!/usr/bin/env bash
# soak.sh runs the built-in suite SOAK_RUNS times (default 50) on the
# enforcing local cluster, from a cold start, and once on each non-enforcing
# mode, then writes docs/soak.md: wrong verdicts (target 0), the
# enforcement-latency distribution and run times. Not part of `make test`.
# SOAK_MINUTES bounds the enforcing runs' time: no run starts after it (the
# report counts the runs that were made).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
runs=${SOAK_RUNS:-50}
minutes=${SOAK_MINUTES:-0}
KCFG=/var/lib/netverify-cluster/kubeconfig
out=$(mktemp -d)
trap 'e2e/cluster/down.sh --quiet; rm -rf "$out"' EXIT
one() { # mode n
  local code=0
  bin/netverify --kubeconfig "$KCFG" run -o json > "$out/$1-$2.json" 2> "$out/$1-$2.err" || code=$?
  echo "$code" > "$out/$1-$2.exit"
  echo "[soak] $1 run $2: exit $code" >&2
}
for mode in cilium none cilium-noenforce; do
  e2e/cluster/down.sh --quiet
  e2e/cluster/up.sh "$mode" >&2
  n=1; [[ $mode == cilium ]] && n=$runs
  t0=$SECONDS
  for i in $(seq 1 "$n"); do
    if [[ $minutes -gt 0 && $((SECONDS - t0)) -ge $((minutes * 60)) ]]; then
      echo "[soak] $mode: SOAK_MINUTES=$minutes reached after $((i - 1)) runs" >&2
      break
    fi
    one "$mode" "$i"
  done
done
go run ./e2e/soak -o docs/soak.md "$out"
cat docs/soak.md
