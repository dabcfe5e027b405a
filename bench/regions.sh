#!/usr/bin/env bash
# bench/regions.sh [SIZES] [TASKS] [LATENCY_MS]: partitioned tables over
# servers, one per project (SIZES: comma-separated numbers of servers,
# default 4; e.g. 1,32,64,100), each TASKS tasks (default 2000) behind
# LATENCY_MS (default 50) per request, HTTPS, at the default
# max_files_per_process.  Times side by side in one run (best of 3): one
# region alone, each size with asynchronous Append and its ratio to one
# region, and, for sizes up to 8, all of them one after the other
# (enable_async_append off).  An error fails the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh
sizes=${1:-4}
tasks=${2:-2000}
latency=${3:-50}
IFS=, read -r -a size_list <<< "$sizes"
regions=0
for n in "${size_list[@]}"; do [ "$n" -gt "$regions" ] && regions=$n; done
bash test/install_deps.sh
build_and_install
work=$(mktemp -d /tmp/rds_regions.XXXXXX); chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT
project() { printf 'region%03d%023d' "$1" 0; }
projects=()
for i in $(seq 1 "$regions"); do projects+=(--project "$(project "$i")"); done
start_sim "$work" --tasks "$tasks" --seed 5 --token bench-token --latency-ms "$latency" "${projects[@]}"
{
  echo "CREATE EXTENSION rds_task_fdw;"
  for i in $(seq 1 "$regions"); do
    echo "CREATE SERVER r$i FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint '$RDS_SIM_HTTPS', ca_file '$RDS_SIM_CA', project_id '$(project "$i")', region 'r$i');"
    echo "CREATE USER MAPPING FOR CURRENT_USER SERVER r$i OPTIONS (auth_token 'bench-token');"
  done
  for n in "${size_list[@]}"; do
    servers=$(for i in $(seq 1 "$n"); do printf "'r%d'," "$i"; done | sed 's/,$//')
    echo "SELECT count(*) FROM rds_task_fdw_create_partitioned('all_$n', ARRAY[$servers], 'region');"
  done
  echo "SHOW max_files_per_process;"
  echo "SELECT count(id) FROM all_$regions;  -- warm up: estimates, TLS sessions"
  echo "\\timing on"
  for run in 1 2 3; do
    echo "\\echo one region (run $run)"
    echo "SELECT count(id) FROM all_1 WHERE region = 'r1';"
    for n in "${size_list[@]}"; do
      echo "\\echo $n regions, asynchronous Append (run $run)"
      echo "SELECT count(id) FROM all_$n;"
      if [ "$n" -le 8 ] && [ "$n" -gt 1 ]; then
        echo "SET enable_async_append = off;"
        echo "\\echo $n regions, one after the other (run $run)"
        echo "SELECT count(id) FROM all_$n;"
        echo "RESET enable_async_append;"
      fi
    done
  done
} > "$work/regions.sql"
echo "== ${sizes} regions x $tasks tasks, ${latency} ms per request, pages of 50, parallel_requests 4"
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" psql -X -q -v ON_ERROR_STOP=1 -f "$work/regions.sql" |
  python3 -c '
import re, sys
label = None
times = {}
counts = {}
for line in sys.stdin:
    line = line.rstrip()
    m = re.match(r"Time: ([0-9.]+) ms", line)
    if line and not line.startswith(("Time:", " count", "-", "(", " ")) and "run" in line:
        label = re.sub(r" \(run [0-9]+\)", "", line)
    elif m and label:
        times.setdefault(label, []).append(float(m.group(1)))
        label = None
    elif label and re.match(r"^ *[0-9]+$", line):
        counts.setdefault(label, set()).add(int(line))
best = {k: min(v) for k, v in times.items()}
one = best.get("one region")
for k, v in best.items():
    rows = ",".join(str(c) for c in sorted(counts.get(k, [])))
    ratio = " %5.2fx one region" % (v / one) if one and "asynchronous" in k else ""
    print("%-45s best of %d: %8.0f ms  rows %s%s" % (k, len(times[k]), v, rows, ratio))
'
