#!/usr/bin/env bash
# bench/search.sh: HTTP requests per "latest tasks" shape on 10,000 tasks
# spread over 30 days, before (an ORDER BY expression the FDW cannot push,
# such as create_time + interval '0': every page is read and PostgreSQL
# sorts) and after (the time-window search), in each page order the
# simulator knows (newest first, oldest first, random, hash: sorted by a
# hash of the id, the same for every request), with the most
# windows one search needed.  Counts come from EXPLAIN ANALYZE ("HTTP
# requests", "Time-window search"); no timing is involved.  The issue's
# budgets are marked PASS or MISS; exit status 1 on a MISS.
#
# Options: --no-build (use the installed extension), --tasks N (10000),
# --seed S (42: the simulator's data, and so where its samples fall).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build=1
tasks=10000
seed=42
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --tasks) tasks=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
. test/lib.sh
if [ "$build" -eq 1 ]; then
  bash test/install_deps.sh
  build_and_install
fi
work=$(mktemp -d /tmp/rds_search.XXXXXX); chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT
start_sim "$work" --tasks "$tasks" --seed "$seed" --project 0123456789abcdef0123456789abcdef --token bench-token
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" \
  psql -X -q -v ON_ERROR_STOP=1 -v sim="$RDS_SIM_HTTP" -f bench/search.sql | tee "$work/out"
! grep -q 'MISS' "$work/out"
