#!/usr/bin/env bash
# down.sh stops everything the local cluster started and removes its state,
# and only that: processes by the PID files up.sh wrote, containers of its own
# containerd (by its socket) and every process in its own cgroup parent, its
# mounts, the links, network namespaces, iptables chains and rules and
# netfilter tables that were not on the machine before up.sh (it snapshots
# them), Cilium's BPF state when its agent was started. It copes with the
# leftovers of a run that was killed, and never kills or flushes by a broad
# pattern, so a kubelet, containerd or CNI of the machine's own is untouched.
#   down.sh [--quiet]
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
quiet=false; [[ "${1:-}" == --quiet ]] && quiet=true
say() { $quiet || log "$@"; }
[[ $EUID -eq 0 ]] || die "the local cluster needs root"


# 0. the second node first (NODES=2): by its PID files, containerd socket,
# cgroup root and mount namespace; then its namespaces and link
"$here/node2.sh" down
# 1. components, in reverse order of start
for c in kube-proxy kubelet cilium-agent kube-scheduler kube-controller-manager kube-apiserver etcd stub; do
  [[ -f "$STATE/pids/$c.pid" ]] && { say "stopping $c"; kill_pidfile "$STATE/pids/$c.pid"; }
done
# containers: kill shims of our containerd and everything under them
for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD_SOCK" || true); do
  pkill -KILL -P "$shim" 2>/dev/null; pkill -KILL -g "$(ps -o pgid= -p "$shim" | tr -d ' ')" 2>/dev/null
  kill -KILL "$shim" 2>/dev/null
done
# container processes re-parented elsewhere: anything still in our cgroup parent
for cg in /sys/fs/cgroup/*/"$CGROUP_PARENT"; do
  [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | xargs -r kill -KILL 2>/dev/null
done
[[ -f "$STATE/pids/containerd.pid" ]] && kill_pidfile "$STATE/pids/containerd.pid"
sleep 0.3

# 2. rules and state the agents leave behind
if [[ -x "$K8S_BIN/kube-proxy" && -f "$RUNDIR/iptables.orig" ]]; then
  # kube-proxy --cleanup flushes every KUBE- chain, the machine's own too:
  # only when there were none before the cluster
  grep -q 'KUBE-' "$RUNDIR/iptables.orig" || "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1
fi
if [[ -f "$RUNDIR/cilium-started" ]]; then
  say "removing Cilium state"
  if [[ -x "$CILIUM_DIR/bin/cilium-dbg" ]]; then
    "$CILIUM_DIR/bin/cilium-dbg" post-uninstall-cleanup --all-state --force >/dev/null 2>&1 \
      || "$CILIUM_DIR/bin/cilium-dbg" cleanup --all-state --force >/dev/null 2>&1
  fi
  rm -rf /sys/fs/bpf/tc/globals/cilium_* /sys/fs/bpf/cilium 2>/dev/null
  rm -rf /var/run/cilium
fi
# links the cluster made (Cilium's cilium_* and lxc* veths): those not on
# the machine before up.sh
if [[ -f "$RUNDIR/links.orig" ]]; then
  for l in $(link_names | grep -E '^(cilium_|lxc)' | grep -vxF -f "$RUNDIR/links.orig"); do ip link del "$l" 2>/dev/null; done
fi

# chains and rules the agents added (Cilium's, kube-proxy's and kubelet's
# KUBE-*, the bridge plugin's CNI-*): drop the lines that name them and were
# not in the snapshot up.sh took
for t in iptables ip6tables; do
  orig="$RUNDIR/$t.orig"
  [[ -f $orig ]] || continue
  rules=$($t-save 2>/dev/null | grep -v '^#') || continue
  new=$(grep -E 'CILIUM|KUBE-|CNI-' <<<"$rules" | grep -vxF -f "$orig") || true
  if [[ -n $new ]]; then
    grep -vxF -f <(printf '%s\n' "$new") <<<"$rules" | $t-restore 2>/dev/null || log "could not restore $t rules"
  fi
done

# 3. mounts under our directories (deepest first) and CNI network namespaces
# CNI network namespaces: those not there before up.sh
newns=()
if [[ -f "$RUNDIR/netns.orig" ]]; then
  mapfile -t newns < <(ip netns list 2>/dev/null | awk '/^cni-/{print $1}' | grep -vxF -f "$RUNDIR/netns.orig")
fi
mnts="^($STATE|$CTRD_STATE)(/|\$)"
for n in "${newns[@]}"; do mnts+="|^/run/netns/$n\$|^/var/run/netns/$n\$"; done
for m in $(awk '{print $2}' /proc/mounts | grep -E "$mnts" | sort -r); do
  umount -l "$m" 2>/dev/null
done
for n in "${newns[@]}"; do ip netns del "$n" 2>/dev/null; done

# 4. interfaces of the bridge mode
ip link show nvbr0 >/dev/null 2>&1 && { say "removing bridge nvbr0"; ip link del nvbr0; }

# 5. the cluster's cgroup parent, in every hierarchy
for h in /sys/fs/cgroup/*/; do
  [[ -d "$h$CGROUP_PARENT" ]] && find "$h$CGROUP_PARENT" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# 6. the guard goes last, once no pod can send anything
"$here/guard.sh" remove
# /run/netns, when it only became a mount point for the cluster's namespaces
if [[ $(cat "$RUNDIR/netns-dir.orig" 2>/dev/null) == none ]] && [[ -z $(ip netns list 2>/dev/null) ]]; then
  umount /run/netns 2>/dev/null
fi
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
