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

.PHONY: run serve build test test-clients test-python test-js test-compat check fmt reference clean deps account bench
.PHONY: app ui-dist package test-desktop

# The desktop app (src-tauri): builds the web UI (when ui/ has one) and the app, and starts it in
# the tray. Without a display the app says so and runs the server headless. `BIND=...` and
# `DATA_DIR=...` override the settings (without BIND, a port saved by "Use another port" holds).
APP_PROFILE ?= release
APP_ENV := $(if $(filter command line environment,$(origin BIND)),KINTOUN_BIND=$(BIND)) \
	$(if $(DATA_DIR),KINTOUN_DATA_DIR=$(DATA_DIR))
run: deps app
	$(APP_ENV) $(TARGET_DIR)/$(APP_PROFILE)/kintoun-desktop

app: deps ui-dist
	cargo build $(if $(filter release,$(APP_PROFILE)),--release) -p kintoun-desktop

# The window embeds ui/dist when it exists (else the app's own status page, src-tauri/status).
ui-dist:
	@if [ -f ui/package.json ]; then cd ui && npm ci --no-audit --no-fund && npm run build; fi

# A .deb with Tauri's bundler (the prebuilt npm CLI, never `cargo install tauri-cli`): a release
# build, 15-30 minutes on 2 cores. The package lands in $(TARGET_DIR)/release/bundle/deb/.
TAURI_CLI := npm exec --yes --package=@tauri-apps/cli@2.12.5 -- tauri
package: deps ui-dist
	cd src-tauri && $(TAURI_CLI) build --bundles deb
	@ls -l $(TARGET_DIR)/release/bundle/deb/*.deb

serve: deps build
	$(TARGET_DIR)/release/kintoun serve $(SERVE_ARGS)

build: deps
	cargo build --release -p kintoun

# `make account NAME=admin` creates (or resets) an account; the password is read from stdin.
NAME ?= admin
account: build
	$(TARGET_DIR)/release/kintoun account add $(NAME) $(if $(DATA_DIR),--data-dir $(DATA_DIR))

test: deps check
	cargo test -p kintoun
	cargo test -p kintoun-desktop
	$(MAKE) --no-print-directory test-clients
	$(MAKE) --no-print-directory test-desktop

# The desktop app under Xvfb and private D-Bus sessions: tray, window, single instance, keyring.
test-desktop:
	bash tests/desktop/run.sh

# The black-box suites with real clients, against the debug binary `cargo test` just built.
test-clients: test-python test-js test-compat

test-python:
	bash tests/python/run.sh

test-js:
	bash tests/js/run.sh

# Replays 500+ request sequences on the reference Kinto and on Kintoun and compares them.
test-compat:
	bash tests/compat/run.sh

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
