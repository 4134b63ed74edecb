#!/usr/bin/env bash
# The web UI's tests: Vitest unit tests (ui/src/**/*.test.ts), then the end-to-end tests
# (node:test + playwright-core driving /usr/bin/chromium) against a real `kintoun serve`.
# Needs the debug server binary (`cargo build -p kintoun`, or KINTOUN_BIN) and ui/dist
# (`make ui`). Screenshots go to $UI_ARTIFACTS (default tests/ui/artifacts), printed in the log.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

bash "$repo/ui/build.sh" --deps-only
(cd "$repo/ui" && npx --no-install vitest run)

cd "$here"
stamp=node_modules/.kintoun-install-stamp
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi
export UI_ARTIFACTS="${UI_ARTIFACTS:-$here/artifacts}"
echo "UI test screenshots: $UI_ARTIFACTS"
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
echo "UI test screenshots: $UI_ARTIFACTS"
