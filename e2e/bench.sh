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
# BENCH_INPLACE_ONLY=1 measures only the in-place run and keeps the
# synthetic section of docs/benchmarks.md as it is
if [[ "${BENCH_INPLACE_ONLY:-}" != 1 ]]; then
  run -namespaces 3 -pods-per-ns 3 -mode batch
  run -namespaces 3 -pods-per-ns 3 -mode per-probe
  run -namespaces 3 -pods-per-ns 10 -mode batch
  if [[ "${BENCH_SKIP_SLOW:-}" != 1 ]]; then run -namespaces 3 -pods-per-ns 10 -mode per-probe; fi
fi

# In place: `netverify run -n production` on the e2e fixture (the guides'
# application: 3 Deployments × 2 replicas, 2 Services, their policies),
# end to end as a user runs it: wall time and peak RSS of the process.
KC=(/var/lib/netverify-cluster/bin/kubectl --kubeconfig "$KCFG")
make -s build >&2
sed "s|AGNHOST|registry.k8s.io/e2e-test-images/agnhost:2.53|" e2e/testdata/production/workloads.yaml | "${KC[@]}" apply -f - >&2
"${KC[@]}" apply -f e2e/testdata/production/policies.yaml >&2
"${KC[@]}" -n production wait deployment --all --for=condition=Available --timeout=180s >&2
"${KC[@]}" -n monitoring wait deployment --all --for=condition=Available --timeout=180s >&2
inplace=$(mktemp)
for i in 1 2 3; do
  echo "[bench] run -n production ($i/3)" >&2
  /usr/bin/time -f '%e %M' -o "$inplace.time" bin/netverify --kubeconfig "$KCFG" run -n production -o json > "$inplace.json" || true
  python3 -c '
import json,sys
r=json.load(open(sys.argv[1])); wall,rss=open(sys.argv[2]).read().split()
s=r["summary"]
print(json.dumps({"run":int(sys.argv[3]),"expectations":s["total"],"passed":s["passed"],"implementationDefined":s["implementationDefined"],
  "pipelineSec":round(r["durationMs"]/1000,2),"wallSec":float(wall),"peakRssMiB":round(int(rss)/1024,1),"exitCode":r["exitCode"]}))
' "$inplace.json" "$inplace.time" "$i" >> "$inplace"
done
"${KC[@]}" delete namespace production monitoring --wait=true >&2
synthetic=$(mktemp)
if [[ "${BENCH_INPLACE_ONLY:-}" == 1 ]]; then
  sed '/^## In place/,$d' docs/benchmarks.md > "$synthetic"
else
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
    echo
  } > "$synthetic"
fi
{
  cat "$synthetic"
  echo "## In place: \`netverify run -n production\`"
  echo
  echo "Measured $(date -u +%Y-%m-%d) ($(nproc) cores) on the e2e fixture (e2e/testdata/production: the guides' application, 3 Deployments"
  echo "× 2 replicas, 2 Services and their policies), checked in place with no scenario, as a user runs it: *wall* is the whole"
  echo "process (reading the namespace, probe pods in place and in the namespaces of the outside source and the witness,"
  echo "probing, cleanup until every probe pod is gone); *pipeline* is the report's duration (cleanup excluded). Aim: under"
  echo "20 s end to end."
  echo
  echo "| run | expectations | passed | implementation-defined | pipeline (s) | wall (s) | peak RSS (MiB) | exit |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    print("| %d | %d | %d | %d | %.2f | %.1f | %.0f | %d |" % (r["run"],r["expectations"],r["passed"],r["implementationDefined"],r["pipelineSec"],r["wallSec"],r["peakRssMiB"],r["exitCode"]))
' "$inplace"
  echo
  echo '```'
  cat "$inplace"
  echo '```'
} > docs/benchmarks.md
echo "[bench] wrote docs/benchmarks.md" >&2
