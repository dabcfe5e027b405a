#!/usr/bin/env bash
# bench/stats.sh: what counting rds_task_fdw_server_stats costs a scan.
# Full scans of a 10,000-task list (200 exchanges each) at 0 ms latency (the
# worst case for the counting's share: nothing but the simulator and the
# FDW's own work), and the same scan served by the shared cache (200 cache
# hits, no network), each run alternately with rds_task_fdw.server_stats on
# and off in one session; prints the medians side by side and their ratio.
#
#   bash bench/stats.sh [--repeats N (15)] [--no-build]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh
repeats=15
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$build" = 1 ] && { bash test/install_deps.sh; build_and_install; }
work=$(mktemp -d /tmp/rds_stats_bench.XXXXXX); chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT
start_sim "$work" --tasks 10000 --seed 42 --project 0123456789abcdef0123456789abcdef --token bench-token
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" \
  psql -X -q -v ON_ERROR_STOP=1 -v sim="$RDS_SIM_HTTP" -v repeats="$repeats" -f bench/stats.sql
