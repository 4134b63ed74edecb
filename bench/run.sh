#!/bin/bash
# `make bench`: Kintoun side by side with the reference Kinto 26.5.0. Installs what is missing
# (wrk; for the 100k section Debian's postgresql and the reference's PostgreSQL driver), builds the
# release binary and the ceiling (bench/ceiling, a trivial axum handler), then
# bench.py starts the servers, seeds them, runs the scenarios (bench/*.lua) and prints the table.
# QUICK=1: 1 round x 2 s per scenario, 5k records only, no PostgreSQL (under 2 minutes).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
QUICK="${QUICK:-}"
[ "$QUICK" = 0 ] && QUICK=""

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
# The 100k section runs the reference on PostgreSQL, as Kinto runs in production.
if [ -z "$QUICK" ] && { [ ! -x "$(pg_bin)/initdb" ] || ! id postgres >/dev/null 2>&1; }; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

REF_DIR="$(cd "$ROOT/../shared/reference" && pwd)"
export KREF="${KREF:-/tmp/kref}"
bash "$REF_DIR/setup-ref.sh"
if [ -z "$QUICK" ]; then
  # kinto[postgresql]: psycopg2-binary, SQLAlchemy and zope.sqlalchemy, which Kinto's
  # kinto.core.{storage,permission,cache}.postgresql import; the same Kinto version as the venv's.
  if ! "$KREF/venv/bin/python" -c "import psycopg2, sqlalchemy, zope.sqlalchemy" 2>/dev/null; then
    KVER="$("$KREF/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kinto"))')"
    echo "bench: installing kinto[postgresql]==$KVER into $KREF/venv" >&2
    "$KREF/venv/bin/pip" install -q "kinto[postgresql]==$KVER"
  fi
  PG_BIN="$(pg_bin)"
  [ -x "$PG_BIN/initdb" ] || { echo "bench: no initdb in /usr/lib/postgresql/*/bin" >&2; exit 1; }
  export PG_BIN
fi

build() {
  local out
  if ! out="$(cd "$ROOT" && cargo build --release "$@" 2>&1)"; then
    echo "$out" >&2
    echo "bench: cargo build --release $* failed" >&2
    exit 1
  fi
  echo "$out" | tail -n 1 >&2
}
build -p kintoun
build -p kintoun-ceiling
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

export KINTOUN="$TARGET_DIR/release/kintoun" CEILING="$TARGET_DIR/release/kintoun-ceiling"
export REF_DIR QUICK
exec python3 "$HERE/bench.py"
