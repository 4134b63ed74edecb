"""Port already taken: the app says so, naming the port (tray status line, log), and its way
out works: "Use another port" in the tray menu picks a free port, saves it in the desktop's
kintoun.toml and serves there.

Run inside `xvfb-run ... dbus-run-session --` (run.sh does).
"""

import signal
import socket
import time

from desktop import (Sandbox, click_menu, fail, find_menu, get, log, menu_items, port_open, tray_icon_colour,
                     wait_for)


def status_line(menu, prefix):
    return next((label for label in menu_items(*menu) if label.startswith(prefix)), None)


def main():
    sandbox = Sandbox("port")
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", sandbox.port))
    blocker.listen()
    app = None
    try:
        app = sandbox.start()
        menu = wait_for(find_menu, "the tray menu on the session bus", limit=120)
        line = wait_for(lambda: status_line(menu, "Kintoun: error"), "the tray to report the error", limit=120)
        if line != f"Kintoun: error, port {sandbox.port} is taken":
            fail(f"the status line does not name the port: {line}")
        text = sandbox.logs[0].read_text(errors="replace")
        if f"Port {sandbox.port} is already in use" not in text or "Use another port" not in text:
            fail(f"the log does not explain the taken port and the way out:\n{text[-2000:]}")
        if tray_icon_colour(*menu) != "red":
            fail("the tray icon is not the error (red) icon")
        log(f"tray says '{line}' with the red icon; the log explains the way out")

        click_menu(*menu, menu_items(*menu)["Use another port"])
        line = wait_for(lambda: status_line(menu, "Kintoun: running"), "the server on another port", limit=120)
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        if port == sandbox.port:
            fail("still on the taken port")
        status, _ = get(f"http://127.0.0.1:{port}/v1/__heartbeat__")
        if status != 200:
            fail(f"no heartbeat on the new port {port}: {status}")
        saved = (sandbox.root / "config" / "kintoun" / "kintoun.toml").read_text()
        if f'bind = "127.0.0.1:{port}"' not in saved:
            fail(f"the new port is not saved in kintoun.toml: {saved!r}")
        wait_for(lambda: tray_icon_colour(*menu) == "green", "the running (green) tray icon")
        log(f"'Use another port' moved the server to {port} (green icon) and saved it in kintoun.toml")

        click_menu(*menu, menu_items(*menu)["Quit Kintoun"])
        if app.wait(timeout=60) != 0:
            fail(f"the app exited with {app.returncode}")
        if port_open(port):
            fail(f"port {port} still open after Quit")
        print("port taken test: ok")
    except BaseException:
        sandbox.dump_logs()
        raise
    finally:
        blocker.close()
        if app is not None and app.poll() is None:
            app.send_signal(signal.SIGTERM)
            app.wait(timeout=30)
        sandbox.close()


if __name__ == "__main__":
    started = time.monotonic()
    main()
    log(f"port_taken: {time.monotonic() - started:.1f} s")
