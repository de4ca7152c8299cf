#!/usr/bin/env bash
# canary.sh proves the cluster's CNI enforces NetworkPolicy promptly before
# the cluster is called up, so the first netverify run after a cold start
# sees the same CNI as every later one (a cold Cilium compiles its datapath
# and regenerates endpoints on first use). It creates one namespace of its
# own, checks a client reaches a server, applies a deny-all ingress policy,
# measures how long until the client is blocked, and deletes the namespace.
# With SERVER-NODE and CLIENT-NODE, the pods are pinned there: the policy
# is enforced by the server's node.
#   canary.sh [deadline-seconds [SERVER-NODE CLIENT-NODE]]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
deadline=${1:-180}
server_node=${2:-} client_node=${3:-}
ns=nv-cluster-canary${server_node:+-$server_node}
pin() { [[ -n $1 ]] && echo "nodeName: $1" || true; }
cleanup() { kc delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
kc delete namespace "$ns" --ignore-not-found --wait=true --timeout=60s >/dev/null
kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $ns, labels: {app.kubernetes.io/managed-by: netverify-cluster}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: $ns, labels: {app: server}}
spec:
  $(pin "$server_node")
  containers:
  - {name: server, image: $AGNHOST_IMAGE, imagePullPolicy: Never, args: [serve-hostname, --http=false, --tcp, --port, "8080"]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: $ns}
spec:
  $(pin "$client_node")
  containers:
  - {name: client, image: $AGNHOST_IMAGE, imagePullPolicy: Never, args: [pause]}
YAML
kc -n "$ns" wait --for=condition=Ready pod/server pod/client --timeout=120s >/dev/null \
  || die "canary pods not Ready: $(kc -n "$ns" get pods -o wide 2>&1)"
ip=$(kc -n "$ns" get pod server -o jsonpath='{.status.podIP}')
# probe prints allowed, blocked (agnhost's TIMEOUT marker) or error: an exec
# that broke is never taken for "blocked".
probe() {
  local out
  if out=$(kc -n "$ns" exec client -- /agnhost connect "$ip:8080" --timeout=1s --protocol=tcp 2>&1); then
    echo allowed
  elif grep -q '^TIMEOUT' <<<"$out"; then
    echo blocked
  else
    echo error
  fi
}
t0=$SECONDS
until [[ $(probe) == allowed ]]; do
  ((SECONDS - t0 < 60)) || die "canary: the client never reached the server without any policy"
  sleep 1
done
kc apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-ingress, namespace: $ns}
spec: {podSelector: {matchLabels: {app: server}}, policyTypes: [Ingress]}
YAML
t0=$SECONDS
until [[ $(probe) == blocked ]]; do
  ((SECONDS - t0 < deadline)) || die "canary: a deny-all ingress policy was not enforced within ${deadline}s"
  sleep 0.5
done
log "canary${server_node:+ ($server_node)}: a new NetworkPolicy took effect within $((SECONDS - t0))s"
