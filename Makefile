# netverify — see README.md. The two set-up commands on a fresh machine:
#   make demo   brings up the local enforcing cluster and runs the built-in suite
#   make test   unit tests + the e2e suites on every local cluster mode
SHELL := /bin/bash
VERSION := $(shell cat VERSION)
LDFLAGS := -s -w -X github.com/netverify/netverify/internal/version.Version=$(VERSION)
GO ?= go
CNI ?= cilium
# NODES=2: a second real node on this machine (see e2e/cluster/node2.sh)
NODES ?= 1
MODES ?= cilium none cilium-noenforce cilium-mixed
export CGO_ENABLED := 0
export GOFLAGS := -buildvcs=false

# images: the probe image and netverify's own as `docker save` tarballs in
# bin/images/ (no container engine needed), for `kind load image-archive`,
# `ctr -n k8s.io images import` or a registry push. GOARCH picks the platform.
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)

.PHONY: images all build test test-unit test-e2e test-e2e-external cluster-up cluster-down demo bench soak fuzz lint clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/netverify ./cmd/netverify-probe

FUZZ_TARGETS := scenarios:FuzzLoadBytes scenarios:FuzzSplitDocuments probe:FuzzDecodeRequests probe:FuzzParseBatchOutput probe:FuzzParseConnect
FUZZTIME ?= 60s

test-unit:
	$(GO) vet ./...
	$(GO) test ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=2s

# fuzz: each fuzz target for FUZZTIME (default 60s; `make test` runs 2s each).
fuzz:
	@GO=$(GO) hack/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# test: unit tests, then for each cluster mode: bring the local cluster up,
# run the e2e suite on it, tear it down (also when a test fails). Fails when
# a cluster cannot be brought up.
test: test-unit
	e2e/run.sh $(MODES)

# test-e2e: the e2e suites on the local cluster (all modes, or MODES=cilium;
# MODE@2 for two nodes, e.g. MODES=cilium@2: those run TestNodes).
test-e2e: build
	e2e/run.sh $(MODES)

# test-e2e-external: the e2e suite against any cluster (KUBECONFIG=… CNI_ENFORCES=true|false).
test-e2e-external: build
	$(GO) test -tags e2e -count=1 -timeout 30m ./e2e/... -args -external

images:
	@mkdir -p bin/images bin/linux-$(IMAGE_ARCH)
	$(GO) build -trimpath -ldflags "-s -w" -o bin/ ./e2e/imagetool
	GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/linux-$(IMAGE_ARCH)/ ./cmd/netverify ./cmd/netverify-probe
	bin/imagetool -o bin/images/probe.tar --arch $(IMAGE_ARCH) -t netverify/probe:$(VERSION) --entrypoint /netverify-probe --cmd serve --user 65532 \
	  --file bin/linux-$(IMAGE_ARCH)/netverify-probe:/netverify-probe
	bin/imagetool -o bin/images/netverify.tar --arch $(IMAGE_ARCH) -t netverify/netverify:$(VERSION) --entrypoint /netverify --user 65532 \
	  --file bin/linux-$(IMAGE_ARCH)/netverify:/netverify \
	  $$(test -f /etc/ssl/certs/ca-certificates.crt && echo --file /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt)
	@echo "bin/images/probe.tar: netverify/probe:$(VERSION) ($(IMAGE_ARCH))"

cluster-up:
	NODES=$(NODES) e2e/cluster/up.sh $(CNI)

cluster-down:
	e2e/cluster/down.sh

demo:
	@$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/netverify ./cmd/netverify-probe
	@e2e/demo.sh

bench: build
	e2e/bench.sh

# soak: the built-in suite SOAK_RUNS times (default 50) on the enforcing local
# cluster and once per non-enforcing mode; writes docs/soak.md. Not in `make test`.
soak: build
	e2e/soak.sh

TOOLS := $(HOME)/.cache/netverify/tools/bin
ACTIONLINT_VERSION := v1.7.12

lint:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	@test -x $(TOOLS)/actionlint-$(ACTIONLINT_VERSION) || { GOBIN=$(TOOLS) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) && mv $(TOOLS)/actionlint $(TOOLS)/actionlint-$(ACTIONLINT_VERSION); }
	$(TOOLS)/actionlint-$(ACTIONLINT_VERSION) .github/workflows/*.yml

clean:
	rm -rf bin
