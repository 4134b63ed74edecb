"""The secrets store against a real Secret Service: under dbus-run-session with gnome-keyring
unlocked, the app (headless) keeps the server's secrets and the owner's password in the
keyring (found by `secret-tool`), none in files, and reads the same password back on the next
start. With `--fallback` (no keyring daemon on the bus) it falls back to 0600 files and logs it.

Run as `dbus-run-session -- python3 keyring.py [--fallback]` (run.sh does).
"""

import contextlib
import os
import re
import signal
import stat
import subprocess
import sys
import time

from desktop import Sandbox, check_owner, fail, log, owner_password_file, port_open, wait_heartbeat


def start_keyring(sandbox):
    """An unlocked gnome-keyring (secrets component) on this session bus."""
    env = sandbox.env()
    result = subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], input=b"pw\n",
                            env=env, capture_output=True, timeout=60)
    if result.returncode != 0:
        fail(f"gnome-keyring-daemon: {result.stderr!r}")
    for line in result.stdout.decode().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            os.environ[key] = value
    log("gnome-keyring-daemon unlocked on this session bus")


def keyring_entries(sandbox):
    """{username: secret} of the keyring items of service `kintoun` (secret-tool prints each
    item's label `keyring:<username>@<service>` and secret on stdout, attributes on stderr)."""
    result = subprocess.run(["secret-tool", "search", "--all", "--unlock", "service", "kintoun"],
                            env=sandbox.env(), capture_output=True, text=True, timeout=60)
    entries, user = {}, None
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("label = keyring:"):
            user = line[len("label = keyring:"):].rsplit("@", 1)[0]
        if line.startswith("secret = ") and user is not None:
            entries[user] = line.split(" = ", 1)[1]
            user = None
    return entries


def stop_keyring():
    """Stops the gnome-keyring-daemon this test started (the owner of org.freedesktop.secrets)."""
    answer = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                             "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.GetConnectionUnixProcessID",
                             "org.freedesktop.secrets"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"uint32 (\d+)", answer)
    if found:
        os.kill(int(found.group(1)), signal.SIGTERM)


@contextlib.contextmanager
def running(sandbox, **env):
    app = sandbox.start(["--headless"], name=f"app{len(sandbox.logs)}", **env)
    try:
        wait_heartbeat(sandbox, app)
        yield app
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
            if app.wait(timeout=60) != 0:
                fail(f"the app exited with {app.returncode} on SIGTERM")
        if port_open(sandbox.port):
            fail("port still open after SIGTERM")


def with_keyring(sandbox):
    start_keyring(sandbox)
    try:
        keyring_round_trip(sandbox)
    finally:
        stop_keyring()


def keyring_round_trip(sandbox):
    with running(sandbox, KINTOUN_SECRETS_BACKEND="keyring"):
        entries = keyring_entries(sandbox)
        data_dir = str(sandbox.data_dir)
        mine = {user: secret for user, secret in entries.items() if data_dir in user}
        owner = [secret for user, secret in mine.items() if "owner" in user]
        if not owner:
            fail(f"no owner password for {data_dir} in the keyring: {sorted(entries)}")
        log(f"keyring entries for this data dir: {sorted(mine)}")
        secrets_dir = sandbox.data_dir / "secrets"
        if secrets_dir.exists() and any(secrets_dir.iterdir()):
            fail(f"secrets were written to files although the keyring works: {list(secrets_dir.iterdir())}")
        check_owner(sandbox, owner[0])
        password = owner[0]
    with running(sandbox):
        # Second start, backend auto: the password comes back from the keyring.
        check_owner(sandbox, password)
        log("second start (backend auto) reads the same owner password back from the keyring")


def fallback(sandbox):
    with running(sandbox):
        password = owner_password_file(sandbox)
        for path in (sandbox.data_dir / "secrets").iterdir():
            if stat.S_IMODE(path.stat().st_mode) != 0o600:
                fail(f"{path} has mode {oct(path.stat().st_mode)}")
        check_owner(sandbox, password)
    text = sandbox.logs[-1].read_text(errors="replace")
    warnings = [line for line in text.splitlines() if "WARN" in line and "keyring" in line.lower()]
    if len(warnings) != 1:
        fail(f"expected one warning about the keyring fallback, got {warnings}")
    log(f"no keyring: 0600 files and one warning: {warnings[0][-120:]}")


def main():
    sandbox = Sandbox("keyring")
    try:
        fallback(sandbox) if "--fallback" in sys.argv else with_keyring(sandbox)
        print(f"secrets store test ({'file fallback' if '--fallback' in sys.argv else 'keyring'}): ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"keyring{' --fallback' if '--fallback' in sys.argv else ''}: {time.monotonic() - started:.1f} s")
