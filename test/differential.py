#!/usr/bin/python3
"""test/differential.py: differential test of rds_task_fdw against a local copy.

Generates random queries from a seed, runs each over the foreign tables (the
API simulator behind them) and over a plain local copy of the same data, and
compares the results.  The seed is printed first; a run is replayed exactly
with --seed S (and one query alone with --seed S --case N) as long as the
simulator serves the same data set.

Setup (test/run_differential.sh does it): a database holding
  rds_tasks, rds_task_actions   IMPORT FOREIGN SCHEMA otc from the server
  rds_tasks_pr                  a foreign table with project_id and region
  rds_tasks_typed               varchar/numeric/timestamp/date columns
  local_tasks                   COPY of /_sim/dataset?format=csv, in API order
  local_tasks_pr, local_tasks_typed   views over local_tasks with the same
                                columns as the two foreign tables
  rds_tasks_raw, local_tasks_raw   the base columns plus raw (jsonb) and rawj
                                (json); the local raw has the keys id, name,
                                instance_id, instance_name, status, instance_status
  diff_role, schema diffrole    (optional) a non-superuser role with USAGE on
                                an https server and its own user mapping, the
                                same foreign tables in schema diffrole
  DB_latin1                     (optional, --latin1-dbname) a LATIN1 database
                                set up alike; local_tasks is a view decoding
                                instance_name from its UTF-8 bytes
The connection comes from the PG* environment (libpq); --dbname overrides
the database.

Phases, by query number (fixed for a seed, so --case replays any query):
  main (the first 78 %)  all kinds below; 8 % of them (not "moving") as
                         diff_role (SET ROLE; identical results, errors of the
                         same SQLSTATE); "as diff_role N" in the summary
  LATIN1 (8 %)           kind "latin1": text and raw columns in the LATIN1
                         database; rows whose instance_name LATIN1 cannot hold
                         (数据库-生产-01) fail alike both ways (22P05) when the
                         name or raw is read, half the queries keep to
                         instances whose names it can hold (rds-münchen-01)
  long ids (4 %)         kind "longid": the simulator reset with id_length 48
                         and long_action (ids and an action name over 40 bytes),
                         parallel_requests 1 or 4, mostly with the list
                         moving during the scan (the shift fault)
  exclusive (last 10 %)  main kinds with the simulator's time bounds exclusive
The LATIN1 phase needs --latin1-dbname, the long-id phase, moving lists and
the exclusive phase need the simulator (RDS_SIM_HTTP); without them those
queries are skipped ("skipped N").

Page order: --page-order newest|oldest|random|hash (DIFF_PAGE_ORDER) sets the
simulator's page order for the run (kept over its resets, back to newest at
the end); with an order other than the local copy's, LIMIT without ORDER BY
is checked as a sub-multiset only.  Kind "latest" holds the time-window
search's shapes (ORDER BY create_time [DESC] [NULLS ...], t.id LIMIT/OFFSET,
max/min, with filters, joined to inventory); gen_prepared and gen_lateral
have their prepared and per-outer-row forms.

New kinds: "bounds" (bounds at and beyond the ends of time: infinity,
-infinity, 294276-12-31 23:59:59.999999+00, 294250-01-01, 4713 BC,
5874897-12-31, on create_time, end_time, ts, day, in every operator, as
constants or prepared-statement parameters; out-of-range ones are the same
error both ways) and "moving" (cache_ttl mostly, or parallel_requests: one
query run, then run again after the list moved between queries and/or
during the scan; after each FDW query the local copy is taken again from
/_sim/dataset, and at the end the simulator, the local copy and the FDW's
cache are reset, so each query stands alone).  After a move during the scan
(with cache_ttl: after any move) a query may also return the result of a
state between the snapshots, as the README promises (each request stream is
its own snapshot: a stream of an IN list that had ended before the move has
none of the new tasks): the local query, aggregates and ORDER BY ... LIMIT
included, is run over each such state (the new tasks grouped by the values
of the fields the conditions name, which is how streams are split; each
group with or without its newer tasks; a move that did not happen in its
scan is cleared, never left to happen under a later run) and one must give
the FDW's result exactly.

Rotation: each query, from its own random sequence of the seed (the queries
are the same without it), authenticates one of three ways (the tables of
schema public: server diff, auth_token; auth_pw: server diff_pw, IAM password
auth; auth_ak: server diff_ak, AK/SK signing; as diff_role always its token),
with the response cache on (cache_ttl 60 added to its table options) or off
(cache_ttl taken off them), as the first query of a new session (a new
connection set up like the first) or a later one; one in 16 (not as diff_role, not on a moving
list, not in the LATIN1 database) ANALYZEs its foreign table first (it must succeed, and a table of tasks
then has reltuples = the list's size); a difference prints its rotation
("rotation: auth password, cache on (cache_ttl 60), the first query of a new
session").  The cache is emptied at the start and whenever the
simulator's time bounds change.  --case N replays the query's rotation; one
that is not a new session's first gets one FDW query before it.

Comparison: as multisets; in order when the query's order is determined (ORDER
BY ending in the unique id); for LIMIT/OFFSET without ORDER BY, the row count
must equal the local one, the rows must be a sub-multiset of the local query
without LIMIT/OFFSET, and, where the FDW reads one request stream in the API's
order (no IN list, join or aggregate), the rows must be the same as the local
ones in the same order (the local copy is in the API's order).

Output: the seed, one block per difference (query, row counts, differing rows,
the FDW plan), and at the end one line
  differential: N queries, M differences, seed S
Exit status 0 without differences, 1 with, 2 when the setup is unusable.

Python 3 standard library and psycopg2 (Debian: python3-psycopg2).
"""

import argparse
import collections
import csv
import datetime
import io
import itertools
import json
import os
import random
import re
import sys
import time
import urllib.request

try:
    import psycopg2
except ImportError:         # pragma: no cover
    sys.stderr.write("differential.py needs psycopg2 (apt-get install python3-psycopg2; "
                     "run it with /usr/bin/python3)\n")
    sys.exit(2)


UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
TIMEZONES = ["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Pacific/Chatham"]
MAX_SHOWN = 5           # differing rows shown per side

# The two foreign-table variants besides rds_tasks, and their local twins.
VARIANTS = {
    "base": {"fdw": "rds_tasks", "local": "local_tasks", "time": "create_time",
             "cols": ["id", "name", "instance_id", "instance_name", "instance_status",
                      "order_id", "process", "fail_reason", "create_time", "end_time",
                      "status"]},
    "pr": {"fdw": "rds_tasks_pr", "local": "local_tasks_pr", "time": "create_time",
           "cols": ["id", "name", "instance_id", "status", "order_id", "process",
                    "fail_reason", "instance_status", "create_time", "end_time",
                    "project_id", "region"]},
    "typed": {"fdw": "rds_tasks_typed", "local": "local_tasks_typed", "time": "ts",
              "cols": ["id", "name", "instance_id", "instance_status", "status",
                       "order_id", "process", "fail_reason", "ts", "day", "end_time"]},
    # the base columns plus raw (jsonb) and rawj (json, the raw object too)
    "raw": {"fdw": "rds_tasks_raw", "local": "local_tasks_raw", "time": "create_time",
            "cols": ["id", "name", "instance_id", "instance_name", "instance_status",
                     "order_id", "process", "fail_reason", "create_time", "end_time",
                     "status"]},
}
# raw's keys the local twin has (always non-empty strings in the API's answer)
RAW_KEYS = ["id", "name", "instance_id", "instance_name", "status", "instance_status"]

# Bounds at and beyond the ends of time, per type (some are out of range for
# the type: an error both ways).
EXTREME = {
    "timestamptz": ["infinity", "-infinity", "294276-12-31 23:59:59.999999+00", "294250-01-01",
                    "4713-01-01 00:00+00 BC", "5874897-12-31", "294276-12-31 23:59:59.999999+05"],
    "timestamp": ["infinity", "-infinity", "294276-12-31 23:59:59.999999", "294250-01-01",
                  "4713-01-01 00:00 BC", "5874897-12-31", "294277-01-01"],
    "date": ["infinity", "-infinity", "5874897-12-31", "294276-12-31", "4713-01-01 BC",
             "294250-01-01", "4714-11-24 BC"],
}

# The long-id pass: the simulator's id_length and long_action reset options
# (ids and an action name longer than 40 bytes).
LONG_ID_LENGTH = 48
LONG_ACTION = "CreateBackupOfEveryDatabaseInTheWholeInstance"    # rds_sim.py's


def long_id(task_id, length):
    """test/rds_sim.py's long_id: the id the simulator serves with id_length."""
    return (task_id + "-" + task_id * 8)[:length]


def long_name(name):
    """The task name the simulator serves with long_action."""
    return LONG_ACTION if name == "CreateBackup" else name

SPECIAL_VALUES = ["nope", "Failed ", " Failed", "failed", "FAILED", "a b", "a+b",
                  "Nope&status=Failed", "x%20y", "%", "100%", "\u00fc-\u00df-\u20ac",
                  "o'brien", "Completed,Failed", "#frag", "id=1;", "back\\slash",
                  '"quoted"', "x" * 300, "Running\tx", "?offset=5"]

OPTION_SETS = [
    {"parallel_requests": "1"},
    {"parallel_requests": "1"},
    {"parallel_requests": "2"},
    {"parallel_requests": "1", "page_size": "20"},
    {"page_size": "33"},
    {"parallel_requests": "8", "page_size": "17"},
    {"cache_ttl": "60"},
]


# The rotation's ways to authenticate: the schema of the foreign tables
# (run_differential.sh: server diff with auth_token, diff_pw with IAM
# password auth, diff_ak with AK/SK signing; the same tables in each).
AUTHS = {"token": "", "password": "auth_pw.", "aksk": "auth_ak."}
ROTATION_CACHE_TTL = "60"


def rotate(rng, case, auths):
    """Sets the case's rotation from rng (its own random sequence, so the
    queries of a seed are the same with or without it): a way to
    authenticate of auths (a case as diff_role keeps its mapping's token),
    the response cache on or off (cache_ttl set or taken off the case's
    table options), a new session or the current one."""
    auth = rng.choice(sorted(auths))
    cache = rng.random() < 0.5
    fresh = rng.random() < 0.3
    analyze = rng.random() < 1 / 16
    case.auth = "token" if case.role else auth
    case.fresh = fresh
    # ANALYZE runs as the user (diff_role does not own the tables), on a list
    # that does not move, not in the LATIN1 database (a sampled name it
    # cannot hold fails it, as it fails a query reading the name)
    case.analyze = analyze and not case.role and case.steps is None and case.phase != "latin1"
    opts = dict(case.options or {})
    if cache:
        opts.setdefault("cache_ttl", ROTATION_CACHE_TTL)
    else:
        opts.pop("cache_ttl", None)
    case.options = opts or None
    case.cache = cache


def rotation_text(case):
    return "auth %s, cache %s, %s%s" % (
        case.auth + (" (diff_role's https server)" if case.role else ""),
        "on (cache_ttl %s)" % case.options["cache_ttl"] if case.cache else "off",
        "the first query of a new session" if case.fresh else "a later query of the session",
        ", ANALYZE of the table first" if case.analyze else "")


def lit(v):
    """A SQL literal for a Python value (None is NULL)."""
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def ts_of(us):
    """An aware UTC datetime of Unix microseconds (exact)."""
    return EPOCH + datetime.timedelta(microseconds=us)


class Data:
    """The values of the local copy that queries draw from."""

    def __init__(self, cur, project, region):
        cur.execute("SELECT id, name, instance_id, order_id, status, instance_status,"
                    " (extract(epoch FROM create_time) * 1000000)::bigint, instance_name"
                    " FROM local_tasks")
        rows = cur.fetchall()
        if not rows:
            raise RuntimeError("local_tasks is empty")
        self.n = len(rows)
        self.ids = [r[0] for r in rows]
        self.names = sorted({r[1] for r in rows if r[1]})
        self.instances = sorted({r[2] for r in rows if r[2]})
        self.orders = sorted({r[3] for r in rows if r[3]})
        self.statuses = sorted({r[4] for r in rows if r[4]})
        self.instance_statuses = sorted({r[5] for r in rows if r[5]})
        self.times = [r[6] for r in rows if r[6] is not None]
        self.min_time = min(self.times)
        self.max_time = max(self.times)
        self.project = project
        self.region = region
        # instances whose name a LATIN1 database can hold
        names = {r[2]: r[7] for r in rows if r[2]}
        self.latin1_instances = []
        self.other_instances = []       # names with characters LATIN1 has not
        for inst in self.instances:
            try:
                (names[inst] or "").encode("latin-1")
                self.latin1_instances.append(inst)
            except UnicodeEncodeError:
                self.other_instances.append(inst)
        self.by_field = {"id": self.ids, "name": self.names, "instance_id": self.instances,
                         "order_id": self.orders, "status": self.statuses}

    def lengthened(self):
        """The values of the long-id data set (same list, longer ids and names)."""
        import copy
        d = copy.copy(self)
        d.ids = [long_id(x, LONG_ID_LENGTH) for x in self.ids]
        d.names = [long_name(x) for x in self.names]
        d.by_field = dict(self.by_field, id=d.ids, name=d.names)
        return d


def and_clause(where):
    """' WHERE a AND b' -> ' AND a AND b' (subqueries inside keep their WHERE)."""
    return " AND " + where[len(" WHERE "):] if where else ""


class Case:
    """One generated query (or prepared statement with its executions)."""

    def __init__(self, kind, sql, mode="multiset", variant="base"):
        self.kind = kind
        self.sql = sql              # template: {T} is the table, {L} the limit clause
        self.mode = mode            # multiset | ordered | limit
        self.variant = variant
        self.limit_clause = ""      # for mode limit: " LIMIT n OFFSET m"
        self.strict = False         # mode limit: rows must equal the local ones in order
        self.prepared = None        # dict for prepared statements
        self.options = None         # table options set for this query only
        self.exclusive = False      # simulator time bounds exclusive
        self.role = False           # run as the non-superuser role (SET ROLE)
        self.actions = kind == "actions"    # on rds_task_actions
        self.steps = None           # moving list: [("between"|"during", skip, count), ...]
        self.phase = "main"         # main | latin1 | long (set by main())
        # the rotation (set by main(), from the seed): the way to authenticate
        # (the server and schema of AUTHS), the response cache, and whether
        # the query is the first of a new session
        self.auth = "token"
        self.cache = False
        self.fresh = False
        self.analyze = False        # ANALYZE the foreign table first

    def render(self, table, with_limit=True):
        sql = self.sql.replace("{T}", table)
        return sql.replace("{L}", self.limit_clause if with_limit else "")


class Generator:
    def __init__(self, rng, data):
        self.rng = rng
        self.d = data
        self.no_local_refs = False  # while generating a moving-list query

    # ----- values -----

    def choice(self, seq):
        return self.rng.choice(seq)

    def weighted(self, pairs):
        total = sum(w for w, _ in pairs)
        r = self.rng.random() * total
        for w, v in pairs:
            r -= w
            if r < 0:
                return v
        return pairs[-1][1]

    def value(self, field):
        """A value for an equality condition on field: mostly real ones."""
        rng = self.rng
        pool = self.d.by_field[field]
        r = rng.random()
        if r < 0.70:
            return self.choice(pool)
        if r < 0.78:
            if field in ("id", "order_id"):
                return "%032x" % rng.getrandbits(128)
            if field == "instance_id":
                return self.choice(pool)[:-2] + "zz"
            return "Nope" + str(rng.randint(0, 99))
        if r < 0.86:
            if rng.random() < 0.5:
                return self.trap(self.choice(pool))
            return self.choice(SPECIAL_VALUES)
        if r < 0.91:
            return ""
        if r < 0.95:
            return None
        v = self.choice(pool)
        return self.choice([v.upper(), v.lower(), v + " ", v[:-1], " " + v])

    def trap(self, v):
        """A value that becomes the real value v if the request is not encoded
        properly: a percent escape, a second parameter, a fragment, blanks."""
        i = self.rng.randrange(len(v))
        return self.choice([
            v[:i] + "%%%02X" % ord(v[i]) + v[i + 1:],
            v[:i] + "%%%02x" % ord(v[i]) + v[i + 1:],
            v + "&x=1", v + "#x", v + ";x", v + "%00", v + "\n", v + "\t", v + " ",
            v + "&offset=0", v + "\r\n", v + "\u00a0", v.replace("e", "%65", 1),
        ])

    def value_list(self, field, n):
        vals = [self.value(field) for _ in range(n)]
        if vals and self.rng.random() < 0.3:
            vals.append(self.choice(vals))              # a duplicate
        if self.rng.random() < 0.15:
            vals.append(None)
        if self.rng.random() < 0.1:
            vals.append("")
        self.rng.shuffle(vals)
        return vals

    def time_us(self):
        """Unix microseconds near real create_time values."""
        rng = self.rng
        base = self.weighted([(80, None), (5, self.d.min_time), (5, self.d.max_time),
                              (3, self.d.min_time - 86400 * 10 ** 6),
                              (3, self.d.max_time + 86400 * 10 ** 6), (2, 0),
                              (2, 946684800 * 10 ** 6)])
        if base is None:
            base = self.choice(self.d.times)
        delta = self.choice([0, 0, 0, 0, 1000, -1000, 1, -1, 10 ** 6, -10 ** 6,
                             500000, -999, 1001, 3600 * 10 ** 6, -86400 * 10 ** 6 * 2,
                             rng.randint(-10 ** 11, 10 ** 11)])
        return base + delta

    def tstz_literal(self, us):
        zone = self.choice([UTC, UTC, datetime.timezone(datetime.timedelta(hours=-8)),
                            datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
                            datetime.timezone(datetime.timedelta(hours=12, minutes=45)),
                            datetime.timezone(datetime.timedelta(hours=-3, minutes=-30))])
        return ts_of(us).astimezone(zone).isoformat(sep=" ")

    def tstz_expr(self, us):
        """An expression for the instant us: constant, stable, or odd."""
        form = self.weighted([(45, "lit"), (15, "cast"), (15, "interval"), (8, "now"),
                              (6, "to_timestamp"), (4, "local"), (3, "inf"), (4, "initplan"),
                              (4, "date"), (4, "timestamp"), (3, "fmt")])
        if form == "lit":
            return lit(self.tstz_literal(us))
        if form == "cast":
            return lit(self.tstz_literal(us)) + "::timestamptz"
        if form == "interval":
            d = self.choice([1, 1000, 10 ** 6, 3600 * 10 ** 6, -1, -1000])
            return "(%s::timestamptz + interval '%d microseconds')" % (
                lit(self.tstz_literal(us - d)), d)
        if form == "now":
            return "(now() - (now() - %s::timestamptz))" % lit(self.tstz_literal(us))
        if form == "to_timestamp":
            return "to_timestamp(%d.%06d)" % divmod(us, 10 ** 6)
        if form == "local":
            # a literal without zone: read in the session's TimeZone
            return lit(ts_of(us).replace(tzinfo=None).isoformat(sep=" ")) + "::timestamp::timestamptz"
        if form == "initplan":
            return "(SELECT %s::timestamptz)" % lit(self.tstz_literal(us))
        # the bounds BI tools send: a date, a timestamp (both read in the
        # session's TimeZone by the comparison), to_timestamp(text, format)
        if form == "date":
            return "CAST(%s AS date)" % lit(ts_of(us).date().isoformat())
        if form == "timestamp":
            return "TIMESTAMP " + lit(ts_of(us).replace(tzinfo=None).isoformat(sep=" "))
        if form == "fmt":
            return "TO_TIMESTAMP(%s, 'YYYY-MM-DD HH24:MI:SS.US')" % lit(
                ts_of(us).strftime("%Y-%m-%d %H:%M:%S.%f"))
        return self.choice(["'infinity'::timestamptz", "'-infinity'::timestamptz"])

    def ts_expr(self, us):
        """A timestamp (UTC wall clock) expression for the typed table."""
        s = ts_of(us).replace(tzinfo=None).isoformat(sep=" ")
        form = self.weighted([(60, "lit"), (20, "cast"), (10, "interval"), (10, "tz")])
        if form == "lit":
            return lit(s)
        if form == "cast":
            return lit(s) + "::timestamp"
        if form == "interval":
            return "(%s::timestamp + interval '1 millisecond')" % lit(
                ts_of(us - 1000).replace(tzinfo=None).isoformat(sep=" "))
        return lit(self.tstz_literal(us)) + "::timestamptz"    # cross-type: not pushed

    # ----- conditions -----
    # Each returns (sql, fanout): fanout is true when the condition may make
    # the FDW read several request streams (IN lists, joins hidden in
    # subqueries), which leaves the order of unordered rows open.

    def eq_cond(self, v):
        field = self.weighted([(25, "status"), (20, "instance_id"), (15, "id"),
                               (15, "name"), (10, "order_id")])
        col = "t." + field
        val = self.value(field)
        rng = self.rng
        if val is None:
            e = self.choice(["NULL::text", "NULL"])
        else:
            e = lit(val)
            if rng.random() < 0.15:
                e += self.choice(["::text", "::varchar", "::varchar(80)", "::name::text"])
        if rng.random() < 0.05 and val is not None:
            e = "%s COLLATE \"C\"" % e
        if rng.random() < 0.05 and field == "status":
            e = "current_setting('diff.status')"
        if rng.random() < 0.04:
            e = "(SELECT %s::text)" % lit(val)
        if rng.random() < 0.2:
            return "%s = %s" % (e, col), False
        return "%s = %s" % (col, e), False

    def in_cond(self, v):
        field = self.weighted([(30, "status"), (25, "instance_id"), (20, "id"),
                               (15, "name"), (10, "order_id")])
        col = "t." + field
        rng = self.rng
        form = self.weighted([(45, "in"), (30, "array"), (10, "literal"), (7, "big"),
                              (4, "empty"), (4, "subarray")])
        if form == "subarray" and self.no_local_refs:
            form = "in"         # the local copy changes under a moving list
        if form == "big":
            # more values than the FDW's fan-out cap: matched locally instead
            pool = self.d.by_field[field]
            vals = rng.sample(pool, min(len(pool), rng.randint(60, 160)))
            if field == "status":
                vals = list(pool) + ["x%d" % i for i in range(rng.randint(98, 140))]
            return "%s IN (%s)" % (col, ", ".join(lit(x) for x in vals)), True
        if form == "empty":
            return "%s = ANY ('{}'::text[])" % col, False
        if form == "subarray":
            return ("%s = ANY (ARRAY(SELECT l.%s FROM local_tasks l WHERE l.%s IS NOT NULL"
                    " ORDER BY l.id LIMIT %d OFFSET %d))" % (col, field, field,
                                                              rng.randint(0, 6), rng.randint(0, 2000))), True
        vals = self.value_list(field, rng.randint(1, 6))
        if form == "in":
            return "%s IN (%s)" % (col, ", ".join(lit(x) for x in vals)), True
        if form == "array":
            return "%s = ANY (ARRAY[%s]::%s[])" % (col, ", ".join(lit(x) for x in vals),
                                                  self.choice(["text", "text", "varchar"])), True
        # an array literal: only values without characters special in it
        vals = [x for x in vals if x is None or (x and all(c.isalnum() or c in "-_" for c in x))]
        body = ",".join("NULL" if x is None else '"%s"' % x for x in vals)
        return "%s = ANY (%s::text[])" % (col, lit("{" + body + "}")), True

    def time_cond(self, v):
        rng = self.rng
        if v == "typed":
            if rng.random() < 0.25:
                day = ts_of(self.time_us()).date().isoformat()
                op = self.choice(["=", ">=", "<", "<=", ">"])
                if rng.random() < 0.3:
                    day2 = ts_of(self.time_us()).date().isoformat()
                    return "t.day BETWEEN %s AND %s" % (lit(day), lit(day2)), False
                return "t.day %s %s" % (op, lit(day) + self.choice(["", "::date"])), False
            col, expr = "t.ts", self.ts_expr
        else:
            col, expr = "t.create_time", self.tstz_expr
        op = self.choice([">", ">=", "<", "<=", "=", "BETWEEN", "BETWEEN", "commuted"])
        us = self.time_us()
        if op == "BETWEEN":
            us2 = us + self.choice([0, 1, 1000, 10 ** 6, 3600 * 10 ** 6, 86400 * 10 ** 6 * 3,
                                    -1000, -10 ** 6])
            sym = " SYMMETRIC" if rng.random() < 0.1 else ""
            neg = "NOT " if rng.random() < 0.05 else ""
            return "%s %sBETWEEN%s %s AND %s" % (col, neg, sym, expr(us), expr(us2)), False
        if op == "commuted":
            return "%s %s %s" % (expr(us), self.choice(["<", "<=", ">", ">=", "="]), col), False
        if op == "=" and rng.random() < 0.6:
            us = self.choice(self.d.times)      # hit a real instant
        return "%s %s %s" % (col, op, expr(us)), False

    def window_conds(self, v):
        """Several bounds combined: a window around a real instant."""
        us = self.choice(self.d.times)
        conds = []
        for _ in range(self.rng.randint(2, 4)):
            lower = self.rng.random() < 0.5
            d = self.choice([0, 0, 1, 1000, 10 ** 6, 3600 * 10 ** 6, 86400 * 10 ** 6])
            if v == "typed":
                col, e = "t.ts", self.ts_expr(us - d if lower else us + d)
            else:
                col, e = "t.create_time", self.tstz_expr(us - d if lower else us + d)
            op = self.choice([">", ">="] if lower else ["<", "<="])
            conds.append("%s %s %s" % (col, op, e))
        return conds

    def col(self, v, name):
        if v == "typed" and name == "create_time":
            return "t.ts"
        return "t." + name

    def nonpush_cond(self, v):
        rng = self.rng
        ct = self.col(v, "create_time")
        opts = [
            lambda: "t.process > %d" % rng.randint(0, 100),
            lambda: "t.process <= %d" % rng.randint(0, 100),
            lambda: "t.process IS NULL",
            lambda: "lower(t.name) = %s" % lit(self.choice(self.d.names).lower()),
            lambda: "t.status <> %s" % lit(self.choice(self.d.statuses)),
            lambda: "t.instance_status LIKE '% %'",
            lambda: "t.instance_status = %s" % lit(self.choice(self.d.instance_statuses)),
            lambda: "t.fail_reason IS NULL",
            lambda: "t.fail_reason IS NOT NULL",
            lambda: "t.order_id IS NULL",
            lambda: "t.end_time IS NULL",
            lambda: "t.end_time > %s + interval '%d minutes'" % (ct, rng.randint(1, 120)),
            lambda: "t.name LIKE %s" % lit(self.choice(["Create%", "%Backup%", "Modify%", "%"])),
            lambda: "t.id LIKE %s" % lit(self.choice("0123456789abcdef") + "%"),
            lambda: "upper(t.status) = 'FAILED'",
            lambda: "t.status <> ALL (ARRAY['Completed', 'Running'])",
            lambda: "t.status IS NOT DISTINCT FROM %s" % lit(self.choice(self.d.statuses)),
            lambda: "NOT (t.status = %s)" % lit(self.choice(self.d.statuses)),
            lambda: "t.id = t.instance_id",
            lambda: "t.instance_id = ((random() * 0)::int)::text",
            lambda: "t.status = 'failed' COLLATE diff_nocase",
            lambda: "t.name = %s COLLATE diff_nocase" % lit(self.choice(self.d.names).upper()),
            lambda: "%s::date = %s" % (ct, lit(ts_of(self.choice(self.d.times)).date().isoformat())),
            lambda: "length(t.order_id) = 32",
            lambda: "t.instance_id IS NOT NULL",
            lambda: "t.status IN (SELECT 'Failed' UNION ALL SELECT 'Running')",
        ]
        c = opts[rng.randrange(len(opts))]()
        return c, "(SELECT" in c      # a semi-join: several streams

    def or_cond(self, v):
        parts = []
        fan = False
        for _ in range(self.rng.randint(2, 3)):
            kind = self.weighted([(40, "eq"), (20, "in"), (20, "time"), (20, "np")])
            c, f = self.one_cond(v, kind)
            parts.append(c)
            fan = fan or f
        return "(" + " OR ".join(parts) + ")", fan

    def pr_cond(self, v):
        good = [self.d.project, self.d.region]
        col = self.choice(["t.project_id", "t.region"])
        right = self.d.project if col == "t.project_id" else self.d.region
        form = self.weighted([(50, "eq"), (20, "other"), (20, "in"), (10, "null")])
        if form == "eq":
            return "%s = %s" % (col, lit(right)), False
        if form == "other":
            return "%s = %s" % (col, lit(self.choice(["fedcba9876543210fedcba9876543210",
                                                      "eu-nl", "", right.upper()]))), False
        if form == "in":
            vals = [right, "other", self.choice(good)]
            self.rng.shuffle(vals)
            return "%s IN (%s)" % (col, ", ".join(lit(x) for x in vals)), False
        return "%s IS NULL" % col, False

    def one_cond(self, v, kind):
        if kind == "eq":
            return self.eq_cond(v)
        if kind == "in":
            return self.in_cond(v)
        if kind == "time":
            return self.time_cond(v)
        if kind == "np":
            return self.nonpush_cond(v)
        if kind == "or":
            return self.or_cond(v)
        if kind == "pr":
            return self.pr_cond(v)
        if kind == "raw":
            k = self.choice(RAW_KEYS)
            pool = {"instance_name": ["rds-m\u00fcnchen-01", "rds-prod-orders", "x"],
                    "instance_status": ["ACTIVE", "BUILD"]}.get(k) or self.d.by_field[k]
            return self.choice([
                "t.raw->>'%s' = %s" % (k, lit(self.choice(pool))),
                "t.rawj->>'%s' = %s" % (k, lit(self.choice(pool))),
                "t.raw @> %s" % lit(json.dumps({k: self.choice(pool)})),
                "t.raw ? %s" % lit(self.choice(RAW_KEYS + ["nope"])),
                "t.raw->>'%s' LIKE %s" % (k, lit(self.choice(["%\u00fc%", "%-01", "rds%"]))),
            ]), False
        if kind == "pseudo":
            # no column of the table: a gating condition, checked once
            return self.choice([
                "now() > '2000-01-01'", "now() < '2000-01-01'",
                "current_setting('diff.status') = %s" % lit(self.choice(self.d.statuses)),
                "current_user <> 'nobody'", "current_user = 'nobody'",
                "(SELECT 1) = %d" % self.rng.randint(1, 2),
                "pg_backend_pid() > 0",
            ]), False
        if kind == "semi":
            return self.choice([
                "t.instance_id IN (SELECT instance_id FROM inventory)",
                "EXISTS (SELECT 1 FROM inventory i2 WHERE i2.instance_id = t.instance_id)",
                "t.order_id IN (SELECT order_id FROM orders)",
                "NOT EXISTS (SELECT 1 FROM big_inventory b2 WHERE b2.instance_id = t.instance_id"
                " AND b2.owner = 'x')",
            ]), True
        raise ValueError(kind)

    def where(self, v, lo=0, hi=4, allow_semi=True):
        """A WHERE clause ('' or ' WHERE ...') and whether it may fan out."""
        rng = self.rng
        conds = []
        fan = False
        n = min(max(lo, self.weighted([(20, 0), (38, 1), (27, 2), (10, 3), (5, 4)])), hi)
        for _ in range(n):
            pairs = [(30, "eq"), (15, "in"), (22, "time"), (20, "np"), (6, "or"), (3, "pseudo")]
            if v == "pr":
                pairs.append((20, "pr"))
            if v == "raw":
                pairs.append((15, "raw"))
            if allow_semi and v == "base":
                pairs.append((3, "semi"))
            c, f = self.one_cond(v, self.weighted(pairs))
            conds.append(c)
            fan = fan or f
        if rng.random() < 0.08:
            conds.extend(self.window_conds(v))
        if not conds:
            return "", fan
        return " WHERE " + " AND ".join(conds), fan

    # ----- shapes -----

    def raw_select(self):
        exprs = []
        for _ in range(self.rng.randint(1, 3)):
            k = self.choice(RAW_KEYS)
            exprs.append(self.choice(["t.raw->>'%s'", "t.rawj->>'%s'", "t.raw->'%s'",
                                      "(t.rawj->'%s')::text", "t.raw->>'%s'",
                                      "(t.raw->>'%s') IS NOT NULL"]) % k)
        if self.rng.random() < 0.5:
            exprs.insert(0, self.choice(["t.id", "t.instance_name", "t.name"]))
        return ", ".join(exprs)

    def select_list(self, v):
        if v == "raw":
            return self.raw_select()
        cols = VARIANTS[v]["cols"]
        r = self.rng.random()
        if r < 0.2:
            return "t.*"
        if r < 0.3:
            return "t.id, upper(t.status) AS s, t.process + 1 AS p"
        k = self.rng.randint(1, min(5, len(cols)))
        picked = self.rng.sample(cols, k)
        if "id" not in picked and self.rng.random() < 0.5:
            picked.insert(0, "id")
        return ", ".join("t." + c for c in picked)

    def variant(self):
        return self.weighted([(66, "base"), (14, "pr"), (14, "typed"), (6, "raw")])

    def gen_select(self):
        v = self.variant()
        where, _ = self.where(v)
        sel = self.select_list(v)
        distinct = "DISTINCT " if self.rng.random() < 0.05 else ""
        return Case("select", "SELECT %s%s FROM {T} t%s" % (distinct, sel, where), variant=v)

    def limit_clause(self):
        rng = self.rng
        n = self.d.n
        limit = self.choice([0, 1, 1, 5, 10, 49, 50, 51, 120, rng.randint(1, 300), n + 500, None])
        offset = self.choice([None, None, 0, 1, 50, 99, rng.randint(0, n), n - 1, n, n + 100, 5000])
        if limit is None and offset is None:
            limit = 7
        clause = ""
        if rng.random() < 0.5:
            if limit is not None:
                clause += " LIMIT %d" % limit
            if offset is not None:
                clause += " OFFSET %d" % offset
        else:
            if offset is not None:
                clause += " OFFSET %d" % offset
            if limit is not None:
                clause += " LIMIT %d" % limit
        if rng.random() < 0.08:
            return self.choice([" LIMIT ALL", " LIMIT NULL", " OFFSET NULL LIMIT 3",
                                " LIMIT ALL OFFSET %d" % (n - 3), " LIMIT (SELECT 4)",
                                " OFFSET (SELECT 2) LIMIT 2", " LIMIT 2 + 1 OFFSET 10 * 10"])
        if rng.random() < 0.08 and limit is not None:
            clause = clause.replace("LIMIT %d" % limit, "FETCH FIRST %d ROWS ONLY" % limit)
            if "OFFSET" in clause and clause.index("OFFSET") > clause.index("FETCH"):
                clause = " OFFSET %d FETCH FIRST %d ROWS ONLY" % (offset, limit)
        return clause

    def gen_limit(self):
        """LIMIT/OFFSET without ORDER BY: the API's order."""
        v = self.variant()
        where, fan = self.where(v, 0, 2, allow_semi=False)
        sel = self.select_list(v)
        distinct = self.rng.random() < 0.05
        c = Case("limit", "SELECT %s%s FROM {T} t%s{L}" % ("DISTINCT " if distinct else "", sel,
                                                          where), mode="limit", variant=v)
        c.limit_clause = self.limit_clause()
        c.strict = not fan and not distinct
        return c

    def gen_ordered(self):
        v = self.variant()
        where, _ = self.where(v, 0, 3)
        sel = self.select_list(v)
        ct = self.col(v, "create_time")
        order = self.choice(["t.id", "t.id DESC", "%s DESC, t.id" % ct, "%s, t.id DESC" % ct,
                             "t.status, t.id", "t.process NULLS FIRST, t.id",
                             "t.name DESC, %s, t.id" % ct])
        c = Case("ordered", "SELECT %s FROM {T} t%s ORDER BY %s%s" % (
            sel, where, order, self.limit_clause() if self.rng.random() < 0.8 else ""),
            mode="ordered", variant=v)
        return c

    def gen_aggregate(self):
        v = self.variant()
        where, _ = self.where(v, 0, 3)
        ct = self.col(v, "create_time")
        form = self.choice([
            "SELECT count(*) FROM {T} t%s",
            "SELECT count(*) FROM {T} t%s",
            "SELECT count(*), count(*) + 1 FROM {T} t%s",
            "SELECT count(t.fail_reason) FROM {T} t%s",
            "SELECT count(*), count(t.order_id), count(t.process) FROM {T} t%s",
            "SELECT t.status, count(*) FROM {T} t%s GROUP BY t.status",
            "SELECT t.name, count(*) FROM {T} t%s GROUP BY t.name HAVING count(*) > 10",
            "SELECT t.name, count(*) FROM {T} t%s GROUP BY t.name",
            "SELECT count(*), t.status FROM {T} t%s GROUP BY 2",
            "SELECT date_trunc('day', " + ct + ") d, count(*) FROM {T} t%s GROUP BY 1",
            "SELECT date_trunc('hour', " + ct + ") d, count(*) FROM {T} t%s GROUP BY 1",
            "SELECT date_trunc('day', " + ct + (", 'Europe/Berlin'" if ct == "t.create_time" else "")
            + ") d, count(*) FROM {T} t%s GROUP BY 1 HAVING count(*) > 1",
            # the bucket keys BI tools write (bucket.c)
            "SELECT date_trunc('" + self.choice(["minute", "HOUR", "week", "Month", "quarter", "year"])
            + "', " + ct + ") d, count(*) FROM {T} t%s GROUP BY 1",
            "SELECT date_trunc('day', " + ct + "::timestamp) d, count(*) FROM {T} t%s GROUP BY 1",
            "SELECT date_trunc('hour', " + ct + " AT TIME ZONE 'America/New_York') d, count(*)"
            " FROM {T} t%s GROUP BY 1",
            "SELECT " + ct + "::date d, count(*) FROM {T} t%s GROUP BY 1 ORDER BY 2 DESC",
            "SELECT floor(extract(epoch from " + ct + ")/" + self.choice(["60", "3600", "86400", "7200"])
            + ")*" + "60 AS \"time\", count(*) FROM {T} t%s GROUP BY 1",
            "SELECT to_timestamp(floor(extract(epoch from " + ct + ")/900)*900) AS \"time\", count(*)"
            " FROM {T} t%s GROUP BY 1",
            "SELECT date_trunc('week', " + ct + " + interval '1 day') - interval '1 day' w, count(*)"
            " FROM {T} t%s GROUP BY 1",
            "SELECT d, count(*) FROM (SELECT date_trunc('day', " + ct + ") d FROM {T} t%s) s GROUP BY d",
            # two keys, and counts of one status (the stacked and the single-stat panels)
            "SELECT date_trunc('day', " + ct + ") d, t.status, count(*) FROM {T} t%s GROUP BY 1, 2",
            "SELECT t.name, date_trunc('week', " + ct + ") w, count(*) FROM {T} t%s GROUP BY 1, 2",
            "SELECT count(*) FILTER (WHERE t.status = 'Failed'), count(*),"
            " sum(CASE WHEN t.status = 'Running' THEN 1 ELSE 0 END) FROM {T} t%s",
            "SELECT date_trunc('day', " + ct + ") d, count(CASE WHEN t.status = 'Failed' THEN 1 END),"
            " sum(CASE WHEN t.status = 'Completed' THEN 1 END) FROM {T} t%s GROUP BY 1",
            "SELECT count(DISTINCT t.instance_id), min(" + ct + "), max(" + ct + ") FROM {T} t%s",
            "SELECT count(*) FILTER (WHERE t.process > 50) FROM {T} t%s",
            "SELECT count(*) FROM {T} t%s HAVING count(*) > 0",
            "SELECT count(*) FROM (SELECT 1 FROM {T} t%s{L}) s",
            "SELECT count(*), sum(t.process) FROM {T} t%s",
            "SELECT t.id, count(*) OVER (PARTITION BY t.status) FROM {T} t%s",
        ])
        c = Case("aggregate", form % where, variant=v)
        if "{L}" in form:
            c.limit_clause = self.limit_clause()    # a count is order-independent
        return c

    def gen_join(self):
        rng = self.rng
        where, _ = self.where("base", 0, 2, allow_semi=False)
        w2 = and_clause(where)
        form = self.choice(["small", "small", "big", "left", "values", "orders", "self",
                            "names", "semi", "exists", "anti", "right", "instances",
                            "instances", "self2"])
        if form == "small":
            sql = ("SELECT i.owner, t.id, t.status FROM inventory i JOIN {T} t"
                   " ON t.instance_id = i.instance_id" + where)
        elif form == "big":
            sql = ("SELECT i.owner, t.id, t.create_time FROM big_inventory i JOIN {T} t"
                   " ON t.instance_id = i.instance_id" + where)
        elif form == "left":
            c, _ = self.one_cond("base", self.choice(["eq", "time", "np"]))
            sql = ("SELECT i.instance_id, t.id, t.status FROM inventory i LEFT JOIN {T} t"
                   " ON t.instance_id = i.instance_id AND " + c)
        elif form == "right":
            sql = ("SELECT i.owner, t.id FROM inventory i RIGHT JOIN {T} t"
                   " ON t.instance_id = i.instance_id" + where)
        elif form == "values":
            keys = self.value_list("id", rng.randint(1, 5))
            vals = ", ".join("(%s::text)" % lit(k) for k in keys)
            sql = ("SELECT v.k, t.id, t.name FROM (VALUES %s) v(k) JOIN {T} t ON t.id = v.k%s"
                   % (vals, where))
        elif form == "instances":
            # repeated outer values: each rescan must return the rows again
            keys = self.value_list("instance_id", rng.randint(1, 4))
            vals = ", ".join("(%d, %s::text)" % (n, lit(k)) for n, k in enumerate(keys))
            sql = ("SELECT v.n, t.id, t.status FROM (VALUES %s) v(n, k) JOIN {T} t"
                   " ON t.instance_id = v.k%s" % (vals, where))
        elif form == "orders":
            sql = ("SELECT o.order_id, t.id, t.status FROM orders o JOIN {T} t"
                   " ON t.order_id = o.order_id" + where)
        elif form == "self":
            a = self.choice(self.d.ids)
            sql = ("SELECT a.id, t.id, t.status FROM {T} a JOIN {T} t"
                   " ON t.instance_id = a.instance_id WHERE a.id = %s%s" % (lit(a), w2))
        elif form == "self2":
            # an outer foreign scan paused while the inner one runs, per row
            inst = self.choice(self.d.instances)
            key = self.choice(["id", "id", "order_id", "name"])
            sql = ("SELECT a.id, t.id, t.status FROM {T} a JOIN {T} t ON t.%s = a.%s"
                   " WHERE a.instance_id = %s%s" % (key, key, lit(inst), w2))
            if key == "name":
                sql += " AND t.instance_id = a.instance_id"
        elif form == "names":
            names = self.value_list("name", rng.randint(1, 3))
            vals = ", ".join("(%s::text)" % lit(n) for n in names)
            sql = ("SELECT n.k, count(*) FROM (VALUES %s) n(k) JOIN {T} t ON t.name = n.k%s"
                   " GROUP BY n.k" % (vals, where))
        elif form == "semi":
            sql = ("SELECT t.id, t.instance_id FROM {T} t WHERE t.instance_id IN"
                   " (SELECT instance_id FROM inventory)" + w2)
        elif form == "exists":
            sql = ("SELECT t.id FROM {T} t WHERE EXISTS (SELECT 1 FROM inventory i"
                   " WHERE i.instance_id = t.instance_id)" + w2)
        else:
            sql = ("SELECT i.instance_id FROM inventory i WHERE NOT EXISTS (SELECT 1 FROM {T} t"
                   " WHERE t.instance_id = i.instance_id%s)" % w2)
        return Case("join", sql)

    def gen_lateral(self):
        where, _ = self.where("base", 0, 2, allow_semi=False)
        w2 = and_clause(where)
        inv = "big_inventory" if self.rng.random() < 0.2 else "inventory"
        form = self.choice(["count", "top", "left", "scalar", "scalar_limit"])
        if form == "count":
            sql = ("SELECT i.owner, x.n FROM %s i, LATERAL (SELECT count(*) AS n FROM {T} t"
                   " WHERE t.instance_id = i.instance_id%s) x" % (inv, w2))
        elif form == "top":
            sql = ("SELECT i.instance_id, x.id, x.create_time FROM %s i, LATERAL (SELECT t.id,"
                   " t.create_time FROM {T} t WHERE t.instance_id = i.instance_id%s"
                   " ORDER BY t.create_time DESC, t.id LIMIT %d) x" % (inv, w2,
                                                                     self.rng.randint(0, 4)))
        elif form == "left":
            sql = ("SELECT i.instance_id, x.id FROM %s i LEFT JOIN LATERAL (SELECT t.id FROM {T} t"
                   " WHERE t.instance_id = i.instance_id%s) x ON true" % (inv, w2))
        elif form == "scalar":
            sql = ("SELECT i.instance_id, (SELECT count(*) FROM {T} t WHERE"
                   " t.instance_id = i.instance_id%s) FROM %s i" % (w2, inv))
        else:
            sql = ("SELECT i.instance_id, (SELECT count(*) FROM (SELECT 1 FROM {T} t WHERE"
                   " t.instance_id = i.instance_id%s LIMIT %d) s) FROM %s i"
                   % (w2, self.rng.randint(0, 30), inv))
        return Case("lateral", sql)

    def gen_latest(self):
        """The time-window search's shapes: ORDER BY create_time [DESC]
        LIMIT/OFFSET (ties broken by id, so that the order is determined;
        LIMITs end inside tied seconds often enough), max/min, with other
        filters, in a join, NULLS FIRST/LAST."""
        rng = self.rng
        v = self.weighted([(75, "base"), (25, "typed")])
        where, _ = self.where(v, 0, 2)
        ct = self.col(v, "create_time")
        form = self.weighted([(50, "order"), (20, "minmax"), (15, "join"), (15, "nulls")])
        n = self.choice([1, 1, 3, 10, 10, 20, 49, 50, 51, 120, rng.randint(1, 400)])
        offset = self.choice(["", "", "", " OFFSET 1", " OFFSET 45", " OFFSET %d" % rng.randint(0, 300)])
        desc = self.choice([" DESC", " DESC", ""])
        if form == "minmax":
            agg = self.choice(["max(%s)" % ct, "min(%s)" % ct,
                               "max(%s), min(%s)" % (ct, ct), "max(%s), count(*)" % ct])
            return Case("latest", "SELECT %s FROM {T} t%s" % (agg, where), variant=v)
        if form == "join":
            w2 = and_clause(where)
            return Case("latest", "SELECT i.owner, t.id, %s FROM inventory i JOIN {T} t ON"
                        " t.instance_id = i.instance_id%s ORDER BY %s%s, t.id LIMIT %d%s"
                        % (ct, w2, ct, desc, n, offset), mode="ordered", variant=v)
        nulls = ""
        if form == "nulls":
            nulls = self.choice([" NULLS FIRST", " NULLS LAST"])
        return Case("latest", "SELECT t.id, %s FROM {T} t%s ORDER BY %s%s%s, t.id LIMIT %d%s"
                    % (ct, where, ct, desc, nulls, n, offset), mode="ordered", variant=v)

    def gen_union(self):
        w1, _ = self.where("base", 1, 3, allow_semi=False)
        w2, _ = self.where("base", 1, 3, allow_semi=False)
        form = self.choice(["all", "distinct", "limits"])
        if form == "all":
            sql = "SELECT t.id, t.status FROM {T} t%s UNION ALL SELECT t.id, t.status FROM {T} t%s"
        elif form == "distinct":
            sql = "SELECT t.instance_id FROM {T} t%s UNION SELECT t.instance_id FROM {T} t%s"
        else:
            # each branch's LIMIT may be pushed; the count does not depend on the order
            sql = ("SELECT count(*) FROM ((SELECT t.id FROM {T} t%%s LIMIT %d) UNION ALL"
                   " (SELECT t.id FROM {T} t%%s OFFSET %d LIMIT %d)) u"
                   % (self.rng.randint(0, 60), self.rng.randint(0, 100), self.rng.randint(0, 60)))
        return Case("union", sql % (w1, w2))

    def gen_interleave(self):
        """Two scans open at once: cursors fetched alternately in one transaction."""
        c = self.gen_select()
        c2 = self.gen_select() if self.rng.random() < 0.8 else self.gen_ordered()
        c.kind = "interleave"
        c.second = c2
        c.chunks = [self.rng.randint(1, 60) for _ in range(16)]
        return c

    def gen_actions(self):
        rng = self.rng
        form = self.choice(["all", "eq", "in", "count", "local", "limit"])
        if form == "all":
            return Case("actions", "SELECT name FROM {T}",)
        if form == "count":
            return Case("actions", "SELECT count(*) FROM {T} WHERE name <> %s" % lit(
                self.choice(self.d.names)) if rng.random() < 0.5 else "SELECT count(*) FROM {T}")
        if form == "local":
            return Case("actions", "SELECT name FROM {T} WHERE lower(name) LIKE %s" % lit(
                self.choice(["create%", "%instance%", "%e%", "x%"])))
        if form == "limit":
            c = Case("actions", "SELECT name FROM {T}{L}", mode="limit")
            c.limit_clause = " LIMIT %d" % rng.randint(0, 20)
            return c
        if form == "eq":
            return Case("actions", "SELECT name FROM {T} WHERE name = %s" % lit(self.value("name")))
        vals = self.value_list("name", rng.randint(1, 4))
        return Case("actions", "SELECT name FROM {T} WHERE name IN (%s)" % ", ".join(
            lit(x) for x in vals))

    # prepared statements: (parameter types, body, limit?, parameter generators)

    def gen_prepared(self):
        rng = self.rng
        d = self.d

        def status():
            return self.value("status")

        def inst():
            return self.value("instance_id")

        def ids_array():
            r = rng.random()
            if r < 0.25:
                vals = rng.sample(d.ids, rng.randint(101, 160))     # over the fan-out cap
            elif r < 0.35:
                vals = []
            else:
                vals = self.value_list("id", rng.randint(1, 5))
            return "ARRAY[%s]::text[]" % ", ".join(lit(x) for x in vals)

        def statuses_array():
            return "ARRAY[%s]::text[]" % ", ".join(
                lit(x) for x in self.value_list("status", rng.randint(1, 3)))

        def insts_array():
            return "ARRAY[%s]::text[]" % ", ".join(
                lit(x) for x in self.value_list("instance_id", rng.randint(1, 4)))

        def tstz():
            if rng.random() < 0.05:
                return "NULL"
            return lit(self.tstz_literal(self.time_us()))

        def offset():
            return str(self.choice([0, 0, 1, 50, rng.randint(0, d.n), d.n, d.n + 10]))

        def limit():
            return self.choice(["0", "1", "5", "50", "51", str(rng.randint(1, 200)), "NULL"])

        def proc():
            return str(rng.randint(0, 100))

        def name():
            return lit(self.value("name"))

        L = lambda f: (lambda: lit(f()))        # noqa: E731
        templates = [
            (["text"], "SELECT t.id, t.status FROM {T} t WHERE t.status = $1", False, [L(status)]),
            (["text"], "SELECT count(*) FROM {T} t WHERE t.status = $1", False, [L(status)]),
            (["text", "timestamptz"], "SELECT count(*) FROM {T} t WHERE t.status = $1"
             " AND t.create_time >= $2", False, [L(status), tstz]),
            (["text[]"], "SELECT count(*) FROM {T} t WHERE t.id = ANY ($1)", False, [ids_array]),
            (["text[]", "text"], "SELECT count(*) FROM {T} t WHERE t.id = ANY ($1)"
             " AND t.status = $2", False, [ids_array, L(status)]),
            (["text[]"], "SELECT t.id, t.name FROM {T} t WHERE t.status = ANY ($1)",
             False, [statuses_array]),
            (["text[]", "text"], "SELECT t.id FROM {T} t WHERE t.instance_id = ANY ($1)"
             " AND t.status = $2", False, [insts_array, L(status)]),
            (["timestamptz", "timestamptz"], "SELECT t.id, t.create_time FROM {T} t WHERE"
             " t.create_time BETWEEN $1 AND $2 ORDER BY t.create_time, t.id", False, [tstz, tstz]),
            (["text", "int"], "SELECT t.id FROM {T} t WHERE t.instance_id = $1 AND"
             " t.process > $2", False, [L(inst), proc]),
            (["timestamptz", "text"], "SELECT t.id FROM {T} t WHERE t.create_time >"
             " $1::timestamptz - interval '1 day' AND t.name = $2", False, [tstz, name]),
            (["text"], "SELECT i.owner, t.id FROM inventory i JOIN {T} t ON"
             " t.instance_id = i.instance_id WHERE t.status = $1", False, [L(status)]),
            (["text"], "SELECT count(*) FROM {T} t WHERE t.order_id = $1", False,
             [lambda: lit(self.value("order_id"))]),
            ([], "SELECT t.id FROM {T} t", True, []),
            (["text"], "SELECT t.id, t.status FROM {T} t WHERE t.status = $1", True, [L(status)]),
            (["text", "timestamptz"], "SELECT t.id FROM {T} t WHERE t.instance_id = $1"
             " AND t.create_time < $2", True, [L(inst), tstz]),
            (["text[]"], "SELECT t.id FROM {T} t WHERE t.status = ANY ($1)", True,
             [statuses_array]),
            (["text"], "SELECT t.id, t.create_time FROM {T} t WHERE t.status = $1"
             " ORDER BY t.create_time DESC, t.id", True, [L(status)]),
            (["text"], "SELECT t.id, t.create_time FROM {T} t WHERE t.instance_id = $1"
             " ORDER BY t.create_time, t.id", True, [L(inst)]),
        ]
        types, body, limited, gens = self.choice(templates)
        n = len(types)
        if limited:
            types = types + ["bigint", "bigint"]
            body_l = body + " OFFSET $%d LIMIT $%d" % (n + 1, n + 2)
            gens = gens + [offset, limit]
        else:
            body_l = body
        execs = [[g() for g in gens] for _ in range(rng.randint(6, 9))]
        if rng.random() < 0.3:
            # the same parameters again after the plan went generic
            execs.append(list(execs[0]))
        c = Case("prepared", body_l, mode="ordered" if "ORDER BY" in body else "multiset")
        c.prepared = {"types": types, "body": body, "nbase": n, "limited": limited,
                      "execs": execs,
                      "plan_cache_mode": self.weighted([(60, "auto"),
                                                        (25, "force_generic_plan"),
                                                        (15, "force_custom_plan")]),
                      "strict": limited and "ANY" not in body}
        return c

    # ----- bounds at and beyond the ends of time -----

    def bound_literal(self, typ):
        """A bound of type typ (timestamptz, timestamp, date): half of them at or
        beyond the ends of time, the others near real values."""
        if self.rng.random() < 0.4:
            us = self.time_us()
            if typ == "timestamptz":
                return self.tstz_literal(us)
            if typ == "timestamp":
                return ts_of(us).replace(tzinfo=None).isoformat(sep=" ")
            return ts_of(us).date().isoformat()
        return self.choice(EXTREME[typ])

    def bound_expr(self, typ):
        s = self.bound_literal(typ)
        form = self.weighted([(35, "lit"), (35, "cast"), (10, "initplan"), (10, "other"),
                              (10, "param_like")])
        if form == "lit":
            return lit(s)
        if form == "cast":
            return "%s::%s" % (lit(s), typ)
        if form == "initplan":
            return "(SELECT %s::%s)" % (lit(s), typ)
        if form == "other":
            # a bound of another of the three types: cross-type comparison
            other = self.choice(["timestamptz", "timestamp", "date"])
            return "%s::%s" % (lit(self.bound_literal(other)), other)
        return "CAST(%s AS %s)" % (lit(s), typ)

    def bound_col(self, v):
        if v == "typed":
            return self.choice([("t.ts", "timestamp"), ("t.ts", "timestamp"), ("t.day", "date"),
                                ("t.end_time", "timestamp")])
        return self.choice([("t.create_time", "timestamptz")] * 3 +
                           [("t.end_time", "timestamptz")])

    def bound_cond(self, v):
        col, typ = self.bound_col(v)
        op = self.choice(["<", "<=", ">", ">=", "=", "BETWEEN", "BETWEEN", "commuted"])
        if op == "BETWEEN":
            sym = " SYMMETRIC" if self.rng.random() < 0.15 else ""
            neg = "NOT " if self.rng.random() < 0.05 else ""
            return "%s %sBETWEEN%s %s AND %s" % (col, neg, sym, self.bound_expr(typ),
                                                 self.bound_expr(typ))
        if op == "commuted":
            return "%s %s %s" % (self.bound_expr(typ), self.choice(["<", "<=", ">", ">=", "="]),
                                 col)
        return "%s %s %s" % (col, op, self.bound_expr(typ))

    def gen_bounds(self):
        """Conditions with bounds at the ends of time (infinity, year 294276,
        4713 BC, ...), mixed with normal ones; as constants or parameters."""
        rng = self.rng
        v = self.weighted([(60, "base"), (15, "pr"), (25, "typed")])
        if rng.random() < 0.3:
            return self.gen_bounds_prepared(v)
        conds = [self.bound_cond(v) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4:
            c, _ = self.time_cond(v)
            conds.append(c)
        where, _ = self.where(v, 0, 1, allow_semi=False)
        if where:
            conds.append(where[len(" WHERE "):])
        rng.shuffle(conds)
        w = " WHERE " + " AND ".join(conds)
        ct = self.col(v, "create_time")
        form = self.choice(["select", "select", "count", "ordered"])
        if form == "count":
            return Case("bounds", "SELECT count(*), min(%s), max(%s) FROM {T} t%s" % (ct, ct, w),
                        variant=v)
        if form == "ordered":
            return Case("bounds", "SELECT t.id, %s FROM {T} t%s ORDER BY %s DESC, t.id%s" % (
                ct, w, ct, self.choice(["", " LIMIT 5", " LIMIT 60 OFFSET 3"])),
                mode="ordered", variant=v)
        return Case("bounds", "SELECT %s FROM {T} t%s" % (self.select_list(v), w), variant=v)

    def gen_bounds_prepared(self, v):
        rng = self.rng
        col, typ = self.bound_col(v)
        op = self.choice(["<", "<=", ">", ">=", "="])
        templates = [
            ([typ], "SELECT t.id FROM {T} t WHERE %s %s $1" % (col, op)),
            ([typ], "SELECT count(*) FROM {T} t WHERE $1 %s %s" % (op, col)),
            ([typ, typ], "SELECT count(*) FROM {T} t WHERE %s BETWEEN $1 AND $2" % col),
            ([typ, typ], "SELECT t.id, %s FROM {T} t WHERE %s >= $1 AND %s < $2 ORDER BY %s, t.id"
             % (col, col, col, col)),
            ([typ, "text"], "SELECT t.id FROM {T} t WHERE %s > $1 AND t.status = $2" % col),
        ]
        types, body = self.choice(templates)

        def param(t):
            if t == "text":
                return lit(self.value("status"))
            if rng.random() < 0.05:
                return "NULL"
            return lit(self.bound_literal(t))
        execs = [[param(t) for t in types] for _ in range(rng.randint(6, 9))]
        if rng.random() < 0.3:
            execs.append(list(execs[0]))
        c = Case("bounds", body, mode="ordered" if "ORDER BY" in body else "multiset", variant=v)
        c.prepared = {"types": types, "body": body, "nbase": len(types), "limited": False,
                      "execs": execs, "strict": False,
                      "plan_cache_mode": self.weighted([(60, "auto"),
                                                        (25, "force_generic_plan"),
                                                        (15, "force_custom_plan")])}
        return c

    # ----- a moving list -----

    def move_steps(self, p_during=0.6):
        steps = []
        for _ in range(self.rng.randint(1, 2)):
            if self.rng.random() < p_during:
                steps.append(("during", self.rng.randint(0, 4), self.rng.randint(1, 8)))
            else:
                steps.append(("between", 0, self.rng.randint(1, 8)))
        return steps

    def moving_case(self, kind, options):
        """A query over one request stream, run before and after the list moves
        (between two runs, or during one): compared each time with the local
        copy taken again from the simulator right after the FDW query."""
        rng = self.rng
        form = self.choice(["select", "select", "ordered", "count", "eq", "in", "actions"])
        # no subquery over local_tasks: it is reloaded between the FDW query
        # and the local one when the list moves
        self.no_local_refs = True
        where, _ = self.where("base", 0, 2, allow_semi=False)
        self.no_local_refs = False
        if form == "actions":
            c = Case(kind, self.choice(["SELECT name FROM {T}", "SELECT count(*) FROM {T}"]))
            c.actions = True
        elif form == "count":
            c = Case(kind, "SELECT count(*), count(DISTINCT t.id) FROM {T} t" + where)
        elif form == "ordered":
            c = Case(kind, "SELECT t.id, t.status, t.name FROM {T} t%s ORDER BY t.create_time DESC,"
                     " t.id LIMIT %d" % (where, rng.randint(1, 120)), mode="ordered")
        elif form == "eq":
            c = Case(kind, "SELECT t.id, t.name FROM {T} t WHERE t.id = %s" % lit(self.value("id")))
        elif form == "in":
            c = Case(kind, "SELECT t.id, t.name FROM {T} t WHERE t.id IN (%s)" % ", ".join(
                lit(x) for x in self.value_list("id", rng.randint(1, 6))))
        else:
            c = Case(kind, "SELECT %s FROM {T} t%s" % (self.select_list("base"), where))
        c.options = options
        return c

    def gen_moving(self):
        """cache_ttl (mostly) with a list that moves between and during queries."""
        opts = dict(self.choice([{"cache_ttl": "60"}, {"cache_ttl": "60"},
                                 {"cache_ttl": "60", "parallel_requests": "4"},
                                 {"cache_ttl": "300", "page_size": "20"},
                                 {"parallel_requests": "1", "page_size": "25"},
                                 {"parallel_requests": "4", "page_size": "30"}]))
        c = self.moving_case("moving", opts)
        c.steps = self.move_steps(0.5)
        return c

    def gen_longid(self):
        """The long-id data set (ids and names over 40 bytes), with parallel_requests
        1 or 4 and, mostly, the list moving during the scan."""
        opts = {"parallel_requests": self.choice(["1", "4"])}
        ps = self.choice([None, "20", "50"])
        if ps:
            opts["page_size"] = ps
        c = self.moving_case("longid", opts)
        c.steps = self.move_steps(0.8) if self.rng.random() < 0.75 else []
        return c

    def gen_latin1(self):
        """For the LATIN1 database.  A query that reads instance_name or raw keeps
        to instances whose names LATIN1 can hold (a pushed instance_id IN list:
        the FDW converts every row the API returns, before local conditions, so
        the rows must be those); one in six instead reads one instance whose
        name it cannot hold (数据库-生产-01): the same error (22P05) both ways.
        Queries that read neither are not restricted."""
        rng = self.rng
        v = self.weighted([(35, "base"), (15, "pr"), (15, "typed"), (35, "raw")])
        sel = self.select_list(v)
        if v in ("base", "raw") and rng.random() < 0.5:
            sel = "t.instance_name, " + sel
        form = self.choice(["select", "select", "ordered", "count"])
        if form == "count":
            sel = "count(*)"
        if rng.random() < 0.17 and self.d.other_instances and v in ("base", "raw"):
            if form == "count" or "instance_name" not in sel and "raw" not in sel:
                sel = "t.id, " + self.choice(["t.instance_name", "t.raw->>'instance_name'",
                                              "t.raw->>'id'", "t.rawj->>'status'"]
                                             if v == "raw" else ["t.instance_name"])
            return Case("latin1", "SELECT %s FROM {T} t WHERE t.instance_id = %s" % (
                sel, lit(self.choice(self.d.other_instances))), variant=v)
        where, _ = self.where(v, 0, 2, allow_semi=False)
        conds = [where[len(" WHERE "):]] if where else []
        reads = v == "raw" or "instance_name" in sel or "t.*" in sel
        if reads or rng.random() < 0.3:
            insts = rng.sample(self.d.latin1_instances,
                               min(len(self.d.latin1_instances), rng.randint(1, 4)))
            conds.append("t.instance_id IN (%s)" % ", ".join(lit(x) for x in insts))
        if rng.random() < 0.15:
            conds.append(self.choice(["t.fail_reason LIKE '%\u00f6%'",
                                      "t.name <> 'Caf\u00e9'", "t.status = 'Fa\u00efled'"]))
        w = " WHERE " + " AND ".join(conds) if conds else ""
        if form == "ordered":
            return Case("latin1", "SELECT %s FROM {T} t%s ORDER BY t.id LIMIT %d" % (
                sel, w, rng.randint(1, 200)), mode="ordered", variant=v)
        return Case("latin1", "SELECT %s FROM {T} t%s" % (sel, w), variant=v)

    def generate(self, phase="main"):
        if phase == "latin1":
            return self.gen_latin1()
        if phase == "long":
            return self.gen_longid()
        kind = self.weighted([(30, "select"), (14, "limit"), (9, "ordered"), (13, "aggregate"),
                              (13, "join"), (6, "lateral"), (10, "prepared"), (3, "union"),
                              (3, "interleave"), (2, "actions"), (5, "bounds"),
                              (2, "moving"), (6, "latest")])
        c = getattr(self, "gen_" + kind)()
        if (c.kind not in ("actions", "moving") and c.variant == "base"
                and self.rng.random() < 0.12):
            c.options = self.choice(OPTION_SETS)
        if c.kind != "moving" and self.rng.random() < 0.08:
            c.role = True
        return c


# ---------------------------------------------------------------------------
# running and comparing
# ---------------------------------------------------------------------------

class ConnectionLost(Exception):
    """The server closed the connection (a crashed backend, typically)."""

    def __init__(self, sql, error):
        super().__init__("%s: %s" % (sql, error))
        self.sql = sql
        self.error = error


class Runner:
    def __init__(self, conn, seed, verbose, explain, sim=None, role=None):
        self.conn = conn
        self.cur = conn.cursor()
        self.sim = sim              # SimControl, for moving lists
        self.role = role            # the non-superuser role, if set up
        self.phase = "main"
        self.seed = seed
        self.verbose = verbose
        self.explain = explain
        self.differences = 0
        self.comparisons = 0
        self.stale_cache_answers = 0   # cache_ttl: an earlier snapshot, whole
        self.streams_before_move = 0   # rows between the snapshots before and after a move
        self.case_no = 0
        self.sizes = collections.Counter()     # local result sizes: 0, 1, 2 = more
        self.same_errors = collections.Counter()   # SQLSTATE -> both sides failed alike
        self.api_order_is_local = True  # the simulator pages in the local copy's order

    def run_sql(self, sql):
        """(rows, None) or (None, error) for one statement; errors roll back."""
        try:
            self.cur.execute(sql)
            return self.cur.fetchall(), None
        except psycopg2.Error as e:
            if self.conn.closed:
                raise ConnectionLost(sql, e)
            try:
                self.conn.rollback()
            except psycopg2.Error:
                raise ConnectionLost(sql, e)
            return None, e

    def plain(self, sql):
        self.cur.execute(sql)
        self.conn.commit()

    def use(self, conn, phase):
        self.conn = conn
        self.cur = conn.cursor()
        self.phase = phase

    def warm_up(self, case):
        """A query replayed alone (--case) that was not the first of its
        session: one FDW query of its way to authenticate before it."""
        if case.role and self.role:
            return
        rows, err = self.run_sql("SELECT count(*) FROM %srds_tasks WHERE id = 'warm-up'"
                                 % AUTHS[case.auth])
        self.conn.rollback()

    def fdw_table(self, case):
        schema = "diffrole." if case.role and self.role else AUTHS[case.auth]
        if case.actions:
            return schema + "rds_task_actions"
        return schema + VARIANTS[case.variant]["fdw"]

    def local_table(self, case):
        if case.actions:
            return "(SELECT DISTINCT name FROM local_tasks WHERE name IS NOT NULL) AS a"
        return VARIANTS[case.variant]["local"]

    # ----- reporting -----

    def report(self, case, what, fdw_sql, local_sql, fdw, loc, fdw_err=None, loc_err=None,
               note="", explain_sql=None):
        self.differences += 1
        out = []
        out.append("=" * 72)
        out.append("DIFFERENCE %d: query %d (%s, compared %s), seed %d" % (
            self.differences, self.case_no, case.kind, what, self.seed))
        out.append("  replay: test/differential.py --seed %d --case %d" % (self.seed, self.case_no))
        out.append("          (from scratch: DIFF_SEEDS=%d bash test/run_differential.sh --case %d)"
                   % (self.seed, self.case_no))
        out.append("  rotation: " + rotation_text(case))
        if case.options:
            out.append("  table options: ALTER FOREIGN TABLE %s OPTIONS (%s)" % (
                self.fdw_table(case),
                ", ".join("ADD %s '%s'" % kv for kv in sorted(case.options.items()))))
        if case.exclusive:
            out.append("  simulator: time_bounds exclusive")
        if case.role:
            out.append("  as: SET ROLE %s" % (self.role or "(no role set up: as the user)"))
        if case.phase == "latin1":
            out.append("  database: the LATIN1 one")
        if case.phase == "long":
            out.append("  data set: ids of %d characters, CreateBackup named %r" %
                       (LONG_ID_LENGTH, LONG_ACTION))
        if case.steps is not None:
            out.append("  list moves: %s" % (", ".join(
                "%s (%d new tasks%s)" % (h, n, ", after %d requests" % k if h == "during" else "")
                for h, k, n in case.steps) or "none"))
        out.append("  FDW query:   " + fdw_sql)
        out.append("  local query: " + local_sql)
        if note:
            out.append("  " + note)
        if fdw_err is not None:
            out.append("  FDW error: %s" % str(fdw_err).strip().replace("\n", "\n    "))
        if loc_err is not None:
            out.append("  local error: %s" % str(loc_err).strip().replace("\n", "\n    "))
        out.append("  rows: FDW %s, local %s" % ("error" if fdw is None else len(fdw),
                                                "error" if loc is None else len(loc)))
        if fdw is not None and loc is not None:
            cf, cl = collections.Counter(fdw), collections.Counter(loc)
            only_f = list((cf - cl).elements())
            only_l = list((cl - cf).elements())
            if only_f or only_l:
                out.append("  only in FDW (%d):" % len(only_f))
                for r in sorted(only_f, key=repr)[:MAX_SHOWN]:
                    out.append("    %r" % (r,))
                out.append("  only in local (%d):" % len(only_l))
                for r in sorted(only_l, key=repr)[:MAX_SHOWN]:
                    out.append("    %r" % (r,))
            else:
                out.append("  same rows, different order; first differing positions:")
                shown = 0
                for i, (a, b) in enumerate(zip(fdw, loc)):
                    if a != b and shown < MAX_SHOWN:
                        out.append("    [%d] FDW %r / local %r" % (i, a, b))
                        shown += 1
        if self.explain and explain_sql:
            rows, err = self.run_sql("EXPLAIN (VERBOSE, COSTS OFF) " + explain_sql)
            if rows is not None:
                out.append("  FDW plan:")
                out.extend("    " + r[0] for r in rows)
            self.conn.rollback()
        print("\n".join(out), flush=True)

    # ----- comparisons -----

    def compare_rows(self, case, what, fdw_sql, local_sql, fdw, fdw_err, loc, loc_err,
                     ordered, explain_sql=None, unlimited=None, strict=False, note=""):
        self.comparisons += 1
        if fdw is not None and loc is not None:
            self.sizes[min(len(loc), 2)] += 1
        if fdw_err is not None or loc_err is not None:
            if (fdw_err is not None and loc_err is not None and fdw_err.pgcode == loc_err.pgcode
                    and not (fdw_err.pgcode or "").startswith("42")):
                self.same_errors[fdw_err.pgcode] += 1
                return          # the same error both ways (a syntax error is the generator's)
            self.report(case, what, fdw_sql, local_sql, fdw, loc, fdw_err, loc_err,
                        explain_sql=explain_sql)
            return
        if unlimited is not None:
            # LIMIT/OFFSET without ORDER BY
            note = ""
            if len(fdw) != len(loc):
                note = "row counts differ (local without LIMIT/OFFSET: %d rows)" % len(unlimited)
            elif collections.Counter(fdw) - collections.Counter(unlimited):
                note = "FDW rows are not a subset of the local rows without LIMIT/OFFSET"
            elif strict and self.api_order_is_local and fdw != loc:
                note = ("FDW rows are not the local rows in the API's order (one request"
                        " stream, local copy in API order)")
            if note:
                self.report(case, what, fdw_sql, local_sql, fdw, loc, note=note,
                            explain_sql=explain_sql)
            return
        if ordered:
            if fdw != loc:
                self.report(case, what, fdw_sql, local_sql, fdw, loc, note=note,
                            explain_sql=explain_sql)
        elif collections.Counter(fdw) != collections.Counter(loc):
            self.report(case, what, fdw_sql, local_sql, fdw, loc, note=note,
                        explain_sql=explain_sql)

    def run_plain(self, case):
        fdw_sql = case.render(self.fdw_table(case))
        local_sql = case.render(self.local_table(case))
        if self.verbose:
            print("[%d] %s" % (self.case_no, fdw_sql), flush=True)
        # one transaction: now() is the same for both
        fdw, fdw_err = self.run_sql(fdw_sql)
        loc, loc_err = self.run_sql(local_sql)
        unlimited = None
        if case.mode == "limit" and loc is not None and fdw is not None:
            unlimited, err = self.run_sql(case.render(self.local_table(case), with_limit=False))
            if err is not None:
                raise RuntimeError("local query failed: %s" % err)
        self.conn.rollback()
        self.compare_rows(case, "in order" if case.mode == "ordered" else
                          ("with LIMIT rules" if case.mode == "limit" else "as multisets"),
                          fdw_sql, local_sql, fdw, fdw_err, loc, loc_err,
                          ordered=case.mode == "ordered", explain_sql=fdw_sql,
                          unlimited=unlimited, strict=case.strict)

    def run_prepared(self, case):
        p = case.prepared
        fdw_t, loc_t = self.fdw_table(case), self.local_table(case)
        types = "(%s)" % ", ".join(p["types"]) if p["types"] else ""
        stmts = {
            "dp_fdw": case.sql.replace("{T}", fdw_t),
            "dp_loc": case.sql.replace("{T}", loc_t),
        }
        if p["limited"]:
            base_types = p["types"][:p["nbase"]]
            stmts["dp_unl"] = p["body"].replace("{T}", loc_t)
        self.plain("SET plan_cache_mode = %s" % p["plan_cache_mode"])
        try:
            for name, body in stmts.items():
                t = types
                if name == "dp_unl":
                    t = "(%s)" % ", ".join(base_types) if base_types else ""
                self.plain("PREPARE %s%s AS %s" % (name, t, body))
            desc = "PREPARE p%s AS %s" % (types, stmts["dp_fdw"])
            if self.verbose:
                print("[%d] %s" % (self.case_no, desc), flush=True)
            for i, params in enumerate(p["execs"]):
                args = "(%s)" % ", ".join(params) if params else ""
                fdw, fdw_err = self.run_sql("EXECUTE dp_fdw" + args)
                loc, loc_err = self.run_sql("EXECUTE dp_loc" + args)
                unlimited = None
                if p["limited"] and fdw is not None and loc is not None:
                    bargs = params[:p["nbase"]]
                    unlimited, err = self.run_sql(
                        "EXECUTE dp_unl" + ("(%s)" % ", ".join(bargs) if bargs else ""))
                    if err is not None:
                        raise RuntimeError("local query failed: %s" % err)
                self.conn.rollback()
                what = "execution %d of %d, plan_cache_mode %s" % (i + 1, len(p["execs"]),
                                                                 p["plan_cache_mode"])
                self.compare_rows(case, what, "%s; EXECUTE p%s" % (desc, args),
                                  "EXECUTE (local twin)%s" % args, fdw, fdw_err, loc, loc_err,
                                  ordered=case.mode == "ordered",
                                  explain_sql="EXECUTE dp_fdw" + args, unlimited=unlimited,
                                  strict=p["strict"])
        finally:
            if not self.conn.closed:
                self.conn.rollback()
                self.plain("DEALLOCATE ALL")
                self.plain("RESET plan_cache_mode")

    def run_interleave(self, case):
        """Both queries through server-side cursors, fetched alternately."""
        cases = [case, case.second]
        for c in cases[1:]:
            c.role = case.role
        fdw_sqls = [c.render(self.fdw_table(c)) for c in cases]
        local_sqls = [c.render(self.local_table(c)) for c in cases]
        if self.verbose:
            print("[%d] interleaved: %s  ||  %s" % (self.case_no, fdw_sqls[0], fdw_sqls[1]),
                  flush=True)
        results = [[], []]
        err = None
        try:
            curs = [self.conn.cursor(name="dc%d" % k) for k in range(2)]
            for k in range(2):
                curs[k].execute(fdw_sqls[k])
            done = [False, False]
            step = 0
            while not all(done):
                k = step % 2
                if not done[k]:
                    rows = curs[k].fetchmany(case.chunks[step % len(case.chunks)])
                    if rows:
                        results[k].extend(rows)
                    else:
                        done[k] = True
                step += 1
            for cur in curs:
                cur.close()
        except psycopg2.Error as e:
            err = e
            if self.conn.closed:
                raise ConnectionLost(fdw_sqls[0] + "; " + fdw_sqls[1], e)
        self.conn.rollback()
        for k in range(2):
            loc, loc_err = self.run_sql(local_sqls[k])
            self.conn.rollback()
            note = "interleaved with: " + fdw_sqls[1 - k]
            self.compare_rows(cases[k], "as %s, cursor interleaved with another" % (
                "in order" if cases[k].mode == "ordered" else "multisets"),
                fdw_sqls[k] + "   [" + note + "]", local_sqls[k],
                None if err else results[k], err, loc, loc_err,
                ordered=cases[k].mode == "ordered", explain_sql=fdw_sqls[k])
            if err:
                break

    def run_moving(self, case):
        """The same query before and after each move of the list; the local copy
        is taken again from the simulator after each FDW query.  With cache_ttl
        the FDW may answer from responses cached before a move: the result may
        then equal an earlier snapshot's, whole.  After a move during the scan
        (or, with cache_ttl, after any move) the result must be the local
        query's over one state between the snapshots, as the README promises
        (each request stream is its own snapshot): see admissible()."""
        sim = self.sim
        fdw_sql = case.render(self.fdw_table(case))
        local_sql = case.render(self.local_table(case))
        if self.verbose:
            print("[%d] %s   [moves %r]" % (self.case_no, fdw_sql, case.steps), flush=True)
        self.plain("SELECT rds_task_fdw_cache_clear()")
        moved = False
        cached = bool(case.options and case.options.get("cache_ttl", "0") != "0")
        snapshots = []          # the local results of earlier runs
        batch = {}              # task id -> the run whose state first had it
        self.cur.execute("SELECT id FROM local_tasks")
        for (tid,) in self.cur.fetchall():
            batch[tid] = 0
        self.conn.rollback()

        def same_rows(a, b):
            if case.mode == "ordered":
                return a == b
            return sorted(map(repr, a)) == sorted(map(repr, b))
        try:
            for n, (how, skip, count) in enumerate([("first", 0, 0)] + list(case.steps)):
                if how == "between":
                    sim.move(count)
                elif how == "during":
                    sim.add_fault({"kind": "shift", "skip": skip, "count": count, "times": 1,
                                   "project": sim.project})
                moved = moved or how != "first"
                fdw, fdw_err = self.run_sql(fdw_sql)
                self.conn.rollback()
                if how == "during":
                    # a scan of fewer requests leaves the move undone: it must
                    # not happen later, under another run
                    sim.clear_faults()
                if moved:
                    sim.reload_local(self.conn)
                    self.cur.execute("SELECT id FROM local_tasks")
                    for (tid,) in self.cur.fetchall():
                        batch.setdefault(tid, n)
                    self.conn.rollback()
                loc, loc_err = self.run_sql(local_sql)
                self.conn.rollback()
                stale = ""
                if cached and fdw is not None and loc is not None and \
                        not fdw_err and not loc_err and not same_rows(fdw, loc):
                    for k, old in enumerate(snapshots):
                        if same_rows(fdw, old):
                            stale = ", answered from the cache of run %d" % (k + 1)
                            self.stale_cache_answers += 1
                            snapshots.append(loc)
                            loc = old
                            break
                if not stale:
                    snapshots.append(loc)
                between = ""
                note = ""
                if (how == "during" or (cached and moved)) and not stale and fdw is not None \
                        and loc is not None and not fdw_err and not loc_err \
                        and not same_rows(fdw, loc):
                    # tasks were added while the scan ran (or, cached, a stream may
                    # be an earlier run's): a request stream (of an IN list, a
                    # semi-join) that had ended before has none of them, one that
                    # had not yet started has them all
                    found, tried, groups = self.admissible(case, local_sql, batch, n,
                                                           0 if cached else n - 1,
                                                           fdw, same_rows)
                    if found is not None:
                        between = ", a state between the snapshots (%s)" % found
                        if self.verbose:
                            print("[%d] run %d: %s" % (self.case_no, n + 1, found[:200]),
                                  flush=True)
                        self.streams_before_move += 1
                        loc = fdw
                    else:
                        note = ("no state between the snapshots gives the FDW's result (%d"
                                " states tried: per stream group of the new tasks, %s)"
                                % (tried, groups))
                what = {"first": "before any move",
                        "between": "after %d tasks were added between queries" % count,
                        "during": "%d tasks added after request %d of the scan" % (count, skip + 1),
                        }[how]
                self.compare_rows(case, "%s (run %d of %d), %s%s%s" % (
                    "in order" if case.mode == "ordered" else "as multisets", n + 1,
                    len(case.steps) + 1, what, stale, between), fdw_sql, local_sql, fdw, fdw_err,
                    loc, loc_err, ordered=case.mode == "ordered", explain_sql=fdw_sql, note=note)
        finally:
            if not self.conn.closed:
                self.conn.rollback()
                if moved:
                    sim.restore(self.conn)

    def admissible(self, case, local_sql, batch, run, floor, fdw, same_rows):
        """Is the FDW's result (fdw) the local query's over a state between the
        snapshots?  The local copy holds the list as it is after run `run`;
        batch maps each task id to the run that first saw it.  Each request
        stream is its own snapshot: it returns the tasks of the runs up to
        some run c (floor <= c <= run; floor is run - 1 for a move during the
        scan, 0 with cache_ttl, where a stream may come from an earlier run's
        cached responses).  A stream's tasks are not known here, but the
        streams are the combinations of the values of the fields the query's
        conditions name (deparse.c: equality and IN lists on id, name,
        instance_id, order_id, status; one time window for all), so tasks
        alike in those fields are in the same stream: they are grouped so, and
        each group gets its own c (a superset of the stream states, never a
        row that no stream could return).  With ORDER BY create_time (the
        time-window search, whose windows are read one after another) each
        task is its own group.  Tries every combination, S0 (all at floor)
        first; returns (description of the first state that matches, or None,
        states tried, description of the groups)."""
        where = case.sql.split(" WHERE ", 1)[1] if " WHERE " in case.sql else ""
        where = re.split(r"\bORDER\s+BY\b", where, flags=re.I)[0]
        fields = sorted(set(re.findall(r"\bt\.(id|name|instance_id|order_id|status)\b", where)))
        if case.mode == "ordered" or re.search(r"\bORDER\s+BY\s+t\.create_time", case.sql, re.I):
            fields.append("create_time")
        newer = [tid for tid, b in batch.items() if b > floor]
        if not newer:
            return None, 0, "none"
        self.cur.execute("SELECT %s FROM local_tasks WHERE id = ANY(%%s)" % (
            ", ".join(["id"] + fields)), (newer,))
        groups = collections.defaultdict(list)      # key -> [(batch, id)]
        for row in self.cur.fetchall():
            groups[tuple(row[1:]) if fields else ()].append((batch[row[0]], row[0]))
        self.conn.rollback()
        keys = sorted(groups, key=repr)
        # per group, the runs c it may stop at: floor and each run that added to it
        cuts = [[floor] + sorted({b for b, _ in groups[k]}) for k in keys]
        desc = "%d tasks of runs %d-%d in %d groups by %s" % (
            len(newer), floor + 1, run, len(keys), ", ".join(fields) or "(one stream)")
        tried = 0
        for choice in itertools.product(*cuts):
            if all(c == run for c in choice):
                continue                    # the list after the move: compared already
            gone = [tid for k, c in zip(keys, choice) for b, tid in groups[k] if b > c]
            tried += 1
            self.cur.execute("DELETE FROM local_tasks WHERE id = ANY(%s)", (gone,))
            rows, err = self.run_sql(local_sql)
            self.conn.rollback()
            if err is None and same_rows(fdw, rows):
                kept = sum(1 for c in choice if c == run)
                return ("%d of %d groups of the newest tasks kept, %d tasks left out; %s"
                        % (kept, len(keys), len(gone), desc)), tried, desc
            if tried >= 4096:
                break
        return None, tried, desc

    def run_analyze(self, case, table):
        """ANALYZE of the case's foreign table (its rotation's way to
        authenticate and cache): it must succeed, and pg_class.reltuples of a
        table of tasks must be the list's size (analyze.c: total_count)."""
        sql = "ANALYZE " + table
        self.comparisons += 1
        try:
            self.cur.execute(sql)
            self.conn.commit()
        except psycopg2.Error as e:
            if self.conn.closed:
                raise ConnectionLost(sql, e)
            self.conn.rollback()
            self.report(case, "ANALYZE", sql, "(none)", None, [], fdw_err=e)
            return
        if case.actions:
            return
        self.cur.execute("SELECT c.reltuples::bigint, (SELECT count(*) FROM local_tasks)"
                         " FROM pg_class c WHERE c.oid = %s::regclass", (table,))
        reltuples, size = self.cur.fetchone()
        self.conn.rollback()
        if reltuples != size:
            self.report(case, "ANALYZE", sql, "SELECT count(*) FROM local_tasks",
                        [(reltuples,)], [(size,)],
                        note="pg_class.reltuples after ANALYZE is not the list's size")

    def run(self, case):
        table = self.fdw_table(case)
        if case.options:
            self.plain("ALTER FOREIGN TABLE %s OPTIONS (%s)" % (table, ", ".join(
                "ADD %s '%s'" % kv for kv in sorted(case.options.items()))))
        if case.analyze:
            self.run_analyze(case, table)
        if case.role and self.role:
            self.plain("SET ROLE %s" % self.role)
        try:
            if case.steps is not None:
                self.run_moving(case)
            elif case.prepared:
                self.run_prepared(case)
            elif case.kind == "interleave":
                self.run_interleave(case)
            else:
                self.run_plain(case)
        finally:
            if not self.conn.closed:
                self.conn.rollback()
                if case.role and self.role:
                    self.plain("RESET ROLE")
                if case.options:
                    self.plain("ALTER FOREIGN TABLE %s OPTIONS (%s)" % (table, ", ".join(
                        "DROP " + k for k in sorted(case.options))))


class SimControl:
    """The simulator's control API: time bounds, data sets, moves of the list,
    and the local copy taken again from /_sim/dataset."""

    def __init__(self, url, project, token):
        self.url = url.rstrip("/")
        self.project = project
        self.token = token
        self.dataset = {}           # reset options of the current data set
        self.exclusive = False
        self.page_order = None      # the API's page order, kept over resets

    def call(self, method, path, doc=None, headers=None):
        h = dict(headers or {})
        data = None
        if doc is not None:
            data = json.dumps(doc).encode()
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=h, method=method)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def set_exclusive(self, on):
        self.call("POST", "/_sim/config", {"time_bounds": "exclusive" if on else "inclusive"})
        self.exclusive = on

    def reset(self, dataset):
        """A fresh data set (no faults, no moves); the time bounds kept."""
        self.dataset = dict(dataset)
        self.call("POST", "/_sim/reset", {"id_length": dataset.get("id_length", 32),
                                          "long_action": dataset.get("long_action", False)})
        if self.exclusive:
            self.set_exclusive(True)
        if self.page_order:
            self.set_page_order(self.page_order)

    def set_page_order(self, order):
        self.call("POST", "/_sim/config", {"page_order": order})
        self.page_order = order

    def add_fault(self, rule):
        self.call("POST", "/_sim/faults", {"faults": [rule]})

    def clear_faults(self):
        self.call("POST", "/_sim/faults/clear", {})

    def move(self, count):
        """Add count tasks at the head of the list now (a request of our own)."""
        self.add_fault({"kind": "shift", "count": count, "times": 1, "project": self.project})
        self.call("GET", "/v3/%s/tasklist?limit=1" % self.project,
                  headers={"X-Auth-Token": self.token})

    def csv(self):
        return self.call("GET", "/_sim/dataset?format=csv&project=%s" % self.project)

    def reload_local(self, conn):
        """local_tasks := the simulator's list as it is now."""
        data = self.csv()
        cur = conn.cursor()
        cur.execute("TRUNCATE local_tasks")
        cur.copy_expert("COPY local_tasks FROM STDIN WITH (FORMAT csv)", io.BytesIO(data))
        conn.commit()

    def restore(self, conn):
        """Back to the current data set unmoved, locally too; the FDW's cache emptied."""
        self.reset(self.dataset)
        self.reload_local(conn)
        cur = conn.cursor()
        cur.execute("SELECT rds_task_fdw_cache_clear()")
        conn.commit()


def setup_role(conn):
    """The non-superuser role run_differential.sh sets up (diff_role, with the
    foreign tables of an https server in schema diffrole), or None.  Lets its
    endpoint's host:port through rds_task_fdw.allowed_hosts for this session."""
    cur = conn.cursor()
    cur.execute("SELECT (SELECT rolname FROM pg_roles WHERE rolname = 'diff_role'),"
                " (SELECT array_to_string(srvoptions, ' ') FROM pg_foreign_server"
                "  WHERE srvname = 'diff_tls')")
    role, opts = cur.fetchone()
    conn.commit()
    if not role or not opts:
        return None
    endpoint = [o for o in opts.split(" ") if o.startswith("endpoint=")][0][len("endpoint="):]
    hostport = endpoint.split("://", 1)[1].split("/", 1)[0]
    cur.execute("LOAD 'rds_task_fdw'")
    cur.execute("SELECT set_config('rds_task_fdw.allowed_hosts', %s, false)", (hostport,))
    for t in ("inventory", "big_inventory", "orders"):
        cur.execute("GRANT SELECT ON %s TO %s" % (t, role))
    conn.commit()
    return role


def setup_session(conn, rng, data, timezone):
    """Session state the queries use: time zone, a GUC, the join tables."""
    cur = conn.cursor()
    cur.execute("SET TimeZone = %s", (timezone,))
    cur.execute("SET statement_timeout = '120s'")
    cur.execute("SELECT set_config('diff.status', %s, false)", (rng.choice(data.statuses),))
    inv = rng.sample(data.instances, min(3, len(data.instances)))
    cur.execute("CREATE TEMP TABLE inventory (instance_id text PRIMARY KEY, owner text)")
    for i, x in enumerate(inv):
        cur.execute("INSERT INTO inventory VALUES (%s, %s)", (x, "team-%d" % (i + 1)))
    cur.execute("CREATE TEMP TABLE big_inventory AS SELECT DISTINCT instance_id, 'x'::text AS owner"
                " FROM local_tasks WHERE instance_id IS NOT NULL")
    cur.execute("CREATE TEMP TABLE orders (order_id text)")
    for x in rng.sample(data.orders, min(4, len(data.orders))) + ["nope-order"]:
        cur.execute("INSERT INTO orders VALUES (%s)", (x,))
    cur.execute("ANALYZE inventory")
    cur.execute("ANALYZE big_inventory")
    cur.execute("ANALYZE orders")
    conn.commit()
    return inv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, help="random seed (default: a random one, printed)")
    ap.add_argument("--queries", type=int, default=300, help="queries to generate (300)")
    ap.add_argument("--case", type=int, help="run only query number N of the seed's sequence")
    ap.add_argument("--dbname", help="database (default: libpq's PGDATABASE)")
    ap.add_argument("--project", default=os.environ.get("DIFF_PROJECT",
                                                        "0123456789abcdef0123456789abcdef"))
    ap.add_argument("--region", default=os.environ.get("DIFF_REGION", "eu-de"))
    ap.add_argument("--sim", default=os.environ.get("RDS_SIM_HTTP"),
                    help="simulator URL for the exclusive-bounds phase (RDS_SIM_HTTP)")
    ap.add_argument("--token", default=os.environ.get("DIFF_TOKEN", "test-token-0001"),
                    help="the simulator's token, for moving the list (DIFF_TOKEN)")
    ap.add_argument("--latin1-dbname",
                    help="the LATIN1 database set up alike (run_differential.sh makes it)")
    ap.add_argument("--page-order", choices=("newest", "oldest", "random", "hash"),
                    default=os.environ.get("DIFF_PAGE_ORDER"),
                    help="the simulator's page order for this run (DIFF_PAGE_ORDER; default: as it is)")
    ap.add_argument("--no-exclusive", action="store_true",
                    help="never switch the simulator's time bounds to exclusive")
    ap.add_argument("--max-differences", type=int, default=25,
                    help="stop after this many differences (25)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every query")
    ap.add_argument("--no-explain", action="store_true", help="no FDW plan on a difference")
    args = ap.parse_args()

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2 ** 31)
    print("differential: seed %d" % seed, flush=True)
    rng = random.Random(seed)

    try:
        conn = psycopg2.connect(dbname=args.dbname) if args.dbname else psycopg2.connect("")
        cur = conn.cursor()
        data = Data(cur, args.project, args.region)
        conn.commit()
    except Exception as e:
        print("differential: setup unusable: %s" % e, flush=True)
        print("differential: 0 queries, 0 differences, seed %d" % seed)
        return 2

    timezone = rng.choice(TIMEZONES)
    session_state = rng.getstate()      # a new session is set up alike
    inv = setup_session(conn, rng, data, timezone)
    print("differential: %d tasks, TimeZone %s, inventory %s" % (data.n, timezone, ", ".join(inv)),
          flush=True)

    role = setup_role(conn)
    conn_l1 = None
    if args.latin1_dbname:
        conn_l1 = psycopg2.connect(dbname=args.latin1_dbname)
        # the client speaks UTF-8 (the queries hold characters LATIN1 has not:
        # the server's error then, alike both ways)
        conn_l1.set_client_encoding("UTF8")
        setup_session(conn_l1, random.Random(seed), data, timezone)
    conns = {"main": conn, "latin1": conn_l1}

    def new_session(which):
        """A new connection (backend) for the main or the LATIN1 database, its
        session set up as the first one was."""
        if which == "latin1":
            c = psycopg2.connect(dbname=args.latin1_dbname)
            c.set_client_encoding("UTF8")
            setup_session(c, random.Random(seed), data, timezone)
            return c
        c = psycopg2.connect(dbname=args.dbname) if args.dbname else psycopg2.connect("")
        r = random.Random()
        r.setstate(session_state)
        setup_session(c, r, data, timezone)
        setup_role(c)
        return c

    # the rotation's ways to authenticate: those whose schema is set up in
    # every database used
    auths = {"token"}
    for a, schema in AUTHS.items():
        ok = True
        for c in (conn, conn_l1):
            if c is not None and schema:
                cur = c.cursor()
                cur.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                            (schema.rstrip("."),))
                ok = ok and cur.fetchone()[0] == 1
                c.commit()
        if ok:
            auths.add(a)
    # the cache holds no answer of an earlier run (another page order, a
    # list that has moved since)
    cur = conn.cursor()
    cur.execute("SELECT rds_task_fdw_cache_clear()")
    conn.commit()
    sim = SimControl(args.sim, args.project, args.token) if args.sim else None
    print("differential: role %s, LATIN1 database %s, simulator control %s" % (
        role or "none (role cases run as the user)", args.latin1_dbname or "none",
        "yes" if sim else "none (no moving lists, no long ids)"), flush=True)
    print("differential: rotation: auth %s; cache on or off; a new session or the current one"
          % " | ".join(sorted(auths)), flush=True)

    # Phases, by position (fixed for a seed): the main one; queries in the
    # LATIN1 database (8 %); on the long-id data set (4 %); the main kinds
    # again with the simulator's time bounds exclusive (the last tenth).
    n = args.queries
    n_excl, n_long, n_latin1 = n // 10, n * 4 // 100, n * 8 // 100
    main_end = n - n_excl - n_long - n_latin1

    def phase_of(k):
        if k < main_end or k >= n - n_excl:
            return "main"
        return "latin1" if k < main_end + n_latin1 else "long"

    gen = Generator(rng, data)
    gen_long = Generator(rng, data.lengthened())
    rot_rng = random.Random("%d/rotation" % seed)
    cases = []
    for k in range(n):
        ph = phase_of(k)
        c = (gen_long if ph == "long" else gen).generate(ph)
        c.phase = ph
        if ph != "main":
            c.role = False
        rotate(rot_rng, c, auths)
        cases.append(c)
    if args.sim and not args.no_exclusive:
        for c in cases[n - n_excl:]:
            c.exclusive = True

    runner = Runner(conn, seed, args.verbose, not args.no_explain, sim, role)
    if args.page_order:
        if sim is None:
            print("differential: --page-order needs the simulator (RDS_SIM_HTTP)")
            return 2
        sim.set_page_order(args.page_order)
        # the local copy is in the newest-first order: LIMIT without ORDER BY
        # is then checked as a subset only
        runner.api_order_is_local = args.page_order == "newest"
        print("differential: page order %s" % args.page_order, flush=True)
    kinds = collections.Counter()
    extra = collections.Counter()
    kind_time = collections.Counter()
    started = time.monotonic()
    ran = 0
    slowest = []
    phase = "main"

    def enter(ph):
        """Switch the runner (and the simulator's data set) to phase ph."""
        if phase == "long" and ph != "long":
            sim.reset({})
            sim.restore(conns["main"])
        if ph == "long" and phase != "long":
            sim.reset({"id_length": LONG_ID_LENGTH, "long_action": True})
            sim.restore(conns["main"])
        runner.use(conns["latin1"] if ph == "latin1" else conns["main"], ph)
        return ph

    try:
        for i, c in enumerate(cases, 1):
            if args.case is not None and i != args.case:
                continue
            if (c.phase == "latin1" and conn_l1 is None) or (
                    (c.phase == "long" or c.steps is not None) and sim is None):
                extra["skipped"] += 1
                continue
            if c.phase != phase:
                phase = enter(c.phase)
            if sim and c.exclusive != sim.exclusive:
                sim.set_exclusive(c.exclusive)
                # no cached answer under the other time bounds
                runner.plain("SELECT rds_task_fdw_cache_clear()")
            if c.fresh:
                which = "latin1" if phase == "latin1" else "main"
                conns[which].close()
                conns[which] = new_session(which)
                runner.use(conns[which], phase)
            elif args.case is not None:
                runner.warm_up(c)
            runner.case_no = i
            if args.verbose:
                print("[%d] rotation: %s" % (i, rotation_text(c)), flush=True)
            t0 = time.monotonic()
            try:
                runner.run(c)
            except ConnectionLost as e:
                runner.differences += 1
                print("=" * 72)
                print("DIFFERENCE %d: query %d (%s): the server closed the connection, seed %d"
                      % (runner.differences, i, c.kind, seed))
                print("  replay: test/differential.py --seed %d --case %d" % (seed, i))
                print("  rotation: " + rotation_text(c))
                print("  statement: %s" % e.sql)
                print("  error: %s" % str(e.error).strip())
                kinds[c.kind] += 1
                ran += 1
                break
            slowest.append((time.monotonic() - t0, i))
            kind_time[c.kind] += time.monotonic() - t0
            kinds[c.kind] += 1
            if c.role and role:
                extra["as %s" % role] += 1
            if c.options and "cache_ttl" in c.options and c.steps:
                extra["cache_ttl with moves"] += 1
            extra["auth %s" % c.auth] += 1
            extra["cache on" if c.cache else "cache off"] += 1
            extra["new session" if c.fresh else "later in the session"] += 1
            if c.analyze:
                extra["ANALYZE first"] += 1
            ran += 1
            if runner.differences >= args.max_differences:
                print("differential: stopping after %d differences" % runner.differences)
                break
    finally:
        if sim and sim.exclusive:
            sim.set_exclusive(False)
        if sim and args.page_order and args.page_order != "newest":
            sim.set_page_order("newest")
        if phase == "long":
            enter("main")
    elapsed = time.monotonic() - started
    print("differential: %d comparisons in %.1f s (%s; results with 0/1/more rows: %d/%d/%d)" % (
        runner.comparisons, elapsed, ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
        runner.sizes[0], runner.sizes[1], runner.sizes[2]))
    if runner.stale_cache_answers:
        extra["answers from the cache before a move"] = runner.stale_cache_answers
    if runner.streams_before_move:
        extra["results with a stream ended before a move"] = runner.streams_before_move
    if extra:
        print("differential: also: %s" % ", ".join("%s %d" % kv for kv in sorted(extra.items())))
    if runner.same_errors:
        print("differential: the same error both ways: %s" % ", ".join(
            "%s x%d" % kv for kv in sorted(runner.same_errors.items())))
    print("differential: seconds by kind: %s" % ", ".join(
        "%s %.1f" % kv for kv in sorted(kind_time.items())))
    slowest.sort(reverse=True)
    print("differential: slowest queries: %s" % ", ".join("%d (%.1f s)" % (i, t)
                                                          for t, i in slowest[:5]))
    print("differential: %d queries, %d differences, seed %d" % (ran, runner.differences, seed))
    return 1 if runner.differences else 0


if __name__ == "__main__":
    sys.exit(main())
