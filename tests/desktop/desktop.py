"""Shared helpers for the desktop tests: a throwaway home, starting the app, HTTP, dbusmenu.

The tests run inside `xvfb-run ... dbus-run-session -- python3 ...` (see run.sh), so the app
gets a display and a private session bus; everything it writes goes under one temp dir.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
APP = Path(os.environ.get("KINTOUN_DESKTOP_BIN") or TARGET / "debug" / "kintoun-desktop")
KINTOUN = Path(os.environ.get("KINTOUN_BIN") or TARGET / "debug" / "kintoun")
# How long the app may take to come up under a loaded 2-core machine (a limit, not a measurement).
STARTUP_LIMIT = 120


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def fail(message):
    raise AssertionError(message)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Sandbox:
    """A temp HOME with XDG dirs, a data dir and a port; removed by `close`."""

    def __init__(self, name):
        self.root = Path(tempfile.mkdtemp(prefix=f"kintoun-{name}-"))
        self.home = self.root / "home"
        self.data_dir = self.root / "data"
        for sub in ["home", "config", "share", "cache", "runtime", "tmp"]:
            (self.root / sub).mkdir(mode=0o700)
        self.port = free_port()
        self.logs = []

    def env(self, **extra):
        env = dict(os.environ)
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_DATA_HOME=str(self.root / "share"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            XDG_RUNTIME_DIR=str(self.root / "runtime"),
            TMPDIR=str(self.root / "tmp"),
            KINTOUN_DATA_DIR=str(self.data_dir),
            KINTOUN_BIND=f"127.0.0.1:{self.port}",
            KINTOUN_LOG=os.environ.get("KINTOUN_LOG", "info"),
            NO_AT_BRIDGE="1",
        )
        env.update(extra)
        return env

    def start(self, args=(), binary=APP, name="app", **extra):
        """Starts the app (or `binary`) with this sandbox's environment; output goes to a log file."""
        path = self.root / f"{name}.log"
        handle = open(path, "wb")
        self.logs.append(path)
        return subprocess.Popen([str(binary), *args], env=self.env(**extra), stdout=handle, stderr=subprocess.STDOUT)

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}/v1{path}"

    def dump_logs(self):
        for path in self.logs:
            print(f"----- {path.name} -----", file=sys.stderr)
            print(path.read_text(errors="replace")[-6000:], file=sys.stderr)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def get(url, user=None, password=None, token=None):
    """GET → (status, JSON body)."""
    request = urllib.request.Request(url)
    if user is not None:
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_heartbeat(sandbox, process, limit=STARTUP_LIMIT):
    """Waits until /v1/__heartbeat__ answers 200; fails if the process exits first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sandbox.dump_logs()
            fail(f"the app exited with {process.returncode} before serving")
        try:
            status, _ = get(sandbox.url("/__heartbeat__"))
            if status == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    sandbox.dump_logs()
    fail(f"no heartbeat on port {sandbox.port} after {limit} s")


def wait_for(predicate, what, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out waiting for {what}")


def owner_password_file(sandbox):
    """The owner's password from the 0600 file fallback (no keyring in this session)."""
    directory = sandbox.data_dir / "secrets"
    candidates = sorted(directory.glob("*owner*")) if directory.exists() else []
    if not candidates:
        listing = sorted(p.name for p in directory.iterdir()) if directory.exists() else "no secrets dir"
        fail(f"no owner password file in {directory}: {listing}")
    return candidates[0].read_text().strip()


def check_owner(sandbox, password):
    """GET /v1/ with the owner's Basic credentials authenticates as account:admin."""
    status, body = get(sandbox.url("/"), "admin", password)
    if status != 200 or (body.get("user") or {}).get("id") != "account:admin":
        fail(f"the owner account does not work: {status} {body}")
    log("owner account:admin authenticates")


def integrity_ok(sandbox):
    import sqlite3

    connection = sqlite3.connect(str(sandbox.data_dir / "kintoun.sqlite"))
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()
    if result != [("ok",)]:
        fail(f"integrity_check: {result}")
    log("database integrity_check: ok")


def listeners_of(pid):
    """TCP ports `pid` listens on (from /proc/net/tcp and the process's socket inodes)."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else []:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"]:
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


# ---- the tray, through StatusNotifierItem's dbusmenu on the session bus ----


def gdbus(*args):
    return subprocess.run(["gdbus", "call", "--session", *args], capture_output=True, text=True, timeout=30)


def find_menu():
    """(bus name, object path) of a dbusmenu exported on the session bus, or None."""
    names = gdbus("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                  "--method", "org.freedesktop.DBus.ListNames").stdout
    for name in [n.strip(" '") for n in names.strip("()[],\n").split(",")]:
        if not name.startswith(":"):
            continue
        found = subprocess.run(["gdbus", "introspect", "--session", "--dest", name, "--object-path", "/",
                                "--recurse"], capture_output=True, text=True, timeout=30).stdout
        path = None
        for line in found.splitlines():
            line = line.strip()
            if line.startswith("node "):
                path = line[5:].rstrip(" {")
            if "com.canonical.dbusmenu" in line and path:
                return name, path
    return None


def menu_items(dest, path):
    """{label: id} of the menu's items."""
    layout = gdbus("--dest", dest, "--object-path", path, "--method", "com.canonical.dbusmenu.GetLayout", "--",
                   "0", "-1", "@as []").stdout
    items = {}
    # Each item reads `(<id>, {'label': <'text'>, ...}, [...])`; pick id/label pairs.
    import re

    for match in re.finditer(r"\((\d+), \{([^}]*)\}", layout):
        label = re.search(r"'label': <'([^']*)'>", match.group(2))
        if label:
            items[label.group(1).replace("_", "")] = int(match.group(1))
    return items


def click_menu(dest, path, item_id):
    result = gdbus("--dest", dest, "--object-path", path, "--method", "com.canonical.dbusmenu.Event", "--",
                   str(item_id), '"clicked"', "<0>", "0")
    if result.returncode != 0:
        fail(f"dbusmenu Event failed: {result.stderr}")


def screenshot_stddev(path):
    """Captures the X root window and returns its standard deviation (0 = a blank screen)."""
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
    out = subprocess.run(["identify", "-format", "%[fx:standard_deviation]", str(path)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return float(out.strip())


def tray_icon_colour(dest, menu_path):
    """'red' or 'green': the dominant colour of the tray icon the StatusNotifierItem shows now."""
    import re

    item = menu_path.rsplit("/Menu", 1)[0]
    props = {}
    for name in ["IconName", "IconThemePath"]:
        out = gdbus("--dest", dest, "--object-path", item, "--method", "org.freedesktop.DBus.Properties.Get",
                    "org.kde.StatusNotifierItem", name).stdout
        found = re.search(r"<'([^']*)'>", out)
        props[name] = found.group(1) if found else ""
    name = props["IconName"]
    path = Path(name) if name.startswith("/") else Path(props["IconThemePath"]) / f"{name}.png"
    if not path.exists():
        fail(f"tray icon file not found: {props}")
    out = subprocess.run(["identify", "-format", "%[fx:mean.r] %[fx:mean.g]", str(path)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    red, green = (float(x) for x in out.split())
    return "red" if red > green else "green"
