#!/usr/bin/env bash
# node2.sh runs the local cluster's second node on this machine: its own
# network namespace ($NODE2_NS, a veth to the host with its own node IP) and
# mount namespace (held by a long-lived holder process: a fresh sysfs and
# bpffs, the cgroup hierarchies, and private directories over the paths the
# kubelet, containerd, the CNI plugin and the Cilium agent hard-code), with a
# containerd, kubelet, kube-proxy and Cilium agent of its own joined to the
# control plane up.sh started. Pod traffic between the nodes crosses Cilium's
# VXLAN tunnel over the veth. This is how kind runs nodes, minus a container
# engine. up.sh calls it; down.sh calls `node2.sh down` first.
#   node2.sh net        namespace and veth (after the guard is installed)
#   node2.sh mounts     the mount namespace and its holder
#   node2.sh start POLICY   containerd (+ images), kubelet, kube-proxy and
#                       the Cilium agent with --enable-policy=POLICY, or with
#                       POLICY "none" the bridge plugin (its pod range routed
#                       from the host); waits until the node is Ready
#   node2.sh down       stops and removes all of node 2, and only that
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
N2=$NODE2_STATE

net() {
  local uplink mtu
  uplink=$(uplink_dev); mtu=$(cat "/sys/class/net/$uplink/mtu")
  ip netns add "$NODE2_NS"
  ip link add "$NODE2_HOST_IF" mtu "$mtu" type veth peer name nvn2tmp mtu "$mtu"
  ip link set nvn2tmp netns "$NODE2_NS"
  ip netns exec "$NODE2_NS" ip link set nvn2tmp name "$NODE2_IF"
  # rp_filter off before the link is up: replies from the stub network come
  # back over another link than the default route
  sysctl -qw "net.ipv4.conf.$NODE2_HOST_IF.rp_filter=0"
  ip addr add "$NODE2_HOST_IP/30" dev "$NODE2_HOST_IF"
  ip link set "$NODE2_HOST_IF" up
  # the host (the API server, node 1's tunnel endpoint) talks to node 2 from
  # node 1's own address, the one node 2 knows it by
  ip route replace "$NODE2_IP/32" dev "$NODE2_HOST_IF" src "$(node_ip)"
  ip netns exec "$NODE2_NS" sh -c "
    set -e
    sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    sysctl -qw net.ipv4.ip_forward=1
    ip link set lo up
    ip addr add $NODE2_IP/30 dev $NODE2_IF
    ip link set $NODE2_IF up
    ip route add default via $NODE2_HOST_IP"
}

mounts() {
  mkdir -p "$N2/dirs" "$RUNDIR"
  # directories this machine did not have: removed again by down.sh
  : > "$RUNDIR/node2-created-dirs"
  local d
  for d in "${NODE2_PRIVATE_DIRS[@]}"; do
    [[ -e $d ]] || { mkdir -p "$d"; echo "$d" >> "$RUNDIR/node2-created-dirs"; }
    mkdir -p "$N2/dirs/${d//\//_}"
  done
  # the cgroup hierarchies, mounted again under the fresh sysfs (the same
  # hierarchies: node 2's cgroup root is visible to the host as well)
  local cg=()
  while read -r target fstype opts; do
    case $fstype in
      cgroup) cg+=("cgroup:${target#/sys/fs/cgroup/}:$(tr ',' '\n' <<<"$opts" | grep -vxE 'rw|ro|relatime|noatime|nosuid|nodev|noexec' | paste -sd,)") ;;
      cgroup2) cg+=("cgroup2:${target#/sys/fs/cgroup/}:") ;;
    esac
  done < <(findmnt -rn -o TARGET,FSTYPE,OPTIONS -R /sys/fs/cgroup | tail -n +2)
  local script="$N2/holder.sh"
  {
    echo 'set -e'
    echo 'umount -l /sys'
    echo 'mount -t sysfs sysfs /sys'
    echo 'mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup'
    local e type name opts
    for e in "${cg[@]}"; do
      IFS=: read -r type name opts <<<"$e"
      echo "mkdir -p /sys/fs/cgroup/$name"
      if [[ $type == cgroup2 ]]; then echo "mount -t cgroup2 none /sys/fs/cgroup/$name"
      else echo "mount -t cgroup -o $opts cgroup /sys/fs/cgroup/$name"; fi
    done
    echo 'mount -t bpf bpf /sys/fs/bpf'
    for d in "${NODE2_PRIVATE_DIRS[@]}"; do echo "mount --bind $N2/dirs/${d//\//_} $d"; done
    echo "touch $N2/holder.ready"
    echo 'exec sleep infinity'
  } > "$script"
  rm -f "$N2/holder.ready"
  # slave propagation: the host's later unmounts reach node 2's copies; its
  # own mounts never reach the host
  start node2-holder nsenter --net="/run/netns/$NODE2_NS" -- unshare --mount --propagation slave -- bash "$script"
  wait_for node2-holder 10 test -f "$N2/holder.ready"
  stat -Lc %i "/proc/$(cat "$STATE/pids/node2-holder.pid")/ns/mnt" > "$RUNDIR/node2-mntns"
}

start_node() {
  local policy=$1
  node2_enter
  # the kubelet's certificate: the Node authorizer and NodeRestriction know
  # it by this name
  gen_cert kubelet-2 "system:node:$NODE2_NAME" system:nodes "DNS:$NODE2_NAME,IP:$NODE2_IP"
  mkdir -p "$N2"/{containerd,kubelet,cni/net.d,cilium-cni}
  for h in /sys/fs/cgroup/*/; do
    [[ -f "$h/cgroup.procs" ]] || continue
    mkdir -p "$h$CGROUP_PARENT2"
    if [[ -f "$h/cpuset.cpus" ]]; then
      cat "$h/cpuset.cpus" > "$h$CGROUP_PARENT2/cpuset.cpus"; cat "$h/cpuset.mems" > "$h$CGROUP_PARENT2/cpuset.mems"
    fi
  done
  # containerd: node 1's configuration with its own root, state, socket and
  # runc root; the shims and runc inherit node 2's namespaces
  sed -e "s|^root = .*|root = \"$N2/containerd\"|" -e "s|^state = .*|state = \"$CTRD2_STATE\"|" \
      -e "s|^  address = .*|  address = \"$CTRD2_SOCK\"|" -e "s|conf_dir = .*|conf_dir = \"$N2/cni/net.d\"|" \
      -e "s|SystemdCgroup = false|SystemdCgroup = false\n        Root = \"$CTRD2_STATE/runc\"|" \
      "$STATE/containerd.toml" > "$N2/containerd.toml"
  start containerd-2 "${N2_ENTER[@]}" containerd --config "$N2/containerd.toml"
  wait_for containerd-2 30 ctr --address "$CTRD2_SOCK" version
  for img in "$CACHE"/images/*.tar; do
    ctr --address "$CTRD2_SOCK" -n k8s.io images import --no-unpack=false "$img" >/dev/null \
      || fail_with containerd-2 "importing $img on node 2 failed"
  done
  sed -e "s|^cgroupRoot: .*|cgroupRoot: /$CGROUP_PARENT2|" \
      -e "s|^containerRuntimeEndpoint: .*|containerRuntimeEndpoint: unix://$CTRD2_SOCK|" \
      -e "s|^tlsCertFile: .*|tlsCertFile: $STATE/pki/kubelet-2.crt|" \
      -e "s|^tlsPrivateKeyFile: .*|tlsPrivateKeyFile: $STATE/pki/kubelet-2.key|" \
      "$STATE/kubelet.yaml" > "$N2/kubelet.yaml"
  write_kubeconfig "$N2/kubelet.kubeconfig" "$STATE/pki/kubelet-2.crt" "$STATE/pki/kubelet-2.key"
  start kubelet-2 "${N2_ENTER[@]}" "$K8S_BIN/kubelet" --config="$N2/kubelet.yaml" --kubeconfig="$N2/kubelet.kubeconfig" \
    --root-dir="$N2/kubelet" --hostname-override="$NODE2_NAME" --node-ip="$NODE2_IP" --v=1
  start kube-proxy-2 "${N2_ENTER[@]}" "$K8S_BIN/kube-proxy" --kubeconfig="$KUBECONFIG_PATH" --hostname-override="$NODE2_NAME" \
    --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 --v=1
  wait_for kubelet-2 60 kc get node "$NODE2_NAME"
  if [[ $policy == none ]]; then
    # the bridge plugin on node 2's pod range; the host routes that range to
    # node 2 (node 2's default route is the host, which routes node 1's)
    local cidr=""
    pod_cidr_set() { [[ -n $(kc get node "$NODE2_NAME" -o jsonpath='{.spec.podCIDR}' 2>/dev/null) ]]; }
    wait_for kubelet-2 30 pod_cidr_set
    cidr=$(kc get node "$NODE2_NAME" -o jsonpath='{.spec.podCIDR}')
    bridge_conflist "$cidr" "$N2/cni/ipam" false > "$N2/cni/net.d/10-bridge.conflist"
    ip route replace "$cidr" via "$NODE2_IP" dev "$NODE2_HOST_IF"
  else
    # node 1's agent command line, for node 2: its node name, device, CNI
    # configuration path and policy mode
    local cmd=() a
    mapfile -d '' -t cmd < "$STATE/cmds/cilium-agent"
    for i in "${!cmd[@]}"; do
      a=${cmd[$i]}
      case $a in
        K8S_NODE_NAME=*) cmd[i]="K8S_NODE_NAME=$NODE2_NAME" ;;
        --devices=*) cmd[i]="--devices=$NODE2_IF" ;;
        --enable-policy=*) cmd[i]="--enable-policy=$policy" ;;
        --write-cni-conf-when-ready=*) cmd[i]="--write-cni-conf-when-ready=$N2/cilium-cni/05-cilium.conflist" ;;
      esac
    done
    start cilium-agent-2 "${N2_ENTER[@]}" "${cmd[@]}"
    wait_for cilium-agent-2 240 test -s "$N2/cilium-cni/05-cilium.conflist"
    wait_for cilium-agent-2 60 in_node2 "$CILIUM_DIR/bin/cilium-dbg" status --brief
    cp "$N2/cilium-cni/05-cilium.conflist" "$N2/cni/net.d/05-cilium.conflist"
  fi
  wait_for kubelet-2 120 kc wait --for=condition=Ready "node/$NODE2_NAME" --timeout=1s
}

# down removes node 2: its processes (by PID file, by containerd socket, by
# cgroup, and by mount namespace), then its namespaces and link.
down() {
  set +e   # remove whatever there is
  local c
  for c in kube-proxy-2 kubelet-2 cilium-agent-2; do
    [[ -f "$STATE/pids/$c.pid" ]] && kill_pidfile "$STATE/pids/$c.pid"
  done
  local shim
  for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD2_SOCK" || true); do
    pkill -KILL -P "$shim" 2>/dev/null; kill -KILL "$shim" 2>/dev/null
  done
  local cg
  for cg in /sys/fs/cgroup/*/"$CGROUP_PARENT2"; do
    [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | xargs -r kill -KILL 2>/dev/null
  done
  [[ -f "$STATE/pids/containerd-2.pid" ]] && kill_pidfile "$STATE/pids/containerd-2.pid"
  # anything else still in node 2's mount namespace (exact: by its inode)
  local ino p
  ino=$(cat "$RUNDIR/node2-mntns" 2>/dev/null || true)
  if [[ -n $ino ]]; then
    for p in /proc/[0-9]*; do
      [[ $(stat -Lc %i "$p/ns/mnt" 2>/dev/null) == "$ino" ]] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
  fi
  [[ -f "$STATE/pids/node2-holder.pid" ]] && kill_pidfile "$STATE/pids/node2-holder.pid"
  for cg in /sys/fs/cgroup/*/"$CGROUP_PARENT2"; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  if [[ -e /run/netns/$NODE2_NS ]]; then
    ip netns del "$NODE2_NS" 2>/dev/null
  fi
  ip link del "$NODE2_HOST_IF" 2>/dev/null
  for _ in $(seq 1 50); do ip link show "$NODE2_HOST_IF" >/dev/null 2>&1 || break; sleep 0.1; done
  if [[ -f "$RUNDIR/node2-created-dirs" ]]; then
    tac "$RUNDIR/node2-created-dirs" | while read -r d; do rmdir "$d" 2>/dev/null; done
  fi
  rm -rf "$CTRD2_STATE" "$N2"
  rm -f "$RUNDIR/node2-mntns" "$RUNDIR/node2-created-dirs"
}


case "${1:-}" in
  net) net ;;
  mounts) mounts ;;
  start) start_node "${2:?policy}" ;;
  down) down ;;
  *) echo "usage: $0 net|mounts|start POLICY|down" >&2; exit 2 ;;
esac
