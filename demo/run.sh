#!/usr/bin/env bash
# demo/run.sh: the main job on a fresh Debian 12 or 13 machine.
#
# Installs what is missing, builds and installs rds_task_fdw, starts the API
# simulator over HTTPS with a realistic data set (IAM password auth, a
# throwaway CA), starts a throwaway cluster of the machine's PostgreSQL
# (15 on Debian 12, 17 on Debian 13; test/lib.sh pg_version) and runs
# demo/demo.sql in it: server, user mapping, IMPORT FOREIGN SCHEMA and the
# example queries.  Everything is removed afterwards.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh

bash test/install_deps.sh
echo "== building and installing rds_task_fdw"
build_and_install

work=$(mktemp -d /tmp/rds_task_fdw_demo.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

echo "== starting the RDS API simulator (30 days of tasks, HTTPS, IAM password auth)"
start_sim "$work" --tasks ${DEMO_TASKS:-1200} --seed 7 --base-time now \
  --project 54623db08b174c858ba779d2aa7923a3 \
  --user alice:Demo-Passw0rd:OTC-EU-DE-00000000001000000001 \
  --latency-ms ${DEMO_LATENCY_MS:-20}

echo "== throwaway PostgreSQL $(pg_version) cluster"
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" psql -X -v ON_ERROR_STOP=1 -f demo/demo.sql
