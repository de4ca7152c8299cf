#!/usr/bin/env bash
# down.sh stops everything the local cluster started and removes its state:
# processes (by PID file, then any leftover running from the cluster's own
# paths), containers, mounts, interfaces, netfilter tables, Cilium BPF state,
# routing rules. It copes with the leftovers of a run that was killed.
#   down.sh [--quiet]
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
quiet=false; [[ "${1:-}" == --quiet ]] && quiet=true
say() { $quiet || log "$@"; }
[[ $EUID -eq 0 ]] || die "the local cluster needs root"

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

# 1. components, in reverse order of start
for c in kube-proxy kubelet cilium-agent kube-scheduler kube-controller-manager kube-apiserver etcd stub; do
  [[ -f "$STATE/pids/$c.pid" ]] && { say "stopping $c"; kill_pidfile "$STATE/pids/$c.pid"; }
done
# containers: kill shims of our containerd and everything under them
for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD_SOCK" || true); do
  pkill -KILL -P "$shim" 2>/dev/null; pkill -KILL -g "$(ps -o pgid= -p "$shim" | tr -d ' ')" 2>/dev/null
  kill -KILL "$shim" 2>/dev/null
done
# container processes re-parented elsewhere: anything still in kubepods cgroups
for cg in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods; do
  [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
done
[[ -f "$STATE/pids/containerd.pid" ]] && kill_pidfile "$STATE/pids/containerd.pid"
# anything still running a binary from the cluster's build cache or state dir
for p in "$CACHE/kubernetes-" "$CACHE/cilium-" "$CACHE/coredns-" "$TOOLS_BIN/stub" "containerd --config $STATE"; do
  pkill -KILL -f "$p" 2>/dev/null
done
sleep 0.3

# 2. rules and state the agents leave behind
if [[ -x "$K8S_BIN/kube-proxy" ]]; then "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1; fi
# (iptables-save output is captured first: `… | grep -q` fails under pipefail)
rules4=$(iptables-save 2>/dev/null); rules6=$(ip6tables-save 2>/dev/null)
if ip link show cilium_host >/dev/null 2>&1 || [[ -d /sys/fs/bpf/tc/globals ]] || grep -q CILIUM <<<"$rules4$rules6"; then
  say "removing Cilium state"
  if [[ -x "$CILIUM_DIR/bin/cilium-dbg" ]]; then
    "$CILIUM_DIR/bin/cilium-dbg" post-uninstall-cleanup --all-state --force >/dev/null 2>&1 \
      || "$CILIUM_DIR/bin/cilium-dbg" cleanup --all-state --force >/dev/null 2>&1
  fi
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(cilium_|lxc)'); do ip link del "$l" 2>/dev/null; done
  rm -rf /sys/fs/bpf/tc/globals/cilium_* /sys/fs/bpf/cilium 2>/dev/null
  rm -rf /var/run/cilium
fi

# chains the agents leave (Cilium's, kubelet's KUBE-FIREWALL and canaries,
# the bridge plugin's CNI-*): drop every line that names them
for t in iptables ip6tables; do
  rules=$($t-save 2>/dev/null) || continue
  if grep -qE 'CILIUM|KUBE-|CNI-' <<<"$rules"; then
    grep -vE 'CILIUM|KUBE-|CNI-' <<<"$rules" | $t-restore 2>/dev/null || log "could not restore $t rules"
  fi
done

# 3. mounts under our directories (deepest first) and CNI network namespaces
for m in $(awk '{print $2}' /proc/mounts | grep -E "^($STATE|$CTRD_STATE|/run/netns/cni-|/var/run/netns/cni-)" | sort -r); do
  umount -l "$m" 2>/dev/null
done
for n in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns del "$n" 2>/dev/null; done

# 4. interfaces of the bridge mode
ip link show nvbr0 >/dev/null 2>&1 && { say "removing bridge nvbr0"; ip link del nvbr0; }

# 5. kubelet cgroups
for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
  [[ -d "$h/kubepods" ]] && find "$h/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# 6. the guard goes last, once no pod can send anything
"$here/guard.sh" remove
if [[ -f "$RUNDIR/sysctl.orig" ]]; then
  mapfile -t orig < "$RUNDIR/sysctl.orig"
  [[ -n "${orig[0]:-}" ]] && sysctl -qw "net.ipv4.ip_forward=${orig[0]}"
  [[ -n "${orig[1]:-}" ]] && sysctl -qw "net.bridge.bridge-nf-call-iptables=${orig[1]}" 2>/dev/null
fi
[[ -f "$RUNDIR/mounted-bpffs" ]] && umount /sys/fs/bpf 2>/dev/null
# netfilter tables the agents created (iptables-nft makes ip filter/nat/…):
# delete those that were not there before the first cluster-up and are empty now
if [[ -f "$RUNDIR/nft-tables.orig" ]]; then
  while read -r _ fam name; do
    [[ -z "$name" ]] && continue
    grep -qx "table $fam $name" "$RUNDIR/nft-tables.orig" && continue
    if ! nft list table "$fam" "$name" 2>/dev/null | grep -vqE '^\s*(table |chain |type |policy |\}|$)'; then
      nft delete table "$fam" "$name" 2>/dev/null
    fi
  done < <(nft list tables 2>/dev/null)
fi
rm -rf "$STATE" "$CTRD_STATE" "$RUNDIR"
say "local cluster removed"
exit 0
