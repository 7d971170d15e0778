# ticketd — make help lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/ticketd
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL

.PHONY: help run build web-test test test-race test-monitoring dashboards fuzz lint-openapi fmt lint bench clean

# The packages with concurrency run under the race detector in make test.
RACE_PKGS := ./api/... ./workflows/... ./activities/... ./models/... ./cmd/...
FUZZTIME ?= 3s
# make test runs each fuzz target for a number of executions, not a time: Go
# counts its warm-up (the cached corpus run for coverage) against a time, and
# on a slow or busy machine fails the target with "context deadline exceeded"
# when the time runs out first.
TEST_FUZZTIME ?= 100x

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

run: build ## run everything locally: embedded Temporal + Web UI, SQLite, API (ticketd dev)
	./$(BIN) dev

build: web/dist/app/index.html ## build bin/ticketd with the web UI embedded
	$(GO) build -o $(BIN) ./cmd/ticketd

# The web UI is rebuilt only when its sources change; node_modules only when
# the lock file does.
WEB_SRC := $(shell find web/src web/public web/scripts -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package.json
web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@
web/dist/app/index.html: web/node_modules/.installed $(WEB_SRC)
	cd web && npm run build
	touch $@

web-test: web/dist/app/index.html ## the web UI's checks: generated API types, type check, Vitest
	cd web && npm run check-gen && npx tsc --noEmit && npx vitest run

test: test-monitoring ## web UI checks, vet, format check and every test (real PostgreSQL + in-process Temporal)
	@scripts/check-postgres.sh
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	@echo "== web UI (npm ci and build when changed, API types, tsc, vitest)"; $(MAKE) --no-print-directory web-test
	@echo "== go vet"; $(GO) vet ./...
	@$(MAKE) --no-print-directory lint-openapi
	@echo "== go test -race $(RACE_PKGS)"; $(GO) test -race -count=1 -timeout 60m $(RACE_PKGS)
	@echo "== go test (the rest)"; $(GO) test -count=1 -timeout 40m $$($(GO) list ./... | grep -v -E '/ticketd/(api|workflows|activities|models|cmd)(/|$$)')
	@echo "== fuzz ($(TEST_FUZZTIME) per target)"; FUZZTIME=$(TEST_FUZZTIME) scripts/fuzz.sh

test-race: ## the concurrent packages under the race detector, timed
	@scripts/check-postgres.sh
	@start=$$(date +%s); $(GO) test -race -count=1 -timeout 60m $(RACE_PKGS); \
		echo "== race run took $$(( $$(date +%s) - start ))s"

fuzz: ## every fuzz target for FUZZTIME each (make fuzz FUZZTIME=10m; TARGET=FuzzRouter for one)
	@scripts/check-postgres.sh
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(TARGET)

lint-openapi: ## lint api/openapi.yaml with Redocly CLI's recommended rules (pinned in tools/openapi-lint)
	@echo "== openapi lint"
	@cd tools/openapi-lint && { [ -x node_modules/.bin/redocly ] || npm ci --no-audit --no-fund --loglevel=error; }
	@set -o pipefail; REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true tools/openapi-lint/node_modules/.bin/redocly lint --format=stylish api/openapi.yaml 2>&1 | grep -v -E '^ *(║|╔|╚)'

test-monitoring: ## promtool: check the Prometheus config and rules, run the alert unit tests
	@command -v promtool >/dev/null || { echo "promtool not found: apt-get install prometheus (.ci/run does)"; exit 1; }
	@echo "== promtool"
	@cd monitoring/prometheus && promtool check config prometheus.yml && \
		promtool check rules alerts.yml && promtool test rules alerts_test.yml

dashboards: ## regenerate the Grafana dashboards (monitoring/grafana/dashboards/*.json) from Go
	$(GO) run ./monitoring/grafana/gen -out monitoring/grafana/dashboards

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

lint: ## golangci-lint when installed, else vet + gofmt
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; \
	else echo "golangci-lint not installed; running go vet and gofmt"; $(GO) vet ./... && test -z "$$(gofmt -l $$(git ls-files '*.go'))"; fi

bench: build ## latency and throughput figures on the dev stack (SQLite) and on PostgreSQL
	@scripts/bench.sh

clean: ## remove build output and the local data dir
	rm -rf bin data web/dist/app web/node_modules
