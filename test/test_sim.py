#!/usr/bin/env python3
"""test_sim.py: self-tests of the API simulator test/rds_sim.py.

Run (from anywhere; Debian 12's Python 3.11, standard library only):

    /usr/bin/python3 test/test_sim.py        # add -v for one line per test

Every test talks to a real simulator process over HTTP(S) with http.client:
one shared simulator (reset before each test) and a few short-lived ones for
TLS and process life cycle.  The signing functions are also checked directly
against every vector in test/data/aksk_vectors.json.  Takes ~10 s.
"""

import csv
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # no test/__pycache__ in the work tree
import rds_sim  # noqa: E402

SIM = os.path.join(HERE, "rds_sim.py")
VECTORS = os.path.join(HERE, "data", "aksk_vectors.json")

P1 = "0123456789abcdef0123456789abcdef"
P2 = "54623db08b174c858ba779d2aa7923a3"         # projects of the AK/SK vectors
P3 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TOKEN = "static-test-token-0001"
USER, PASSWORD, DOMAIN = "alice", "pa:ss:word", "OTC-EU-DE-00000000001000000001"
AK, SK = "HPUAEXAMPLEAK0000001", "ExampleSecretKey0000000000000000000000001"
AK2, SK2 = "HPUAEXAMPLEAK0000002", "AnotherExampleSecret/With+Symbols=="
AKT, SKT, SECTOK = ("TEMPEXAMPLEAK0000003", "TempSecretKeyExample000000000000000000003",
                    "gQpjbi1ub3J0aC00TEMP-TOKEN-EXAMPLE")
TASKLIST = "/v3/%s/tasklist" % P1


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

class SimProcess:
    """A simulator subprocess; start() waits for its ready file."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="rds_sim_test.")
        self.ready = os.path.join(self.dir, "ready.json")
        self.proc = subprocess.Popen([sys.executable, SIM, "--ready-file", self.ready] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 15
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.time() > deadline:
                out, err = self.proc.communicate(timeout=5)
                raise RuntimeError("simulator did not start: %s" % err.decode())
            time.sleep(0.02)
        with open(self.ready) as f:
            self.info = json.load(f)
        self.port = self.info["http"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(port, method, target, headers=None, body=None, timeout=10, conn=None):
    """One request; returns (status, response headers, body bytes)."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        if own:
            conn.close()


def raw_request(port, method, target, headers, timeout=10):
    """A request whose headers are exactly `headers` (no automatic Host)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def sdk_date(offset=0.0):
    return datetime.fromtimestamp(time.time() + offset, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------------------
# the shared simulator
# ---------------------------------------------------------------------------

SHARED = None
LOG_FILE = None


def setUpModule():
    global SHARED, LOG_FILE
    with tempfile.NamedTemporaryFile(prefix="rds_sim_log.", suffix=".jsonl", delete=False) as f:
        LOG_FILE = f.name
    SHARED = SimProcess("--project", P1, "--project", P2, "--project", P3,
                        "--token", TOKEN, "--user", "%s:%s:%s" % (USER, PASSWORD, DOMAIN),
                        "--user", "bob:bobpw:OTHERDOMAIN",
                        "--aksk", "%s:%s" % (AK, SK), "--aksk", "%s:%s" % (AK2, SK2),
                        "--aksk", "%s:%s:%s" % (AKT, SKT, SECTOK), "--log-file", LOG_FILE)


def tearDownModule():
    if SHARED:
        SHARED.stop()
    if LOG_FILE:
        os.unlink(LOG_FILE)


class SimTest(unittest.TestCase):
    """Base: the shared simulator, reset before each test."""

    def setUp(self):
        self.port = SHARED.port
        self.ctl("POST", "/_sim/reset")

    def ctl(self, method, path, doc=None, expect=200):
        body = json.dumps(doc).encode() if doc is not None else None
        status, _, data = request(self.port, method, path,
                                  {"Content-Type": "application/json"}, body)
        self.assertEqual(status, expect, data)
        return json.loads(data) if data and path != "/_sim/log?format=text" else data

    def get(self, target, headers=None, token=TOKEN, **kw):
        h = {"X-Auth-Token": token} if token is not None else {}
        h.update(headers or {})
        return request(self.port, "GET", target, h, **kw)

    def get_json(self, target, expect=200, **kw):
        status, headers, data = self.get(target, **kw)
        self.assertEqual(status, expect, data)
        return json.loads(data)

    def tasks(self, query="", project=P1):
        return self.get_json("/v3/%s/tasklist%s" % (project, query))

    def dataset(self, project=P1):
        return self.ctl("GET", "/_sim/dataset?project=%s&format=json" % project)

    def log(self):
        return self.ctl("GET", "/_sim/log")

    def log_text(self):
        status, _, data = request(self.port, "GET", "/_sim/log?format=text")
        self.assertEqual(status, 200)
        return data.decode()

    def faults(self, *rules):
        self.ctl("POST", "/_sim/faults", {"faults": list(rules)})

    def assertError(self, status, data, expect_status, code, msg=None):
        self.assertEqual(status, expect_status, data)
        body = json.loads(data)
        self.assertEqual(body["error_code"], code)
        if msg is not None:
            self.assertEqual(body["error_msg"], msg)
        return body

    def walk(self, query, project=P1):
        """All tasks for a filter, paging with limit 50."""
        out, offset = [], 0
        while True:
            page = self.tasks("?limit=50&offset=%d%s" % (offset, query), project)
            out.extend(page["tasks"])
            offset += 50
            if offset >= page["total_count"]:
                return out, page["total_count"]

    def signed_get(self, target, ak=AK, sk=SK, date=None, extra=None, project=P1, port=None):
        port = port or self.port
        headers = {"X-Sdk-Date": date or sdk_date(), "X-Project-Id": project,
                   "Content-Type": "application/json"}
        headers.update(extra or {})
        signed = rds_sim.sign_request("GET", "http://127.0.0.1:%d%s" % (port, target), headers,
                                      b"", ak, sk)
        headers["Authorization"] = signed["authorization"]
        return request(port, "GET", target, headers)


# ---------------------------------------------------------------------------
# signing
# ---------------------------------------------------------------------------

class SigningTest(SimTest):

    def setUp(self):
        super().setUp()
        with open(VECTORS) as f:
            self.vectors = json.load(f)

    def test_every_vector_offline(self):
        self.assertGreaterEqual(len(self.vectors), 5)
        for v in self.vectors:
            with self.subTest(v["name"]):
                s = rds_sim.sign_request(v["method"], v["url"], v["headers"], b"",
                                         v["access_key"], v["secret_key"])
                self.assertEqual(s["canonical_request"], v["canonical_request"])
                self.assertEqual(s["string_to_sign"], v["string_to_sign"])
                self.assertEqual(s["authorization"], v["authorization"])
                # the same through the server-side building blocks
                u = urllib.parse.urlsplit(v["url"])
                hdrs = {k.lower(): val for k, val in v["headers"].items()}
                hdrs["host"] = u.netloc
                cr = rds_sim.canonical_request(v["method"], u.path, u.query, hdrs,
                                               list(reversed(list(hdrs))))
                self.assertEqual(cr, v["canonical_request"])
                sts = rds_sim.string_to_sign(cr, v["headers"]["X-Sdk-Date"])
                self.assertEqual(sts, v["string_to_sign"])
                ak, names, sig = rds_sim.parse_authorization(v["authorization"])
                self.assertEqual(rds_sim.signature(sts, v["secret_key"]), sig)
                self.assertEqual(ak, v["access_key"])

    def test_every_vector_over_http(self):
        """The server verifies the published requests byte for byte, with its
        clock set to the vector's date and the vector's Host header."""
        for v in self.vectors:
            with self.subTest(v["name"]):
                u = urllib.parse.urlsplit(v["url"])
                when = rds_sim.parse_sdk_date(v["headers"]["X-Sdk-Date"])
                self.ctl("POST", "/_sim/config", {"clock_offset": when - time.time()})
                headers = dict(v["headers"], Host=u.netloc, Authorization=v["authorization"])
                status, _, data = raw_request(self.port, "GET", u.path + "?" + u.query, headers)
                if u.path.startswith("/v3/"):
                    self.assertEqual(status, 200, data)
                    self.assertIn("total_count", json.loads(data))
                else:                           # the Huawei doc example is another API
                    self.assertError(status, data, 404, "APIGW.0101")
        self.assertEqual([r["auth"] for r in self.log() if r["status"] == 200], ["aksk"] * 4)

    def test_escape_and_canonical_parts(self):
        self.assertEqual(rds_sim.sign_escape("a b+/~ü*"), "a%20b%2B%2F~%C3%BC%2A")
        self.assertEqual(rds_sim.canonical_uri("/v3/p/tasklist"), "/v3/p/tasklist/")
        self.assertEqual(rds_sim.canonical_uri("/a%20b/c/"), "/a%20b/c/")
        self.assertEqual(rds_sim.canonical_query("b=2&a=z&a=y&c&d=%c3%bc+x"),
                         "a=y&a=z&b=2&c=&d=%C3%BC%2Bx")
        self.assertIsNone(rds_sim.parse_authorization("SDK-HMAC-SHA256 Access=x"))
        self.assertIsNone(rds_sim.parse_sdk_date("2026-01-15T09:30:00Z"))


# ---------------------------------------------------------------------------
# paging, order, filters, validation
# ---------------------------------------------------------------------------

class PagingTest(SimTest):

    def test_default_page(self):
        status, headers, data = self.get(TASKLIST)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json;charset=utf8")
        self.assertEqual(int(headers["Content-Length"]), len(data))
        body = json.loads(data)
        self.assertEqual(list(body), ["tasks", "actions", "total_count"])
        self.assertEqual(len(body["tasks"]), 10)
        self.assertEqual(body["total_count"], 2000)
        names = [t["name"] for t in body["tasks"]]
        self.assertEqual(body["actions"], sorted(set(names), key=names.index))

    def test_walk_equals_dataset_and_order(self):
        tasks, total = self.walk("")
        ds = self.dataset()
        self.assertEqual(total, 2000)
        self.assertEqual(tasks, ds)
        keys = [(-int(datetime.strptime(t["create_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp()),
                 t["id"]) for t in ds]
        self.assertEqual(keys, sorted(keys))
        self.assertGreater(len(keys) - len({k[0] for k in keys}), 20, "create_time ties")
        self.assertEqual(len({t["id"] for t in ds}), 2000)

    def test_limits_and_offsets(self):
        self.assertEqual(len(self.tasks("?limit=1")["tasks"]), 1)
        self.assertEqual(len(self.tasks("?limit=50")["tasks"]), 50)
        ds = self.dataset()
        self.assertEqual(self.tasks("?offset=1999&limit=50")["tasks"], ds[1999:])
        self.assertEqual(self.tasks("?offset=7&limit=3")["tasks"], ds[7:10])
        for offset in (2000, 5000):
            body = self.tasks("?offset=%d" % offset)
            self.assertEqual((body["tasks"], body["actions"], body["total_count"]), ([], [], 2000))
        self.assertEqual(self.tasks("?limit=&offset=")["tasks"], ds[:10], "empty = absent")

    def test_task_fields(self):
        ds = self.dataset()
        statuses = {t["status"] for t in ds}
        self.assertEqual(statuses, {"Running", "Completed", "Failed"})
        self.assertTrue(any("fail_reason" not in t for t in ds if t["status"] == "Failed"))
        self.assertTrue(any(t.get("fail_reason") == "" for t in ds if t["status"] == "Failed"))
        self.assertTrue(any(t.get("fail_reason") for t in ds if t["status"] == "Failed"))
        self.assertTrue(any(" " in t["instance_status"] for t in ds))
        self.assertTrue(any(ord(c) > 127 for t in ds for c in t["instance_name"]))
        self.assertTrue(any(t["end_time"] == "" for t in ds))
        self.assertTrue(40 <= len({t["instance_id"] for t in ds}) <= 100)
        for t in ds:
            self.assertTrue(all(isinstance(v, str) for v in t.values()))
            self.assertRegex(t["id"], r"^[0-9a-f]{32}$")
            self.assertRegex(t["instance_id"], r"^[0-9a-f]{32}in0[134]$")
            self.assertRegex(t["order_id"], r"^([0-9a-f]{32})?$")
            self.assertRegex(t["create_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")
            if t["status"] == "Running":
                self.assertTrue(0 <= int(t["process"]) <= 100)
            else:
                self.assertEqual(t["process"], "")
            if t["end_time"]:
                self.assertGreater(t["end_time"], t["create_time"])
            self.assertLess(t["create_time"], "2026-01-15T12:00:00+0000")
            self.assertGreater(t["create_time"], "2025-12-16T12:00:00+0000")

    def test_determinism_and_reset(self):
        first = self.dataset()
        self.assertEqual(self.ctl("POST", "/_sim/reset", {})["seed"], 1)
        self.assertEqual(self.dataset(), first)
        self.assertNotEqual(self.dataset(P2), first)
        self.ctl("POST", "/_sim/reset", {"seed": 2})
        self.assertNotEqual(self.dataset(), first)
        self.ctl("POST", "/_sim/reset", {"seed": 1, "tasks": 50, "base_time": 1700000000})
        small = self.dataset()
        self.assertEqual(len(small), 50)
        self.assertLess(small[0]["create_time"], "2023-11-14T22:13:20+0000")
        self.ctl("POST", "/_sim/reset", {"projects": ["p-new"]})
        self.assertEqual(len(self.tasks(project="p-new")["tasks"]), 10)
        status, _, data = self.get(TASKLIST)
        self.assertError(status, data, 404, "APIGW.0101")
        self.ctl("POST", "/_sim/reset", {"tasks": 2000, "base_time": 1768478400,
                                         "projects": [P1, P2, P3]})
        self.assertEqual(self.dataset(), first)
        self.ctl("POST", "/_sim/reset", {"tasks": -1}, expect=400)
        self.ctl("POST", "/_sim/reset", {"color": "red"}, expect=400)

class FilterTest(SimTest):

    def check_filter(self, query, predicate):
        got, total = self.walk(query)
        expected = [t for t in self.dataset() if predicate(t)]
        self.assertEqual(got, expected)
        self.assertEqual(total, len(expected))
        return expected

    def test_exact_filters(self):
        ds = self.dataset()
        sample = ds[123]
        for field in ("id", "instance_id", "name", "status"):
            with self.subTest(field):
                found = self.check_filter("&%s=%s" % (field, urllib.parse.quote(sample[field])),
                                          lambda t: t[field] == sample[field])
                self.assertIn(sample, found)
        order = next(t["order_id"] for t in ds if t["order_id"])
        self.check_filter("&order_id=" + order, lambda t: t["order_id"] == order)
        for status in ("Running", "Completed", "Failed"):
            self.assertTrue(self.check_filter("&status=" + status, lambda t: t["status"] == status))
        combined = self.check_filter("&status=Completed&instance_id=" + sample["instance_id"],
                                     lambda t: t["status"] == "Completed"
                                     and t["instance_id"] == sample["instance_id"])
        self.assertTrue(combined)

    def test_nonmatching_and_encoded_values(self):
        for query in ("?status=running", "?status=Unknown", "?id=nope", "?name=Create%20Backup"):
            self.assertEqual(self.tasks(query)["total_count"], 0, query)
        self.assertEqual(self.tasks("?status=")["total_count"], 2000, "empty = absent")
        backups = sum(t["name"] == "CreateBackup" for t in self.dataset())
        self.assertEqual(self.tasks("?name=Create%42ackup")["total_count"], backups)
        self.assertEqual(self.tasks("?name=CreateBackup&name=RestartInstance")["total_count"],
                         backups, "first occurrence wins")

    def test_time_bounds(self):
        ds = self.dataset()

        def ms(t):
            when = datetime.strptime(t["create_time"], "%Y-%m-%dT%H:%M:%S%z")
            return int(when.timestamp()) * 1000
        counts = {}
        for t in ds:
            counts[ms(t)] = counts.get(ms(t), 0) + 1
        tied = max(counts, key=counts.get)
        self.assertGreater(counts[tied], 1)
        lo, hi = ms(ds[1500]), ms(ds[500])
        q = "&start_time=%d&end_time=%d"
        self.check_filter(q % (tied, tied), lambda t: ms(t) == tied)
        self.check_filter(q % (lo, hi), lambda t: lo <= ms(t) <= hi)
        self.check_filter(q % (-(2 ** 63), 2 ** 63 - 1), lambda t: True)
        self.assertEqual(self.tasks("?start_time=%d&end_time=%d" % (hi, lo))["total_count"], 0)
        self.ctl("POST", "/_sim/config", {"time_bounds": "exclusive"})
        self.check_filter(q % (tied, tied), lambda t: False)
        self.check_filter(q % (lo, hi), lambda t: lo < ms(t) < hi)
        self.ctl("POST", "/_sim/config", {"time_bounds": "sideways"}, expect=400)

    def test_actions_scope(self):
        ds = self.dataset()
        page = self.tasks("?limit=3&status=Failed")
        on_page = list(dict.fromkeys(t["name"] for t in page["tasks"]))
        self.assertEqual(page["actions"], on_page, "the page's names by default")
        self.ctl("POST", "/_sim/config", {"actions": "list"})
        page = self.tasks("?limit=3&status=Failed")
        every = list(dict.fromkeys(t["name"] for t in ds if t["status"] == "Failed"))
        self.assertEqual(page["actions"], every, "the whole filtered list's names")
        self.assertEqual(len(page["tasks"]), 3)
        self.ctl("POST", "/_sim/config", {"actions": "all"}, expect=400)

    def test_page_order(self):
        def ids(order, query):
            self.ctl("POST", "/_sim/config", {"page_order": order})
            first = self.tasks(query + "&offset=0&limit=50")
            out = []
            for off in range(0, first["total_count"], 50):
                out += [t["id"] for t in self.tasks(query + "&offset=%d&limit=50" % off)["tasks"]]
            return out
        q = "?status=Failed"
        newest = ids("newest", q)
        self.assertEqual(ids("oldest", q), newest[::-1])
        shuffled = ids("random", q)
        self.assertNotEqual(shuffled, newest)
        self.assertEqual(sorted(shuffled), sorted(newest), "every task once")
        self.assertEqual(ids("random", q), shuffled, "the same query, the same order")
        self.ctl("POST", "/_sim/config", {"page_order": "sideways"}, expect=400)

    def test_page_order_hash(self):
        """hash: sorted by the id's SHA-1, the same order for every filter and window."""
        def ids(query):
            first = self.tasks(query + "&offset=0&limit=50")
            out = []
            for off in range(0, first["total_count"], 50):
                out += [t["id"] for t in self.tasks(query + "&offset=%d&limit=50" % off)["tasks"]]
            return out
        ds = self.dataset()
        self.ctl("POST", "/_sim/config", {"page_order": "hash"})
        full = ids("?status=")
        self.assertEqual(full, sorted((t["id"] for t in ds),
                                      key=lambda i: hashlib.sha1(i.encode()).digest()))
        rank = {i: n for n, i in enumerate(full)}
        failed = ids("?status=Failed")
        self.assertEqual(sorted(failed), sorted(t["id"] for t in ds if t["status"] == "Failed"))
        self.assertEqual(failed, sorted(failed, key=rank.get), "a filter keeps the full order")
        times = [t["create_time"] for t in ds]
        lo = int(datetime.strptime(times[1200], "%Y-%m-%dT%H:%M:%S%z").timestamp()) * 1000
        hi = int(datetime.strptime(times[300], "%Y-%m-%dT%H:%M:%S%z").timestamp()) * 1000
        window = ids("?start_time=%d&end_time=%d" % (lo, hi))
        self.assertGreater(len(window), 800)
        self.assertEqual(window, sorted(window, key=rank.get), "a window keeps the full order")
        self.assertEqual(ids("?status="), full, "the same order for every request")
        # unrelated to time: both halves of the list span most of the 30 days
        when = {t["id"]: t["create_time"] for t in ds}
        half = len(full) // 2
        for part in (full[:half], full[half:]):
            self.assertLess(min(when[i] for i in part), times[int(len(ds) * 0.9)])
            self.assertGreater(max(when[i] for i in part), times[int(len(ds) * 0.1)])


class ValidationTest(SimTest):

    def bad(self, query, param=None):
        status, _, data = self.get(TASKLIST + query)
        body = self.assertError(status, data, 400, "DBS.280001")
        self.assertEqual(list(body), ["error_code", "error_msg"])
        if param:
            self.assertEqual(body["error_msg"], "Invalid parameter: %s." % param)

    def test_limit(self):
        for value in ("0", "51", "-1", "abc", "1.5", "5%20", "99999999999999999999"):
            self.bad("?limit=" + value, "limit")
        self.assertEqual(len(self.tasks("?limit=%2B5")["tasks"]), 5)

    def test_offset(self):
        for value in ("-1", "x", "1e3", "9223372036854775808"):
            self.bad("?offset=" + value, "offset")

    def test_times(self):
        self.bad("?start_time=1768000000000", "end_time")
        self.bad("?end_time=1768000000000", "start_time")
        self.bad("?start_time=1768000000000&end_time=")
        self.bad("?start_time=yesterday&end_time=1768000000000", "start_time")
        self.bad("?start_time=1&end_time=2026-01-01", "end_time")
        self.bad("?start_time=1&end_time=9223372036854775808", "end_time")

    def test_unknown_project_and_paths(self):
        for method, target in (("GET", "/v3/ffffffffffffffffffffffffffffffff/tasklist"),
                               ("GET", "/v3/%s/tasklist/" % P1), ("GET", "/v3/%s/tasks" % P1),
                               ("GET", "/"), ("POST", TASKLIST), ("DELETE", TASKLIST),
                               ("GET", "/v3/auth/tokens")):
            with self.subTest(target=target, method=method):
                status, headers, data = request(self.port, method, target,
                                                {"X-Auth-Token": TOKEN})
                body = self.assertError(status, data, 404, "APIGW.0101",
                                        "The API does not exist or has not been published"
                                        " in the environment.")
                self.assertRegex(body["request_id"], r"^[0-9a-f]{32}$")
                self.assertEqual(headers["X-Request-Id"], body["request_id"])

    def test_head_and_chunked_body(self):
        status, _, data = request(self.port, "HEAD", TASKLIST, {"X-Auth-Token": TOKEN})
        self.assertEqual((status, data), (404, b""))
        status, headers, _ = request(self.port, "POST", "/v3/auth/tokens", {},
                                     iter([auth_body()[:20], auth_body()[20:]]))
        self.assertEqual(status, 201)
        self.assertEqual(self.get(TASKLIST, token=headers["X-Subject-Token"])[0], 200)

    def test_unknown_params_ignored_and_logged(self):
        body = self.tasks("?limit=2&marker=abc&Limit=7")
        self.assertEqual(len(body["tasks"]), 2)
        rec = self.log()[-1]
        self.assertEqual(rec["ignored_params"], ["Limit", "marker"])
        self.assertEqual(rec["params"], {"limit": "2", "marker": "abc", "Limit": "7"})


# ---------------------------------------------------------------------------
# auth
# ---------------------------------------------------------------------------

def auth_body(user=USER, password=PASSWORD, domain=DOMAIN, project=P1):
    return json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}},
        "scope": {"project": {"id": project}}}}).encode()


class TokenAuthTest(SimTest):

    def issue(self, expect=201, **kw):
        status, headers, data = request(self.port, "POST", "/v3/auth/tokens?nocatalog=true",
                                        {"Content-Type": "application/json;charset=utf8"},
                                        auth_body(**kw))
        self.assertEqual(status, expect, data)
        return headers, json.loads(data)

    def test_no_auth_and_bad_token(self):
        status, _, data = self.get(TASKLIST, token=None)
        body = self.assertError(status, data, 401, "APIGW.0301",
                                "Incorrect IAM authentication information: x-auth-token not found")
        self.assertRegex(body["request_id"], r"^[0-9a-f]{32}$")
        status, _, data = self.get(TASKLIST, headers={"Authorization": "Bearer x"}, token=None)
        self.assertError(status, data, 401, "APIGW.0301")
        for token in ("wrong", ""):
            status, _, data = self.get(TASKLIST, token=token)
            self.assertError(status, data, 401, "APIGW.0307", "The token must be updated.")

    def test_static_token_any_project(self):
        for project in (P1, P2, P3):
            self.assertEqual(self.tasks(project=project)["total_count"], 2000)
        self.assertEqual({r["auth"] for r in self.log()}, {"token"})

    def test_issued_token(self):
        headers, body = self.issue()
        token = headers["x-subject-token"]
        self.assertTrue(token.startswith("MII") and 170 <= len(token) <= 190, token)
        tok = body["token"]
        self.assertEqual(tok["methods"], ["password"])
        self.assertEqual(tok["project"]["id"], P1)
        self.assertNotIn("catalog", tok)
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        self.assertRegex(tok["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        ttl = (datetime.strptime(tok["expires_at"], fmt) -
               datetime.strptime(tok["issued_at"], fmt)).total_seconds()
        self.assertEqual(ttl, 86400)
        self.assertEqual(len(self.get_json(TASKLIST, token=token)["tasks"]), 10)
        status, _, data = self.get("/v3/%s/tasklist" % P2, token=token)
        self.assertError(status, data, 403, "DBS.280056", "Invalid token.")
        status, _, data = request(self.port, "POST", "/v3/auth/tokens", {}, auth_body())
        self.assertIn("catalog", json.loads(data)["token"])
        self.assertEqual(self.ctl("POST", "/_sim/config", {"token_length": 4000})["token_length"],
                         4000)
        headers, _ = self.issue()
        self.assertEqual(len(headers["X-Subject-Token"]), 4000)

    def test_expired_token(self):
        self.ctl("POST", "/_sim/config", {"token_ttl": 0})
        headers, body = self.issue()
        self.assertEqual(body["token"]["expires_at"], body["token"]["issued_at"])
        status, _, data = self.get(TASKLIST, token=headers["X-Subject-Token"])
        self.assertError(status, data, 401, "APIGW.0307")
        self.ctl("POST", "/_sim/config", {"token_ttl": 1.5})
        headers, _ = self.issue()
        self.assertEqual(self.get(TASKLIST, token=headers["X-Subject-Token"])[0], 200)
        time.sleep(1.6)
        self.assertEqual(self.get(TASKLIST, token=headers["X-Subject-Token"])[0], 401)

    def test_revoke(self):
        t1 = self.issue()[0]["X-Subject-Token"]
        t2 = self.issue()[0]["X-Subject-Token"]
        self.assertEqual(self.ctl("POST", "/_sim/revoke", {"token": t1})["revoked"], 1)
        self.assertEqual(self.get(TASKLIST, token=t1)[0], 401)
        self.assertEqual(self.get(TASKLIST, token=t2)[0], 200)
        self.ctl("POST", "/_sim/revoke", {"all": True})
        self.assertEqual(self.get(TASKLIST, token=t2)[0], 401)
        self.assertEqual(self.get(TASKLIST)[0], 200, "static tokens survive revoke all")
        self.ctl("POST", "/_sim/revoke", {"token": TOKEN})
        self.assertEqual(self.get(TASKLIST)[0], 401)
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.get(TASKLIST)[0], 200, "reset clears revocations")
        self.ctl("POST", "/_sim/revoke", {}, expect=400)

    def test_iam_errors(self):
        wrong = {"error": {"code": 401, "message": "The username or password is wrong.",
                           "title": "Unauthorized"}}
        for kw in ({"password": "nope"}, {"user": "mallory"}, {"domain": "OTHER"},
                   {"user": "bob", "password": PASSWORD}):
            with self.subTest(**kw):
                self.assertEqual(self.issue(401, **kw)[1], wrong)
        self.assertEqual(self.issue(401, project="f" * 32)[1]["error"]["code"], 401)
        self.assertEqual(self.issue(project=P2)[1]["token"]["project"]["id"], P2)
        for body in (b"", b"{not json", b"[]", b'{"auth": {}}',
                     b'{"auth":{"identity":{"methods":["token"]}}}'):
            with self.subTest(body=body):
                status, headers, data = request(self.port, "POST", "/v3/auth/tokens", {}, body)
                self.assertEqual(status, 400)
                err = json.loads(data)["error"]
                self.assertEqual((err["code"], err["title"]), (400, "Bad Request"))
                self.assertTrue(headers["Content-Type"].startswith("application/json"))
        log = json.dumps(self.log())
        self.assertNotIn(PASSWORD, log)


class AkSkTest(SimTest):

    def test_signed_requests(self):
        status, _, data = self.signed_get(TASKLIST + "?limit=5&offset=10")
        self.assertEqual(status, 200, data)
        self.assertEqual(len(json.loads(data)["tasks"]), 5)
        target = ("/v3/%s/tasklist?status=Failed&limit=5&status=Completed&name=Restore%%20Sql"
                  "%%2Bx%%2Fy%%20%%C3%%BCber&x=a:b,c&empty" % P1)
        status, _, data = self.signed_get(target)
        self.assertEqual(status, 200, data)
        self.assertEqual(json.loads(data)["total_count"], 0)
        rec = self.log()[-1]
        self.assertEqual((rec["auth"], rec["x_project_id"]), ("aksk", P1))
        self.assertEqual(rec["params"]["name"], "Restore Sql+x/y über")
        status, _, data = self.signed_get(TASKLIST, date=sdk_date(-14 * 60))
        self.assertEqual(status, 200, data)
        status, _, data = self.signed_get(TASKLIST, ak=AKT, sk=SKT,
                                          extra={"X-Security-Token": SECTOK})
        self.assertEqual(status, 200, data)

    def test_signature_failures(self):
        self.ctl("POST", "/_sim/config", {"aksk_lockout": 0})
        fail = "Incorrect IAM authentication information: verify aksk signature fail"
        for kw in ({"sk": "wrong"}, {"ak": "UNKNOWNAK"}, {"ak": AK2}):
            status, _, data = self.signed_get(TASKLIST, **kw)
            body = self.assertError(status, data, 401, "APIGW.0301", fail)
            self.assertRegex(body["request_id"], r"^[0-9a-f]{32}$")
        # signed for another query than the one sent
        headers = {"X-Sdk-Date": sdk_date(), "X-Project-Id": P1}
        base = "http://127.0.0.1:%d%s" % (self.port, TASKLIST)
        signed = rds_sim.sign_request("GET", base + "?limit=5", headers, b"", AK, SK)
        status, _, data = request(self.port, "GET", TASKLIST + "?limit=6",
                                  dict(headers, Authorization=signed["authorization"]))
        self.assertError(status, data, 401, "APIGW.0301")
        # a space sent as '+' is a literal plus for the server: the signature breaks
        signed = rds_sim.sign_request("GET", base + "?name=a%20b", headers, b"", AK, SK)
        status, _, data = request(self.port, "GET", TASKLIST + "?name=a+b",
                                  dict(headers, Authorization=signed["authorization"]))
        self.assertError(status, data, 401, "APIGW.0301")
        # x-sdk-date and host must be signed
        for names in ("host;x-project-id", "x-project-id;x-sdk-date"):
            authz = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (
                AK, names, "0" * 64)
            status, _, data = request(self.port, "GET", TASKLIST,
                                      dict(headers, Authorization=authz))
            self.assertError(status, data, 401, "APIGW.0301")
        # security token missing or wrong
        for extra in ({}, {"X-Security-Token": "other"}):
            status, _, data = self.signed_get(TASKLIST, ak=AKT, sk=SKT, extra=extra)
            self.assertError(status, data, 401, "APIGW.0301")
        status, _, data = self.signed_get(TASKLIST, project=P2)
        self.assertError(status, data, 403, "DBS.280056")
        log = json.dumps(self.log())
        for secret in (SK, SKT, SECTOK, signed["signature"]):
            self.assertNotIn(secret, log)

    def test_clock_skew(self):
        for offset in (-16 * 60, 16 * 60):
            status, _, data = self.signed_get(TASKLIST, date=sdk_date(offset))
            self.assertError(status, data, 401, "APIGW.0303")
        for date in ("2026-01-15T09:30:00Z", "20261345T999999Z"):
            status, _, data = self.signed_get(TASKLIST, date=date)
            self.assertError(status, data, 401, "APIGW.0303")
        authz = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=host;x-sdk-date, Signature=%s" % (
            AK, "0" * 64)
        status, _, data = request(self.port, "GET", TASKLIST, {"Authorization": authz})
        self.assertError(status, data, 401, "APIGW.0303")
        self.ctl("POST", "/_sim/config", {"clock_offset": 3600})
        status, _, data = self.signed_get(TASKLIST)
        self.assertError(status, data, 401, "APIGW.0303")

    def test_secrets_listed_for_leak_tests(self):
        t1 = TokenAuthTest.issue(self)[0]["X-Subject-Token"]
        self.ctl("POST", "/_sim/revoke", {"token": t1})
        t2 = TokenAuthTest.issue(self)[0]["X-Subject-Token"]
        headers = {"X-Sdk-Date": sdk_date(), "X-Project-Id": P1}
        signed = rds_sim.sign_request("GET", "http://127.0.0.1:%d%s" % (self.port, TASKLIST),
                                      headers, b"", AK, SK)
        self.assertEqual(request(self.port, "GET", TASKLIST,
                                 dict(headers, Authorization=signed["authorization"]))[0], 200)
        self.assertEqual(self.signed_get(TASKLIST, sk="wrong")[0], 401)
        tokens = self.ctl("GET", "/_sim/tokens")
        issued = {t["token"]: t for t in tokens["issued"]}
        self.assertEqual((issued[t1]["revoked"], issued[t2]["revoked"]), (True, False))
        self.ctl("POST", "/_sim/reset")        # clears revocations; the lists stay
        tokens = self.ctl("GET", "/_sim/tokens")
        issued = {t["token"]: t for t in tokens["issued"]}
        self.assertEqual((issued[t1]["revoked"], issued[t2]["revoked"]), (False, False))
        self.assertEqual((issued[t2]["user"], issued[t2]["project"]), (USER, P1))
        self.assertEqual(tokens["static"], [TOKEN])
        sigs = self.ctl("GET", "/_sim/signatures")["signatures"]
        self.assertEqual(sigs[-2], signed["signature"])
        self.assertRegex(sigs[-1], r"^[0-9a-f]{64}$")
        self.assertNotEqual(sigs[-1], sigs[-2])
        self.assertNotIn(t2, json.dumps(self.log()))

    def test_lockout(self):
        for _ in range(5):
            self.assertEqual(self.signed_get(TASKLIST, sk="wrong")[0], 401)
        status, _, data = self.signed_get(TASKLIST)
        self.assertError(status, data, 401, "APIGW.0301", rds_sim.MSG_AKSK_LOCKED)
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.signed_get(TASKLIST)[0], 200)
        self.ctl("POST", "/_sim/config", {"aksk_lockout": 0})
        for _ in range(6):
            self.signed_get(TASKLIST, sk="wrong")
        self.assertEqual(self.signed_get(TASKLIST)[0], 200)


# ---------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------

class FaultTest(SimTest):

    def test_status_and_counting(self):
        self.faults({"kind": "status", "status": 503, "retry_after": "1", "skip": 1, "times": 2})
        results = [self.get(TASKLIST) for _ in range(4)]
        self.assertEqual([r[0] for r in results], [200, 503, 503, 200])
        self.assertEqual(results[1][1]["Retry-After"], "1")
        self.assertError(503, results[1][2], 503, "APIGW.0201")
        self.assertEqual([r["fault"] for r in self.log()], [None, "status", "status", None])
        self.faults({"kind": "status", "status": 429},
                    {"kind": "status", "status": 500, "error_code": "DBS.108000",
                     "error_msg": "boom", "times": -1, "params": {"offset": "100"}})
        status, _, data = self.get(TASKLIST)
        self.assertError(status, data, 429, "APIGW.0308",
                         "The throttling threshold has been reached: policy user over "
                         "ratelimit,limit:100,time:1 minute")
        for _ in range(3):
            status, _, data = self.get(TASKLIST + "?offset=100&limit=50")
            self.assertError(status, data, 500, "DBS.108000", "boom")
        self.assertEqual(self.get(TASKLIST + "?offset=50&limit=50")[0], 200)
        rules = self.ctl("GET", "/_sim/faults")["faults"]
        self.assertEqual([(r["times"], r["applied"]) for r in rules], [(0, 2), (0, 1), (-1, 3)])
        self.ctl("POST", "/_sim/faults/clear")
        self.assertEqual(self.get(TASKLIST + "?offset=100")[0], 200)
        self.faults({"kind": "status", "status": 502, "body": "raw text",
                     "content_type": "text/plain"})
        self.assertEqual(self.get(TASKLIST)[2], b"raw text")

    def test_status_headers_and_matching(self):
        self.faults({"kind": "status", "status": 302, "project": P2,
                     "headers": {"Location": "http://127.0.0.1:1/elsewhere"}},
                    {"kind": "status", "status": 500, "listener": "https"})
        self.assertEqual(self.get(TASKLIST)[0], 200)
        status, headers, _ = self.get("/v3/%s/tasklist" % P2)
        self.assertEqual((status, headers["Location"]), (302, "http://127.0.0.1:1/elsewhere"))
        self.assertEqual(self.get("/v3/%s/tasklist" % P2)[0], 200)
        self.assertEqual(self.ctl("GET", "/_sim/faults")["faults"][1]["applied"], 0)

    def test_faults_apply_before_auth_for_delivery_kinds(self):
        self.faults({"kind": "status", "status": 503})
        self.assertEqual(self.get(TASKLIST, token="bad")[0], 503)
        self.faults({"kind": "total_count", "value": 7})
        self.assertEqual(self.get(TASKLIST, token="bad")[0], 401, "content kinds need a 200")
        self.assertEqual(self.tasks()["total_count"], 7)

    def test_rule_validation(self):
        for rule in ({"kind": "explode"}, {"kind": "shift", "path": "tokens"},
                     {"kind": "status", "times": "x"}, {"kind": "status", "path": "elsewhere"},
                     {"kind": "wrong_types", "variant": "nope"}, {"kind": "status", "status": 99}):
            with self.subTest(rule=rule):
                self.ctl("POST", "/_sim/faults", {"faults": [rule]}, expect=400)
        self.assertEqual(self.ctl("GET", "/_sim/faults")["faults"], [])

    def test_malformed_and_html(self):
        self.faults({"kind": "malformed"}, {"kind": "html", "status": 502})
        status, _, data = self.get(TASKLIST)
        self.assertEqual(status, 200)
        self.assertRaises(ValueError, json.loads, data)
        status, headers, data = self.get(TASKLIST)
        self.assertEqual(status, 502)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"<html>", data)

    def test_truncate(self):
        self.faults({"kind": "truncate"})
        with self.assertRaises(http.client.IncompleteRead):
            self.get(TASKLIST + "?limit=50")
        self.assertEqual(self.get(TASKLIST)[0], 200)
        rec = self.log()[0]
        self.assertEqual((rec["status"], rec["fault"], rec["complete"]), (200, "truncate", False))

    def test_drop(self):
        self.faults({"kind": "drop"}, {"kind": "drop", "rst": True})
        with self.assertRaises(http.client.RemoteDisconnected):
            self.get(TASKLIST)
        with self.assertRaises(ConnectionResetError) as cm:
            self.get(TASKLIST)
        self.assertIs(type(cm.exception), ConnectionResetError, "a TCP reset, not a close")
        self.assertEqual(self.get(TASKLIST)[0], 200)
        self.assertIn("GET %s 0" % TASKLIST, self.log_text())

    def test_hang(self):
        self.faults({"kind": "hang", "seconds": 0.3})
        t0 = time.monotonic()
        self.assertEqual(self.get(TASKLIST)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.faults({"kind": "hang"})
        with self.assertRaises(socket.timeout):
            self.get(TASKLIST, timeout=0.3)
        # the server notices the client has gone and gives the thread back
        deadline = time.time() + 3
        while not self.log()[1:] and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.log()[1]["status"], 499)

    def test_slow(self):
        self.faults({"kind": "slow", "chunk": 300, "interval_ms": 40})
        t0 = time.monotonic()
        status, _, data = self.get(TASKLIST + "?limit=5")
        elapsed = time.monotonic() - t0
        self.ctl("POST", "/_sim/faults/clear")
        self.assertEqual(data, self.get(TASKLIST + "?limit=5")[2])
        self.assertGreaterEqual(elapsed, (len(data) - 1) // 300 * 0.04)

    def test_client_disconnect_mid_response(self):
        self.faults({"kind": "slow", "chunk": 100, "interval_ms": 100})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.request("GET", TASKLIST + "?limit=50", headers={"X-Auth-Token": TOKEN})
        resp = conn.getresponse()
        resp.read(50)
        conn.close()
        time.sleep(0.3)
        self.assertEqual(self.ctl("GET", "/_sim/health"), {"ok": True})
        deadline = time.time() + 3
        while not self.log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(self.log()[0]["complete"])
        self.assertEqual(self.get(TASKLIST)[0], 200)

    def test_big(self):
        self.faults({"kind": "big", "size": 3000000},
                    {"kind": "big", "size": 200000, "in_task": True})
        status, headers, data = self.get(TASKLIST + "?limit=3")
        self.assertEqual((status, len(data)), (200, 3000000))
        body = json.loads(data)
        self.assertEqual(len(body["tasks"]), 3)
        self.assertGreater(len(body["padding"]), 2900000)
        body = json.loads(self.get(TASKLIST)[2])
        self.assertGreater(len(body["tasks"][0]["fail_reason"]), 190000)

    def test_deep(self):
        self.faults({"kind": "deep"}, {"kind": "deep", "depth": 10})
        status, _, data = self.get(TASKLIST)
        self.assertEqual(status, 200)
        self.assertTrue(data.startswith(b'{"tasks":' + b"[" * 100000 + b"]" * 100000 + b","))
        self.assertRaises(RecursionError, json.loads, data)
        self.assertEqual(json.loads(self.get(TASKLIST)[2])["tasks"], [[[[[[[[[[]]]]]]]]]])

    def test_invalid_utf8(self):
        self.faults({"kind": "invalid_utf8"})
        status, _, data = self.get(TASKLIST)
        self.assertEqual(status, 200)
        self.assertRaises(UnicodeDecodeError, data.decode, "utf-8")
        body = json.loads(data.decode("utf-8", "replace"))
        self.assertTrue(body["tasks"][0]["instance_name"].startswith("rds-"))

    def test_wrong_types(self):
        variants = {
            "tasks_object": lambda b: isinstance(b["tasks"], dict) and "id" in b["tasks"],
            "tasks_missing": lambda b: "tasks" not in b and b["total_count"] == 2000,
            "fields_numbers": lambda b: b["tasks"][0]["process"] == 60
            and isinstance(b["tasks"][0]["instance_name"], dict),
            "total_count_string": lambda b: b["total_count"] == "2000",
            "root_array": lambda b: isinstance(b, list),
        }
        self.faults(*({"kind": "wrong_types", "variant": v} for v in variants))
        for variant, check in variants.items():
            with self.subTest(variant):
                self.assertTrue(check(self.get_json(TASKLIST)))
        self.faults({"kind": "wrong_types", "variant": "fields_numbers", "fields": {"id": None}})
        self.assertIsNone(self.get_json(TASKLIST)["tasks"][0]["id"])

    def test_total_count(self):
        self.faults({"kind": "total_count", "value": -5}, {"kind": "total_count", "value": None},
                    {"kind": "total_count", "value": 10 ** 12})
        self.assertEqual(self.tasks()["total_count"], -5)
        self.assertNotIn("total_count", self.tasks())
        self.assertEqual(self.tasks()["total_count"], 10 ** 12)

    def test_shift(self):
        first = self.tasks("?limit=10")["tasks"]
        self.faults({"kind": "shift", "count": 4, "params": {"offset": "10"}})
        second = self.tasks("?limit=10&offset=10")
        self.assertEqual(second["total_count"], 2004)
        self.assertEqual(second["tasks"][:4], first[6:])
        head = self.tasks("?limit=4")["tasks"]
        self.assertTrue(all(t["status"] == "Running" for t in head))
        self.assertGreater(head[-1]["create_time"], first[0]["create_time"])
        self.assertEqual(len(self.dataset()), 2004)
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(len(self.dataset()), 2000)

    def test_advance(self):
        before = {t["id"]: t for t in self.dataset()}
        running = [t for t in self.dataset() if t["status"] == "Running"]
        oldest = sorted(running, key=lambda t: t["create_time"])[:3]
        reply = self.ctl("POST", "/_sim/advance", {"add": 2, "finish": 3})
        self.assertEqual(reply, {"added": 2, "finished": 3, "tasks": 2002})
        after = {t["id"]: t for t in self.dataset()}
        self.assertEqual(len(set(after) - set(before)), 2)
        self.assertTrue(all(after[i]["status"] == "Running" for i in set(after) - set(before)))
        changed = [i for i in before if before[i] != after[i]]
        self.assertEqual(sorted(changed), sorted(t["id"] for t in oldest))
        for i in changed:
            self.assertIn(after[i]["status"], ("Completed", "Failed"))
            self.assertEqual(after[i]["process"], "")
            self.assertEqual(after[i]["create_time"], before[i]["create_time"])
        self.assertEqual(sum(after[i]["status"] == "Failed" for i in changed), 1)
        # the API answers the new state; more than are running: only those end
        page = self.tasks("?limit=50&id=%s" % oldest[0]["id"])
        self.assertEqual(page["tasks"][0]["status"], after[oldest[0]["id"]]["status"])
        left = sum(t["status"] == "Running" for t in after.values())
        self.assertEqual(self.ctl("POST", "/_sim/advance", {"finish": 100000})["finished"], left)
        self.ctl("POST", "/_sim/advance", {"finish": -1}, expect=400)
        self.ctl("POST", "/_sim/advance", {"remove": 1}, expect=400)
        self.ctl("POST", "/_sim/advance", {"add": 1, "project": "nope"}, expect=400)

    def test_delay_and_latency(self):
        self.faults({"kind": "delay", "ms": 300})
        t0 = time.monotonic()
        self.assertEqual(self.get(TASKLIST)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        t0 = time.monotonic()
        self.get(TASKLIST)
        self.assertLess(time.monotonic() - t0, 0.25)
        self.ctl("POST", "/_sim/config", {"latency_ms": 200})
        t0 = time.monotonic()
        self.get(TASKLIST)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.ctl("GET", "/_sim/config")["latency_ms"], 0)

    def test_token_endpoint_faults(self):
        self.faults({"kind": "status", "path": "tokens", "status": 503},
                    {"kind": "drop", "path": "tokens"}, {"kind": "status", "path": "any",
                                                         "status": 500, "times": 2})
        status, headers, data = request(self.port, "POST", "/v3/auth/tokens", {}, auth_body())
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(data)["error"]["code"], 503)
        self.assertNotIn("X-Subject-Token", headers)
        with self.assertRaises(http.client.RemoteDisconnected):
            request(self.port, "POST", "/v3/auth/tokens", {}, auth_body())
        self.assertEqual(request(self.port, "POST", "/v3/auth/tokens", {}, auth_body())[0], 500)
        self.assertEqual(self.get(TASKLIST)[0], 500)
        self.assertEqual(request(self.port, "POST", "/v3/auth/tokens", {}, auth_body())[0], 201)


# ---------------------------------------------------------------------------
# log, dataset, stats, connections
# ---------------------------------------------------------------------------

class LogTest(SimTest):

    def test_text_format_and_fields(self):
        self.get(TASKLIST + "?offset=0&limit=50&Status=x%20y&z")
        self.get(TASKLIST)
        self.get("/v3/%s/tasklist?" % P2, token="secret-value")
        request(self.port, "POST", "/v3/auth/tokens?nocatalog=true", {}, auth_body())
        self.ctl("GET", "/_sim/stats")
        self.assertEqual(self.log_text(),
                         "GET %s?offset=0&limit=50&Status=x%%20y&z 200\n"
                         "GET %s 200\n"
                         "GET /v3/%s/tasklist? 401\n"
                         "POST /v3/auth/tokens?nocatalog=true 201\n" % (TASKLIST, TASKLIST, P2))
        log = self.log()
        self.assertEqual([r["seq"] for r in log], [1, 2, 3, 4])
        for key in ("seq", "time", "listener", "conn_id", "method", "path", "query", "params",
                    "status", "fault", "auth", "user_agent"):
            self.assertIn(key, log[0])
        self.assertEqual((log[0]["path"], log[0]["query"], log[0]["listener"], log[0]["auth"]),
                         (TASKLIST, "offset=0&limit=50&Status=x%20y&z", "http", "token"))
        self.assertEqual(log[3]["auth"], "password")
        self.assertEqual(log[3]["user"], USER)
        dump = json.dumps(log)
        for secret in (TOKEN, "secret-value", PASSWORD):
            self.assertNotIn(secret, dump)
        self.assertEqual(len(self.ctl("GET", "/_sim/log?since=2")), 2)
        self.ctl("POST", "/_sim/log/clear")
        self.assertEqual(self.log(), [])
        # the file gets each record when its request is over (completion order)
        stable = ("seq", "method", "target", "status", "auth", "request_id")
        deadline = time.time() + 3
        while True:
            with open(LOG_FILE, encoding="utf-8") as f:
                lines = sorted((json.loads(line) for line in f), key=lambda r: r["time"])[-4:]
            if len(lines) == 4 and {r["seq"] for r in lines} == {1, 2, 3, 4} or \
                    time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(sorted(([r[k] for k in stable] for r in lines)),
                         [[r[k] for k in stable] for r in log])


class DatasetVariantTest(SimTest):
    """Long ids, a long action name, lazy generation (reset options)."""

    def tearDown(self):
        # "tasks" outlives a reset: back to the default size, made eagerly
        self.ctl("POST", "/_sim/reset", {"tasks": 2000})

    def test_long_ids(self):
        doc = self.ctl("POST", "/_sim/reset", {"tasks": 120, "id_length": 60})
        self.assertEqual(doc["id_length"], 60)
        tasks, total = self.walk("")
        self.assertEqual(total, 120)
        self.assertEqual(tasks, self.dataset())
        self.assertEqual({len(t["id"]) for t in tasks}, {60})
        self.assertEqual(len({t["id"] for t in tasks}), 120)
        self.assertTrue(all(re.fullmatch("[0-9a-f]{32}-[0-9a-f]{27}", t["id"]) for t in tasks))
        # the same tasks as with short ids, only the ids differ
        self.ctl("POST", "/_sim/reset", {"tasks": 120})
        short = self.dataset()
        self.assertEqual([t["id"][:32] for t in tasks], [t["id"] for t in short])
        self.assertEqual([dict(t, id=None) for t in tasks], [dict(t, id=None) for t in short])
        # a filter on a long id, and a shift keeps them long
        self.ctl("POST", "/_sim/reset", {"tasks": 120, "id_length": 60})
        one = self.tasks("?id=" + tasks[7]["id"])
        self.assertEqual(one["tasks"], [tasks[7]])
        self.faults({"kind": "shift", "count": 3})
        head = self.tasks("?limit=5")
        self.assertEqual(head["total_count"], 123)
        self.assertEqual({len(t["id"]) for t in head["tasks"]}, {60})
        for bad in (31, 256, "60", True):
            self.ctl("POST", "/_sim/reset", {"id_length": bad}, expect=400)

    def test_long_action(self):
        self.ctl("POST", "/_sim/reset", {"tasks": 500, "long_action": True})
        name = rds_sim.LONG_ACTION
        self.assertEqual(len(name.encode()), 45)
        pages = [self.tasks("?limit=50&offset=%d" % o) for o in range(0, 500, 50)]
        self.assertTrue(all(name in p["actions"] for p in pages), "on every page")
        self.assertFalse(any(t["name"] == "CreateBackup" for p in pages for t in p["tasks"]))
        self.assertEqual(self.tasks("?name=" + name)["total_count"],
                         sum(t["name"] == name for p in pages for t in p["tasks"]))
        # the next reset without it goes back to the command line's names
        self.ctl("POST", "/_sim/reset", {"tasks": 500})
        self.assertNotIn(name, self.tasks("?limit=50")["actions"])
        self.ctl("POST", "/_sim/reset", {"long_action": 1}, expect=400)

    def test_lazy_million(self):
        t0 = time.monotonic()
        doc = self.ctl("POST", "/_sim/reset", {"tasks": 1000000, "lazy": True})
        self.assertTrue(doc["lazy"])
        first = self.tasks("?limit=50")
        last = self.tasks("?limit=50&offset=999950")
        self.assertLess(time.monotonic() - t0, 5, "a million tasks without generating them")
        self.assertEqual(first["total_count"], 1000000)
        self.assertEqual(len(last["tasks"]), 50)
        page = first["tasks"] + self.tasks("?limit=50&offset=50")["tasks"] + last["tasks"]
        self.assertEqual(len({t["id"] for t in page}), 150)
        self.assertTrue(all(re.fullmatch("[0-9a-f]{32}", t["id"]) for t in page))
        times = [t["create_time"] for t in page]
        self.assertEqual(times, sorted(times, reverse=True), "newest first")
        self.assertEqual(len(set(times)), 150, "no ties: no sort needed")
        # deterministic
        self.ctl("POST", "/_sim/reset", {"tasks": 1000000, "lazy": True})
        self.assertEqual(self.tasks("?limit=50&offset=999950"), last)
        # a shift inserts at the head
        self.faults({"kind": "shift", "count": 5, "params": {"offset": "50"}})
        moved = self.tasks("?limit=50&offset=50")
        self.assertEqual(moved["total_count"], 1000005)
        self.assertEqual(moved["tasks"][:5], first["tasks"][45:])
        self.assertEqual(self.tasks("?limit=50&offset=999955")["tasks"], last["tasks"])

    def test_lazy_small_equals_walk(self):
        self.ctl("POST", "/_sim/reset", {"tasks": 300, "lazy": True, "id_length": 40})
        tasks, total = self.walk("")
        ds = self.dataset()
        self.assertEqual((total, tasks), (300, ds))
        self.assertEqual({len(t["id"]) for t in ds}, {40})
        self.assertEqual(len({t["id"] for t in ds}), 300)
        failed, n = self.walk("&status=Failed")
        self.assertEqual(failed, [t for t in ds if t["status"] == "Failed"])
        self.assertEqual(n, len(failed))
        self.ctl("POST", "/_sim/reset", {"lazy": "yes"}, expect=400)


class DatasetTest(SimTest):

    def test_csv(self):
        status, headers, data = request(self.port, "GET", "/_sim/dataset?format=csv&project=" + P1)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/csv"))
        text = data.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        ds = self.dataset()
        self.assertEqual(len(rows), len(ds))
        for row, task in zip(rows, ds):
            self.assertEqual(row, [task.get(f, "") for f in rds_sim.TASK_FIELDS])
        lines = text.splitlines()
        self.assertTrue(any(",," in line for line in lines), "empty fields are unquoted")
        self.assertFalse(any('""' == cell for line in lines for cell in line.split(",")))
        quoted = [line for line in lines if 'backup file ""full_' in line]
        self.assertEqual(len(quoted), sum('"full_' in t.get("fail_reason", "") for t in ds))
        default = request(self.port, "GET", "/_sim/dataset?format=csv")[2]
        self.assertEqual(default, data, "the first project is the default")
        self.assertEqual(request(self.port, "GET", "/_sim/dataset?project=nope")[0], 404)
        self.assertEqual(request(self.port, "GET", "/_sim/dataset?format=xml")[0], 400)


class ControlTest(SimTest):

    def test_health_and_unknown(self):
        self.assertEqual(self.ctl("GET", "/_sim/health"), {"ok": True})
        self.ctl("GET", "/_sim/nothing", expect=404)
        self.ctl("GET", "/_sim/reset", expect=405)
        self.ctl("POST", "/_sim/config", {"latency_ms": -1}, expect=400)
        self.ctl("POST", "/_sim/config", {"colour": 1}, expect=400)
        status, _, _ = request(self.port, "POST", "/_sim/config", {}, b"{bad json")
        self.assertEqual(status, 400)
        self.assertEqual(self.log(), [], "control requests are not logged")

    def test_edit(self):
        before = self.dataset()
        self.ctl("POST", "/_sim/edit", {"edits": [
            {"index": 3, "set": {"status": ""}}, {"index": 7, "unset": ["status"]},
            {"index": 12, "set": {"status": "Queued", "name": "RareAction"}}]})
        after = self.dataset()
        self.assertEqual(after[3]["status"], "")
        self.assertNotIn("status", after[7])
        self.assertEqual((after[12]["status"], after[12]["name"]), ("Queued", "RareAction"))
        self.assertEqual([t["id"] for t in after], [t["id"] for t in before], "order kept")
        self.assertEqual(self.tasks("?status=Queued")["total_count"], 1)
        self.assertEqual(self.tasks("?status=Completed")["total_count"] +
                         self.tasks("?status=Failed")["total_count"] +
                         self.tasks("?status=Running")["total_count"], len(before) - 3)
        self.ctl("POST", "/_sim/edit", {"edits": [{"index": 3, "set": {"create_time": "x"}}]},
                 expect=400)
        self.ctl("POST", "/_sim/edit", {"edits": [{"index": len(before)}]}, expect=400)
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.dataset(), before, "a reset undoes the edits")

    def test_keep_alive_and_stats(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        for _ in range(5):
            status, headers, _ = request(self.port, "GET", TASKLIST, {"X-Auth-Token": TOKEN},
                                         conn=conn)
            self.assertEqual(status, 200)
        status, _, data = request(self.port, "GET", "/_sim/stats", conn=conn)
        conn.close()
        stats = json.loads(data)
        self.assertEqual(stats["requests"], 5)
        self.assertEqual(stats["connections"], {"http": 1, "https": 0})
        stats = self.ctl("GET", "/_sim/stats")
        self.assertEqual(stats["connections"]["http"], 2)
        self.assertEqual(len({r["conn_id"] for r in self.log()}), 1)
        self.ctl("POST", "/_sim/stats/clear")
        self.assertEqual(self.ctl("GET", "/_sim/stats")["requests"], 0)

    def test_concurrency(self):
        self.ctl("POST", "/_sim/config", {"latency_ms": 150})
        results = []

        def worker(i):
            for j in range(3):
                results.append(self.get(TASKLIST + "?limit=50&offset=%d" % (50 * (i * 3 + j)))[0])
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 36)
        stats = self.ctl("GET", "/_sim/stats")
        self.assertEqual(stats["requests"], 36)
        self.assertGreaterEqual(stats["max_in_flight"], 6)
        self.assertEqual(stats["in_flight"], 0)


# ---------------------------------------------------------------------------
# TLS and process life cycle (own simulators)
# ---------------------------------------------------------------------------

class TlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="rds_sim_ca.")
        subprocess.run(["sh", os.path.join(HERE, "gen_ca.sh"), cls.certs], check=True,
                       stdout=subprocess.DEVNULL)
        cls.sim = SimProcess("--https-port", "0",
                             "--tls-cert", os.path.join(cls.certs, "server.crt"),
                             "--tls-key", os.path.join(cls.certs, "server.key"),
                             "--token", TOKEN, "--tasks", "100")
        cls.port = cls.sim.info["https"]

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def context(self, ca="ca.crt"):
        return ssl.create_default_context(cafile=os.path.join(self.certs, ca))

    def https(self, target, ctx, host="127.0.0.1", session=None):
        conn = http.client.HTTPSConnection(host, self.port, context=ctx, timeout=5)
        try:
            if session is not None:       # resume the saved session
                raw = socket.create_connection((host, self.port), 5)
                conn.sock = ctx.wrap_socket(raw, server_hostname=host, session=session)
            conn.request("GET", target, headers={"X-Auth-Token": TOKEN})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data, conn.sock.session, conn.sock.session_reused
        finally:
            conn.close()

    def stats(self):
        return json.loads(request(self.sim.port, "GET", "/_sim/stats")[2])

    def test_https_with_test_ca(self):
        request(self.sim.port, "POST", "/_sim/reset")
        self.assertIsNone(self.sim.info.get("x"))
        self.assertIsInstance(self.port, int)
        for host in ("127.0.0.1", "localhost"):
            status, data, _, _ = self.https(TASKLIST, self.context(), host)
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(data)["total_count"], 100)
        status, data, _, _ = self.https("/_sim/health", self.context())
        self.assertEqual(json.loads(data), {"ok": True})
        log = json.loads(request(self.sim.port, "GET", "/_sim/log")[2])
        self.assertEqual([r["listener"] for r in log], ["https", "https"])
        stats = self.stats()
        self.assertEqual(stats["connections"]["https"], 3)
        self.assertEqual(stats["tls_handshakes"], 3)

    def test_wrong_ca_rejected(self):
        request(self.sim.port, "POST", "/_sim/reset")
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.https(TASKLIST, self.context("other-ca.crt"))
        deadline = time.time() + 3
        while self.stats()["tls_failed"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.stats()["tls_failed"], 1)
        self.assertEqual(json.loads(request(self.sim.port, "GET", "/_sim/log")[2]), [])

    def test_session_resumption_counted(self):
        request(self.sim.port, "POST", "/_sim/reset")
        ctx = self.context()
        status, _, session, reused = self.https(TASKLIST, ctx)
        self.assertEqual((status, reused), (200, False))
        status, _, _, reused = self.https(TASKLIST, ctx, session=session)
        self.assertEqual((status, reused), (200, True))
        stats = self.stats()
        self.assertEqual((stats["tls_handshakes"], stats["tls_resumed"]), (2, 1))


class LifecycleTest(unittest.TestCase):

    def test_sigterm_with_request_in_flight(self):
        sim = SimProcess("--token", TOKEN, "--tasks", "10")
        try:
            request(sim.port, "POST", "/_sim/faults", {}, json.dumps(
                {"faults": [{"kind": "hang"}]}).encode())
            conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
            conn.request("GET", TASKLIST, headers={"X-Auth-Token": TOKEN})
            time.sleep(0.2)
            t0 = time.monotonic()
            sim.proc.send_signal(signal.SIGTERM)
            self.assertEqual(sim.proc.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 2)
            self.assertFalse(os.path.exists(sim.ready), "ready file removed")
            conn.close()
        finally:
            sim.stop()

    def test_bad_command_lines(self):
        for args in (["--https-port", "0"], ["--user", "nopassword"], ["--aksk", "AKONLY"],
                     ["--base-time", "yesterday"], ["--time-bounds", "open"],
                     ["--id-length", "31"], ["--id-length", "256"]):
            with self.subTest(args=args):
                proc = subprocess.run([sys.executable, SIM] + args, capture_output=True, timeout=10)
                self.assertEqual(proc.returncode, 2, proc.stderr)


if __name__ == "__main__":
    unittest.main()
