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

.PHONY: test
test: ## run the whole Go test suite with the race detector
	$(GO) test -race -count=1 ./...

.PHONY: build
build: ## build the Lambda bootstrap for arm64 (what is deployed) and for this host
	mkdir -p $(BUILD_DIR)/arm64 $(BUILD_DIR)/host
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(BUILD_DIR)/arm64/bootstrap ./functions/guard
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(BUILD_DIR)/host/bootstrap ./functions/guard
	@ls -l $(BUILD_DIR)/arm64/bootstrap $(BUILD_DIR)/host/bootstrap
