"""Desktop smoke test: the app starts with a temp data dir, serves, the owner account works,
the window is drawn, and Quit in the tray menu (clicked through dbusmenu) stops the server
cleanly: the port closes and the database passes integrity_check.

Run inside `xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session --` (run.sh does).
"""

import json
import signal
import stat
import time
import urllib.request

from desktop import (Sandbox, check_owner, click_menu, fail, find_menu, integrity_ok, log, menu_items,
                     owner_password_file, port_open, screenshot_stddev, wait_for, wait_heartbeat)

# Below this the root window is one flat colour (Xvfb's black): nothing was drawn.
BLANK_STDDEV = 0.02


def write_something(sandbox, password):
    import base64

    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    body = json.dumps({"data": {"title": "smoke"}}).encode()
    for path in ["/buckets/smoke", "/buckets/smoke/collections/notes", "/buckets/smoke/collections/notes/records/r1"]:
        request = urllib.request.Request(sandbox.url(path), data=body, method="PUT",
                                         headers={"Authorization": auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status not in (200, 201):
                fail(f"PUT {path}: {response.status}")
    log("wrote a bucket, a collection and a record as the owner")


def main():
    sandbox = Sandbox("smoke")
    app = None
    try:
        app = sandbox.start()
        wait_heartbeat(sandbox, app)
        log(f"heartbeat on port {sandbox.port}")

        password = owner_password_file(sandbox)
        mode = stat.S_IMODE((sandbox.data_dir / "secrets").stat().st_mode)
        for path in (sandbox.data_dir / "secrets").iterdir():
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                fail(f"{path} is readable by others: {oct(path.stat().st_mode)}")
        log(f"no keyring here: secrets in 0600 files (dir mode {oct(mode)})")
        check_owner(sandbox, password)
        write_something(sandbox, password)

        shot = sandbox.root / "window.png"
        stddev = wait_for(lambda: (lambda s: s if s > BLANK_STDDEV else None)(screenshot_stddev(shot)),
                          "a window drawn on the screen")
        log(f"screenshot standard deviation {stddev:.3f} (> {BLANK_STDDEV}: not blank)")

        menu = wait_for(find_menu, "the tray menu on the session bus")
        items = wait_for(lambda: (lambda i: i if any(k.startswith("Kintoun: running") for k in i) else None)(
            menu_items(*menu)), "the tray status line to say running")
        log(f"tray menu at {menu[0]} {menu[1]}: {sorted(items)}")
        status_line = next(k for k in items if k.startswith("Kintoun: running"))
        if f"127.0.0.1:{sandbox.port}" not in status_line:
            fail(f"the status line does not name the URL: {status_line}")
        for label in ["Open Kintoun", "Open in browser", "Copy URL", "Start at login", "Quit Kintoun"]:
            if label not in items:
                fail(f"no '{label}' in the tray menu: {sorted(items)}")

        autostart = sandbox.home / ".config" / "autostart"  # where the auto-launch crate writes
        click_menu(*menu, items["Start at login"])
        entry = wait_for(lambda: next(iter(autostart.glob("*.desktop")), None) if autostart.exists() else None,
                         "an autostart entry after 'Start at login'")
        if "--minimized" not in entry.read_text():
            fail(f"the autostart entry does not start minimized: {entry.read_text()}")
        click_menu(*menu, items["Start at login"])
        wait_for(lambda: not entry.exists(), "the autostart entry to go after a second click")
        log(f"'Start at login' adds {entry.name} (--minimized) and removes it again")

        click_menu(*menu, items["Quit Kintoun"])
        log("clicked Quit Kintoun in the tray menu")
        code = app.wait(timeout=60)
        if code != 0:
            sandbox.dump_logs()
            fail(f"the app exited with {code}")
        if port_open(sandbox.port):
            fail(f"port {sandbox.port} still open after Quit")
        log(f"the app exited 0 and port {sandbox.port} is closed")
        integrity_ok(sandbox)
        text = b"".join(p.read_bytes() for p in (sandbox.data_dir / "logs").iterdir()).decode(errors="replace")
        if "the server stopped" not in text:
            fail("the log file does not record the server stopping")
        log("the rotating log file in the data dir records the clean stop")
        print("desktop smoke test: ok")
    except BaseException:
        if sandbox.logs:
            sandbox.dump_logs()
        raise
    finally:
        if app is not None and app.poll() is None:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=30)
            except Exception:
                app.kill()
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"smoke: {time.monotonic() - started:.1f} s")
