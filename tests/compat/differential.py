#!/usr/bin/env python3
"""Differential test: replay request sequences on the reference Kinto 26.5.0 and on Kintoun.

Usage:
    differential.py --ref http://127.0.0.1:PORT --kin http://127.0.0.1:PORT [-k SUBSTR] [-v] [-j N]

Sequences live in sequences/*.py (each module exposes SEQUENCES, a list of dicts, see
sequences/common.py for the step format).  Every sequence gets its own bucket id ({B}), its own
tag ({S}) and its own users (alice/bob/carol are suffixed with the tag), so sequences are
independent on the shared server pair and can run concurrently.

For each step both servers get the same request; responses are normalised (generated ids,
uuids, timestamps mapped per sequence in order of appearance; dates, bcrypt hashes, pagination
tokens, host:port replaced) and compared: status, JSON body, and the headers clients read.
allowlist.json lists the deliberate deviations (with a reason each).

Output: one line per failing sequence (plus an indented compact diff), and a final line
`N passed, M failed`.  Exit code 1 if M > 0.
"""

import argparse
import base64
import concurrent.futures
import glob
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import re
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # keep sequences/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
USERID_HMAC_SECRET = "conformance-fixed-hmac-secret-0123456789"
PASSWORD = "secret"

# Headers clients read (compared on every step).  Lower-case names.
COMPARED_HEADERS = [
    "etag",
    "next-page",
    "total-objects",
    "total-records",
    "content-type",
    "location",
    "www-authenticate",
    "alert",
    "backoff",
    "retry-after",
    "cache-control",
]
# Compared only when the request carries an Origin header (CORS sequences).
CORS_HEADERS = [
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-expose-headers",
    "access-control-allow-credentials",
]
# Header lists compared as sets of comma-separated tokens.
SET_HEADERS = {
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "allow",
}

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BCRYPT_RE = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
DATE_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
TS_STR_RE = re.compile(r"(?<![\d.])1\d{12}(?![\d.])")
HOST_RE = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):\d+")
TS_MIN, TS_MAX = 10**12, 10**13
SORTED_LISTS = []
HISTORY_RE = re.compile(r"^/v1/buckets/[^/]+/history$")
GLOBAL_LIST_RE = re.compile(r"^/v1/(buckets|accounts|permissions)$")


def principal(user, password=PASSWORD):
    digest = hmac.new(
        USERID_HMAC_SECRET.encode(), f"{user}:{password}".encode(), hashlib.sha256
    ).hexdigest()
    return "basicauth:" + digest


# --------------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # list of (lower name, value)
        self.raw = raw
        self.json = None
        self.is_json = False
        if raw:
            try:
                self.json = json.loads(raw.decode("utf-8"))
                self.is_json = True
            except (ValueError, UnicodeDecodeError):
                pass

    def header(self, name):
        vals = [v for k, v in self.headers if k == name]
        return vals[-1] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name]


def do_request(base, method, path, headers, body):
    u = urllib.parse.urlsplit(base)
    for attempt in range(3):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            elif method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", "0")
            conn.endheaders()
            if body is not None:
                conn.send(body)
            resp = conn.getresponse()
            raw = resp.read()
            hdrs = [(k.lower(), v) for k, v in resp.getheaders()]
            return Response(resp.status, hdrs, raw)
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            if attempt == 2:
                return Response(599, [], ("connection error: %s" % e).encode())
            time.sleep(0.2)
        finally:
            conn.close()


# --------------------------------------------------------------------------------------------
# Sequences


def load_sequences():
    seqs = []
    sys.path.insert(0, os.path.join(HERE, "sequences"))
    for fn in sorted(glob.glob(os.path.join(HERE, "sequences", "*.py"))):
        base = os.path.basename(fn)
        if base.startswith("_") or base == "common.py":
            continue
        spec = importlib.util.spec_from_file_location("seq_" + base[:-3], fn)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for s in mod.SEQUENCES:
            s = dict(s)
            s["name"] = base[:-3] + "/" + s["name"]
            seqs.append(s)
    for fn in sorted(glob.glob(os.path.join(HERE, "sequences", "*.json"))):
        base = os.path.basename(fn)
        with open(fn) as f:
            for s in json.load(f):
                s = dict(s)
                s["name"] = base[:-5] + "/" + s["name"]
                seqs.append(s)
    names = set()
    for s in seqs:
        if s["name"] in names:
            raise SystemExit("duplicate sequence name %s" % s["name"])
        names.add(s["name"])
    return seqs


VAR_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def subst(value, env):
    if isinstance(value, str):
        m = VAR_RE.fullmatch(value)
        if m and m.group(1) in env and not isinstance(env[m.group(1)], str):
            return env[m.group(1)]
        return VAR_RE.sub(lambda m: str(env[m.group(1)]) if m.group(1) in env else m.group(0), value)
    if isinstance(value, list):
        return [subst(v, env) for v in value]
    if isinstance(value, dict):
        return {subst(k, env): subst(v, env) for k, v in value.items()}
    return value


def auth_header(who, tag):
    """who: None (anonymous), 'alice'/'bob'/'carol'/... (basicauth users suffixed by the tag),
    'acct:NAME[:PW]' (account NAME, suffixed unless it is 'admin'), 'raw:user:pw' (verbatim),
    'hdr:VALUE' (raw Authorization value)."""
    if who is None:
        return None
    if who.startswith("hdr:"):
        return who[4:]
    if who.startswith("raw:"):
        user, pw = who[4:].split(":", 1)
    elif who.startswith("acct:"):
        parts = who[5:].split(":", 1)
        user = parts[0]
        pw = parts[1] if len(parts) > 1 else PASSWORD
    else:
        user, pw = who + "-" + tag, PASSWORD
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def build_request(step, env, tag):
    method = step.get("m", "GET")
    path = subst(step["p"], env)
    if not step.get("noprefix") and not path.startswith("/v1"):
        path = "/v1" + path
    headers = []
    who = step.get("as", "alice")
    who = subst(who, env) if isinstance(who, str) else who
    a = auth_header(who, tag)
    if a:
        headers.append(("Authorization", a))
    body = None
    if "raw" in step:
        body = subst(step["raw"], env).encode("utf-8") if isinstance(step["raw"], str) else step["raw"]
    elif "body" in step:
        body = json.dumps(subst(step["body"], env)).encode("utf-8")
    ct = step.get("ct", "application/json" if body is not None else None)
    if ct:
        headers.append(("Content-Type", ct))
    for k, v in (step.get("h") or {}).items():
        headers.append((k, subst(v, env)))
    return method, path, headers, body


def lookup(resp, src):
    """src: 'hdr.Name', 'etag' (ETag without quotes, as int), 'next' (Next-Page path+query),
    'body.a.b.0.c'."""
    if src == "etag":
        v = resp.header("etag")
        return int(v.strip('"')) if v and v.strip('"').isdigit() else v
    if src == "next":
        v = resp.header("next-page")
        if not v:
            return "/v1/__missing_next_page__"
        u = urllib.parse.urlsplit(v)
        return u.path + ("?" + u.query if u.query else "")
    if src.startswith("hdr."):
        return resp.header(src[4:].lower())
    if src.startswith("body"):
        cur = resp.json
        for part in src.split(".")[1:]:
            if isinstance(cur, list):
                try:
                    cur = cur[int(part)]
                except (ValueError, IndexError):
                    return None
            elif isinstance(cur, dict):
                cur = cur.get(part)
            else:
                return None
        return cur
    raise ValueError("bad capture source %r" % src)


# --------------------------------------------------------------------------------------------
# Normalisation


class Normaliser:
    """Per-sequence, per-server mapping of generated values to placeholders in order of
    appearance (so equal values stay equal and the two servers can be compared)."""

    def __init__(self, rules):
        self.ts = {}
        self.hts = {}
        self.ids = {}
        self.rules = rules

    def map_ts(self, v):
        if v not in self.ts:
            self.ts[v] = "<TS%d>" % (len(self.ts) + 1)
        return self.ts[v]

    def map_hist_ts(self, v):
        if v not in self.hts:
            self.hts[v] = "<HTS%d>" % (len(self.hts) + 1)
        return self.hts[v]

    def map_id(self, v, prefix="ID"):
        if v not in self.ids:
            self.ids[v] = "<%s%d>" % (prefix, len(self.ids) + 1)
        return self.ids[v]

    def register_gen_id(self, v):
        if isinstance(v, str) and v:
            self.map_id(v, "GEN")

    def string(self, s):
        s = HOST_RE.sub("<HOST>", s)
        s = BCRYPT_RE.sub("<BCRYPT>", s)
        s = DATE_RE.sub("<DATE>", s)
        s = UUID_RE.sub(lambda m: self.map_id(m.group(0), "UUID"), s)
        for gid, ph in self.ids.items():
            if ph.startswith("<GEN") and gid in s:
                s = re.sub(r"(?<![A-Za-z0-9_-])" + re.escape(gid) + r"(?![A-Za-z0-9_-])", ph, s)
        s = TS_STR_RE.sub(lambda m: self.map_ts(int(m.group(0))), s)
        return s

    def value(self, v):
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            if TS_MIN <= v < TS_MAX:
                return self.map_ts(v)
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            # sorted traversal: key order is irrelevant, and the mapping order must not depend on it
            return {self.string(k): self.value(v[k]) for k in sorted(v)}
        return v

    def next_page(self, url):
        if url is None:
            return None
        u = urllib.parse.urlsplit(url)
        q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True) if k != "_token"]
        has_token = any(k == "_token" for k, _ in urllib.parse.parse_qsl(u.query))
        q = sorted((k, self.string(v)) for k, v in q)
        return "%s%s?%s%s" % (
            "<HOST>" if u.netloc else "",
            self.string(u.path),
            urllib.parse.urlencode(q),
            "&_token=<TOKEN>" if has_token else "",
        )

    def header(self, name, values):
        if not values:
            return None
        if name == "next-page":
            return self.next_page(values[-1])
        if name == "location":
            return "<present>"
        if name in SET_HEADERS:
            toks = set()
            for v in values:
                toks.update(t.strip().lower() for t in v.split(",") if t.strip())
            return sorted(toks)
        if name == "alert":
            try:
                return self.value(json.loads(values[-1]))
            except ValueError:
                return self.string(values[-1])
        if len(values) > 1:
            return [self.string(v) for v in values]
        return self.string(values[-1])


def apply_body_rules(body, path, rules, ctx):
    """Apply allowlist normalisation rules (prefix messages, sets, ignored fields) to a parsed body."""
    for r in rules.get("set_fields", []):
        if re.search(r["path_regex"], path):
            _apply_at(body, r["json"].split("."), lambda v: sorted(v, key=json.dumps) if isinstance(v, list) else v)
    for r in rules.get("ignore_fields", []):
        if re.search(r["path_regex"], path):
            _delete_at(body, r["json"].split("."), ctx, r["id"])
    for r in rules.get("shape_only", []):
        if re.search(r["path_regex"], path) and isinstance(body, dict):
            skel = _skeleton(body, r.get("depth", 99))
            if not isinstance(skel, dict):
                skel = {"<shape>": skel}
            body.clear()
            body.update(skel)
            ctx.add(r["id"])
    prefixes = rules.get("prefix_messages", [])
    SORTED_LISTS[:] = rules.get("sorted_message_lists", [])
    _prefix_walk(body, prefixes, ctx)
    return body


def _skeleton(node, depth):
    if isinstance(node, dict):
        if depth <= 0:
            return "<dict>"
        return {k: _skeleton(v, depth - 1) for k, v in node.items()}
    if isinstance(node, list):
        return "<list>"
    return "<%s>" % type(node).__name__


def _apply_at(node, parts, fn):
    if not parts:
        return
    key, rest = parts[0], parts[1:]
    targets = []
    if key == "*":
        if isinstance(node, list):
            targets = list(range(len(node)))
        elif isinstance(node, dict):
            targets = list(node.keys())
    elif isinstance(node, dict) and key in node:
        targets = [key]
    for t in targets:
        if rest:
            _apply_at(node[t], rest, fn)
        else:
            node[t] = fn(node[t])


def _delete_at(node, parts, ctx, rid):
    key, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        keys = list(node.keys()) if key == "*" else ([key] if key in node else [])
        for k in keys:
            if rest:
                _delete_at(node[k], rest, ctx, rid)
            else:
                node.pop(k)
                ctx.add(rid)
    elif isinstance(node, list) and key == "*":
        for item in node:
            if rest:
                _delete_at(item, rest, ctx, rid)


def _prefix_walk(node, prefixes, ctx):
    if isinstance(node, dict):
        for k, v in list(node.items()):
            if isinstance(v, str) and k in ("message", "description"):
                for r in SORTED_LISTS:
                    m = re.search(r["regex"], v)
                    if m:
                        items = sorted(x.strip() for x in m.group(1).split(","))
                        v = node[k] = v[:m.start(1)] + ", ".join(items) + v[m.end(1):]
                        ctx.add(r["id"])
                for p in prefixes:
                    if v.startswith(p["prefix"]) and len(v) > len(p["prefix"]):
                        node[k] = p["prefix"] + "<...>"
                        ctx.add(p["id"])
                        break
            else:
                _prefix_walk(v, prefixes, ctx)
    elif isinstance(node, list):
        for v in node:
            _prefix_walk(v, prefixes, ctx)


def normalise(resp, req_path, req_headers, norm, rules, ctx, method):
    out = {"status": resp.status}
    path_only = req_path.split("?")[0]
    hist = HISTORY_RE.search(path_only)
    if resp.is_json:
        raw_body = resp.json
        if hist and isinstance(raw_body, dict) and isinstance(raw_body.get("data"), list):
            # History entries live in their own timestamp list: whether an entry's timestamp
            # happens to equal the changed object's (same millisecond) is not meaningful.
            raw_body = dict(raw_body)
            raw_body["data"] = [
                dict(e, last_modified=norm.map_hist_ts(e["last_modified"]))
                if isinstance(e, dict) and isinstance(e.get("last_modified"), int) else e
                for e in raw_body["data"]]
        body = norm.value(raw_body)
        body = normalise_batch(body, norm, rules, ctx)
        body = apply_body_rules(body, path_only, rules, ctx)
        out["body"] = body
    elif resp.raw:
        txt = resp.raw.decode("utf-8", "replace")
        out["body"] = "<non-JSON %d bytes>" % len(resp.raw) if len(txt) > 200 else "<text>" + norm.string(txt)
    else:
        out["body"] = "<empty>"
    names = list(COMPARED_HEADERS)
    if any(k.lower() == "origin" for k, _ in req_headers):
        names += CORS_HEADERS
    if resp.status == 405:
        names.append("allow")
    hdrs = {}
    for n in names:
        vals = resp.header_all(n)
        if hist and n == "etag" and vals and vals[-1].strip('"').isdigit():
            vals = ['"%s"' % norm.map_hist_ts(int(vals[-1].strip('"')))]
        v = norm.header(n, vals)
        if v is not None:
            hdrs[n] = v
    for r in rules.get("ignore_headers", []):
        if re.search(r["path_regex"], path_only) and r["header"] in hdrs:
            hdrs.pop(r["header"])
            ctx.add(r["id"])
    if GLOBAL_LIST_RE.match(path_only) and "etag" in hdrs:
        # The timestamp of a list shared by all concurrently running sequences (every bucket,
        # every account): only its presence is meaningful here.
        hdrs["etag"] = "<global list ETag>"
    out["headers"] = hdrs
    return out


def normalise_batch(body, norm, rules, ctx):
    """Batch subresponses: keep only the compared headers of each subresponse."""
    if isinstance(body, dict) and isinstance(body.get("responses"), list):
        for sub in body["responses"]:
            if isinstance(sub, dict) and isinstance(sub.get("headers"), dict):
                h = {k.lower(): v for k, v in sub["headers"].items()}
                kept = {}
                for n in COMPARED_HEADERS:
                    if n in h:
                        if n == "next-page":
                            kept[n] = norm.next_page(h[n]) if isinstance(h[n], str) else h[n]
                        elif n == "location":
                            kept[n] = "<present>"
                        else:
                            kept[n] = h[n]
                sub["headers"] = kept
                if isinstance(sub.get("body"), (dict, list)) and "path" in sub:
                    apply_body_rules(sub["body"], str(sub["path"]), rules, ctx)
    return body


# --------------------------------------------------------------------------------------------
# Comparison


PH_RE = re.compile(r"<H?TS\d+>")
# 15 ms was too tight on 2 shared cores: the reference took > 15 ms between two writes of one
# batch (history-snapshot-interleaved-batch, 1 run in 4 while a build ran).
TOLERANCE_MS = 40


class Unifier:
    """Pairs the reference's timestamp placeholders with Kintoun's across a whole sequence.

    Placeholders are numbered per server in order of appearance, so equal values stay equal.
    Two writes in different timestamp lists made by the same request may get the same
    millisecond on one server and consecutive ones on the other; such near-coincidences
    (values within TOLERANCE_MS of each other) are not differences.  Consecutive steps are
    kept further apart than that (Runner.pause)."""

    def __init__(self, norm_ref, norm_kin):
        self.raw = []
        for n in (norm_ref, norm_kin):
            inv = {ph: v for v, ph in n.ts.items()}
            inv.update({ph: v for v, ph in n.hts.items()})
            self.raw.append(inv)
        self.norms = (norm_ref, norm_kin)
        self.r2k, self.k2r = {}, {}

    def refresh(self):
        for i, n in enumerate(self.norms):
            self.raw[i].update({ph: v for v, ph in n.ts.items()})
            self.raw[i].update({ph: v for v, ph in n.hts.items()})

    def near(self, side, p1, p2):
        a, b = self.raw[side].get(p1), self.raw[side].get(p2)
        return a is not None and b is not None and abs(a - b) <= TOLERANCE_MS

    def pair(self, p, q):
        """Returns None when consistent, else a message."""
        bad = []
        for other in self.r2k.get(p, ()):
            if other != q and not self.near(1, other, q):
                bad.append("ref %s was kin %s before, now kin %s" % (p, other, q))
        for other in self.k2r.get(q, ()):
            if other != p and not self.near(0, other, p):
                bad.append("kin %s was ref %s before, now ref %s" % (q, other, p))
        self.r2k.setdefault(p, set()).add(q)
        self.k2r.setdefault(q, set()).add(p)
        return "; ".join(bad) or None


def diff(a, b, unifier, path="", out=None, limit=6):
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            p = "%s.%s" % (path, k) if path else str(k)
            if k not in a:
                out.append("%s: ref <absent> | kin %s" % (p, short(b[k])))
            elif k not in b:
                out.append("%s: ref %s | kin <absent>" % (p, short(a[k])))
            else:
                diff(a[k], b[k], unifier, p, out, limit)
            if len(out) >= limit:
                break
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, unifier, "%s[%d]" % (path, i), out, limit)
        return out
    if isinstance(a, str) and isinstance(b, str):
        pa, pb = PH_RE.findall(a), PH_RE.findall(b)
        if PH_RE.sub("<TS>", a) == PH_RE.sub("<TS>", b) and len(pa) == len(pb):
            for x, y in zip(pa, pb):
                msg = unifier.pair(x, y)
                if msg:
                    out.append("%s: timestamps differ: %s" % (path or "<root>", msg))
            return out
    if a != b or type(a) is not type(b):
        out.append("%s: ref %s | kin %s" % (path or "<root>", short(a), short(b)))
    return out


def short(v, n=260):
    s = json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)
    return s if len(s) <= n else s[: n - 3] + "..."


# --------------------------------------------------------------------------------------------
# Runner


class Runner:
    def __init__(self, ref, kin, rules, verbose=False, pause=0.05):
        self.ref, self.kin = ref.rstrip("/"), kin.rstrip("/")
        self.rules = rules
        self.verbose = verbose
        self.pause = pause
        self.allowed_quirks = rules.get("step_quirks", {})

    def run_sequence(self, idx, seq):
        tag = "s%03d" % idx
        bid = "b" + tag
        base_env = {"B": bid, "S": tag, "PW": PASSWORD}
        for u in ("alice", "bob", "carol", "dave"):
            base_env[u] = principal(u + "-" + tag)
        envs = [dict(base_env), dict(base_env)]
        envs[0].update(seq.get("env", {}))
        envs[1].update(seq.get("env", {}))
        norms = [Normaliser(self.rules), Normaliser(self.rules)]
        unifier = Unifier(norms[0], norms[1])
        failures = []
        allowed = set()
        for n, step in enumerate(seq["steps"]):
            step_ctx = [set(), set()]
            results = []
            for side, base in enumerate((self.ref, self.kin)):
                method, path, headers, body = build_request(step, envs[side], tag)
                resp = do_request(base, method, path, headers, body)
                for var, src in (step.get("cap") or {}).items():
                    envs[side][var] = lookup(resp, src)
                if step.get("genid") and resp.is_json and isinstance(resp.json, dict):
                    d = resp.json.get("data")
                    if isinstance(d, dict):
                        norms[side].register_gen_id(d.get("id"))
                results.append((method, path, headers, resp))
            if step.get("m", "GET") not in ("GET", "HEAD", "OPTIONS") or "/buckets/default" in step["p"]:
                time.sleep(self.pause)  # keep timestamps of consecutive writes apart
            if step.get("nocompare"):
                continue
            na = normalise(results[0][3], results[0][1], results[0][2], norms[0], self.rules, step_ctx[0], results[0][0])
            nb = normalise(results[1][3], results[1][1], results[1][2], norms[1], self.rules, step_ctx[1], results[1][0])
            for r in self.rules.get("superset_headers", []):
                # Kintoun may list more tokens than the reference (never fewer)
                h = r["header"]
                ha, hb = na["headers"].get(h), nb["headers"].get(h)
                if hb is not None and set(ha or []) <= set(hb):
                    if ha != hb:
                        allowed.add(r["id"])
                    na["headers"].pop(h, None)
                    nb["headers"].pop(h, None)
            if step.get("compare") == "status":
                na, nb = {"status": na["status"]}, {"status": nb["status"]}
            unifier.refresh()
            d = diff(na, nb, unifier)
            allowed |= step_ctx[0] | step_ctx[1]
            if d:
                quirk = step.get("quirk")
                if quirk and quirk in self.allowed_quirks:
                    q = self.allowed_quirks[quirk]
                    want = q.get("ref_status") if isinstance(q, dict) else None
                    if want is None or results[0][3].status == want:
                        allowed.add(quirk)
                        continue
                m, p = results[0][0], results[0][1]
                failures.append("  step %d: %s %s%s\n    %s" % (
                    n + 1, m, p, (" (%s)" % step["note"]) if step.get("note") else "",
                    "\n    ".join(d)))
        return failures, allowed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--kin", required=True)
    ap.add_argument("-k", "--filter", default=None, help="only sequences whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=4)
    ap.add_argument("--allowlist", default=os.path.join(HERE, "allowlist.json"))
    args = ap.parse_args()

    with open(args.allowlist) as f:
        rules = json.load(f)
    seqs = load_sequences()
    indexed = list(enumerate(seqs))
    if args.filter:
        indexed = [(i, s) for i, s in indexed if args.filter in s["name"]]

    runner = Runner(args.ref, args.kin, rules, args.verbose)
    # Global setup: the accounts admin (account_write_principals = account:admin).
    setup = {"m": "PUT", "p": "/accounts/admin", "as": None, "body": {"data": {"password": PASSWORD}}}
    for base in (runner.ref, runner.kin):
        m, p, h, b = build_request(setup, {}, "setup")
        do_request(base, m, p, h, b)

    start = time.time()
    results = {}
    lock = threading.Lock()

    def work(item):
        i, s = item
        try:
            r = runner.run_sequence(i, s)
        except Exception as e:  # a harness crash is a failure of that sequence
            r = (["  harness error: %r" % e], set())
        with lock:
            results[i] = r

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        list(ex.map(work, indexed))

    passed = failed = 0
    allowed_total = {}
    for i, s in indexed:
        fails, allowed = results[i]
        for a in allowed:
            allowed_total[a] = allowed_total.get(a, 0) + 1
        if fails:
            failed += 1
            print("FAIL %s" % s["name"])
            print("\n".join(fails))
        else:
            passed += 1
            if args.verbose:
                print("ok   %s%s" % (s["name"], (" (allowed: %s)" % ", ".join(sorted(allowed))) if allowed else ""))
    if allowed_total:
        print("allowlisted deviations seen: " + ", ".join("%s x%d" % kv for kv in sorted(allowed_total.items())))
    print("elapsed %.1fs, %d sequences" % (time.time() - start, len(indexed)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
