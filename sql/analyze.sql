-- ===================================================================
-- analyze: planning sends no request; estimates come from ANALYZE (or a
-- default), or from the API with use_remote_estimate; ANALYZE's sample
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 2500}'

CREATE SERVER an FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER an OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA an;
SET search_path = an, public;
IMPORT FOREIGN SCHEMA otc FROM SERVER an INTO an;
CREATE TABLE inventory (instance_id text PRIMARY KEY, team text);
INSERT INTO inventory VALUES ('i-1', 'blue'), ('i-2', 'green');
ANALYZE inventory;

-- the simulator's data, for the true counts
CREATE TABLE sim_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
DO $$ BEGIN
  EXECUTE format('COPY sim_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;
ANALYZE sim_tasks;

-- the planner's row estimate of a query
CREATE FUNCTION estimate(q text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (plan->0->'Plan'->>'Plan Rows')::double precision;
END $$;

-- ===================================================================
-- no request while planning, in a fresh backend, also with the API down
-- ===================================================================
\c
SET search_path = an, public;
\! test/simctl clearlog
EXPLAIN (COSTS OFF) SELECT * FROM rds_tasks WHERE status = 'Failed';
EXPLAIN (COSTS OFF) SELECT count(*) FROM rds_tasks WHERE status = 'Failed';
EXPLAIN (COSTS OFF) SELECT id FROM rds_tasks LIMIT 1;
EXPLAIN (COSTS OFF) SELECT i.team, t.id FROM inventory i JOIN rds_tasks t ON t.instance_id = i.instance_id;
EXPLAIN (COSTS OFF) SELECT name, count(*) FROM rds_tasks WHERE create_time > now() - interval '7 days' GROUP BY name;
-- (nothing in the log)
\! test/simctl log
ALTER SERVER an OPTIONS (SET endpoint 'http://127.0.0.1:1');
EXPLAIN (COSTS OFF) SELECT * FROM rds_tasks WHERE status = 'Failed';
EXPLAIN (COSTS OFF) SELECT count(*) FROM rds_tasks;
-- never analyzed: a fixed default size
SELECT estimate('SELECT * FROM rds_tasks') AS default_estimate;
ALTER SERVER an OPTIONS (SET endpoint :'sim_http');

-- ===================================================================
-- use_remote_estimate: one remembered limit=1 request while planning
-- ===================================================================
ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD use_remote_estimate 'true');
\! test/simctl clearlog
SELECT estimate('SELECT * FROM rds_tasks') AS remote_estimate;
SELECT estimate('SELECT * FROM rds_tasks WHERE status = ''Failed''') > 0 AS estimated;
\! test/simctl log
ALTER SERVER an OPTIONS (SET endpoint 'http://127.0.0.1:1');
\set VERBOSITY terse
EXPLAIN (COSTS OFF) SELECT * FROM rds_tasks;
\set VERBOSITY default
ALTER SERVER an OPTIONS (SET endpoint :'sim_http');
ALTER FOREIGN TABLE rds_tasks OPTIONS (DROP use_remote_estimate);
ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD use_remote_estimate 'maybe');

-- ===================================================================
-- ANALYZE: the size from total_count, a sample from pages spread over
-- the list: 1 + analyze_sample_pages requests (default 20)
-- ===================================================================
\! test/simctl clearlog
ANALYZE rds_tasks;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
SELECT reltuples, relpages FROM pg_class WHERE oid = 'rds_tasks'::regclass;
SELECT attname, null_frac IS NOT NULL AS has_stats, n_distinct <> 0 AS has_distinct
  FROM pg_stats WHERE schemaname = 'an' AND tablename = 'rds_tasks'
   AND attname IN ('status', 'name', 'instance_id', 'create_time') ORDER BY attname;
-- the statuses the sample found are the list's, the common ones among
-- them (a rare one may be missing from a random sample)
SELECT array_agg(v) <@ (SELECT array_agg(DISTINCT status) FROM sim_tasks) AS only_real_statuses,
       array_agg(v) @> (SELECT array_agg(status) FROM (SELECT status FROM sim_tasks
                         GROUP BY status HAVING count(*) >= 100) c) AS common_statuses_found
  FROM pg_stats, unnest(most_common_vals::text::text[]) v
 WHERE schemaname = 'an' AND tablename = 'rds_tasks' AND attname = 'status';
-- estimates follow the statistics: within half of the truth for a status
-- of 100 tasks or more (1,000 sampled of 2,500: over 4 standard errors),
-- and exact for the size
SELECT s.status, abs(estimate(format('SELECT * FROM rds_tasks WHERE status = %L', s.status)) - s.n)
                 / s.n < 0.5 AS close
  FROM (SELECT status, count(*) AS n FROM sim_tasks GROUP BY status HAVING count(*) >= 100) s
 ORDER BY 1;
SELECT estimate('SELECT * FROM rds_tasks') AS analyzed_estimate;
-- ... and planning still sends nothing
\! test/simctl clearlog
SELECT estimate('SELECT * FROM rds_tasks WHERE status = ''Failed''') > 0 AS estimated;
\! test/simctl log

-- fewer pages when asked; a small list is read whole
ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD analyze_sample_pages '3');
\! test/simctl clearlog
ANALYZE rds_tasks;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
ALTER FOREIGN TABLE rds_tasks OPTIONS (SET analyze_sample_pages '0');
\! test/simctl reset '{"tasks": 120}'
\! test/simctl clearlog
ANALYZE rds_tasks;
\! test/simctl log
SELECT reltuples FROM pg_class WHERE oid = 'rds_tasks'::regclass;

-- the actions table: its names
ANALYZE rds_task_actions;
SELECT reltuples = (SELECT count(*) FROM rds_task_actions) AS one_row_per_name
  FROM pg_class WHERE oid = 'rds_task_actions'::regclass;
SELECT n_distinct FROM pg_stats WHERE schemaname = 'an' AND tablename = 'rds_task_actions';

SELECT count(*) AS columns_with_stats FROM pg_stats WHERE schemaname = 'an' AND tablename = 'rds_tasks';

-- an API error is an ANALYZE error
ALTER SERVER an OPTIONS (SET endpoint 'http://127.0.0.1:1');
\set VERBOSITY terse
ANALYZE rds_tasks;
\set VERBOSITY default
ALTER SERVER an OPTIONS (SET endpoint :'sim_http');

-- ===================================================================
-- a partitioned table over two servers: each partition is analyzed, and
-- sampled once more for the parent's statistics (PostgreSQL's way)
-- ===================================================================
\! test/simctl reset '{"tasks": 300}'
CREATE SERVER an_nl FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id 'fedcba9876543210fedcba9876543210', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER an_nl OPTIONS (auth_token 'test-token-0001');
SELECT * FROM rds_task_fdw_create_partitioned('all_tasks', ARRAY['an', 'an_nl']);
\! test/simctl clearlog
ANALYZE all_tasks;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
SELECT c.relname, c.reltuples FROM pg_class c
 WHERE c.relname IN ('all_tasks_an', 'all_tasks_an_nl') ORDER BY 1;
SELECT count(*) AS parent_columns_with_stats FROM pg_stats WHERE schemaname = 'an' AND tablename = 'all_tasks';

-- a raw column: ANALYZE's sample pages keep each task's JSON (they were
-- read without it: "decoded without raw JSON")
CREATE FOREIGN TABLE raw_an (id text, raw jsonb) SERVER an;
ANALYZE raw_an;
SELECT reltuples FROM pg_class WHERE oid = 'raw_an'::regclass;
SELECT attname, null_frac FROM pg_stats WHERE schemaname = 'an' AND tablename = 'raw_an' ORDER BY 1;

DROP SCHEMA an CASCADE;
DROP SERVER an, an_nl CASCADE;
RESET search_path;
