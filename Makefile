# Pannier — the two commands that matter: `make run` and `make test`.
# Builds live outside the clone so CI and later sessions reuse them.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/pannier-target
export PATH := $(HOME)/.cargo/bin:$(PATH)

BIN := $(CARGO_TARGET_DIR)/release/pannier
SERVER_PKGS := -p domain -p app -p migration -p server --features domain/server,app/ssr
WASM_PKGS := -p frontend -p app -p domain --target wasm32-unknown-unknown --features app/hydrate

.PHONY: help run dev build test lint unit integration-services wasm-check e2e api-fuzz fmt deploy-check cluster cluster-core

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

run: ## Install what is missing, build for release, serve http://127.0.0.1:3000 (SQLite + local disk).
	scripts/bootstrap.sh run
	$(MAKE) build
	$(BIN) serve

dev: ## Live-reloading development server (cargo leptos watch).
	scripts/bootstrap.sh run
	cargo leptos watch --split

build: ## Release build: server binary + hashed, precompressed site in target/site.
	cargo leptos build --release --precompress --split

test: ## Everything CI runs: lint, build, WASM check, unit + integration (SQLite + disk, PostgreSQL + replica + S3 + Redis), deploy/ checks, the 2-instance cluster test, Playwright, schemathesis.
	scripts/bootstrap.sh test
	$(MAKE) lint
	$(MAKE) build
	$(MAKE) wasm-check
	$(MAKE) unit
	$(MAKE) integration-services
	$(MAKE) deploy-check
	$(MAKE) cluster-core
	$(MAKE) e2e
	$(MAKE) api-fuzz

lint: ## rustfmt check; clippy on the server side and the WASM side separately.
	cargo fmt --all --check
	cargo clippy $(SERVER_PKGS) --all-targets -- -D warnings
	cargo clippy $(WASM_PKGS) -- -D warnings

unit: ## Unit, service and integration tests on SQLite + local disk.
	timeout 1200 cargo test $(SERVER_PKGS)

integration-services: ## Service, storage and integration suites again on throwaway PostgreSQL (+ streaming replica), S3 (s3s-fs) and Redis.
	timeout 1200 scripts/with-services.sh cargo test $(SERVER_PKGS) --lib --test storage --test api

wasm-check: ## No server-only crate in the WASM bundle; what each page downloads within its budget.
	scripts/check-wasm-bundle.sh
	scripts/wasm-budget.py

e2e: ## Playwright in Chromium against the release build (one project with JavaScript off).
	cd end2end && timeout 900 npx playwright test

api-fuzz: ## schemathesis against the served OpenAPI document (bounded; scripts/schemathesis.sh 400 for a long run).
	timeout 600 scripts/schemathesis.sh

fmt: ## Format the code.
	cargo fmt --all

deploy-check: ## deploy/ as shipped: nginx -t, systemd-analyze verify, compose.yaml and garage.toml.
	scripts/check-deploy.sh

cluster-core: ## The cluster test's core: 2 instances + a worker behind nginx on PostgreSQL + replica, s3s-fs, Redis; 20 s of load with an instance killed, Redis and the replica stopped, a rolling restart.
	timeout 600 scripts/with-services.sh python3 scripts/cluster.py --instances 2 --seconds 20 --outage 4

cluster: ## The whole cluster test: 3 instances + a worker behind nginx, PostgreSQL + replica, Garage, Redis; 60 s of load and failures (installs Garage once, ~13 min).
	scripts/bootstrap.sh test
	$(MAKE) build
	timeout 1800 scripts/with-services.sh python3 scripts/cluster.py --instances 3 --seconds 60 --outage 10 --garage
