# dhmc-guard: every command a developer or CI needs. Tools the project uses are
# installed here, into project-local folders, never by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BUILD_DIR := build
export GOFLAGS := -buildvcs=false

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# --- first run: every long step says what it does and how long it took ---------
# scripts/step.sh prints a title, a heartbeat while a command is quiet, and the
# step's duration. `go build -v` lists the packages it compiles (counted, not
# shown), which is the progress of a first build on an empty cache.
STEP     := bash scripts/step.sh
DEMO_BIN := $(BUILD_DIR)/demo
# Every package but internal/conformance, which runs on its own so that its
# skips (no moto under make test) are shown.
TEST_PKGS = $$($(GO) list ./... | grep -v '/internal/conformance$$')

.PHONY: test
test: ## run the whole Go test suite with the race detector
	@test "$$($(GO) env CGO_ENABLED)" = 1 || { echo 'make test needs a C compiler (gcc or clang): the race detector needs cgo (Debian/Ubuntu: apt-get install gcc)' >&2; exit 1; }
	@$(STEP) --count-packages "Compiling every package with the race detector (the first run fills the build cache)" \
		$(GO) build -v -race ./...
	@$(STEP) "Building the bootstrap and aws-lambda-rie as the end-to-end tests do (internal/rie/cmd/riebuild)" \
		$(GO) run -race ./internal/rie/cmd/riebuild
	@$(STEP) "Running the tests (-race; the end-to-end TestMains find those binaries up to date)" \
		$(GO) test -race -count=1 $(TEST_PKGS)
	@$(STEP) --only '^(ok|FAIL|--- (SKIP|FAIL)|SKIP)' "internal/conformance (checks against moto: skipped here, make conformance runs them)" \
		$(GO) test -race -count=1 -v ./internal/conformance/

.PHONY: demo
demo: ## the whole loop locally: emulator + bootstrap under RIE, break DHMC, watch it repaired
	@$(STEP) --count-packages "Compiling the demo (the first run downloads modules and fills the build cache)" \
		$(GO) build -v -o $(DEMO_BIN)/demo ./internal/demo
	@$(DEMO_BIN)/demo -build-dir $(DEMO_BIN)

EVENT ?=
STATE ?= drifted
.PHONY: invoke
invoke: ## replay one event without Docker: make invoke EVENT=events/schedule.json [STATE=drifted|compliant]
	@test -n '$(EVENT)' || { echo 'usage: make invoke EVENT=events/<file>.json [STATE=drifted|compliant]' >&2; exit 2; }
	@$(STEP) --count-packages "Compiling the invoke tool" $(GO) build -v -o $(DEMO_BIN)/invoke ./internal/invoke
	@$(DEMO_BIN)/invoke -build-dir $(DEMO_BIN) -event '$(EVENT)' -state '$(STATE)'

# --- Fleet readiness report ------------------------------------------------
.PHONY: demo-fleet
demo-fleet: ## the fleet readiness report under RIE on a small seeded fleet: the digest on-call reads
	$(GO) run ./internal/demo/fleet

.PHONY: bench
bench: ## benchmarks: API calls and latency of sweeps, cold start, binary size, peak memory
	$(GO) test -run '^$$' -bench . -benchtime=3x ./internal/reconcile/ ./functions/guard/
	$(GO) test -run '^$$' -bench . -benchtime=2x ./functions/fleet/

.PHONY: bench-check
bench-check: ## assert the performance goals: sweep ratios, arm64 binary size, peak memory (ratios and sizes only, best of 3)
	@$(STEP) "Building the release binaries (make build: arm64 and host)" $(MAKE) --no-print-directory build
	@$(STEP) --count-packages "Compiling benchcheck" $(GO) build -v -o $(BUILD_DIR)/benchcheck ./internal/benchcheck/cmd/benchcheck
	@$(BUILD_DIR)/benchcheck -binary $(BUILD_DIR)/arm64/bootstrap

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## fuzz the parsers: events, ARNs, trust policies, DynamoDB expressions, fleet and central inputs (FUZZTIME=30s each)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/trigger/
	$(GO) test -run '^$$' -fuzz '^FuzzWho$$' -fuzztime $(FUZZTIME) ./internal/dhmc/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckTrust$$' -fuzztime $(FUZZTIME) ./internal/dhmc/
	$(GO) test -run '^$$' -fuzz '^FuzzDynamoExpression$$' -fuzztime $(FUZZTIME) ./internal/awsemu/ddb/
	$(GO) test -run '^$$' -fuzz '^FuzzParseInput$$' -fuzztime $(FUZZTIME) ./internal/fleet/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadConfig$$' -fuzztime $(FUZZTIME) ./internal/central/
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./internal/alert/
	$(GO) test -run '^$$' -fuzz '^FuzzRenderCentral$$' -fuzztime $(FUZZTIME) ./internal/central/

# The release build: stripped, and without inlining (-gcflags=all=-l), which
# costs an I/O-bound function nothing worth measuring and saves about 1 MB of
# its binary (the goal: at most 12 MiB for arm64, make bench-check).
RELEASE_FLAGS := -tags lambda.norpc -trimpath -gcflags=all=-l -ldflags='-s -w'

.PHONY: build
build: ## build the Lambda bootstrap for arm64 (what is deployed) and for this host
	mkdir -p $(BUILD_DIR)/arm64 $(BUILD_DIR)/host
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(RELEASE_FLAGS) -o $(BUILD_DIR)/arm64/bootstrap ./functions/guard
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(RELEASE_FLAGS) -o $(BUILD_DIR)/arm64/fleet/bootstrap ./functions/fleet
	CGO_ENABLED=0 $(GO) build $(RELEASE_FLAGS) -o $(BUILD_DIR)/host/bootstrap ./functions/guard
	@ls -l $(BUILD_DIR)/arm64/bootstrap $(BUILD_DIR)/arm64/fleet/bootstrap $(BUILD_DIR)/host/bootstrap

# --- Python tools (sam, cfn-lint, moto) in a project-local virtualenv -----------
VENV        := .venv
VENV_STAMP  := $(VENV)/.installed
PYTHON      ?= python3
export SAM_CLI_TELEMETRY := 0
GOBIN_DIR   := $(CURDIR)/bin
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(GOBIN_DIR)/golangci-lint
# sam build's Go builder runs `go build` with the caller's environment: this is
# how the deployed bootstrap gets the same flags as `make build` (-s implies -w).
SAM_GOFLAGS := -buildvcs=false -tags=lambda.norpc -gcflags=all=-l -ldflags=-s

.PHONY: venv
venv: $(VENV_STAMP) ## create .venv with the pinned Python tools (requirements-dev.txt)

$(VENV_STAMP): requirements-dev.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

GOLANGCI_LINT_STAMP := $(GOBIN_DIR)/.golangci-lint-$(GOLANGCI_LINT_VERSION)

$(GOLANGCI_LINT_STAMP):
	GOBIN=$(GOBIN_DIR) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	touch $@

# checkov lives in its own virtualenv: its pins conflict with requirements-dev.txt
# (see requirements-checkov.txt).
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: venv-checkov
venv-checkov: $(CHECKOV_STAMP) ## create .venv-checkov with the pinned checkov (requirements-checkov.txt)

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# Every template, each file named (a stray .aws-sam copy is never scanned).
# Fails on any failed check; a deliberate skip carries its reason in the
# resource's Metadata (checkov: skip: id, comment), listed in the README.
.PHONY: checkov
checkov: $(CHECKOV_STAMP) ## scan every template with checkov (fails on any failed check)
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --framework cloudformation --quiet --compact --skip-download \
		$(addprefix -f ,$(wildcard infra/*.yaml infra/org/*.yaml))

.PHONY: lint
lint: $(VENV_STAMP) $(GOLANGCI_LINT_STAMP) ## go vet, golangci-lint, cfn-lint, checkov, sam validate --lint, sam build
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	$(VENV)/bin/cfn-lint infra/*.yaml infra/org/*.yaml
	$(MAKE) --no-print-directory checkov
	$(VENV)/bin/sam validate --lint -t infra/template.yaml --region us-east-1
	$(MAKE) --no-print-directory org-check
	$(MAKE) --no-print-directory sam-build

.PHONY: sam-build
sam-build: $(VENV_STAMP) ## sam build the function (arm64 bootstrap, local Go toolchain, no Docker)
	CGO_ENABLED=0 GOFLAGS='$(SAM_GOFLAGS)' $(VENV)/bin/sam build --config-file infra/samconfig.toml
	@for fn in GuardFunction FleetFunction; do \
		file .aws-sam/build/$$fn/bootstrap | grep 'ARM aarch64' \
		|| { file .aws-sam/build/$$fn/bootstrap; echo "sam build did not produce an arm64 bootstrap for $$fn" >&2; exit 1; }; \
	done

.PHONY: conformance
conformance: $(VENV_STAMP) ## check event patterns and IAM repairs against moto_server
	MOTO_SERVER=$(VENV)/bin/moto_server PYTHON=$(VENV)/bin/python DHMC_MOTO_REQUIRED=1 \
		bash internal/conformance/with-moto.sh $(GO) test -count=1 -run . -v ./internal/conformance/

# --- Organisation rollout (infra/org): service-managed StackSets -----------------
# The guard's StackSet template is infra/template.yaml translated offline to plain
# CloudFormation (StackSets with service-managed permissions refuse macros, and
# AWS::Serverless is one). It is committed; `make lint` fails when it is stale.
ORG_STACKSET := infra/org/guard-stackset.yaml
ORG_BUILD    := $(BUILD_DIR)/org

.PHONY: org-templates
org-templates: $(VENV_STAMP) ## regenerate infra/org/guard-stackset.yaml from infra/template.yaml (offline)
	$(VENV)/bin/python infra/org/stackset.py infra/template.yaml $(ORG_STACKSET)

.PHONY: org-check
org-check: $(VENV_STAMP) ## fail if infra/org/guard-stackset.yaml is not what infra/template.yaml generates
	$(VENV)/bin/python infra/org/stackset.py --check infra/template.yaml $(ORG_STACKSET)

.PHONY: org-package
org-package: build ## zip both arm64 bootstraps for the StackSet; prints the GuardCodeKey and FleetCodeKey to upload them under
	mkdir -p $(ORG_BUILD)
	@for fn in guard fleet; do \
		bin=$(BUILD_DIR)/arm64/bootstrap; [ $$fn = fleet ] && bin=$(BUILD_DIR)/arm64/fleet/bootstrap; \
		sum=$$(sha256sum $$bin | cut -c1-16); \
		rm -f $(ORG_BUILD)/$$fn-$$sum.zip; \
		cp $$bin $(ORG_BUILD)/bootstrap; \
		touch -d '2000-01-01T00:00:00Z' $(ORG_BUILD)/bootstrap; \
		(cd $(ORG_BUILD) && zip -q -X -D $$fn-$$sum.zip bootstrap); \
		rm $(ORG_BUILD)/bootstrap; \
		key=GuardCodeKey; [ $$fn = fleet ] && key=FleetCodeKey; \
		echo "$(ORG_BUILD)/$$fn-$$sum.zip -> $$key dhmc-guard/$$fn-$$sum.zip"; \
	done
