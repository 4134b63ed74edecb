"""Drives the app's window through WebKitWebDriver (W3C WebDriver, stdlib HTTP): clicks the
status page's "Show password" and checks the owner's password appears; also checks the page
shows the server's URL and live statistics from /v1/__stats__. When the full web UI (ui/dist)
is built in, it checks instead that the UI got a session over IPC and is drawn.

Run inside `xvfb-run ... dbus-run-session --` (run.sh does). The app is started by the driver
with TAURI_WEBVIEW_AUTOMATION=true.
"""

import json
import subprocess
import time
import urllib.error
import urllib.request

from desktop import APP, Sandbox, fail, free_port, get, log, owner_password_file, wait_for, wait_heartbeat

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Driver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None):
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as err:
            fail(f"WebDriver {method} {path}: {err.code} {err.read()[:500]!r}")

    def start(self, binary, args):
        capabilities = {"alwaysMatch": {"browserName": "wry",
                                        "webkitgtk:browserOptions": {"binary": str(binary), "args": args}}}
        value = self.call("POST", "/session", {"capabilities": capabilities})
        self.session = value["sessionId"]

    def find(self, css):
        found = self.call("POST", f"/session/{self.session}/element", {"using": "css selector", "value": css})
        if not isinstance(found, dict) or ELEMENT not in found:
            fail(f"no element {css}: {found}")
        return found[ELEMENT]

    def text(self, css):
        try:
            return self.call("GET", f"/session/{self.session}/element/{self.find(css)}/text")
        except AssertionError:
            return None

    def click(self, css):
        self.call("POST", f"/session/{self.session}/element/{self.find(css)}/click")

    def script(self, source):
        return self.call("POST", f"/session/{self.session}/execute/sync", {"script": source, "args": []})

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}")
            finally:
                self.session = None


def main():
    sandbox = Sandbox("webdriver")
    driver_port = free_port()
    driver_log = open(sandbox.root / "webdriver.log", "wb")
    sandbox.logs.append(sandbox.root / "webdriver.log")
    env = sandbox.env(TAURI_WEBVIEW_AUTOMATION="true")
    server = subprocess.Popen(["WebKitWebDriver", f"--port={driver_port}"], env=env, stdout=driver_log,
                              stderr=subprocess.STDOUT)
    driver = Driver(driver_port)
    try:
        wait_for(lambda: _up(driver), "WebKitWebDriver to listen")
        driver.start(APP, [])
        log("WebKitWebDriver started the app")
        wait_heartbeat(sandbox, server)
        if driver.script("return document.getElementById('show-password') !== null"):
            status_page(sandbox, driver)
        else:
            web_ui(sandbox, driver)
        print("webdriver test: ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        # Quit the app through its own SIGTERM path (closing a WebDriver session does not always
        # end the app), then close the session and the driver.
        app = stop_sandbox_processes(sandbox)
        try:
            wait_for(lambda: not _serving(sandbox), f"the app {app} to stop on SIGTERM", limit=60)
        finally:
            try:
                driver.quit()
            except AssertionError as err:
                log(f"closing the session: {err}")
            server.terminate()
            server.wait(timeout=30)
        sandbox.close()


def status_page(sandbox, driver):
    wait_for(lambda: f":{sandbox.port}/v1" in (driver.text("#url") or ""), "the page to show the URL")
    wait_for(lambda: (driver.text("#stat-requests") or "").isdigit(), "live statistics from /__stats__")
    log(f"status page: URL {driver.text('#url')}, {driver.text('#stat-requests')} requests so far")
    if driver.text("#password") == (expected := owner_password_file(sandbox)):
        fail("the password is shown before the click")
    driver.click("#show-password")
    wait_for(lambda: driver.text("#password") == expected, "the password after the click")
    log(f"clicked 'Show password': the owner's password appeared; button now says "
        f"'{driver.text('#show-password')}'")


def web_ui(sandbox, driver):
    """The web UI signs in with the IPC session (no password typed) and writes through it."""
    session = driver.script(
        "return window.__TAURI_INTERNALS__.invoke('session').then(s => ({url: s.url, user: s.user}))")
    if not session or session.get("user") != "account:admin":
        fail(f"the web UI's session: {session}")
    wait_for(lambda: driver.script("return document.querySelector('input[name=bucket-id]') !== null"),
             "the web UI's bucket list (signed in through the IPC session)")
    field = driver.find("input[name=bucket-id]")
    driver.call("POST", f"/session/{driver.session}/element/{field}/value", {"text": "from-the-window"})
    driver.click("form.inline button[type=submit]")
    password = owner_password_file(sandbox)
    wait_for(lambda: get(sandbox.url("/buckets/from-the-window"), "admin", password)[0] == 200,
             "the bucket created by clicking 'Create bucket'")
    log(f"web UI: signed in as {session['user']} over IPC; clicking 'Create bucket' created it on the server")
    # The Status page in the window: live stats, the owner's password on demand, the recent log.
    driver.script("location.hash = '#/status'; return true")
    wait_for(lambda: driver.script("return document.querySelector('#show-owner-password') !== null"),
             "the Status page's 'Show password' button")
    driver.click("#show-owner-password")
    wait_for(lambda: driver.text(".owner-password") == password, "the owner's password on the Status page")
    wait_for(lambda: "kintoun" in (driver.text("pre.log") or "").lower(), "the recent log on the Status page")
    log("web UI Status page: 'Show password' revealed the owner's password; the recent log is shown")


def stop_sandbox_processes(sandbox):
    """SIGTERM to the app the driver started with this sandbox's environment; returns its pids."""
    import os
    import signal
    from pathlib import Path

    marker = f"KINTOUN_DATA_DIR={sandbox.data_dir}".encode()
    stopped = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            is_app = os.readlink(proc / "exe") == str(APP.resolve())
            if is_app and marker in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGTERM)
                stopped.append(int(proc.name))
        except OSError:
            continue
    return stopped


def _up(driver):
    try:
        with urllib.request.urlopen(driver.base + "/status", timeout=5):
            return True
    except OSError:
        return False


def _serving(sandbox):
    from desktop import port_open

    return port_open(sandbox.port)


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"webdriver: {time.monotonic() - started:.1f} s")
