#!/usr/bin/env bash
# bench/requests.sh: HTTP requests per query shape on a 10,000-task list,
# with pushdown (what the FDW sends now) against a full scan (what it sent
# before pushdown: every page, the rest filtered by PostgreSQL).  Counts come
# from EXPLAIN ANALYZE's "HTTP requests" line; no timing is involved.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh
bash test/install_deps.sh
build_and_install
work=$(mktemp -d /tmp/rds_requests.XXXXXX); chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT
start_sim "$work" --tasks 10000 --seed 42 --project 0123456789abcdef0123456789abcdef --token bench-token
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" psql -X -q -v ON_ERROR_STOP=1 -v sim="$RDS_SIM_HTTP" -f bench/requests.sql
