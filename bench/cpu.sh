#!/usr/bin/env bash
# bench/cpu.sh: backend CPU per row of rds_task_fdw against PostgreSQL's own
# JSON path, all 11 columns (issue 22).
#
# Builds and installs the extension (test/lib.sh build_and_install), starts
# the simulator over HTTPS at zero latency, creates a throwaway cluster
# (pg_virtualenv -t, on a free port) and runs bench/cpu.py in it.  In one
# session, each repeat runs, side by side:
#   (a) reference  the page bodies stored in a table (fetched once with curl),
#                  json_populate_recordset + NULLIF(...)::integer/::timestamptz
#   (b) cached     the FDW answered from its shared cache (cache_ttl): decode
#                  and conversion only
#   (c) live       the FDW over HTTPS (no cache)
# and prints µs per row (median of the repeats, backend CPU from
# /proc/PID/task/*/schedstat) and each ratio to (a).  The three results are
# compared for equality.  With --perf, perf profiles of three cached and
# three live scans of the backend, summarized by shared object and by
# symbol.  Run as root.
#
# Options:
#   --tasks N       task list size (50000)
#   --repeats N     measured runs of each case after a warm-up (3)
#   --perf          also profile three cached and three live scans (perf record -p)
#   --syscalls      also count the system calls of one live scan (strace -c)
#   --no-build      use the installed extension as it is
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

tasks=50000
repeats=3
perf=""
build=1
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks=${2:?}; shift 2 ;;
    --repeats) repeats=${2:?}; shift 2 ;;
    --perf) perf="$perf --perf"; shift ;;
    --syscalls) perf="$perf --syscalls"; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done

. test/lib.sh
bash test/install_deps.sh
if [ "$build" -eq 1 ]; then
  echo "== building and installing rds_task_fdw"
  build_and_install
fi

work=$(mktemp -d /tmp/rds_task_fdw_cpu.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

echo "== starting the simulator over HTTPS (no latency)"
start_sim "$work" --tasks "$tasks" --seed 11 \
  --project 0123456789abcdef0123456789abcdef --token bench-token-0001 --log-max 1000

port=$(free_port)
echo "== throwaway PostgreSQL $(pg_version) cluster (pg_virtualenv, port $port)"
pg_virtualenv -t -v "$(pg_version)" -o "port=$port" \
  python3 bench/cpu.py --tasks "$tasks" --repeats "$repeats" --work "$work" $perf
