#!/usr/bin/env python3
"""`make bench`: Kintoun side by side with the reference Kinto 26.5.0 (standard library only).

Started by bench/run.sh, which installs wrk and nginx, builds the release binary and the
reference venv. This script starts the servers, seeds the same data on both, runs every wrk
scenario alternately on both (A B A B), then measures Kintoun alone on 100k records, and prints
one table. Environment: QUICK=1 (1 round x 2 s, 10k records only), KINTOUN (the binary),
REF_DIR (../shared/reference), BENCH_ROUNDS / BENCH_SECONDS to override.
"""

import atexit
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.environ.get("QUICK", "") not in ("", "0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or (1 if QUICK else 2))
SECONDS = int(os.environ.get("BENCH_SECONDS") or (2 if QUICK else 5))
N = 10_000
BIG_N = 100_000
KINTOUN = os.environ["KINTOUN"]
REF_DIR = os.environ.get("REF_DIR") or os.path.join(HERE, "..", "..", "shared", "reference")
CLK = os.sysconf("SC_CLK_TCK")
TMP = tempfile.mkdtemp(prefix="kintoun-bench-")


def basic(user):
    return base64.b64encode(f"{user}:{user}".encode()).decode()


BENCH, ALICE, BOB = basic("bench"), basic("alice"), basic("bob")

# --- processes ---------------------------------------------------------------------------------

_procs = []  # (pid, Popen or None) we started, stopped at exit


def _cleanup(*_):
    for pid, popen in reversed(_procs):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        if popen is not None:
            try:
                popen.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
    _procs.clear()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
signal.signal(signal.SIGINT, lambda *_: sys.exit(1))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(pid):
    for i, (p, popen) in enumerate(_procs):
        if p == pid:
            del _procs[i]
            os.kill(pid, signal.SIGTERM)
            if popen is not None:
                popen.wait(10)
            return


class Server:
    def __init__(self, name, pid, port, auth_batch):
        self.name, self.pid, self.port, self.batch_max = name, pid, port, auth_batch
        self.conn = {}
        self.since = None

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def req(self, method, path, body=None, auth=BENCH, headers=None, raw=False):
        """One request on a kept-alive connection per user; returns (status, headers, body)."""
        conn = self.conn.get(auth)
        if conn is None:
            conn = self.conn[auth] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Authorization": "Basic " + auth, "Content-Type": "application/json"}
        h.update(headers or {})
        data = json.dumps(body) if body is not None else None
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
        except (http.client.HTTPException, OSError):
            conn.close()
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
        payload = r.read()
        return r.status, r.headers, payload if raw else (json.loads(payload) if payload else None)

    def ok(self, method, path, body=None, auth=BENCH, expect=(200, 201)):
        status, _, data = self.req(method, path, body, auth)
        if status not in expect:
            sys.exit(f"{self.name}: {method} {path} -> {status} {str(data)[:300]}")
        return data


def start_kintoun(data_dir):
    """Starts Kintoun; returns (Server, milliseconds from spawn to the first 200 on /v1/)."""
    os.makedirs(data_dir, exist_ok=True)
    out = open(os.path.join(TMP, "kintoun.out"), "w+")
    log = open(os.path.join(data_dir + ".log"), "a")
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [KINTOUN, "serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir, "--config",
         os.path.join(HERE, "kintoun.toml")],
        stdout=out, stderr=log, env={k: v for k, v in os.environ.items()
                                     if not k.startswith(("KINTO_", "KINTOUN_"))})
    _procs.append((p.pid, p))
    port = None
    while port is None:
        if p.poll() is not None:
            sys.exit(f"kintoun exited with {p.returncode}, see {data_dir}.log")
        out.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/v1/", out.read())
        if m:
            port = int(m.group(1))
        elif time.perf_counter() - t0 > 30:
            sys.exit("kintoun did not print its address")
        else:
            time.sleep(0.0005)
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/v1/")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        if time.perf_counter() - t0 > 30:
            sys.exit("kintoun did not answer 200")
        time.sleep(0.0005)
    ms = (time.perf_counter() - t0) * 1000
    return Server("kintoun", p.pid, port, 1000), ms


def start_ref():
    port = free_port()
    env = dict(os.environ)
    env.setdefault("KREF", "/tmp/kref")
    r = subprocess.run(["bash", os.path.join(REF_DIR, "start-ref.sh"), str(port)],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("reference did not start: " + r.stderr)
    pid = int(r.stdout.split()[0])
    _procs.append((pid, None))
    return Server("reference", pid, port, 25)  # ref.ini: batch_max_requests = 25


def start_nginx():
    root = os.path.join(TMP, "nginx")
    os.makedirs(os.path.join(root, "www"), exist_ok=True)
    # About the size of a record GET's answer.
    with open(os.path.join(root, "www", "record.json"), "w") as f:
        json.dump({"data": {"id": "r000042", "n": 42, "title": "record 42", "tags": ["a", "b"],
                            "done": True, "last_modified": 1795343599421}}, f)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""{user}
worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  default_type application/json;
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; root {root}/www; }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", root], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(root, "stderr.log"), "w"))
    _procs.append((p.pid, p))
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/record.json")
            if c.getresponse().status == 200:
                return Server("nginx", p.pid, port, 0)
        except OSError:
            time.sleep(0.02)
    sys.exit("nginx did not start")


# --- /proc ---------------------------------------------------------------------------------------

def _tree(pid):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    """utime + stime of the process and its descendants (nginx workers), in seconds."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total / CLK


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total / 1e6


# --- data ----------------------------------------------------------------------------------------

def batch(server, requests, path_default=None, auth=BENCH):
    size = server.batch_max
    for i in range(0, len(requests), size):
        body = {"requests": requests[i:i + size]}
        if path_default:
            body["defaults"] = {"method": "POST", "path": path_default}
        res = server.ok("POST", "/v1/batch", body, auth=auth)
        bad = [r for r in res["responses"] if r["status"] not in (200, 201)]
        if bad:
            sys.exit(f"{server.name}: batch sub-request failed: {str(bad[0])[:300]}")


def record(i):
    return {"data": {"id": f"r{i:06d}", "n": i, "title": f"record {i}", "tags": ["a", "b"],
                     "done": i % 2 == 0}}


def seed(server, n, buckets=True):
    """The same data on every server: bucket `bench` with collections data (n records),
    writes, bulk, patch (p1, p2); 200 buckets of alice's, 20 of them readable by bob."""
    t0 = time.perf_counter()
    server.ok("PUT", "/v1/buckets/bench", {})
    for c in ("data", "writes", "bulk", "patch"):
        server.ok("PUT", f"/v1/buckets/bench/collections/{c}", {})
    for r in ("p1", "p2"):
        server.ok("PUT", f"/v1/buckets/bench/collections/patch/records/{r}", {"data": {"n": 0}})
    batch(server, [{"body": record(i)} for i in range(n)],
          "/buckets/bench/collections/data/records")
    seconds = time.perf_counter() - t0
    if buckets:
        bob = server.ok("GET", "/v1/", auth=BOB)["user"]["id"]
        batch(server, [{"method": "PUT", "path": f"/buckets/a{i:03d}",
                        "body": {"permissions": {"read": [bob]}} if i % 10 == 0 else {}}
                       for i in range(200)], auth=ALICE)
        got = server.ok("GET", "/v1/buckets", auth=BOB)["data"]
        assert len(got) == 20, (server.name, len(got))
    # _since=T answers the newest 1%: T is the last_modified of the (n/100 + 1)-th newest.
    k = n // 100
    newest = server.ok("GET", f"/v1/buckets/bench/collections/data/records"
                              f"?_sort=-last_modified&_limit={k + 1}&_fields=id")["data"]
    server.since = newest[k]["last_modified"]
    got = server.ok("GET", f"/v1/buckets/bench/collections/data/records?_since={server.since}")
    assert len(got["data"]) == k, (server.name, len(got["data"]))
    page = server.ok("GET", f"/v1/buckets/bench/collections/data/records"
                            f"?gt_n={n // 2}&_sort=-n&_limit=100")["data"]
    assert len(page) == 100 and page[0]["n"] == n - 1, server.name
    return seconds


def walk(server):
    """Reads the whole data collection following Next-Page; returns (seconds, records, pages)."""
    t0 = time.perf_counter()
    path, bodies = "/v1/buckets/bench/collections/data/records", []
    while path:
        status, headers, body = server.req("GET", path, raw=True)
        assert status == 200, (server.name, status)
        bodies.append(body)
        nxt = headers.get("Next-Page")
        path = None
        if nxt:
            u = urllib.parse.urlsplit(nxt)
            path = u.path + ("?" + u.query if u.query else "")
    seconds = time.perf_counter() - t0
    return seconds, sum(len(json.loads(b)["data"]) for b in bodies), len(bodies)


def timed(server, method, path, body=None, count=20, warmup=3):
    """Median milliseconds of `count` sequential requests after `warmup` ones."""
    times = []
    for i in range(warmup + count):
        t0 = time.perf_counter()
        status, _, data = server.req(method, path, body, raw=True)
        dt = time.perf_counter() - t0
        assert status in (200, 201), (server.name, path, status, data[:200])
        if i >= warmup:
            times.append(dt * 1000)
    return statistics.median(times)


# --- wrk -----------------------------------------------------------------------------------------

def wrk(server, script, conns, seconds, auth=BENCH, n=N):
    env = dict(os.environ, BENCH_DIR=HERE, BENCH_AUTH=auth, BENCH_N=str(n),
               BENCH_SINCE=str(server.since))
    cpu0 = cpu_seconds(server.pid)
    r = subprocess.run(["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{seconds}s",
                        "--timeout", "10s", "-s", os.path.join(HERE, script), server.url()],
                       capture_output=True, text=True, env=env)
    cpu = cpu_seconds(server.pid) - cpu0
    m = re.search(r"BENCH_RESULT (.*)", r.stdout)
    if r.returncode != 0 or not m:
        sys.exit(f"wrk failed on {server.name} {script}: {r.stdout}{r.stderr}")
    res = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    res["cpu"] = cpu
    res["errors"] = sum(res[k] for k in ("status", "connect", "read", "write", "timeout"))
    return res


def summarize(runs):
    reqs = sum(r["requests"] for r in runs)
    return {
        "rps": statistics.median(r["requests"] / (r["duration_us"] / 1e6) for r in runs),
        "p50": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99": statistics.median(r["p99_us"] for r in runs) / 1000,
        "cpu_us": sum(r["cpu"] for r in runs) / reqs * 1e6 if reqs else float("nan"),
        "errors": sum(r["errors"] for r in runs),
        "requests": reqs,
    }


SCENARIOS = [  # label, script, connections, auth
    ("record GET by id", "get.lua", 1, BENCH),
    ("record GET by id", "get.lua", 16, BENCH),
    ("filtered+sorted page of 100 (10k)", "page.lua", 16, BENCH),
    ("_since, newest 1% (10k)", "since.lua", 16, BENCH),
    ("buckets list, bob reads 20/200", "buckets.lua", 16, BOB),
    ("record create POST", "create.lua", 1, BENCH),
    ("record create POST", "create.lua", 16, BENCH),
    ("batch of 25 creates", "batch.lua", 1, BENCH),
    ("PATCH, no precondition", "patch.lua", 1, BENCH),
    ("PATCH with If-Match (ETag chain)", "patch_ifmatch.lua", 1, BENCH),
]


def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def main():
    t_start = time.perf_counter()
    notes = []
    print(f"bench: {'QUICK, ' if QUICK else ''}{ROUNDS} round(s) x {SECONDS} s per scenario and "
          f"server, alternating reference / Kintoun; {os.cpu_count()} CPUs", flush=True)

    # Start-up: 5 fresh starts on empty data dirs; idle RSS after the first 200.
    starts, idle = [], []
    for i in range(5):
        s, ms = start_kintoun(os.path.join(TMP, f"start{i}"))
        time.sleep(0.2)
        starts.append(ms)
        idle.append(rss_mb(s.pid))
        stop(s.pid)

    kin, _ = start_kintoun(os.path.join(TMP, "k10k"))
    ref = start_ref()
    print("bench: seeding 10k records (reference: batches of 25, Kintoun: of 1000) ...", flush=True)
    seed_ref = seed(ref, N)
    seed_kin = seed(kin, N)
    rss_kin_10k, rss_ref_10k = rss_mb(kin.pid), rss_mb(ref.pid)
    disk_kin_10k = disk_mb(os.path.join(TMP, "k10k"))
    nginx = start_nginx()

    rows = []
    for label, script, conns, auth in SCENARIOS:
        runs = {"reference": [], "kintoun": []}
        for _ in range(ROUNDS):
            for s in (ref, kin):
                runs[s.name].append(wrk(s, script, conns, SECONDS, auth))
        rows.append((f"{label}, c{conns}", summarize(runs["reference"]),
                     summarize(runs["kintoun"])))
        print(f"bench: {rows[-1][0]}: done", flush=True)
    ceiling = summarize([wrk(nginx, "ceiling.lua", 16, SECONDS) for _ in range(ROUNDS)])
    stop(nginx.pid)

    walks = {"reference": [], "kintoun": []}
    for _ in range(3):
        for s in (ref, kin):
            walks[s.name].append(walk(s))
    stop(ref.pid)
    stop(kin.pid)

    # 100k records: Kintoun alone.
    big = {}
    if not QUICK:
        print("bench: seeding 100k records on Kintoun ...", flush=True)
        d = os.path.join(TMP, "k100k")
        k, _ = start_kintoun(d)
        big["seed"] = seed(k, BIG_N, buckets=False)
        big["rss"] = rss_mb(k.pid)
        coll = "/v1/buckets/bench/collections/data/records"
        big["page"] = timed(k, "GET", f"{coll}?gt_n={BIG_N // 2}&_sort=-n&_limit=100")
        big["since"] = timed(k, "GET", f"{coll}?_since={k.since}")
        big["walk"] = statistics.median(walk(k)[0] for _ in range(3))
        big["walk_pages"] = walk(k)[1:]
        big["batch"] = timed(k, "POST", "/v1/batch", {
            "defaults": {"method": "POST", "path": "/buckets/bench/collections/bulk/records"},
            "requests": [{"body": {"data": {"n": i, "title": "batched record"}}}
                         for i in range(25)]})
        big["rss_after"] = rss_mb(k.pid)
        stop(k.pid)
        big["disk"] = disk_mb(d)
        restarts = []
        for _ in range(5):
            k, ms = start_kintoun(d)
            restarts.append(ms)
            stop(k.pid)
        big["start"] = statistics.median(restarts)

    # --- the table -------------------------------------------------------------------------------
    w = 44
    print()
    print(f"{'scenario':<{w}} {'ref req/s':>10} {'Kintoun':>10} {'ratio':>7}  "
          f"{'ref p50/p99 ms':>16}  {'K p50/p99 ms':>14}  {'ref CPU/req':>11} {'K CPU/req':>10}")
    print("-" * (w + 90))
    for label, r, k in rows:
        flag = ""
        if r["errors"] or k["errors"]:
            flag = " !"
            notes.append(f"{label}: non-2xx/socket errors: reference {r['errors']} of "
                         f"{r['requests']}, Kintoun {k['errors']} of {k['requests']}")
        print(f"{label:<{w}} {fmt_rps(r['rps']):>10} {fmt_rps(k['rps']):>10} "
              f"{k['rps'] / r['rps']:>6.1f}x  "
              f"{r['p50']:>7.2f}/{r['p99']:<8.2f}  {k['p50']:>6.2f}/{k['p99']:<7.2f}  "
              f"{r['cpu_us']:>8.0f} us {k['cpu_us']:>7.0f} us{flag}")
    c = ceiling
    kget = rows[1][2]
    print(f"{'ceiling: nginx static JSON, c16':<{w}} {'-':>10} {fmt_rps(c['rps']):>10} "
          f"{'-':>7}  {'-':>16}  {c['p50']:>6.2f}/{c['p99']:<7.2f}  {'-':>11} "
          f"{c['cpu_us']:>7.0f} us")
    print(f"{'  Kintoun record GET c16 vs ceiling':<{w}} {'':>10} "
          f"{kget['rps'] / c['rps'] * 100:>9.0f}% (ceiling is {c['rps'] / kget['rps']:.1f}x)")
    wr = statistics.median(x[0] for x in walks["reference"])
    wk = statistics.median(x[0] for x in walks["kintoun"])
    _, recs, pages = walks["kintoun"][0]
    print(f"{f'full read via Next-Page, 10k ({pages} page(s)), s':<{w}} {wr:>10.3f} {wk:>10.3f} "
          f"{wr / wk:>6.1f}x  (median of 3 walks, seconds, not req/s)")
    print(f"{'seeding 10k records, s':<{w}} {seed_ref:>10.2f} {seed_kin:>10.2f} "
          f"{seed_ref / seed_kin:>6.1f}x  (batches of 25 vs 1000)")
    print(f"{'RSS after loading 10k records, MB':<{w}} {rss_ref_10k:>10.1f} {rss_kin_10k:>10.1f}")
    print()
    print("Kintoun alone:")
    print(f"  start-up to the first 200 (empty data dir): {statistics.median(starts):.1f} ms "
          f"median of 5 (min {min(starts):.1f}, max {max(starts):.1f})")
    print(f"  idle RSS: {statistics.median(idle):.1f} MB;  RSS with 10k records: "
          f"{rss_kin_10k:.1f} MB;  on-disk data dir with 10k records: {disk_kin_10k:.1f} MB")
    if QUICK:
        print("  100k: skipped (QUICK=1)")
    else:
        print(f"  100k: Kintoun only (the reference on PostgreSQL is out of scope for now; "
              f"its memory backend cannot hold 100k)")
        print(f"    seeding 100k records via /batch of 1000: {big['seed']:.1f} s")
        print(f"    filtered+sorted page of 100 (gt_n=50000&_sort=-n&_limit=100): "
              f"{big['page']:.2f} ms median of 20")
        print(f"    _since, newest 1% (1000 records): {big['since']:.2f} ms median of 20")
        recs, pages = big["walk_pages"]
        print(f"    full read via Next-Page ({recs} records, {pages} pages): "
              f"{big['walk']:.3f} s median of 3")
        print(f"    batch of 25 creates: {big['batch']:.2f} ms median of 20")
        print(f"    RSS after loading 100k: {big['rss']:.1f} MB (after the reads above: "
              f"{big['rss_after']:.1f} MB); on-disk data dir: {big['disk']:.1f} MB")
        print(f"    start-up to the first 200 with 100k records: {big['start']:.1f} ms median of 5")
    print()
    print("Notes: req/s, p50 and p99 are medians over rounds; CPU/req = server utime+stime "
          "(/proc/PID/stat, with children) / requests served, summed over rounds. wrk runs on the "
          "same 2 cores as the server. Reference: Kinto 26.5.0, memory backend, ref.ini "
          "(waitress, 4 threads).")
    for n in notes:
        print("  ! " + n)
    print(f"bench: total {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
