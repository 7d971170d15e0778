# ticketd — make help lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/ticketd
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL

.PHONY: help run build web-test test fmt lint bench clean

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

test: ## web UI checks, vet, format check and every test (real PostgreSQL + in-process Temporal)
	@scripts/check-postgres.sh
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	@echo "== web UI (npm ci and build when changed, API types, tsc, vitest)"; $(MAKE) --no-print-directory web-test
	@echo "== go vet"; $(GO) vet ./...
	@echo "== go test"; $(GO) test -count=1 -timeout 40m ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

lint: ## golangci-lint when installed, else vet + gofmt
	@if command -v golangci-lint >/dev/null; then golangci-lint run ./...; \
	else echo "golangci-lint not installed; running go vet and gofmt"; $(GO) vet ./... && test -z "$$(gofmt -l $$(git ls-files '*.go'))"; fi

bench: build ## latency and throughput figures on the dev stack (SQLite) and on PostgreSQL
	@scripts/bench.sh

clean: ## remove build output and the local data dir
	rm -rf bin data web/dist/app web/node_modules
