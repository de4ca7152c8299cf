#!/usr/bin/env bash
# bench.sh measures netverify's probing phase on the local Cilium cluster
# (brought up when it is not running) and writes docs/benchmarks.md:
# a 9-pod matrix (3 namespaces × 3 pods, TCP 80 and 81: 162 probes) and a
# 30-pod matrix (1,800 probes), batched vs per-probe, side by side; the
# in-place check of a live namespace; and, on the two-node cluster
# (NODES=2), a 100-pod matrix: 50 pods spread over both nodes, 10,000 probes
# (BENCH_NODES_ONLY=1 measures only that and keeps the rest of the file).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
KCFG=/var/lib/netverify-cluster/kubeconfig
# cluster_up N: the enforcing local cluster with N nodes (kept when it runs)
cluster_up() {
  if ! { [[ -f $KCFG ]] && [[ $(cat /var/lib/netverify-cluster/cni-mode 2>/dev/null) == cilium ]] \
         && [[ $(cat /var/lib/netverify-cluster/nodes 2>/dev/null || echo 1) == "$1" ]] \
         && /var/lib/netverify-cluster/bin/kubectl --kubeconfig $KCFG get --raw /readyz >/dev/null 2>&1; }; then
    NODES=$1 e2e/cluster/up.sh cilium >&2
  fi
}
CGO_ENABLED=0 go build -o bin/bench ./e2e/bench

# two_nodes: the 100-pod matrix on two nodes, written as the last section
# of docs/benchmarks.md
two_nodes() {
  cluster_up 2
  local out; out=$(mktemp)
  for i in 1 2; do
    echo "[bench] two nodes: 100 pods, 10,000 probes ($i/2)" >&2
    bin/bench -kubeconfig "$KCFG" -namespaces 5 -pods-per-ns 10 -ports 1 -mode batch | tee -a "$out"
  done
  local rest; rest=$(mktemp)
  sed '/^## Two nodes/,$d' docs/benchmarks.md > "$rest"
  {
    cat "$rest"
    echo "## Two nodes: a 100-pod matrix"
    echo
    echo "Measured $(date -u +%Y-%m-%d) ($(nproc) cores) on the two-node local cluster (\`make cluster-up NODES=2\`: both nodes on"
    echo "this machine, Cilium enforcing on each): 50 pods in 5 namespaces, each spread over both nodes (100 probe pods), every"
    echo "pod to every pod on TCP 80, each expectation probed on a same-node and a cross-node pair from each node (a pod to"
    echo "itself on its own node): 9,900 probes, one policy. Columns as above; exec calls per round stay at most the source"
    echo "pods (one per pod per round). On 2 cores, 100 pods running their batches at once saturate the CPUs: the run notes"
    echo "the cluster busy (rounds of up to about 18 s, attempts that timed out late not counted) and waits for more"
    echo "observations per verdict instead of taking a late timeout for a block."
    echo
    echo "| nodes | pods | probes | probing (s) | end-to-end (s) | exec calls | max exec calls / round | source pods | rounds | peak RSS (MiB) | passed |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    python3 -c '
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    print("| %d | %d | %d | %.2f | %.1f | %d | %d | %d | %d | %.0f | %d/%d |" % (r["nodes"],r["pods"],r["probes"],r["probingSec"],r["totalSec"],r["execCalls"],r["maxExecCallsPerRound"],r["sourcePods"],r["rounds"],r["peakRssMiB"],r["passed"],r["probes"]))
' "$out"
    echo
    echo '```'
    cat "$out"
    echo '```'
  } > docs/benchmarks.md
  echo "[bench] wrote the two-node section of docs/benchmarks.md" >&2
}
if [[ "${BENCH_NODES_ONLY:-}" == 1 ]]; then
  two_nodes
  exit 0
fi
cluster_up 1
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
nodes_section=$(mktemp)
sed -n '/^## Two nodes/,$p' docs/benchmarks.md > "$nodes_section"
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
if [[ "${BENCH_INPLACE_ONLY:-}" == 1 ]]; then
  if [[ -s $nodes_section ]]; then echo >> docs/benchmarks.md; cat "$nodes_section" >> docs/benchmarks.md; fi
else
  two_nodes
fi
