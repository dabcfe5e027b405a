#!/usr/bin/env bash
# test/load.sh: many concurrent sessions scan through rds_task_fdw while the
# API simulator injects faults; every result is checked against a local copy
# of the data set.
#
# Usage: test/load.sh [--duration SECONDS] [--clients N] [--tasks N] [--tls]
#                     [--server-log FILE]
#   --duration    how long the sessions run (default 180)
#   --clients     concurrent sessions (default 32)
#   --tasks       tasks in the simulator's data set (default 600)
#   --tls         talk to the simulator over HTTPS (a throwaway CA, ca_file)
#   --server-log  the cluster's log file, searched for crashes afterwards
#
# Connects with libpq's environment (PGHOST, PGPORT, PGDATABASE, PGUSER) as
# a superuser; the extension must be installed.  Starts its own simulator
# (test/lib.sh start_sim) and creates, in the database, the server
# rds_load_srv and the schema rds_load (both dropped first if they exist):
# the foreign table rds_load.tasks, its local copy rds_load.local loaded
# from the simulator's /_sim/dataset, and check functions that raise
# SQLSTATE WR001 when the foreign table's rows differ from the local ones.
#
# Each session is a psql fed one statement at a time (lock-step, so it stops
# at the deadline): full scans, status filters, instance_id filters, count(*)
# pushdown, IN-lists, a create_time window, LIMIT, and statement_timeout
# cancellations.  Meanwhile an injector adds simulator fault rules every
# 0.25 s: 503/502/500, 429 with Retry-After, dropped connections (FIN and
# RST), truncated, malformed and HTML bodies, delays.  Retried faults must
# be invisible; the others must be clean ERRORs (SQLSTATE class HV or 08,
# or 57014 for the timeouts).
#
# Prints sessions, statements, errors by kind, and "load: PASS" or "load:
# FAIL"; exits 0 only if no result was wrong, every error was clean, no
# session lost its connection and the postmaster never restarted.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/test/lib.sh"

duration=180
clients=32
tasks=600
tls=0
server_log=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --clients) clients="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --tls) tls=1; shift ;;
    --server-log) server_log="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

RDS_SIM_PID=""           # ours only: never stop a simulator we did not start
work=$(mktemp -d /tmp/rds_load.XXXXXX)
chmod 755 "$work"
injector=""
cleanup() {
  [ -n "$injector" ] && kill "$injector" 2>/dev/null && wait "$injector" 2>/dev/null
  stop_sim
  rm -rf "$work"
}
trap cleanup EXIT

PROJECT=0123456789abcdef0123456789abcdef
TOKEN=load-token-0001
psql_run() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# -------------------------------------------------------------------
# simulator, schema, local copy, check functions
# -------------------------------------------------------------------
start_sim "$work" --tasks "$tasks" --seed 11 --token "$TOKEN" --log-max 1000 ||
  { echo "load: FAIL (simulator did not start)"; exit 1; }
sim="$RDS_SIM_HTTP"
if [ "$tls" -eq 1 ]; then
  endpoint="$RDS_SIM_HTTPS"
  tls_opt=", ca_file '$RDS_SIM_CA'"
else
  endpoint="$RDS_SIM_HTTP"
  tls_opt=""
fi

psql_run <<EOF || { echo "load: FAIL (setup)"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rds_task_fdw;
DROP SCHEMA IF EXISTS rds_load CASCADE;
DROP SERVER IF EXISTS rds_load_srv CASCADE;
CREATE SERVER rds_load_srv FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint '$endpoint', project_id '$PROJECT', max_retries '3',
           request_timeout '10'$tls_opt);
CREATE USER MAPPING FOR CURRENT_USER SERVER rds_load_srv OPTIONS (auth_token '$TOKEN');
CREATE SCHEMA rds_load;
CREATE FOREIGN TABLE rds_load.tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text
) SERVER rds_load_srv;
CREATE TABLE rds_load.local (LIKE rds_load.tasks);
EOF
curl -sS -f "$sim/_sim/dataset?format=csv" |
  psql_run -c '\copy rds_load.local FROM STDIN (FORMAT csv)' ||
  { echo "load: FAIL (loading the local copy)"; exit 1; }

psql_run <<'EOF' || { echo "load: FAIL (check functions)"; exit 1; }
CREATE TABLE rds_load.instances AS SELECT DISTINCT instance_id FROM rds_load.local;
ANALYZE rds_load.local, rds_load.instances;

-- compare(what, got, want): raises WR001 unless got = want
CREATE FUNCTION rds_load.compare(what text, got text, want text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  IF got IS DISTINCT FROM want THEN
    RAISE EXCEPTION 'rds_load: wrong result for %', what
      USING ERRCODE = 'WR001', DETAIL = format('got %s, want %s', got, want);
  END IF;
  RETURN 'ok';
END $$;

-- every row: how many, and a digest of their text
CREATE FUNCTION rds_load.check_all() RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text; want text;
BEGIN
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO got FROM rds_load.tasks t;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO want FROM rds_load.local t;
  RETURN rds_load.compare('every row', got, want);
END $$;

CREATE FUNCTION rds_load.check_status(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text; want text;
BEGIN
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO got
    FROM rds_load.tasks t WHERE status = s;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO want
    FROM rds_load.local t WHERE status = s;
  RETURN rds_load.compare('status = ' || s, got, want);
END $$;

CREATE FUNCTION rds_load.check_instance() RETURNS text LANGUAGE plpgsql AS $$
DECLARE i text; got text; want text;
BEGIN
  SELECT instance_id INTO i FROM rds_load.instances ORDER BY random() LIMIT 1;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO got
    FROM rds_load.tasks t WHERE instance_id = i;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO want
    FROM rds_load.local t WHERE instance_id = i;
  RETURN rds_load.compare('instance_id = ' || i, got, want);
END $$;

-- count(*) answered from total_count
CREATE FUNCTION rds_load.check_count(s text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN rds_load.compare('count(*) where status = ' || s,
    (SELECT count(*) FROM rds_load.tasks WHERE status = s)::text,
    (SELECT count(*) FROM rds_load.local WHERE status = s)::text);
END $$;

CREATE FUNCTION rds_load.check_in() RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text; want text;
BEGIN
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO got
    FROM rds_load.tasks t WHERE status IN ('Failed', 'Running');
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO want
    FROM rds_load.local t WHERE status IN ('Failed', 'Running');
  RETURN rds_load.compare('status IN (Failed, Running)', got, want);
END $$;

-- the last three days of the data set
CREATE FUNCTION rds_load.check_window() RETURNS text LANGUAGE plpgsql AS $$
DECLARE lo timestamptz; got text; want text;
BEGIN
  SELECT max(create_time) - interval '3 days' INTO lo FROM rds_load.local;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO got
    FROM rds_load.tasks t WHERE create_time >= lo;
  SELECT count(id) || ' ' || md5(string_agg(t::text, ',' ORDER BY id)) INTO want
    FROM rds_load.local t WHERE create_time >= lo;
  RETURN rds_load.compare('create_time window', got, want);
END $$;

-- LIMIT: any 10 rows will do, but they must be 10 real ones
CREATE FUNCTION rds_load.check_limit() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN rds_load.compare('LIMIT 10',
    (SELECT count(DISTINCT l.id) FROM (SELECT * FROM rds_load.tasks LIMIT 10) f
       JOIN rds_load.local l ON l.id = f.id AND l::text = f::text)::text, '10');
END $$;

EOF
psql_run -A -t -o /dev/null -c "SELECT rds_load.check_all(), rds_load.check_status('Failed'),
  rds_load.check_instance(), rds_load.check_count('Running'), rds_load.check_in(),
  rds_load.check_window(), rds_load.check_limit()" ||
  { echo "load: FAIL (the checks fail without faults)"; exit 1; }

started=$(psql -X -A -t -c 'SELECT pg_postmaster_start_time()')
ntasks=$(psql -X -A -t -c 'SELECT count(*) FROM rds_load.local')

# -------------------------------------------------------------------
# the fault injector
# -------------------------------------------------------------------
faults='{"faults": [
 {"kind": "status", "status": 503, "times": 2},
 {"kind": "status", "status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
 {"kind": "status", "status": 429, "retry_after": "1"},
 {"kind": "status", "status": 500},
 {"kind": "drop"},
 {"kind": "drop", "rst": true},
 {"kind": "truncate"},
 {"kind": "malformed"},
 {"kind": "html"},
 {"kind": "delay", "ms": 300, "times": 2}]}'
inject() {
  local end=$1 n=0
  while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do
    curl -sS -f -o /dev/null -X POST -H 'Content-Type: application/json' \
      --data-binary "$faults" "$sim/_sim/faults" && n=$((n + 1))
    sleep 0.25
  done
  echo "$n" >"$work/injected"
}

# -------------------------------------------------------------------
# one session: psql fed one statement at a time until the deadline
# -------------------------------------------------------------------
session() {
  local id=$1 end=$2 n=0 r stmt line done
  coproc PSQL { exec psql -X -q -A -t -v VERBOSITY=verbose 2>"$work/s$id.err"; }
  local to=${PSQL[1]} from=${PSQL[0]}
  while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do
    r=$((RANDOM % 100))
    if   [ $r -lt 15 ]; then stmt="SELECT rds_load.check_all();"
    elif [ $r -lt 25 ]; then stmt="SELECT rds_load.check_status('Failed');"
    elif [ $r -lt 35 ]; then stmt="SELECT rds_load.check_status('Running');"
    elif [ $r -lt 60 ]; then stmt="SELECT rds_load.check_instance();"
    elif [ $r -lt 70 ]; then stmt="SELECT rds_load.check_count('Running');"
    elif [ $r -lt 80 ]; then stmt="SELECT rds_load.check_in();"
    elif [ $r -lt 88 ]; then stmt="SELECT rds_load.check_window();"
    elif [ $r -lt 95 ]; then stmt="SELECT rds_load.check_limit();"
    else stmt="SET statement_timeout = 100; SELECT rds_load.check_all(); RESET statement_timeout;"
    fi
    printf '%s\n\\echo @@done@@\n' "$stmt" >&"$to" 2>/dev/null || break
    done=0
    while IFS= read -r line <&"$from"; do
      [ "$line" = "@@done@@" ] && { done=1; break; }
    done
    [ $done -eq 1 ] || break        # psql exited: the connection was lost
    n=$((n + 1))
  done
  echo "$n $done" >"$work/s$id.count"
  exec {to}>&-
  wait "$PSQL_PID" 2>/dev/null
}

echo "load: $clients sessions for ${duration}s, $ntasks tasks, $([ $tls -eq 1 ] && echo HTTPS || echo HTTP)"
end=$(( ${EPOCHREALTIME/./} + duration * 1000000 ))
inject "$end" &
injector=$!
pids=()
for i in $(seq 1 "$clients"); do
  session "$i" "$end" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wait "$injector"
injector=""
applied=$(curl -sS -f "$sim/_sim/faults" | python3 -c '
import collections, json, sys
n = collections.Counter()
for r in json.load(sys.stdin)["faults"]:
    n[r["kind"] + (" %d" % r["status"] if "status" in r else "")] += r["applied"]
print(", ".join("%s x%d" % kv for kv in sorted(n.items())))')
curl -sS -f -o /dev/null -X POST -d '{}' "$sim/_sim/faults/clear"

# -------------------------------------------------------------------
# what happened
# -------------------------------------------------------------------
fail=0
statements=0
lost=0
least=""
most=0
for i in $(seq 1 "$clients"); do
  read -r n ok <"$work/s$i.count" 2>/dev/null || { n=0; ok=0; }
  statements=$((statements + n))
  [ "$ok" = 1 ] || lost=$((lost + 1))
  [ -z "$least" ] || [ "$n" -lt "$least" ] && least=$n
  [ "$n" -gt "$most" ] && most=$n
done
requests=$(curl -sS -f "$sim/_sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
echo "load: sessions: $clients, statements: $statements ($(( statements / duration ))/s, $least..$most a session)"
echo "load: simulator requests: $requests; faulty answers: $applied"

# errors by kind: SQLSTATE and message, with paths, queries and numbers masked
cat "$work"/s*.err >"$work/all.err"
grep -E '^(ERROR|FATAL|PANIC):  [0-9A-Z]{5}: ' "$work/all.err" |
  sed -E 's#/v3/[0-9a-f]+/tasklist(\?[^:]*)?#/v3/{project}/tasklist#g; s/[0-9]+ bytes/N bytes/g; s/Request ID: [0-9a-f]+/Request ID: ?/g' |
  sort | uniq -c | sort -rn >"$work/kinds"
nerrors=$(awk '{s += $1} END {print s + 0}' "$work/kinds")
echo "load: errors: $nerrors, by kind:"
sed 's/^/load:   /' "$work/kinds"

wrong=$(grep -c '^ERROR:  WR001' "$work/all.err")
unclean=$(grep -E '^(ERROR|FATAL|PANIC):  [0-9A-Z]{5}: ' "$work/all.err" |
  grep -vcE '^ERROR:  (HV[0-9A-Z]{3}|08[0-9A-Z]{3}|57014): ')
other=$(grep -E '^(FATAL|PANIC|WARNING):|server closed the connection|connection to server was lost|terminating connection' "$work/all.err" | sort | uniq -c)

echo "load: wrong results: $wrong"
[ "$wrong" -eq 0 ] || { fail=1; grep -A1 '^ERROR:  WR001' "$work/all.err" | head -20; }
echo "load: errors other than clean FDW errors (HV*, 08*, 57014): $((unclean - wrong))"
[ "$unclean" -eq 0 ] || fail=1
echo "load: sessions that lost their connection: $lost"
[ "$lost" -eq 0 ] || fail=1
if [ -n "$other" ]; then
  echo "load: unexpected messages:"; echo "$other" | sed 's/^/load:   /'; fail=1
fi

now=$(psql -X -A -t -c 'SELECT pg_postmaster_start_time()' 2>&1)
if [ "$now" = "$started" ]; then
  echo "load: the postmaster did not restart"
else
  echo "load: the postmaster restarted ($started -> $now)"; fail=1
fi
if [ -n "$server_log" ]; then
  crashes=$(grep -E 'terminated by signal|was terminated by exception|terminating any other active server processes|PANIC:' "$server_log")
  if [ -n "$crashes" ]; then
    echo "load: crashes in the server log:"; echo "$crashes" | head -20; fail=1
  else
    echo "load: no crash in the server log"
  fi
fi

# the data is still right once the faults are gone
if ! psql -X -q -A -t -v ON_ERROR_STOP=1 -c 'SELECT rds_load.check_all()' >/dev/null; then
  echo "load: the final check failed"; fail=1
fi

if [ "$fail" -eq 0 ]; then echo "load: PASS"; else echo "load: FAIL"; fi
exit "$fail"
