#!/usr/bin/env python3
"""bench/memory.py: the memory of a full scan, run by bench/memory.sh inside
pg_virtualenv.

For each size (default 100,000 and 1,000,000 tasks, the simulator's lazy
list, zero latency): a fresh backend; its VmRSS/VmHWM right after connecting
(idle) and after a one-row warm-up scan (extension, libcurl, TLS loaded);
then SELECT count(id) over the whole list with client_min_messages = debug1,
which makes the scan report its duplicate filter (ids, other keys, bytes,
slots) when it ends; then VmHWM (the peak) and the backend CPU of the scan.
The target: peak - idle <= 32 MB.  Repeated scans (--repeats) in the same
backend give the best CPU per row.

Environment: RDS_SIM_HTTP, RDS_SIM_HTTPS, RDS_SIM_CA (test/lib.sh start_sim)
and the PG* variables pg_virtualenv sets.  Python standard library only;
reuses bench.py's psql sessions and /proc readers.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from bench import (Psql, RssSampler, Sim, SqlError, find_logfile, setup_server,  # noqa: E402
                   log, memory_contexts, proc_status)

LIMIT_MB = 32
FILTER_RE = re.compile(r'duplicate filter of "[^"]*": (\d+) ids, (\d+) other keys, (\d+) bytes, (\d+) slots')


def top_mappings(pid, k=3):
    """The k mappings of the process with the most resident memory:
    (rss_kb, name)."""
    maps, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                cur = [0, parts[5] if len(parts) > 5 else "[anon]"]
                maps.append(cur)
            elif parts and parts[0] == "Rss:":
                cur[0] = int(parts[1])
    agg = {}
    for rss, name in maps:
        agg[name] = agg.get(name, 0) + rss
    return sorted(((v, n) for n, v in agg.items()), reverse=True)[:k]


def measure(sim, n, table, repeats, logfile, jit):
    sim.call("POST", "/_sim/reset", {"tasks": n, "lazy": True})
    sim.latency(0)
    s = Psql()
    try:
        r = {"n": n, "idle": proc_status(s.pid)}
        if not jit:
            s.query("SET jit = off")
        s.query("SELECT count(id) FROM (SELECT id FROM %s LIMIT 1) w" % table)
        r["warm"] = proc_status(s.pid)
        s.query("SET client_min_messages = debug1")
        best = None
        for i in range(1 + repeats):
            # during the first scan a second session asks the backend to log
            # its memory contexts every few seconds; the largest dump is kept
            ctl = Psql() if i == 0 and logfile else None
            sampler = RssSampler(s.pid, ctx_session=ctl, ctx_every=max(0.5, n / 100000.0))
            sampler.start()
            try:
                lines, wall, cpu = s.timed("SELECT count(id) FROM %s" % table)
            finally:
                sampler.stop()
                if ctl:
                    ctl.close()
            if i == 0:
                r["contexts"] = memory_contexts(logfile, s.pid)
                r["sampled_kb"] = sampler.peak_kb
                r["maps"] = top_mappings(s.pid)
            rows = [l for l in lines if re.fullmatch(r"\d+", l)]
            if rows != [str(n)]:
                raise SqlError("expected %d rows, got: %s" % (n, "\n".join(lines[-5:])))
            if i == 0:
                r["peak"] = proc_status(s.pid)
                r["wall_s"], r["cpu_s"] = wall, cpu
                m = [FILTER_RE.search(l) for l in lines]
                m = [x for x in m if x]
                r["filter"] = tuple(int(x) for x in m[-1].groups()) if m else None
            best = cpu if best is None else min(best, cpu)
            log("    %s tasks, scan %d: wall %.2f s, backend CPU %.2f s (%.2f us/row)"
                % ("{:,}".format(n), i + 1, wall, cpu, cpu * 1e6 / n))
        r["best_cpu_s"] = best
    finally:
        s.close()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000 1000000")
    ap.add_argument("--repeats", type=int, default=1, help="scans after the first, for CPU")
    ap.add_argument("--jit", action="store_true",
                    help="leave jit on (a plan above jit_above_cost maps libLLVM, ~50 MB)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.replace(",", " ").split()]

    sim = Sim(os.environ["RDS_SIM_HTTP"])
    admin = Psql()
    setup_server(admin, "mem", ("mem",))
    admin.close()

    logfile = find_logfile()
    results = []
    for n in sizes:
        log("== %s tasks" % "{:,}".format(n))
        results.append(measure(sim, n, "mem.rds_tasks", args.repeats, logfile, args.jit))

    mb = lambda kb: kb / 1024.0     # noqa: E731
    w = 22
    out = ["", "jit %s; peak = VmHWM, idle = VmRSS of a fresh backend" % ("on" if args.jit else "off"),
           "%-44s" % "backend memory of a full scan (MB)" + "".join("%*s" % (w, "{:,}".format(r["n"])) for r in results)]

    def row(label, vals):
        out.append("%-44s" % label + "".join("%*s" % (w, v) for v in vals))

    row("idle VmRSS (fresh backend)", ["%.1f" % mb(r["idle"]["VmRSS"]) for r in results])
    row("VmRSS after a 1-row warm-up scan", ["%.1f" % mb(r["warm"]["VmRSS"]) for r in results])
    row("peak VmHWM after the full scan", ["%.1f" % mb(r["peak"]["VmHWM"]) for r in results])
    row("VmRSS after the scan (anon/file/shmem)",
        ["%.1f (%.0f/%.0f/%.0f)" % (mb(r["peak"]["VmRSS"]), mb(r["peak"].get("RssAnon", 0)),
                                    mb(r["peak"].get("RssFile", 0)), mb(r["peak"].get("RssShmem", 0)))
         for r in results])
    row("RssAnon after the scan - idle RssAnon",
        ["%.1f" % mb(r["peak"].get("RssAnon", 0) - r["idle"].get("RssAnon", 0)) for r in results])
    row("peak VmRSS sampled every 50 ms", ["%.1f" % mb(r["sampled_kb"]) for r in results])
    row("peak - idle", ["%.1f" % mb(r["peak"]["VmHWM"] - r["idle"]["VmRSS"]) for r in results])
    row("peak - warm-up", ["%.1f" % mb(r["peak"]["VmHWM"] - r["warm"]["VmRSS"]) for r in results])
    row("duplicate filter: bytes (MB)",
        ["%.2f" % (r["filter"][2] / 1048576.0) if r["filter"] else "n/a" for r in results])
    row("duplicate filter: bytes per task",
        ["%.1f" % (r["filter"][2] / r["n"]) if r["filter"] else "n/a" for r in results])
    row("duplicate filter: ids / other keys / slots",
        ["%d/%d/%d" % (r["filter"][0], r["filter"][1], r["filter"][3]) if r["filter"] else "n/a"
         for r in results])
    row("filter share of peak - idle",
        ["%.0f%%" % (100.0 * r["filter"][2] / 1024 / max(1, r["peak"]["VmHWM"] - r["idle"]["VmRSS"]))
         if r["filter"] else "n/a" for r in results])
    row("largest memory context dump (MB)",
        ["%.1f" % (r["contexts"]["grand_total"] / 1048576.0) if r.get("contexts") else "n/a"
         for r in results])
    row("scan wall (s), first", ["%.1f" % r["wall_s"] for r in results])
    row("backend CPU per row (us), best", ["%.2f" % (r["best_cpu_s"] * 1e6 / r["n"]) for r in results])
    if len(results) > 1:
        a, b = results[0], results[-1]
        da = a["peak"]["VmHWM"] - a["idle"]["VmRSS"]
        db = b["peak"]["VmHWM"] - b["idle"]["VmRSS"]
        out.append("ratio %s / %s tasks: %.1fx the tasks, %.2fx peak - idle"
                   % ("{:,}".format(b["n"]), "{:,}".format(a["n"]), b["n"] / a["n"],
                      db / max(1, da)))
    for r in results:
        if r.get("contexts"):
            out.append("largest contexts during the %s-task scan: %s" % (
                "{:,}".format(r["n"]),
                ", ".join("%s %.1f MB" % (name, b / 1048576.0) for b, name, _ in r["contexts"]["top"])))
    for r in results:
        out.append("largest mappings after the %s-task scan: %s" % (
            "{:,}".format(r["n"]), ", ".join("%s %.1f MB" % (name, kb / 1024.0) for kb, name in r["maps"])))
    fail = 0
    for r in results:
        d = mb(r["peak"]["VmHWM"] - r["idle"]["VmRSS"])
        ok = d <= LIMIT_MB
        fail += not ok
        out.append("%s %s tasks: peak - idle %.1f MB <= %d MB" % ("PASS" if ok else "FAIL",
                                                                  "{:,}".format(r["n"]), d, LIMIT_MB))
    print("\n".join(out), flush=True)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
