"""A second launch does not start a second server: it hands over to the first (single-instance
plugin, over the session bus) and exits; the first keeps serving on its port, alone.

Run inside `xvfb-run ... dbus-run-session --` (run.sh does).
"""

import signal
import time

from desktop import Sandbox, fail, free_port, get, listeners_of, log, port_open, wait_for, wait_heartbeat


def main():
    sandbox = Sandbox("second")
    first = second = None
    try:
        first = sandbox.start(name="first")
        wait_heartbeat(sandbox, first)
        log(f"first instance (pid {first.pid}) serves on {sandbox.port}")

        other_port = free_port()
        second = sandbox.start(name="second", KINTOUN_BIND=f"127.0.0.1:{other_port}")
        code = second.wait(timeout=120)
        log(f"second instance exited with {code}")
        if code != 0:
            fail(f"the second instance exited with {code}")
        second_log = sandbox.logs[1].read_text(errors="replace")
        if "Kintoun is serving" in second_log or "storage opened" in second_log:
            fail(f"the second instance opened the storage or served:\n{second_log}")
        if port_open(other_port):
            fail(f"something listens on the second instance's port {other_port}")
        status, _ = get(sandbox.url("/__heartbeat__"))
        if status != 200:
            fail(f"the first instance stopped serving: {status}")
        ports = listeners_of(first.pid)
        if ports != {sandbox.port}:
            fail(f"the first instance listens on {ports}, expected only {sandbox.port}")
        wait_for(lambda: "launched again" in sandbox.logs[0].read_text(errors="replace"),
                 "the first instance to be told about the second launch")
        log("the first instance was told and still serves alone; no second server")

        first.send_signal(signal.SIGTERM)
        if first.wait(timeout=60) != 0:
            fail(f"the first instance exited with {first.returncode} on SIGTERM")
        if port_open(sandbox.port):
            fail("port still open after SIGTERM")
        print("second instance test: ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"second_instance: {time.monotonic() - started:.1f} s")
