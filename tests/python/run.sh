#!/usr/bin/env bash
# Runs the kinto-http client tests (tests/python) against a `kintoun serve` that the pytest
# fixture starts itself. Needs the debug binary: `cargo build -p kintoun` first (or KINTOUN_BIN).
# The venv lives outside the repo, in ${KINTOUN_PY_VENV:-$HOME/.cache/kintoun-pyvenv}; its
# packages are reinstalled only when requirements.txt changes. Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${KINTOUN_PY_VENV:-$HOME/.cache/kintoun-pyvenv}"
req="$here/requirements.txt"
stamp="$venv/.kintoun-requirements.sha256"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi

want="$(sha256sum "$req" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi

cd "$repo"
status=0
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python "$@" || status=$?
exit "$status"
