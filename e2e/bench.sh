#!/usr/bin/env bash
# bench.sh measures netverify's probing phase on the local Cilium cluster
# (brought up when it is not running) and writes docs/benchmarks.md:
# a 9-pod matrix (3 namespaces × 3 pods, TCP 80 and 81: 162 probes) and a
# 30-pod matrix (1,800 probes), batched vs per-probe, side by side.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
KCFG=/var/lib/netverify-cluster/kubeconfig
if ! { [[ -f $KCFG ]] && [[ $(cat /var/lib/netverify-cluster/cni-mode 2>/dev/null) == cilium ]] \
       && /var/lib/netverify-cluster/bin/kubectl --kubeconfig $KCFG get --raw /readyz >/dev/null 2>&1; }; then
  e2e/cluster/up.sh cilium >&2
fi
CGO_ENABLED=0 go build -o bin/bench ./e2e/bench
out=$(mktemp)
run() { echo "[bench] $*" >&2; bin/bench -kubeconfig "$KCFG" "$@" | tee -a "$out"; }
run -namespaces 3 -pods-per-ns 3 -mode batch
run -namespaces 3 -pods-per-ns 3 -mode per-probe
run -namespaces 3 -pods-per-ns 10 -mode batch
if [[ "${BENCH_SKIP_SLOW:-}" != 1 ]]; then run -namespaces 3 -pods-per-ns 10 -mode per-probe; fi
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`make bench\` on the local Cilium cluster ($(nproc) cores, $(date -u +%Y-%m-%d)), one policy applied."
  echo "*Probing* runs from the moment the policies are applied until every verdict is final, enforcement wait included;"
  echo "*end-to-end* includes creating namespaces and pods, waiting for Ready, control probes and cleanup."
  echo "Targets: 9 pods (162 probes) < 5 s probing, 30 pods (1,800 probes) < 10 s, peak memory < 100 MB, exec calls per round ≤ source pods."
  echo
  echo "| pods | probes | mode | probing (s) | end-to-end (s) | exec calls | max exec calls / round | source pods | rounds | peak RSS (MiB) | passed |"
  echo "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    print("| %d | %d | %s | %.2f | %.1f | %d | %d | %d | %d | %.0f | %d/%d |" % (r["pods"],r["probes"],r["mode"],r["probingSec"],r["totalSec"],r["execCalls"],r["maxExecCallsPerRound"],r["sourcePods"],r["rounds"],r["peakRssMiB"],r["passed"],r["probes"]))
' "$out"
  echo
  echo "Raw results (JSON lines):"
  echo
  echo '```'
  cat "$out"
  echo '```'
} > docs/benchmarks.md
echo "[bench] wrote docs/benchmarks.md" >&2
