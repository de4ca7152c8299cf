#!/usr/bin/env bash
# build.sh builds the local cluster's Go parts from the Go module proxy into
# $NETVERIFY_CACHE (default $HOME/.cache/netverify), keyed by version.
# A finished build leaves a .done marker; re-running is a no-op.
#   build.sh [kubernetes|cilium|coredns|cnp-crd|openreports-crd|all]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
CACHE="${NETVERIFY_CACHE:-$HOME/.cache/netverify}"
export GOFLAGS="-buildvcs=false" CGO_ENABLED=0
LDFLAGS="-s -w"
mkdir -p "$CACHE"

log() { echo "[build] $*" >&2; }

build_kubernetes() {
  local out="$CACHE/kubernetes-$KUBERNETES_VERSION-$K8S_RECIPE"
  [[ -f "$out/.done" ]] && { log "kubernetes $KUBERNETES_VERSION cached"; return; }
  log "building kubernetes $KUBERNETES_VERSION (cold: ~10 min)"
  local src="$out/src"
  rm -rf "$out"; mkdir -p "$src" "$out/bin"
  go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null
  local kdir; kdir="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION"
  {
    echo "module netverify.local/k8sbuild"
    echo
    echo "go $(awk '/^go /{print $2; exit}' "$kdir/go.mod")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    awk '/=> \.\/staging\/src\//{print "\t" $1 " => " $1 " '"$K8S_STAGING_VERSION"'"}' "$kdir/go.mod"
    echo ")"
  } > "$src/go.mod"
  echo 'package k8sbuild' > "$src/doc.go"
  # the version stamp upstream's release builds set (kubectl version, /version)
  local minor; minor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")
  local kv="" pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    kv+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$src" && go build -mod=mod -trimpath -ldflags "$LDFLAGS$kv" -o "$out/bin/" \
     k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
     k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
     k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl \
     k8s.io/kubernetes/test/images/agnhost)
  touch "$out/.done"
}

build_cilium() {
  local out="$CACHE/cilium-$CILIUM_VERSION"
  [[ -f "$out/.done" ]] && { log "cilium $CILIUM_VERSION cached"; return; }
  log "building cilium $CILIUM_VERSION (cold: ~6 min)"
  rm -rf "$out"; mkdir -p "$out/bin"
  go mod download -json "github.com/cilium/cilium@$CILIUM_VERSION" >/dev/null
  local cdir; cdir="$(go env GOMODCACHE)/github.com/cilium/cilium@$CILIUM_VERSION"
  cp -r "$cdir" "$out/src"; chmod -R u+w "$out/src"
  (cd "$out/src" && go mod edit -replace "github.com/osrg/gobgp/v4=${GOBGP_REPLACE/@/ }" 2>/dev/null \
     || go mod edit -replace "github.com/osrg/gobgp/v4=github.com/osrg/gobgp/v4@${GOBGP_REPLACE#*@}"
   rm -rf vendor
   go build -mod=mod -trimpath -ldflags "$LDFLAGS" -o "$out/bin/cilium-agent" ./daemon
   go build -mod=mod -trimpath -ldflags "$LDFLAGS" -o "$out/bin/cilium-cni" ./plugins/cilium-cni
   go build -mod=mod -trimpath -ldflags "$LDFLAGS" -o "$out/bin/cilium-dbg" ./cilium-dbg)
  # keep only what the agent needs at run time: bpf sources and CRDs
  mkdir -p "$out/lib" "$out/crds"
  cp -r "$out/src/bpf" "$out/lib/bpf"
  cp "$out/src"/pkg/k8s/apis/cilium.io/client/crds/v2/*.yaml "$out/crds/" 2>/dev/null || true
  find "$out/src/pkg/k8s/apis/cilium.io/client/crds" -name '*.yaml' -exec cp {} "$out/crds/" \;
  rm -rf "$out/src"
  touch "$out/.done"
}

build_coredns() {
  local out="$CACHE/coredns-$COREDNS_VERSION"
  [[ -f "$out/.done" ]] && { log "coredns $COREDNS_VERSION cached"; return; }
  log "building coredns $COREDNS_VERSION"
  rm -rf "$out"; mkdir -p "$out/bin"
  GOBIN="$out/bin" go install -trimpath -ldflags "$LDFLAGS" "github.com/coredns/coredns@$COREDNS_VERSION"
  touch "$out/.done"
}

# build_cnp_crd keeps the ClusterNetworkPolicy CRD of the network-policy-api
# module Cilium pins (config/crd/standard), so the local cluster serves the
# kind Cilium's agent watches in every mode.
build_cnp_crd() {
  local out="$CACHE/network-policy-api-$NETWORK_POLICY_API_VERSION"
  [[ -f "$out/.done" ]] && { log "ClusterNetworkPolicy CRD $NETWORK_POLICY_API_VERSION cached"; return; }
  log "fetching the ClusterNetworkPolicy CRD (network-policy-api $NETWORK_POLICY_API_VERSION)"
  rm -rf "$out"; mkdir -p "$out/crds"
  go mod download -json "github.com/cilium/cilium@$CILIUM_VERSION" >/dev/null
  local pinned; pinned=$(awk '$1 == "sigs.k8s.io/network-policy-api" {print $2; exit}' \
    "$(go env GOMODCACHE)/github.com/cilium/cilium@$CILIUM_VERSION/go.mod")
  [[ "$pinned" == "$NETWORK_POLICY_API_VERSION" ]] || {
    log "Cilium $CILIUM_VERSION pins network-policy-api ${pinned:-(none)}, versions.env says $NETWORK_POLICY_API_VERSION"; exit 1; }
  go mod download -json "sigs.k8s.io/network-policy-api@$NETWORK_POLICY_API_VERSION" >/dev/null
  local mdir; mdir="$(go env GOMODCACHE)/sigs.k8s.io/network-policy-api@$NETWORK_POLICY_API_VERSION"
  cp "$mdir"/config/crd/standard/policy.networking.k8s.io_clusternetworkpolicies.yaml "$out/crds/"
  touch "$out/.done"
}

# build_openreports_crd keeps the CRDs of the reports-api module netverify
# builds against (config/crd: Report and ClusterReport), so the local cluster
# serves the openreports.io kinds the policyreport package writes.
build_openreports_crd() {
  local out="$CACHE/openreports-$OPENREPORTS_VERSION"
  [[ -f "$out/.done" ]] && { log "OpenReports CRDs $OPENREPORTS_VERSION cached"; return; }
  log "fetching the OpenReports CRDs (reports-api $OPENREPORTS_VERSION)"
  local required; required=$(awk '$1 == "github.com/openreports/reports-api" {print $2; exit}' "$here/../../go.mod")
  [[ "$required" == "$OPENREPORTS_VERSION" ]] || {
    log "go.mod requires reports-api ${required:-(none)}, versions.env says $OPENREPORTS_VERSION"; exit 1; }
  rm -rf "$out"; mkdir -p "$out/crds"
  go mod download -json "github.com/openreports/reports-api@$OPENREPORTS_VERSION" >/dev/null
  local mdir; mdir="$(go env GOMODCACHE)/github.com/openreports/reports-api@$OPENREPORTS_VERSION"
  cp "$mdir"/config/crd/openreports.io_reports.yaml "$mdir"/config/crd/openreports.io_clusterreports.yaml "$out/crds/"
  touch "$out/.done"
}

what="${1:-all}"
case "$what" in
  kubernetes) build_kubernetes ;;
  cilium) build_cilium ;;
  coredns) build_coredns ;;
  cnp-crd) build_cnp_crd ;;
  openreports-crd) build_openreports_crd ;;
  all) build_kubernetes; build_cilium; build_coredns; build_cnp_crd; build_openreports_crd ;;
  *) echo "usage: $0 [kubernetes|cilium|coredns|cnp-crd|openreports-crd|all]" >&2; exit 2 ;;
esac
