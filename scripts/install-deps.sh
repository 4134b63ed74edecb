#!/usr/bin/env bash
# Installs what building and testing Kintoun needs on Debian 12. Idempotent: when everything is
# already there it only looks, so `make run` / `make test` call it every time.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# System packages: a C toolchain (SQLite is compiled in), curl for rustup, venv for the reference,
# Chromium for the web UI tests (driven by playwright-core; never `playwright install`),
# iproute2 (`ip netns`) for the household-devices LAN test (server/tests/devices_lan.rs).
packages=(make pkg-config build-essential curl ca-certificates python3-venv chromium iproute2)
# The desktop app (Tauri 2: WebKitGTK, GTK, the tray's appindicator) and its headless tests
# (Xvfb, screenshots, WebKitWebDriver, a Secret Service, dbusmenu calls). Never dbus-x11: with it
# GTK spawns session buses that outlive the app.
packages+=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev file)
packages+=(xvfb xauth imagemagick webkit2gtk-driver gnome-keyring libsecret-tools xdotool x11-utils
  libglib2.0-bin dbus)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
fi

# Rust through rustup, with clippy and rustfmt.
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v rustup >/dev/null; then
  echo "install-deps: installing rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup default stable
installed="$(rustup component list --installed)"
for c in clippy rustfmt; do
  grep -q "^$c" <<<"$installed" || rustup component add "$c"
done

# Node.js and npm for the kinto.js suite (the machine image ships them; Debian's as a fallback).
if ! command -v npm >/dev/null; then
  echo "install-deps: apt-get install nodejs npm"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
