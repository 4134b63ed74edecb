#!/usr/bin/env python3
"""`make bench`: Kintoun side by side with the reference Kinto 26.5.0 (standard library only).

Started by bench/run.sh, which installs wrk and PostgreSQL, builds the release binary, the
ceiling example and the reference venv. This script starts the servers, seeds the same data on
both and checks that they answer the same, runs every wrk scenario alternately on both (A B A B)
with 10k records (reference: memory backend), then the 100k-record scenarios alternately on
Kintoun and the reference on PostgreSQL (a private cluster it starts), and prints the tables.
Environment: QUICK=1 (1 round x 2 s, 5k records, no 100k section), KINTOUN (the binary), CEILING
(the ceiling example's binary), PG_BIN (PostgreSQL's bin dir, for the 100k section), KREF (the
reference venv's parent, /tmp/kref), REF_DIR (../shared/reference), BENCH_ROUNDS / BENCH_SECONDS
to override.
"""

import atexit
import base64
import csv
import datetime
import http.client
import io
import json
import os
import pwd
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
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.environ.get("QUICK", "") not in ("", "0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or (1 if QUICK else 2))
SECONDS = int(os.environ.get("BENCH_SECONDS") or (2 if QUICK else 5))
# QUICK seeds 5k records, not 10k: the reference's memory backend seeds in quadratic time (its
# history plugin reads the ACLs of each batch's records through the memory permission backend,
# which scans every ACL key for each one), about 80 s of CPU for 10k but 20 s for 5k, and QUICK
# must finish in under 2 minutes on 2 cores.
N = 5_000 if QUICK else 10_000
NK = f"{N // 1000}k"
BIG_N = 100_000
KINTOUN = os.environ["KINTOUN"]
CEILING = os.environ["CEILING"]
PG_BIN = os.environ.get("PG_BIN", "")
KREF = os.environ.get("KREF") or "/tmp/kref"
REF_DIR = os.environ.get("REF_DIR") or os.path.join(HERE, "..", "..", "shared", "reference")
CLK = os.sysconf("SC_CLK_TCK")
TMP = tempfile.mkdtemp(prefix="kintoun-bench-")


def basic(user):
    return base64.b64encode(f"{user}:{user}".encode()).decode()


BENCH, ALICE, BOB = basic("bench"), basic("alice"), basic("bob")

# --- processes ---------------------------------------------------------------------------------

_procs = []  # (pid, Popen or None, signal that stops it) we started, stopped at exit
_dirs = [TMP]  # temp dirs removed at exit


def _kill(pid, popen, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    if popen is not None:
        try:
            popen.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            popen.wait(5)
    else:  # the reference: start-ref.sh's child, not ours to wait for
        for _ in range(150):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)


def _cleanup(*_):
    while _procs:
        _kill(*_procs.pop())
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
signal.signal(signal.SIGINT, lambda *_: sys.exit(1))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(pid):
    for i, entry in enumerate(_procs):
        if entry[0] == pid:
            del _procs[i]
            _kill(*entry)
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
    _procs.append((p.pid, p, signal.SIGTERM))
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


def start_ref(ini=None):
    """The reference with ref.ini (memory backends) or `ini` (a copy of it), by start-ref.sh."""
    port = free_port()
    env = dict(os.environ, KREF=KREF)
    if ini:
        env["REF_INI"] = ini
    r = subprocess.run(["bash", os.path.join(REF_DIR, "start-ref.sh"), str(port)],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("reference did not start: " + r.stderr)
    pid = int(r.stdout.split()[0])
    _procs.append((pid, None, signal.SIGTERM))
    return Server("reference", pid, port, 25)  # ref.ini: batch_max_requests = 25


def start_ceiling():
    """The ceiling: bench/ceiling (kintoun-ceiling), a trivial axum handler serving a fixed JSON body
    the size of a record GET answer on /record.json."""
    out = open(os.path.join(TMP, "ceiling.out"), "w+")
    p = subprocess.Popen([CEILING], stdout=out, stderr=subprocess.STDOUT)
    _procs.append((p.pid, p, signal.SIGTERM))
    t0 = time.perf_counter()
    while True:
        if p.poll() is not None:
            out.seek(0)
            sys.exit(f"ceiling exited with {p.returncode}: {out.read()}")
        out.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", out.read())
        if m:
            break
        if time.perf_counter() - t0 > 30:
            sys.exit("ceiling did not print its address")
        time.sleep(0.005)
    s = Server("ceiling", p.pid, int(m.group(1)), 0)
    status, _, _ = s.req("GET", "/record.json", raw=True)
    if status != 200:
        sys.exit(f"ceiling: GET /record.json -> {status}")
    return s


# --- PostgreSQL (the reference's 100k section) ---------------------------------------------------

class Postgres:
    """A private PostgreSQL cluster: initdb in a temp dir (owned by `postgres` when we are root,
    who cannot run it), listening only on 127.0.0.1 on a free port, PostgreSQL's default fsync and
    synchronous_commit; one database `kinto`. Stopped (fast shutdown) and removed at exit."""

    def __init__(self):
        if not os.path.isfile(os.path.join(PG_BIN, "initdb")):
            sys.exit(f"bench: no PostgreSQL in PG_BIN={PG_BIN!r} (bench/run.sh installs it)")
        self.root = tempfile.mkdtemp(prefix="kintoun-bench-pg-")
        _dirs.append(self.root)
        as_pg = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            as_pg = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
        env["LANG"] = "C.UTF-8"
        data = os.path.join(self.root, "data")
        r = subprocess.run([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres",
                            "-A", "trust", "-E", "UTF8", "--no-locale"],
                           cwd=self.root, env=env, capture_output=True, text=True, **as_pg)
        if r.returncode != 0:
            sys.exit(f"bench: initdb failed: {r.stdout}{r.stderr}")
        self.port = free_port()
        self.log = os.path.join(self.root, "postgres.log")
        # Kinto wants the database in UTC (it warns otherwise).
        p = subprocess.Popen(
            [os.path.join(PG_BIN, "postgres"), "-D", data, "-c", "listen_addresses=127.0.0.1",
             "-c", f"port={self.port}", "-c", f"unix_socket_directories={self.root}",
             "-c", "timezone=UTC"],
            cwd=self.root, env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
            **as_pg)
        self.pid = p.pid
        _procs.append((p.pid, p, signal.SIGINT))  # SIGINT: fast shutdown
        self.env = env
        t0 = time.perf_counter()
        while subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", "127.0.0.1",
                              "-p", str(self.port)], env=env).returncode != 0:
            if p.poll() is not None or time.perf_counter() - t0 > 60:
                sys.exit(f"bench: PostgreSQL did not start: {open(self.log).read()[-2000:]}")
            time.sleep(0.1)
        self.sql("CREATE DATABASE kinto", db="postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/kinto"

    def sql(self, query=None, script=None, db="kinto"):
        """Runs `query` (-c) or the `script` iterable of text chunks (stdin, which may carry COPY
        data) with psql; returns its output (unaligned, tuples only)."""
        cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
               "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db]
        if query is not None:
            r = subprocess.run(cmd + ["-c", query], env=self.env, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"bench: psql failed on {query[:200]!r}: {r.stderr}")
            return r.stdout
        err = open(os.path.join(TMP, "psql.err"), "w+")
        out = open(os.path.join(TMP, "psql.out"), "w+")
        p = subprocess.Popen(cmd + ["-f", "-"], env=self.env, stdin=subprocess.PIPE, stdout=out,
                             stderr=err, text=True)
        try:
            for chunk in script:
                p.stdin.write(chunk)
            p.stdin.close()
        except BrokenPipeError:
            pass
        if p.wait() != 0:
            err.seek(0)
            sys.exit(f"bench: psql script failed: {err.read()[-2000:]}")
        out.seek(0)
        return out.read()

    def json(self, query):
        return json.loads(self.sql(query).strip() or "null")

    def size_mb(self):
        return int(self.sql("SELECT pg_database_size('kinto')")) / 1e6


def ref_pg_ini(pg):
    """A copy of ref.ini with the storage, permission and cache backends on `pg`."""
    with open(os.path.join(REF_DIR, "ref.ini")) as f:
        text = f.read()
    for kind in ("storage", "permission", "cache"):
        for key, value in (("backend", f"kinto.core.{kind}.postgresql"), ("url", pg.url)):
            text, n = re.subn(rf"^kinto\.{kind}_{key}[ \t]*=.*$",
                              f"kinto.{kind}_{key} = {value}", text, flags=re.M)
            if n != 1:
                sys.exit(f"bench: ref.ini has {n} kinto.{kind}_{key} lines, expected 1")
    path = os.path.join(TMP, "ref-postgresql.ini")
    with open(path, "w") as f:
        f.write(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINTO_")}
    r = subprocess.run([os.path.join(KREF, "venv", "bin", "kinto"), "migrate", "--ini", path],
                       cwd=KREF, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: kinto migrate failed: {r.stdout}{r.stderr}")
    return path


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
    """utime + stime of the process and its descendants, in seconds."""
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


def pss_mb(pid):
    """Proportional set size of the process and its descendants (shared memory counted once)."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


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


DATA = "/buckets/bench/collections/data"


def seed(server, n, buckets=True, load=None):
    """The same data on every server: bucket `bench` with collections data (n records),
    writes, bulk, patch (p1, p2); 200 buckets of alice's, 20 of them readable by bob. The records
    go through /batch, or `load(server, n)` when given. Returns (seconds to load the records,
    what the server answers: see answers())."""
    t0 = time.perf_counter()
    server.ok("PUT", "/v1/buckets/bench", {})
    for c in ("data", "writes", "bulk", "patch"):
        server.ok("PUT", f"/v1/buckets/bench/collections/{c}", {})
    for r in ("p1", "p2"):
        server.ok("PUT", f"/v1/buckets/bench/collections/patch/records/{r}", {"data": {"n": 0}})
    if load is None:
        batch(server, [{"body": record(i)} for i in range(n)], DATA + "/records")
    else:
        load(server, n)
    seconds = time.perf_counter() - t0
    if buckets:
        bob = server.ok("GET", "/v1/", auth=BOB)["user"]["id"]
        batch(server, [{"method": "PUT", "path": f"/buckets/a{i:03d}",
                        "body": {"permissions": {"read": [bob]}} if i % 10 == 0 else {}}
                       for i in range(200)], auth=ALICE)
        got = server.ok("GET", "/v1/buckets", auth=BOB)["data"]
        if len(got) != 20:
            sys.exit(f"{server.name}: bob sees {len(got)} buckets, expected 20")
    return seconds, answers(server, n)


def answers(server, n):
    """Checks that the data collection holds the n records and sets server.since so that
    _since answers the newest 1%; returns what the server answers (Total-Records, the ids of the
    _since answer and of the filtered+sorted page), which must be the same on every server."""
    status, headers, _ = server.req("HEAD", f"/v1{DATA}/records", raw=True)
    total = headers.get("Total-Records")
    if status != 200 or total != str(n):
        sys.exit(f"{server.name}: HEAD {DATA}/records -> {status}, Total-Records {total}, "
                 f"expected {n}")
    # _since=T answers the newest 1%: T is the last_modified of the (n/100 + 1)-th newest.
    k = n // 100
    newest = server.ok("GET", f"/v1{DATA}/records?_sort=-last_modified&_limit={k + 1}&_fields=id")
    server.since = newest["data"][k]["last_modified"]
    since = server.ok("GET", f"/v1{DATA}/records?_since={server.since}")["data"]
    if len(since) != k:
        sys.exit(f"{server.name}: _since answered {len(since)} records, expected {k}")
    page = server.ok("GET", f"/v1{DATA}/records?gt_n={n // 2}&_sort=-n&_limit=100")["data"]
    if len(page) != 100 or page[0]["n"] != n - 1:
        sys.exit(f"{server.name}: the filtered+sorted page is wrong: {str(page)[:300]}")
    strip = [{k: v for k, v in r.items() if k != "last_modified"} for r in page]
    return {"Total-Records": int(total), "_since ids": sorted(r["id"] for r in since),
            "filtered+sorted page (without last_modified)": strip}


def same_answers(ref, kin):
    """Stops the bench unless both servers answered the same (see answers())."""
    for key in ref:
        if ref[key] != kin[key]:
            sys.exit(f"bench: the reference and Kintoun answer different {key}: "
                     f"{str(ref[key])[:300]} vs {str(kin[key])[:300]}")


# The reference on PostgreSQL is seeded through SQL, not HTTP: through its /batch of 25 (a record
# row, a history entry and two ACL rows per record) it took 15-55 ms per record on this 2-core
# machine (measured: 50-70 records/s idle, 18/s while a build ran), i.e. 25 minutes to over an
# hour for 100k, against a 10-minute budget for the whole bench. So the first TEMPLATES records go
# through its /batch, and what that wrote to Kinto's tables (the record row, its history entry,
# the ACL rows of both) is the template from which the other records' rows are derived, with
# record(i)'s data and increasing timestamps; the derivation is first checked against the rows
# the reference itself wrote for the other templates. The rows are COPYed into `objects`
# (timestamps converted by Kinto's own from_epoch(), its bump_timestamp trigger runs on each row)
# and `access_control_entries` in one transaction, then the tables are VACUUM ANALYZEd, as
# autovacuum would do after such a load. answers() then checks over HTTP that the reference
# answers the same as Kintoun.
TEMPLATES = 25


def load_sql(pg):
    def load(server, n):
        batch(server, [{"body": record(i)} for i in range(min(n, TEMPLATES))], DATA + "/records")
        if n <= TEMPLATES:
            return
        objs = pg.json(f"""
            SELECT json_agg(json_build_object('id', id, 'parent_id', parent_id,
                'resource_name', resource_name, 'last_modified', as_epoch(last_modified),
                'data', data, 'deleted', deleted))
            FROM objects
            WHERE (resource_name = 'record' AND parent_id = '{DATA}')
               OR (resource_name = 'history' AND data->>'uri' LIKE '{DATA}/records/%')""")
        recs = {o["id"]: o for o in objs if o["resource_name"] == "record"}
        hist = {o["data"]["uri"].rsplit("/", 1)[1]: o for o in objs
                if o["resource_name"] == "history"}
        aces = {}
        for obj, perm, principal in pg.json(
                "SELECT json_agg(json_build_array(object_id, permission, principal)) "
                "FROM access_control_entries"):
            aces.setdefault(obj, set()).add((perm, principal))
        ids = [record(i)["data"]["id"] for i in range(TEMPLATES)]
        if sorted(recs) != sorted(ids) or sorted(hist) != sorted(ids):
            sys.exit(f"reference: unexpected rows after the first batch: {sorted(recs)[:5]}, "
                     f"history of {sorted(hist)[:5]}")
        t_rec, t_hist = recs[ids[0]], hist[ids[0]]
        t_rec_uri, t_hist_uri = t_hist["data"]["uri"], history_uri(t_hist)

        def derive(i, ts, hist_ts, hist_id):
            """The rows the reference writes when it creates record(i) at ts."""
            data = dict(record(i)["data"])
            rid = data.pop("id")
            rec = dict(t_rec, id=rid, last_modified=ts, data=data)
            h = json.loads(json.dumps(t_hist["data"]))
            uri = t_rec_uri.rsplit("/", 1)[0] + "/" + rid
            h.update(uri=uri, record_id=rid, date=datetime.datetime.fromtimestamp(
                hist_ts / 1000, datetime.timezone.utc).isoformat(timespec="microseconds"))
            h["target"]["data"] = dict(data, id=rid, last_modified=ts)
            hrow = dict(t_hist, id=hist_id, last_modified=hist_ts, data=h)
            acl = [(uri, perm, pr) for perm, pr in aces.get(t_rec_uri, ())]
            acl += [(history_uri(hrow), perm, pr) for perm, pr in aces.get(t_hist_uri, ())]
            return rec, hrow, acl

        for i in range(1, TEMPLATES):  # the derivation gives what the reference wrote
            r, h = recs[ids[i]], hist[ids[i]]
            want_rec, want_hist, want_acl = derive(i, r["last_modified"], h["last_modified"],
                                                   h["id"])
            got_acl = {(o, p, pr) for o in (h["data"]["uri"], history_uri(h))
                       for p, pr in aces.get(o, ())}
            want_hist["data"]["date"] = h["data"].get("date")
            if (want_rec, want_hist, set(want_acl)) != (r, h, got_acl):
                sys.exit("bench: the SQL seeding does not write what the reference writes for "
                         f"{ids[i]}:\n  derived {want_rec} {want_hist} {want_acl}\n"
                         f"  written {r} {h} {got_acl}")

        base = max(o["last_modified"] for o in objs) + 1

        def script():
            yield ("BEGIN;\nCREATE TEMP TABLE bench_load (id TEXT, parent_id TEXT, "
                   "resource_name TEXT, last_modified BIGINT, data JSONB, deleted BOOLEAN);\n"
                   "COPY bench_load FROM STDIN WITH (FORMAT csv);\n")
            acl = io.StringIO()
            acl_w = csv.writer(acl, lineterminator="\n")
            for j, i in enumerate(range(TEMPLATES, n)):
                buf = io.StringIO()
                w = csv.writer(buf, lineterminator="\n")
                rec, hrow, rows = derive(i, base + 2 * j, base + 2 * j + 1, str(uuid.uuid4()))
                for o in (rec, hrow):
                    w.writerow([o["id"], o["parent_id"], o["resource_name"], o["last_modified"],
                                json.dumps(o["data"]), "t" if o["deleted"] else "f"])
                acl_w.writerows(rows)
                yield buf.getvalue()
            yield ("\\.\nINSERT INTO objects (id, parent_id, resource_name, last_modified, "
                   "data, deleted) SELECT id, parent_id, resource_name, from_epoch(last_modified), "
                   "data, deleted FROM bench_load ORDER BY last_modified;\n"
                   "COPY access_control_entries (object_id, permission, principal) FROM STDIN "
                   "WITH (FORMAT csv);\n")
            yield acl.getvalue()
            yield "\\.\nCOMMIT;\nVACUUM ANALYZE objects;\nVACUUM ANALYZE access_control_entries;\n"

        pg.sql(script=script())
    return load


def history_uri(h):
    """The object id of a history entry's ACLs."""
    return h["parent_id"] + "/history/" + h["id"]


def walk(server):
    """Reads the whole data collection following Next-Page; returns (seconds, records, pages)."""
    t0 = time.perf_counter()
    path, bodies = f"/v1{DATA}/records", []
    while path:
        status, headers, body = server.req("GET", path, raw=True)
        if status != 200:
            sys.exit(f"{server.name}: GET {path} -> {status} {body[:300]!r}")
        bodies.append(body)
        nxt = headers.get("Next-Page")
        path = None
        if nxt:
            u = urllib.parse.urlsplit(nxt)
            path = u.path + ("?" + u.query if u.query else "")
    seconds = time.perf_counter() - t0
    return seconds, sum(len(json.loads(b)["data"]) for b in bodies), len(bodies)


def walks(servers, times, n):
    """`times` full reads on each server, alternating; returns {name: (median s, pages)}."""
    runs = {s.name: [] for s in servers}
    for _ in range(times):
        for s in servers:
            seconds, records, pages = walk(s)
            if records != n:
                sys.exit(f"{s.name}: the Next-Page walk read {records} records, expected {n}")
            runs[s.name].append((seconds, pages))
    return {k: (statistics.median(x[0] for x in v), v[0][1]) for k, v in runs.items()}


def timed(server, method, path, body=None, count=20, warmup=3):
    """Milliseconds of `count` sequential requests after `warmup` ones."""
    times = []
    for i in range(warmup + count):
        t0 = time.perf_counter()
        status, _, data = server.req(method, path, body, raw=True)
        dt = time.perf_counter() - t0
        if status not in (200, 201):
            sys.exit(f"{server.name}: {method} {path} -> {status} {data[:300]!r}")
        if i >= warmup:
            times.append(dt * 1000)
    return times


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
    (f"filtered+sorted page of 100 ({NK})", "page.lua", 16, BENCH),
    (f"_since, newest 1% ({NK})", "since.lua", 16, BENCH),
    ("buckets list, bob reads 20/200", "buckets.lua", 16, BOB),
    ("record create POST", "create.lua", 1, BENCH),
    ("record create POST", "create.lua", 16, BENCH),
    ("batch of 25 creates", "batch.lua", 1, BENCH),
    ("PATCH, no precondition", "patch.lua", 1, BENCH),
    ("PATCH with If-Match (ETag chain)", "patch_ifmatch.lua", 1, BENCH),
]


def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


BIG = [  # label, method, path, body: the 100k scenarios, sequential on one connection
    ("filtered+sorted page of 100 (100k)", "GET",
     f"/v1{DATA}/records?gt_n={BIG_N // 2}&_sort=-n&_limit=100", None),
    ("_since, newest 1% (100k)", "GET", None, None),  # path: server.since
    ("batch of 25 creates (100k)", "POST", "/v1/batch", {
        "defaults": {"method": "POST", "path": "/buckets/bench/collections/bulk/records"},
        "requests": [{"body": {"data": {"n": i, "title": "batched record", "done": True}}}
                     for i in range(25)]}),
]


def bench_100k():
    """The 100k scenarios, alternating the reference on PostgreSQL and Kintoun (A B A B)."""
    big = {}
    print("bench: seeding 100k records on Kintoun (/batch of 1000) ...", flush=True)
    d = os.path.join(TMP, "k100k")
    kin, _ = start_kintoun(d)
    big["seed_kin"], kin_answers = seed(kin, BIG_N, buckets=False)
    big["rss_kin"] = rss_mb(kin.pid)

    print("bench: the reference on PostgreSQL: initdb, kinto migrate, seeding 100k records "
          f"({TEMPLATES} via /batch, the rest via SQL COPY) ...", flush=True)
    t0 = time.perf_counter()
    pg = Postgres()
    ref = start_ref(ref_pg_ini(pg))
    big["pg_setup"] = time.perf_counter() - t0
    big["seed_ref"], ref_answers = seed(ref, BIG_N, buckets=False, load=load_sql(pg))
    same_answers(ref_answers, kin_answers)
    big["rss_ref"], big["pss_pg"] = rss_mb(ref.pid), pss_mb(pg.pid)

    rows = []
    for label, method, path, body in BIG:
        samples = {"reference": [], "kintoun": []}
        for _ in range(ROUNDS):
            for s in (ref, kin):
                url = path or f"/v1{DATA}/records?_since={s.since}"
                samples[s.name] += timed(s, method, url, body, count=10, warmup=2)
        rows.append((label, statistics.median(samples["reference"]),
                     statistics.median(samples["kintoun"]), len(samples["kintoun"])))
        print(f"bench: {label}: done", flush=True)
    w = walks([ref, kin], 3, BIG_N)
    rows.insert(2, (f"full read via Next-Page, 100k ({w['reference'][1]} / {w['kintoun'][1]} "
                    f"pages)", w["reference"][0] * 1000, w["kintoun"][0] * 1000, 3))
    print("bench: full read via Next-Page (100k): done", flush=True)
    big["rows"] = rows
    big["rss_ref_after"], big["rss_kin_after"] = rss_mb(ref.pid), rss_mb(kin.pid)
    big["pss_pg_after"] = pss_mb(pg.pid)
    big["disk_ref"] = pg.size_mb()
    stop(ref.pid)
    stop(pg.pid)
    stop(kin.pid)
    big["disk_kin"] = disk_mb(d)
    restarts = []
    for _ in range(5):
        k, ms = start_kintoun(d)
        restarts.append(ms)
        stop(k.pid)
    big["start"] = statistics.median(restarts)
    return big


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

    kin, _ = start_kintoun(os.path.join(TMP, "k" + NK))
    ref = start_ref()
    print(f"bench: seeding {NK} records (reference: batches of 25, Kintoun: of 1000) ...",
          flush=True)
    seed_ref, ref_answers = seed(ref, N)
    seed_kin, kin_answers = seed(kin, N)
    same_answers(ref_answers, kin_answers)
    rss_kin_small, rss_ref_small = rss_mb(kin.pid), rss_mb(ref.pid)
    disk_kin_small = disk_mb(os.path.join(TMP, "k" + NK))

    rows = []
    for label, script, conns, auth in SCENARIOS:
        runs = {"reference": [], "kintoun": []}
        for _ in range(ROUNDS):
            for s in (ref, kin):
                runs[s.name].append(wrk(s, script, conns, SECONDS, auth))
        rows.append((f"{label}, c{conns}", summarize(runs["reference"]),
                     summarize(runs["kintoun"])))
        print(f"bench: {rows[-1][0]}: done", flush=True)
    ceiling_server = start_ceiling()
    ceiling = summarize([wrk(ceiling_server, "ceiling.lua", 16, SECONDS) for _ in range(ROUNDS)])
    stop(ceiling_server.pid)

    walk_small = walks([ref, kin], 7, N)
    stop(ref.pid)
    stop(kin.pid)

    big = None if QUICK else bench_100k()

    # --- the tables ------------------------------------------------------------------------------
    w, b = 48, 11
    print()
    print(f"{'scenario':<{w}} {'ref backend':<{b}} {'ref req/s':>10} {'Kintoun':>10} {'ratio':>7}  "
          f"{'ref p50/p99 ms':>16}  {'K p50/p99 ms':>14}  {'ref CPU/req':>11} {'K CPU/req':>10}")
    print("-" * (w + b + 91))
    for label, r, k in rows:
        flag = ""
        if r["errors"] or k["errors"]:
            flag = " !"
            notes.append(f"{label}: non-2xx/socket errors: reference {r['errors']} of "
                         f"{r['requests']}, Kintoun {k['errors']} of {k['requests']}")
        print(f"{label:<{w}} {'memory':<{b}} {fmt_rps(r['rps']):>10} {fmt_rps(k['rps']):>10} "
              f"{k['rps'] / r['rps']:>6.1f}x  "
              f"{r['p50']:>7.2f}/{r['p99']:<8.2f}  {k['p50']:>6.2f}/{k['p99']:<7.2f}  "
              f"{r['cpu_us']:>8.0f} us {k['cpu_us']:>7.0f} us{flag}")
    c = ceiling
    if c["errors"]:
        notes.append(f"ceiling: non-2xx/socket errors: {c['errors']} of {c['requests']}")
    kget = rows[1][2]
    print(f"{'ceiling: trivial axum handler, c16':<{w}} {'-':<{b}} {'-':>10} "
          f"{fmt_rps(c['rps']):>10} {'-':>7}  {'-':>16}  {c['p50']:>6.2f}/{c['p99']:<7.2f}  "
          f"{'-':>11} {c['cpu_us']:>7.0f} us")
    print(f"{'  Kintoun record GET c16 vs ceiling':<{w}} {'':<{b}} {'':>10} "
          f"{kget['rps'] / c['rps'] * 100:>9.0f}% (ceiling is {c['rps'] / kget['rps']:.1f}x)")
    (wr, pr), (wk, pk) = walk_small["reference"], walk_small["kintoun"]
    print(f"{f'full read via Next-Page, {NK} ({pr} / {pk} pages), s':<{w}} {'memory':<{b}} "
          f"{wr:>10.3f} {wk:>10.3f} {wr / wk:>6.1f}x  (median of 7 walks, seconds, not req/s)")
    print(f"{f'seeding {NK} records, s':<{w}} {'memory':<{b}} {seed_ref:>10.2f} {seed_kin:>10.2f} "
          f"{seed_ref / seed_kin:>6.1f}x  (batches of 25 vs 1000)")
    print(f"{f'RSS after loading {NK} records, MB':<{w}} {'memory':<{b}} {rss_ref_small:>10.1f} "
          f"{rss_kin_small:>10.1f}")

    if big:
        print()
        print(f"{'100k records, one connection':<{w}} {'ref backend':<{b}} {'ref ms':>10} "
              f"{'Kintoun ms':>10} {'ratio':>7}")
        print("-" * (w + b + 91))
        for label, r, k, count in big["rows"]:
            print(f"{label:<{w}} {'postgresql':<{b}} {r:>10.2f} {k:>10.2f} {r / k:>6.1f}x  "
                  f"(median of {count}{' walks' if 'Next-Page' in label else ' requests'})")
        print(f"{'RSS after loading 100k records, MB':<{w}} {'postgresql':<{b}} "
              f"{big['rss_ref']:>10.1f} {big['rss_kin']:>10.1f}          (ref: the Kinto process; "
              f"+ PostgreSQL's processes: {big['pss_pg']:.1f} MB PSS)")
        print(f"{'RSS after the 100k scenarios, MB':<{w}} {'postgresql':<{b}} "
              f"{big['rss_ref_after']:>10.1f} {big['rss_kin_after']:>10.1f}          "
              f"(+ PostgreSQL's processes: {big['pss_pg_after']:.1f} MB PSS)")
        print(f"{'on-disk size with 100k records, MB':<{w}} {'postgresql':<{b}} "
              f"{big['disk_ref']:>10.1f} {big['disk_kin']:>10.1f}          "
              f"(ref: pg_database_size, after the scenarios; Kintoun: its data dir)")
        print(f"  seeding 100k: reference {big['seed_ref']:.1f} s ({TEMPLATES} records via /batch, "
              f"the rest via SQL COPY and VACUUM ANALYZE; PostgreSQL initdb + kinto migrate + "
              f"start {big['pg_setup']:.1f} s), Kintoun {big['seed_kin']:.1f} s (/batch of 1000)")
    print()
    print("Kintoun alone:")
    print(f"  start-up to the first 200 (empty data dir): {statistics.median(starts):.1f} ms "
          f"median of 5 (min {min(starts):.1f}, max {max(starts):.1f})")
    print(f"  idle RSS: {statistics.median(idle):.1f} MB;  RSS with {NK} records: "
          f"{rss_kin_small:.1f} MB;  on-disk data dir with {NK} records: {disk_kin_small:.1f} MB")
    if QUICK:
        print("  100k: skipped (QUICK=1)")
    else:
        print(f"  start-up to the first 200 with 100k records: {big['start']:.1f} ms median of 5")
    print()
    backends = "memory (ref.ini's)" if QUICK else (
        f"memory (ref.ini's), or postgresql (a private PostgreSQL {pg_version()} on 127.0.0.1, "
        "default settings, kinto migrate)")
    print("Notes: req/s, p50 and p99 are medians over rounds; CPU/req = server utime+stime "
          "(/proc/PID/stat, with children) / requests served, summed over rounds. wrk and the "
          "100k requests run on the same 2 cores as the servers. Reference: Kinto 26.5.0, ref.ini "
          "(waitress, 4 threads); 'ref backend' names its storage/permission/cache backends: "
          f"{backends}. ratio: how many times Kintoun is faster. Both servers answered the same "
          "Total-Records, _since and filtered+sorted page before being measured.")
    for n in notes:
        print("  ! " + n)
    print(f"bench: total {time.perf_counter() - t_start:.0f} s")


def pg_version():
    r = subprocess.run([os.path.join(PG_BIN, "postgres"), "--version"], capture_output=True,
                       text=True)
    m = re.search(r"\(PostgreSQL\) (\S+)", r.stdout)
    return f"{m.group(1)} cluster" if r.returncode == 0 and m else "cluster"


if __name__ == "__main__":
    main()
