#!/usr/bin/env bash
# run.sh runs the e2e suites on the local cluster, once per CNI mode:
# bring the cluster up, run `go test -tags e2e ./e2e/...` against it, tear it
# down — also when a test fails. Fails (never skips) when a cluster cannot
# be brought up. A mode with two nodes (cilium-mixed, or MODE@2) runs the
# node-coverage tests (TestNodes) only: the single-node modes run the rest.
#   run.sh [cilium] [none] [cilium-noenforce] [cilium-mixed] [cilium@2]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
modes=("$@"); ((${#modes[@]})) || modes=(cilium none cilium-noenforce cilium-mixed)
trap 'e2e/cluster/down.sh --quiet' EXIT
rc=0
declare -A outcome
for mode in "${modes[@]}"; do
  t0=$SECONDS
  cni=${mode%@*} nodes=1
  [[ $mode == *@* ]] && nodes=${mode#*@}
  [[ $cni == cilium-mixed ]] && nodes=2
  only=(); ((nodes > 1)) && only=(-run 'TestNodes')
  echo "=== e2e: bringing up the local cluster (CNI=$cni, $nodes node(s))" >&2
  if ! NODES=$nodes e2e/cluster/up.sh "$cni" >&2; then
    echo "=== e2e: FAILED to bring up the local cluster (CNI=$mode)" >&2
    outcome[$mode]="cluster-up FAILED"; rc=1; continue
  fi
  up=$((SECONDS - t0))
  go test -tags e2e -count=1 -timeout 25m -parallel 4 -v "${only[@]}" ./e2e/ -args -cni="$cni" -nodes="$nodes" \
    -kubeconfig=/var/lib/netverify-cluster/kubeconfig 2>&1 | tee "/tmp/netverify-e2e-$mode.log" \
    | grep --line-buffered -E '^(=== RUN|\s*--- |PASS|FAIL|ok|panic|\s+\S+_test.go)'
  st=${PIPESTATUS[0]}
  if [[ $st -eq 0 ]]; then outcome[$mode]="ok (up ${up}s, total $((SECONDS - t0))s)"
  else outcome[$mode]="tests FAILED (full log: /tmp/netverify-e2e-$mode.log)"; rc=1; fi
  e2e/cluster/down.sh --quiet
done
echo "=== e2e summary" >&2
for mode in "${modes[@]}"; do echo "  $mode: ${outcome[$mode]}" >&2; done
exit $rc
