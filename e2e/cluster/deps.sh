#!/usr/bin/env bash
# deps.sh installs the Debian packages the local cluster needs, when missing.
set -euo pipefail
need=()
declare -A pkg=(
  [containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [etcd]=etcd-server [etcdctl]=etcd-client [iptables]=iptables [ipset]=ipset [nft]=nftables
  [conntrack]=conntrack [openssl]=openssl [busybox]=busybox-static [clang-19]=clang-19
  [llc-19]=llvm-19 [ip]=iproute2 [ss]=iproute2
)
for c in "${!pkg[@]}"; do
  if [[ $c == /* ]]; then [[ -e $c ]] || need+=("${pkg[$c]}"); else command -v "$c" >/dev/null || need+=("${pkg[$c]}"); fi
done
if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "[cluster] installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
