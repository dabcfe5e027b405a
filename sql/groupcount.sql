-- ===================================================================
-- groupcount: count(*) over a create_time window, and count(*) GROUP BY
-- status | name | date_trunc('day'|'hour', create_time), from total_count
-- with a request per group; the EXPLAIN lines, the requests the simulator
-- received, and the results compared with the same query over a local copy
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'

CREATE SERVER gc FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef',
           max_retries '0', parallel_requests '4');
CREATE USER MAPPING FOR CURRENT_USER SERVER gc OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA gc;
SET search_path = gc, public;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER gc INTO gc;

CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
-- the local copy of the simulator's list, reloaded after each change
CREATE FUNCTION reload() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint; BEGIN
  TRUNCATE local_tasks;
  EXECUTE format('COPY local_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
  SELECT count(*) INTO n FROM local_tasks;
  RETURN n; END $$;
SELECT reload();

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

-- which way EXPLAIN ANALYZE says the count went, and how many requests
CREATE FUNCTION how(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    IF l ~ '(Grouped count|HTTP requests|Pushed down):' THEN
      RETURN NEXT regexp_replace(trim(l), 'bytes received [0-9]+', 'bytes received N');
    END IF; END LOOP; END $$;

SET TimeZone = 'UTC';

-- ===================================================================
-- count(*) over a create_time window: the window's first page (its
-- total_count), and the tasks one second beyond each bound, rechecked
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM rds_tasks
 WHERE create_time >= '2026-01-08 12:00:00+00' AND create_time < '2026-01-12 00:00:00+00';
\! test/simctl clearlog
SELECT compare($$SELECT count(*) FROM rds_tasks
 WHERE create_time >= '2026-01-08 12:00:00+00' AND create_time < '2026-01-12 00:00:00+00'$$);
\! test/simctl log
SELECT * FROM how($$SELECT count(*) FROM rds_tasks
 WHERE create_time >= '2026-01-08 12:00:00+00' AND create_time < '2026-01-12 00:00:00+00'$$);
-- with an equality condition, and with a lower bound only (one edge)
\! test/simctl clearlog
SELECT compare($$SELECT count(*) FROM rds_tasks WHERE status = 'Completed'
 AND create_time > '2025-12-20 06:30:00.5+00'$$);
\! test/simctl log

-- tasks exactly on the bounds: several tasks share one second
SELECT create_time AS t FROM local_tasks
 GROUP BY create_time HAVING count(*) > 1 ORDER BY create_time OFFSET 60 LIMIT 1 \gset
SELECT count(*) AS tasks_at_t FROM local_tasks WHERE create_time = :'t';
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time >= %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time > %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time <= %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time < %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time = %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time > %L AND create_time <= %L',
                      :'t', :'t'::timestamptz + interval '5 days'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time >= %L AND create_time < %L',
                      :'t'::timestamptz - interval '5 days', :'t'));
-- an API whose bounds are exclusive gives the same counts
\! test/simctl config '{"time_bounds": "exclusive"}'
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time >= %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time < %L', :'t'));
SELECT compare(format('SELECT count(*) FROM rds_tasks WHERE create_time > %L AND create_time <= %L',
                      :'t', :'t'::timestamptz + interval '5 days'));
\! test/simctl config '{"time_bounds": "inclusive"}'

-- ===================================================================
-- GROUP BY status: one limit=1 request per documented status
-- ===================================================================
-- the dashboard's "tasks per status in 7 days"
EXPLAIN (VERBOSE, COSTS OFF)
SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status;
\! test/simctl clearlog
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
\! test/simctl log
SELECT * FROM how($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status ORDER BY 1;
-- without a window, with an IN list (a stream each), HAVING and ORDER BY above
SELECT compare($$SELECT status, count(*) FROM rds_tasks GROUP BY status$$);
\! test/simctl clearlog
SELECT compare($$SELECT count(*), status FROM rds_tasks WHERE name IN ('CreateBackup', 'RestartInstance')
  AND create_time < '2026-01-10 00:00:00+00' GROUP BY status$$);
\! test/simctl log
SELECT * FROM how($$SELECT count(*), status FROM rds_tasks WHERE name IN ('CreateBackup', 'RestartInstance')
  AND create_time < '2026-01-10 00:00:00+00' GROUP BY status$$);
-- a status the WHERE clause fixes is the window's total_count itself; with
-- several, they are the groups
EXPLAIN (VERBOSE, COSTS OFF) SELECT status, count(*) FROM rds_tasks WHERE status = 'Failed' GROUP BY status;
EXPLAIN (VERBOSE, COSTS OFF) SELECT status, count(*) FROM rds_tasks WHERE status IN ('Failed', 'Queued') GROUP BY status;
\! test/simctl clearlog
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE status IN ('Failed', 'Queued') GROUP BY status$$);
\! test/simctl log
\! test/simctl clearlog
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE status = 'Failed' GROUP BY status$$);
\! test/simctl log

-- a task with an empty status, one without, and one with a status the API
-- does not document: the groups miss them, the sum check sees it and the
-- pages are read (the empty and missing ones are the NULL group)
\! test/simctl edit '{"edits": [{"index": 3, "set": {"status": ""}}, {"index": 7, "unset": ["status"]}, {"index": 12, "set": {"status": "Queued"}}]}'
SELECT reload();
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
SELECT * FROM how($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status ORDER BY 1;
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- ===================================================================
-- GROUP BY name: one request per name the API lists in "actions"
-- ===================================================================
-- the dashboard's "top failing actions"; the simulator's actions list the
-- names on the page by default, the whole list's with {"actions": "list"}
\! test/simctl config '{"actions": "list"}'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name, count(*) FROM rds_tasks WHERE status = 'Failed' AND create_time >= '2025-12-16 12:00:00+00'
 GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5;
\! test/simctl clearlog
SELECT compare($$SELECT name, count(*) FROM rds_tasks WHERE status = 'Failed' AND create_time >= '2025-12-16 12:00:00+00'
 GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5$$);
\! test/simctl log | sed -e 's/name=[A-Za-z]*/name=X/' | uniq -c
SELECT * FROM how($$SELECT name, count(*) FROM rds_tasks WHERE status = 'Failed' AND create_time >= '2025-12-16 12:00:00+00'
 GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5$$);
-- every name the actions list is on the first page: the API may list the
-- page's names only, and the pages cost less than twice the groups: pages
SELECT compare($$SELECT name, count(*) FROM rds_tasks WHERE create_time >= '2026-01-01 00:00:00+00' GROUP BY name$$);
SELECT * FROM how($$SELECT name, count(*) FROM rds_tasks WHERE create_time >= '2026-01-01 00:00:00+00' GROUP BY name$$);
-- names only on the first page: a rarer one is missing, the sum check sends
-- the count to the pages
\! test/simctl config '{"actions": "page"}'
\! test/simctl edit '{"edits": [{"index": 1500, "set": {"name": "RareAction"}}]}'
SELECT reload();
SELECT compare($$SELECT name, count(*) FROM rds_tasks WHERE create_time >= '2025-12-20 00:00:00+00' GROUP BY name$$);
SELECT * FROM how($$SELECT name, count(*) FROM rds_tasks WHERE create_time >= '2025-12-20 00:00:00+00' GROUP BY name$$);
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- a list that moves between the requests (new tasks after the first page):
-- the groups no longer sum to the total_count first seen (one request at a
-- time, so that the new tasks come before the Running group's answer)
ALTER SERVER gc OPTIONS (SET parallel_requests '1');
\! test/simctl fault '{"kind": "shift", "count": 3, "skip": 1}'
SELECT * FROM how($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
ALTER SERVER gc OPTIONS (SET parallel_requests '4');
SELECT reload();
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- ===================================================================
-- GROUP BY date_trunc('day'|'hour', create_time): a request per bucket,
-- when that is fewer requests than the pages
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF)
SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-10 00:00:00+00' GROUP BY 1;
\! test/simctl clearlog
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-10 00:00:00+00' GROUP BY 1$$);
\! test/simctl log | sed -e 's/start_time=[0-9]*&end_time=[0-9]*/start_time=S\&end_time=E/' | uniq -c
SELECT * FROM how($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-10 00:00:00+00' GROUP BY 1$$);
-- bounds inside buckets, strict and not
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time > '2025-12-20 07:13:20+00' AND create_time <= '2026-01-10 19:00:01+00' GROUP BY 1$$);
-- the dashboard's "failures per day over 30 days": few tasks, the pages are fewer
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE status = 'Failed' AND create_time >= '2025-12-16 12:00:00+00' AND create_time < '2026-01-15 12:00:00+00' GROUP BY 1$$);
SELECT * FROM how($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE status = 'Failed' AND create_time >= '2025-12-16 12:00:00+00' AND create_time < '2026-01-15 12:00:00+00' GROUP BY 1$$);
-- an API whose bounds are exclusive: a task on a bucket's first second is
-- in no bucket's answer, the sum check sees it
\! test/simctl config '{"time_bounds": "exclusive"}'
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-10 00:00:00+00' GROUP BY 1$$);
SELECT * FROM how($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-10 00:00:00+00' GROUP BY 1$$);
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-08 12:00:00+00' GROUP BY status$$);
\! test/simctl config '{"time_bounds": "inclusive"}'

-- a bucket on its bounds: a task exactly at midnight, the day before and after
SELECT date_trunc('day', create_time) AS day0 FROM local_tasks ORDER BY create_time OFFSET 1000 LIMIT 1 \gset
SELECT id AS mid_id FROM local_tasks ORDER BY create_time OFFSET 1000 LIMIT 1 \gset
SELECT compare(format($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= %L AND create_time < %L GROUP BY 1$$, :'day0', :'day0'::timestamptz + interval '2 days'));

-- ===================================================================
-- local days: date_trunc in the session's TimeZone, across daylight
-- saving time changes (a list around the end of summer time 2025)
-- ===================================================================
\! test/simctl reset '{"tasks": 60000, "base_time": 1762344000}'
SELECT reload();
SET TimeZone = 'Europe/Berlin';
\! test/simctl clearlog
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-20' AND create_time < '2025-11-01' GROUP BY 1$$);
SELECT * FROM how($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-20' AND create_time < '2025-11-01' GROUP BY 1$$);
-- the 25-hour day and the repeated hour
SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-25' AND create_time < '2025-10-28' GROUP BY 1 ORDER BY 1;
SELECT compare($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-25 22:00' AND create_time < '2025-10-26 06:00' GROUP BY 1$$);
SELECT * FROM how($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-25 22:00' AND create_time < '2025-10-26 06:00' GROUP BY 1$$);
SET TimeZone = 'America/New_York';
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE status = 'Completed' AND create_time >= '2025-10-29' AND create_time < '2025-11-05' GROUP BY 1$$);
SELECT compare($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time > '2025-11-01 23:30' AND create_time < '2025-11-02 04:00' GROUP BY 1$$);
SET TimeZone = 'Asia/Kolkata';
SELECT compare($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-26 10:00' AND create_time < '2025-10-26 20:00' GROUP BY 1$$);
-- date_trunc with a zone of its own: the buckets are that zone's days and hours
EXPLAIN (COSTS OFF) SELECT date_trunc('day', create_time, 'Europe/Berlin') d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-20' AND create_time < '2025-11-01' GROUP BY 1;
SELECT compare($$SELECT date_trunc('day', create_time, 'Europe/Berlin') d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-20' AND create_time < '2025-11-01' GROUP BY 1$$);
SELECT * FROM how($$SELECT date_trunc('day', create_time, 'Europe/Berlin') d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-20' AND create_time < '2025-11-01' GROUP BY 1$$);
SELECT compare($$SELECT date_trunc('hour', create_time, 'Europe/Berlin') d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-26 00:00+02' AND create_time < '2025-10-26 05:00+01' GROUP BY 1$$);
SELECT compare($$SELECT date_trunc('hour', create_time, 'UTC') d, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-26 10:17' AND create_time < '2025-10-26 20:00' GROUP BY 1$$);
SET TimeZone = 'UTC';
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- ===================================================================
-- the dashboard's panels as written, over a list that ends now: each
-- costs at most its groups + 2 requests
-- ===================================================================
\! test/simctl reset '{"tasks": 2500, "base_time": "now"}'
SELECT reload();
CREATE FUNCTION panel(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; requests int; groups int; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    IF l ~ 'HTTP requests:' THEN
      requests := substring(l from 'HTTP requests: ([0-9]+)')::int;
    END IF; END LOOP;
  EXECUTE format('SELECT count(*) FROM (%s) r', q) INTO groups;
  RETURN 'same as local: ' || (compare(q) LIKE '%same as local') ||
         ', at most groups + 2 requests: ' || (requests <= groups + 2); END $$;
SELECT panel($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= now() - interval '7 days' GROUP BY status$$);
SELECT panel($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE status = 'Failed' AND create_time >= now() - interval '30 days' GROUP BY 1$$);
SELECT panel($$SELECT name, count(*) FROM rds_tasks WHERE status = 'Failed' AND create_time >= now() - interval '30 days'
 GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5$$);
-- the same over every status: buckets up to today, the last one open-ended
SELECT panel($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= now() - interval '30 days' GROUP BY 1$$);
SELECT regexp_replace(h, '[0-9]+ groups from [0-9]+ group requests and [0-9]+ edge', 'N groups from N group requests and N edge')
  FROM how($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= now() - interval '30 days' GROUP BY 1$$) h WHERE h ~ 'Grouped';
-- tasks later than now (a clock 20 minutes ahead): after the last bucket
\! test/simctl reset '{"tasks": 60000, "base_time": '$(($(date +%s) + 1200))'}'
SELECT reload() > 0 AS reloaded;
SELECT compare($$SELECT date_trunc('hour', create_time) d, count(*) FROM rds_tasks
 WHERE create_time >= now() - interval '10 hours' GROUP BY 1$$) LIKE '%same as local' AS same_as_local;
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- ===================================================================
-- the response cache (cache_ttl): a count is one version of the list.
-- The group requests' own entries may be of another fetch (here: two
-- count(*) queries before the list changed) and still add up to the
-- fresh total_count; a count sends its requests past the cache and
-- stores its result as one entry, which a later count reads whole
-- ===================================================================
\! test/simctl reset '{"tasks": 300, "base_time": 1768478400}'
\! test/simctl advance '{"add": 30}'
SELECT reload();
SELECT rds_task_fdw_cache_clear() >= 0 AS cleared;
CREATE FOREIGN TABLE cached_tasks (id text, status text, create_time timestamptz)
  SERVER gc OPTIONS (cache_ttl '300');
CREATE TABLE version_before AS SELECT status, count(*) FROM local_tasks GROUP BY 1;
SELECT count(*) FROM cached_tasks WHERE status = 'Running';
SELECT count(*) FROM cached_tasks WHERE status = 'Failed';
-- one task added, two tasks end (one Completed, one Failed): the entries
-- for Running and Failed, old, and the fresh ones for the first page and
-- Completed still add up
\! test/simctl advance '{"add": 1}'
\! test/simctl edit '{"edits": [{"index": 1, "set": {"status": "Failed"}}, {"index": 2, "set": {"status": "Completed"}}]}'
SELECT reload();
CREATE TABLE version_after AS SELECT status, count(*) FROM local_tasks GROUP BY 1;
-- count(*) over an IN list: one stream per status, whose totals must be of
-- one version too (the Running entry is old, Completed's would be fresh)
SELECT CASE (SELECT count(*) FROM cached_tasks WHERE status IN ('Running', 'Completed'))
         WHEN (SELECT sum(count) FROM version_after WHERE status IN ('Running', 'Completed')) THEN 'after'
         WHEN (SELECT sum(count) FROM version_before WHERE status IN ('Running', 'Completed')) THEN 'before'
         ELSE 'NEITHER' END AS in_list_count;
SELECT * FROM how($$SELECT status, count(*) FROM cached_tasks GROUP BY status$$);
CREATE FUNCTION which_version(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text; bef text; aft text; BEGIN
  EXECUTE format('SELECT string_agg(r::text, '' '' ORDER BY r::text) FROM (%s) r', q) INTO got;
  SELECT string_agg(r::text, ' ' ORDER BY r::text) INTO bef FROM version_before r;
  SELECT string_agg(r::text, ' ' ORDER BY r::text) INTO aft FROM version_after r;
  RETURN CASE got WHEN aft THEN 'after: ' WHEN bef THEN 'before: ' ELSE 'NEITHER: ' END || got; END $$;
SELECT which_version($$SELECT status, count(*) FROM cached_tasks GROUP BY status$$);
-- the next count within cache_ttl: the stored result, no request
SELECT * FROM how($$SELECT status, count(*) FROM cached_tasks GROUP BY status$$);
-- count(*) over a window, and by day: the same rule
SELECT * FROM how($$SELECT count(*) FROM cached_tasks WHERE create_time >= '2026-01-01'$$);
SELECT * FROM how($$SELECT count(*) FROM cached_tasks WHERE create_time >= '2026-01-01'$$);
SELECT compare($$SELECT date_trunc('day', create_time) d, count(*) FROM rds_tasks WHERE create_time >= '2026-01-01' GROUP BY 1$$);
SELECT (SELECT array_agg(r ORDER BY r) FROM (SELECT date_trunc('day', create_time) d, count(*) FROM cached_tasks
         WHERE create_time >= '2026-01-01' GROUP BY 1) r) =
       (SELECT array_agg(r ORDER BY r) FROM (SELECT date_trunc('day', create_time) d, count(*) FROM local_tasks
         WHERE create_time >= '2026-01-01' GROUP BY 1) r) AS by_day_same_as_local;
DROP FOREIGN TABLE cached_tasks;
DROP TABLE version_before, version_after;
DROP FUNCTION which_version(text);
SELECT rds_task_fdw_cache_clear() >= 0 AS cleared;

-- ===================================================================
-- a total_count that lies: 10^12 for a list of 300 tasks.  The group
-- requests are bounded by a number the API cannot inflate, stop as soon as
-- the groups add up to more than the window, and the pages then end where
-- the list does; a limit=1 answer is freed once its count is read
-- ===================================================================
\! test/simctl reset '{"tasks": 300, "base_time": 1768478400}'
SELECT reload();
\! test/simctl fault '{"kind": "total_count", "value": 1000000000000, "times": -1}'
\! test/simctl clearlog
SELECT compare($$SELECT date_trunc('hour', create_time) h, count(*) FROM rds_tasks
 WHERE create_time >= '2023-01-01' GROUP BY 1$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 12 ? "at most 12 requests" : $1 " requests") }'
SELECT * FROM how($$SELECT date_trunc('hour', create_time) h, count(*) FROM rds_tasks
 WHERE create_time >= '2023-01-01' GROUP BY 1$$);
-- the scan's memory while the result is returned (a cursor keeps it)
BEGIN;
DECLARE lying CURSOR FOR SELECT date_trunc('hour', create_time) h, count(*) FROM rds_tasks
 WHERE create_time >= '2023-01-01' GROUP BY 1;
MOVE 1 IN lying;
SELECT sum(total_bytes) < 1024 * 1024 AS scan_memory_under_1mb
  FROM pg_backend_memory_contexts WHERE name LIKE 'rds_task_fdw%';
COMMIT;
-- by status, by name, count(*) over a window, and a plain scan
\! test/simctl clearlog
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2023-01-01' GROUP BY 1$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 16 ? "at most 16 requests" : $1 " requests") }'
SELECT regexp_replace(h, 'HTTP requests: [0-9]+', 'HTTP requests: N')
  FROM how($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2023-01-01' GROUP BY 1$$) h;
\! test/simctl clearlog
SELECT compare($$SELECT name, count(*) FROM rds_tasks WHERE create_time >= '2023-01-01' GROUP BY 1$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 16 ? "at most 16 requests" : $1 " requests") }'
\! test/simctl clearlog
SELECT compare($$SELECT count(*) FROM rds_tasks WHERE create_time >= '2023-01-01'$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 16 ? "at most 16 requests" : $1 " requests") }'
\! test/simctl clearlog
SELECT compare($$SELECT id, status FROM rds_tasks$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 10 ? "at most 10 requests" : $1 " requests") }'
-- the time-window search (search.c): a window's first page that ends
-- before its total_count ends the search, what is left read whole
\! test/simctl clearlog
SELECT compare($$SELECT max(create_time) FROM rds_tasks$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 20 ? "at most 20 requests" : $1 " requests") }'
\! test/simctl clearlog
SELECT compare($$SELECT create_time FROM rds_tasks WHERE create_time >= '2023-01-01' ORDER BY create_time DESC LIMIT 10$$);
\! test/simctl log | wc -l | awk '{ print ($1 <= 20 ? "at most 20 requests" : $1 " requests") }'
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'
SELECT reload();

-- ===================================================================
-- empty windows, values at run time, and shapes that are not pushed
-- ===================================================================
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2020-01-01' AND create_time < '2020-02-01' GROUP BY status$$);
SELECT compare($$SELECT count(*) FROM rds_tasks WHERE create_time >= '2020-01-01' AND create_time < '2020-02-01'$$);
-- a bound beyond what the API can express, or an infinity: the window does
-- not hold it, the pages are read and the bound checked on each task
SELECT compare($$SELECT count(*) FROM rds_tasks WHERE create_time = '294276-12-31 23:59:59.999999+00'$$);
SELECT * FROM how($$SELECT count(*) FROM rds_tasks WHERE create_time = '294276-12-31 23:59:59.999999+00'$$);
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-10'
  AND create_time >= '294276-12-31 23:59:59+00' GROUP BY status$$);
SELECT compare($$SELECT status, count(*) FROM rds_tasks WHERE create_time >= '2026-01-10'
  AND create_time < 'infinity' GROUP BY status$$);
\! test/simctl clearlog
SELECT count(*) FROM rds_tasks WHERE create_time >= '2026-01-01' AND create_time < '2025-01-01';
SELECT date_trunc('day', create_time), count(*) FROM rds_tasks WHERE create_time >= '2026-01-01' AND create_time < '2025-01-01' GROUP BY 1;
\! test/simctl log
PREPARE by_status(text, timestamptz) AS
  SELECT name, count(*) FROM rds_tasks WHERE status = $1 AND create_time >= $2 GROUP BY name;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_status('Completed', '2026-01-10');
CREATE TEMP TABLE prepared_result AS EXECUTE by_status('Completed', '2026-01-10');
SELECT count(*) AS names,
       (SELECT array_agg(r ORDER BY r) FROM (SELECT name, count FROM prepared_result) r) =
       (SELECT array_agg(r ORDER BY r) FROM (SELECT name, count(*) FROM local_tasks
         WHERE status = 'Completed' AND create_time >= '2026-01-10' GROUP BY name) r) AS same_as_local
  FROM prepared_result;
-- HAVING on the counts and the key runs on the node's rows; count(1) is count(*)
EXPLAIN (VERBOSE, COSTS OFF) SELECT status, count(*) FROM rds_tasks GROUP BY status HAVING count(*) > 200;
SELECT compare($$SELECT status, count(*) FROM rds_tasks GROUP BY status HAVING count(*) > 200$$);
EXPLAIN (COSTS OFF) SELECT date_trunc('day', create_time), count(1) FROM rds_tasks WHERE create_time >= '2026-01-01'
 GROUP BY 1 HAVING count(*) BETWEEN 80 AND 90 OR date_trunc('day', create_time) = '2026-01-02';
SELECT compare($$SELECT date_trunc('day', create_time), count(1) FROM rds_tasks WHERE create_time >= '2026-01-01'
 GROUP BY 1 HAVING count(*) BETWEEN 80 AND 90 OR date_trunc('day', create_time) = '2026-01-02'$$);
SELECT compare($$SELECT count(1) FROM rds_tasks WHERE create_time >= '2026-01-01' HAVING count(*) > 0$$);
-- not pushed: other aggregates (in HAVING too), other keys and units, local filters
EXPLAIN (COSTS OFF) SELECT status, count(*) FROM rds_tasks GROUP BY status HAVING sum(process) > 10;
EXPLAIN (COSTS OFF) SELECT status, count(id) FROM rds_tasks GROUP BY status;
EXPLAIN (COSTS OFF) SELECT instance_id, count(*) FROM rds_tasks GROUP BY instance_id;
EXPLAIN (COSTS OFF) SELECT date_trunc('week', create_time), count(*) FROM rds_tasks WHERE create_time >= '2026-01-01' GROUP BY 1;
EXPLAIN (COSTS OFF) SELECT date_trunc('day', create_time), count(*) FROM rds_tasks GROUP BY 1;
EXPLAIN (COSTS OFF) SELECT status, count(*) FROM rds_tasks WHERE process > 50 GROUP BY status;
EXPLAIN (COSTS OFF) SELECT status, count(*) FROM rds_tasks WHERE create_time::date >= '2026-01-01' GROUP BY status;
SELECT compare($$SELECT status, count(*) FROM rds_tasks GROUP BY status HAVING sum(process) > 10$$);

RESET TimeZone;
DROP SCHEMA gc CASCADE;
DROP SERVER gc CASCADE;
