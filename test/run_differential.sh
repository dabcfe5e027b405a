#!/usr/bin/env bash
# test/run_differential.sh: the differential test (test/differential.py).
#
# Needs a running simulator (RDS_SIM_HTTP, as test/run_tests.sh exports it)
# and PG* variables for a cluster where the extension is installed, e.g.
#   pg_virtualenv -v 15 bash test/run_differential.sh [differential.py options]
# Creates its own database (DIFF_DB, default rds_differential; dropped again
# unless DIFF_KEEP=1), resets the simulator (unless DIFF_SIM_RESET=0) to
# DIFF_TASKS tasks (2500) so that no fault, configuration or list size of an
# earlier suite is left, sets up the server,
# user mapping, foreign tables and the local copy of the data, and runs
# differential.py with the given options (DIFF_SEEDS="s1 s2 ..." runs one
# pass per seed; DIFF_QUERIES sets --queries).  Exit status non-zero on any
# difference or error.
#
# Also (for differential.py's phases and shares of queries):
#   - a second database, DB_latin1 (ENCODING LATIN1, C locale), set up alike
#     (unless DIFF_LATIN1=0): there the local copy keeps instance_name as
#     its UTF-8 bytes and local_tasks is a view decoding them with
#     convert_from, so a row whose name LATIN1 cannot hold (数据库-生产-01)
#     is the same error (22P05) locally as through the FDW, when the
#     column (or raw) is read; names LATIN1 can hold (rds-münchen-01) compare
#     as values;
#   - rds_tasks_raw / local_tasks_raw: the base columns plus raw (jsonb) and
#     rawj (json); the local raw holds the keys id, name, instance_id,
#     instance_name, status, instance_status only;
#   - with RDS_SIM_HTTPS and RDS_SIM_CA set (test/lib.sh start_sim): the
#     role diff_role (NOLOGIN, no superuser) with USAGE on the server
#     diff_tls (the simulator over https, ca_file RDS_SIM_CA), its own user
#     mapping, and the same foreign tables in schema diffrole; it may read
#     the local tables.  differential.py lets the https host:port through
#     rds_task_fdw.allowed_hosts in its session and runs a share of the
#     queries after SET ROLE diff_role.  The role is dropped at the end.
#
#   - servers diff_pw (IAM password auth) and diff_ak (AK/SK signing) on the
#     simulator, with the same foreign tables in schemas auth_pw and auth_ak
#     (in both databases): differential.py rotates each query over the
#     three ways to authenticate, the cache on or off, and a new session or
#     the current one.
#
# Environment: DIFF_PROJECT (0123456789abcdef0123456789abcdef), DIFF_TOKEN
# (test-token-0001), DIFF_IAM_USER, DIFF_IAM_PASSWORD, DIFF_IAM_DOMAIN
# (alice, alice-S3cret-pw, OTC-DOMAIN-1), DIFF_AK, DIFF_SK
# (AKTESTEXAMPLE000001, SKtestExampleSecretKey0000000000000001: the
# simulator's as test/run_tests.sh starts it), DIFF_REGION (eu-de), DIFF_LATIN1 (1), DIFF_ORDER_QUERIES
# (150: passes of that many queries with the simulator paging in a random
# order, then in hash order; 0 = none).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sim="${RDS_SIM_HTTP:?RDS_SIM_HTTP is not set (start the simulator first)}"
db="${DIFF_DB:-rds_differential}"
project="${DIFF_PROJECT:-0123456789abcdef0123456789abcdef}"
token="${DIFF_TOKEN:-test-token-0001}"
region="${DIFF_REGION:-eu-de}"
# the simulator's other credentials (test/run_tests.sh starts it with these)
iam_user="${DIFF_IAM_USER:-alice}"
iam_password="${DIFF_IAM_PASSWORD:-alice-S3cret-pw}"
iam_domain="${DIFF_IAM_DOMAIN:-OTC-DOMAIN-1}"
ak="${DIFF_AK:-AKTESTEXAMPLE000001}"
sk="${DIFF_SK:-SKtestExampleSecretKey0000000000000001}"
py=/usr/bin/python3                 # Debian's, where python3-psycopg2 lives
[ -x "$py" ] || py=python3
export DIFF_PROJECT="$project" DIFF_REGION="$region" DIFF_TOKEN="$token"
db1="${db}_latin1"
latin1="${DIFF_LATIN1:-1}"
https="${RDS_SIM_HTTPS:-}"
ca="${RDS_SIM_CA:-}"

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "${DIFF_SIM_RESET:-1}" != 0 ]; then
  curl -sS -f -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"tasks\": ${DIFF_TASKS:-2500}}" "$sim/_sim/reset" >/dev/null
fi

psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" \
  -c "DROP DATABASE IF EXISTS $db1" -c "DROP ROLE IF EXISTS diff_role" -c "CREATE DATABASE $db"
if [ "$latin1" != 0 ]; then
  psql_q -d postgres -c "CREATE DATABASE $db1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
fi
cleanup() {
  if [ "${DIFF_KEEP:-0}" != 1 ]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP DATABASE IF EXISTS $db1" \
      -c "DROP ROLE IF EXISTS diff_role" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# setup DB KIND: the server, mapping, foreign tables and local twins (KIND
# utf8: local_tasks a table; latin1: a view over local_tasks_src)
setup() {
psql_q -d "$1" -v sim="$sim" -v project="$project" -v token="$token" -v region="$region" \
  -v kind="$2" -v iam_user="$iam_user" -v iam_password="$iam_password" \
  -v iam_domain="$iam_domain" -v ak="$ak" -v sk="$sk" <<'SQL'
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

CREATE FOREIGN TABLE rds_tasks_raw (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text,
  raw jsonb, rawj json OPTIONS (column_name 'raw')) SERVER diff;

-- the local copy, in the API's order
SELECT :'kind' = 'latin1' AS latin1 \gset
\if :latin1
CREATE TABLE local_tasks_src (
  id text, name text, instance_id text, instance_name bytea, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
CREATE VIEW local_tasks AS
  SELECT id, name, instance_id, convert_from(instance_name, 'UTF8') AS instance_name,
         instance_status, order_id, process, fail_reason, create_time, end_time, status
    FROM local_tasks_src;
\else
CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
\endif
CREATE VIEW local_tasks_raw AS
  SELECT *, jsonb_build_object('id', id, 'name', name, 'instance_id', instance_id,
                               'instance_name', instance_name, 'status', status,
                               'instance_status', instance_status) AS raw,
            json_build_object('id', id, 'name', name, 'instance_id', instance_id,
                              'instance_name', instance_name, 'status', status,
                              'instance_status', instance_status) AS rawj
    FROM local_tasks;
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

-- the same foreign tables over the other two ways to authenticate (IAM
-- password: auth_url defaults to the endpoint's host, where the simulator
-- answers /v3/auth/tokens; AK/SK signing), in schemas auth_pw and auth_ak
CREATE SERVER diff_pw FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id :'project', region :'region');
CREATE USER MAPPING FOR CURRENT_USER SERVER diff_pw
  OPTIONS (user_name :'iam_user', password :'iam_password', domain_name :'iam_domain');
CREATE SERVER diff_ak FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id :'project', region :'region');
CREATE USER MAPPING FOR CURRENT_USER SERVER diff_ak
  OPTIONS (access_key :'ak', secret_key :'sk');
DO $$
DECLARE
  s record;
BEGIN
  FOR s IN SELECT * FROM (VALUES ('auth_pw', 'diff_pw'), ('auth_ak', 'diff_ak')) v(sch, srv) LOOP
    EXECUTE format('CREATE SCHEMA %I', s.sch);
    EXECUTE format('IMPORT FOREIGN SCHEMA otc FROM SERVER %I INTO %I', s.srv, s.sch);
    EXECUTE format($q$CREATE FOREIGN TABLE %I.rds_tasks_pr (
      id text, name text, instance_id text, status text, order_id text, process integer,
      fail_reason text, instance_status text, create_time timestamptz, end_time timestamptz,
      project_id text, region text) SERVER %I$q$, s.sch, s.srv);
    EXECUTE format($q$CREATE FOREIGN TABLE %I.rds_tasks_typed (
      id varchar(64), name varchar, instance_id text, instance_status varchar(40),
      status varchar, order_id varchar, process numeric, fail_reason text,
      ts timestamp OPTIONS (column_name 'create_time'),
      day date OPTIONS (column_name 'create_time'),
      end_time timestamp) SERVER %I$q$, s.sch, s.srv);
    EXECUTE format($q$CREATE FOREIGN TABLE %I.rds_tasks_raw (
      id text, name text, instance_id text, instance_name text, instance_status text,
      order_id text, process integer, fail_reason text,
      create_time timestamptz, end_time timestamptz, status text,
      raw jsonb, rawj json OPTIONS (column_name 'raw')) SERVER %I$q$, s.sch, s.srv);
  END LOOP;
END
$$;
SQL
}

# role_setup DB: diff_role, its https server, mapping and tables (schema diffrole)
role_setup() {
psql_q -d "$1" -v https="$https" -v ca="$ca" -v project="$project" -v token="$token" \
  -v region="$region" <<'SQL'
SET client_min_messages = warning;
CREATE ROLE diff_role NOLOGIN NOSUPERUSER;
CREATE SERVER diff_tls FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'https', project_id :'project', region :'region', ca_file :'ca');
GRANT USAGE ON FOREIGN SERVER diff_tls TO diff_role;
CREATE USER MAPPING FOR diff_role SERVER diff_tls OPTIONS (auth_token :'token');
CREATE SCHEMA diffrole;
IMPORT FOREIGN SCHEMA otc FROM SERVER diff_tls INTO diffrole;
CREATE FOREIGN TABLE diffrole.rds_tasks_pr (
  id text, name text, instance_id text, status text, order_id text, process integer,
  fail_reason text, instance_status text, create_time timestamptz, end_time timestamptz,
  project_id text, region text) SERVER diff_tls;
CREATE FOREIGN TABLE diffrole.rds_tasks_typed (
  id varchar(64), name varchar, instance_id text, instance_status varchar(40),
  status varchar, order_id varchar, process numeric, fail_reason text,
  ts timestamp OPTIONS (column_name 'create_time'),
  day date OPTIONS (column_name 'create_time'),
  end_time timestamp) SERVER diff_tls;
CREATE FOREIGN TABLE diffrole.rds_tasks_raw (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text,
  raw jsonb, rawj json OPTIONS (column_name 'raw')) SERVER diff_tls;
GRANT USAGE ON SCHEMA diffrole TO diff_role;
GRANT SELECT ON ALL TABLES IN SCHEMA diffrole, public TO diff_role;
SQL
}

setup "$db" utf8
curl -sS -f "$sim/_sim/dataset?format=csv&project=$project" |
  psql_q -d "$db" -c "COPY local_tasks FROM STDIN WITH (FORMAT csv)"
psql_q -d "$db" -c "ANALYZE local_tasks"
if [ -n "$https" ] && [ -n "$ca" ]; then
  role_setup "$db"
fi
extra=()
if [ "$latin1" != 0 ]; then
  setup "$db1" latin1
  # instance_name (the 4th field) as the bytea of its UTF-8 bytes
  curl -sS -f "$sim/_sim/dataset?format=csv&project=$project" |
    "$py" -c '
import csv, sys
out = csv.writer(sys.stdout, lineterminator="\n")
for row in csv.reader(sys.stdin):
    if row[3]:
        row[3] = "\\x" + row[3].encode("utf-8").hex()
    out.writerow([None if v == "" else v for v in row])' |
    psql_q -d "$db1" -c "COPY local_tasks_src FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
  psql_q -d "$db1" -c "ANALYZE local_tasks_src"
  extra=(--latin1-dbname "$db1")
fi

rc=0
if [ -n "${DIFF_SEEDS:-}" ]; then
  for s in $DIFF_SEEDS; do
    "$py" "$root/test/differential.py" --dbname "$db" --seed "$s" "${extra[@]}" \
      ${DIFF_QUERIES:+--queries "$DIFF_QUERIES"} "$@" || rc=1
  done
else
  "$py" "$root/test/differential.py" --dbname "$db" "${extra[@]}" \
    ${DIFF_QUERIES:+--queries "$DIFF_QUERIES"} "$@" || rc=1
fi
# the API's page order is undocumented: more passes with the simulator
# paging in a random order, then in hash order (the same for every
# request; DIFF_ORDER_QUERIES queries each, 150; 0 = none)
if [ "${DIFF_ORDER_QUERIES:-150}" -gt 0 ]; then
  for order in random hash; do
    "$py" "$root/test/differential.py" --dbname "$db" "${extra[@]}" --page-order "$order" \
      --queries "${DIFF_ORDER_QUERIES:-150}" "$@" || rc=1
  done
fi
exit $rc
