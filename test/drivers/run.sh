#!/usr/bin/env bash
# test/drivers/run.sh: rds_tasks through real client drivers: pgJDBC
# (JdbcTest.java) and psqlODBC through pyodbc (odbc_test.py), each in the
# session time zones UTC and Europe/Berlin.
#
#   pg_virtualenv -t -v 15 -o port=PORT bash test/drivers/run.sh
#
# Needs: a running simulator (RDS_SIM_HTTP, test/lib.sh start_sim; its static
# token RDS_SIM_TOKEN, default test-token-0001) and the PG* environment of a
# cluster where the extension is installed, as a superuser (pg_virtualenv's).
# Installs what is missing (root or sudo): libpostgresql-jdbc-java,
# odbc-postgresql, unixodbc, python3-pyodbc and a JDK when there is no javac.
# Creates the database rds_drivers (dropped first): server, user mapping,
# IMPORT FOREIGN SCHEMA and local_tasks, a copy of the simulator's data
# after a reset to 2000 tasks at a fixed seed and base time (the simulator's
# previous tasks, seed and base time are restored on exit).
# Prints "ok N - ..." / "not ok N - ..." lines and ends with
# "drivers: N passed, M failed"; the exit status is 0 only if none failed.
# RDS_DRIVERS_ZONES (default "UTC Europe/Berlin") and RDS_DRIVERS_CLIENTS
# (default "jdbc odbc") narrow the run.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${RDS_SIM_HTTP:?RDS_SIM_HTTP is not set (start the simulator: test/lib.sh start_sim)}"
token="${RDS_SIM_TOKEN:-test-token-0001}"
project="${RDS_SIM_PROJECT:-0123456789abcdef0123456789abcdef}"
zones="${RDS_DRIVERS_ZONES:-UTC Europe/Berlin}"
clients="${RDS_DRIVERS_CLIENTS:-jdbc odbc}"
t0=$(date +%s)

die() { echo "not ok 1 - drivers: $*"; echo "drivers: 0 passed, 1 failed"; exit 1; }

# -- packages
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
# Debian's python3, where python3-pyodbc lives (not a pyenv or venv one)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
for p in libpostgresql-jdbc-java odbc-postgresql unixodbc python3-pyodbc; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ! command -v javac >/dev/null; then
  # Debian 12: openjdk-17; 13 and later: the default JDK (openjdk-21 on 13)
  if [ "$(. /etc/os-release; echo "${VERSION_ID:-}")" = 12 ]; then
    missing+=(openjdk-17-jdk-headless)
  else
    missing+=(default-jdk-headless)
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "# installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/tmp/rds_drivers_apt.log 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/tmp/rds_drivers_apt.log 2>&1; } ||
    { tail -n 20 /tmp/rds_drivers_apt.log; die "could not install ${missing[*]}"; }
fi
jar=/usr/share/java/postgresql.jar
[ -f "$jar" ] || die "no $jar"
odbcinst -q -d -n "PostgreSQL Unicode" >/dev/null 2>&1 ||
  die "the ODBC driver \"PostgreSQL Unicode\" is not registered (odbcinst -q -d)"

# -- the database
export PGDATABASE=rds_drivers
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS rds_drivers" -c "CREATE DATABASE rds_drivers" ||
  die "cannot create the database"
# 2000 tasks, 30 days up to 2025-11-10 12:00 UTC: the window holds the end of
# summer time in Europe/Berlin (2025-10-26 03:00 CEST -> 02:00 CET)
# (the simulator's own tasks, seed and base time are restored at the end)
sim_reset() {
  curl -sS -f -X POST -H 'Content-Type: application/json' --data-binary "$1" "$RDS_SIM_HTTP/_sim/reset"
}
prev=$(sim_reset '{}' | python3 -c 'import json, sys; d = json.load(sys.stdin)
print(json.dumps({k: d[k] for k in ("tasks", "seed", "base_time")}))') ||
  die "cannot reset the simulator"
trap 'sim_reset "$prev" >/dev/null' EXIT
sim_reset '{"tasks": 2000, "seed": 12, "base_time": 1762776000}' >/dev/null ||
  die "cannot reset the simulator"
psql -X -q -v ON_ERROR_STOP=1 -v sim="$RDS_SIM_HTTP" -v token="$token" -v project="$project" <<'SQL' ||
CREATE EXTENSION rds_task_fdw;
CREATE SERVER drv FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id :'project');
CREATE USER MAPPING FOR CURRENT_USER SERVER drv OPTIONS (auth_token :'token');
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER drv INTO public;
-- for tools that list only tables and views (README, "BI tools and drivers")
CREATE VIEW tasks AS SELECT * FROM rds_tasks;
CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SQL
  die "cannot set up the database"
curl -sS -f "$RDS_SIM_HTTP/_sim/dataset?format=csv&project=$project" |
  psql -X -q -v ON_ERROR_STOP=1 -c "\\copy local_tasks FROM STDIN WITH (FORMAT csv)" ||
  die "cannot load local_tasks"
psql -X -q -c "ANALYZE local_tasks"
echo "# local_tasks: $(psql -X -At -c "SELECT count(*) || ' tasks, ' || min(create_time) || ' .. ' || max(create_time) FROM local_tasks")"

# -- the clients
work=$(mktemp -d /tmp/rds_drivers.XXXXXX)
trap 'rm -rf "$work"; sim_reset "$prev" >/dev/null' EXIT
out="$work/out"
: >"$out"
status=0
for client in $clients; do
  case "$client" in
    jdbc)
      echo "# $(javac -version 2>&1)"
      if ! javac -encoding UTF-8 -cp "$jar" -d "$work/classes" "$here/JdbcTest.java" >"$work/javac.out" 2>&1; then
        cat "$work/javac.out"
        echo "not ok - jdbc: JdbcTest.java does not compile" | tee -a "$out"
        status=1
        continue
      fi
      for zone in $zones; do
        timeout 300 java -Duser.timezone="$zone" -cp "$work/classes:$jar" JdbcTest 2>&1 | tee -a "$out"
        [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
      done ;;
    odbc)
      for zone in $zones; do
        timeout 300 "$py" "$here/odbc_test.py" "$zone" 2>&1 | tee -a "$out"
        [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
      done ;;
    *) die "unknown client $client" ;;
  esac
done

passed=$(grep -cE '^ok [0-9]+' "$out")
failed=$(grep -cE '^not ok' "$out")
# a client that died without a failed assertion counts as one failure
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "# $(($(date +%s) - t0)) s"
echo "drivers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
