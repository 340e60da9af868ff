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

.PHONY: run test tools build build-server build-site check lint rust-test e2e pg-up bench clean

## run: install what is missing, build, serve on http://127.0.0.1:3000 with SQLite
run: tools build
	$(SERVER_BIN) serve

## test: quality gates, Rust tests on SQLite and PostgreSQL, Playwright in Chromium
test: tools pg-up lint build rust-test e2e

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

## bench: seed BENCH_SHIPMENTS (default 100000) and print board and projection figures
bench: pg-up
	CARGO_TARGET_DIR=$(SERVER_TARGET) cargo bench --features ssr --bench board

clean:
	rm -rf target end2end/node_modules
