"""Without a display the app says so and runs the server alone; SIGTERM stops it cleanly.

Run as `python3 headless.py` (no Xvfb: DISPLAY and WAYLAND_DISPLAY are removed for the app).
"""

import os
import signal
import time

from desktop import Sandbox, check_owner, fail, integrity_ok, log, owner_password_file, port_open, wait_heartbeat


def main():
    sandbox = Sandbox("headless")
    saved = {name: os.environ.pop(name) for name in ["DISPLAY", "WAYLAND_DISPLAY"] if name in os.environ}
    app = None
    try:
        app = sandbox.start(KINTOUN_SECRETS_BACKEND="file")
        wait_heartbeat(sandbox, app)
        check_owner(sandbox, owner_password_file(sandbox))
        output = sandbox.logs[0].read_text(errors="replace")
        if "no display" not in output or "headless" not in output:
            fail(f"no clear message about running headless:\n{output[-2000:]}")
        log("no display: the app said so and serves headless")
        app.send_signal(signal.SIGTERM)
        if app.wait(timeout=60) != 0:
            fail(f"exit code {app.returncode} on SIGTERM")
        if port_open(sandbox.port):
            fail("port still open after SIGTERM")
        integrity_ok(sandbox)
        print("headless test: ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        os.environ.update(saved)
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"headless: {time.monotonic() - started:.1f} s")
