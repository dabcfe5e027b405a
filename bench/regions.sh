#!/usr/bin/env bash
# bench/regions.sh [REGIONS] [TASKS] [LATENCY_MS]: one partitioned table over
# REGIONS servers (default 4), each TASKS tasks (default 2000) behind
# LATENCY_MS (default 50) per request, HTTPS.  Times side by side in one
# run: one region alone, all regions with asynchronous Append, and all
# regions with enable_async_append off (one after the other).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh
regions=${1:-4}
tasks=${2:-2000}
latency=${3:-50}
bash test/install_deps.sh
build_and_install
work=$(mktemp -d /tmp/rds_regions.XXXXXX); chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT
projects=()
for i in $(seq 1 "$regions"); do projects+=(--project "$(printf 'region%02d%024d' "$i" 0)"); done
start_sim "$work" --tasks "$tasks" --seed 5 --token bench-token --latency-ms "$latency" "${projects[@]}"
{
  echo "CREATE EXTENSION rds_task_fdw;"
  servers=()
  for i in $(seq 1 "$regions"); do
    p=$(printf 'region%02d%024d' "$i" 0)
    echo "CREATE SERVER r$i FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint '$RDS_SIM_HTTPS', ca_file '$RDS_SIM_CA', project_id '$p', region 'r$i');"
    echo "CREATE USER MAPPING FOR CURRENT_USER SERVER r$i OPTIONS (auth_token 'bench-token');"
    servers+=("r$i")
  done
  echo "SELECT count(*) FROM rds_task_fdw_create_partitioned('all_tasks', ARRAY[$(printf "'%s'," "${servers[@]}" | sed 's/,$//')], 'region');"
  echo "SELECT count(id) FROM all_tasks;  -- warm up: estimates, TLS sessions"
  echo "EXPLAIN (COSTS OFF) SELECT count(id) FROM all_tasks;"
  echo "\\timing on"
  for run in 1 2 3; do
    echo "\\echo one region (run $run)"
    echo "SELECT count(id) FROM all_tasks WHERE region = 'r1';"
    echo "\\echo $regions regions, asynchronous Append (run $run)"
    echo "SELECT count(id) FROM all_tasks;"
    echo "SET enable_async_append = off;"
    echo "\\echo $regions regions, one after the other (run $run)"
    echo "SELECT count(id) FROM all_tasks;"
    echo "RESET enable_async_append;"
  done
} > "$work/regions.sql"
echo "== $regions regions x $tasks tasks, ${latency} ms per request, pages of 50, parallel_requests 4"
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" psql -X -q -v ON_ERROR_STOP=1 -f "$work/regions.sql" |
  python3 -c '
import re, sys
label = None
times = {}
for line in sys.stdin:
    line = line.rstrip()
    m = re.match(r"Time: ([0-9.]+) ms", line)
    if line and not line.startswith(("Time:", " count", "-", "(", " ")) and "run" in line:
        label = re.sub(r" \(run [0-9]+\)", "", line)
    elif m and label:
        times.setdefault(label, []).append(float(m.group(1)))
        label = None
    elif "Foreign Scan" in line or "Append" in line:
        print("plan:" + line)
best = {k: min(v) for k, v in times.items()}
for k, v in best.items():
    print("%-45s best of %d: %8.0f ms" % (k, len(times[k]), v))
keys = list(best)
if len(keys) == 3:
    one, asy, seq = (best[k] for k in keys)
    print("async / one region: %.2fx   sequential / async: %.2fx" % (asy / one, seq / asy))
'
