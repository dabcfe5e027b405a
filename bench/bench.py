#!/usr/bin/env python3
"""bench/bench.py: the measurements of bench/run.sh, run inside pg_virtualenv.

Talks to PostgreSQL through long-lived psql sessions (one backend each, so
"first scan in a fresh backend" and "repeated scan in the same backend" are
real), to the simulator's control API over its plain HTTP listener (so the
control calls add no TLS handshakes), and reads the backends' memory and CPU
from /proc (run as root, or as the cluster's owner).

Environment: RDS_SIM_HTTP, RDS_SIM_HTTPS, RDS_SIM_CA (test/lib.sh start_sim)
and the PG* variables pg_virtualenv sets.  Python standard library only.

Measured, for each size (number of tasks):
  fdw       the FDW with its defaults (parallel_requests 4, or --parallel N):
            EXPLAIN ANALYZE SELECT count(id), execution time; first scan in a
            fresh backend, then --repeats scans in the same backend
  seq       the same with parallel_requests 1
  naive     bench/naive.sh: a curl per page piped into psql \\copy (wall time)
  ideal     (1 + ceil((pages - 1) / P)) * latency
and at zero latency, for the largest size: backend CPU per row of FDW scans
against json_populate_recordset over the same response bodies in a table.
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token-0001"
DEFAULT_PARALLEL = 4            # SPEC.md: parallel_requests defaults to 4
PAGE_SIZE = 50

FIELDS = ("id", "name", "instance_id", "instance_name", "instance_status", "order_id",
          "process", "fail_reason", "create_time", "end_time", "status")
TABLE_COLUMNS = """id text, name text, instance_id text, instance_name text,
  instance_status text, order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text"""


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# simulator control API (plain HTTP: no TLS handshakes counted)
# ---------------------------------------------------------------------------

class Sim:
    def __init__(self, http_base):
        self.base = http_base

    def call(self, method, path, doc=None):
        data = json.dumps(doc).encode() if doc is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"{}")

    def reset(self, tasks, latency_ms):
        self.call("POST", "/_sim/reset", {"tasks": tasks})
        self.call("POST", "/_sim/config", {"latency_ms": latency_ms})
        return self.call("GET", "/_sim/config")

    def latency(self, ms):
        self.call("POST", "/_sim/config", {"latency_ms": ms})

    def clear_stats(self):
        self.call("POST", "/_sim/stats/clear")

    def stats(self):
        return self.call("GET", "/_sim/stats")


# ---------------------------------------------------------------------------
# /proc readings of a backend
# ---------------------------------------------------------------------------

def proc_status(pid):
    """VmRSS, VmHWM, RssAnon... in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.startswith(("Vm", "Rss")):
                out[key] = int(value.split()[0])
    return out


def proc_cpu_ns(pid):
    """CPU time of the process in ns: the sum of its threads' schedstat
    (ns resolution) when available, else utime+stime from /proc/PID/stat."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return total
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])     # utime, stime
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples VmRSS of a backend every interval seconds until stopped; on
    request also asks the backend to log its memory contexts."""

    def __init__(self, pid, interval=0.05, ctx_session=None, ctx_every=None):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.ctx_session, self.ctx_every = ctx_session, ctx_every
        self.peak_kb = 0
        self.samples = 0
        self.ctx_dumps = 0
        self.halt = threading.Event()

    def run(self):
        next_dump = time.monotonic() + 0.2
        while not self.halt.is_set():
            try:
                self.peak_kb = max(self.peak_kb, proc_status(self.pid).get("VmRSS", 0))
                self.samples += 1
            except OSError:
                pass
            if self.ctx_session and time.monotonic() >= next_dump:
                try:
                    self.ctx_session.query("SELECT pg_log_backend_memory_contexts(%d)" % self.pid)
                    self.ctx_dumps += 1
                except Exception:
                    self.ctx_session = None
                next_dump = time.monotonic() + self.ctx_every
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join()


# ---------------------------------------------------------------------------
# psql sessions
# ---------------------------------------------------------------------------

class SqlError(Exception):
    pass


class Psql:
    """One psql process = one backend.  query() sends SQL and returns the
    output lines (unaligned, tuples only); errors raise SqlError."""

    def __init__(self):
        cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-P", "pager=off"]
        if subprocess.call(["sh", "-c", "command -v stdbuf"], stdout=subprocess.DEVNULL) == 0:
            cmd = ["stdbuf", "-oL", "-eL"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.n = 0
        self.lock = threading.Lock()
        self.pid = int(self.query("SELECT pg_backend_pid()")[0])

    def query(self, sql, check=True):
        with self.lock:
            self.n += 1
            mark = "__bench_mark_%d__" % self.n
            sql = sql.strip()
            if not sql.startswith("\\"):
                sql = sql.rstrip(";") + ";"
            self.proc.stdin.write(sql + "\n\\echo %s\n" % mark)
            self.proc.stdin.flush()
            lines = []
            while True:
                line = self.proc.stdout.readline()
                if not line:
                    raise SqlError("psql exited: %s" % "\n".join(lines))
                line = line.rstrip("\n")
                if line == mark:
                    break
                lines.append(line)
        if check and any(re.search(r"\b(ERROR|FATAL|PANIC):", l) for l in lines):
            raise SqlError("%s\n-> %s" % (sql.strip(), "\n".join(lines)))
        return lines

    def timed(self, sql):
        """Run sql; returns (lines, wall seconds, backend CPU seconds)."""
        cpu0 = proc_cpu_ns(self.pid)
        t0 = time.monotonic()
        lines = self.query(sql)
        wall = time.monotonic() - t0
        cpu = (proc_cpu_ns(self.pid) - cpu0) / 1e9
        return lines, wall, cpu

    def close(self):
        try:
            self.proc.stdin.write("\\q\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        self.proc.wait(timeout=30)


def setup_server(admin, server, schemas):
    """The extension, a server on the simulator's HTTPS listener with its CA,
    the user mapping, and rds_tasks imported into each of schemas."""
    admin.query("SET client_min_messages = warning")
    admin.query("CREATE EXTENSION IF NOT EXISTS rds_task_fdw")
    log("rds_task_fdw %s, %s" % (admin.query("SELECT extversion FROM pg_extension WHERE extname = 'rds_task_fdw'")[0],
                                 admin.query("SELECT version()")[0].split(",")[0]))
    admin.query("""CREATE SERVER %s FOREIGN DATA WRAPPER rds_task_fdw
                   OPTIONS (endpoint '%s', project_id '%s', ca_file '%s')"""
                % (server, os.environ["RDS_SIM_HTTPS"], PROJECT, os.environ["RDS_SIM_CA"]))
    admin.query("CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (auth_token '%s')"
                % (server, TOKEN))
    for schema in schemas:
        admin.query("CREATE SCHEMA %s" % schema)
        admin.query("IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER %s INTO %s"
                    % (server, schema))


def parse_explain(lines):
    text = "\n".join(lines)
    out = {"exec_s": None, "plan_s": None, "rows": None, "http": None}
    m = re.search(r"Execution Time: ([\d.]+) ms", text)
    if m:
        out["exec_s"] = float(m.group(1)) / 1000
    m = re.search(r"Planning Time: ([\d.]+) ms", text)
    if m:
        out["plan_s"] = float(m.group(1)) / 1000
    m = re.search(r"Foreign Scan.*?actual rows=(\d+)", text)
    if m:
        out["rows"] = int(m.group(1))
    m = re.search(r"HTTP requests: ?(.*)", text)
    if m:
        out["http"] = m.group(1).strip()
    if out["exec_s"] is None:
        raise SqlError("no execution time in EXPLAIN output:\n" + text)
    return out


# ---------------------------------------------------------------------------
# the measurements
# ---------------------------------------------------------------------------

def ideal_s(pages, parallel, latency_ms):
    return (1 + math.ceil((pages - 1) / parallel)) * latency_ms / 1000.0


def fdw_scans(sim, table, n_tasks, repeats, ctl=None, sample_memory=False, expect_s=None):
    """A fresh backend: its idle memory, a first scan, then `repeats` scans
    in the same backend.  Each scan: EXPLAIN ANALYZE SELECT count(id)."""
    sql = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(id) FROM %s" % table
    s = Psql()
    res = {"pid": s.pid, "runs": []}
    try:
        res["idle"] = proc_status(s.pid)
        for i in range(1 + repeats):
            sim.clear_stats()
            sampler = None
            if sample_memory and i == 0:
                every = max(0.5, (expect_s or 10) / 8)
                sampler = RssSampler(s.pid, ctx_session=ctl, ctx_every=every)
                sampler.start()
            try:
                lines, wall, cpu = s.timed(sql)
            finally:
                if sampler:
                    sampler.stop()
            run = parse_explain(lines)
            run.update(wall_s=wall, cpu_s=cpu, stats=sim.stats(), first=(i == 0))
            if run["rows"] is not None and run["rows"] != n_tasks:
                raise SqlError("%s returned %d rows, expected %d" % (table, run["rows"], n_tasks))
            if sampler:
                run["rss_peak_sampled_kb"] = sampler.peak_kb
                run["ctx_dumps"] = sampler.ctx_dumps
            run["mem"] = proc_status(s.pid)
            res["runs"].append(run)
            log("    %s scan %d: %.3f s exec (+%.3f s planning), %s, TLS handshakes %d, "
                "max in flight %d, backend CPU %.3f s"
                % (table, i + 1, run["exec_s"], run["plan_s"] or 0, run["http"],
                   run["stats"]["tls_handshakes"], run["stats"]["max_in_flight"], cpu))
    finally:
        s.close()
    return res


def naive_runs(sim, args, n_tasks, repeats):
    admin = Psql()
    res = {"runs": []}
    try:
        for i in range(repeats):
            admin.query("TRUNCATE naive_tasks")
            sim.clear_stats()
            t0 = time.monotonic()
            p = subprocess.run(["bash", os.path.join(HERE, "naive.sh"), os.environ["RDS_SIM_HTTPS"],
                                PROJECT, TOKEN, os.environ["RDS_SIM_CA"], "naive_tasks"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            wall = time.monotonic() - t0
            st = sim.stats()
            if p.returncode != 0:
                raise RuntimeError("naive.sh failed:\n" + p.stdout[-2000:])
            n = int(admin.query("SELECT count(*) FROM naive_tasks")[0])
            if n != n_tasks:
                raise RuntimeError("naive.sh loaded %d rows, expected %d" % (n, n_tasks))
            res["runs"].append({"wall_s": wall, "stats": st})
            log("    naive shell loop %d: %.3f s, %d requests, TLS handshakes %d"
                % (i + 1, wall, st["requests"], st["tls_handshakes"]))
        # the naive rows must be the FDW's rows
        diff = admin.query("""SELECT count(*) FROM (
              (SELECT * FROM naive_tasks EXCEPT ALL SELECT * FROM fdw_default.rds_tasks)
              UNION ALL
              (SELECT * FROM fdw_default.rds_tasks EXCEPT ALL SELECT * FROM naive_tasks)) d""")
        res["diff_rows"] = int(diff[0])
    finally:
        admin.close()
    return res


ALL_COLUMNS_FDW = "SELECT sum(length(t::text)) FROM {table} t"
ALL_COLUMNS_JSON = """SELECT sum(length(r::text)) FROM (
  SELECT NULLIF(j.id, '') AS id, NULLIF(j.name, '') AS name,
         NULLIF(j.instance_id, '') AS instance_id, NULLIF(j.instance_name, '') AS instance_name,
         NULLIF(j.instance_status, '') AS instance_status, NULLIF(j.order_id, '') AS order_id,
         NULLIF(j.process, '')::integer AS process, NULLIF(j.fail_reason, '') AS fail_reason,
         NULLIF(j.create_time, '')::timestamptz AS create_time,
         NULLIF(j.end_time, '')::timestamptz AS end_time, NULLIF(j.status, '') AS status
    FROM bodies b, json_populate_recordset(NULL::task_json, b.body->'tasks') j) r"""
COUNT_JSON = "SELECT count(j.id) FROM bodies b, json_populate_recordset(NULL::task_json, b.body->'tasks') j"
COUNT_FDW = "SELECT count(id) FROM {table}"


def load_bodies(admin, sim, args, n_tasks, work):
    """Every page's response body, fetched once with curl (one process, one
    connection), one row per page in bodies(body json)."""
    pages = math.ceil(n_tasks / PAGE_SIZE)
    cfg = os.path.join(work, "bodies.curl")
    out = os.path.join(work, "bodies.txt")
    with open(cfg, "w") as f:
        for p in range(pages):
            f.write('url = "%s/v3/%s/tasklist?offset=%d&limit=%d"\n'
                    % (os.environ["RDS_SIM_HTTPS"], PROJECT, p * PAGE_SIZE, PAGE_SIZE))
    with open(out, "w") as f:
        subprocess.run(["curl", "-sS", "-f", "--cacert", os.environ["RDS_SIM_CA"],
                        "-H", "X-Auth-Token: " + TOKEN, "-w", "\\n", "--config", cfg],
                       stdout=f, check=True)
    os.chmod(out, 0o644)
    admin.query("TRUNCATE bodies")
    # CSV with a quote and a delimiter that never occur: one line = one body, verbatim
    admin.query("\\copy bodies (body) FROM '%s' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" % out)
    admin.query("VACUUM ANALYZE bodies")
    rows, tasks, size = admin.query(
        "SELECT count(*), sum(json_array_length(body->'tasks')), sum(octet_length(body::text)) FROM bodies"
    )[0].split("|")
    if int(rows) != pages or int(tasks) != n_tasks:
        raise RuntimeError("bodies: %s pages with %s tasks, expected %d and %d"
                           % (rows, tasks, pages, n_tasks))
    return int(size)


def cpu_per_row(sim, args, n_tasks, table, work):
    """At zero latency: backend CPU per row of FDW scans and of PostgreSQL's
    json_populate_recordset over the same bodies.  Also the memory of a
    fresh backend through an all-columns scan."""
    sim.reset(n_tasks, 0)
    admin = Psql()
    try:
        body_bytes = load_bodies(admin, sim, args, n_tasks, work)
    finally:
        admin.close()
    reps = max(1, args.cpu_repeats)
    s = Psql()
    res = {"bytes": body_bytes, "n": n_tasks}
    try:
        res["idle"] = proc_status(s.pid)
        # the FDW first: its memory is read before the JSON side touches the
        # bodies table (shared buffers would count in the backend's RSS)
        cases = [("fdw_count", COUNT_FDW.format(table=table)),
                 ("fdw_all", ALL_COLUMNS_FDW.format(table=table)),
                 ("json_count", COUNT_JSON),
                 ("json_all", ALL_COLUMNS_JSON)]
        values = {}
        for name, sql in cases:
            if name == "json_count":
                res["mem"] = proc_status(s.pid)
            best_cpu = best_wall = None
            for i in range(reps + 1):       # the first run warms caches, connections
                lines, wall, cpu = s.timed(sql)
                values[name] = lines[0]
                if i == 0 and name == "fdw_count":
                    res["after_first_scan"] = proc_status(s.pid)
                if i == 0:
                    continue
                best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
                best_wall = wall if best_wall is None else min(best_wall, wall)
            res[name] = {"cpu_s": best_cpu, "wall_s": best_wall,
                         "us_per_row": best_cpu * 1e6 / n_tasks}
            log("    %-10s %s: backend CPU %.3f s (%.2f us/row), wall %.3f s"
                % (name, values[name], best_cpu, best_cpu * 1e6 / n_tasks, best_wall))
        res["same_count"] = values["fdw_count"] == values["json_count"] == str(n_tasks)
        res["same_all"] = values["fdw_all"] == values["json_all"]
    finally:
        s.close()

    # The same scans answered from the FDW's response cache (cache_ttl): no
    # HTTP, TLS or waiting, only decoding and conversion.  A separate backend,
    # since the cache holds every body.
    cached = table.split(".")[0] + "_cached.rds_tasks"
    s = Psql()
    try:
        if s.query("SELECT to_regclass('%s') IS NULL" % cached)[0] == "t":
            return res
        s.query(COUNT_FDW.format(table=cached))           # fills the cache
        for name, sql in (("cached_count", COUNT_FDW.format(table=cached)),
                          ("cached_all", ALL_COLUMNS_FDW.format(table=cached))):
            best = None
            for i in range(reps):
                sim.clear_stats()
                lines, wall, cpu = s.timed(sql)
                if sim.stats()["requests"] > 1 or lines[0] != values[name.replace("cached", "fdw")]:
                    log("    %s: not answered from the cache (%d requests); left out"
                        % (name, sim.stats()["requests"]))
                    best = None
                    break
                best = cpu if best is None else min(best, cpu)
            if best is not None:
                res[name] = {"cpu_s": best, "us_per_row": best * 1e6 / n_tasks}
                log("    %-12s backend CPU %.3f s (%.2f us/row)" % (name, best, best * 1e6 / n_tasks))
    finally:
        s.close()
    return res


def memory_contexts(logfile, pid):
    """The largest 'Grand total' the backend logged (pg_log_backend_memory_contexts),
    and the biggest contexts of that dump."""
    if not logfile or not os.path.exists(logfile):
        return None
    best = None
    cur = []
    pat = re.compile(r"\[%d\] .*?LOG:\s+(.*)" % pid)
    with open(logfile, errors="replace") as f:
        for line in f:
            m = pat.search(line)
            if not m:
                continue
            msg = m.group(1)
            if msg.startswith("logging memory contexts"):
                cur = []
            elif msg.startswith("level:"):
                cur.append(msg)
            elif msg.startswith("Grand total:"):
                g = re.match(r"Grand total: (\d+) bytes", msg)
                if g and (best is None or int(g.group(1)) > best[0]):
                    best = (int(g.group(1)), list(cur))
    if best is None:
        return None
    top = []
    for c in best[1]:
        m = re.match(r"level: (\d+); ([^:]+): (\d+) total", c)
        if m:
            top.append((int(m.group(3)), m.group(2).strip(), int(m.group(1))))
    top.sort(reverse=True)
    return {"grand_total": best[0], "top": top[:4]}


def find_logfile():
    try:
        out = subprocess.run(["pg_lsclusters", "-h"], stdout=subprocess.PIPE, text=True).stdout
    except OSError:
        return None
    port = os.environ.get("PGPORT")
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 7 and cols[2] == port:
            return cols[6]
    return None


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

def mb(kb):
    return kb / 1024.0


def report(args, results, cpu, mem_ctx, load):
    P = args.parallel
    lat = args.latency_ms
    label_p = "parallel_requests %d%s" % (P, " (default)" if P == DEFAULT_PARALLEL and not args.parallel_set else "")
    sizes = [r["n"] for r in results]
    W = 16
    lines = []

    def row(name, vals):
        lines.append("%-44s" % name + "".join("%*s" % (W, v) for v in vals))

    def f3(x):
        return "-" if x is None else "%.3f" % x

    lines.append("")
    lines.append("=" * (44 + W * len(sizes)))
    lines.append("rds_task_fdw benchmark: latency %g ms, page size %d, %s, %d cores, load %s"
                 % (lat, PAGE_SIZE, label_p, os.cpu_count(), load))
    lines.append("times in seconds; FDW = server-side execution time of "
                 "EXPLAIN ANALYZE SELECT count(id), median of warm scans (best)")
    lines.append("-" * (44 + W * len(sizes)))
    row("tasks", ["{:,}".format(n) for n in sizes])
    row("pages", [str(r["pages"]) for r in results])
    row("ideal bound, P=%d" % P, [f3(r["ideal"]) for r in results])
    row("FDW %s, first scan" % ("default" if not args.parallel_set else "P=%d" % P),
        [f3(r["fdw_first"]) for r in results])
    row("FDW %s, repeated (median)" % ("default" if not args.parallel_set else "P=%d" % P),
        [f3(r["fdw_med"]) for r in results])
    row("FDW %s, repeated (best)" % ("default" if not args.parallel_set else "P=%d" % P),
        [f3(r["fdw_best"]) for r in results])
    row("ideal bound, P=1", [f3(r["ideal_seq"]) for r in results])
    row("FDW parallel_requests 1, first scan", [f3(r["seq_first"]) for r in results])
    row("FDW parallel_requests 1, repeated (median)", [f3(r["seq_med"]) for r in results])
    row("naive shell loop (curl | psql COPY)", [f3(r["naive_med"]) for r in results])
    row("FDW / ideal", ["%.2f" % (r["fdw_med"] / r["ideal"]) for r in results])
    row("naive / FDW", ["%.1f" % (r["naive_med"] / r["fdw_med"]) for r in results])
    row("sequential / FDW", ["%.2f" % (r["seq_med"] / r["fdw_med"]) for r in results])
    row("sequential / ideal P=1", ["%.2f" % (r["seq_med"] / r["ideal_seq"]) for r in results])
    row("HTTP requests, first scan (with planning)", [str(r["fdw_requests"]) for r in results])
    row("max requests in flight (FDW, P=1)", ["%d, %d" % (r["fdw_inflight"], r["seq_inflight"]) for r in results])
    row("TLS handshakes: first scan, fresh backend", [str(r["hs_first"]) for r in results])
    row("TLS handshakes: repeated scan (max)", [str(r["hs_repeat"]) for r in results])
    row("TLS handshakes: P=1 first / repeated", ["%d / %d" % (r["hs_seq_first"], r["hs_seq_repeat"]) for r in results])
    row("TLS handshakes: naive loop", [str(r["hs_naive"]) for r in results])
    row("TLS sessions resumed (FDW first scan)", [str(r["resumed_first"]) for r in results])
    row("backend RSS idle (MB)", ["%.1f" % mb(r["idle_rss"]) for r in results])
    row("backend peak VmHWM after first scan (MB)", ["%.1f" % mb(r["hwm"]) for r in results])
    row("peak - idle (MB)", ["%.1f" % mb(r["hwm"] - r["idle_rss"]) for r in results])
    row("backend VmRSS after the scan (MB)", ["%.1f" % mb(r["rss_after"]) for r in results])
    row("peak VmRSS sampled during the scan (MB)", ["%.1f" % mb(r["rss_sampled"] or 0) for r in results])
    if mem_ctx:
        lines.append("memory contexts, largest logged total during the %s-task scan: %.1f MB"
                     % ("{:,}".format(sizes[-1]), mem_ctx["grand_total"] / 1048576.0))
        for total, name, level in mem_ctx["top"]:
            lines.append("    level %d %-32s %8.1f MB" % (level, name, total / 1048576.0))
    if cpu:
        n = cpu["n"]
        lines.append("-" * (44 + W * len(sizes)))
        lines.append("CPU per row at 0 ms latency, %s tasks, %.1f MB of response bodies "
                     "(backend CPU, best of %d)" % ("{:,}".format(n), cpu["bytes"] / 1048576.0,
                                                      args.cpu_repeats))
        for key, label in (("fdw_count", "FDW SELECT count(id)"),
                           ("json_count", "json_populate_recordset, count(id)"),
                           ("fdw_all", "FDW, all columns (row::text)"),
                           ("json_all", "json_populate_recordset + casts, all columns")):
            c = cpu[key]
            lines.append("    %-50s %7.2f us/row   (CPU %.3f s, wall %.3f s)"
                         % (label, c["us_per_row"], c["cpu_s"], c["wall_s"]))
        for key, label in (("cached_count", "FDW count(id), bodies from its cache_ttl cache"),
                           ("cached_all", "FDW all columns, bodies from its cache_ttl cache")):
            if key in cpu:
                lines.append("    %-50s %7.2f us/row   (CPU %.3f s; no HTTP: decoding only)"
                             % (label, cpu[key]["us_per_row"], cpu[key]["cpu_s"]))
        lines.append("    FDW/json ratio: count %.2f, all columns %.2f; same results: %s"
                     % (cpu["fdw_count"]["us_per_row"] / cpu["json_count"]["us_per_row"],
                        cpu["fdw_all"]["us_per_row"] / cpu["json_all"]["us_per_row"],
                        "yes" if cpu["same_count"] and cpu["same_all"] else "NO"))
        lines.append("    fresh backend, %d FDW scans at 0 ms (count(id), all columns): idle RSS %.1f MB, "
                     "VmHWM %.1f MB (+%.1f MB)"
                     % (2 * (args.cpu_repeats + 1), mb(cpu["idle"]["VmRSS"]), mb(cpu["mem"]["VmHWM"]),
                        mb(cpu["mem"]["VmHWM"] - cpu["idle"]["VmRSS"])))

    # targets
    lines.append("-" * (44 + W * len(sizes)))
    lines.append("targets")
    verdicts = []

    def target(name, value, ok):
        verdicts.append(ok)
        lines.append("    %-60s %-18s %s" % (name, value, "PASS" if ok else "MISS"))

    for r in results:
        n = "{:,}".format(r["n"])
        target("FDW full scan <= 1.3x ideal bound (%s)" % n, "%.2fx" % (r["fdw_med"] / r["ideal"]),
               r["fdw_med"] <= 1.3 * r["ideal"])
        target("FDW >= 5x faster than the shell loop (%s)" % n,
               "%.1fx" % (r["naive_med"] / r["fdw_med"]), r["naive_med"] >= 5 * r["fdw_med"])
        target("TLS handshakes per first scan <= %d (%s)" % (P, n), str(r["hs_first"]), r["hs_first"] <= P)
        if r["hs_repeat"] >= 0:
            target("TLS handshakes per repeated scan == 0 (%s)" % n, str(r["hs_repeat"]), r["hs_repeat"] == 0)
    big = [r for r in results if r["n"] >= 100000]
    for r in big:
        d = mb(r["hwm"] - r["idle_rss"])
        target("peak memory, %s-task scan <= idle + 32 MB" % "{:,}".format(r["n"]), "+%.1f MB" % d, d <= 32)
    if cpu and cpu["n"] >= 100000:
        d = mb(cpu["mem"]["VmHWM"] - cpu["idle"]["VmRSS"])
        target("peak memory, %s-task scans at 0 ms, all columns <= idle + 32 MB" % "{:,}".format(cpu["n"]),
               "+%.1f MB" % d, d <= 32)
    if not big:
        lines.append("    (peak memory target is for 100,000 tasks: not measured; run without --quick)")
    if cpu:
        rc = cpu["fdw_count"]["us_per_row"] / cpu["json_count"]["us_per_row"]
        ra = cpu["fdw_all"]["us_per_row"] / cpu["json_all"]["us_per_row"]
        target("CPU/row <= json_populate_recordset (count, all columns)", "%.2fx, %.2fx" % (rc, ra),
               rc <= 1.0 and ra <= 1.0)
        if "cached_count" in cpu and "cached_all" in cpu:
            lines.append("    %-60s %-18s %s" % (
                "  (decoding only, bodies from the FDW's cache: count, all)",
                "%.2fx, %.2fx" % (cpu["cached_count"]["us_per_row"] / cpu["json_count"]["us_per_row"],
                                  cpu["cached_all"]["us_per_row"] / cpu["json_all"]["us_per_row"]),
                "info"))
        target("FDW and json_populate_recordset rows identical", "yes" if cpu["same_all"] else "no",
               cpu["same_count"] and cpu["same_all"])
    for r in results:
        if r.get("naive_diff") is not None:
            target("naive rows == FDW rows (%s)" % "{:,}".format(r["n"]),
                   "%d differ" % r["naive_diff"], r["naive_diff"] == 0)
    lines.append("=" * (44 + W * len(sizes)))
    lines.append("%d of %d targets met" % (sum(verdicts), len(verdicts)))
    return "\n".join(lines)


def median(xs):
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--sizes", default="10000 100000")
    ap.add_argument("--parallel", type=int)
    ap.add_argument("--repeats", type=int, default=3, help="warm FDW scans after the first")
    ap.add_argument("--naive-repeats", type=int, default=2)
    ap.add_argument("--cpu-repeats", type=int, default=3)
    ap.add_argument("--long-pages", type=int, default=500,
                    help="above this many pages, slow variants run once")
    ap.add_argument("--work", default="/tmp")
    args = ap.parse_args()
    args.parallel_set = args.parallel is not None
    if args.parallel is None:
        args.parallel = DEFAULT_PARALLEL
    if args.parallel < 1:
        sys.exit("--parallel must be >= 1")
    sizes = [int(x) for x in args.sizes.replace(",", " ").split()]
    if not sizes or min(sizes) < 1:
        sys.exit("--sizes wants positive numbers")

    sim = Sim(os.environ["RDS_SIM_HTTP"])
    load0 = open("/proc/loadavg").read().split()[0]
    logfile = find_logfile()

    admin = Psql()
    setup_server(admin, "bench", ("fdw_default", "fdw_seq"))
    admin.query("CREATE SCHEMA fdw_default_cached")
    admin.query("IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER bench INTO fdw_default_cached")
    try:
        admin.query("ALTER FOREIGN TABLE fdw_default_cached.rds_tasks OPTIONS (ADD cache_ttl '3600')")
    except SqlError as e:
        log("no cache_ttl option, the decoding-only rows are left out: %s" % e)
        admin.query("DROP SCHEMA fdw_default_cached CASCADE")
    if args.parallel_set:
        for schema in ("fdw_default", "fdw_default_cached"):
            admin.query("ALTER FOREIGN TABLE %s.rds_tasks OPTIONS (ADD parallel_requests '%d')"
                        % (schema, args.parallel))
    admin.query("ALTER FOREIGN TABLE fdw_seq.rds_tasks OPTIONS (ADD parallel_requests '1')")
    admin.query("CREATE TABLE naive_tasks (%s)" % TABLE_COLUMNS)
    admin.query("CREATE TYPE task_json AS (%s)" % ", ".join("%s text" % f for f in FIELDS))
    admin.query("CREATE TABLE bodies (page serial, body json)")
    admin.query("ALTER TABLE bodies ALTER COLUMN body SET STORAGE EXTERNAL")  # no compression

    results = []
    mem_ctx = None
    for n in sizes:
        pages = math.ceil(n / PAGE_SIZE)
        long_run = pages > args.long_pages
        log("== %s tasks (%d pages), latency %g ms" % ("{:,}".format(n), pages, args.latency_ms))
        sim.reset(n, args.latency_ms)
        r = {"n": n, "pages": pages,
             "ideal": ideal_s(pages, args.parallel, args.latency_ms),
             "ideal_seq": ideal_s(pages, 1, args.latency_ms)}
        log("  FDW, parallel_requests %d" % args.parallel)
        ctl = Psql() if n == max(sizes) else None
        try:
            fdw = fdw_scans(sim, "fdw_default.rds_tasks", n, args.repeats, ctl=ctl,
                            sample_memory=True, expect_s=r["ideal"])
        finally:
            if ctl:
                ctl.close()
        warm = [x["exec_s"] for x in fdw["runs"][1:]] or [fdw["runs"][0]["exec_s"]]
        first = fdw["runs"][0]
        r.update(fdw_first=first["exec_s"], fdw_med=median(warm), fdw_best=min(warm),
                 fdw_requests=first["stats"]["requests"],
                 fdw_inflight=max(x["stats"]["max_in_flight"] for x in fdw["runs"]),
                 hs_first=first["stats"]["tls_handshakes"],
                 resumed_first=first["stats"]["tls_resumed"],
                 hs_repeat=max([x["stats"]["tls_handshakes"] for x in fdw["runs"][1:]] or [-1]),
                 idle_rss=fdw["idle"]["VmRSS"], hwm=first["mem"]["VmHWM"],
                 rss_after=first["mem"]["VmRSS"],
                 rss_sampled=first.get("rss_peak_sampled_kb"))
        if n == max(sizes):
            mem_ctx = memory_contexts(logfile, fdw["pid"])

        log("  FDW, parallel_requests 1")
        seq = fdw_scans(sim, "fdw_seq.rds_tasks", n, 1 if long_run else args.repeats)
        warm = [x["exec_s"] for x in seq["runs"][1:]] or [seq["runs"][0]["exec_s"]]
        r.update(seq_first=seq["runs"][0]["exec_s"], seq_med=median(warm),
                 seq_inflight=max(x["stats"]["max_in_flight"] for x in seq["runs"]),
                 hs_seq_first=seq["runs"][0]["stats"]["tls_handshakes"],
                 hs_seq_repeat=max([x["stats"]["tls_handshakes"] for x in seq["runs"][1:]] or [-1]))

        log("  naive shell loop")
        nv = naive_runs(sim, args, n, 1 if long_run else args.naive_repeats)
        r.update(naive_med=median([x["wall_s"] for x in nv["runs"]]),
                 hs_naive=nv["runs"][0]["stats"]["tls_handshakes"], naive_diff=nv["diff_rows"])
        results.append(r)

    log("== CPU per row at zero latency, %s tasks" % "{:,}".format(max(sizes)))
    cpu = cpu_per_row(sim, args, max(sizes), "fdw_default.rds_tasks", args.work)
    admin.close()
    load1 = open("/proc/loadavg").read().split()[0]
    print(report(args, results, cpu, mem_ctx, "%s -> %s" % (load0, load1)), flush=True)


if __name__ == "__main__":
    main()
