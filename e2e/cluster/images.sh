#!/usr/bin/env bash
# images.sh builds the local cluster's images as `docker save` tarballs under
# $CACHE/images, from binaries built here: pause, busybox, agnhost (with a
# busybox shell beside it), coredns and netverify's probe image.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$TOOLS_BIN" "$CACHE/images"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
(cd "$REPO" && go build -trimpath -ldflags "-s -w" -o "$TOOLS_BIN/" ./e2e/imagetool ./e2e/images/pause ./e2e/stub)
(cd "$REPO" && go build -trimpath -ldflags "-s -w -X github.com/netverify/netverify/internal/version.Version=$(cat "$REPO/VERSION")" -o "$TOOLS_BIN/" ./cmd/netverify-probe ./cmd/netverify)
IT="$TOOLS_BIN/imagetool"
img="$CACHE/images"
BB=$(command -v busybox)

# busybox applet links, as in the upstream image
bb_links=()
while read -r a; do [[ $a == bin/busybox ]] || bb_links+=(--link "/bin/busybox:/$a"); done < <("$BB" --list-full)

"$IT" -o "$img/pause.tar" -t "$PAUSE_IMAGE" --entrypoint /pause --file "$TOOLS_BIN/pause:/pause" --user 65535
"$IT" -o "$img/busybox.tar" -t "$BUSYBOX_IMAGE" --cmd sh --file "$BB:/bin/busybox" "${bb_links[@]}" --dir /etc
"$IT" -o "$img/agnhost.tar" -t "$AGNHOST_IMAGE" --entrypoint /agnhost --cmd pause \
  --file "$K8S_BIN/agnhost:/agnhost" --file "$BB:/bin/busybox" "${bb_links[@]}" --dir /etc
"$IT" -o "$img/coredns.tar" -t "$COREDNS_IMAGE" --entrypoint /coredns --file "$COREDNS_BIN:/coredns"
"$IT" -o "$img/probe.tar" -t "netverify/probe:$(cat "$REPO/VERSION")" --entrypoint /netverify-probe --cmd serve \
  --file "$TOOLS_BIN/netverify-probe:/netverify-probe" --user 65532
"$IT" -o "$img/netverify.tar" -t "netverify/netverify:$(cat "$REPO/VERSION")" --entrypoint /netverify \
  --file "$TOOLS_BIN/netverify:/netverify" --user 65532
