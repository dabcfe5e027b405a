-- ===================================================================
-- history: a local table that keeps tasks longer than the API does
-- (the README's cookbook recipe, run as written there)
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 1500, "seed": 42}'

CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA history;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER sim INTO history;
SET search_path = history, public;

-- the simulator's own copy of the data
CREATE TABLE sim_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
CREATE FUNCTION load_sim_tasks() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sim_tasks;
  EXECUTE format('COPY sim_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
  RETURN (SELECT count(*) FROM sim_tasks);
END $$;
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;

-- ===================================================================
-- the recipe: the table, and one statement to run every few minutes
-- ===================================================================
-- taken from the README as it is written there: the table and its indexes,
-- and the statement (prepared, to run it several times)
\! sed -n '/^CREATE TABLE task_history/,/^CREATE INDEX ON task_history (id)/p' README.md > results/history_table.sql
\! (echo 'PREPARE sync_history AS'; sed -n '/^INSERT INTO task_history AS h/,/;$/p' README.md) > results/history_sync.sql
\! wc -l < results/history_table.sql; wc -l < results/history_sync.sql
\i results/history_table.sql
\i results/history_sync.sql

-- both sides are pushed: a create_time window from the table's newest task,
-- and one request stream per locally Running id
CREATE FUNCTION explain_requests(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    -- an InitPlan's value: $1 up to 16, (InitPlan 2).col1 from 17
    IF l ~ 'Foreign Scan|Remote request|Filter: \(rds' THEN
      RETURN NEXT regexp_replace(l, '\$[0-9]+|\(InitPlan [0-9]+\)\.col[0-9]+', '$n', 'g');
    END IF;
  END LOOP; END $$;
SELECT explain_requests('EXECUTE sync_history');

-- the table differs from the simulator's data in how many rows (both ways)
CREATE FUNCTION history_diff() RETURNS TABLE (missing bigint, extra bigint, total bigint)
LANGUAGE sql AS $$
  WITH h AS (SELECT id, name, instance_id, instance_name, instance_status, order_id, process,
                    fail_reason, create_time, end_time, status FROM task_history)
  SELECT (SELECT count(*) FROM (SELECT * FROM sim_tasks EXCEPT SELECT * FROM h) m),
         (SELECT count(*) FROM (SELECT * FROM h EXCEPT SELECT * FROM sim_tasks) e),
         (SELECT count(*) FROM h) $$;

-- ===================================================================
-- first run: the whole list (an empty table has no newest task)
-- ===================================================================
SELECT load_sim_tasks();
\! test/simctl clearlog
EXECUTE sync_history;
-- 1500 tasks: 30 pages; no newest task yet, so no time window
\! test/simctl log | wc -l
\! test/simctl log | head -n 2
SELECT * FROM history_diff();

-- ===================================================================
-- time passes: 4 new tasks, the 5 oldest Running tasks end (some were
-- created days ago, far outside the window: only the id streams see them)
-- ===================================================================
SELECT count(*) AS running_here,
       (SELECT max(create_time) FROM task_history) - min(create_time) > interval '1 day' AS an_old_one
  FROM task_history WHERE status = 'Running' \gset
\! test/simctl advance '{"add": 4, "finish": 5}'
SELECT load_sim_tasks();
SELECT * FROM history_diff();
\! test/simctl clearlog
EXECUTE sync_history;
-- requests: the window's one page, and one per id Running here
\! test/simctl log | grep -c 'start_time='
\! test/simctl log | grep -c 'tasklist?id='
\! test/simctl log | wc -l
SELECT :running_here AS running_here, :'an_old_one' AS an_old_one;
SELECT * FROM history_diff();
-- the ended tasks are no longer Running here
SELECT count(*) FROM task_history h JOIN sim_tasks s USING (id)
 WHERE h.status = 'Running' AND s.status <> 'Running';

-- ===================================================================
-- nothing changed: a third run rewrites no row
-- ===================================================================
SELECT max(synced_at) AS last_sync FROM task_history \gset
EXECUTE sync_history;
SELECT count(*) AS rewritten FROM task_history WHERE synced_at > :'last_sync';
SELECT * FROM history_diff();

-- ===================================================================
-- history outlives the API: tasks the API no longer lists stay here
-- ===================================================================
\! test/simctl reset '{"tasks": 300, "seed": 7}'
SELECT load_sim_tasks();
EXECUTE sync_history;
SELECT count(*) AS kept, (SELECT count(*) FROM sim_tasks) AS api_now FROM task_history;

DROP SCHEMA history CASCADE;
DROP SERVER sim CASCADE;
\! test/simctl reset '{"tasks": 2500, "seed": 42}'
