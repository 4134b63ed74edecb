"""A pairing that waits for the owner's confirmation brings the minimized app's window forward
(on the Devices page) and announces the check string. The app and a headless `kintoun serve`
pair over loopback by address (their only mDNS interface name matches nothing, so no mDNS runs
in the root namespace).

Run inside `xvfb-run ... dbus-run-session --` (run.sh does).
"""

import base64
import json
import signal
import time
import urllib.request

from desktop import KINTOUN, Sandbox, fail, log, owner_password_file, wait_for, wait_heartbeat

LAN = dict(KINTOUN_LAN_SHARING="1", KINTOUN_LAN_ADDRESS="127.0.0.1", KINTOUN_LAN_PORT="0",
           KINTOUN_LAN_INTERFACES="kt-no-such-if", KINTOUN_SECRETS_BACKEND="file")


def post(url, password, body):
    credentials = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Basic {credentials}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def main():
    desktop, other = Sandbox("pairing-app"), Sandbox("pairing-peer")
    app = peer = None
    try:
        app = desktop.start(["--minimized"], KINTOUN_DEVICE_NAME="Desktop", **LAN)
        peer = other.start(["serve"], binary=KINTOUN, name="peer", KINTOUN_DEVICE_NAME="Kitchen", **LAN)
        wait_heartbeat(desktop, app)
        wait_heartbeat(other, peer)
        status, invitation = post(desktop.url("/__devices__/pairing"), owner_password_file(desktop), {})
        if status != 201:
            fail(f"showing a pairing code: {status} {invitation}")
        status, joined = post(other.url("/__devices__/join"), owner_password_file(other),
                              {"device": f"127.0.0.1:{invitation['pairing_port']}", "code": invitation["code"]})
        if status != 201:
            fail(f"joining: {status} {joined}")
        log(f"the peer joined; check string {joined['sas']}")
        wait_for(lambda: "Pair with Kitchen?" in desktop.logs[0].read_text(errors="replace"),
                 "the pairing announcement in the app's log")
        if joined["sas"] not in desktop.logs[0].read_text(errors="replace"):
            fail("the announcement does not carry the check string")
        from connect_request import window_visible
        wait_for(window_visible, "the window after a pairing to confirm")
        log("a pairing to confirm brought the window forward with the check string")
        for process in (app, peer):
            process.send_signal(signal.SIGTERM)
            if process.wait(timeout=60) != 0:
                fail(f"exit code {process.returncode} on SIGTERM")
        print("pairing notification test: ok")
    except BaseException:
        desktop.dump_logs()
        other.dump_logs()
        raise
    finally:
        for process in (app, peer):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        desktop.close()
        other.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"pairing_notify: {time.monotonic() - started:.1f} s")
