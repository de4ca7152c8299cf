#!/usr/bin/env bash
# demo.sh: bring up the local enforcing cluster (Cilium) and run netverify's
# built-in suite on it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
e2e/cluster/up.sh cilium >&2
export KUBECONFIG=/var/lib/netverify-cluster/kubeconfig
echo >&2
echo "=== netverify run (built-in suite) on the local Cilium cluster" >&2
set +e
bin/netverify run
code=$?
set -e
cat >&2 <<MSG

netverify exited $code (0: every expectation met; 1: a mismatch; 2: a tool error or a broken probe).

The cluster is still up:
  export KUBECONFIG=$KUBECONFIG PATH=/var/lib/netverify-cluster/bin:\$PATH
  kubectl get nodes
  bin/netverify run -f examples/frontend-backend.yaml -o json

See the alarm a non-enforcing CNI raises (exit 1, the denied connections listed as mismatches):
  make cluster-up CNI=none            # the plain bridge plugin: no policy engine
  make cluster-up CNI=cilium-noenforce  # Cilium with policy enforcement off
  bin/netverify run

Tear it all down:
  make cluster-down
MSG
exit $code
