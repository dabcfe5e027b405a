#!/usr/bin/env bash
# bench/run.sh: the rds_task_fdw benchmark, from a fresh clone.
#
# Installs missing packages (test/install_deps.sh), builds and installs the
# extension, starts the API simulator over HTTPS with a fixed per-request
# latency and a throwaway CA, creates a throwaway PostgreSQL cluster
# (pg_virtualenv) and runs bench/bench.py in it: the FDW with its defaults
# and with parallel_requests 1, the shell loop users write today
# (bench/naive.sh), the ideal bound, TLS handshakes per scan, backend peak
# memory, and CPU per row at zero latency against json_populate_recordset.
# Ends with one table and the targets marked PASS or MISS.  Run as root (it
# reads the backends' /proc/PID/status).
#
# Options:
#   --latency-ms MS   per-request latency of the simulator (50)
#   --sizes "N ..."   task list sizes (default "10000 100000")
#   --parallel N      parallel_requests of the measured FDW table
#                     (default: the FDW's own default, 4)
#   --repeats N       warm scans per FDW variant after the first (3)
#   --quick           10000 tasks only, one warm scan, one naive run
#   --no-build        use the installed extension as it is
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

latency=50
sizes="10000 100000"
sizes_set=0
parallel=""
repeats=3
naive_repeats=2
cpu_repeats=3
build=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --latency-ms) latency=${2:?}; shift 2 ;;
    --latency-ms=*) latency=${1#*=}; shift ;;
    --sizes) sizes=${2:?}; sizes_set=1; shift 2 ;;
    --sizes=*) sizes=${1#*=}; sizes_set=1; shift ;;
    --parallel) parallel=${2:?}; shift 2 ;;
    --parallel=*) parallel=${1#*=}; shift ;;
    --repeats) repeats=${2:?}; shift 2 ;;
    --repeats=*) repeats=${1#*=}; shift ;;
    --quick) [ "$sizes_set" -eq 1 ] || sizes="10000"; repeats=1; naive_repeats=1; cpu_repeats=2; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
case "$latency" in ''|*[!0-9.]*) echo "--latency-ms wants a number" >&2; exit 2 ;; esac
case "$parallel" in *[!0-9]*) echo "--parallel wants a positive integer" >&2; exit 2 ;; esac
[ "$parallel" != "0" ] || { echo "--parallel wants a positive integer" >&2; exit 2; }

. test/lib.sh

bash test/install_deps.sh
if [ "$build" -eq 1 ]; then
  echo "== building and installing rds_task_fdw"
  build_and_install
fi

work=$(mktemp -d /tmp/rds_task_fdw_bench.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

first_size=${sizes%% *}
echo "== starting the simulator over HTTPS (latency ${latency} ms)"
start_sim "$work" --tasks "${first_size:-10000}" --seed 11 \
  --project 0123456789abcdef0123456789abcdef --token bench-token-0001 \
  --latency-ms "$latency" --log-max 1000

# a free port for the throwaway cluster (pg_virtualenv -t as root would
# otherwise take 5432 and collide with another developer's run)
port=$(free_port)

echo "== throwaway PostgreSQL $(pg_version) cluster (pg_virtualenv, port $port)"
pg_virtualenv -t -v "$(pg_version)" -o "port=$port" \
  python3 bench/bench.py --latency-ms "$latency" --sizes "$sizes" \
    ${parallel:+--parallel "$parallel"} --repeats "$repeats" \
    --naive-repeats "$naive_repeats" --cpu-repeats "$cpu_repeats" --work "$work"
