# Kintoun: `make run` starts it, `make test` runs what CI runs. See README.md.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

# CI builds in a fresh clone each time: keep the build outside it so rebuilds are incremental.
ifeq ($(CI),true)
export CARGO_TARGET_DIR ?= $(HOME)/.cache/kintoun-target
endif
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

BIND ?= 127.0.0.1:8888
# Empty: the server's default, the user's data dir. `make run DATA_DIR=/tmp/k` to override.
DATA_DIR ?=
SERVE_ARGS := --bind $(BIND) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

.PHONY: run serve build ui test test-clients test-python test-js test-compat test-sync-reference test-ui test-extension check fmt reference clean deps account bench
.PHONY: app package test-desktop

# The desktop app (src-tauri): builds the web UI (ui/dist, which the window shows) and the app,
# and starts it in the tray. Without a display the app says so and runs the server headless. `BIND=...` and
# `DATA_DIR=...` override the settings (without BIND, a port saved by "Use another port" holds).
APP_PROFILE ?= release
APP_ENV := $(if $(filter command line environment,$(origin BIND)),KINTOUN_BIND=$(BIND)) \
	$(if $(DATA_DIR),KINTOUN_DATA_DIR=$(DATA_DIR))
run: deps app
	$(APP_ENV) $(TARGET_DIR)/$(APP_PROFILE)/kintoun-desktop

app: deps ui
	cargo build $(if $(filter release,$(APP_PROFILE)),--release) -p kintoun-desktop

# A .deb with Tauri's bundler (the prebuilt npm CLI, never `cargo install tauri-cli`): a release
# build, 15-30 minutes on 2 cores. The package lands in $(TARGET_DIR)/release/bundle/deb/.
TAURI_CLI := npm exec --yes --package=@tauri-apps/cli@2.12.5 -- tauri
package: deps ui
	cd src-tauri && $(TAURI_CLI) build --bundles deb
	@ls -l $(TARGET_DIR)/release/bundle/deb/*.deb

serve: deps build
	$(TARGET_DIR)/release/kintoun serve $(SERVE_ARGS)

# The release binary embeds the web UI (ui/dist), so the UI is built first.
build: deps ui
	cargo build --release -p kintoun

# The web UI (ui/dist): npm ci + type check + vite build, skipped when nothing changed.
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json \
	ui/package.json ui/package-lock.json
ui: ui/dist/index.html
ui/dist/index.html: $(UI_SOURCES)
	bash ui/build.sh

# `make account NAME=admin` creates (or resets) an account; the password is read from stdin.
NAME ?= admin
account: build
	$(TARGET_DIR)/release/kintoun account add $(NAME) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

test: deps check ui
	cargo test -p kintoun
	cargo test -p kintoun-desktop
	$(MAKE) --no-print-directory test-clients
	$(MAKE) --no-print-directory test-ui
	$(MAKE) --no-print-directory test-extension
	$(MAKE) --no-print-directory test-desktop

# The desktop app under Xvfb and private D-Bus sessions: tray, window, single instance, keyring.
test-desktop: ui
	bash tests/desktop/run.sh

# The black-box suites with real clients, against the debug binary `cargo test` just built.
test-clients: test-python test-js test-compat test-sync-reference

test-python:
	bash tests/python/run.sh

test-js:
	bash tests/js/run.sh

# The web UI: Vitest unit tests, then Playwright (Debian's chromium) against `kintoun serve`.
test-ui: ui
	bash tests/ui/run.sh

# Replays 500+ request sequences on the reference Kinto and on Kintoun and compares them.
# The example browser extension (tests/extension) in Debian's chromium: connect flow, CLI approval,
# origin binding, revocation, and what a foreign web page cannot do.
test-extension:
	bash tests/extension/run.sh

test-compat:
	bash tests/compat/run.sh

# The replicator with the reference Kinto as the remote (server/tests/sync_reference.rs skips
# when the reference is not installed; here it is installed first, then required).
test-sync-reference:
	bash ../shared/reference/setup-ref.sh
	KINTOUN_REQUIRE_REFERENCE=1 cargo test -p kintoun --test sync_reference

check: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

# The reference Kinto 26.5.0 (Python) in a venv, to compare answers with; see ../shared/reference.
reference: deps
	bash ../shared/reference/setup-ref.sh

clean:
	cargo clean

# Side by side with the reference Kinto (never part of `test`); `make bench QUICK=1`: < 2 min.
bench: deps
	QUICK=$(QUICK) bash bench/run.sh

deps:
	@bash scripts/install-deps.sh
