#!/usr/bin/env bash
# guard.sh keeps every pod packet on this machine.
#   guard.sh install UPLINK   nft guard + stub network namespace + policy routing
#   guard.sh verify UPLINK    exit 0 only when all of it is in place and routes as intended
#   guard.sh counter          print the guard's drop counter (packets)
#   guard.sh remove
# The guard drops every forwarded packet from the pod or service ranges that
# would leave through the uplink or go to any non-cluster address other than
# the stub addresses. The stub addresses (cloud metadata, one "external"
# address) are answered by a stub server in a network namespace behind a veth;
# only pod-sourced traffic is steered there (a source-based ip rule), so the
# host itself still reaches the real addresses as before.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

install_guard() {
  local uplink=$1 stubs
  stubs=$(IFS=,; echo "${STUB_ADDRS[*]}")
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
  nft -f - <<NFT
table inet $GUARD_TABLE {
  counter guard_drops { }
  counter guard_cluster { }
  set cluster4 { type ipv4_addr; flags interval; elements = { $POD_CIDR, $SVC_CIDR } }
  set stubs4 { type ipv4_addr; elements = { $stubs } }
  chain forward {
    type filter hook forward priority -300; policy accept;
    ip saddr @cluster4 ip daddr @cluster4 oifname "$uplink" counter name guard_cluster drop
    ip saddr @cluster4 oifname "$uplink" counter name guard_drops drop
    ip saddr @cluster4 ip daddr != @cluster4 ip daddr != @stubs4 counter name guard_drops drop
    meta nfproto ipv6 oifname "$uplink" iifname != "$uplink" counter name guard_drops drop
    iifname "$NODE2_HOST_IF" oifname "$uplink" counter name guard_drops drop
    iifname "$NODE2_HOST_IF" ip daddr != @cluster4 ip daddr != @stubs4 counter name guard_drops drop
  }
}
NFT
  # stub network namespace
  ip netns del "$STUB_NS" 2>/dev/null || true
  ip link del "$STUB_HOST_IF" 2>/dev/null || true
  ip netns add "$STUB_NS"
  ip link add "$STUB_HOST_IF" type veth peer name "$STUB_NS_IF"
  ip link set "$STUB_NS_IF" netns "$STUB_NS"
  ip addr add "$STUB_HOST_IP/30" dev "$STUB_HOST_IF"
  ip link set "$STUB_HOST_IF" up
  sysctl -qw "net.ipv4.conf.$STUB_HOST_IF.rp_filter=0"
  ip netns exec "$STUB_NS" ip link set lo up
  ip netns exec "$STUB_NS" ip addr add "$STUB_NS_IP/30" dev "$STUB_NS_IF"
  ip netns exec "$STUB_NS" ip link set "$STUB_NS_IF" up
  ip netns exec "$STUB_NS" ip route add default via "$STUB_HOST_IP"
  for a in "${STUB_ADDRS[@]}"; do
    ip netns exec "$STUB_NS" ip addr add "$a/32" dev lo
    ip route replace "$a/32" via "$STUB_NS_IP" dev "$STUB_HOST_IF" table "$STUB_TABLE"
  done
  ip route replace blackhole "$NOWHERE_ADDR/32" table "$STUB_TABLE"
  while ip rule del priority "$STUB_RULE_PRIO" 2>/dev/null; do :; done
  ip rule add priority "$STUB_RULE_PRIO" from "$POD_CIDR" lookup "$STUB_TABLE"
  # node 2's agent masquerades its pods' off-cluster packets to node 2's
  # own address: they are told by the link they arrive on
  ip rule add priority "$STUB_RULE_PRIO" iif "$NODE2_HOST_IF" lookup "$STUB_TABLE"
  start stub ip netns exec "$STUB_NS" "$TOOLS_BIN/stub" -listen tcp:80,tcp:443,udp:53
  wait_for stub 10 ip netns exec "$STUB_NS" sh -c "ss -ltn | grep -q ':443 '"
}

verify_guard() {
  local uplink=$1 ok=0 chain
  chain=$(nft list chain inet "$GUARD_TABLE" forward 2>/dev/null) || { log "guard: table inet $GUARD_TABLE missing"; return 1; }
  grep -q "ip saddr @cluster4 oifname \"$uplink\" counter name \"guard_drops\" drop" <<<"$chain" \
    || { log "guard: uplink drop rule missing"; ok=1; }
  grep -q 'ip daddr != @cluster4 ip daddr != @stubs4 counter name "guard_drops" drop' <<<"$chain" \
    || { log "guard: non-cluster drop rule missing"; ok=1; }
  grep -q 'hook forward priority' <<<"$chain" || { log "guard: chain not hooked"; ok=1; }
  local src=${POD_CIDR%.*/*}.0.250   # an address inside the pod range
  src="${POD_CIDR%%.*}.$(cut -d. -f2 <<<"$POD_CIDR").255.250"
  for a in "${STUB_ADDRS[@]}"; do
    local r; r=$(ip route get "$a" from "$src" iif "$STUB_HOST_IF" 2>&1 || true)
    grep -q "dev $STUB_HOST_IF" <<<"$r" || { log "guard: pod traffic to $a routes as: $r"; ok=1; }
    local h; h=$(ip route get "$a" 2>&1 || true)
    grep -q "dev $STUB_HOST_IF" <<<"$h" && { log "guard: host traffic to $a would be steered to the stub: $h"; ok=1; }
  done
  local nw; nw=$(ip route get "$NOWHERE_ADDR" from "$src" iif "$STUB_HOST_IF" 2>&1 || true)
  grep -qiE "blackhole|invalid argument|no route" <<<"$nw" || { log "guard: $NOWHERE_ADDR is not blackholed for pods: $nw"; ok=1; }
  # an off-machine address from a pod source routes to the uplink, where the guard drops it
  local r; r=$(ip route get 198.51.100.1 from "$src" iif "$STUB_HOST_IF" 2>&1 || true)
  grep -q "dev $STUB_HOST_IF" <<<"$r" && { log "guard: unexpected route for 198.51.100.1: $r"; ok=1; }
  alive stub || { log "guard: stub server not running"; ok=1; }
  # node 2 (NODES=2): everything from its link is kept here too, whatever
  # its source address
  grep -q "iifname \"$NODE2_HOST_IF\" oifname \"$uplink\" counter name \"guard_drops\" drop" <<<"$chain" \
    || { log "guard: node 2 uplink drop rule missing"; ok=1; }
  grep -q "iifname \"$NODE2_HOST_IF\" ip daddr != @cluster4 ip daddr != @stubs4 counter name \"guard_drops\" drop" <<<"$chain" \
    || { log "guard: node 2 non-cluster drop rule missing"; ok=1; }
  ip rule show priority "$STUB_RULE_PRIO" | grep -qE "iif $NODE2_HOST_IF( \[detached\])? lookup $STUB_TABLE" \
    || { log "guard: node 2 stub rule missing"; ok=1; }
  if ip link show "$NODE2_HOST_IF" >/dev/null 2>&1; then
    for a in "${STUB_ADDRS[@]}"; do
      r=$(ip route get "$a" from "$NODE2_IP" iif "$NODE2_HOST_IF" 2>&1 || true)
      grep -q "dev $STUB_HOST_IF" <<<"$r" || { log "guard: node 2 traffic to $a routes as: $r"; ok=1; }
    done
    nw=$(ip route get "$NOWHERE_ADDR" from "$NODE2_IP" iif "$NODE2_HOST_IF" 2>&1 || true)
    grep -qiE "blackhole|invalid argument|no route" <<<"$nw" || { log "guard: $NOWHERE_ADDR is not blackholed for node 2: $nw"; ok=1; }
    r=$(ip route get 198.51.100.1 from "$NODE2_IP" iif "$NODE2_HOST_IF" 2>&1 || true)
    grep -q "dev $STUB_HOST_IF" <<<"$r" && { log "guard: unexpected node 2 route for 198.51.100.1: $r"; ok=1; }
    [[ $(sysctl -n "net.ipv4.conf.$NODE2_HOST_IF.rp_filter") == 0 ]] || { log "guard: rp_filter on $NODE2_HOST_IF"; ok=1; }
  fi
  return $ok
}

# guard_drops counts pod packets bound off the machine: it must stay zero but
# for the e2e positive control. guard_cluster counts packets to a cluster
# address that had no route yet (a ClusterIP before kube-proxy programmed it):
# dropped too, but they were never bound off the machine.
counter() { nft list counter inet "$GUARD_TABLE" "${1:-guard_drops}" | awk '/packets/{for(i=1;i<=NF;i++) if($i=="packets"){print $(i+1); exit}}'; }

remove_guard() {
  while ip rule del priority "$STUB_RULE_PRIO" 2>/dev/null; do :; done
  ip route flush table "$STUB_TABLE" 2>/dev/null || true
  ip link del "$STUB_HOST_IF" 2>/dev/null || true
  ip netns del "$STUB_NS" 2>/dev/null || true
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
}

case "${1:-}" in
  install) install_guard "${2:?uplink}" ;;
  verify) verify_guard "${2:-$(uplink_dev)}" ;;
  counter) counter "${2:-guard_drops}" ;;
  remove) remove_guard ;;
  *) echo "usage: $0 install UPLINK|verify [UPLINK]|counter [guard_drops|guard_cluster]|remove" >&2; exit 2 ;;
esac
