#!/usr/bin/env python3
"""rds_sim.py: a simulator of the Open Telekom Cloud RDS task list API.

The test double that rds_task_fdw's regression, TAP and benchmark suites talk to
instead of the real cloud.  Python 3 standard library only (Debian 12's
/usr/bin/python3).  Self-tests: /usr/bin/python3 test/test_sim.py

It serves, on an HTTP listener and optionally an HTTPS one (HTTP/1.1,
keep-alive, one thread per connection):

  GET  /v3/{project_id}/tasklist   the RDS "Querying Instant Tasks" call
  POST /v3/auth/tokens             IAM password authentication (?nocatalog=true)
  /_sim/...                        the control API for tests (no auth, not logged)

following shared/otc/API.md, with faults injectable at run time and every API
request logged.  Start it with --ready-file and wait for that file:

  python3 test/rds_sim.py --ready-file /tmp/sim.json --token T --user u:pw:DOMAIN \
      --aksk AK:SK [--https-port 0 --tls-cert server.crt --tls-key server.key]
  -> /tmp/sim.json = {"pid": 123, "http": 40001, "https": 40002 or null}
  SIGTERM/SIGINT: clean exit 0 (hanging requests are abandoned), ready file removed.

Options (see --help): --bind, --http-port (0 = free port), --https-port with
--tls-cert/--tls-key, --ready-file, --project ID (repeatable; default
0123456789abcdef0123456789abcdef), --tasks N (per project, 2000), --seed S (1),
--base-time EPOCH|now (1768478400 = 2026-01-15T12:00:00Z), --token T
(repeatable, valid for every project), --user NAME:PASSWORD:DOMAIN, --token-ttl
SECONDS (86400), --token-length N (180), --aksk AK:SK[:SECURITYTOKEN],
--aksk-lockout N (5; 0 = off), --latency-ms N, --time-bounds
inclusive|exclusive, --page-order newest|oldest|random|hash (also run-time config
"page_order": the order of a filtered list's tasks; random is a shuffle fixed
per seed and query, so the pages of one listing fit together; hash sorts by
the SHA-1 of the task id, an order unrelated to time that is the same for
every request: a filtered list or a time window is the full list's order with
tasks left out), --idle-timeout SECONDS (120), --log-file PATH (JSON lines),
--log-max N (records kept for /_sim/log, 100000), --verbose (one line per
request on stderr).

Data.  Each project has its own list, a pure function of (seed, project id,
N, base time): create_time in the 30 days before base time, whole seconds,
some seconds shared by several tasks, ~N/20 instances.  Order: newest
create_time first, ties by id ascending.  All values are strings; fail_reason
is sometimes absent, sometimes ""; end_time is sometimes "".

Task list behaviour (the decisions API.md leaves open are marked *):
  - routing first: an unknown path, project or method -> 404 APIGW.0101 (with
    request_id), before auth;
  - auth: X-Auth-Token (*wins if an Authorization header is also sent) or
    "Authorization: SDK-HMAC-SHA256 ...".  Neither -> 401 APIGW.0301; bad,
    expired or revoked token -> 401 APIGW.0307 "The token must be updated.";
    an issued token on another project -> 403 DBS.280056 "Invalid token.".
    AK/SK: unknown AK, bad signature, unsigned host/x-sdk-date, wrong or
    missing X-Security-Token -> 401 APIGW.0301; X-Sdk-Date missing, malformed
    or > 15 min off -> 401 APIGW.0303; *X-Project-Id, if sent, must equal the
    path's project (else 403 DBS.280056); *after --aksk-lockout consecutive bad
    signatures the AK is locked for 5 minutes (401 APIGW.0301);
  - then validation, 400 {"error_code":"DBS.280001","error_msg":"Invalid
    parameter: <name>."} (no request_id): limit integer 1..50 (default 10),
    offset integer >= 0 (default 0), start_time/end_time signed 64-bit decimal
    ms, both or neither;
  - *a parameter with an empty value counts as absent; *the first of repeated
    keys wins; *'+' in the query is a literal plus (send spaces as %20);
    unknown parameters are ignored (and logged);
  - filters id, instance_id, order_id, name, status are exact matches; the
    time range compares create_time in ms, inclusive by default (*);
  - 200 {"tasks": [page], "actions": [distinct names on the page, in order;
    *with the run-time configuration {"actions": "list"} of the whole filtered list],
    "total_count": <filtered size>}, Content-Type application/json;charset=utf8,
    every response with an X-Request-Id header.
IAM: 201 + X-Subject-Token header; wrong user/password/domain -> 401
{"error":{"code":401,"message":"The username or password is wrong.",
"title":"Unauthorized"}}; unknown project -> 401 (same format); bad body ->
400 (same format, "title":"Bad Request").

Control API (JSON in/out; see ControlApi for the list of endpoints).  Reset
regenerates the data and clears faults, log, stats, revocations, AK lockouts
and run-time configuration (back to the command line); issued tokens stay.
Reset takes {"tasks", "seed", "base_time", "projects"} (kept for later
resets) and the dataset variants {"id_length": 32..255 (ids longer than the
API's 32 hex digits: the id, "-", the id repeated), "long_action": true (the
frequent CreateBackup is named with 45 bytes), "lazy": true (tasks made on
demand from their position: a million tasks cost no memory; unfiltered
paging and shift stay fast, a filter reads the whole list)}, which fall back
to the command line (--id-length, --long-action, --lazy) when not given.
For leak tests, GET /_sim/tokens lists the tokens IAM issued (and the static
ones) and GET /_sim/signatures the AK/SK Signature values received: the
secrets a client must never show; both survive a reset.

Faults: POST /_sim/faults {"faults": [rule, ...]}.  A rule matches on "path"
(tasklist | tokens | any; default tasklist), optional "params" (exact match of
query parameters), "project", "listener" (http | https); lets "skip" matching
requests through first (0), then applies to "times" requests (1; -1 = always).
The first matching rule with uses left wins.  Kinds:
  status        "status" (503), "error_code", "error_msg", "retry_after",
                "headers" {name: value}, or a raw "body" (+ "content_type").
                Default bodies per status: 429 APIGW.0308, 500 DBS.108000,
                502/503/504 APIGW.0201; IAM format on the tokens path
  malformed     200 (or "status"), a body that is not JSON ("body" to choose)
  html          200 (or "status"), an HTML page, text/html
  truncate      full Content-Length announced, half the body sent, then close
  drop          close without answering ("rst": true for a TCP reset)
  hang          wait "seconds" (3600), then answer normally; gives up when the
                client disconnects or the simulator stops
  delay         wait "ms" (1000), then answer normally
  slow          the real answer in "chunk"-byte pieces (10) every "interval_ms" (500)
  big           valid JSON padded to "size" bytes (32 MiB) with a "padding"
                field, or inside the first task's fail_reason ("in_task": true)
  deep          {"tasks": [[[...]]]} nested "depth" (100000) levels
  invalid_utf8  the first task's instance_name holds invalid UTF-8 bytes
  wrong_types   "variant": tasks_object | tasks_missing | fields_numbers (task
                fields set to "fields", default numbers/objects) |
                total_count_string | root_array
  total_count   the real page with total_count = "value" (-1); null removes it
  shift         first (after "delay_ms", 0) insert "count" (5) new Running tasks at the head of the
                project's list (newer than all), so every offset moves
status, malformed, html, drop, hang, delay, truncate and slow apply to any
request on their path (also one that fails auth); big, deep, invalid_utf8,
wrong_types, total_count and shift only to tasklist requests that would get 200.

Log record (GET /_sim/log): seq, time, listener, conn_id, method, target, path,
query (raw, as received), params, status (0 = dropped without answer, 499 =
client left before the answer), fault, auth (token | aksk | password | none),
user_agent, request_id, detail, project, x_project_id, ignored_params, user
(IAM), bytes, complete, duration_ms.  Never tokens, passwords, secret keys or
signatures.  ?format=text gives "METHOD /path?rawquery STATUS" lines.

Sections, one concern each: signing (also usable by clients: sign_request),
dataset, query, auth, faults, log/stats, simulator (shared state, one lock),
http (handler, API, control API), main.
"""

import argparse
import base64
import collections
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import secrets
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_PROJECT = "0123456789abcdef0123456789abcdef"
DEFAULT_BASE_TIME = 1768478400          # 2026-01-15T12:00:00Z
WINDOW_SECONDS = 30 * 86400             # tasks are kept ~30 days

# Dataset variants (command line, or per reset): ids longer than the API's 32
# hex digits, the most frequent action name made 45 bytes long, and lazy
# generation for lists of a million tasks.  "shape" is the tuple of them.
DEFAULT_SHAPE = (32, False, False)      # (id_length, long_action, lazy)
MAX_ID_LENGTH = 255
LONG_ACTION = "CreateBackupOfEveryDatabaseInTheWholeInstance"
assert len(LONG_ACTION) == 45

TASK_FIELDS = ("id", "name", "instance_id", "instance_name", "instance_status",
               "order_id", "process", "fail_reason", "create_time", "end_time",
               "status")
FILTER_PARAMS = ("id", "instance_id", "order_id", "name", "status")
KNOWN_PARAMS = ("offset", "limit") + FILTER_PARAMS + ("start_time", "end_time")

JSON_CT = "application/json;charset=utf8"
IAM_CT = "application/json;charset=UTF-8"

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
MAX_REQUEST_BODY = 1 << 20


def json_bytes(obj):
    """Compact JSON, non-ASCII written as UTF-8 (as the real API does)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def task_stamp(secs):
    """Task timestamp: 2020-07-15T07:46:10+0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(secs))


def iam_stamp(t):
    """IAM timestamp: 2015-11-09T01:42:57.527363Z."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_stamp(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def wire_bytes(s):
    """http.server decodes the request line and headers as ISO-8859-1: undo it."""
    return s.encode("latin-1", "replace")


# ---------------------------------------------------------------------------
# signing: AK/SK "SDK-HMAC-SHA256" (API.md, "AK/SK signing")
# ---------------------------------------------------------------------------

SIGN_ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = 15 * 60
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def sign_escape(value):
    """Percent-encode str or bytes keeping only A-Za-z0-9-_.~, uppercase hex."""
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b in _UNRESERVED else "%%%02X" % b for b in value)


def parse_raw_query(raw_query):
    """Split a wire query string into (key, value) byte pairs, in received order.

    Percent-escapes are decoded; '+' is a literal plus (RFC 3986), not a space.
    A part without '=' has an empty value; empty parts are skipped.
    """
    pairs = []
    for part in raw_query.split("&"):
        if part == "":
            continue
        key, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote_to_bytes(wire_bytes(key)),
                      urllib.parse.unquote_to_bytes(wire_bytes(value))))
    return pairs


def canonical_uri(raw_path):
    """Each path segment decoded then percent-encoded, a '/' appended if missing."""
    segments = urllib.parse.unquote_to_bytes(wire_bytes(raw_path)).split(b"/")
    uri = "/".join(sign_escape(s) for s in segments)
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(raw_query):
    """Keys sorted byte-wise, values sorted within a key, both percent-encoded."""
    by_key = {}
    for key, value in parse_raw_query(raw_query):
        by_key.setdefault(key, []).append(value)
    return "&".join(sign_escape(k) + "=" + sign_escape(v)
                    for k in sorted(by_key) for v in sorted(by_key[k]))


def canonical_request(method, raw_path, raw_query, headers, signed_headers,
                      body_sha256=EMPTY_SHA256):
    """The six-line canonical request.

    headers maps lowercase header names to values; signed_headers names the
    headers to include (any case, any order: they are lowercased and sorted).
    Raises KeyError if a signed header is not in headers.
    """
    names = sorted(h.strip().lower() for h in signed_headers)
    canon_headers = "".join("%s:%s\n" % (n, headers[n].strip()) for n in names)
    return "\n".join([method.upper(), canonical_uri(raw_path), canonical_query(raw_query),
                      canon_headers, ";".join(names), body_sha256])


def string_to_sign(canonical, sdk_date):
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return "%s\n%s\n%s" % (SIGN_ALGORITHM, sdk_date, digest)


def signature(sts, secret_key):
    """Lowercase hex HMAC-SHA256 of the string to sign, keyed by the secret key."""
    return hmac.new(secret_key.encode("utf-8"), sts.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(access_key, signed_headers, sig):
    names = ";".join(sorted(h.lower() for h in signed_headers))
    return "%s Access=%s, SignedHeaders=%s, Signature=%s" % (SIGN_ALGORITHM, access_key, names, sig)


_AUTHZ_RE = re.compile(r"^\s*SDK-HMAC-SHA256\s+(.*)$")


def parse_authorization(value):
    """Parse 'SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..'.

    Returns (access_key, [signed header names], signature) or None if malformed.
    """
    m = _AUTHZ_RE.match(value or "")
    if not m:
        return None
    parts = {}
    for item in m.group(1).split(","):
        key, sep, val = item.strip().partition("=")
        if not sep:
            return None
        parts[key.strip()] = val.strip()
    if not all(parts.get(k) for k in ("Access", "SignedHeaders", "Signature")):
        return None
    return parts["Access"], parts["SignedHeaders"].split(";"), parts["Signature"]


def sign_request(method, url, headers, body, access_key, secret_key):
    """Client side: sign a request as the Huawei Cloud SDK does.

    Signs every header in `headers` plus host (taken from the URL).  The
    headers must include X-Sdk-Date.  Returns a dict with canonical_request,
    string_to_sign, signature, authorization and the host value used.
    """
    url_parts = urllib.parse.urlsplit(url)
    lower = {k.lower(): v for k, v in headers.items()}
    lower.setdefault("host", url_parts.netloc)
    names = sorted(lower)
    body = body or b""
    canonical = canonical_request(method, url_parts.path or "/", url_parts.query, lower,
                                  names, hashlib.sha256(body).hexdigest())
    sts = string_to_sign(canonical, lower["x-sdk-date"])
    sig = signature(sts, secret_key)
    return {"canonical_request": canonical, "string_to_sign": sts, "signature": sig,
            "authorization": authorization_header(access_key, names, sig),
            "host": lower["host"]}


def parse_sdk_date(value):
    """X-Sdk-Date (YYYYMMDDThhmmssZ) to epoch seconds, or None."""
    if not value or not re.fullmatch(r"\d{8}T\d{6}Z", value.strip()):
        return None
    try:
        dt = datetime.strptime(value.strip(), SDK_DATE_FORMAT)
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc).timestamp()


# ---------------------------------------------------------------------------
# dataset: deterministic tasks
# ---------------------------------------------------------------------------

INSTANCE_STATUSES = ("BUILD", "CREATE FAIL", "ACTIVE", "FAILED", "FROZEN", "MODIFYING",
                     "REBOOTING", "RESTORING", "MODIFYING INSTANCE TYPE", "SWITCHOVER",
                     "MIGRATING", "BACKING UP", "MODIFYING DATABASE PORT", "STORAGE FULL")

# (name, weight, engine suffix or None for all, instance_status while running,
#  planned duration in minutes (lo, hi), probability of an order_id)
TASK_TYPES = (
    ("CreateBackup", 30, None, "BACKING UP", (5, 60), 0.0),
    ("ModifyParameterGroup", 12, None, "MODIFYING", (1, 10), 0.0),
    ("RestartInstance", 12, None, "REBOOTING", (1, 5), 0.0),
    ("ResizeVolume", 8, None, "MODIFYING", (5, 30), 0.5),
    ("ModifyInstanceSpec", 8, None, "MODIFYING INSTANCE TYPE", (10, 40), 0.6),
    ("CreateInstance", 6, None, "BUILD", (8, 25), 0.7),
    ("CreateReadReplica", 3, None, "BUILD", (10, 40), 0.6),
    ("DeleteInstance", 3, None, "ACTIVE", (1, 10), 0.0),
    ("ChangeFailoverMode", 4, None, "MODIFYING", (1, 5), 0.0),
    ("SwitchoverInstance", 4, None, "SWITCHOVER", (1, 10), 0.0),
    ("ModifyDatabasePort", 2, None, "MODIFYING DATABASE PORT", (1, 5), 0.0),
    ("RestoreMySQLInInstance", 5, "in01", "RESTORING", (15, 120), 0.0),
    ("RestorePostgreSQLInInstance", 4, "in03", "RESTORING", (15, 120), 0.0),
    ("RestoreSqlserverInInstance", 4, "in04", "RESTORING", (15, 120), 0.0),
)

# Realistic names: dashes, underscores, and valid non-ASCII UTF-8.
INSTANCE_NAMES = (
    "rds-prod-orders", "rds-local-scale", "rds-prod-billing", "rds-staging-api",
    "rds_legacy_crm", "rds-münchen-01", "rds-zürich-analytics", "数据库-生产-01",
    "rds-dev-sandbox", "pg-reporting-replica", "mysql-shop-eu", "sqlserver-erp-main",
    "rds_test_migration", "rds-amsterdam-ha", "rds-kundendaten-öffentlich", "rds-analytics-读写",
)

# Some contain commas, double quotes and non-ASCII on purpose (CSV and JSON escaping).
FAIL_REASONS = (
    "Insufficient resources in the availability zone.",
    "The backup storage quota has been exceeded.",
    "Timeout waiting for the instance to become available.",
    "Parameter 'max_connections' value out of range.",
    "Workflow failed: internal error (DBS.108000).",
    'Restore failed: backup file "full_20260101.bak" is corrupt.',
    "Disk full, cannot continue",
    "Fehler: Speicherplatz erschöpft",
)

ENGINE_SUFFIXES = ("in01", "in01", "in03", "in04")   # MySQL, MySQL, PostgreSQL, SQL Server
TYPES_BY_ENGINE = {
    engine: (types, list(itertools.accumulate(t[1] for t in types)))
    for engine in set(ENGINE_SUFFIXES)
    for types in [[t for t in TASK_TYPES if t[2] in (None, engine)]]
}


class ProjectData:
    """One project's task list, newest first, plus what is needed to grow it.

    tasks is a list of (task object, create_time in ms), replaced (never
    mutated) when it changes, so readers may keep a reference without a lock.
    Task objects are never mutated either, so generated lists are memoized
    (a reset with unchanged parameters costs nothing).
    """

    _generated = {}             # (seed, project, n, base_time, shape) -> (instances, tasks)

    def __init__(self, project, seed, n_tasks, base_time, shape=DEFAULT_SHAPE):
        self.project = project
        self.seed = seed
        self.base_time = base_time
        self.id_length, self.long_action, self.lazy = shape
        self.version = 0
        self.shifted = 0
        self.cache = {}
        key = (seed, project, n_tasks, base_time, shape)
        if key not in self._generated:
            if len(self._generated) >= 16:
                self._generated.clear()
            self._generated[key] = self._generate(*key[:4])
        self.instances, self.tasks = self._generated[key]

    def _generate(self, seed, project, n_tasks, base_time):
        rng = random.Random("rds_sim/%s/%s/%d/%d" % (seed, project, n_tasks, base_time))
        if self.lazy:
            self.instances = self._make_instances(rng, min(max(1, n_tasks // 20), 5000))
            return self.instances, LazyTasks(self, n_tasks, rng.getrandbits(64))
        self.instances = self._make_instances(rng, max(1, n_tasks // 20))
        ids = set()
        tasks = []
        secs = None
        for _ in range(n_tasks):
            if secs is not None and rng.random() < 0.08:
                pass        # same second as the previous one: a batch of operations
            else:
                secs = base_time - rng.randint(1, WINDOW_SECONDS - 1)
            tasks.append(self._make_task(rng, ids, secs, base_time))
        return self.instances, sort_tasks(tasks)

    @staticmethod
    def _make_instances(rng, count):
        instances = []
        weights = []
        for i in range(count):
            name = INSTANCE_NAMES[i % len(INSTANCE_NAMES)]
            if i >= len(INSTANCE_NAMES):
                name = "%s-%02d" % (name, i // len(INSTANCE_NAMES) + 1)
            suffix = rng.choice(ENGINE_SUFFIXES)
            instances.append(("%032x%s" % (rng.getrandbits(128), suffix), name, suffix))
            weights.append(rng.uniform(0.3, 3.0))
        return instances, list(itertools.accumulate(weights))

    def _make_task(self, rng, ids, secs, base_time, force_running=False):
        instances, cum_weights = self.instances
        inst_id, inst_name, engine = rng.choices(instances, cum_weights=cum_weights)[0]
        types, type_weights = TYPES_BY_ENGINE[engine]
        name, _, _, running_status, (lo, hi), order_p = \
            rng.choices(types, cum_weights=type_weights)[0]
        while True:
            task_id = "%032x" % rng.getrandbits(128)
            if task_id not in ids:
                ids.add(task_id)
                break
        age = base_time - secs
        r = rng.random()
        if force_running or (age < 3 * 3600 and r < 0.6) or r < 0.002:
            status = "Running"
        elif rng.random() < 0.08:
            status = "Failed"
        else:
            status = "Completed"
        if status == "Running":
            inst_status = running_status
        elif status == "Failed":
            inst_status = "CREATE FAIL" if name in ("CreateInstance", "CreateReadReplica") else \
                rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", "FAILED", "STORAGE FULL"))
        else:
            inst_status = "ACTIVE" if rng.random() < 0.9 else rng.choice(INSTANCE_STATUSES)
        if rng.random() < 0.03:
            inst_status = rng.choice(INSTANCE_STATUSES)
        order_id = "%032x" % rng.getrandbits(128) if rng.random() < order_p else ""
        duration = rng.randint(lo * 60, hi * 60)
        end_time = "" if rng.random() < 0.03 else task_stamp(secs + duration)
        if self.id_length != 32:
            task_id = long_id(task_id, self.id_length)
        if self.long_action and name == "CreateBackup":
            name = LONG_ACTION
        task = {"id": task_id, "name": name, "instance_id": inst_id, "instance_name": inst_name,
                "instance_status": inst_status, "order_id": order_id,
                "process": str(rng.randint(0, 100)) if status == "Running" else ""}
        r = rng.random()
        if status == "Failed":
            if r < 0.3:
                pass                                # key absent
            elif r < 0.5:
                task["fail_reason"] = ""
            else:
                task["fail_reason"] = rng.choice(FAIL_REASONS)
        elif r < 0.3:
            task["fail_reason"] = ""
        task["create_time"] = task_stamp(secs)
        task["end_time"] = end_time
        task["status"] = status
        return task, secs * 1000

    def shift(self, count):
        """Insert count new Running tasks at the head (newer than all others)."""
        lazy = isinstance(self.tasks, LazyTasks)
        old = self.tasks.head if lazy else self.tasks
        ids = {t["id"][:32] for t, _ in old}
        new = []
        for _ in range(count):
            self.shifted += 1
            rng = random.Random("rds_sim-shift/%s/%s/%d" % (self.seed, self.project, self.shifted))
            new.append(self._make_task(rng, ids, self.base_time + self.shifted, self.base_time,
                                       force_running=True))
        if lazy:
            self.tasks = self.tasks.with_head(sort_tasks(new + old))
        else:
            self.tasks = sort_tasks(new + self.tasks)
        self.version += 1
        self.cache = {}

    def finish(self, count, failed_every=3):
        """End the count oldest Running tasks: Completed, every failed_every-th
        Failed (with a fail_reason), progress "" and end_time set to one hour
        after creation.  The task objects are replaced, never mutated.
        Returns how many were finished (fewer when fewer are Running)."""
        if isinstance(self.tasks, LazyTasks):
            raise ValueError("finish is not supported on a lazy list")
        running = [i for i, (t, _) in enumerate(self.tasks) if t.get("status") == "Running"]
        chosen = running[::-1][:count]
        tasks = list(self.tasks)
        for n, i in enumerate(chosen, 1):
            task, ms = tasks[i]
            task = dict(task, process="", end_time=task_stamp(ms // 1000 + 3600))
            if n % failed_every == 0:
                task.update(status="Failed", fail_reason=FAIL_REASONS[0])
            else:
                task["status"] = "Completed"
            tasks[i] = (task, ms)
        if chosen:
            self.tasks = tasks
            self.version += 1
            self.cache = {}
        return len(chosen)


def long_id(task_id, length):
    """The API id made length characters long (>= 32; keeps ids distinct)."""
    return (task_id + "-" + task_id * 8)[:length]


class LazyTasks:
    """A generated list of n tasks made on demand from their position, for
    lists too large to hold (a million tasks), plus a materialized head of
    tasks inserted later (shift).  A sequence of (task, create_time ms), in
    API order: position i is created 1 + i * step seconds before base_time,
    so the order needs no sort; its id is a bijection of i (never twice).
    """

    def __init__(self, pd, n, salt, head=()):
        self.pd, self.n, self.salt, self.head = pd, n, salt, list(head)
        self.step = max(1, (WINDOW_SECONDS - 2) // max(1, n))

    def with_head(self, head):
        return LazyTasks(self.pd, self.n, self.salt, head)

    def __len__(self):
        return len(self.head) + self.n

    def _make(self, i):
        pd = self.pd
        rng = random.Random(self.salt ^ (i * 0x9E3779B97F4A7C15))
        secs = pd.base_time - 1 - i * self.step
        task, ms = pd._make_task(rng, set(), secs, pd.base_time)
        raw = "%032x" % ((i * 0x2545F4914F6CDD1D9E3779B97F4A7C15 + self.salt) % (1 << 128))
        task["id"] = long_id(raw, pd.id_length) if pd.id_length != 32 else raw
        return task, ms

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        h = len(self.head)
        return self.head[k] if k < h else self._make(k - h)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class TaskView:
    """The task objects of a LazyTasks, as page_body slices them."""

    def __init__(self, tasks):
        self.tasks = tasks

    def __len__(self):
        return len(self.tasks)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [t for t, _ in self.tasks[k]]
        return self.tasks[k][0]


def sort_tasks(tasks):
    """API order: newest create_time first, ties by id ascending."""
    return sorted(tasks, key=lambda t: (-t[1], t[0]["id"]))


def dataset_csv(tasks):
    """Header-less CSV; "" or missing is an empty unquoted field (NULL for COPY)."""
    lines = []
    for task, _ in tasks:
        cells = []
        for field in TASK_FIELDS:
            value = task.get(field)
            if value is None or value == "":
                cells.append("")
            else:
                cells.append('"' + str(value).replace('"', '""') + '"')
        lines.append(",".join(cells) + "\n")
    return "".join(lines).encode("utf-8")


# ---------------------------------------------------------------------------
# query: validation, filtering, paging
# ---------------------------------------------------------------------------

class ApiError(Exception):
    """An API error response: HTTP status and a JSON body."""

    def __init__(self, status, body, detail=None):
        super().__init__(detail or body)
        self.status = status
        self.body = body
        self.detail = detail


def dbs_error(status, code, msg, detail=None):
    return ApiError(status, {"error_code": code, "error_msg": msg}, detail)


def gateway_error(status, code, msg, request_id):
    return ApiError(status, {"error_code": code, "error_msg": msg, "request_id": request_id})


def decode_params(pairs):
    """First occurrence of each key wins; values decoded as UTF-8 (bad bytes kept
    as surrogates so they match nothing)."""
    params = {}
    for key, value in pairs:
        k = key.decode("utf-8", "surrogateescape")
        if k not in params:
            params[k] = value.decode("utf-8", "surrogateescape")
    return params


def printable_params(params):
    return {k.encode("utf-8", "surrogateescape").decode("utf-8", "replace"):
            v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            for k, v in params.items()}


_INT_RE = re.compile(r"[+-]?[0-9]+")


class TaskQuery:
    """A validated tasklist request.  An empty value counts as an absent parameter.

    Raises ApiError(400, DBS.280001) for a bad limit, offset or time range.
    """

    def __init__(self, params):
        def get(name):
            value = params.get(name)
            return value if value not in (None, "") else None

        self.limit = self._int(get("limit"), "limit", 10, 1, 50)
        self.offset = self._int(get("offset"), "offset", 0, 0, INT64_MAX)
        start, end = get("start_time"), get("end_time")
        self.start = self._int(start, "start_time", None, INT64_MIN, INT64_MAX)
        self.end = self._int(end, "end_time", None, INT64_MIN, INT64_MAX)
        if (start is None) != (end is None):
            raise dbs_error(400, "DBS.280001", "Invalid parameter: %s."
                            % ("end_time" if end is None else "start_time"))
        self.filters = {k: get(k) for k in FILTER_PARAMS if get(k) is not None}
        self.ignored = sorted(k for k in params if k not in KNOWN_PARAMS)

    @staticmethod
    def _int(value, name, default, lo, hi):
        if value is None:
            return default
        if not _INT_RE.fullmatch(value) or not lo <= int(value) <= hi:
            raise dbs_error(400, "DBS.280001", "Invalid parameter: %s." % name)
        return int(value)

    def cache_key(self, inclusive):
        return (tuple(sorted(self.filters.items())), self.start, self.end, inclusive)

    def matches(self, task, ms, inclusive):
        for key, value in self.filters.items():
            if task.get(key) != value:
                return False
        if self.start is not None:
            if inclusive:
                return self.start <= ms <= self.end
            return self.start < ms < self.end
        return True


def page_body(selected, query, actions_scope="page"):
    """The 200 body for one page of the filtered list.  actions lists the
    distinct names on the page, or (*actions_scope "list") of the whole
    filtered list."""
    page = selected[query.offset:query.offset + query.limit]
    actions = []
    for task in (selected if actions_scope == "list" else page):
        name = task.get("name")
        if name not in actions:
            actions.append(name)
    return {"tasks": page, "actions": actions, "total_count": len(selected)}


# ---------------------------------------------------------------------------
# auth: static tokens, IAM users and issued tokens, AK/SK keys
# ---------------------------------------------------------------------------

MSG_TOKEN_UPDATE = "The token must be updated."
MSG_NO_AUTH = "Incorrect IAM authentication information: x-auth-token not found"
MSG_AKSK_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"
MSG_AKSK_EXPIRED = ("Incorrect IAM authentication information: the request has expired"
                    " (X-Sdk-Date missing, malformed or more than 15 minutes from server time)")
MSG_AKSK_LOCKED = ("Incorrect IAM authentication information: the access key is locked for"
                   " 5 minutes after repeated signature failures")
MSG_AKSK_SECTOKEN = "Incorrect IAM authentication information: security token is invalid"
AKSK_LOCK_SECONDS = 300
SIGNATURES_KEPT = 10000             # for GET /_sim/signatures


class Credentials:
    """Who may call.  Not locked itself: the Simulator's lock guards every call."""

    def __init__(self, tokens, users, aksk):
        self.static_tokens = set(tokens)
        self.users = dict(users)            # name -> (password, domain)
        self.aksk = dict(aksk)              # ak -> (sk, security token or None)
        self.issued = {}                    # token -> {"project", "expires", "user"}
        self.revoked = set()
        self.aksk_failures = {}             # ak -> [consecutive failures, locked until]
        self.signatures = collections.deque(maxlen=SIGNATURES_KEPT)    # as received

    def reset(self):
        self.revoked.clear()
        self.aksk_failures.clear()

    def issue(self, user, project, now, ttl, length):
        raw = base64.urlsafe_b64encode(secrets.token_bytes(length)).decode("ascii")
        token = ("MII" + raw)[:length]
        self.issued[token] = {"project": project, "expires": now + ttl, "user": user}
        return token

    def check_token(self, token, project, now, request_id):
        """Raises ApiError unless token is valid for project."""
        if token in self.revoked:
            raise gateway_error(401, "APIGW.0307", MSG_TOKEN_UPDATE, request_id)
        if token in self.static_tokens:
            return "static token"
        info = self.issued.get(token)
        if info is None:
            raise gateway_error(401, "APIGW.0307", MSG_TOKEN_UPDATE, request_id)
        if now >= info["expires"]:
            raise gateway_error(401, "APIGW.0307", MSG_TOKEN_UPDATE, request_id)
        if info["project"] != project:
            raise dbs_error(403, "DBS.280056", "Invalid token.",
                            "token issued for project %s" % info["project"])
        return "issued token"

    def check_aksk(self, req, project, now, lockout, request_id):
        """Verify an AK/SK signed request; raises ApiError (with a log detail)."""
        def fail(code, msg, detail, count=False):
            if count and ak in self.aksk:
                state = self.aksk_failures.setdefault(ak, [0, 0.0])
                state[0] += 1
                if lockout and state[0] >= lockout:
                    state[1] = now + AKSK_LOCK_SECONDS
            err = gateway_error(401, code, msg, request_id)
            err.detail = detail
            return err

        parsed = parse_authorization(req.header("Authorization"))
        if parsed is None:
            ak = None
            raise fail("APIGW.0301", MSG_AKSK_FAIL, "malformed Authorization header")
        ak, signed, sig = parsed
        self.signatures.append(sig)
        if ak not in self.aksk:
            raise fail("APIGW.0301", MSG_AKSK_FAIL, "unknown access key")
        sk, security_token = self.aksk[ak]
        state = self.aksk_failures.get(ak)
        if lockout and state and state[1] > now:
            raise fail("APIGW.0301", MSG_AKSK_LOCKED, "access key locked")
        names = [h.strip().lower() for h in signed]
        if "x-sdk-date" not in names or "host" not in names:
            raise fail("APIGW.0301", MSG_AKSK_FAIL, "x-sdk-date and host must be signed", True)
        sdk_date = req.header("X-Sdk-Date")
        when = parse_sdk_date(sdk_date)
        if when is None:
            raise fail("APIGW.0303", MSG_AKSK_EXPIRED, "X-Sdk-Date missing or malformed")
        if abs(when - now) > MAX_CLOCK_SKEW:
            raise fail("APIGW.0303", MSG_AKSK_EXPIRED, "X-Sdk-Date off by %ds" % (when - now))
        headers = {}
        for name in names:
            value = req.header(name)
            if value is None:
                raise fail("APIGW.0301", MSG_AKSK_FAIL, "signed header %s missing" % name, True)
            headers[name] = wire_bytes(value).decode("utf-8", "surrogateescape")
        if (req.header("X-Sdk-Content-Sha256") or "").strip() == "UNSIGNED-PAYLOAD":
            body_hash = "UNSIGNED-PAYLOAD"
        else:
            body_hash = hashlib.sha256(req.body).hexdigest()
        canonical = canonical_request(req.method, req.raw_path, req.raw_query, headers, names,
                                      body_hash)
        expected = signature(string_to_sign(canonical, sdk_date.strip()), sk)
        if not hmac.compare_digest(expected.encode("ascii"), wire_bytes(sig)):
            raise fail("APIGW.0301", MSG_AKSK_FAIL, "signature mismatch", True)
        if security_token is not None and req.header("X-Security-Token") != security_token:
            raise fail("APIGW.0301", MSG_AKSK_SECTOKEN, "X-Security-Token missing or wrong")
        self.aksk_failures.pop(ak, None)
        x_project = req.header("X-Project-Id")
        if x_project is not None and x_project.strip() != project:
            raise dbs_error(403, "DBS.280056", "Invalid token.",
                            "X-Project-Id is not the project in the path")
        return "aksk"


def iam_error(status, message, title):
    return ApiError(status, {"error": {"code": status, "message": message, "title": title}})


# ---------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------

FAULT_KINDS = ("status", "malformed", "html", "truncate", "drop", "hang", "slow", "big",
               "deep", "invalid_utf8", "wrong_types", "total_count", "shift", "delay")
# Kinds that rewrite a successful tasklist body: they match only requests that
# passed auth and validation on the tasklist path.
CONTENT_KINDS = ("big", "deep", "invalid_utf8", "wrong_types", "total_count", "shift")
WRONG_TYPE_VARIANTS = ("tasks_object", "tasks_missing", "fields_numbers",
                       "total_count_string", "root_array")
DEFAULT_ERRORS = {
    400: ("DBS.280001", "Invalid parameter."),
    401: ("APIGW.0307", MSG_TOKEN_UPDATE),
    403: ("DBS.280056", "Invalid token."),
    404: ("APIGW.0101", "The API does not exist or has not been published in the environment."),
    429: ("APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit,"
                        "limit:100,time:1 minute"),
    500: ("DBS.108000", "Internal server error."),
    502: ("APIGW.0201", "Backend unavailable."),
    503: ("APIGW.0201", "Backend unavailable."),
    504: ("APIGW.0201", "Backend timeout."),
}


class FaultError(ValueError):
    pass


class FaultRule:
    """One rule of POST /_sim/faults, validated."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a rule must be an object")
        self.spec = dict(spec)
        self.kind = spec.get("kind")
        if self.kind not in FAULT_KINDS:
            raise FaultError("kind must be one of %s" % ", ".join(FAULT_KINDS))
        self.path = spec.get("path", "tasklist")
        if self.path not in ("tasklist", "tokens", "any"):
            raise FaultError("path must be tasklist, tokens or any")
        if self.path == "tokens" and self.kind in CONTENT_KINDS:
            raise FaultError("kind %s applies to tasklist only" % self.kind)
        self.params = spec.get("params") or {}
        if not isinstance(self.params, dict) or \
                not all(isinstance(v, str) for v in self.params.values()):
            raise FaultError("params must map names to strings")
        self.listener = spec.get("listener")
        if self.listener not in (None, "http", "https"):
            raise FaultError("listener must be http or https")
        self.project = spec.get("project")
        if self.project is not None and not isinstance(self.project, str):
            raise FaultError("project must be a string")
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict) or \
                not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise FaultError("headers must map names to strings")
        self.skip = self._int("skip", 0, 0)
        self.times = self._int("times", 1, -1)
        self.applied = 0
        if self.kind == "status" or "status" in spec:
            self._int("status", 503, 100, 599)
        for key in ("error_code", "error_msg", "body", "content_type"):
            if key in spec and not isinstance(spec[key], str):
                raise FaultError("%s must be a string" % key)
        if self.kind == "wrong_types" and \
                spec.get("variant", "tasks_object") not in WRONG_TYPE_VARIANTS:
            raise FaultError("variant must be one of %s" % ", ".join(WRONG_TYPE_VARIANTS))
        for key in ("seconds", "ms", "interval_ms"):
            if key in spec:
                self._num(key)
        for key in ("chunk", "size", "depth", "count"):
            if key in spec:
                self._int(key, 0, 1 if key != "count" else 0)

    def _int(self, key, default, lo, hi=None):
        value = self.spec.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < lo or \
                (hi is not None and value > hi):
            raise FaultError("%s must be an integer >= %d" % (key, lo))
        return value

    def _num(self, key):
        value = self.spec.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise FaultError("%s must be a number >= 0" % key)
        return value

    def matches(self, route, params, listener, project, ok):
        if self.times == 0:
            return False
        if self.path != "any" and self.path != route:
            return False
        if self.kind in CONTENT_KINDS and not (ok and route == "tasklist"):
            return False
        if self.listener and self.listener != listener:
            return False
        if self.project and self.project != project:
            return False
        return all(params.get(k) == v for k, v in self.params.items())

    def describe(self):
        d = dict(self.spec)
        d.update(skip=self.skip, times=self.times, applied=self.applied)
        return d


class FaultBook:
    """The active rules.  Not locked itself: the Simulator's lock guards it."""

    def __init__(self):
        self.rules = []

    def add(self, specs):
        rules = [FaultRule(s) for s in specs]      # all or nothing
        self.rules.extend(rules)
        return len(rules)

    def clear(self):
        self.rules = []

    def take(self, route, params, listener, project, ok):
        """The rule to apply to this request (its spec), consuming one use; or None.
        ok: the request passed auth and validation."""
        for rule in self.rules:
            if not rule.matches(route, params, listener, project, ok):
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            if rule.times > 0:
                rule.times -= 1
            rule.applied += 1
            return dict(rule.spec)
        return None


# ---------------------------------------------------------------------------
# log and stats
# ---------------------------------------------------------------------------

class RequestLog:
    """API request records (never control requests, never secrets); the newest
    max_records are kept in memory, all go to the log file."""

    def __init__(self, log_file=None, verbose=False, max_records=100000):
        self.records = collections.deque(maxlen=max_records)
        self.seq = 0
        self.log_file = open(log_file, "a", encoding="utf-8") if log_file else None
        self.verbose = verbose

    def clear(self):
        self.records.clear()
        self.seq = 0

    def begin(self, **fields):
        self.seq += 1
        rec = {"seq": self.seq, "time": log_stamp(time.time()), "listener": None,
               "conn_id": None, "method": None, "path": None, "query": None, "params": {},
               "status": None, "fault": None, "auth": "none", "user_agent": None,
               "bytes": 0, "complete": False, "duration_ms": None}
        rec.update(fields)
        return rec

    def publish(self, rec):
        """Show rec in /_sim/log: called before the client can see the answer,
        so a client never misses its own last request.  Afterwards only the
        values of bytes, complete and duration_ms change."""
        self.records.append(rec)

    def finish(self, rec):
        """The request is over: write rec to the log file and stderr."""
        if self.log_file:
            self.log_file.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.log_file.flush()
        if self.verbose:
            sys.stderr.write("rds_sim: %s\n" % text_line(rec))
            sys.stderr.flush()

    def snapshot(self, since=0):
        return sorted((r for r in self.records if r["seq"] > since), key=lambda r: r["seq"])


def text_line(rec):
    """METHOD /path?rawquery STATUS"""
    return "%s %s %s" % (rec["method"], rec["target"], rec["status"])


class Stats:
    """Counters since the last reset.  Guarded by the Simulator's lock."""

    def __init__(self):
        self.conn_seq = 0           # connection ids stay unique across resets
        self.in_flight = 0          # a gauge, not a counter: survives clear()
        self.clear()

    def clear(self):
        self.requests = 0
        self.connections = {"http": 0, "https": 0}
        self.tls_handshakes = 0
        self.tls_resumed = 0
        self.tls_failed = 0
        self.max_in_flight = self.in_flight

    def as_dict(self):
        return {"requests": self.requests, "connections": dict(self.connections),
                "tls_handshakes": self.tls_handshakes, "tls_resumed": self.tls_resumed,
                "tls_failed": self.tls_failed, "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight}


# ---------------------------------------------------------------------------
# simulator: shared state
# ---------------------------------------------------------------------------

CONFIG_KEYS = ("latency_ms", "token_ttl", "time_bounds", "token_length", "aksk_lockout",
               "clock_offset", "idle_timeout", "actions", "page_order")
PAGE_ORDERS = ("newest", "oldest", "random", "hash")


def check_config(key, value):
    """Validate one configuration value; returns it or raises ValueError."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key == "time_bounds":
        if value not in ("inclusive", "exclusive"):
            raise ValueError("time_bounds must be inclusive or exclusive")
    elif key == "actions":
        if value not in ("page", "list"):
            raise ValueError("actions must be page or list")
    elif key == "page_order":
        if value not in PAGE_ORDERS:
            raise ValueError("page_order must be one of %s" % ", ".join(PAGE_ORDERS))
    elif key in ("latency_ms",):
        if not number or value < 0:
            raise ValueError("%s must be a number >= 0" % key)
    elif key in ("token_ttl", "clock_offset"):
        if not number:
            raise ValueError("%s must be a number" % key)
    elif key == "idle_timeout":
        if not number or value <= 0:
            raise ValueError("idle_timeout must be a number > 0")
    elif key == "token_length":
        if not isinstance(value, int) or isinstance(value, bool) or not 16 <= value <= 65536:
            raise ValueError("token_length must be an integer 16..65536")
    elif key == "aksk_lockout":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("aksk_lockout must be an integer >= 0 (0 = never lock)")
    else:
        raise ValueError("unknown configuration key %s (valid: %s)" % (key, ", ".join(CONFIG_KEYS)))
    return value


class Simulator:
    """All shared state, behind self.lock."""

    def __init__(self, projects, tasks, seed, base_time, credentials, config, log,
                 shape=DEFAULT_SHAPE):
        self.lock = threading.RLock()
        self.initial_shape = self.shape = shape
        self.stopping = threading.Event()
        self.projects = list(projects)
        self.n_tasks = tasks
        self.seed = seed
        self.base_time = base_time
        self.initial_config = dict(config)
        self.config = dict(config)
        self.creds = credentials
        self.faults = FaultBook()
        self.log = log
        self.stats = Stats()
        self.data = {}
        self._generate()

    def _generate(self):
        self.data = {p: ProjectData(p, self.seed, self.n_tasks, self.base_time, self.shape)
                     for p in self.projects}

    def reset(self, tasks=None, seed=None, base_time=None, projects=None, shape=None):
        """tasks, seed, base_time and projects stay until changed again; the
        shape (id_length, long_action, lazy) is the command line's unless given."""
        with self.lock:
            self.shape = shape or self.initial_shape
            if tasks is not None:
                self.n_tasks = tasks
            if seed is not None:
                self.seed = seed
            if base_time is not None:
                self.base_time = base_time
            if projects is not None:
                self.projects = list(projects)
            self._generate()
            self.faults.clear()
            self.log.clear()
            self.stats.clear()
            self.creds.reset()
            self.config = dict(self.initial_config)

    def now(self):
        """The simulator's clock (wall clock plus the configured clock_offset)."""
        return time.time() + self.config["clock_offset"]

    def select(self, project, query):
        """The filtered list (task objects, API order) for a validated query."""
        with self.lock:
            pd = self.data[project]
            inclusive = self.config["time_bounds"] == "inclusive"
            order = self.config.get("page_order", "newest")
            key = query.cache_key(inclusive) + (order,)
            cached = pd.cache.get(key)
            tasks = pd.tasks
        if cached is not None:
            return cached
        if isinstance(tasks, LazyTasks) and not query.filters and query.start is None \
                and order == "newest":
            return TaskView(tasks)
        selected = [t for t, ms in tasks if query.matches(t, ms, inclusive)]
        if order == "oldest":
            selected.reverse()
        elif order == "random":
            # the same query gets the same order (pages of one listing fit)
            random.Random("order/%s/%r" % (self.seed, key)).shuffle(selected)
        elif order == "hash":
            # the same order for every request and filter (the id's hash)
            selected.sort(key=lambda t: hashlib.sha1(t["id"].encode()).digest())
        with self.lock:
            if pd.tasks is tasks:
                if len(pd.cache) > 256:
                    pd.cache.clear()
                pd.cache[key] = selected
        return selected

    def wait(self, seconds, sock=None):
        """Sleep up to seconds.  False if cut short: shutting down, or the peer of
        sock closed its side."""
        deadline = time.monotonic() + seconds
        poller = None
        if sock is not None:
            try:
                poller = select.poll()
                poller.register(sock.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
            except (OSError, ValueError):
                poller = None
        while True:
            if self.stopping.is_set():
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            step = min(left, 0.1)
            if poller is not None:
                if poller.poll(step * 1000):
                    return False
            else:
                time.sleep(step)


# ---------------------------------------------------------------------------
# http: replies, the API, the control API, the handler
# ---------------------------------------------------------------------------

# What a vanished or stalled client raises: BrokenPipeError, ConnectionResetError,
# TimeoutError and ssl.SSLError are all OSErrors.
CLIENT_GONE = OSError


class Reply:
    """What to send.  mode: normal | truncate | slow | drop | gone (client left,
    send nothing).  chunks/length stream a body too big to build in memory."""

    def __init__(self, status, body=b"", content_type=JSON_CT, headers=(), mode="normal",
                 chunks=None, length=None, **opts):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers)
        self.mode = mode
        self.chunks = chunks
        self.length = length
        self.opts = opts


def json_reply(status, obj, content_type=JSON_CT, headers=()):
    return Reply(status, json_bytes(obj), content_type, headers)


def error_reply(err, request_id=None, content_type=JSON_CT):
    headers = [("X-Request-Id", request_id)] if request_id else []
    return json_reply(err.status, err.body, content_type, headers)


class IncomingRequest:
    """The parts of an HTTP request the API looks at."""

    def __init__(self, method, target, headers, body, listener, sock):
        self.method = method
        self.target = target
        self.raw_path, _, self.raw_query = target.partition("?")
        self._headers = headers
        self.body = body
        self.listener = listener
        self.sock = sock
        self.params = decode_params(parse_raw_query(self.raw_query))

    def header(self, name):
        return self._headers.get(name)


class ApiService:
    """GET /v3/{project}/tasklist and POST /v3/auth/tokens."""

    TASKLIST_RE = re.compile(r"^/v3/([^/]+)/tasklist$")

    def __init__(self, sim):
        self.sim = sim

    def handle(self, req, rec):
        """Returns the Reply for req, filling rec (auth, fault, detail)."""
        request_id = secrets.token_hex(16)
        rec["request_id"] = request_id
        not_found = gateway_error(404, *DEFAULT_ERRORS[404], request_id)
        path = urllib.parse.unquote_to_bytes(wire_bytes(req.raw_path)).decode("utf-8", "replace")
        m = self.TASKLIST_RE.match(path)
        if m and req.method == "GET":
            return self._tasklist(req, rec, m.group(1), request_id)
        if path == "/v3/auth/tokens" and req.method == "POST":
            return self._tokens(req, rec, request_id)
        rec["detail"] = "no such API"
        return error_reply(not_found, request_id)

    # -- GET /v3/{project}/tasklist

    def _tasklist(self, req, rec, project, request_id):
        sim = self.sim
        rec["project"] = project
        rec["x_project_id"] = req.header("X-Project-Id")
        error = query = None
        with sim.lock:
            known = project in sim.data
            if known:
                try:
                    rec["detail"] = self._authenticate(req, rec, project, request_id)
                    query = TaskQuery(req.params)
                    rec["ignored_params"] = query.ignored
                except ApiError as e:
                    error = e
                    rec["detail"] = e.detail or e.body.get("error_msg")
            fault = sim.faults.take("tasklist", req.params, req.listener, project,
                                    known and error is None)
        if not known:
            rec["detail"] = "unknown project"
            error = gateway_error(404, *DEFAULT_ERRORS[404], request_id)
        rec["fault"] = fault["kind"] if fault else None

        early = self._early_fault(fault, req, request_id, iam=False)
        if early is not None:
            return early
        if error is not None:
            return self._delivery(fault, error_reply(error, request_id))

        kind = fault["kind"] if fault else None
        try:
            if kind == "shift":
                # "delay_ms" lets later pages be answered before the move
                if fault.get("delay_ms") and not sim.wait(fault["delay_ms"] / 1000, req.sock):
                    return Reply(499, mode="gone")
                with sim.lock:
                    sim.data[project].shift(fault.get("count", 5))
            body = page_body(sim.select(project, query), query, sim.config["actions"])
        except KeyError:            # a concurrent reset removed the project
            return error_reply(gateway_error(404, *DEFAULT_ERRORS[404], request_id), request_id)
        headers = [("X-Request-Id", request_id)]
        if kind in ("big", "deep", "invalid_utf8", "wrong_types", "total_count"):
            return getattr(self, "_fault_" + kind)(fault, body, headers)
        return self._delivery(fault, json_reply(200, body, headers=headers))

    def _authenticate(self, req, rec, project, request_id):
        """Check the caller; sets rec["auth"] to the method tried and returns a
        detail for the log, or raises ApiError.  X-Auth-Token wins over an
        Authorization header.  Called under the lock."""
        sim = self.sim
        now = sim.now()
        token = req.header("X-Auth-Token")
        if token is not None:
            rec["auth"] = "token"
            return sim.creds.check_token(token.strip(), project, now, request_id)
        authz = req.header("Authorization")
        if authz is not None and authz.strip().startswith(SIGN_ALGORITHM):
            rec["auth"] = "aksk"
            try:
                return sim.creds.check_aksk(req, project, now, sim.config["aksk_lockout"],
                                            request_id)
            except ApiError as e:
                e.detail = "aksk: %s" % e.detail
                raise
        err = gateway_error(401, "APIGW.0301", MSG_NO_AUTH, request_id)
        err.detail = "no X-Auth-Token or SDK-HMAC-SHA256 Authorization"
        raise err

    # -- POST /v3/auth/tokens

    def _tokens(self, req, rec, request_id):
        sim = self.sim
        error = None
        rec["auth"] = "password"
        try:
            user, password, domain, project = self._parse_auth_body(req.body)
            rec["user"] = user
            rec["project"] = project
        except ApiError as e:
            error = e
        with sim.lock:
            if error is None:
                known = sim.creds.users.get(user)
                if known is None or known != (password, domain):
                    error = iam_error(401, "The username or password is wrong.", "Unauthorized")
                    rec["detail"] = "wrong credentials"
                elif project not in sim.data:
                    error = iam_error(401, "The request you have made requires authentication.",
                                      "Unauthorized")
                    rec["detail"] = "unknown project"
            fault = sim.faults.take("tokens", req.params, req.listener, rec.get("project"),
                                    error is None)
        rec["fault"] = fault["kind"] if fault else None
        early = self._early_fault(fault, req, request_id, iam=True)
        if early is not None:
            return early
        if error is not None:
            return self._delivery(fault, error_reply(error, content_type=IAM_CT))
        with sim.lock:
            now = sim.now()
            ttl = sim.config["token_ttl"]
            token = sim.creds.issue(user, project, now, ttl, sim.config["token_length"])
        domain_obj = {"id": hashlib.md5(domain.encode()).hexdigest(), "name": domain}
        body = {"token": {
            "expires_at": iam_stamp(now + ttl), "issued_at": iam_stamp(now),
            "methods": ["password"],
            "project": {"id": project, "name": "eu-de_%s" % project[:8], "domain": domain_obj},
            "user": {"id": hashlib.md5(user.encode()).hexdigest(), "name": user,
                     "domain": domain_obj, "password_expires_at": ""},
            "roles": [{"id": "0", "name": "op_gated_rds"}, {"id": "1", "name": "te_admin"}]}}
        if req.params.get("nocatalog") != "true":
            body["token"]["catalog"] = []
        headers = [("X-Subject-Token", token), ("X-Request-Id", request_id)]
        return self._delivery(fault, json_reply(201, body, IAM_CT, headers))

    @staticmethod
    def _parse_auth_body(raw):
        """(user, password, domain, project id) from an IAM password auth body."""
        def bad(msg):
            return iam_error(400, msg, "Bad Request")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad("The request body is not valid JSON.")
        try:
            auth = doc["auth"]
            identity = auth["identity"]
            if "password" not in identity["methods"]:
                raise bad("Only the password method is supported.")
            user = identity["password"]["user"]
            name, password, domain = user["name"], user["password"], user["domain"]["name"]
            project = auth["scope"]["project"]["id"]
        except (KeyError, TypeError):
            raise bad("Expecting to find auth.identity.password.user.{name,password,domain.name}"
                      " and auth.scope.project.id in the request body.")
        if not all(isinstance(v, str) and v for v in (name, password, domain, project)):
            raise bad("The user name, password, domain name and project id must be non-empty"
                      " strings.")
        return name, password, domain, project

    # -- faults

    def _early_fault(self, fault, req, request_id, iam):
        """Apply a fault that acts before (or instead of) the real answer.
        Returns a Reply to send instead, or None to go on."""
        if fault is None:
            return None
        kind = fault["kind"]
        if kind in ("hang", "delay"):
            seconds = fault.get("seconds", 3600) if kind == "hang" else fault.get("ms", 1000) / 1000
            if not self.sim.wait(seconds, req.sock):
                return Reply(499, mode="gone")
            return None
        if kind == "drop":
            return Reply(0, mode="drop", rst=bool(fault.get("rst")))
        if kind == "status":
            return self._fault_status(fault, request_id, iam)
        if kind == "malformed":
            body = fault.get("body", '{"tasks": [{"id": "676e9f17f9b74289883a44a47b8101f5", '
                                     '"name": <<not json>>')
            return Reply(fault.get("status", 200), body.encode("utf-8"), JSON_CT,
                         [("X-Request-Id", request_id)])
        if kind == "html":
            status = fault.get("status", 200)
            body = fault.get("body", "<!DOCTYPE html>\n<html><head><title>%d</title></head>"
                                     "<body><h1>Service temporarily unavailable</h1>"
                                     "<p>Please try again later.</p></body></html>\n" % status)
            return Reply(status, body.encode("utf-8"), "text/html; charset=utf-8")
        return None

    @staticmethod
    def _fault_status(fault, request_id, iam):
        status = fault.get("status", 503)
        headers = [("X-Request-Id", request_id)]
        headers.extend((fault.get("headers") or {}).items())
        if fault.get("retry_after") is not None:
            headers.append(("Retry-After", str(fault["retry_after"])))
        if "body" in fault:
            return Reply(status, str(fault["body"]).encode("utf-8"),
                         fault.get("content_type", JSON_CT), headers)
        if iam:
            title = fault.get("error_msg", "Service Unavailable" if status == 503 else "Error")
            return json_reply(status, {"error": {"code": status, "message": title,
                                                 "title": title}}, IAM_CT, headers)
        code, msg = DEFAULT_ERRORS.get(status, ("DBS.108000", "Internal server error."))
        body = {"error_code": fault.get("error_code", code),
                "error_msg": fault.get("error_msg", msg)}
        if body["error_code"].startswith("APIGW"):
            body["request_id"] = request_id
        return json_reply(status, body, headers=headers)

    @staticmethod
    def _delivery(fault, reply):
        """Apply truncate/slow, which change how any reply is delivered."""
        if fault is not None and fault["kind"] == "truncate":
            reply.mode = "truncate"
        elif fault is not None and fault["kind"] == "slow":
            reply.mode = "slow"
            reply.opts.update(chunk=fault.get("chunk", 10),
                              interval_ms=fault.get("interval_ms", 500))
        return reply

    @staticmethod
    def _split_at(body, placeholder):
        data = json_bytes(body)
        mark = json_bytes(placeholder)[1:-1]
        i = data.index(mark)
        return data[:i], data[i + len(mark):]

    def _fault_big(self, fault, body, headers):
        """Valid JSON padded to exactly `size` bytes (if it fits)."""
        size = fault.get("size", 32 << 20)
        placeholder = "@@RDS_SIM_PADDING@@"
        if fault.get("in_task") and body["tasks"]:
            body["tasks"][0] = dict(body["tasks"][0], fail_reason=placeholder)
        else:
            body["padding"] = placeholder
        head, tail = self._split_at(body, placeholder)
        pad = max(0, size - len(head) - len(tail))

        def chunks():
            yield head
            left = pad
            block = b"x" * 65536
            while left > 0:
                yield block[:min(left, len(block))]
                left -= len(block)
            yield tail
        return Reply(200, content_type=JSON_CT, headers=headers, chunks=chunks(),
                     length=len(head) + pad + len(tail))

    @staticmethod
    def _fault_deep(fault, body, headers):
        depth = fault.get("depth", 100000)
        data = b'{"tasks":' + b"[" * depth + b"]" * depth + \
            b',"actions":[],"total_count":' + str(body["total_count"]).encode() + b"}"
        return Reply(200, data, JSON_CT, headers)

    def _fault_invalid_utf8(self, fault, body, headers):
        placeholder = "@@RDS_SIM_BAD_UTF8@@"
        if body["tasks"]:
            body["tasks"][0] = dict(body["tasks"][0], instance_name=placeholder)
        else:
            body["actions"] = [placeholder]
        head, tail = self._split_at(body, placeholder)
        return Reply(200, head + b"rds-\xff\xfe-bad-\xc3\x28-name" + tail, JSON_CT, headers)

    @staticmethod
    def _fault_wrong_types(fault, body, headers):
        variant = fault.get("variant", "tasks_object")
        if variant == "tasks_object":
            body["tasks"] = body["tasks"][0] if body["tasks"] else {}
        elif variant == "tasks_missing":
            del body["tasks"]
        elif variant == "fields_numbers":
            fields = fault.get("fields") or {"process": 60, "create_time": 1768478400000,
                                             "instance_name": {"en": "rds-prod-orders"},
                                             "status": 1}
            body["tasks"] = [dict(t, **fields) for t in body["tasks"]]
        elif variant == "total_count_string":
            body["total_count"] = str(body["total_count"])
        elif variant == "root_array":
            body = [body]
        return json_reply(200, body, headers=headers)

    @staticmethod
    def _fault_total_count(fault, body, headers):
        value = fault.get("value", -1)
        if value is None:
            del body["total_count"]
        else:
            body["total_count"] = value
        return json_reply(200, body, headers=headers)


class ControlApi:
    """/_sim/... : test control, no auth, JSON in and out.

      GET  /_sim/health                 {"ok": true}
      POST /_sim/reset                  {"tasks","seed","base_time","projects"} all optional
      GET  /_sim/config                 current run-time configuration
      POST /_sim/config                 any of CONFIG_KEYS
      POST /_sim/revoke                 {"all": true[, "static": true]} | {"token": "..."}
      POST /_sim/advance                {"add": N, "finish": M[, "project": P]}: N new
                                        Running tasks, the M oldest Running ones ended
      GET  /_sim/faults                 active rules with remaining skip/times
      POST /_sim/faults                 {"faults": [rule, ...]} appends
      POST /_sim/faults/clear
      GET  /_sim/log[?format=text][&since=SEQ]
      POST /_sim/log/clear
      GET  /_sim/dataset?project=P&format=csv|json
      POST /_sim/edit                   {"project"?, "edits": [{"index": N (position
                                        in the list, newest first), "set": {field:
                                        string}, "unset": [field]}]}: odd values (an
                                        empty or unknown status, ...); time and order kept
      GET  /_sim/stats
      POST /_sim/stats/clear
      GET  /_sim/tokens                 {"issued": [{"token","user","project",
                                        "expires_at","revoked"}], "static": [...]}
      GET  /_sim/signatures             {"signatures": [Signature values of AK/SK
                                        requests, valid or not, oldest first]}
    """

    def __init__(self, sim):
        self.sim = sim
        self.routes = {
            ("GET", "/_sim/health"): self.health,
            ("POST", "/_sim/reset"): self.reset,
            ("GET", "/_sim/config"): self.get_config,
            ("POST", "/_sim/config"): self.set_config,
            ("POST", "/_sim/revoke"): self.revoke,
            ("POST", "/_sim/advance"): self.advance,
            ("GET", "/_sim/faults"): self.get_faults,
            ("POST", "/_sim/faults"): self.add_faults,
            ("POST", "/_sim/faults/clear"): self.clear_faults,
            ("GET", "/_sim/log"): self.get_log,
            ("POST", "/_sim/log/clear"): self.clear_log,
            ("GET", "/_sim/dataset"): self.dataset,
            ("POST", "/_sim/edit"): self.edit,
            ("GET", "/_sim/stats"): self.get_stats,
            ("POST", "/_sim/stats/clear"): self.clear_stats,
            ("GET", "/_sim/tokens"): self.get_tokens,
            ("GET", "/_sim/signatures"): self.get_signatures,
        }

    def handle(self, method, raw_path, raw_query, body):
        path = raw_path.rstrip("/") if raw_path != "/" else raw_path
        route = self.routes.get((method, path))
        if route is None:
            if any(p == path for _, p in self.routes):
                return json_reply(405, {"error": "method %s not allowed on %s" % (method, path)})
            return json_reply(404, {"error": "unknown control endpoint %s" % path})
        params = decode_params(parse_raw_query(raw_query))
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
            if not isinstance(doc, dict):
                raise ValueError("the body must be a JSON object")
            return route(params, doc)
        except (ValueError, FaultError, UnicodeDecodeError) as e:
            return json_reply(400, {"error": str(e)})

    def health(self, params, doc):
        return json_reply(200, {"ok": True})

    def reset(self, params, doc):
        unknown = set(doc) - {"tasks", "seed", "base_time", "projects", "id_length",
                              "long_action", "lazy"}
        if unknown:
            raise ValueError("unknown reset keys: %s" % ", ".join(sorted(unknown)))
        tasks = doc.get("tasks")
        if tasks is not None and (not isinstance(tasks, int) or isinstance(tasks, bool)
                                  or tasks < 0):
            raise ValueError("tasks must be an integer >= 0")
        seed = doc.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError("seed must be an integer")
        base = doc.get("base_time")
        if base is not None:
            base = parse_base_time(base)
        projects = doc.get("projects")
        if projects is not None and (not isinstance(projects, list) or not projects or
                                     not all(isinstance(p, str) and p and "/" not in p
                                             for p in projects)):
            raise ValueError("projects must be a non-empty list of project ids")
        id_length, long_action, lazy = self.sim.initial_shape
        id_length = doc.get("id_length", id_length)
        if (not isinstance(id_length, int) or isinstance(id_length, bool)
                or not 32 <= id_length <= MAX_ID_LENGTH):
            raise ValueError("id_length must be an integer from 32 to %d" % MAX_ID_LENGTH)
        long_action = doc.get("long_action", long_action)
        lazy = doc.get("lazy", lazy)
        if not isinstance(long_action, bool) or not isinstance(lazy, bool):
            raise ValueError("long_action and lazy must be true or false")
        self.sim.reset(tasks, seed, base, projects, (id_length, long_action, lazy))
        with self.sim.lock:
            return json_reply(200, {"ok": True, "projects": self.sim.projects,
                                    "tasks": self.sim.n_tasks, "seed": self.sim.seed,
                                    "base_time": self.sim.base_time,
                                    "id_length": id_length, "long_action": long_action,
                                    "lazy": lazy})

    def edit(self, params, doc):
        project = doc.get("project", self.sim.projects[0])
        edits = doc.get("edits")
        if not isinstance(edits, list):
            raise ValueError("edits must be a list")
        with self.sim.lock:
            pd = self.sim.data.get(project)
            if pd is None or isinstance(pd.tasks, LazyTasks):
                raise ValueError("no editable list for project %s" % project)
            tasks = list(pd.tasks)
            for e in edits:
                i = e.get("index")
                if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(tasks):
                    raise ValueError("index must be a position in the list")
                sets, unset = e.get("set", {}), e.get("unset", [])
                if not all(isinstance(v, str) for v in sets.values()) or \
                        "create_time" in sets or "create_time" in unset:
                    raise ValueError("set takes strings, and create_time stays")
                task, ms = tasks[i]
                task = {k: v for k, v in task.items() if k not in unset}
                task.update(sets)
                tasks[i] = (task, ms)
            pd.tasks = tasks
            pd.version += 1
            pd.cache = {}
        return json_reply(200, {"ok": True})

    def get_config(self, params, doc):
        with self.sim.lock:
            return json_reply(200, self.sim.config)

    def set_config(self, params, doc):
        checked = {k: check_config(k, v) for k, v in doc.items()}
        with self.sim.lock:
            self.sim.config.update(checked)
            return json_reply(200, self.sim.config)

    def advance(self, params, doc):
        """Time passes on one project's list: "add" new Running tasks at the
        head (newer than all) and "finish" the oldest Running ones."""
        unknown = set(doc) - {"project", "add", "finish"}
        if unknown:
            raise ValueError("unknown advance keys: %s" % ", ".join(sorted(unknown)))
        counts = {}
        for key in ("add", "finish"):
            v = doc.get(key, 0)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 100000:
                raise ValueError("%s must be an integer 0..100000" % key)
            counts[key] = v
        with self.sim.lock:
            project = doc.get("project", self.sim.projects[0])
            if project not in self.sim.data:
                raise ValueError("unknown project %r" % (project,))
            pd = self.sim.data[project]
            if counts["add"]:
                pd.shift(counts["add"])
            finished = pd.finish(counts["finish"]) if counts["finish"] else 0
            return json_reply(200, {"added": counts["add"], "finished": finished,
                                    "tasks": len(pd.tasks)})

    def revoke(self, params, doc):
        creds = self.sim.creds
        with self.sim.lock:
            before = len(creds.revoked)
            if doc.get("all"):
                creds.revoked.update(creds.issued)
                if doc.get("static"):
                    creds.revoked.update(creds.static_tokens)
            elif isinstance(doc.get("token"), str):
                creds.revoked.add(doc["token"])
            else:
                raise ValueError('expected {"all": true} or {"token": "..."}')
            return json_reply(200, {"revoked": len(creds.revoked) - before})

    def get_faults(self, params, doc):
        with self.sim.lock:
            return json_reply(200, {"faults": [r.describe() for r in self.sim.faults.rules]})

    def add_faults(self, params, doc):
        specs = doc.get("faults")
        if not isinstance(specs, list):
            raise ValueError('expected {"faults": [rule, ...]}')
        with self.sim.lock:
            added = self.sim.faults.add(specs)
            return json_reply(200, {"added": added, "active": len(self.sim.faults.rules)})

    def clear_faults(self, params, doc):
        with self.sim.lock:
            self.sim.faults.clear()
        return json_reply(200, {"ok": True})

    def get_log(self, params, doc):
        since = params.get("since", "0")
        if not since.isdigit():
            raise ValueError("since must be a sequence number")
        with self.sim.lock:
            records = self.sim.log.snapshot(int(since))
        if params.get("format") == "text":
            text = "".join(text_line(r) + "\n" for r in records)
            return Reply(200, text.encode("utf-8"), "text/plain; charset=utf-8")
        return json_reply(200, records)

    def clear_log(self, params, doc):
        with self.sim.lock:
            self.sim.log.clear()
        return json_reply(200, {"ok": True})

    def dataset(self, params, doc):
        with self.sim.lock:
            project = params.get("project") or self.sim.projects[0]
            pd = self.sim.data.get(project)
            tasks = pd.tasks if pd else None
        if tasks is None:
            return json_reply(404, {"error": "unknown project %s" % project})
        fmt = params.get("format", "json")
        if fmt == "csv":
            return Reply(200, dataset_csv(tasks), "text/csv; charset=utf-8")
        if fmt == "json":
            return json_reply(200, [t for t, _ in tasks])
        raise ValueError("format must be csv or json")

    def get_stats(self, params, doc):
        with self.sim.lock:
            return json_reply(200, self.sim.stats.as_dict())

    def clear_stats(self, params, doc):
        with self.sim.lock:
            self.sim.stats.clear()
        return json_reply(200, {"ok": True})

    def get_tokens(self, params, doc):
        """The secrets IAM handed out, for tests that check nobody shows them."""
        creds = self.sim.creds
        with self.sim.lock:
            issued = [{"token": t, "user": info["user"], "project": info["project"],
                       "expires_at": iam_stamp(info["expires"]), "revoked": t in creds.revoked}
                      for t, info in creds.issued.items()]
            static = sorted(creds.static_tokens)
        return json_reply(200, {"issued": issued, "static": static})

    def get_signatures(self, params, doc):
        with self.sim.lock:
            return json_reply(200, {"signatures": list(self.sim.creds.signatures)})


class Handler(BaseHTTPRequestHandler):
    """One connection: TLS handshake (on the HTTPS listener), then HTTP/1.1
    requests with keep-alive until the client or the idle timeout closes it."""

    protocol_version = "HTTP/1.1"
    server_version = "rds_sim/1.0"
    sys_version = ""
    disable_nagle_algorithm = True      # headers and body are separate writes

    def version_string(self):
        return self.server_version

    def setup(self):
        self.sim = self.server.sim
        self.listener = self.server.listener
        self.dead = False
        with self.sim.lock:
            self.sim.stats.conn_seq += 1
            self.conn_id = self.sim.stats.conn_seq
            self.sim.stats.connections[self.listener] += 1
            self.timeout = self.sim.config["idle_timeout"]
        if isinstance(self.request, ssl.SSLSocket):
            try:
                self.request.settimeout(10)
                self.request.do_handshake()
                with self.sim.lock:
                    self.sim.stats.tls_handshakes += 1
                    self.sim.stats.tls_resumed += bool(self.request.session_reused)
            except (ssl.SSLError, OSError):
                with self.sim.lock:
                    self.sim.stats.tls_failed += 1
                self.dead = True
        super().setup()

    def handle(self):
        if self.dead:
            self.close_connection = True
            return
        try:
            super().handle()
        except CLIENT_GONE:
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except CLIENT_GONE:
            pass

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        """The request body (Content-Length or chunked); raises ValueError."""
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(1024)
                if len(data) > MAX_REQUEST_BODY:
                    raise ValueError("request body too large")
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0 or n > MAX_REQUEST_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(n)

    def _dispatch(self):
        target = self.path
        raw_path = target.partition("?")[0]
        try:
            body = self._read_body()
        except ValueError as e:
            self.close_connection = True
            self._send(json_reply(400, {"error": "bad request body: %s" % e}), None)
            return
        if raw_path == "/_sim" or raw_path.startswith("/_sim/"):
            reply = self.server.control.handle(self.command, raw_path,
                                               target.partition("?")[2], body)
            self._send(reply, None)
            return
        self._api(target, body)

    def _api(self, target, body):
        sim = self.sim
        started = time.monotonic()
        req = IncomingRequest(self.command, target, self.headers, body, self.listener,
                              self.connection)
        with sim.lock:
            rec = sim.log.begin(listener=self.listener, conn_id=self.conn_id,
                                method=self.command, target=target, path=req.raw_path,
                                query=req.raw_query, params=printable_params(req.params),
                                user_agent=self.headers.get("User-Agent"))
            sim.stats.requests += 1
            sim.stats.in_flight += 1
            sim.stats.max_in_flight = max(sim.stats.max_in_flight, sim.stats.in_flight)
            latency = sim.config["latency_ms"]
        self._published = False
        self._started = started
        try:
            if latency and not sim.wait(latency / 1000, self.connection):
                reply = Reply(499, mode="gone")
            else:
                try:
                    reply = self.server.api.handle(req, rec)
                except Exception:
                    traceback.print_exc()
                    reply = json_reply(500, {"error_code": "DBS.108000",
                                             "error_msg": "Internal server error."})
            self._send(reply, rec)
        finally:
            self._publish(rec)
            rec["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
            with sim.lock:
                sim.log.finish(rec)

    def _publish(self, rec):
        """Once per API request, before the first byte of the answer (or the
        close): the record becomes visible and the request leaves in_flight."""
        if rec is None or self._published:
            return
        self._published = True
        rec["duration_ms"] = round((time.monotonic() - self._started) * 1000, 1)
        with self.sim.lock:
            self.sim.stats.in_flight = max(0, self.sim.stats.in_flight - 1)
            self.sim.log.publish(rec)

    def _send(self, reply, rec):
        """Write reply (per its mode); never raises on a vanished client.
        rec is the log record of an API request, None for control requests."""
        def note(**kw):
            if rec is not None:
                rec.update(kw)

        if reply.mode in ("drop", "gone"):
            note(status=reply.status)
            self._publish(rec)
            self.close_connection = True
            if reply.opts.get("rst"):
                # Linger 0 and no shutdown(): the last close sends a TCP RST.
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass
            return
        body = reply.body
        length = reply.length if reply.chunks is not None else len(body)
        sent = 0
        note(status=reply.status)
        self._publish(rec)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(length))
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                pass
            elif reply.mode == "truncate":
                self.close_connection = True
                part = body[:len(body) // 2] if reply.chunks is None else b""
                self.wfile.write(part)
                sent = len(part)
                note(bytes=sent)
                return
            elif reply.mode == "slow":
                step = max(1, int(reply.opts.get("chunk", 10)))
                interval = reply.opts.get("interval_ms", 500) / 1000
                for i in range(0, len(body), step):
                    if i and not self.sim.wait(interval, self.connection):
                        self.close_connection = True
                        note(bytes=sent)
                        return
                    self.wfile.write(body[i:i + step])
                    sent += len(body[i:i + step])
            elif reply.chunks is not None:
                for chunk in reply.chunks:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            else:
                self.wfile.write(body)
                sent = len(body)
            note(bytes=sent, complete=True)
        except CLIENT_GONE:
            self.close_connection = True
            note(bytes=sent)


# ---------------------------------------------------------------------------
# main: listeners, command line, signals
# ---------------------------------------------------------------------------

class Listener(ThreadingHTTPServer):
    """A threaded HTTP(S) listener; one daemon thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, sim, api, control, name, bind, port, ssl_ctx=None):
        self.sim = sim
        self.api = api
        self.control = control
        self.listener = name
        self.ssl_ctx = ssl_ctx
        if ":" in bind:
            self.address_family = socket.AF_INET6
        super().__init__((bind, port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn): skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_ctx is not None:
            # The handshake runs in the connection's thread (Handler.setup).
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)


def parse_base_time(value):
    if value == "now":
        return int(time.time())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise ValueError("base_time must be epoch seconds or 'now'")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Simulator of the OTC RDS task list API "
                                            "(see the header of this file).")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--https-port", type=int, help="needs --tls-cert and --tls-key")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--ready-file", help="written (atomically) once listening")
    p.add_argument("--project", action="append", help="repeatable")
    p.add_argument("--tasks", type=int, default=2000, help="tasks per project")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--id-length", type=int, default=32,
                   help="length of task ids, 32 (the API's) to %d" % MAX_ID_LENGTH)
    p.add_argument("--long-action", action="store_true",
                   help="name the most frequent action with a 45-byte name")
    p.add_argument("--lazy", action="store_true",
                   help="make tasks on demand from their position (for a million tasks)")
    p.add_argument("--base-time", default=str(DEFAULT_BASE_TIME),
                   help="epoch seconds or 'now'; tasks are created in the 30 days before")
    p.add_argument("--token", action="append", default=[], help="static token, repeatable")
    p.add_argument("--user", action="append", default=[], help="NAME:PASSWORD:DOMAIN")
    p.add_argument("--token-ttl", type=float, default=86400.0)
    p.add_argument("--token-length", type=int, default=180)
    p.add_argument("--aksk", action="append", default=[], help="AK:SK or AK:SK:SECURITYTOKEN")
    p.add_argument("--aksk-lockout", type=int, default=5,
                   help="consecutive signature failures that lock an AK for 5 minutes (0 = never)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--time-bounds", choices=("inclusive", "exclusive"), default="inclusive")
    p.add_argument("--page-order", choices=PAGE_ORDERS, default="newest")
    p.add_argument("--idle-timeout", type=float, default=120.0,
                   help="seconds an idle keep-alive connection is kept")
    p.add_argument("--log-file", help="append each request record as a JSON line")
    p.add_argument("--log-max", type=int, default=100000,
                   help="request records kept in memory for /_sim/log")
    p.add_argument("--verbose", action="store_true", help="print each request to stderr")
    args = p.parse_args(argv)
    if args.https_port is not None and not (args.tls_cert and args.tls_key):
        p.error("--https-port needs --tls-cert and --tls-key")
    try:
        args.base_time = parse_base_time(args.base_time)
    except ValueError as e:
        p.error(str(e))
    if args.tasks < 0:
        p.error("--tasks must be >= 0")
    if not 32 <= args.id_length <= MAX_ID_LENGTH:
        p.error("--id-length must be from 32 to %d" % MAX_ID_LENGTH)
    if args.log_max < 1:
        p.error("--log-max must be >= 1")
    users = {}
    for spec in args.user:
        name, sep1, rest = spec.partition(":")
        password, sep2, domain = rest.rpartition(":")
        if not (sep1 and sep2 and name and password and domain):
            p.error("--user wants NAME:PASSWORD:DOMAIN")
        users[name] = (password, domain)
    args.users = users
    aksk = {}
    for spec in args.aksk:
        parts = spec.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            p.error("--aksk wants AK:SK or AK:SK:SECURITYTOKEN")
        aksk[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else None)
    args.aksk_map = aksk
    return args


def write_ready_file(path, info):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(info, f)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    config = {"latency_ms": args.latency_ms, "token_ttl": args.token_ttl,
              "time_bounds": args.time_bounds, "token_length": args.token_length,
              "actions": "page", "page_order": args.page_order,
              "aksk_lockout": args.aksk_lockout, "clock_offset": 0,
              "idle_timeout": args.idle_timeout}
    for key, value in config.items():
        try:
            check_config(key, value)
        except ValueError as e:
            sys.exit("rds_sim: %s" % e)
    creds = Credentials(args.token, args.users, args.aksk_map)
    sim = Simulator(args.project or [DEFAULT_PROJECT], args.tasks, args.seed, args.base_time,
                    creds, config, RequestLog(args.log_file, args.verbose, args.log_max),
                    (args.id_length, args.long_action, args.lazy))
    api, control = ApiService(sim), ControlApi(sim)

    listeners = [Listener(sim, api, control, "http", args.bind, args.http_port)]
    if args.https_port is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        listeners.append(Listener(sim, api, control, "https", args.bind, args.https_port, ctx))
    threads = [threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                                name="rds_sim-" + srv.listener, daemon=True) for srv in listeners]
    for t in threads:
        t.start()

    stop = []           # a plain flag: a signal handler must not take locks
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.append(True))
    ports = {srv.listener: srv.server_address[1] for srv in listeners}
    info = {"pid": os.getpid(), "http": ports["http"], "https": ports.get("https")}
    if args.ready_file:
        write_ready_file(args.ready_file, info)
    print("rds_sim: listening on %s http=%s https=%s pid=%d"
          % (args.bind, info["http"], info["https"], info["pid"]), flush=True)

    while not stop:
        time.sleep(0.1)
    sim.stopping.set()
    for srv in listeners:
        srv.shutdown()
        srv.server_close()
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
