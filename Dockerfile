# syntax=docker/dockerfile:1
#
# netverify's two images, from one build stage:
#
#   docker build -t netverify/netverify:v0.1.0 .                      # the CLI (default target)
#   docker build --target probe -t netverify/probe:v0.1.0 .           # the probe pods' image
#
# Both are static binaries on an empty base, run as 65532:65532 (non-root),
# and work with a read-only root filesystem. Pass --build-arg VERSION=… to
# stamp the version (it also picks the default probe image tag of `run`).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/netverify/netverify/internal/version.Version=${VERSION}" \
      -o /out/ ./cmd/netverify ./cmd/netverify-probe

# The probe image: /netverify-probe, started by netverify with an explicit
# command in every probe pod.
FROM scratch AS probe
COPY --from=build /out/netverify-probe /netverify-probe
USER 65532:65532
ENTRYPOINT ["/netverify-probe"]

# The CLI image (last, so it is the default target): /netverify with the CA
# bundle it needs to reach an API server or Pushgateway over TLS.
FROM scratch AS netverify
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/netverify /netverify
USER 65532:65532
ENTRYPOINT ["/netverify"]
