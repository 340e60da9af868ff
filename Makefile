# freightdesk: `make run` and `make test` do all set-up on a fresh Debian machine (as root).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

export PATH := $(CURDIR)/.tools/bin:$(HOME)/.cargo/bin:$(PATH)

SITE_ROOT := target/site
PKG_DIR := $(SITE_ROOT)/pkg
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

.PHONY: run test tools build build-server build-site check lint rust-test e2e pg-up bench bench-web bench-check clean

## run: install what is missing, build, serve on http://127.0.0.1:3000 with SQLite
run: tools build
	$(SERVER_BIN) serve

## test: quality gates, Rust tests on SQLite and PostgreSQL, Playwright in Chromium
test: tools pg-up lint build rust-test bench-check e2e

tools:
	@./scripts/install-tools.sh "$(WASM_BINDGEN_VERSION)"

build: build-site build-server

build-server:
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo build --features ssr

build-site:
	CARGO_TARGET_DIR=$(WASM_TARGET) cargo build --lib --target wasm32-unknown-unknown --no-default-features --features hydrate
	mkdir -p $(PKG_DIR)
	wasm-bindgen --target web --no-typescript --out-dir $(PKG_DIR) --out-name freightdesk \
		$(WASM_TARGET)/wasm32-unknown-unknown/debug/freightdesk.wasm
	# The server is built with LEPTOS_OUTPUT_NAME set, so it links `freightdesk.wasm` (as cargo-leptos names it).
	mv $(PKG_DIR)/freightdesk_bg.wasm $(PKG_DIR)/freightdesk.wasm
	cp style/main.css $(PKG_DIR)/freightdesk.css
	cp -r public/. $(SITE_ROOT)/

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
## on fresh databases (PostgreSQL at BENCH_DATABASE_URL, a temp SQLite file); QUICK=1: small
bench: pg-up
	rm -rf $(BENCH_PARTS) && mkdir -p $(BENCH_PARTS)
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo build --release --features ssr
	QUICK=$(QUICK) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) \
		CARGO_TARGET_DIR=$(SERVER_TARGET) cargo bench --features ssr --bench store
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
	$(MAKE) --no-print-directory bench-web QUICK=1
	QUICK=1 python3 scripts/bench-report.py --check

clean:
	rm -rf target end2end/node_modules
