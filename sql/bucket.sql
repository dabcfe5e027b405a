-- ===================================================================
-- bucket: the grouping keys BI tools write (date_trunc of every unit and
-- case, ::timestamp, AT TIME ZONE, ::date, epoch arithmetic, weeks that
-- start on another day, outer queries over a subquery or CTE) and the
-- bounds they send (date, timestamp, to_timestamp, 'Z' literals, ::date),
-- pushed as grouped counts: rows compared with a local copy, requests
-- next to the hand-written form's, across daylight saving changes
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'

CREATE SERVER bk FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef',
           max_retries '0', parallel_requests '4');
CREATE USER MAPPING FOR CURRENT_USER SERVER bk OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA bk;
SET search_path = bk, public;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER bk INTO bk;

CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
CREATE FUNCTION reload() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint; BEGIN
  TRUNCATE local_tasks;
  EXECUTE format('COPY local_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
  SELECT count(*) INTO n FROM local_tasks;
  RETURN n; END $$;
SELECT reload();

-- the query over rds_tasks and over the local copy: same rows?
CREATE FUNCTION compare(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE fdw text[]; loc text[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(r::text ORDER BY r::text), ''{}'') FROM (%s) r', q) INTO fdw;
  EXECUTE format('SELECT coalesce(array_agg(r::text ORDER BY r::text), ''{}'') FROM (%s) r',
                 replace(q, 'rds_tasks', 'local_tasks')) INTO loc;
  RETURN cardinality(fdw) || ' rows, ' ||
         CASE WHEN fdw = loc THEN 'same as local'
              ELSE 'DIFFERENT from local (' || cardinality(loc) || ' rows)' END;
END $$;

-- pushed?  which way the count went, and its requests
CREATE FUNCTION how(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    IF l ~ '(Grouped count|HTTP requests|Pushed down|HashAggregate|GroupAggregate):' OR l ~ 'Aggregate' THEN
      RETURN NEXT regexp_replace(regexp_replace(trim(l), 'bytes received [0-9]+', 'bytes received N'),
                                 '\(actual rows=.*\)', '');
    END IF; END LOOP; END $$;

-- one line per query: rows checked against the local copy, and requests
CREATE FUNCTION check_form(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; pushed bool := false; reqs text := '?'; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    IF l ~ 'Pushed down: count' THEN pushed := true; END IF;
    IF l ~ 'HTTP requests: ' THEN reqs := substring(l from 'HTTP requests: ([0-9]+)'); END IF;
  END LOOP;
  RETURN CASE WHEN pushed THEN 'pushed' ELSE 'LOCAL' END || ', ' || reqs || ' requests, ' || compare(q);
END $$;

SET TimeZone = 'UTC';

-- ===================================================================
-- EXPLAIN shows the bucket core, whatever the spelling
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF)
SELECT floor(extract(epoch from create_time)/86400)*86400 AS "time", count(*) AS "value"
  FROM rds_tasks WHERE create_time BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-15T00:00:00Z'
 GROUP BY 1 ORDER BY 1;
\! test/simctl clearlog
SELECT check_form($$SELECT floor(extract(epoch from create_time)/86400)*86400 AS "time", count(*) AS "value"
  FROM rds_tasks WHERE create_time BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-15T00:00:00Z'
 GROUP BY 1 ORDER BY 1$$);
\! test/simctl log
-- the hand-written form of the same panel
SELECT check_form($$SELECT date_trunc('day', create_time), count(*)
  FROM rds_tasks WHERE create_time >= '2026-01-01T00:00:00Z' AND create_time <= '2026-01-15T00:00:00Z'
 GROUP BY 1$$);

-- ===================================================================
-- every form, UTC: pushed, rows equal to the local copy's
-- ===================================================================
CREATE TABLE forms (n serial, key text);
INSERT INTO forms (key) VALUES
  ($$date_trunc('DAY', create_time)$$),
  ($$date_trunc('Week', create_time)$$),
  ($$date_trunc('month', create_time)$$),
  ($$date_trunc('quarter', create_time)$$),
  ($$date_trunc('year', create_time)$$),
  ($$date_trunc('hour', create_time)$$),
  ($$date_trunc('day', create_time::timestamp)$$),
  ($$date_trunc('day', CAST(create_time AS timestamp))$$),
  ($$date_trunc('day', create_time AT TIME ZONE 'Europe/Berlin')$$),
  ($$date_trunc('day', (create_time AT TIME ZONE 'America/New_York'))::date$$),
  ($$date_trunc('day', create_time, 'Asia/Kolkata')$$),
  ($$create_time::date$$),
  ($$CAST(create_time AS date)$$),
  ($$(create_time AT TIME ZONE 'Asia/Tokyo')::date$$),
  ($$floor(extract(epoch from create_time)/86400)*86400$$),
  ($$floor(extract(epoch from create_time)/21600)*21600$$),
  ($$to_timestamp(floor(extract(epoch from create_time)/3600)*3600)$$),
  ($$floor(date_part('epoch', create_time)/86400)*86400$$),
  ($$date_trunc('week', create_time + interval '1 day') - interval '1 day'$$),
  ($$date_trunc('week', create_time + interval '2 days') + interval '-2 day'$$),
  ($$date_trunc('week', create_time::timestamp + interval '1 day') - interval '1 day'$$);
SELECT n, key, check_form(format($$SELECT %s AS k, count(*) FROM rds_tasks
  WHERE create_time >= '2025-12-20 00:00:00+00' AND create_time < '2026-01-14 00:00:00+00' GROUP BY 1$$, key))
  FROM forms ORDER BY n;

-- not pushed (the README says why): an abbreviation for a zone, a unit
-- below a minute, a key of two columns
SELECT check_form($$SELECT date_trunc('day', create_time, 'CET') k, count(*) FROM rds_tasks
  WHERE create_time >= '2025-12-20 00:00:00+00' GROUP BY 1$$);
SELECT check_form($$SELECT date_trunc('second', create_time) k, count(*) FROM rds_tasks
  WHERE create_time >= '2026-01-13 00:00:00+00' GROUP BY 1$$);
SELECT check_form($$SELECT date_trunc('day', coalesce(end_time, create_time)) k, count(*) FROM rds_tasks
  WHERE create_time >= '2026-01-13 00:00:00+00' GROUP BY 1$$);
-- a wrapper that could fail where no task is (the key is evaluated at each
-- bucket's bounds): not pushed, and no error the query would not raise
SELECT check_form($$SELECT 100 / (extract(hour from date_trunc('hour', create_time)) - 5) k, count(*)
  FROM rds_tasks WHERE create_time >= '2026-01-13 06:00:00+00' AND create_time < '2026-01-13 12:00:00+00'
 GROUP BY 1$$);

-- ===================================================================
-- the bounds BI tools send
-- ===================================================================
CREATE TABLE bounds (n serial, cond text);
INSERT INTO bounds (cond) VALUES
  ($$create_time >= DATE '2025-12-25' AND create_time < DATE '2026-01-10'$$),
  ($$create_time >= CAST('2025-12-25' AS date)$$),
  ($$create_time BETWEEN TIMESTAMP '2025-12-25 06:00:00' AND TIMESTAMP '2026-01-10 18:00:00'$$),
  ($$create_time >= TO_TIMESTAMP('2025-12-25 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
     AND create_time < TO_TIMESTAMP('2026-01-10 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')$$),
  ($$create_time BETWEEN '2025-12-25T00:00:00.000Z' AND '2026-01-10T23:59:59.999Z'$$),
  ($$create_time::date BETWEEN '2025-12-25' AND '2026-01-09'$$),
  ($$CAST(create_time AS date) > '2025-12-25' AND CAST(create_time AS date) < '2026-01-09'$$),
  ($$create_time::date = '2026-01-02'$$);
SELECT n, cond, check_form(format($$SELECT date_trunc('day', create_time) AS k, count(*) FROM rds_tasks
  WHERE %s GROUP BY 1$$, cond)) FROM bounds ORDER BY n;
SELECT n, check_form(format($$SELECT status, count(*) FROM rds_tasks WHERE %s GROUP BY 1$$, cond))
  FROM bounds ORDER BY n;
-- in another zone the date and timestamp bounds are that zone's midnights
SET TimeZone = 'Asia/Kolkata';
SELECT n, check_form(format($$SELECT create_time::date AS k, count(*) FROM rds_tasks
  WHERE %s GROUP BY 1$$, cond)) FROM bounds ORDER BY n;
SET TimeZone = 'UTC';

-- ===================================================================
-- outer queries: a subquery, a CTE, ORDER BY, LIMIT, HAVING
-- ===================================================================
SELECT check_form($$SELECT d, count(*) FROM (SELECT date_trunc('day', create_time) AS d FROM rds_tasks
  WHERE create_time >= '2025-12-25') s GROUP BY d ORDER BY d LIMIT 5$$);
SELECT check_form($$WITH t AS (SELECT * FROM rds_tasks WHERE create_time >= DATE '2025-12-25')
  SELECT DATE_TRUNC('week', create_time) AS create_time, COUNT(*) AS count FROM t
  GROUP BY DATE_TRUNC('week', create_time) ORDER BY count DESC LIMIT 10000$$);
SELECT check_form($$SELECT create_time::date AS d, count(*) AS n FROM rds_tasks
  WHERE create_time >= '2025-12-25' GROUP BY 1 HAVING count(*) > 80 ORDER BY 2 DESC$$);
SELECT check_form($$SELECT * FROM (SELECT floor(extract(epoch from create_time)/3600)*3600 AS "time",
  count(*) AS "value" FROM rds_tasks WHERE create_time >= '2026-01-10' GROUP BY 1) q ORDER BY 1$$);

-- ===================================================================
-- two grouping keys: a bucket and status (the stacked bar chart) or name,
-- in either order; per value of the field, a bucket count of its own
-- ===================================================================
\! test/simctl reset '{"tasks": 10000, "base_time": 1768478400}'
SELECT reload();
EXPLAIN (VERBOSE, COSTS OFF)
SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1, 2;
SELECT * FROM how($$SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1, 2$$);
SELECT check_form($$SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1, 2$$);
-- the hand-written form: one grouped count per status
SELECT check_form($$SELECT date_trunc('day', create_time), count(*) FROM rds_tasks
 WHERE status = 'Failed' AND create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1$$);
SELECT check_form($$SELECT status, floor(extract(epoch from create_time)/86400)*86400 AS "time",
  count(*) FROM rds_tasks WHERE create_time >= DATE '2025-12-25' GROUP BY 2, 1 ORDER BY 2, 1$$);
SELECT check_form($$SELECT date_trunc('week', create_time) AS w, name, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-01' GROUP BY 1, 2 HAVING count(*) > 5$$);
SELECT check_form($$SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE status IN ('Failed', 'Running') AND create_time >= '2026-01-01' GROUP BY 1, 2$$);
-- a status outside the documented ones: the values do not add up, the pages
\! test/simctl edit '{"edits": [{"index": 500, "set": {"status": "Queued"}}]}'
SELECT reload();
SELECT * FROM how($$SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-25' AND create_time < '2026-01-15' GROUP BY 1, 2$$);
SELECT check_form($$SELECT date_trunc('day', create_time) AS d, status, count(*) FROM rds_tasks
 WHERE create_time >= '2025-12-25' AND create_time < '2026-01-15' GROUP BY 1, 2$$);
-- not pushed: two buckets, two fields
SELECT check_form($$SELECT date_trunc('day', create_time), date_trunc('hour', create_time), count(*)
  FROM rds_tasks WHERE create_time >= '2026-01-12' GROUP BY 1, 2$$);
SELECT check_form($$SELECT status, name, count(*) FROM rds_tasks WHERE create_time >= '2026-01-12'
 GROUP BY 1, 2$$);

-- ===================================================================
-- counts of one status in the same row: FILTER, sum(CASE), count(CASE),
-- alone (a single stat), per bucket (a rate), per status
-- ===================================================================
\! test/simctl reset '{"tasks": 10000, "base_time": 1768478400}'
SELECT reload();
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FILTER (WHERE status = 'Failed') AS failed, count(*) AS total FROM rds_tasks
 WHERE create_time >= '2026-01-01' AND create_time < '2026-01-10';
CREATE TABLE cond_forms (n serial, q text);
INSERT INTO cond_forms (q) VALUES
  ($$SELECT count(*) FILTER (WHERE status = 'Failed') AS failed, count(*) AS total FROM rds_tasks
     WHERE create_time >= '2026-01-01' AND create_time < '2026-01-10'$$),
  ($$SELECT sum(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END), count(1) FROM rds_tasks
     WHERE create_time >= '2026-01-01' AND create_time < '2026-01-10'$$),
  ($$SELECT count(CASE WHEN status = 'Running' THEN 1 END), sum(CASE WHEN status = 'Queued' THEN 1 END)
     FROM rds_tasks WHERE create_time >= '2026-01-01' AND create_time < '2026-01-10'$$),
  ($$SELECT count(*) FILTER (WHERE 'Failed' = status), sum(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END)
     FROM rds_tasks WHERE create_time >= '2031-01-01'$$),
  ($$SELECT count(*) FILTER (WHERE status = 'Failed') FROM rds_tasks WHERE instance_id = 'nope'$$),
  ($$SELECT count(*) FILTER (WHERE status = 'Failed') FROM rds_tasks$$),
  ($$SELECT date_trunc('day', create_time) AS d,
            round(count(*) FILTER (WHERE status = 'Failed')::numeric / count(*), 4) AS rate
       FROM rds_tasks WHERE create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1$$),
  ($$SELECT DATE_TRUNC('day', create_time) AS create_time,
            SUM(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END) AS failed, COUNT(*) AS count
       FROM rds_tasks WHERE create_time >= TO_TIMESTAMP('2025-12-25 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
        AND create_time < TO_TIMESTAMP('2026-01-10 00:00:00.000000', 'YYYY-MM-DD HH24:MI:SS.US')
      GROUP BY DATE_TRUNC('day', create_time) ORDER BY failed DESC LIMIT 10000$$),
  ($$SELECT status, count(*) FILTER (WHERE status = 'Failed'), count(*) FROM rds_tasks GROUP BY 1$$),
  ($$SELECT date_trunc('day', create_time) d, status, count(*) FILTER (WHERE status = 'Failed')
       FROM rds_tasks WHERE create_time >= '2026-01-01' AND create_time < '2026-01-10' GROUP BY 1, 2$$),
  ($$SELECT date_trunc('day', create_time) AS d, count(*) FROM rds_tasks
      WHERE create_time >= '2025-12-25' AND create_time < '2026-01-10' GROUP BY 1
     HAVING count(*) FILTER (WHERE status = 'Failed') > 20$$);
SELECT n, check_form(q) FROM cond_forms ORDER BY n;
-- not pushed: a status the FILTER does not name by equality, a name
SELECT check_form($$SELECT count(*) FILTER (WHERE status <> 'Failed'), count(*) FROM rds_tasks
  WHERE create_time >= '2026-01-01'$$);
SELECT check_form($$SELECT name, count(*) FILTER (WHERE status = 'Failed') FROM rds_tasks
  WHERE create_time >= '2026-01-01' GROUP BY 1$$);
SELECT check_form($$SELECT count(*) FILTER (WHERE name = 'CreateInstance') FROM rds_tasks
  WHERE create_time >= '2026-01-01'$$);

-- ===================================================================
-- daylight saving: 60,000 tasks around 26 Oct 2025 (Europe) and 2 Nov
-- 2025 (America); small pages so that hours are asked as buckets
-- ===================================================================
\! test/simctl reset '{"tasks": 60000, "base_time": 1762344000}'
SELECT reload();
ALTER SERVER bk OPTIONS (ADD page_size '20');
SET TimeZone = 'Europe/Berlin';
CREATE TABLE dst_forms (n serial, key text, lo text, hi text);
INSERT INTO dst_forms (key, lo, hi) VALUES
  ($$date_trunc('hour', create_time)$$, '2025-10-25 22:00', '2025-10-26 06:00'),
  ($$date_trunc('hour', create_time::timestamp)$$, '2025-10-25 22:00', '2025-10-26 06:00'),
  ($$date_trunc('hour', create_time AT TIME ZONE 'Europe/Berlin')$$, '2025-10-25 22:00', '2025-10-26 06:00'),
  ($$date_trunc('hour', create_time, 'America/New_York')$$, '2025-11-01 22:00+00', '2025-11-02 12:00+00'),
  ($$date_trunc('day', create_time)$$, '2025-10-20', '2025-11-04'),
  ($$create_time::date$$, '2025-10-20', '2025-11-04'),
  ($$date_trunc('week', create_time)$$, '2025-10-13', '2025-11-04'),
  ($$date_trunc('day', create_time AT TIME ZONE 'America/New_York')$$, '2025-10-28', '2025-11-05'),
  ($$floor(extract(epoch from create_time)/1800)*1800$$, '2025-10-26 00:00', '2025-10-26 05:00'),
  ($$date_trunc('minute', create_time::timestamp)$$, '2025-10-26 02:40', '2025-10-26 03:10');
SELECT n, key, check_form(format($$SELECT %s AS k, count(*) FROM rds_tasks
  WHERE create_time >= %L AND create_time < %L GROUP BY 1$$, key, lo, hi)) FROM dst_forms ORDER BY n;
-- the hour of local time that happens twice is one group
SELECT date_trunc('hour', create_time::timestamp) AS k, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-26 01:00' AND create_time < '2025-10-26 04:00' GROUP BY 1 ORDER BY 1;
SELECT * FROM how($$SELECT date_trunc('hour', create_time::timestamp) AS k, count(*) FROM rds_tasks
 WHERE create_time >= '2025-10-25 22:00' AND create_time < '2025-10-26 06:00' GROUP BY 1$$);
SET TimeZone = 'America/New_York';
SELECT n, check_form(format($$SELECT %s AS k, count(*) FROM rds_tasks
  WHERE create_time >= %L AND create_time < %L GROUP BY 1$$, key, lo, hi)) FROM dst_forms ORDER BY n;
ALTER SERVER bk OPTIONS (DROP page_size);
RESET TimeZone;
\! test/simctl reset '{"tasks": 2500, "base_time": 1768478400}'

DROP SCHEMA bk CASCADE;
DROP SERVER bk CASCADE;
