-- ===================================================================
-- pushdown: every row of SPEC.md's pushdown table, with the EXPLAIN
-- line, the requests the simulator received, and the rows compared with
-- the same query over a local copy of the data (where nothing is pushed)
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 2500}'

CREATE SERVER pd FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef',
           max_retries '0', parallel_requests '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER pd OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA pd;
SET search_path = pd, public;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER pd INTO pd;

-- the local copy, in the API's order
CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
DO $$ BEGIN
  EXECUTE format('COPY local_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;
ANALYZE local_tasks;

-- run a query over rds_tasks and, with the table name replaced, over the
-- local copy; report the row count and whether both agree row for row
CREATE FUNCTION compare(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  fdw text[];
  loc text[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(r::text ORDER BY r::text), ''{}'') FROM (%s) r', q) INTO fdw;
  EXECUTE format('SELECT coalesce(array_agg(r::text ORDER BY r::text), ''{}'') FROM (%s) r',
                 replace(q, 'rds_tasks', 'local_tasks')) INTO loc;
  RETURN cardinality(fdw) || ' rows, ' ||
         CASE WHEN fdw = loc THEN 'same as local'
              ELSE 'DIFFERENT from local (' || cardinality(loc) || ' rows)' END;
END $$;

-- EXPLAIN ANALYZE without timings; 18 prints row counts with two decimals
CREATE FUNCTION explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'rows=([0-9]+)\.00 ', 'rows=\1 ', 'g'); END LOOP; END $$;

-- plan once so that the planner's size estimate (a limit=1 request) is remembered
EXPLAIN (COSTS OFF) SELECT id FROM rds_tasks;

-- ===================================================================
-- equality on id, status, instance_id, order_id, name
-- ===================================================================
SELECT id AS some_id, instance_id AS some_instance, order_id AS some_order, name AS some_name
  FROM local_tasks WHERE order_id IS NOT NULL ORDER BY create_time, id LIMIT 1 \gset
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, status FROM rds_tasks WHERE status = 'Failed';
\! test/simctl clearlog
SELECT compare($$SELECT id, status FROM rds_tasks WHERE status = 'Failed'$$);
\! test/simctl log
\! test/simctl clearlog
SELECT compare(format('SELECT * FROM rds_tasks WHERE id = %L', :'some_id'));
SELECT compare(format('SELECT * FROM rds_tasks WHERE order_id = %L', :'some_order'));
SELECT compare(format('SELECT id, name FROM rds_tasks WHERE instance_id = %L', :'some_instance'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE name = %L AND status = %L', :'some_name', 'Completed'));
\! test/simctl log | sed -e 's/[0-9a-f]\{32\}/<hex>/g'
-- varchar columns and a renamed column push the same way
CREATE FOREIGN TABLE renamed (task_id varchar(40) OPTIONS (column_name 'id'),
                              state varchar OPTIONS (column_name 'status')) SERVER pd;
EXPLAIN (VERBOSE, COSTS OFF) SELECT task_id FROM renamed WHERE state = 'Running';
\! test/simctl clearlog
SELECT count(task_id) FROM renamed WHERE state = 'Running';
\! test/simctl log
-- "" is NULL in the table, so "= ''" matches nothing and sends nothing
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks WHERE order_id = '';
\! test/simctl log
-- conditions PostgreSQL alone can answer are not pushed: other operators,
-- expressions over the column, non-text columns
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE status <> 'Completed' AND lower(name) = 'createinstance' AND process = 50;
SELECT compare($$SELECT id FROM rds_tasks WHERE status <> 'Completed' AND lower(name) = 'createinstance'$$);
-- a case-insensitive collation must not be pushed as an exact match
CREATE COLLATION IF NOT EXISTS pd_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE status = 'failed' COLLATE pd_nocase;
SELECT compare($$SELECT id FROM rds_tasks WHERE status = 'failed' COLLATE pd_nocase$$);

-- ===================================================================
-- contradictions send no request at all
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE status = 'Failed' AND status = ANY (ARRAY['Running', 'Completed']);
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks WHERE status = 'Failed' AND status = ANY (ARRAY['Running', 'Completed']);
SELECT count(id) FROM rds_tasks WHERE status IN ('Failed') AND status = (SELECT 'Running');
SELECT count(id) FROM rds_tasks WHERE status = ANY ('{}'::text[]);
SELECT count(id) FROM rds_tasks WHERE status = NULL::text;
SELECT count(id) FROM rds_tasks WHERE create_time > '2026-01-10' AND create_time < '2026-01-09';
\! test/simctl log
-- conditions on no column are one-time filters PostgreSQL keeps above the
-- scan, so count(*) and LIMIT are not pushed under them (a contradiction
-- between two constants is one too: 17 and later leave out the scan below it)
EXPLAIN (COSTS OFF) SELECT count(*) FROM rds_tasks WHERE now() < '2000-01-01';
EXPLAIN (COSTS OFF) SELECT id FROM rds_tasks WHERE current_user = 'nobody' LIMIT 3;
SELECT count(*) FROM rds_tasks WHERE status = 'Completed' AND status = 'Failed';
SELECT id FROM rds_tasks WHERE status = 'Completed' AND status = 'Failed' LIMIT 3;
SELECT count(*) FROM rds_tasks WHERE now() < '2000-01-01';
SELECT id FROM rds_tasks WHERE current_user = 'nobody' LIMIT 3;
SELECT compare($$SELECT count(*) FROM rds_tasks WHERE current_user <> 'nobody'$$);

-- ===================================================================
-- IN lists and = ANY: one request stream per distinct value
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE status IN ('Failed', 'Running', 'Failed', NULL);
\! test/simctl clearlog
SELECT compare($$SELECT id, status FROM rds_tasks WHERE status IN ('Failed', 'Running', 'Failed', NULL)$$);
\! test/simctl log
\! test/simctl clearlog
SELECT compare($$SELECT id FROM rds_tasks WHERE status = ANY (ARRAY['Running', NULL, 'Running'])$$);
\! test/simctl log
-- IN on two fields: the product of their values
\! test/simctl clearlog
SELECT compare(format('SELECT id FROM rds_tasks WHERE status IN (%L, %L) AND instance_id IN (%L, %L)',
                      'Failed', 'Completed', :'some_instance', 'nope'));
\! test/simctl log | sed -e 's/[0-9a-f]\{32\}in0[0-9]/<instance>/g'
-- more values than 100 streams allow: that field is matched locally instead
CREATE TEMP TABLE many_ids AS SELECT id FROM local_tasks ORDER BY id LIMIT 150;
SELECT 'SELECT id FROM rds_tasks WHERE id IN (' || string_agg(quote_literal(id), ',') || ') AND status = ''Completed''' AS many_q
  FROM many_ids \gset
\! test/simctl clearlog
SELECT compare(:'many_q');
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c

-- ===================================================================
-- create_time ranges: start_time/end_time in ms, both always sent,
-- widened by a millisecond each way, and rechecked locally
-- ===================================================================
SELECT create_time AS t FROM local_tasks ORDER BY create_time LIMIT 1 OFFSET 1200 \gset
SELECT :'t'::timestamptz AS boundary, count(*) AS tasks_at_boundary FROM local_tasks WHERE create_time = :'t';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE create_time >= :'t';
\! test/simctl clearlog
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time >= %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time > %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time <= %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time < %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time = %L', :'t'));
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
-- to the millisecond and the microsecond around the boundary
\! test/simctl clearlog
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time >= %L::timestamptz + interval ''1 millisecond''', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time > %L::timestamptz - interval ''1 microsecond''', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time <= %L::timestamptz - interval ''1 microsecond''', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time < %L::timestamptz + interval ''1 microsecond''', :'t'));
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
-- BETWEEN, several bounds combined (the tightest wins), with other filters
\! test/simctl clearlog
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time BETWEEN %L AND %L::timestamptz + interval ''6 hours''', :'t', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time > %L::timestamptz - interval ''2 days'' AND create_time >= %L AND create_time < %L::timestamptz + interval ''1 day'' AND create_time <= %L::timestamptz + interval ''3 days'' AND status = %L',
                      :'t', :'t', :'t', :'t', 'Completed'));
\! test/simctl log
-- timestamp and date columns are UTC; the same windows apply
CREATE FOREIGN TABLE dated (id text, ts timestamp OPTIONS (column_name 'create_time'),
                            day date OPTIONS (column_name 'create_time')) SERVER pd;
\! test/simctl clearlog
SELECT count(id) = (SELECT count(*) FROM local_tasks WHERE (create_time AT TIME ZONE 'UTC') >= (:'t'::timestamptz AT TIME ZONE 'UTC'))
  FROM dated WHERE ts >= (:'t'::timestamptz AT TIME ZONE 'UTC');
SELECT count(id) = (SELECT count(*) FROM local_tasks WHERE (create_time AT TIME ZONE 'UTC')::date = (:'t'::timestamptz AT TIME ZONE 'UTC')::date)
  FROM dated WHERE day = (:'t'::timestamptz AT TIME ZONE 'UTC')::date;
\! test/simctl log
-- bounds at and beyond the ends of time: a bound the API cannot express
-- is no bound on that side, never a wrapped window (294250 AD once gave
-- "Remote request: none" and no rows)
\! test/simctl clearlog
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time <= '294250-01-01'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time < '294276-12-31 23:59:59.999999+00'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time >= '4713-01-01 00:00+00 BC'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time > '4713-01-01 00:00+00 BC' AND create_time < '294276-12-31 23:59:59+00'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time < 'infinity' AND create_time > '-infinity'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time >= '294250-01-01'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time >= 'infinity'$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time <= '-infinity'$$);
SELECT count(id) = (SELECT count(*) FROM local_tasks) AS all_days FROM dated WHERE day <= '5874897-12-31';
SELECT count(id) = (SELECT count(*) FROM local_tasks) AS all_days FROM dated WHERE day >= '4713-01-01 BC';
SELECT count(id) = (SELECT count(*) FROM local_tasks) AS all_times FROM dated WHERE ts <= '294276-12-31 23:59:59';
-- timestamptz bounds on the timestamp and date columns, where the zone's
-- offset takes the bound past the end of time (PostgreSQL converts the
-- column's side, and so does not fail); and a bound inside the data
SET TimeZone = 'Asia/Tokyo';
SELECT count(id) = (SELECT count(*) FROM local_tasks) AS all_times
  FROM dated WHERE ts <= '294276-12-31 23:59:59+00'::timestamptz;
SELECT count(id) = (SELECT count(*) FROM local_tasks) AS all_days
  FROM dated WHERE day <= '294276-12-31 23:59:59+00'::timestamptz;
SELECT count(id) = (SELECT count(*) FROM local_tasks
                     WHERE (create_time AT TIME ZONE 'UTC') >= (:'t'::timestamptz + interval '3 hours'))
       AS same_as_local
  FROM dated WHERE ts >= (:'t'::timestamptz + interval '3 hours');
SELECT count(id) = (SELECT count(*) FROM local_tasks
                     WHERE (create_time AT TIME ZONE 'UTC')::date < (:'t'::timestamptz - interval '5 hours'))
       AS same_as_local
  FROM dated WHERE day < (:'t'::timestamptz - interval '5 hours');
RESET TimeZone;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
-- an API whose bounds are exclusive loses nothing either
\! test/simctl config '{"time_bounds": "exclusive"}'
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time >= %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time <= %L', :'t'));
SELECT compare(format('SELECT id FROM rds_tasks WHERE create_time = %L', :'t'));
\! test/simctl config '{"time_bounds": "inclusive"}'

-- ===================================================================
-- values known at run time: stable expressions, parameters
-- ===================================================================
SET rds_test.status = 'Failed';
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE create_time >= now() - interval '7 days' AND status = current_setting('rds_test.status');
\! test/simctl clearlog
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time >= '2026-01-15 12:00:00+00'::timestamptz - interval '7 days' AND status = current_setting('rds_test.status')$$);
\! test/simctl log
-- a prepared statement run more than five times uses a generic plan with $1
PREPARE by_status(text) AS SELECT count(id) FROM rds_tasks WHERE status = $1;
EXECUTE by_status('Failed');
EXECUTE by_status('Failed');
EXECUTE by_status('Failed');
EXECUTE by_status('Failed');
EXECUTE by_status('Failed');
\! test/simctl clearlog
EXECUTE by_status('Running');
EXECUTE by_status('Failed');
\! test/simctl log
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_status('Running');
SELECT count(*) AS local_running FROM local_tasks WHERE status = 'Running';
PREPARE by_statuses(text[]) AS SELECT count(id) FROM rds_tasks WHERE status = ANY ($1);
EXECUTE by_statuses('{Failed,Running}');
EXECUTE by_statuses('{Failed,Running}');
EXECUTE by_statuses('{Failed,Running}');
EXECUTE by_statuses('{Failed,Running}');
EXECUTE by_statuses('{Failed,Running}');
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_statuses('{Running,Running,NULL}');
\! test/simctl clearlog
EXECUTE by_statuses('{Running,Running,NULL}');
\! test/simctl log

-- ===================================================================
-- joins: a small outer side becomes one request stream per key; a large
-- one gets a hash join over one scan
-- ===================================================================
CREATE TABLE inventory (instance_id text PRIMARY KEY, owner text);
INSERT INTO inventory
  SELECT instance_id, 'team-' || row_number() OVER (ORDER BY instance_id)
    FROM (SELECT DISTINCT instance_id FROM local_tasks ORDER BY instance_id LIMIT 3) s;
ANALYZE inventory;
CREATE TABLE big_inventory AS SELECT DISTINCT instance_id, 'x' AS owner FROM local_tasks;
ANALYZE big_inventory;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT i.owner, t.id FROM inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id;
\! test/simctl clearlog
SELECT compare($$SELECT i.owner, t.id, t.status FROM inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id$$);
\! test/simctl log | sed -e 's/[0-9a-f]\{32\}in0[0-9]/<instance>/g'
EXPLAIN (COSTS OFF)
SELECT i.owner, t.id FROM big_inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id;
\! test/simctl clearlog
SELECT compare($$SELECT i.owner, t.id FROM big_inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id$$);
\! test/simctl log | wc -l
-- a lateral reference is a parameter too
\! test/simctl clearlog
SELECT compare($$SELECT i.owner, x.n FROM inventory i, LATERAL (SELECT count(*) AS n FROM rds_tasks t WHERE t.instance_id = i.instance_id AND t.status = 'Completed') x$$);
\! test/simctl log | sed -e 's/[0-9a-f]\{32\}in0[0-9]/<instance>/g'

-- ===================================================================
-- LIMIT / OFFSET: pushed when nothing is filtered locally
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks OFFSET 2000 LIMIT 10;
\! test/simctl clearlog
SELECT compare('SELECT id FROM rds_tasks OFFSET 2000 LIMIT 10');
\! test/simctl log
-- LIMIT 120: three pages of at most 50, and no fourth request
\! test/simctl clearlog
SELECT compare('SELECT id, status FROM rds_tasks WHERE status = ''Completed'' LIMIT 120');
\! test/simctl log
-- OFFSET past the end: one request, no rows
\! test/simctl clearlog
SELECT compare('SELECT id FROM rds_tasks OFFSET 5000 LIMIT 10');
\! test/simctl log
-- LIMIT 0 asks for nothing; parameters work
\! test/simctl clearlog
SELECT count(*) FROM (SELECT id FROM rds_tasks LIMIT 0) s;
PREPARE page(bigint, bigint) AS SELECT id FROM rds_tasks OFFSET $1 LIMIT $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE page(100, 5);
SELECT compare('SELECT id FROM rds_tasks OFFSET 100 LIMIT 5');
EXECUTE page(100, 5);
RESET plan_cache_mode;
\! test/simctl log
-- a local filter, ORDER BY, or DISTINCT keep the LIMIT local
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE process > 10 LIMIT 5;
SELECT compare('SELECT id FROM rds_tasks WHERE process > 10 LIMIT 5');
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks ORDER BY create_time DESC, id LIMIT 5;
SELECT compare('SELECT id FROM rds_tasks ORDER BY create_time DESC, id LIMIT 5');
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM rds_tasks WHERE status IN ('Failed', 'Running') LIMIT 5;
-- negative values are errors, as without the FDW
SELECT id FROM rds_tasks LIMIT -1;
SELECT id FROM rds_tasks OFFSET -1;

-- ===================================================================
-- count(*): one limit=1 request per stream, answered from total_count
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM rds_tasks;
\! test/simctl clearlog
SELECT compare('SELECT count(*) FROM rds_tasks');
SELECT compare('SELECT count(*) FROM rds_tasks WHERE status = ''Failed''');
SELECT compare('SELECT count(*), count(*) + 1 FROM rds_tasks WHERE status IN (''Failed'', ''Running'')');
\! test/simctl log
-- streams of one task or none: their one-task pages are counted (a crash
-- once: the page was freed before it was read)
SELECT id AS one_id FROM local_tasks WHERE status = 'Completed' LIMIT 1 \gset
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE id = ANY(ARRAY[%L, %L]) AND status = %L',
                      :'one_id', 'ffffffffffffffffffffffffffffffff', 'Completed'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE id = %L', :'one_id'));
-- with a condition PostgreSQL must check, the rows are counted locally
EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM rds_tasks WHERE process > 10;
SELECT compare('SELECT count(*) FROM rds_tasks WHERE process > 10');
-- count(column) and GROUP BY are not count(*)
EXPLAIN (COSTS OFF) SELECT count(fail_reason) FROM rds_tasks;
SELECT compare('SELECT status, count(*) FROM rds_tasks GROUP BY status');

-- ===================================================================
-- project_id and region: known without asking
-- ===================================================================
CREATE FOREIGN TABLE located (id text, project_id text, region text) SERVER pd;
\! test/simctl clearlog
SELECT count(id) FROM located WHERE project_id = 'fedcba9876543210fedcba9876543210';
SELECT count(id) FROM located WHERE region = 'eu-de';
SELECT count(id) = 2500 AS all_rows FROM located WHERE project_id IN ('0123456789abcdef0123456789abcdef', 'other');
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c

-- ===================================================================
-- the actions table: filters narrow the requests, PostgreSQL rechecks
-- ===================================================================
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_task_actions) FROM SERVER pd INTO pd;
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM rds_task_actions WHERE name = 'CreateBackup';
\! test/simctl clearlog
SELECT name FROM rds_task_actions WHERE name = 'CreateBackup';
SELECT name FROM rds_task_actions WHERE name IN ('CreateBackup', 'NoSuchAction') ORDER BY 1;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c

-- ===================================================================
-- EXPLAIN ANALYZE shows the real number of requests
-- ===================================================================
SELECT explain_analyze($$SELECT id FROM rds_tasks WHERE status IN ('Failed', 'Running')$$);

-- ===================================================================
-- time filters as drivers write them: timestamp and date values against
-- the timestamptz column (psqlODBC sends its {ts '...'} and {d '...'}
-- escapes as '...'::timestamp and '...'::date; JDBC's LocalDateTime and
-- LocalDate parameters are typed so), and create_time::date against dates;
-- the bound is computed when the scan starts, in the session's TimeZone,
-- as PostgreSQL compares.
-- Tasks of 2025-10-11 to 2025-11-10: Berlin leaves summer time on
-- 2025-10-26, Los Angeles on 2025-11-02.
-- ===================================================================
\! test/simctl reset '{"tasks": 2000, "seed": 12, "base_time": 1762776000}'
TRUNCATE local_tasks;
DO $$ BEGIN
  EXECUTE format('COPY local_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;
SET TimeZone = 'Europe/Berlin';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM rds_tasks WHERE create_time >= '2025-10-26 02:30:00'::timestamp AND create_time < '2025-10-27'::date;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM rds_tasks WHERE create_time::date = '2025-10-26';
\! test/simctl clearlog
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time >= '2025-10-26 02:30:00'::timestamp AND create_time < '2025-10-27'::date$$);
SELECT compare($$SELECT id FROM rds_tasks WHERE create_time::date = '2025-10-26'$$);
\! test/simctl log
-- every form, in five time zones (half and quarter hours, both
-- hemispheres), against the local copy; the requests stay few
CREATE FUNCTION time_forms() RETURNS TABLE (zone text, form text, result text) LANGUAGE plpgsql AS $$
DECLARE
  z text;
  q text;
  forms text[] := ARRAY[
    $q$SELECT id FROM rds_tasks WHERE create_time >= '2025-10-26 02:30:00'::timestamp$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time > '2025-10-26 02:00:00'::timestamp AND create_time <= '2025-10-26 03:00:00'::timestamp$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time BETWEEN '2025-11-02 00:30:00'::timestamp AND '2025-11-02 02:30:00'::timestamp$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time < '2025-10-13'::date$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time >= '2025-11-09'::date$q$,
    $q$SELECT id FROM rds_tasks WHERE '2025-10-26'::date <= create_time AND create_time < '2025-10-27'::date$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time::date = '2025-10-26'$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time::date BETWEEN '2025-11-01' AND '2025-11-02'$q$,
    $q$SELECT id FROM rds_tasks WHERE create_time::date > '2025-11-08' AND status = 'Completed'$q$,
    $q$SELECT id FROM rds_tasks WHERE date(create_time) < '2025-10-12'$q$,
    $q$SELECT id FROM rds_tasks WHERE '2025-11-09'::date <= create_time::date$q$,
    $q$SELECT count(*) FROM rds_tasks WHERE create_time >= '2025-11-09 12:00'::timestamp$q$];
BEGIN
  FOREACH z IN ARRAY ARRAY['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham'] LOOP
    PERFORM set_config('TimeZone', z, true);
    FOREACH q IN ARRAY forms LOOP
      zone := z;
      form := q;
      result := compare(q);
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
\! test/simctl clearlog
SELECT zone, count(*) FILTER (WHERE result LIKE '% rows, same as local') AS same_as_local,
       count(*) AS forms
  FROM time_forms() GROUP BY zone ORDER BY zone;
-- 60 runs through the FDW: reading the whole list would be 40 requests each
\! test/simctl log | wc -l
-- with a timestamp and a date parameter: generic plans after five
-- executions (a prepared statement, PL/pgSQL's cached plan) evaluate the
-- bound at each start
CREATE FUNCTION ts_count(t timestamp, d date) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(id) FROM rds_tasks WHERE create_time >= t AND create_time < d);
END $$;
SELECT i, ts_count(('2025-10-26 00:30'::timestamp + i * interval '30 minutes'), '2025-10-27') =
          (SELECT count(*) FROM local_tasks
            WHERE create_time >= ('2025-10-26 00:30'::timestamp + i * interval '30 minutes')
              AND create_time < '2025-10-27'::date) AS same
  FROM generate_series(1, 7) i;
PREPARE by_ts(timestamp, date) AS SELECT id FROM rds_tasks WHERE create_time >= $1 AND create_time < $2;
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
\! test/simctl clearlog
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_ts('2025-10-26 01:00', '2025-10-27');
EXECUTE by_ts('2025-10-26 01:00', '2025-10-27') \g /dev/null
\! test/simctl log
DEALLOCATE by_ts;
RESET TimeZone;
-- the data the other suites expect
\! test/simctl reset '{"seed": 42, "base_time": 1768478400}'

\! test/simctl reset
DROP SCHEMA pd CASCADE;
DROP SERVER pd CASCADE;
RESET search_path;
