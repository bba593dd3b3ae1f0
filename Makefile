# Image the deploy target uses.
IMG ?= ghcr.io/partnerops/multichannel-operator:latest

# Tools are pinned here and installed into ./bin.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)

# The image 'make image' assembles: its platform and version label.
IMAGE_ARCH ?= $(shell go env GOARCH)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Extra flags for go test, such as GO_TEST_FLAGS=-run=TestSamples.
GO_TEST_FLAGS ?=

KUBECTL ?= kubectl

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the API types and markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: chart
chart: manifests ## Generate the Helm chart's CRDs, RBAC, admission policies, alerts and dashboard from config/.
	go run ./hack/chartgen

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: ## Run golangci-lint v2 with the Kube API Linter (built once from the Go module proxy into ~/.cache/multichannel-operator).
	"$$(./hack/golangci-lint.sh)" run ./...

.PHONY: envtest
envtest: ## Build (once) kube-apiserver and etcd for envtest into ~/.cache/multichannel-operator.
	@./hack/envtest.sh >/dev/null

.PHONY: test
test: manifests generate vet envtest ## Run every test against a real kube-apiserver and etcd.
	KUBEBUILDER_ASSETS="$$(./hack/envtest.sh)" go test ./... -count=1 $(GO_TEST_FLAGS)
	cd test/alerts && go test ./... -count=1 $(GO_TEST_FLAGS)

.PHONY: verify
verify: manifests generate ## Fail when generated files or formatting are not current.
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@git diff --exit-code -- api config || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- api config)" || { echo "untracked generated files:"; git status --porcelain -- api config; exit 1; }
	@go run ./hack/chartgen -check
	@./hack/check-file-sizes.sh

.PHONY: chaos
chaos: envtest ## Kill, fault, restart and fail over the real manager binary; report duplicates and time to converge (CHAOS_ARGS=-n=300).
	KUBEBUILDER_ASSETS="$$(./hack/envtest.sh)" go run ./hack/chaos $(CHAOS_ARGS)

# Flags for make bench, such as BENCH_ARGS=-n=10000 or BENCH_ARGS=-lift.
BENCH_ARGS ?=

.PHONY: bench
bench: envtest ## Measure the real manager at N=1,000 subscriptions against the API server's floor and Partner Center's limit (docs/performance.md; BENCH_ARGS=-n=10000).
	KUBEBUILDER_ASSETS="$$(./hack/envtest.sh)" go run ./hack/bench $(BENCH_ARGS)

FUZZTIME ?= 10s
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 10s), starting from the committed corpora.
	@for target in $$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //' | sort -u); do \
		pkg=$$(dirname $$(grep -rlE "^func $$target\(" --include='*_test.go' . | head -1)); \
		echo "fuzzing $$target in $$pkg for $(FUZZTIME)"; \
		go test "$$pkg" -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) || exit 1; \
	done

##@ Build

.PHONY: build
build: manifests generate vet ## Build the manager and the extra binaries into ./bin.
	go build -o $(LOCALBIN)/manager .
	go build -o $(LOCALBIN)/ ./cmd/...

.PHONY: image
image: ## Build the manager statically and assemble its OCI image without Docker into bin/image (oci/ layout, image.tar).
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) go build -trimpath -ldflags="-s -w" -o $(LOCALBIN)/image/manager .
	SOURCE_DATE_EPOCH="$$(git log -1 --format=%ct 2>/dev/null || date +%s)" go run ./hack/image \
		-binary $(LOCALBIN)/image/manager -arch $(IMAGE_ARCH) -out $(LOCALBIN)/image -tag $(IMG) \
		-version $(VERSION) -revision "$$(git rev-parse HEAD 2>/dev/null)"
	IMAGE_LAYOUT=$(LOCALBIN)/image/oci go test -count=1 -run '^TestImage$$' ./internal/ociimage

.PHONY: run
run: manifests generate vet ## Run the manager against the cluster of the current kubeconfig.
	go run . $(RUN_ARGS)

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRDs (and with them every object of these kinds).
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the operator with image IMG to the cluster of the current kubeconfig.
	cd config/manager && $(KUBECTL) kustomize . >/dev/null
	$(KUBECTL) kustomize config/default | sed 's|controller:latest|$(IMG)|' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/default

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	@mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

##@ Local

.PHONY: dev
dev: manifests generate envtest ## Run a local control plane, the Partner Center simulator, the samples and the operator; Ctrl-C stops all.
	go build -o $(LOCALBIN)/multichannel-dev ./hack/dev
	KUBEBUILDER_ASSETS="$$(./hack/envtest.sh)" $(LOCALBIN)/multichannel-dev $(DEV_ARGS)
