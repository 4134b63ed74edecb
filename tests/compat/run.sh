#!/bin/bash
# Differential test: the reference Kinto 26.5.0 vs Kintoun, same requests, compared answers.
# Usage: tests/compat/run.sh [differential.py options, e.g. -k filters -v]
# Env: KINTOUN_BIN (default ${CARGO_TARGET_DIR:-<repo>/target}/debug/kintoun), KREF (reference venv dir).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SHARED_REF="$REPO/../shared/reference"
BIN="${KINTOUN_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/kintoun}"
[ -x "$BIN" ] || { echo "no kintoun binary at $BIN (cargo build -p kintoun, or set KINTOUN_BIN)" >&2; exit 2; }

bash "$SHARED_REF/setup-ref.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kintoun-compat.XXXXXX")"
REF_PID=""
KIN_PID=""
cleanup() {
  [ -n "$REF_PID" ] && kill "$REF_PID" 2>/dev/null || true
  [ -n "$KIN_PID" ] && kill "$KIN_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

REF_PORT="$(free_port)"
REF_PID="$(bash "$SHARED_REF/start-ref.sh" "$REF_PORT")"

"$BIN" serve --bind 127.0.0.1:0 --data-dir "$WORK/data" --config "$REPO/tests/compat/reference.toml" \
  >"$WORK/kintoun.log" 2>&1 &
KIN_PID=$!
KIN_URL=""
for _ in $(seq 1 150); do
  KIN_URL="$(sed -n 's|.*listening on \(http://127\.0\.0\.1:[0-9]*\)/v1/.*|\1|p' "$WORK/kintoun.log" | head -n1)"
  [ -n "$KIN_URL" ] && break
  kill -0 "$KIN_PID" 2>/dev/null || { echo "kintoun died:" >&2; cat "$WORK/kintoun.log" >&2; exit 2; }
  sleep 0.1
done
[ -n "$KIN_URL" ] || { echo "kintoun did not start" >&2; cat "$WORK/kintoun.log" >&2; exit 2; }

echo "reference: http://127.0.0.1:$REF_PORT (pid $REF_PID), kintoun: $KIN_URL (pid $KIN_PID)"
set +e
python3 "$HERE/differential.py" --ref "http://127.0.0.1:$REF_PORT" --kin "$KIN_URL" "$@"
RC=$?
set -e
exit $RC
