#!/usr/bin/env python3
"""test/drivers/odbc_test.py: rds_tasks through psqlODBC (the "PostgreSQL
Unicode" driver) and pyodbc, the way Excel, Power BI and other ODBC tools
query it.

Run by test/drivers/run.sh as  python3 odbc_test.py ZONE  with PGHOST, PGPORT,
PGUSER, PGPASSWORD, PGDATABASE (a database set up by run.sh: rds_tasks and its
local copy local_tasks) and RDS_SIM_HTTP.  The session time zone is ZONE
(through PGTZ, which libpq under psqlODBC sends at connection start).

Every case runs its query over rds_tasks with the simulator's request log
cleared first, then the same query (same connection, same parameters) over
local_tasks, and asserts (a) the same rows and (b) the number of HTTP requests
the simulator logged, from EXPECTED below.  Prints "ok N - ..." /
"not ok N - ..." lines and "# requests CASE@ZONE = N".
"""

import datetime
import json
import os
import sys
import threading
import time
import urllib.request

# Expected HTTP requests per case: "case" for every session time zone and
# connection mode, "case/mode", "case@Zone" or "case/mode@Zone" to narrow it
# (the most specific wins).  Modes: "buffered" (psqlODBC's default: the whole
# result is read into the client), "declarefetch" (UseDeclareFetch=1,
# Fetch=50: a cursor, autocommit off) and "declarefetch_autocommit" (the same
# with autocommit on, as most tools run; the "declarefetch" counts apply).
# The data: 2000 tasks at pages of 50, so 40 requests read the whole list;
# 'Failed' is 3 pages, 'Completed' 38.  {ts}/{d} escapes become timestamp/
# date values, pushed as start_time/end_time computed in the session's
# TimeZone.  Buffered, psqlODBC sends ? parameters untyped (timestamptz);
# with UseDeclareFetch=1 it writes them into the DECLARE's text as typed
# literals (timestamp, date): pushed either way.
EXPECTED = {
    "param_status": 3,                          # status = ? ('Failed')
    "param_status_ts": 26,                      # status = ? AND create_time >= ? (datetime)
    "ts_escape_ge": 29,                         # create_time >= {ts '...'}
    "ts_escape_between": 15,                    # status = 'Completed' AND BETWEEN {ts} AND {ts}
    "d_escape_lt": 28,                          # create_time < {d '...'}: midnight UTC ...
    "d_escape_lt@Europe/Berlin": 27,            # ... or an hour earlier, in Berlin
    "param_datetime_ge": 29,                    # create_time >= ? (datetime.datetime)
    "param_date_between": 16,                   # BETWEEN ? AND ? (datetime.date)
    "first_rows/buffered": 40,                  # fetchmany(50) of SELECT *: all read first
    "first_rows/declarefetch": 1,               # a cursor: one page
    "cancel": 1,                                # the hanging request
    "after_cancel": 3,
    "metadata": 0,                              # SQLTables/SQLColumns: the catalogs only
}

MODES = {
    "buffered": "UseDeclareFetch=0",
    "declarefetch": "UseDeclareFetch=1;Fetch=50",
    "declarefetch_autocommit": "UseDeclareFetch=1;Fetch=50",
}

SIM = os.environ["RDS_SIM_HTTP"]
ZONE = sys.argv[1] if len(sys.argv) > 1 else "UTC"
n = 0
failed = 0


def ok(cond, desc):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - odbc %s: %s" % ("ok" if cond else "not ok", n, ZONE, desc), flush=True)
    return cond


def sim(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(SIM + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def clear_log():
    sim("POST", "/_sim/log/clear", {})


def log_lines():
    return [l for l in sim("GET", "/_sim/log?format=text").splitlines() if l.strip()]


# a mode without an entry of its own takes its family's
FAMILY = {"declarefetch_autocommit": "declarefetch"}


def expected(name, mode):
    fam = FAMILY.get(mode, mode)
    for key in ("%s/%s@%s" % (name, mode, ZONE), "%s/%s" % (name, mode),
                "%s/%s@%s" % (name, fam, ZONE), "%s/%s" % (name, fam),
                "%s@%s" % (name, ZONE), name):
        if key in EXPECTED:
            return EXPECTED[key]
    return None


def requests(name, mode, lines):
    want = expected(name, mode)
    print("# requests %s/%s@%s = %d" % (name, mode, ZONE, len(lines)))
    if not ok(want == len(lines), "%s/%s: %d HTTP requests (expected %s)"
              % (name, mode, len(lines), want)):
        for l in lines:
            print("#   " + l)


def rows(cur):
    return sorted(tuple(str(v) for v in r) for r in cur.fetchall())


def check(conn, mode, name, sql, params=()):
    print("# %s/%s: %s %r" % (name, mode, sql, params))
    cur = conn.cursor()
    try:
        clear_log()
        cur.execute(sql, *params)
        got = rows(cur)
        lines = log_lines()
        cur.execute(sql.replace("rds_tasks", "local_tasks"), *params)
        want = rows(cur)
        ok(got == want and len(got) > 0, "%s/%s: %d rows, same as local_tasks (%d)"
           % (name, mode, len(got), len(want)))
        requests(name, mode, lines)
    except Exception as e:          # pyodbc.Error and anything else: a failed case
        ok(False, "%s/%s: %s" % (name, mode, e))
        ok(False, "%s/%s: requests not counted" % (name, mode))
        conn.rollback()
    finally:
        cur.close()


def connect(mode):
    import pyodbc
    host = os.environ.get("PGHOST", "localhost")
    if host.startswith("/"):
        host = "localhost"
    cs = ";".join([
        "Driver={PostgreSQL Unicode}",
        "Server=" + host,
        "Port=" + os.environ.get("PGPORT", "5432"),
        "Database=" + os.environ.get("PGDATABASE", "postgres"),
        "Uid=" + os.environ.get("PGUSER", "postgres"),
        "Pwd=" + os.environ.get("PGPASSWORD", ""),
        MODES[mode],
    ])
    return pyodbc.connect(cs, autocommit=(mode != "declarefetch"))


def main():
    os.environ["PGTZ"] = ZONE
    import pyodbc
    print("# pyodbc %s, driver manager %s" % (pyodbc.version, pyodbc.drivers()))
    for mode in MODES:
        conn = connect(mode)
        cur = conn.cursor()
        tz = cur.execute("SHOW TimeZone").fetchone()[0]
        ok(tz == ZONE, "%s: session TimeZone %s" % (mode, tz))
        print("# driver %s %s" % (conn.getinfo(pyodbc.SQL_DRIVER_NAME),
                                  conn.getinfo(pyodbc.SQL_DRIVER_VER)))
        # the planner's one size-estimate request, outside the cases
        cur.execute("EXPLAIN SELECT * FROM rds_tasks").fetchall()
        # bounds from the data, as local times of the session's zone
        lo, hi = cur.execute(
            "SELECT to_char(percentile_disc(0.3) WITHIN GROUP (ORDER BY create_time), "
            "'YYYY-MM-DD HH24:MI:SS'), to_char(percentile_disc(0.7) WITHIN GROUP "
            "(ORDER BY create_time), 'YYYY-MM-DD HH24:MI:SS') FROM local_tasks").fetchone()
        print("# bounds (%s) %s .. %s" % (ZONE, lo, hi))
        cur.close()
        if not conn.autocommit:
            conn.commit()
        lo_dt = datetime.datetime.strptime(lo, "%Y-%m-%d %H:%M:%S")
        hi_dt = datetime.datetime.strptime(hi, "%Y-%m-%d %H:%M:%S")

        check(conn, mode, "param_status",
              "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ?", ("Failed",))
        check(conn, mode, "param_status_ts",
              "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ? "
              "AND create_time >= ?", ("Completed", lo_dt))
        check(conn, mode, "ts_escape_ge",
              "SELECT id, status, create_time FROM rds_tasks WHERE create_time >= {ts '%s'}" % lo)
        check(conn, mode, "ts_escape_between",
              "SELECT id, status, create_time FROM rds_tasks WHERE status = 'Completed' "
              "AND create_time BETWEEN {ts '%s'} AND {ts '%s'}" % (lo, hi))
        check(conn, mode, "d_escape_lt",
              "SELECT id, status, create_time FROM rds_tasks WHERE create_time < {d '%s'}" % hi[:10])
        check(conn, mode, "param_datetime_ge",
              "SELECT id, status, create_time FROM rds_tasks WHERE create_time >= ?", (lo_dt,))
        check(conn, mode, "param_date_between",
              "SELECT id, status, create_time FROM rds_tasks WHERE create_time BETWEEN ? AND ?",
              (lo_dt.date(), hi_dt.date()))

        # what an ODBC tool's table list sees
        print("# metadata/%s: SQLTables, SQLColumns" % mode)
        cur = conn.cursor()
        clear_log()
        found = sorted((r.table_name, r.table_type) for r in cur.tables(schema="public")
                       if r.table_name.endswith("tasks"))
        ncols = len(cur.columns(table="rds_tasks", schema="public").fetchall())
        lines = log_lines()
        cur.close()
        if not conn.autocommit:
            conn.commit()
        print("# metadata/%s: SQLTables gives %s" % (mode, found))
        ok(any(t[0] == "rds_tasks" for t in found), "metadata/%s: SQLTables lists rds_tasks (%s)"
           % (mode, ", ".join("%s %s" % t for t in found)))
        ok(ncols == 11, "metadata/%s: SQLColumns gives %d columns" % (mode, ncols))
        requests("metadata", mode, lines)

        # the first 50 rows of the whole list: buffered, psqlODBC reads the
        # whole result before the first row; with UseDeclareFetch a cursor
        print("# first_rows/%s: fetchmany(50) of SELECT * FROM rds_tasks" % mode)
        cur = conn.cursor()
        clear_log()
        cur.execute("SELECT id, status FROM rds_tasks")
        got = [tuple(r) for r in cur.fetchmany(50)]
        lines = log_lines()
        cur.close()
        if not conn.autocommit:
            conn.commit()
        cur = conn.cursor()
        want = [tuple(r) for r in
                cur.execute("SELECT id, status FROM local_tasks").fetchmany(50)]
        cur.close()
        if not conn.autocommit:
            conn.commit()
        ok(got == want and len(got) == 50,
           "first_rows/%s: the first 50 rows in the API's order, same as local_tasks" % mode)
        requests("first_rows", mode, lines)

        # SQLCancel from another thread while the simulator hangs (pyodbc's
        # Connection.timeout is SQL_ATTR_CONNECTION_TIMEOUT, which psqlODBC
        # does not support)
        print("# cancel/%s: the first request hangs, SQLCancel after 1 s" % mode)
        sim("POST", "/_sim/faults/clear", {})
        sim("POST", "/_sim/faults", {"faults": [{"kind": "hang", "seconds": 30}]})
        clear_log()
        cur = conn.cursor()
        canceller = threading.Timer(1.0, cur.cancel)
        t0 = time.monotonic()
        err = None
        canceller.start()
        try:
            cur.execute("SELECT id, status FROM rds_tasks WHERE status = 'Failed'").fetchall()
        except Exception as e:
            err = e
        secs = time.monotonic() - t0
        canceller.join()
        cur.close()
        if not conn.autocommit:
            conn.rollback()
        print("# cancel/%s: %s" % (mode, err))
        ok(err is not None and err.args[0] in ("HY008", "57014"),
           "cancel/%s: the query was canceled (%s)" % (mode, err.args[0] if err else None))
        ok(secs < 3.0, "cancel/%s: it ended %.2f s after it started" % (mode, secs))
        time.sleep(0.3)
        requests("cancel", mode, log_lines())
        sim("POST", "/_sim/faults/clear", {})
        check(conn, mode, "after_cancel",
              "SELECT id, name, status, create_time FROM rds_tasks WHERE status = ?", ("Failed",))

        ok(conn.cursor().execute("SELECT 1").fetchone()[0] == 1,
           "%s: the connection is usable at the end" % mode)
        conn.close()
    print("# odbc %s: %d passed, %d failed" % (ZONE, n - failed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
