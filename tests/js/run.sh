#!/usr/bin/env bash
# Run the kinto.js test suite (HTTP client + offline-first sync) against kintoun.
# Needs the server binary: `cargo build -p kintoun` (or KINTOUN_BIN=/path/to/kintoun).
# Exit code: the test runner's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Reinstall only when node_modules is missing or package.json/package-lock.json changed.
stamp=node_modules/.kintoun-install-stamp
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

npm test
