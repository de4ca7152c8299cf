# shellcheck shell=bash
# Shared settings and helpers of the local cluster scripts.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
CACHE="${NETVERIFY_CACHE:-$HOME/.cache/netverify}"
STATE="${NETVERIFY_CLUSTER_STATE:-/var/lib/netverify-cluster}"
RUNDIR=/run/netverify-cluster
CTRD_STATE=/run/netverify-containerd
CTRD_SOCK=$CTRD_STATE/containerd.sock
KUBECONFIG_PATH="$STATE/kubeconfig"
NODE_NAME=netverify-node
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SVC_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
# "Outside" test addresses answered by the stub network namespace.
STUB_ADDRS=(169.254.169.254 100.100.100.200 203.0.113.10)
# An address that exists nowhere: pod traffic to it is dropped silently on
# this machine (a blackhole route), for tests of targets that do not answer.
NOWHERE_ADDR=203.0.113.99
STUB_NS=nvstub
STUB_HOST_IF=nvstub0
STUB_NS_IF=nvstub1
STUB_HOST_IP=172.31.254.1
STUB_NS_IP=172.31.254.2
STUB_TABLE=4242
STUB_RULE_PRIO=1000
GUARD_TABLE=netverify_guard
# The cgroup (in every hierarchy) the kubelet puts all pods under.
CGROUP_PARENT=netverify
K8S_BIN="$CACHE/kubernetes-$KUBERNETES_VERSION-$K8S_RECIPE/bin"
CILIUM_DIR="$CACHE/cilium-$CILIUM_VERSION"
CNP_CRD_DIR="$CACHE/network-policy-api-$NETWORK_POLICY_API_VERSION/crds"
OPENREPORTS_CRD_DIR="$CACHE/openreports-$OPENREPORTS_VERSION/crds"
COREDNS_BIN="$CACHE/coredns-$COREDNS_VERSION/bin/coredns"
TOOLS_BIN="$CACHE/tools/bin"
KUBECTL="$K8S_BIN/kubectl"

# Image references: named like the upstream images netverify uses by default,
# so the same pod specs work here and on real clusters.
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_TAG"
AGNHOST_IMAGE="registry.k8s.io/e2e-test-images/agnhost:$AGNHOST_TAG"
BUSYBOX_IMAGE="registry.k8s.io/e2e-test-images/busybox:$BUSYBOX_TAG"
COREDNS_IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_TAG"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# link_names prints the names of this machine's network interfaces.
link_names() { ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1; }

uplink_dev() { ip -4 route show default | awk '{for(i=1;i<NF;i++) if($i=="dev"){print $(i+1); exit}}'; }
node_ip() { ip -4 -o addr show dev "$(uplink_dev)" | awk '{split($4,a,"/"); print a[1]; exit}'; }

# start NAME CMD... runs a component in the background, logging to
# $STATE/logs/NAME.log, its PID in $STATE/pids/NAME.pid, its command line in
# $STATE/cmds/NAME.
start() {
  local name=$1; shift
  mkdir -p "$STATE/logs" "$STATE/pids" "$STATE/cmds"
  printf '%s\0' "$@" > "$STATE/cmds/$name"   # for restart.sh
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pids/$name.pid"
}

# fail_with NAME MSG prints the last lines of a component's log and exits.
fail_with() {
  local name=$1; shift
  log "$*"
  if [[ -f "$STATE/logs/$name.log" ]]; then
    log "last lines of $STATE/logs/$name.log:"
    tail -n 40 "$STATE/logs/$name.log" >&2
  fi
  exit 1
}

# kill_pidfile FILE stops the process group a PID file names (start puts
# each component in its own session) and removes the file.
kill_pidfile() {
  local f=$1 pid
  pid=$(cat "$f" 2>/dev/null) || return 0
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

alive() { [[ -f "$STATE/pids/$1.pid" ]] && kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }

# wait_for NAME SECONDS CMD... polls CMD until it succeeds, the component
# dies, or time runs out.
wait_for() {
  local name=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "$name" ]] && ! alive "$name"; then fail_with "$name" "$name exited"; fi
    (( SECONDS < deadline )) || fail_with "$name" "timed out after ${secs}s waiting for $name: $*"
    sleep 0.5
  done
}

# gen_cert NAME CN O [SANs] writes $STATE/pki/NAME.{key,crt}, signed by the cluster CA.
gen_cert() { # name CN O [SANs]
  local pki="$STATE/pki" name=$1 cn=$2 o=$3 sans=${4:-}
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  local ext="$pki/$name.ext"
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"; [[ -n "$sans" ]] && echo "subjectAltName=$sans"; } > "$ext"
  openssl req -new -key "$pki/$name.key" -subj "/CN=$cn${o:+/O=$o}" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
}
# write_kubeconfig PATH CERT KEY
write_kubeconfig() { # path cert key
  cat > "$1" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: netverify-local
  cluster: {server: "https://$(node_ip):6443", certificate-authority-data: $(base64 -w0 < "$STATE/pki/ca.crt")}
users:
- name: $(basename "$2" .crt)
  user: {client-certificate-data: $(base64 -w0 < "$2"), client-key-data: $(base64 -w0 < "$3")}
contexts:
- name: netverify-local
  context: {cluster: netverify-local, user: $(basename "$2" .crt)}
current-context: netverify-local
KCFG
  chmod 600 "$1"
}

# bridge_conflist SUBNET IPAM-DIR MASQ prints the CNI configuration of mode
# none: the bridge plugin, host-local addresses from SUBNET.
bridge_conflist() {
  cat <<CNICONF
{"cniVersion": "0.4.0", "name": "netverify-bridge", "plugins": [
  {"type": "bridge", "bridge": "nvbr0", "isGateway": true, "ipMasq": $3, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$1"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$2"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
CNICONF
}

# The second node (NODES=2): a kubelet, kube-proxy, containerd and Cilium
# agent of their own in a network namespace (behind a veth) and a mount
# namespace of their own (held by a long-lived holder process), joined to
# the same control plane. See node2.sh.
NODE2_NAME=netverify-node-2
NODE2_NS=nvnode2
NODE2_HOST_IF=nvn2h
NODE2_IF=eth0
NODE2_HOST_IP=172.31.253.1
NODE2_IP=172.31.253.2
NODE2_STATE="$STATE/node2"
CTRD2_STATE=/run/netverify-containerd-2
CTRD2_SOCK=$CTRD2_STATE/containerd.sock
CGROUP_PARENT2=nvnode2
# Paths the kubelet, containerd, the CNI plugin and the agent hard-code:
# node 2 has its own, bound over these in its mount namespace.
NODE2_PRIVATE_DIRS=(/run/cilium /run/netns /run/containerd /var/log/pods /var/log/containers /var/lib/cni /var/lib/kubelet)

# nodes prints how many nodes the running (or starting) cluster has.
nodes() { cat "$STATE/nodes" 2>/dev/null || echo 1; }

# node2_enter sets N2_ENTER to the command prefix that enters node 2's
# network and mount namespaces (nsenter execs the command: PID files hold
# the component's own PID).
node2_enter() {
  local holder; holder=$(cat "$STATE/pids/node2-holder.pid" 2>/dev/null) || die "node 2 is not running"
  N2_ENTER=(nsenter --net="/run/netns/$NODE2_NS" --mount="/proc/$holder/ns/mnt" --)
}
# in_node2 CMD... runs CMD in node 2's namespaces.
in_node2() { node2_enter; "${N2_ENTER[@]}" "$@"; }
