#!/usr/bin/env bash
# bench/memory.sh: the backend's memory during a full scan of 100,000 and
# 1,000,000 tasks, and the share of the duplicate filter in it.
#
# Builds and installs the extension (test/lib.sh build_and_install), starts
# the simulator over HTTPS with its lazy list (--lazy: a million tasks made
# on demand) and zero latency, creates a throwaway cluster (pg_virtualenv -t,
# on a free port) and runs bench/memory.py in it: per size a fresh backend's
# idle VmRSS, its VmHWM after SELECT count(id) over the whole list, the
# duplicate filter's own bytes (its DEBUG1 report), backend CPU per row, and
# PASS/FAIL for "peak - idle <= 32 MB".  Exit status 1 on a FAIL.  Run as
# root (it reads the backend's /proc/PID/status).  A million tasks take a
# few minutes: the simulator is Python.
#
# jit is off in the measured session: a plan costed above jit_above_cost
# (here from about 150,000 tasks) makes PostgreSQL map libLLVM, some 50 MB
# of shared library pages in VmRSS, for any query of that size; that is not
# the scan's memory.  --jit measures with it on.
#
# Options:
#   --sizes "N ..."   task list sizes (default "100000 1000000")
#   --repeats N       scans after the first in the same backend, for CPU (1)
#   --jit             leave jit on in the measured session
#   --no-build        use the installed extension as it is
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sizes="100000 1000000"
repeats=1
build=1
jit=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=${2:?}; shift 2 ;;
    --repeats) repeats=${2:?}; shift 2 ;;
    --jit) jit="--jit"; shift ;;
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

work=$(mktemp -d /tmp/rds_task_fdw_memory.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

echo "== starting the simulator over HTTPS (lazy list, no latency)"
start_sim "$work" --lazy --tasks "${sizes%% *}" --seed 11 \
  --project 0123456789abcdef0123456789abcdef --token bench-token-0001 --log-max 1000

port=$(free_port)
echo "== throwaway PostgreSQL $(pg_version) cluster (pg_virtualenv, port $port)"
pg_virtualenv -t -v "$(pg_version)" -o "port=$port" \
  python3 bench/memory.py --sizes "$sizes" --repeats "$repeats" $jit
