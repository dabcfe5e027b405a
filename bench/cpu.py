#!/usr/bin/env python3
"""bench/cpu.py: the measurements of bench/cpu.sh, run inside pg_virtualenv.

One psql session (one backend) runs, per repeat and side by side, the
reference (json_populate_recordset over the stored page bodies), the FDW
from its shared cache and the FDW live over HTTPS, all 11 columns, and
reads the backend's CPU time from /proc.  Prints the median µs per row and
the ratios to the reference.  Reuses bench.py's helpers.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def perf_profile(s, sql, work, runs=3):
    """perf record of the backend during runs runs of sql; the top shared
    objects and symbols by self time.  perf attaches asynchronously: it is
    given time to, or a scan served from the cache (0.1 s) is over before it
    samples anything."""
    if shutil.which("perf") is None:
        return "perf is not installed"
    data = os.path.join(work, "perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "-F", "4000", "-o", data,
                            "-p", str(s.pid)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        for _ in range(runs):
            s.query(sql)
    finally:
        rec.send_signal(2)
        rec.wait()
    out = []
    for sort, k in (("dso", 8), ("symbol", 25)):
        rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                              "--sort", sort, "--percent-limit", "0.5"],
                             capture_output=True, text=True).stdout
        rows = [l for l in rep.splitlines() if l.strip() and not l.startswith("#")
                and l.split()[0].endswith("%")]
        out.append("  by %s:" % sort)
        out.extend("    " + " ".join(l.split()) for l in rows[:k])
    return "\n".join(out)


def syscall_counts(s, sim, sql, work):
    """strace -c of the backend during one run of sql: system calls per
    request, the busiest first."""
    if shutil.which("strace") is None:
        return "strace is not installed"
    out = os.path.join(work, "strace.txt")
    sim.clear_stats()
    tr = subprocess.Popen(["strace", "-c", "-q", "-o", out, "-p", str(s.pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        s.query(sql)
    finally:
        tr.send_signal(2)
        tr.wait()
    reqs = max(1, sim.stats()["requests"])
    rows = []
    for line in open(out):
        f = line.split()
        if len(f) >= 5 and f[3].isdigit() and f[-1] != "total":
            rows.append((int(f[3]), f[-1]))
    rows.sort(reverse=True)
    total = sum(c for c, _ in rows)
    return ("  %.1f system calls per request (%d requests): " % (total / reqs, reqs)
            + ", ".join("%s %.1f" % (name, c / reqs) for c, name in rows[:8]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=50000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--syscalls", action="store_true")
    ap.add_argument("--work", default="/tmp")
    args = ap.parse_args()
    n = args.tasks

    sim = bench.Sim(os.environ["RDS_SIM_HTTP"])
    admin = bench.Psql()
    bench.setup_server(admin, "bench", ("live", "cached"))
    admin.query("ALTER FOREIGN TABLE cached.rds_tasks OPTIONS (ADD cache_ttl '3600')")
    admin.query("CREATE TYPE task_json AS (%s)" % ", ".join("%s text" % f for f in bench.FIELDS))
    admin.query("CREATE TABLE bodies (page serial, body json)")
    admin.query("ALTER TABLE bodies ALTER COLUMN body SET STORAGE EXTERNAL")
    sim.reset(n, 0)
    body_bytes = bench.load_bodies(admin, sim, args, n, args.work)
    admin.close()

    cases = (("reference", "(a) json_populate_recordset + casts", bench.ALL_COLUMNS_JSON),
             ("cached", "(b) FDW from its shared cache", bench.ALL_COLUMNS_FDW.format(table="cached.rds_tasks")),
             ("live", "(c) FDW live over HTTPS", bench.ALL_COLUMNS_FDW.format(table="live.rds_tasks")))
    load0 = open("/proc/loadavg").read().split()[0]
    s = bench.Psql()
    s.query("SET jit = off")
    cpu = {name: [] for name, _, _ in cases}
    values = {}
    try:
        for rep in range(args.repeats + 1):     # run 0 warms caches, fills the cache
            for name, _, sql in cases:
                sim.clear_stats()
                lines, wall, c = s.timed(sql)
                reqs = sim.stats()["requests"]
                values.setdefault(name, lines[0])
                if lines[0] != values[name]:
                    sys.exit("%s: result changed between runs" % name)
                if rep == 0:
                    continue
                if name == "cached" and reqs > 0:
                    sys.exit("cached: %d requests, not answered from the cache" % reqs)
                cpu[name].append(c)
                bench.log("  run %d %-9s %.3f s CPU, %.3f s wall, %d requests"
                          % (rep, name, c, wall, reqs))
        profile = None
        if args.perf:
            profile = ("  (b) cached (3 scans):\n" + perf_profile(s, cases[1][2], args.work)
                       + "\n  (c) live (3 scans):\n" + perf_profile(s, cases[2][2], args.work))
        calls = syscall_counts(s, sim, cases[2][2], args.work) if args.syscalls else None
    finally:
        s.close()
    load1 = open("/proc/loadavg").read().split()[0]

    same = len(set(values.values())) == 1
    ref = statistics.median(cpu["reference"]) * 1e6 / n
    print()
    print("CPU per row, %s tasks, all 11 columns, %.1f MB of bodies, backend CPU, median of %d"
          % ("{:,}".format(n), body_bytes / 1048576.0, args.repeats))
    print("(load %s -> %s, %d CPUs)" % (load0, load1, os.cpu_count()))
    print("| case | µs/row | ratio to (a) | runs (s CPU) |")
    print("|---|---|---|---|")
    for name, label, _ in cases:
        us = statistics.median(cpu[name]) * 1e6 / n
        print("| %s | %.2f | %.2fx | %s |" % (label, us, us / ref,
                                             " ".join("%.3f" % x for x in cpu[name])))
    print("same rows in all three: %s" % ("yes" if same else "NO"))
    if calls:
        print("\nSystem calls of one live scan (strace -c):")
        print(calls)
    if profile:
        print("\nProfile of three cached and three live scans (perf, self time):")
        print(profile)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
