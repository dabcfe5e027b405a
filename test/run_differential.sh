#!/usr/bin/env bash
# test/run_differential.sh: the differential test (test/differential.py).
#
# Needs a running simulator (RDS_SIM_HTTP, as test/run_tests.sh exports it)
# and PG* variables for a cluster where the extension is installed, e.g.
#   pg_virtualenv -v 15 bash test/run_differential.sh [differential.py options]
# Creates its own database (DIFF_DB, default rds_differential; dropped again
# unless DIFF_KEEP=1), resets the simulator (unless DIFF_SIM_RESET=0) so that
# no fault or configuration of an earlier suite is left, sets up the server,
# user mapping, foreign tables and the local copy of the data, and runs
# differential.py with the given options (DIFF_SEEDS="s1 s2 ..." runs one
# pass per seed; DIFF_QUERIES sets --queries).  Exit status non-zero on any
# difference or error.
#
# Environment: DIFF_PROJECT (0123456789abcdef0123456789abcdef), DIFF_TOKEN
# (test-token-0001), DIFF_REGION (eu-de).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sim="${RDS_SIM_HTTP:?RDS_SIM_HTTP is not set (start the simulator first)}"
db="${DIFF_DB:-rds_differential}"
project="${DIFF_PROJECT:-0123456789abcdef0123456789abcdef}"
token="${DIFF_TOKEN:-test-token-0001}"
region="${DIFF_REGION:-eu-de}"
py=/usr/bin/python3                 # Debian's, where python3-psycopg2 lives
[ -x "$py" ] || py=python3
export DIFF_PROJECT="$project" DIFF_REGION="$region"

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "${DIFF_SIM_RESET:-1}" != 0 ]; then
  curl -sS -f -X POST -H 'Content-Type: application/json' --data-binary '{}' \
    "$sim/_sim/reset" >/dev/null
fi

psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
  -c "CREATE DATABASE $db"
cleanup() {
  if [ "${DIFF_KEEP:-0}" != 1 ]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

psql_q -d "$db" -v sim="$sim" -v project="$project" -v token="$token" -v region="$region" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rds_task_fdw;
CREATE SERVER diff FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id :'project', region :'region');
CREATE USER MAPPING FOR CURRENT_USER SERVER diff OPTIONS (auth_token :'token');
IMPORT FOREIGN SCHEMA otc FROM SERVER diff INTO public;     -- rds_tasks, rds_task_actions
-- project_id and region come from the server, not the response
CREATE FOREIGN TABLE rds_tasks_pr (
  id text, name text, instance_id text, status text, order_id text, process integer,
  fail_reason text, instance_status text, create_time timestamptz, end_time timestamptz,
  project_id text, region text) SERVER diff;
-- other types: varchar, numeric, timestamp and date (UTC), a column read twice
CREATE FOREIGN TABLE rds_tasks_typed (
  id varchar(64), name varchar, instance_id text, instance_status varchar(40),
  status varchar, order_id varchar, process numeric, fail_reason text,
  ts timestamp OPTIONS (column_name 'create_time'),
  day date OPTIONS (column_name 'create_time'),
  end_time timestamp) SERVER diff;

-- the local copy, in the API's order
CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
CREATE VIEW local_tasks_pr AS
  SELECT id, name, instance_id, status, order_id, process, fail_reason, instance_status,
         create_time, end_time, :'project'::text AS project_id, :'region'::text AS region
    FROM local_tasks;
CREATE VIEW local_tasks_typed AS
  SELECT id::varchar(64) AS id, name::varchar AS name, instance_id,
         instance_status::varchar(40) AS instance_status, status::varchar AS status,
         order_id::varchar AS order_id, process::numeric AS process, fail_reason,
         (create_time AT TIME ZONE 'UTC') AS ts,
         (create_time AT TIME ZONE 'UTC')::date AS day,
         (end_time AT TIME ZONE 'UTC') AS end_time
    FROM local_tasks;
-- for conditions that must not be pushed as exact matches
CREATE COLLATION diff_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SQL

curl -sS -f "$sim/_sim/dataset?format=csv&project=$project" |
  psql_q -d "$db" -c "COPY local_tasks FROM STDIN WITH (FORMAT csv)"
psql_q -d "$db" -c "ANALYZE local_tasks"

rc=0
if [ -n "${DIFF_SEEDS:-}" ]; then
  for s in $DIFF_SEEDS; do
    "$py" "$root/test/differential.py" --dbname "$db" --seed "$s" \
      ${DIFF_QUERIES:+--queries "$DIFF_QUERIES"} "$@" || rc=1
  done
else
  "$py" "$root/test/differential.py" --dbname "$db" \
    ${DIFF_QUERIES:+--queries "$DIFF_QUERIES"} "$@" || rc=1
fi
exit $rc
