#!/usr/bin/env bash
# The example extension's end-to-end tests (node:test + playwright-core driving Debian's
# /usr/bin/chromium with the extension loaded unpacked) against a real `kintoun serve`.
# Reuses the UI suite's harness (tests/ui/lib/harness.mjs); needs the debug server binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
for dir in "$here" "$repo/tests/ui"; do
  stamp="$dir/node_modules/.kintoun-install-stamp"
  want="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ ! -d "$dir/node_modules" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
done
cd "$here"
export UI_ARTIFACTS="${UI_ARTIFACTS:-$repo/tests/ui/artifacts}"
echo "Extension test screenshots: $UI_ARTIFACTS"
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
