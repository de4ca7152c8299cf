#!/usr/bin/env bash
# up.sh brings up the local cluster: one node, or two with NODES=2.
#   [NODES=1|2] up.sh [cilium|none|cilium-noenforce|cilium-mixed]
# cilium            Cilium enforcing NetworkPolicy (the default)
# none              the CNI bridge plugin: no policy engine at all
# cilium-noenforce  Cilium with --enable-policy=never: a real CNI that ignores policy
# cilium-mixed      two nodes: node 1's agent enforces, node 2's runs with
#                   --enable-policy=never (a node whose agent fails open)
# The last line printed is `export KUBECONFIG=<path>`.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
CNI="${1:-${CNI:-cilium}}"
case "$CNI" in cilium|none|cilium-noenforce|cilium-mixed) ;; *) die "unknown CNI mode '$CNI' (want cilium, none, cilium-noenforce or cilium-mixed)";; esac
NODES="${NODES:-1}"
[[ $CNI == cilium-mixed ]] && NODES=2
case "$NODES" in 1|2) ;; *) die "NODES=$NODES: the local cluster has 1 or 2 nodes";; esac
[[ $EUID -eq 0 ]] || die "the local cluster needs root"
t0=$SECONDS

# --- 1. packages and builds ------------------------------------------------
"$here/deps.sh"
"$here/build.sh" all
"$here/images.sh"

# --- 2. a clean slate: remove whatever an earlier (killed) run left ---------
"$here/down.sh" --quiet

mkdir -p "$RUNDIR"
# What this machine had before the cluster: down.sh removes only what is new
# (netfilter tables, iptables chains and rules, links, network namespaces).
[[ -f "$RUNDIR/nft-tables.orig" ]] || nft list tables > "$RUNDIR/nft-tables.orig" 2>/dev/null || true
[[ -f "$RUNDIR/iptables.orig" ]] || iptables-save 2>/dev/null | grep -v '^#' > "$RUNDIR/iptables.orig" || true
[[ -f "$RUNDIR/ip6tables.orig" ]] || ip6tables-save 2>/dev/null | grep -v '^#' > "$RUNDIR/ip6tables.orig" || true
[[ -f "$RUNDIR/links.orig" ]] || link_names > "$RUNDIR/links.orig"
[[ -f "$RUNDIR/netns.orig" ]] || { ip netns list 2>/dev/null | awk '{print $1}' > "$RUNDIR/netns.orig"; }
# (ip netns makes /run/netns a mount point on first use)
[[ -f "$RUNDIR/netns-dir.orig" ]] || { mountpoint -q /run/netns && echo mount || echo none; } > "$RUNDIR/netns-dir.orig"
# A failed bring-up removes what it started (its logs are kept for a look).
on_exit() {
  local rc=$?
  ((rc == 0)) && return
  local keep="${TMPDIR:-/tmp}/netverify-cluster-failed-logs"
  rm -rf "$keep"; cp -r "$STATE/logs" "$keep" 2>/dev/null && log "bring-up failed: component logs kept in $keep"
  log "bring-up failed: removing what it started"
  "$here/down.sh" --quiet
}
trap on_exit EXIT
# The cluster's own cgroup parent: every pod runs under it, and down.sh
# stops exactly the processes in it.
for h in /sys/fs/cgroup/*/; do
  [[ -f "$h/cgroup.procs" ]] || continue
  mkdir -p "$h$CGROUP_PARENT"
  if [[ -f "$h/cpuset.cpus" ]]; then
    cat "$h/cpuset.cpus" > "$h$CGROUP_PARENT/cpuset.cpus"; cat "$h/cpuset.mems" > "$h$CGROUP_PARENT/cpuset.mems"
  fi
done
mkdir -p "$STATE"/{pki,logs,pids,bin,etcd,kubelet,cni/bin,cni/net.d,cilium-cni} "$RUNDIR"
echo "$CNI" > "$STATE/cni-mode"
echo "$NODES" > "$STATE/nodes"
NODE_IP="$(node_ip)"; UPLINK="$(uplink_dev)"
[[ -n "$NODE_IP" && -n "$UPLINK" ]] || die "cannot find this machine's uplink address"
log "mode=$CNI node=$NODE_NAME ip=$NODE_IP uplink=$UPLINK state=$STATE"

# --- 3. kernel settings, mounts --------------------------------------------
[[ -f "$RUNDIR/sysctl.orig" ]] || sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables > "$RUNDIR/sysctl.orig" 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || true
if ! mountpoint -q /sys/fs/bpf; then
  mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf && touch "$RUNDIR/mounted-bpffs"
fi

# --- 4. the egress guard and the stub network -------------------------------
"$here/guard.sh" install "$UPLINK"
"$here/guard.sh" verify "$UPLINK" || die "egress guard not verified: refusing to start the cluster"
if ((NODES == 2)); then
  # node 2's link comes up only behind the guard, which is verified again
  # with it (its routes); its mount namespace is made before node 1 runs
  # any pod, so it holds copies of none of their mounts
  "$here/node2.sh" net
  "$here/guard.sh" verify "$UPLINK" || die "egress guard not verified for node 2: refusing to start the cluster"
  "$here/node2.sh" mounts
fi

# --- 5. PKI and kubeconfig --------------------------------------------------
pki="$STATE/pki"
openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=netverify-local-ca" -days 30 -out "$pki/ca.crt" 2>/dev/null
gen_cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:10.96.0.1,IP:$NODE_IP"
gen_cert admin netverify-admin system:masters
gen_cert kubelet "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
write_kubeconfig "$KUBECONFIG_PATH" "$pki/admin.crt" "$pki/admin.key"
write_kubeconfig "$STATE/kubelet.kubeconfig" "$pki/kubelet.crt" "$pki/kubelet.key"
ln -sf "$KUBECTL" "$STATE/bin/kubectl"

# --- 6. etcd and the control plane ------------------------------------------
start etcd etcd --data-dir "$STATE/etcd" --listen-client-urls http://127.0.0.1:2379 \
  --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
  --unsafe-no-fsync --quota-backend-bytes 2147483648
wait_for etcd 30 etcdctl --endpoints http://127.0.0.1:2379 endpoint health

start kube-apiserver "$K8S_BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
  --service-cluster-ip-range="$SVC_CIDR" --allow-privileged=true \
  --authorization-mode=Node,RBAC --client-ca-file="$pki/ca.crt" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/admin.crt" --kubelet-client-key="$pki/admin.key" \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --enable-admission-plugins=NodeRestriction --profiling=false --v=1
wait_for kube-apiserver 90 kc get --raw /readyz

start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG_PATH" \
  --authentication-kubeconfig="$KUBECONFIG_PATH" --authorization-kubeconfig="$KUBECONFIG_PATH" \
  --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 \
  --service-cluster-ip-range="$SVC_CIDR" --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --use-service-account-credentials=true --leader-elect=false --profiling=false --v=1
start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG_PATH" \
  --authentication-kubeconfig="$KUBECONFIG_PATH" --authorization-kubeconfig="$KUBECONFIG_PATH" \
  --leader-elect=false --profiling=false --v=1

# --- 7. containerd and images -----------------------------------------------
for p in /usr/lib/cni/*; do ln -sf "$p" "$STATE/cni/bin/"; done
ln -sf "$CILIUM_DIR/bin/cilium-cni" "$STATE/cni/bin/cilium-cni"
cat > "$STATE/containerd.toml" <<TOML
version = 2
root = "$STATE/containerd"
state = "$CTRD_STATE"
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$STATE/cni/bin"
    conf_dir = "$STATE/cni/net.d"
TOML
start containerd containerd --config "$STATE/containerd.toml"
wait_for containerd 30 ctr --address "$CTRD_SOCK" version
for img in "$CACHE"/images/*.tar; do
  ctr --address "$CTRD_SOCK" -n k8s.io images import --no-unpack=false "$img" >/dev/null \
    || fail_with containerd "importing $img failed"
done
log "images imported"

# --- 8. node agents ---------------------------------------------------------
cat > "$STATE/resolv.conf" <<RESOLV
# pods with dnsPolicy Default get no resolver off this machine
nameserver 127.0.0.1
RESOLV
cat > "$STATE/kubelet.yaml" <<KUBELET
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_PARENT
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CTRD_SOCK
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: $STATE/resolv.conf
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
readOnlyPort: 0
maxPods: 200
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
KUBELET

if [[ $CNI == none ]]; then
  # with two nodes, pods keep their addresses between nodes (host routes
  # join the bridges): no masquerading, the guard keeps them on the machine
  masq=true; ((NODES == 2)) && masq=false
  bridge_conflist "$NODE_POD_CIDR" "$STATE/cni/ipam" "$masq" > "$STATE/cni/net.d/10-bridge.conflist"
fi

start kubelet "$K8S_BIN/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
  --root-dir="$STATE/kubelet" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
start kube-proxy "$K8S_BIN/kube-proxy" --kubeconfig="$KUBECONFIG_PATH" --hostname-override="$NODE_NAME" \
  --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 --v=1
wait_for kubelet 60 kc get node "$NODE_NAME"

# The ClusterNetworkPolicy kind is served in every mode: in cilium the agent
# enforces it, in the others nothing does (the suites must say so).
kc apply --server-side -f "$CNP_CRD_DIR" >/dev/null || fail_with kube-apiserver "applying the ClusterNetworkPolicy CRD failed"
wait_for kube-apiserver 30 kc wait --for=condition=Established crd/clusternetworkpolicies.policy.networking.k8s.io --timeout=1s
# The openreports.io kinds are served in every mode too, so netverify's policy
# reports can be written and read back.
kc apply --server-side -f "$OPENREPORTS_CRD_DIR" >/dev/null || fail_with kube-apiserver "applying the OpenReports CRDs failed"
wait_for kube-apiserver 30 kc wait --for=condition=Established crd/reports.openreports.io crd/clusterreports.openreports.io --timeout=1s

if [[ $CNI != none ]]; then
  # (the API server warns that Cilium's CRD schemas use the JSON-schema format
  # idn-hostname, which it does not check: noise on every first start)
  kc apply --server-side -f "$CILIUM_DIR/crds" 2> >(grep -v 'unrecognized format "idn-hostname"' >&2) >/dev/null \
    || fail_with kube-apiserver "applying Cilium CRDs failed"
  ln -sf /usr/bin/clang-19 "$STATE/bin/clang"; ln -sf /usr/bin/llc-19 "$STATE/bin/llc"
  ln -sf /usr/bin/llvm-objcopy-19 "$STATE/bin/llvm-objcopy" 2>/dev/null || true
  policy=default; [[ $CNI == cilium-noenforce ]] && policy=never
  policy2=$policy; [[ $CNI == cilium-mixed ]] && policy2=never
  # ClusterNetworkPolicy support is behind a hidden agent flag in Cilium 1.20;
  # on in both Cilium modes (with --enable-policy=never it enforces nothing).
  touch "$RUNDIR/cilium-started"
  # The agent's default endpoint-create limit (0.5/s, burst 4, adjusted down
  # when creation is slow) answers 429 to the CNI plugin once a request would
  # wait over 60 s: with the e2e suites creating a hundred probe pods at once
  # on two cores, pods then sit in ContainerCreating behind kubelet's
  # back-off for minutes. Creation speed stays bounded by the 4 parallel
  # requests; only the queueing rate and wait are raised.
  start cilium-agent env PATH="$STATE/bin:$PATH" K8S_NODE_NAME="$NODE_NAME" \
    "$CILIUM_DIR/bin/cilium-agent" --k8s-kubeconfig-path="$KUBECONFIG_PATH" \
    --identity-allocation-mode=crd --ipam=kubernetes --enable-policy="$policy" \
    --routing-mode=tunnel --tunnel-protocol=vxlan --enable-ipv4=true --enable-ipv6=false \
    --kube-proxy-replacement=false --bpf-lb-sock=false --enable-l7-proxy=false \
    --enable-health-checking=false --enable-endpoint-health-checking=false --enable-hubble=false \
    --cgroup-root=/sys/fs/cgroup/unified --bpf-root=/sys/fs/bpf --lib-dir="$CILIUM_DIR/lib" \
    --state-dir=/var/run/cilium --cluster-name=netverify --cluster-id=0 \
    --write-cni-conf-when-ready="$STATE/cilium-cni/05-cilium.conflist" --cni-exclusive=false \
    --devices="$UPLINK" --ipv4-native-routing-cidr="$POD_CIDR" \
    --api-rate-limit="endpoint-create=rate-limit:10/s,rate-burst:20,max-wait-duration:180s,auto-adjust:false" \
    --enable-k8s-cluster-network-policy=true
  wait_for cilium-agent 180 test -s "$STATE/cilium-cni/05-cilium.conflist"
  wait_for cilium-agent 60 "$CILIUM_DIR/bin/cilium-dbg" status --brief
  cp "$STATE/cilium-cni/05-cilium.conflist" "$STATE/cni/net.d/05-cilium.conflist"
fi

wait_for kubelet 120 kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
log "node Ready after $((SECONDS - t0))s"
if ((NODES == 2)); then
  # after node 1's agent is ready: two datapath compiles do not compete
  "$here/node2.sh" start "${policy2:-none}"
  log "node 2 Ready after $((SECONDS - t0))s"
fi

# --- 9. CoreDNS -------------------------------------------------------------
sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@DNS_IP@|$DNS_IP|g" "$here/coredns.yaml" | kc apply -f - >/dev/null
wait_for kubelet 120 kc -n kube-system rollout status deployment/coredns --timeout=1s
wait_for kubelet 30 busybox nslookup kubernetes.default.svc.cluster.local "$DNS_IP"
log "CoreDNS answering"

# --- 10. enforcement canary: an enforcing cluster is up only once it enforces
# (with two nodes: a server on each node, its client on the other; in
# cilium-mixed only node 1 is expected to enforce)
if [[ $CNI == cilium && $NODES == 1 ]]; then
  "$here/canary.sh" || fail_with cilium-agent "the CNI does not enforce NetworkPolicy promptly"
elif [[ $CNI == cilium ]]; then
  "$here/canary.sh" 180 "$NODE_NAME" "$NODE2_NAME" & c1=$!
  "$here/canary.sh" 180 "$NODE2_NAME" "$NODE_NAME" || fail_with cilium-agent-2 "node 2 does not enforce NetworkPolicy promptly"
  wait $c1 || fail_with cilium-agent "node 1 does not enforce NetworkPolicy promptly"
elif [[ $CNI == cilium-mixed ]]; then
  "$here/canary.sh" 180 "$NODE_NAME" "$NODE2_NAME" || fail_with cilium-agent "node 1 does not enforce NetworkPolicy promptly"
fi
log "cluster ($CNI, $NODES node(s)) up in $((SECONDS - t0))s"
echo "export PATH=$STATE/bin:\$PATH   # the cluster's own kubectl ($KUBERNETES_VERSION)"
echo "export KUBECONFIG=$KUBECONFIG_PATH"
