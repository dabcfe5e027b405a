#!/usr/bin/env python3
"""bench/dashboard.py: a BI dashboard against rds_task_fdw (run by bench/dashboard.sh).

Inside a throwaway cluster (PGHOST/PGPORT set by pg_virtualenv), against a
running simulator (RDS_SIM_HTTP/RDS_SIM_HTTPS/RDS_SIM_CA), for the extension
build that is installed now (--variant names it):

  - the six panels of a dashboard, each a query on rds_tasks;
  - their reference results, computed once over a local copy of the list
    (no pushdown, no cache): every panel result below is compared with them;
  - the requests each panel costs alone, in a fresh session, cache off;
  - panels as Grafana, Superset and Metabase write them (BI_PANELS), each
    alone, next to the requests of its hand-written form;
  - for cache_ttl off and on, and 1, 4 and 16 concurrent sessions: several
    refreshes of the whole dashboard (the sessions start each refresh
    together, as viewers of one dashboard do), the API requests per refresh
    (the simulator's own count), the highest number of requests in flight,
    and p50/p95 of the panel times.

Writes its measurements as JSON (--out); dashboard.sh prints the variants side
by side.
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Psql, Sim, setup_server, log  # noqa: E402

# The panels.  {t} is the table, {t0} the simulator's "now" (its base_time),
# a literal so that the windows stay put while the benchmark runs.
PANELS = [
    ("tasks per status, 7 days",
     """SELECT status, count(*) FROM {t}
         WHERE create_time >= {t0} - interval '7 days' GROUP BY status ORDER BY status"""),
    ("failures per day, 30 days",
     """SELECT date_trunc('day', create_time) AS day, count(*) FROM {t}
         WHERE status = 'Failed' AND create_time >= {t0} - interval '30 days'
         GROUP BY 1 ORDER BY 1"""),
    ("top failing actions",
     """SELECT name, count(*) FROM {t}
         WHERE status = 'Failed' AND create_time >= {t0} - interval '30 days'
         GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5"""),
    ("failed, last 24 hours",
     """SELECT create_time, name, instance_name, fail_reason FROM {t}
         WHERE status = 'Failed' AND create_time >= {t0} - interval '24 hours'
         ORDER BY create_time DESC, id"""),
    ("failures per team",
     """SELECT i.team, count(*) FROM inventory i JOIN {t} t ON t.instance_id = i.instance_id
         WHERE t.status = 'Failed' GROUP BY i.team ORDER BY 1"""),
    ("running tasks",
     """SELECT id, name, instance_name, process FROM {t}
         WHERE status = 'Running' ORDER BY create_time DESC, id"""),
]
# the GROUP BY panels (at most groups + 2 requests each): how many groups
# they aggregate (before a LIMIT), over the local copy
GROUPS = {
    0: "SELECT count(DISTINCT status) FROM {t} WHERE create_time >= {t0} - interval '7 days'",
    1: """SELECT count(DISTINCT date_trunc('day', create_time)) FROM {t}
           WHERE status = 'Failed' AND create_time >= {t0} - interval '30 days'""",
    2: """SELECT count(DISTINCT name) FROM {t}
           WHERE status = 'Failed' AND create_time >= {t0} - interval '30 days'""",
}


# Panels as BI tools write them (test/bi_panels.py runs these forms against a
# local copy and cites the tools' sources), each with its hand-written form:
# the same numbers in forms the README lists as pushed.  {t}: the table,
# {qt}: the table as Metabase quotes it, {g0}/{g1}: Grafana's range (the
# last 30 days, as $__timeFilter writes it), {s0}/{s1}: Superset's range
# (TO_TIMESTAMP literals' text), {m30}/{m7}/{mtoday}: what Metabase's
# relative bounds evaluate to (hand-written forms only).  A hand-written form
# may be several statements; their requests add up.
BI_PANELS = [
    ("grafana: tasks per day",
     """SELECT floor(extract(epoch from create_time)/86400)*86400 AS "time", count(*) AS tasks
          FROM {t} WHERE create_time BETWEEN '{g0}' AND '{g1}' GROUP BY 1 ORDER BY 1""",
     ["""SELECT date_trunc('day', create_time, 'UTC'), count(*) FROM {t}
          WHERE create_time >= '{g0}' AND create_time <= '{g1}' GROUP BY 1"""]),
    ("grafana: per day and status",
     """SELECT floor(extract(epoch from create_time)/86400)*86400 AS "time", status AS metric,
               count(*) AS tasks
          FROM {t} WHERE create_time BETWEEN '{g0}' AND '{g1}' GROUP BY 1, 2 ORDER BY 1, 2""",
     ["""SELECT date_trunc('day', create_time, 'UTC'), count(*) FROM {t}
          WHERE status = '%s' AND create_time >= '{g0}' AND create_time <= '{g1}' GROUP BY 1""" % st
      for st in ("Completed", "Failed", "Running")]),
    ("grafana: failure rate per day",
     """SELECT floor(extract(epoch from create_time)/86400)*86400 AS "time",
               round(100.0 * count(*) FILTER (WHERE status = 'Failed') / count(*), 2) AS "failed %"
          FROM {t} WHERE create_time BETWEEN '{g0}' AND '{g1}' GROUP BY 1 ORDER BY 1""",
     ["""SELECT date_trunc('day', create_time, 'UTC'), count(*) FROM {t}
          WHERE status = 'Failed' AND create_time >= '{g0}' AND create_time <= '{g1}' GROUP BY 1""",
      """SELECT date_trunc('day', create_time, 'UTC'), count(*) FROM {t}
          WHERE create_time >= '{g0}' AND create_time <= '{g1}' GROUP BY 1"""]),
    ("superset: tasks per week",
     """SELECT DATE_TRUNC('week', create_time) AS create_time, COUNT(*) AS count FROM {t}
         WHERE create_time >= TO_TIMESTAMP('{s0}', 'YYYY-MM-DD HH24:MI:SS.US')
           AND create_time < TO_TIMESTAMP('{s1}', 'YYYY-MM-DD HH24:MI:SS.US')
         GROUP BY DATE_TRUNC('week', create_time) LIMIT 10000""",
     ["""SELECT date_trunc('week', day), sum(n) FROM (SELECT date_trunc('day', create_time) AS day,
               count(*) AS n FROM {t} WHERE create_time >= '{s0}' AND create_time < '{s1}'
               GROUP BY 1) d GROUP BY 1"""]),
    ("superset: failed per day (CASE)",
     """SELECT DATE_TRUNC('day', create_time) AS create_time,
               SUM(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS count
          FROM {t}
         WHERE create_time >= TO_TIMESTAMP('{s0}', 'YYYY-MM-DD HH24:MI:SS.US')
           AND create_time < TO_TIMESTAMP('{s1}', 'YYYY-MM-DD HH24:MI:SS.US')
         GROUP BY DATE_TRUNC('day', create_time) LIMIT 10000""",
     ["""SELECT date_trunc('day', create_time), count(*) FROM {t}
          WHERE status = 'Failed' AND create_time >= '{s0}' AND create_time < '{s1}' GROUP BY 1""",
      """SELECT date_trunc('day', create_time), count(*) FROM {t}
          WHERE create_time >= '{s0}' AND create_time < '{s1}' GROUP BY 1"""]),
    ("metabase: per day, previous 30 days",
     """SELECT CAST({qt}."create_time" AS date) AS "create_time", COUNT(*) AS "count" FROM {qt}
         WHERE ({qt}."create_time" >= CAST((NOW() + INTERVAL '-30 day') AS date))
           AND ({qt}."create_time" < CAST(NOW() AS date))
         GROUP BY CAST({qt}."create_time" AS date) ORDER BY CAST({qt}."create_time" AS date) ASC""",
     ["""SELECT date_trunc('day', create_time), count(*) FROM {t}
          WHERE create_time >= timestamptz '{m30}' AND create_time < timestamptz '{mtoday}' GROUP BY 1"""]),
    ("metabase: per status, previous 7 days",
     """SELECT {qt}."status" AS "status", COUNT(*) AS "count" FROM {qt}
         WHERE ({qt}."create_time" >= CAST((NOW() + INTERVAL '-7 day') AS date))
           AND ({qt}."create_time" < CAST(NOW() AS date))
         GROUP BY {qt}."status" ORDER BY {qt}."status" ASC""",
     ["""SELECT status, count(*) FROM {t}
          WHERE create_time >= timestamptz '{m7}' AND create_time < timestamptz '{mtoday}' GROUP BY status"""]),
    ("metabase: per week from Sunday",
     """SELECT (DATE_TRUNC('week', ({qt}."create_time" + INTERVAL '1 day')) + INTERVAL '-1 day')
               AS "create_time", COUNT(*) AS "count" FROM {qt}
         WHERE ({qt}."create_time" >= CAST((NOW() + INTERVAL '-30 day') AS date))
           AND ({qt}."create_time" < CAST(NOW() AS date))
         GROUP BY (DATE_TRUNC('week', ({qt}."create_time" + INTERVAL '1 day')) + INTERVAL '-1 day')
         ORDER BY 1 ASC""",
     ["""SELECT date_trunc('week', day + interval '1 day') - interval '1 day', sum(n)
          FROM (SELECT date_trunc('day', create_time) AS day, count(*) AS n FROM {t}
                 WHERE create_time >= timestamptz '{m30}' AND create_time < timestamptz '{mtoday}'
                 GROUP BY 1) d GROUP BY 1"""]),
]


def bi_sql(sql, table, qt, bounds):
    return sql.format(t=table, qt=qt, **bounds)


def bi_bounds(admin, base):
    """The panels' ranges for the simulator's now (base, epoch s)."""
    def utc(secs, fmt):
        return time.strftime(fmt, time.gmtime(secs))
    day0 = base - base % 86400
    m30, m7, mtoday = admin.query("SELECT CAST((NOW() + INTERVAL '-30 day') AS date),"
                                  " CAST((NOW() + INTERVAL '-7 day') AS date), CAST(NOW() AS date)")[0].split("|")
    return {"g0": utc(base - 30 * 86400, "%Y-%m-%dT%H:%M:%S") + ".123Z",
            "g1": utc(base, "%Y-%m-%dT%H:%M:%SZ"),
            "s0": utc(day0 - 30 * 86400, "%Y-%m-%d %H:%M:%S") + ".000000",
            "s1": utc(day0, "%Y-%m-%d %H:%M:%S") + ".000000",
            "m30": m30, "m7": m7, "mtoday": mtoday}


def panel_sql(i, table, t0):
    return PANELS[i][1].format(t=table, t0="timestamptz '%s'" % t0)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def session(args):
    s = Psql()
    s.query("SET client_min_messages = warning")
    s.query("SET search_path = dash, public")
    s.query("SET TimeZone = 'UTC'")
    return s


def run_config(sim, args, t0, reference, cache_ttl, nsessions):
    """One configuration: nsessions sessions, args.refreshes refreshes."""
    admin = session(args)
    admin.query("ALTER FOREIGN TABLE dash.rds_tasks OPTIONS (SET cache_ttl '%d')" % cache_ttl)
    admin.query("SELECT rds_task_fdw_cache_clear()")
    admin.close()
    sessions = [session(args) for _ in range(nsessions)]
    sim.clear_stats()
    times = [[] for _ in PANELS]
    wrong = []
    barrier = threading.Barrier(nsessions)
    lock = threading.Lock()

    def viewer(s):
        for _ in range(args.refreshes):
            barrier.wait()
            for i in range(len(PANELS)):
                t = time.monotonic()
                rows = s.query(panel_sql(i, "rds_tasks", t0))
                dt = time.monotonic() - t
                with lock:
                    times[i].append(dt)
                    if rows != reference[i]:
                        wrong.append(PANELS[i][0])

    threads = [threading.Thread(target=viewer, args=(s,)) for s in sessions]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.monotonic() - t
    stats = sim.stats()
    for s in sessions:
        s.close()
    alltimes = [x for ts in times for x in ts]
    return {"cache_ttl": cache_ttl, "sessions": nsessions, "refreshes": args.refreshes,
            "requests": stats["requests"],
            "requests_per_refresh": stats["requests"] / args.refreshes,
            "max_in_flight": stats.get("max_in_flight"),
            "p50_ms": percentile(alltimes, 50) * 1000, "p95_ms": percentile(alltimes, 95) * 1000,
            "panel_p50_ms": [percentile(ts, 50) * 1000 for ts in times],
            "wall_s": wall, "wrong": sorted(set(wrong))}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", required=True)
    p.add_argument("--tasks", type=int, default=10000)
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument("--refreshes", type=int, default=3)
    p.add_argument("--sessions", default="1 4 16")
    p.add_argument("--cache-ttl", type=int, default=300)
    p.add_argument("--base-time", type=int, required=True,
                   help="the simulator's now (epoch s): the same data set for every build")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    sim = Sim(os.environ["RDS_SIM_HTTP"])
    # tasks over the 30 days before now, so that the panels' windows hold them
    base = sim.call("POST", "/_sim/reset", {"tasks": args.tasks, "seed": 11,
                                            "base_time": args.base_time})["base_time"]
    sim.call("POST", "/_sim/config", {"latency_ms": 0, "actions": "page"})
    t0 = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(base))
    admin = session(args)
    setup_server(admin, "dash_sim", ["dash"])
    version = admin.query("SELECT extversion FROM pg_extension WHERE extname = 'rds_task_fdw'")[0]

    # the reference: every panel over a local copy (one full read)
    admin.query("CREATE TABLE dash.local AS SELECT * FROM dash.rds_tasks")
    n = int(admin.query("SELECT count(*) FROM dash.local")[0])
    # an inventory of 20 instances in 4 teams
    admin.query("""CREATE TABLE dash.inventory AS
                     SELECT instance_id, 'team-' || (row_number() OVER (ORDER BY instance_id) % 4)
                            AS team
                       FROM (SELECT DISTINCT instance_id FROM dash.local ORDER BY 1 LIMIT 20) i""")
    admin.query("ANALYZE dash.inventory")
    admin.query("ALTER FOREIGN TABLE dash.rds_tasks OPTIONS (ADD cache_ttl '0')")
    reference = [admin.query(panel_sql(i, "dash.local", t0)) for i in range(len(PANELS))]
    groups = {i: int(admin.query(q.format(t="dash.local", t0="timestamptz '%s'" % t0))[0])
              for i, q in GROUPS.items()}
    admin.close()
    sim.call("POST", "/_sim/config", {"latency_ms": args.latency_ms})

    # each panel alone, in a fresh session, cache off
    alone = []
    for i in range(len(PANELS)):
        s = session(args)
        sim.clear_stats()
        rows = s.query(panel_sql(i, "rds_tasks", t0))
        req = sim.stats()["requests"]
        s.close()
        alone.append({"panel": PANELS[i][0], "requests": req, "rows": len(rows),
                      "groups": groups.get(i), "right": rows == reference[i]})
        log("  %-28s %4d requests, %3d rows%s" % (PANELS[i][0], req, len(rows),
                                                  "" if rows == reference[i] else "  WRONG"))

    # the BI tools' panels alone, each next to its hand-written form
    admin = session(args)
    bounds = bi_bounds(admin, base)
    bi_ref = [sorted(admin.query(bi_sql(sql, "dash.local", '"dash"."local"', bounds)))
              for _, sql, _ in BI_PANELS]
    admin.close()
    bi = []
    for k, (name, sql, hand) in enumerate(BI_PANELS):
        s = session(args)
        sim.clear_stats()
        rows = sorted(s.query(bi_sql(sql, "rds_tasks", '"dash"."rds_tasks"', bounds)))
        req = sim.stats()["requests"]
        s.close()
        s = session(args)
        sim.clear_stats()
        for h in hand:
            s.query(bi_sql(h, "rds_tasks", '"dash"."rds_tasks"', bounds))
        hreq = sim.stats()["requests"]
        s.close()
        bi.append({"panel": name, "requests": req, "hand_requests": hreq, "rows": len(rows),
                   "right": rows == bi_ref[k]})
        log("  %-36s %4d requests, hand-written %4d, %3d rows%s"
            % (name, req, hreq, len(rows), "" if rows == bi_ref[k] else "  WRONG"))

    # the API's actions may list every name of the filtered list, not only
    # the page's (undocumented): the names panel then needs no page read
    sim.call("POST", "/_sim/config", {"actions": "list"})
    s = session(args)
    sim.clear_stats()
    rows = s.query(panel_sql(2, "rds_tasks", t0))
    names_list = {"requests": sim.stats()["requests"], "right": rows == reference[2]}
    s.close()
    sim.call("POST", "/_sim/config", {"actions": "page"})
    log("  %-28s %4d requests (actions listing every name)" % (PANELS[2][0], names_list["requests"]))

    configs = []
    for ttl in (0, args.cache_ttl):
        for ns in [int(x) for x in args.sessions.split()]:
            r = run_config(sim, args, t0, reference, ttl, ns)
            configs.append(r)
            log("  cache_ttl %-4d %2d sessions: %6.1f requests/refresh, p50 %6.0f ms, p95 %6.0f ms%s"
                % (ttl, ns, r["requests_per_refresh"], r["p50_ms"], r["p95_ms"],
                   "  WRONG: " + ", ".join(r["wrong"]) if r["wrong"] else ""))
    with open(args.out, "w") as f:
        json.dump({"variant": args.variant, "version": version, "tasks": n,
                   "latency_ms": args.latency_ms, "alone": alone, "configs": configs,
                   "names_list": names_list, "bi": bi,
                   "reference_rows": [len(r) for r in reference]}, f)


if __name__ == "__main__":
    main()
