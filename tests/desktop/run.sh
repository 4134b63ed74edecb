#!/usr/bin/env bash
# The desktop acceptance tests (`make test-desktop`): builds the debug app, then runs each test
# under its own Xvfb display and private D-Bus session (never the user's): smoke (serve, owner,
# screenshot, Start at login, Quit through the tray's dbusmenu, clean database), WebKitWebDriver,
# second instance, port already taken (and "Use another port"), --minimized and a connection
# request bringing the window forward, the secrets store against
# gnome-keyring and without it; and the no-display (headless) path.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

started=$SECONDS
cargo build -p kintoun-desktop
echo "test-desktop: build took $((SECONDS - started)) s"

cd tests/desktop
# A private session bus that activates nothing on demand (session.conf): no stray keyring or
# accessibility daemons, and no keyring unless a test starts one.
bus() { dbus-run-session --config-file="$PWD/session.conf" -- "$@"; }
gui() { xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session --config-file="$PWD/session.conf" -- python3 "$@"; }
tests_started=$SECONDS
gui smoke.py
gui webdriver.py
gui second_instance.py
gui port_taken.py
gui connect_request.py
gui pairing_notify.py
bus python3 keyring.py
bus python3 keyring.py --fallback
bus python3 headless.py
echo "test-desktop: all passed; tests took $((SECONDS - tests_started)) s"
