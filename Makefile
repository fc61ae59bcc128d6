# Plateforme du ROME. The two commands: `make dev` runs the platform, `make test` tests it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

STATE_DIR := $(or $(ROME_STATE_DIR),.dev)
# Integration and end-to-end tests create their databases here.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

# The workspace's module path prefix, and every module listed in go.work as package patterns.
MODULE := github.com/plateforme-rome/rome
MODULES := $(shell go list -m -f '{{.Path}}')
E2E_PKGS := $(filter %/tests/e2e/...,$(addsuffix /...,$(MODULES)))
PKGS := $(filter-out $(E2E_PKGS),$(addsuffix /...,$(MODULES)))
MODULE_DIRS := $(shell go list -m -f '{{.Dir}}')
SERVICE_CMDS := $(wildcard ./services/*/cmd/*)
# Packages with benchmarks, found by their Benchmark functions; override to narrow:
# make bench BENCH_PKGS=./services/referential/internal/fiche
BENCH_PKGS ?= $(sort $(patsubst %/,./%,$(dir $(shell grep -rl --include='*_test.go' -e '^func Benchmark' $(patsubst $(CURDIR)/%,%,$(MODULE_DIRS))))))

UNIT_TIMEOUT ?= 10m
E2E_TIMEOUT ?= 15m

.PHONY: help dev assets build test test-unit test-e2e test-e2e-cluster test-e2e-production test-replicated temporal-cluster vet lint bench bench-load generate clean

help:
	@echo "make dev        run the whole platform locally (Temporal dev server, data import, the console and the 4 other services)"
	@echo "make test       make lint + unit and integration tests of every module + end-to-end tests (browser tests need chromium) + the replicated stack on the Temporal cluster"
	@echo "make build      build every module; the service binaries go to bin/"
	@echo "make temporal-cluster  run a two-node Temporal server cluster on PostgreSQL alone, in the foreground"
	@echo "make test-e2e-cluster  the end-to-end tests against that cluster instead of the dev server"
	@echo "make test-e2e-production  the end-to-end tests on that cluster with two replicas of every service and of the worker"
	@echo "make test-replicated   two replicas of every service and worker, one of each killed and restarted under load"
	@echo "make assets     install the console's front-end packages (npm ci, from the lockfile) and copy them where its binary embeds them"
	@echo "make lint       go vet, workflowcheck, gofmt, the imports rule (workflows/ and activities/ import nothing under services/), Redocly and Spectral on the OpenAPI documents, the generated Go clients build"
	@echo "make bench      run the benchmarks of every package that has some"
	@echo "make bench-load measure the referential over HTTP (BENCHMARKS.md): import times, req/s, latency, RSS"
	@echo "make generate   regenerate generated files (deploy/temporal/register-search-attributes.sh)"
	@echo "make clean CONFIRM=1   delete $(STATE_DIR) (Temporal history, SQLite databases, logs)"

# The console's static files (DSFR, htmx) and the browser tests' axe-core, from npm: the
# console's binary embeds them, so everything that compiles it depends on this. npm ci runs
# only when the lockfile changed (npm is needed then: apt-get install -y npm).
assets:
	bash services/console/web/build.sh

# Built, then exec'd rather than `go run`, so Ctrl-C and SIGTERM reach devstack itself,
# which stops the children in order.
dev: assets
	go build -o $(STATE_DIR)/bin/devstack ./tools/devstack/cmd/devstack
	exec $(STATE_DIR)/bin/devstack

build: assets
	go build $(PKGS) $(E2E_PKGS)
	go build -o bin/ $(SERVICE_CMDS)

# Last, the production shape (issue #13): two Temporal server nodes built from their module
# on PostgreSQL, two replicas of every service and worker, one process of each kind killed.
test: lint test-unit test-e2e
	ROME_TEMPORAL=cluster $(MAKE) test-replicated

# Unit and integration tests (PostgreSQL at TEST_DATABASE_URL, and SQLite), under the race
# detector, but for the two referential packages that import the whole v460 into SQLite
# several times: the detector slows the pure-Go SQLite about fifteen-fold (11 minutes for
# those two alone on two cores), so they run without it; the referential's concurrent
# parts are raced in its other packages (search, changeset, app through reftest).
RACE_EXCLUDED := $(MODULE)/services/referential/internal/store $(MODULE)/services/referential/internal/api
UNIT_PKGS = $(shell go list $(PKGS))
test-unit: assets
	go test -race -count=1 -timeout $(UNIT_TIMEOUT) $(filter-out $(RACE_EXCLUDED),$(UNIT_PKGS))
	go test -count=1 -timeout $(UNIT_TIMEOUT) $(RACE_EXCLUDED)

# The real stack: Temporal dev server, services and worker, driven over HTTP, and the
# console in Chromium (CHROMIUM_PATH, or chromium on PATH).
test-e2e: assets
	go test -count=1 -timeout $(E2E_TIMEOUT) -skip '^$(REPLICATED_TEST)$$' $(E2E_PKGS)

# The same suite on two Temporal server nodes (built from go.temporal.io/server) forming one
# cluster on PostgreSQL, behind a round-robin proxy (README: "Temporal as a cluster").
test-e2e-cluster: assets
	ROME_TEMPORAL=cluster go test -count=1 -timeout $(E2E_TIMEOUT) -skip '^$(REPLICATED_TEST)$$' $(E2E_PKGS)

# The same suite in the production shape: that cluster, and two replicas of every service and
# of the worker behind round-robin proxies (not in make test: it would take the run past its
# time budget; BENCHMARKS.md has a run).
test-e2e-production: assets
	ROME_TEMPORAL=cluster ROME_REPLICAS=2 go test -count=1 -timeout $(E2E_TIMEOUT) -skip '^$(REPLICATED_TEST)$$' $(E2E_PKGS)

# Two replicas of every service and two workers behind round-robin proxies, one replica of
# each kind killed (SIGKILL) and restarted under load; its own stack, so not in test-e2e
# (make test runs it last, on the Temporal cluster).
# ROME_TEMPORAL=cluster runs it on the Temporal cluster.
REPLICATED_TEST := TestReplicated
test-replicated: assets
	go test -count=1 -v -timeout $(E2E_TIMEOUT) -run '^$(REPLICATED_TEST)$$' $(E2E_PKGS)

# That cluster and its UI alone, as ops would try it; Ctrl-C stops it.
temporal-cluster:
	go build -o $(STATE_DIR)/bin/devstack ./tools/devstack/cmd/devstack
	ROME_TEMPORAL=cluster exec $(STATE_DIR)/bin/devstack temporal

# go vet, then workflowcheck: the workflow code must be deterministic.
vet: assets
	go vet $(PKGS) $(E2E_PKGS)
	cd workflows && go run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 ./...

# gofmt, then the layering rule: the workflows and their activities build on the request
# contract and the services' public clients (clients/), never on a service's code.
lint: vet
	@unformatted=$$(gofmt -l $(MODULE_DIRS)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@imported=$$(go list -deps -test ./workflows/... ./activities/... | grep '^github.com/plateforme-rome/rome/services/' || true); \
	if [ -n "$$imported" ]; then echo "workflows/ and activities/ must not import services/:"; echo "$$imported"; exit 1; fi
# The services' OpenAPI documents: Redocly and Spectral (npm, lockfile), then a Go client
# generated from each with oapi-codegen must build.
	bash tools/apilint/lint.sh
	bash tools/apilint/clients.sh

bench: assets
	@if [ -z "$(strip $(BENCH_PKGS))" ]; then echo "no benchmarks in the workspace"; exit 0; fi
	go test -count=1 -run '^$$' -bench . -benchmem $(BENCH_PKGS)

generate:
	go generate $(PKGS)

clean:
	@if [ "$(CONFIRM)" != 1 ]; then echo "this deletes $(STATE_DIR) (Temporal history, SQLite databases, logs): run make clean CONFIRM=1"; exit 1; fi
	rm -rf -- $(STATE_DIR) bin/

# The load scripts behind BENCHMARKS.md (PostgreSQL must be up).
bench-load:
	tools/loadtest/scripts/bench-referential.sh
