# freightdesk: `make run` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

export PATH := $(CURDIR)/.tools/bin:$(HOME)/.cargo/bin:$(PATH)

SITE_ROOT := target/site
SERVER_TARGET := target/server
WASM_TARGET := target/wasm
SERVER_BIN := $(SERVER_TARGET)/debug/freightdesk
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3}' Cargo.lock)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export TEST_DATABASE_URL

# What the server needs to find the browser bundle (cargo-leptos sets the same).
export LEPTOS_OUTPUT_NAME := freightdesk
export LEPTOS_SITE_ROOT := $(SITE_ROOT)
export LEPTOS_SITE_PKG_DIR := pkg

.PHONY: run run-plan test tools test-tools build build-server build-site check lint rust-test e2e pg-up bench bench-web bench-check clean

## run: install what is missing, build, serve on http://127.0.0.1:3000 with SQLite
run: run-plan tools build
	$(SERVER_BIN) serve

run-plan:
	@echo "==> make run: installs only what running needs, builds the browser bundle (release, size-optimised)"
	@echo "    and the server (debug, quick to build), then serves http://127.0.0.1:3000 on SQLite (./data/)."
	@[ -x $(SERVER_BIN) ] || echo "    First build on this machine: about 10 minutes on 2 cores (later builds recompile only freightdesk)."

## test: quality gates, Rust tests on SQLite and PostgreSQL, the benchmarks once in quick mode
## (complete and well-formed, no timing judged), Playwright in Chromium
test: test-tools pg-up lint build rust-test bench-check e2e

## tools: what building and running need; test-tools adds Chromium, Playwright and the PostgreSQL client
tools:
	@./scripts/install-tools.sh run "$(WASM_BINDGEN_VERSION)"

test-tools:
	@./scripts/install-tools.sh test "$(WASM_BINDGEN_VERSION)"

build: build-site build-server

build-server:
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo build --features ssr

## build-site: the browser bundle in profile wasm-release (WASM_PROFILE=dev for a quick unoptimised one)
build-site:
	WASM_TARGET=$(WASM_TARGET) ./scripts/build-site.sh

lint:
	cargo fmt --check
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo clippy --all-targets --features ssr -- -D warnings
	CARGO_TARGET_DIR=$(WASM_TARGET) cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

pg-up:
	@./scripts/postgres-up.sh "$(TEST_DATABASE_URL)"

rust-test:
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo test --features ssr

e2e:
	./scripts/e2e.sh

BENCH_PARTS := target/bench/parts
QUICK ?=
BENCH_DATABASE_URL ?= $(TEST_DATABASE_URL)

## bench: release build; every figure of issue 14 beside its baseline measured in the same run,
## on fresh databases (PostgreSQL at BENCH_DATABASE_URL, a temp SQLite file); QUICK=1: small.
## The benchmark is built in the release profile too, so the library is compiled once.
## BENCH_ITEMS=1,3 and BENCH_BACKENDS=sqlite narrow the store part while working on one figure.
bench: pg-up tools build-site
	rm -rf $(BENCH_PARTS) && mkdir -p $(BENCH_PARTS)
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo build --release --features ssr --bin freightdesk --bench store
	QUICK=$(QUICK) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) \
		CARGO_TARGET_DIR=$(SERVER_TARGET) cargo bench --profile release --features ssr --bench store
	QUICK=$(QUICK) python3 scripts/bench-sqlite-c.py $(BENCH_PARTS)/sqlite-c.json
	$(MAKE) --no-print-directory bench-web SERVER_BIN=$(SERVER_TARGET)/release/freightdesk
	QUICK=$(QUICK) python3 scripts/bench-report.py

# The web figures (items 5–7), when their script is there; it writes its own part.
bench-web:
	if [ -x scripts/bench-web.sh ]; then \
		SERVER_BIN=$(SERVER_BIN) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) QUICK=$(QUICK) \
			scripts/bench-web.sh $(BENCH_PARTS)/web.json; \
	fi

## bench-check: the quick bench once on the debug build, then check the results are complete
## and well-formed (no timing is judged here)
bench-check: pg-up
	rm -rf $(BENCH_PARTS) && mkdir -p $(BENCH_PARTS)
	QUICK=1 BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) \
		CARGO_TARGET_DIR=$(SERVER_TARGET) cargo test --features ssr --bench store
	QUICK=1 python3 scripts/bench-sqlite-c.py $(BENCH_PARTS)/sqlite-c.json
	$(MAKE) --no-print-directory bench-web QUICK=1
	QUICK=1 python3 scripts/bench-report.py --check

clean:
	rm -rf target end2end/node_modules
