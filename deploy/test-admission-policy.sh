#!/usr/bin/env bash
# Checks deploy/'s RBAC and ValidatingAdmissionPolicy on a real API server.
#
# Starts a private etcd and kube-apiserver on loopback ports (no kubelet, no
# controllers), applies deploy/kustomize/base, then makes requests as
# netverify's service account (impersonated by an admin) and checks each is
# admitted or denied — by the policy, by RBAC or by PodSecurity — as intended.
# With bin/netverify built, it also runs `netverify run` as the service
# account up to the point where probe pods would need a node.
#
# Needs openssl, etcd (Debian's) and kube-apiserver + kubectl: K8S_BIN, or the
# local cluster's build ($HOME/.cache/netverify/kubernetes-v1.37.2-r2/bin, made by
# `make cluster-up`). The binaries are copied to a temporary directory first,
# because e2e/cluster/down.sh ends every process started from the build cache.
#
#   deploy/test-admission-policy.sh      # prints "N passed, M failed"
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_BIN=${K8S_BIN:-$HOME/.cache/netverify/kubernetes-v1.37.2-r2/bin}
for f in kube-apiserver kubectl; do
  [[ -x $K8S_BIN/$f ]] || { echo "no $K8S_BIN/$f: run 'make cluster-up' once, or set K8S_BIN" >&2; exit 2; }
done
for c in etcd openssl; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install etcd-server openssl)" >&2; exit 2; }
done

W=$(mktemp -d /tmp/netverify-vap.XXXXXX)
pids=()
cleanup() { # the API server first (it waits for etcd while shutting down), then etcd
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { # a loopback port nobody listens on
  local p
  while :; do
    p=$(( 20000 + RANDOM % 20000 ))
    ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

mkdir -p "$W/bin" "$W/pki" "$W/etcd"
cp "$K8S_BIN/kube-apiserver" "$K8S_BIN/kubectl" "$W/bin/"
(
  cd "$W/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=netverify-vap-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj /CN=admin/O=system:masters 2>/dev/null
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 1 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
)
ETCD=$(free_port) PEER=$(free_port) API=$(free_port)
setsid etcd --name vap --data-dir "$W/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD" --advertise-client-urls "http://127.0.0.1:$ETCD" \
  --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
  --initial-cluster "vap=http://127.0.0.1:$PEER" >"$W/etcd.log" 2>&1 &
pids+=($!)
setsid "$W/bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD" --bind-address=127.0.0.1 --secure-port="$API" \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none --cert-dir="$W/pki/serving" \
  --service-cluster-ip-range=10.123.0.0/24 --authorization-mode=RBAC --client-ca-file="$W/pki/ca.crt" \
  --service-account-key-file="$W/pki/sa.pub" --service-account-signing-key-file="$W/pki/sa.key" \
  --service-account-issuer=https://netverify-vap.invalid --disable-admission-plugins=ServiceAccount \
  --profiling=false >"$W/apiserver.log" 2>&1 &
pids+=($!)
cat >"$W/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: vap, cluster: {server: "https://127.0.0.1:$API", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {client-certificate: $W/pki/admin.crt, client-key: $W/pki/admin.key}}]
contexts: [{name: vap, context: {cluster: vap, user: admin}}]
current-context: vap
EOF
K=("$W/bin/kubectl" --kubeconfig "$W/kubeconfig")
SA=(--as=system:serviceaccount:netverify:netverify)
ready=
for _ in $(seq 1 120); do
  "${K[@]}" --request-timeout=5s get --raw /readyz >/dev/null 2>&1 && { ready=1; break; }
  sleep 1
done
[[ -n $ready ]] || { echo "kube-apiserver did not become ready:" >&2; tail -20 "$W/apiserver.log" >&2; exit 2; }
echo "api server ready after ${SECONDS}s" >&2

"${K[@]}" kustomize deploy/kustomize/base >"$W/base.yaml"
"${K[@]}" apply -f "$W/base.yaml" >/dev/null
# The policy is enforced once the API server's informer has seen it.
for _ in $(seq 1 30); do
  "${K[@]}" "${SA[@]}" create namespace probe-policy-ready --dry-run=server >/dev/null 2>&1 || break
  sleep 1
done

echo "policy in force after ${SECONDS}s" >&2

pass=0 fail=0
# check NAME WANT CMD...: WANT is allow, deny (this policy), RBAC, PSA or error
check() {
  local name=$1 want=$2 out rc got
  shift 2
  out=$("$@" 2>&1) && rc=0 || rc=$?
  if grep -q "ValidatingAdmissionPolicy 'netverify-confine'" <<<"$out"; then got=deny
  elif grep -q "violates PodSecurity" <<<"$out"; then got=PSA
  elif grep -q "is forbidden: User" <<<"$out"; then got=RBAC
  elif ((rc != 0)); then got=error
  else got=allow; fi
  if [[ $got == "$want" ]]; then
    pass=$((pass + 1)); echo "ok   $name ($got)"
  else
    fail=$((fail + 1)); echo "FAIL $name: want $want, got $got: $(tail -c 400 <<<"$out")"
  fi
}
create() { # create NAMESPACE JSON [as-sa]
  local ns=$1 json=$2
  shift 2
  "${K[@]}" "$@" ${ns:+-n "$ns"} create -f - <<<"$json"
}

RUN=abc123 NS=nv-abc123-1-app
nsjson() { printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s","labels":{%s}}}' "$1" "$2"; }
RUNL='"app.kubernetes.io/managed-by":"netverify","netverify.io/run-id":"'$RUN'"'
POD='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"probe","image":"netverify/probe:v0.1.0","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}'
ROOTPOD='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"root"},"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"x"}]}}'
NP='{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np"},"spec":{"podSelector":{}}}'
EVENT='{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1"},"involvedObject":{"kind":"ConfigMap","name":"netverify-report","namespace":"netverify"},"reason":"NetworkPolicyMismatch","message":"m","type":"Warning"}'
"${K[@]}" create namespace team-a >/dev/null
create default "$POD" >/dev/null

check "create an unlabelled namespace" deny "${K[@]}" "${SA[@]}" create namespace plain
check "create a run namespace" allow create "" "$(nsjson $NS "$RUNL,\"pod-security.kubernetes.io/enforce\":\"restricted\"")" "${SA[@]}"
check "create a run namespace without PodSecurity restricted" deny create "" "$(nsjson nv-x-2 "$RUNL")" "${SA[@]}"
check "create a namespace with an empty run id" deny create "" "$(nsjson nv-x-3 '"app.kubernetes.io/managed-by":"netverify","netverify.io/run-id":"","pod-security.kubernetes.io/enforce":"restricted"')" "${SA[@]}"
check "create a probe pod in the run namespace" allow create $NS "$POD" "${SA[@]}"
check "create a pod in default" deny create default "$POD" "${SA[@]}"
check "create a hostNetwork root pod in the run namespace" PSA create $NS "$ROOTPOD" "${SA[@]}"
check "create a service in the run namespace" allow "${K[@]}" "${SA[@]}" -n $NS create service clusterip web --tcp=80:8080
check "create a service in default" deny "${K[@]}" "${SA[@]}" -n default create service clusterip web --tcp=80:8080
check "create a NetworkPolicy in the run namespace" allow create $NS "$NP" "${SA[@]}"
check "create a NetworkPolicy in kube-system" deny create kube-system "$NP" "${SA[@]}"
check "create a secret (no RBAC without --image-pull-secret)" RBAC "${K[@]}" "${SA[@]}" -n $NS create secret generic s --from-literal=a=b
check "heartbeat patch of the run namespace" allow "${K[@]}" "${SA[@]}" patch namespace $NS --type=merge -p '{"metadata":{"annotations":{"netverify.io/heartbeat":"2026-01-01T00:00:00Z"}}}'
check "weaken the run namespace's PodSecurity" deny "${K[@]}" "${SA[@]}" patch namespace $NS --type=merge -p '{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}'
check "label default as a run namespace" deny "${K[@]}" "${SA[@]}" patch namespace default --type=merge -p '{"metadata":{"labels":{'"$RUNL"',"pod-security.kubernetes.io/enforce":"restricted"}}}'
check "delete the netverify namespace" deny "${K[@]}" "${SA[@]}" delete namespace netverify --wait=false
check "delete another namespace" deny "${K[@]}" "${SA[@]}" delete namespace team-a --wait=false
# exec is a CONNECT: the policy runs before the API server looks for the
# pod's node, so an admitted exec fails later here ("error"), a denied one
# names the policy.
check "exec into the run namespace's pod (admitted)" error "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/$NS/pods/p/exec?command=true&container=probe&stdout=true" -f /dev/null
check "exec (POST) into a pod in default" deny "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/default/pods/p/exec?command=true&container=probe&stdout=true" -f /dev/null
check "exec (GET) into a pod in default" deny "${K[@]}" "${SA[@]}" get --raw "/api/v1/namespaces/default/pods/p/exec?command=true&container=probe&stdout=true"
check "port-forward (no RBAC)" RBAC "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/$NS/pods/p/portforward?ports=80" -f /dev/null
check "create the report ConfigMap" allow "${K[@]}" "${SA[@]}" -n netverify create configmap netverify-report --from-literal=latest.json={}
check "update the report ConfigMap" allow sh -c "'${K[0]}' --kubeconfig '$W/kubeconfig' ${SA[*]} -n netverify get configmap netverify-report -o json | '${K[0]}' --kubeconfig '$W/kubeconfig' ${SA[*]} replace -f -"
check "create another ConfigMap in netverify" deny "${K[@]}" "${SA[@]}" -n netverify create configmap other
check "delete the report ConfigMap (no RBAC)" RBAC "${K[@]}" "${SA[@]}" -n netverify delete configmap netverify-report
check "create a Warning event in netverify" allow create netverify "$EVENT" "${SA[@]}"
check "create an event elsewhere (no RBAC)" RBAC create default "$EVENT" "${SA[@]}"
check "self-subject access review" allow "${K[@]}" "${SA[@]}" auth can-i create pods
# what `run --report-configmap` checks before it starts: the namespace, no name
for verb in get create update; do
  check "can-i $verb configmaps in netverify" allow "${K[@]}" "${SA[@]}" -n netverify auth can-i "$verb" configmaps
done
check "delete the run namespace" allow "${K[@]}" "${SA[@]}" delete namespace $NS --wait=false
check "other users are not confined" allow "${K[@]}" create namespace made-by-admin

if [[ -x bin/netverify ]]; then
  # Everything `run` does before probing — access check, namespaces, pods,
  # heartbeat, deletion — is admitted; pods never get a node here, so it ends
  # with exit 2 after --ready-timeout.
  out=$(bin/netverify run --kubeconfig "$W/kubeconfig" "${SA[@]}" --ready-timeout 5s \
    --report-configmap netverify/netverify-report -f deploy/kustomize/base/scenarios/example.yaml 2>&1) && rc=0 || rc=$?
  if ((rc == 2)) && grep -q "not Ready" <<<"$out" && ! grep -q "netverify-confine\|is forbidden" <<<"$out"; then
    pass=$((pass + 1)); echo "ok   netverify run as the service account is admitted"
  else
    fail=$((fail + 1)); echo "FAIL netverify run as the service account (exit $rc): $out"
  fi
fi

echo "admission policy: $pass passed, $fail failed"
((fail == 0))
