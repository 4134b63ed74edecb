#!/bin/bash
# `make bench`: Kintoun side by side with the reference Kinto 26.5.0. Installs what is missing
# (wrk, nginx-light for the ceiling row, the reference venv), builds the release binary, then
# bench.py starts the servers, seeds them, runs the wrk scenarios (bench/*.lua) and prints the
# table. QUICK=1: 1 round x 2 s per scenario, 10k records only (under 2 minutes).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

REF_DIR="$(cd "$ROOT/../shared/reference" && pwd)"
bash "$REF_DIR/setup-ref.sh"

(cd "$ROOT" && cargo build --release -p kintoun 2>&1 | tail -n 1) >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

export KINTOUN="$TARGET_DIR/release/kintoun" REF_DIR
exec python3 "$HERE/bench.py"
