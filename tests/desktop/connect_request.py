"""Start at login runs the app with --minimized: no window, only the tray. When an app then asks
to connect (POST /v1/connect), the window comes forward so the owner can answer in the web UI.

Run inside `xvfb-run ... dbus-run-session --` (run.sh does).
"""

import hashlib
import base64
import json
import signal
import subprocess
import time
import urllib.request

from desktop import Sandbox, fail, log, wait_for, wait_heartbeat


def window_visible():
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Kintoun$"], capture_output=True,
                           text=True, timeout=30)
    return found.returncode == 0 and found.stdout.strip() != ""


def ask_to_connect(sandbox):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode()
    body = json.dumps({"name": "Desktop test app", "code_challenge": challenge,
                       "scopes": [{"bucket": "home", "collection": "notes", "access": "read"}]}).encode()
    request = urllib.request.Request(sandbox.url("/connect"), data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status not in (200, 201, 202):
            fail(f"POST /v1/connect: {response.status}")


def main():
    sandbox = Sandbox("connect")
    app = None
    try:
        app = sandbox.start(["--minimized"])
        wait_heartbeat(sandbox, app)
        time.sleep(1)  # give a wrongly shown window the time to map before looking
        if window_visible():
            fail("--minimized showed the window")
        log("--minimized: serving with no window")
        ask_to_connect(sandbox)
        wait_for(window_visible, "the window after a connection request")
        if "an app asks to connect" not in sandbox.logs[0].read_text(errors="replace"):
            fail("the connection request is not in the log")
        log("a connection request brought the window forward")
        app.send_signal(signal.SIGTERM)
        if app.wait(timeout=60) != 0:
            fail(f"exit code {app.returncode} on SIGTERM")
        print("connect request test: ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"connect_request: {time.monotonic() - started:.1f} s")
