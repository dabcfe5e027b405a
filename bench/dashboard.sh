#!/usr/bin/env bash
# bench/dashboard.sh: a BI dashboard on rds_task_fdw, this tree against the
# per-backend cache of before (the baseline commit), side by side in one run.
#
# For each build (the baseline, then this tree): builds and installs it, makes
# a throwaway cluster (pg_virtualenv) and runs bench/dashboard.py there against
# the simulator (10,000 tasks over the last 30 days, 50 ms per request): six
# panels (tasks per status in 7 days, failures per day over 30 days, top failing
# actions, failed tasks of the last 24 hours, failures per team joined with an
# inventory, running tasks), each compared with the same query over a local
# copy; each panel's requests alone; panels as Grafana, Superset and Metabase
# write them, each alone next to its hand-written form; then 1, 4 and 16 concurrent sessions
# refreshing the dashboard several times, cache_ttl off and on.  Prints
# requests per refresh and p50/p95 panel times of both builds, and the targets.
# Leaves this tree's build installed.  Run as root.
#
# Options:
#   --baseline REV    the build to compare with (default: the commit before the
#                     shared cache, 194c8f3)
#   --latency-ms MS   per-request latency (50)
#   --tasks N         list size (10000)
#   --refreshes N     dashboard refreshes per configuration (3)
#   --sessions "N.."  concurrent sessions (default "1 4 16")
#   --only-current    skip the baseline
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

baseline=194c8f3
latency=50
tasks=10000
refreshes=3
sessions="1 4 16"
only_current=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline=${2:?}; shift 2 ;;
    --latency-ms) latency=${2:?}; shift 2 ;;
    --tasks) tasks=${2:?}; shift 2 ;;
    --refreshes) refreshes=${2:?}; shift 2 ;;
    --sessions) sessions=${2:?}; shift 2 ;;
    --only-current) only_current=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done

. test/lib.sh
bash test/install_deps.sh

work=$(mktemp -d /tmp/rds_task_fdw_dash.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

# one data set for both builds: the simulator's "now" is fixed here
base_time=$(date +%s)
echo "== starting the simulator over HTTPS"
start_sim "$work" --tasks 100 --seed 11 --base-time now \
  --project 0123456789abcdef0123456789abcdef --token bench-token-0001 --log-max 1000

run_variant() {
  local name="$1" dir="$2"
  echo "== $name: building and installing ($dir)"
  (cd "$dir" && build_and_install)
  echo "== $name: throwaway PostgreSQL $(pg_version) cluster"
  pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" \
    python3 "$root/bench/dashboard.py" --variant "$name" --tasks "$tasks" \
      --latency-ms "$latency" --refreshes "$refreshes" --sessions "$sessions" \
      --base-time "$base_time" \
      --out "$work/$name.json"
}

if [ "$only_current" -eq 0 ]; then
  git -C "$root" rev-parse --verify -q "$baseline^{commit}" >/dev/null ||
    { echo "dashboard: unknown baseline $baseline" >&2; exit 2; }
  mkdir -p "$work/baseline"
  git -C "$root" archive "$baseline" | tar -C "$work/baseline" -xf -
  run_variant baseline "$work/baseline"
fi
run_variant current "$root"

python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
runs = [json.load(open(os.path.join(work, n + ".json")))
        for n in ("baseline", "current") if os.path.exists(os.path.join(work, n + ".json"))]
print()
print("requests per panel, alone (fresh session, cache off)")
print("%-28s" % "panel" + "".join("%16s" % r["variant"] for r in runs) + "   rows")
for i, p in enumerate(runs[-1]["alone"]):
    print("%-28s" % p["panel"] + "".join("%16d" % r["alone"][i]["requests"] for r in runs)
          + "   %4d" % p["rows"])
print("%-28s" % "  (actions: every name)" + "".join("%16d" % r["names_list"]["requests"] for r in runs))
print()
print("panels as BI tools write them, requests alone: the tool's form / the hand-written form")
print("%-36s" % "panel" + "".join("%16s" % r["variant"] for r in runs) + "   rows")
for i, p in enumerate(runs[-1].get("bi", [])):
    print("%-36s" % p["panel"]
          + "".join("%16s" % ("%d / %d" % (r["bi"][i]["requests"], r["bi"][i]["hand_requests"])
                              if r.get("bi") else "-") for r in runs)
          + "   %4d" % p["rows"])
print()
print("a refresh of the six panels (%d tasks, %.0f ms per request)" % (runs[-1]["tasks"], runs[-1]["latency_ms"]))
hdr = "%-10s %-9s" % ("cache_ttl", "sessions")
for r in runs:
    hdr += " | %-8s %15s %8s %8s" % (r["variant"], "requests/refr.", "p50 ms", "p95 ms")
print(hdr)
for k, c in enumerate(runs[-1]["configs"]):
    line = "%-10s %-9d" % (c["cache_ttl"] or "off", c["sessions"])
    for r in runs:
        x = r["configs"][k]
        line += " | %-8s %15.1f %8.0f %8.0f" % ("", x["requests_per_refresh"], x["p50_ms"], x["p95_ms"])
    print(line)
print()
cur = runs[-1]
ok = True
def target(cond, text):
    global ok
    ok = ok and cond
    print("%-4s %s" % ("PASS" if cond else "MISS", text))
on = [c for c in cur["configs"] if c["cache_ttl"]]
one = [c for c in on if c["sessions"] == 1][0]
for c in on:
    if c["sessions"] > 1:
        ratio = c["requests_per_refresh"] / max(one["requests_per_refresh"], 1e-9)
        target(ratio <= 1.1, "cache on, %d sessions: %.2fx the requests of one session (<= 1.1x)"
               % (c["sessions"], ratio))
for p in cur["alone"]:
    if p["groups"] is not None:
        target(p["requests"] <= p["groups"] + 2, "%s: %d requests for %d groups (<= groups + 2)"
               % (p["panel"], p["requests"], p["groups"]))
names = cur["alone"][2]
print("%-4s %s, actions listing every name: %d requests for %d groups (the API's actions may list"
      " the page's names only: then the pages are the floor)"
      % ("PASS" if cur["names_list"]["requests"] <= names["groups"] + 2 else "MISS",
         names["panel"], cur["names_list"]["requests"], names["groups"]))
wrong = [(c["cache_ttl"], c["sessions"], c["wrong"]) for r in runs for c in r["configs"] if c["wrong"]]
wrong += [(0, 1, [p["panel"]]) for r in runs for p in r["alone"] if not p["right"]]
wrong += [(0, 1, ["names, actions listing every name"]) for r in runs if not r["names_list"]["right"]]
wrong += [(0, 1, [p["panel"]]) for r in runs for p in r.get("bi", []) if not p["right"]]
for p in cur.get("bi", []):
    target(p["requests"] <= p["hand_requests"] + 2, "%s: %d requests, hand-written form %d (<= + 2)"
           % (p["panel"], p["requests"], p["hand_requests"]))
target(not wrong, "every panel result equal to the local, unpushed query%s"
       % ("" if not wrong else ": " + repr(wrong)))
PY
