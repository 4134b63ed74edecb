#!/usr/bin/env bash
# Builds the web UI into ui/dist (type check + vite build), installing node_modules with
# `npm ci` only when package.json/package-lock.json changed. `make ui` calls it when a source
# is newer than the last build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stamp=node_modules/.kintoun-install-stamp
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi
[ "${1:-}" = "--deps-only" ] && exit 0
npm run --silent build
