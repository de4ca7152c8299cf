#!/usr/bin/env bash
# Checks deploy/'s RBAC and ValidatingAdmissionPolicy on a real API server.
#
# Starts a private etcd and kube-apiserver on loopback ports and a
# kube-controller-manager with only the serviceaccount and namespace
# controllers (no kubelet, no scheduler), applies deploy/kustomize/inplace
# (the base, plus in-place checks of namespace "production"), then makes
# requests as netverify's service account (impersonated by an admin) and
# checks each is admitted or denied — by the policy, by RBAC or by
# PodSecurity — as intended. With bin/netverify built, it also runs
# `netverify run` as the service account, with a scenario and in place (-n
# production), up to the point where probe pods would need a node.
#
# Needs openssl, etcd (Debian's), jq, curl, and kube-apiserver,
# kube-controller-manager and kubectl: K8S_BIN, or the local cluster's build
# ($HOME/.cache/netverify/kubernetes-v1.37.2-r2/bin, made by `make
# cluster-up`). The binaries are copied to a temporary directory first,
# because e2e/cluster/down.sh ends every process started from the build cache.
#
#   deploy/test-admission-policy.sh      # prints "N passed, M failed"
#   VERBOSE=1 deploy/test-admission-policy.sh   # and the end of every answer
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_BIN=${K8S_BIN:-$HOME/.cache/netverify/kubernetes-v1.37.2-r2/bin}
for f in kube-apiserver kube-controller-manager kubectl; do
  [[ -x $K8S_BIN/$f ]] || { echo "no $K8S_BIN/$f: run 'make cluster-up' once, or set K8S_BIN" >&2; exit 2; }
done
for c in etcd openssl jq curl; do
  command -v "$c" >/dev/null || { echo "needs $c (apt-get install etcd-server openssl jq curl)" >&2; exit 2; }
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
cp "$K8S_BIN/kube-apiserver" "$K8S_BIN/kube-controller-manager" "$K8S_BIN/kubectl" "$W/bin/"
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
  --allow-privileged=true --profiling=false >"$W/apiserver.log" 2>&1 & # (as clusters run it: privileged pods reach admission)
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
# The default ServiceAccount of each new namespace (netverify waits for it)
# and the deletion of namespaces (netverify waits for that too).
setsid "$W/bin/kube-controller-manager" --kubeconfig="$W/kubeconfig" --controllers=serviceaccount,namespace \
  --leader-elect=false --secure-port=0 --profiling=false >"$W/controller-manager.log" 2>&1 &
pids+=($!)

# The namespace checked in place exists before its Role is applied, and the
# policy report kinds are served (their CRDs, with no schema to speak of).
"${K[@]}" create namespace production >/dev/null
crd() { # crd GROUP VERSION KIND PLURAL
  printf '{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"%s.%s"},"spec":{"group":"%s","scope":"Namespaced","names":{"kind":"%s","listKind":"%sList","plural":"%s","singular":"%s"},"versions":[{"name":"%s","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}' \
    "$4" "$1" "$1" "$3" "$3" "$4" "${3,,}" "$2" | "${K[@]}" create -f - >/dev/null
  "${K[@]}" wait --for condition=established --timeout=60s "crd/$4.$1" >/dev/null
}
crd openreports.io v1alpha1 Report reports
crd wgpolicyk8s.io v1alpha2 PolicyReport policyreports
"${K[@]}" kustomize deploy/kustomize/inplace >"$W/inplace.yaml"
"${K[@]}" apply -f "$W/inplace.yaml" >/dev/null
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
    [[ -z ${VERBOSE:-} ]] || echo "     $(tail -c 300 <<<"$out")"
  else
    fail=$((fail + 1)); echo "FAIL $name: want $want, got $got: $(tail -c 400 <<<"$out")"
  fi
}
sapatch() { # sapatch API-PATH MERGE-PATCH: a PATCH as the service account, as netverify makes it (no GET first, unlike kubectl patch)
  curl -sS --fail-with-body -k --cert "$W/pki/admin.crt" --key "$W/pki/admin.key" \
    -H "Impersonate-User: ${SA[0]#--as=}" -H "Content-Type: application/merge-patch+json" \
    -X PATCH --data "$2" "https://127.0.0.1:$API$1"
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

# In place. production has a workload (a Deployment and its pod, marked
# Running by hand: there is no kubelet) and Role netverify-inplace; team-a
# and default have no such Role. No PodSecurity label on production: only
# the policy keeps probe pods unprivileged there.
P=(-n production)
WEB=web-7d9f8b6c5-x2k4q
create production '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}}}' >/dev/null
create production '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"'$WEB'","labels":{"app":"web","pod-template-hash":"7d9f8b6c5"}},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}' >/dev/null
"${K[@]}" "${P[@]}" patch pod $WEB --subresource=status --type=merge -p '{"status":{"phase":"Running","podIP":"10.244.0.10","podIPs":[{"ip":"10.244.0.10"}],"conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
"${K[@]}" "${P[@]}" create configmap app-config --from-literal=a=b >/dev/null
"${K[@]}" "${P[@]}" create configmap netverify-xyz789 --from-literal=a=b >/dev/null # not netverify's, whatever its name
"${K[@]}" -n kube-system create service clusterip kube-dns --tcp=53:53 >/dev/null
"${K[@]}" -n kube-system create service clusterip metrics --tcp=443:443 >/dev/null

OWNER='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"netverify-'$RUN'","labels":{'"$RUNL"'},"annotations":{"netverify.io/heartbeat":"2026-01-01T00:00:00Z"}},"data":{"run":"'$RUN'"}}'
owner() { # owner NAME LABELS: a ConfigMap labelled LABELS (JSON members)
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","labels":{%s}}}' "$1" "$2"
}
check "in place: create the owner ConfigMap" allow create production "$OWNER" "${SA[@]}"
check "in place: heartbeat patch of the owner ConfigMap" allow sapatch /api/v1/namespaces/production/configmaps/netverify-$RUN '{"metadata":{"annotations":{"netverify.io/heartbeat":"2026-01-01T00:00:30Z"}}}'
check "in place: unlabel the owner ConfigMap" deny sapatch /api/v1/namespaces/production/configmaps/netverify-$RUN '{"metadata":{"labels":{"app.kubernetes.io/managed-by":null}}}'
check "in place: patch a workload's ConfigMap" deny sapatch /api/v1/namespaces/production/configmaps/app-config '{"data":{"a":"c"}}'
check "in place: an owner ConfigMap whose run id is not its name's" deny create production "$(owner netverify-zzz999 "$RUNL")" "${SA[@]}"
check "in place: an owner ConfigMap without managed-by" deny create production "$(owner netverify-def456 '"netverify.io/run-id":"def456"')" "${SA[@]}"
check "in place: a ConfigMap of another name" deny create production "$(owner app-settings "$RUNL")" "${SA[@]}"
check "in place: delete a workload's ConfigMap" deny "${K[@]}" "${SA[@]}" "${P[@]}" delete configmap app-config
check "in place: delete an unlabelled ConfigMap named like an owner" deny "${K[@]}" "${SA[@]}" "${P[@]}" delete configmap netverify-xyz789
check "in place: an owner ConfigMap where netverify has no Role (no RBAC)" RBAC create team-a "$(owner netverify-$RUN "$RUNL")" "${SA[@]}"

# A probe pod as netverify makes it (orchestrator probePod + inplace.Confine),
# impersonating web; then one change at a time, each denied.
UID_=$("${K[@]}" "${P[@]}" get configmap netverify-$RUN -o jsonpath='{.metadata.uid}')
PROBE='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nv-'$RUN'-web","labels":{"app":"web","netverify.io/run-id":"'$RUN'","netverify.io/scenario":"live-production"},
"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"netverify-'$RUN'","uid":"'$UID_'","controller":true,"blockOwnerDeletion":false}]},
"spec":{"automountServiceAccountToken":false,"enableServiceLinks":false,"restartPolicy":"Never","terminationGracePeriodSeconds":1,
"readinessGates":[{"conditionType":"netverify.io/never-ready"}],
"securityContext":{"runAsNonRoot":true,"runAsUser":65532,"runAsGroup":65532,"seccompProfile":{"type":"RuntimeDefault"}},
"containers":[{"name":"probe","image":"netverify/probe:v0.1.0","command":["/netverify-probe"],"args":["serve"],
"env":[{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}'
probe() { # probe JQ-FILTER: the probe pod, changed
  jq -c "$1" <<<"$PROBE"
}
C='.spec.containers[0]'
check "in place: create a probe pod" allow create production "$PROBE" "${SA[@]}"
for variant in \
  "without an owner|del(.metadata.ownerReferences)" \
  "owned by another run's ConfigMap|.metadata.ownerReferences[0].name = \"netverify-zzz999\"" \
  "owned, but not controlled|.metadata.ownerReferences[0].controller = false" \
  "with a second owner|.metadata.ownerReferences += [{apiVersion: \"apps/v1\", kind: \"ReplicaSet\", name: \"web-7d9f8b6c5\", uid: \"1\"}]" \
  "without the readiness gate|del(.spec.readinessGates)" \
  "with a service account token|.spec.automountServiceAccountToken = true" \
  "without a run id|del(.metadata.labels[\"netverify.io/run-id\"])" \
  "named like a workload's pod|.metadata.name = \"web-6f5c4d3b2-abcde\"" \
  "named for another run|.metadata.name = \"nv-zzz999-web\"" \
  "with hostNetwork|.spec.hostNetwork = true" \
  "with hostPID|.spec.hostPID = true" \
  "with a hostPort|$C.ports = [{containerPort: 8080, hostPort: 8080}]" \
  "mounting a Secret|.spec.volumes = [{name: \"s\", secret: {secretName: \"db\"}}] | $C.volumeMounts = [{name: \"s\", mountPath: \"/s\"}]" \
  "with an emptyDir|.spec.volumes = [{name: \"tmp\", emptyDir: {}}]" \
  "with environment from a Secret|$C.envFrom = [{secretRef: {name: \"db\"}}]" \
  "with a Secret key in its environment|$C.env += [{name: \"PW\", valueFrom: {secretKeyRef: {name: \"db\", key: \"pw\"}}}]" \
  "privileged|del($C.securityContext.allowPrivilegeEscalation) | $C.securityContext.privileged = true" \
  "allowing privilege escalation|$C.securityContext.allowPrivilegeEscalation = true" \
  "adding NET_RAW|$C.securityContext.capabilities.add = [\"NET_RAW\"]" \
  "keeping its capabilities|del($C.securityContext.capabilities)" \
  "running as root|.spec.securityContext.runAsNonRoot = false | .spec.securityContext.runAsUser = 0" \
  "with a privileged init container|.spec.initContainers = [{name: \"init\", image: \"busybox\", securityContext: {privileged: true}}]"; do
  check "in place: a probe pod ${variant%%|*}" deny create production "$(probe ".metadata.name = \"nv-$RUN-x\" | ${variant#*|}")" "${SA[@]}"
done
check "in place: a probe pod where netverify has no Role" deny create team-a "$PROBE" "${SA[@]}"
check "in place: a probe pod in kube-system" deny create kube-system "$PROBE" "${SA[@]}"
check "in place: label the workload's pod (no RBAC)" RBAC sapatch /api/v1/namespaces/production/pods/$WEB '{"metadata":{"labels":{"x":"y"}}}'
check "in place: exec into the probe pod (admitted)" error "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/production/pods/nv-$RUN-web/exec?command=true&container=probe&stdout=true" -f /dev/null
check "in place: exec (POST) into the workload's pod" deny "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/production/pods/$WEB/exec?command=true&container=web&stdout=true" -f /dev/null
check "in place: exec (GET) into the workload's pod" deny "${K[@]}" "${SA[@]}" get --raw "/api/v1/namespaces/production/pods/$WEB/exec?command=true&container=web&stdout=true"
check "in place: exec into a probe pod where netverify has no Role" deny "${K[@]}" "${SA[@]}" create --raw "/api/v1/namespaces/team-a/pods/nv-$RUN-web/exec?command=true&container=probe&stdout=true" -f /dev/null
check "in place: delete the workload's pod" deny "${K[@]}" "${SA[@]}" "${P[@]}" delete pod $WEB --wait=false
check "in place: delete the probe pod" allow "${K[@]}" "${SA[@]}" "${P[@]}" delete pod nv-$RUN-web --wait=false

report() { # report KIND NAME [LABELS]: a policy report of either kind
  local api=openreports.io/v1alpha1
  [[ $1 == PolicyReport ]] && api=wgpolicyk8s.io/v1alpha2
  printf '{"apiVersion":"%s","kind":"%s","metadata":{"name":"%s","labels":{%s}},"summary":{"pass":1}}' "$api" "$1" "$2" "${3:-}"
}
MB='"app.kubernetes.io/managed-by":"netverify"'
check "in place: create the Report netverify" allow create production "$(report Report netverify "$MB")" "${SA[@]}"
check "in place: update the Report netverify" allow sh -c "'${K[0]}' --kubeconfig '$W/kubeconfig' ${SA[*]} -n production get reports.openreports.io netverify -o json | '${K[0]}' --kubeconfig '$W/kubeconfig' ${SA[*]} replace -f -"
check "in place: a Report of another name" deny create production "$(report Report other "$MB")" "${SA[@]}"
check "in place: a PolicyReport without managed-by" deny create production "$(report PolicyReport netverify)" "${SA[@]}"
create production "$(report PolicyReport netverify)" >/dev/null # someone else's
check "in place: take over someone else's PolicyReport netverify" deny sh -c "'${K[0]}' --kubeconfig '$W/kubeconfig' -n production get policyreports.wgpolicyk8s.io netverify -o json | jq -c '.metadata.labels[\"app.kubernetes.io/managed-by\"] = \"netverify\"' | '${K[0]}' --kubeconfig '$W/kubeconfig' ${SA[*]} replace -f -"
check "in place: delete the Report (no RBAC)" RBAC "${K[@]}" "${SA[@]}" "${P[@]}" delete reports.openreports.io netverify
check "in place: a Report where netverify has no Role (no RBAC)" RBAC create team-a "$(report Report netverify "$MB")" "${SA[@]}"

# Reads pass no admission: RBAC alone.
check "in place: list the Deployments" allow "${K[@]}" "${SA[@]}" "${P[@]}" get deployments
check "in place: list the disruption budgets" allow "${K[@]}" "${SA[@]}" "${P[@]}" get poddisruptionbudgets
check "in place: read a Secret (no RBAC)" RBAC "${K[@]}" "${SA[@]}" "${P[@]}" get secrets
check "in place: list Deployments where netverify has no Role (no RBAC)" RBAC "${K[@]}" "${SA[@]}" -n team-a get deployments
check "in place: read the cluster DNS Service" allow "${K[@]}" "${SA[@]}" -n kube-system get service kube-dns
check "in place: read another kube-system Service (no RBAC)" RBAC "${K[@]}" "${SA[@]}" -n kube-system get service metrics
check "in place: list kube-system's NetworkPolicies" allow "${K[@]}" "${SA[@]}" -n kube-system get networkpolicies
check "in place: list kube-system's ConfigMaps (no RBAC)" RBAC "${K[@]}" "${SA[@]}" -n kube-system get configmaps
check "in place: delete the owner ConfigMap" allow "${K[@]}" "${SA[@]}" "${P[@]}" delete configmap netverify-$RUN

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
  # In place: every probe pod netverify makes in production (impersonating
  # web) and its owner ConfigMap are admitted, and deleted again at the end.
  out=$(bin/netverify run --kubeconfig "$W/kubeconfig" "${SA[@]}" --ready-timeout 5s \
    -n production --policy-reports 2>&1) && rc=0 || rc=$?
  left=$("${K[@]}" "${P[@]}" get pods,configmaps -l netverify.io/run-id -o name)
  if ((rc == 2)) && grep -q "not Ready" <<<"$out" && grep -q "pod production/nv-" <<<"$out" &&
    ! grep -q "netverify-confine\|is forbidden" <<<"$out" && [[ -z $left ]]; then
    pass=$((pass + 1)); echo "ok   netverify run -n production as the service account is admitted"
    [[ -z ${VERBOSE:-} ]] || echo "$out"
  else
    fail=$((fail + 1)); echo "FAIL netverify run -n production as the service account (exit $rc, left: ${left:-nothing}): $out"
  fi
fi

echo "admission policy: $pass passed, $fail failed"
((fail == 0))
