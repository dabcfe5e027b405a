-- ===================================================================
-- partition: one partitioned table over several servers (projects and
-- regions), pruned by its key and read asynchronously
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 300}'

SELECT replace(:'sim_http', '127.0.0.1', 'rds.eu-de.localhost') AS url_de,
       replace(:'sim_http', '127.0.0.1', 'rds.eu-nl.localhost') AS url_nl \gset
CREATE SERVER otc_de FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'url_de', project_id '0123456789abcdef0123456789abcdef');
CREATE SERVER otc_nl FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'url_nl', project_id 'fedcba9876543210fedcba9876543210');
CREATE USER MAPPING FOR CURRENT_USER SERVER otc_de OPTIONS (auth_token 'test-token-0001');
CREATE USER MAPPING FOR CURRENT_USER SERVER otc_nl OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA part;
SET search_path = part, public;

-- the simulator's data of both projects
CREATE TABLE local_tasks (
  project_id text, id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
DO $$
DECLARE p text;
BEGIN
  FOREACH p IN ARRAY ARRAY['0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'] LOOP
    EXECUTE format('COPY local_tasks (id, name, instance_id, instance_name, instance_status, order_id,
                      process, fail_reason, create_time, end_time, status) FROM PROGRAM %L WITH (FORMAT csv)',
                   'curl -sS -f "' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv&project=' || p || '"');
    UPDATE local_tasks SET project_id = p WHERE project_id IS NULL;
  END LOOP;
END $$;
SELECT project_id, count(*) FROM local_tasks GROUP BY 1 ORDER BY 1;

-- ===================================================================
-- the layout, made by the helper function
-- ===================================================================
-- what \d+ shows, from the catalogs (\d+'s layout differs between versions)
CREATE FUNCTION describe_partitioned(t regclass) RETURNS TABLE (what text, name text, detail text)
LANGUAGE sql AS $$
  SELECT what, name, detail FROM (
    SELECT 1 AS o, a.attnum::int AS n, 'column' AS what, a.attname::text AS name,
           format_type(a.atttypid, a.atttypmod) AS detail
      FROM pg_attribute a WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 2, 0, 'partition key', pg_get_partkeydef(t), NULL
    UNION ALL
    SELECT 3, 0, 'partition', c.relname::text,
           pg_get_expr(c.relpartbound, c.oid) || ', ' ||
           CASE c.relkind WHEN 'f' THEN 'foreign table on server ' || s.srvname ELSE c.relkind::text END
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
      LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver
     WHERE i.inhparent = t) d
  ORDER BY o, n, name
$$;
SELECT * FROM rds_task_fdw_create_partitioned('all_tasks', ARRAY['otc_de', 'otc_nl']);
SELECT * FROM describe_partitioned('all_tasks');
SELECT * FROM rds_task_fdw_create_partitioned('tasks_by_region', ARRAY['otc_de', 'otc_nl'], 'region');
SELECT * FROM describe_partitioned('tasks_by_region');
-- errors
SELECT * FROM rds_task_fdw_create_partitioned('bad1', ARRAY['otc_de'], 'status');
SELECT * FROM rds_task_fdw_create_partitioned('bad2', ARRAY['no_such_server']);
SELECT * FROM rds_task_fdw_create_partitioned('bad3', ARRAY[]::name[]);

-- ===================================================================
-- all partitions are read at the same time: Async Foreign Scan
-- ===================================================================
EXPLAIN (COSTS OFF) SELECT id FROM all_tasks;
EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM all_tasks WHERE status = 'Failed';
\! test/simctl clearlog
SELECT project_id, region, count(*) FROM all_tasks GROUP BY 1, 2 ORDER BY 1;
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
-- rows are exactly the simulator's, with async Append and without
SELECT count(*) AS missing FROM (
  SELECT project_id, id, name, instance_id, instance_name, instance_status, order_id, process,
         fail_reason, create_time, end_time, status FROM local_tasks
  EXCEPT ALL
  SELECT project_id, id, name, instance_id, instance_name, instance_status, order_id, process,
         fail_reason, create_time, end_time, status FROM all_tasks) d;
SELECT count(*) AS extra FROM (
  SELECT project_id, id, name, instance_id, instance_name, instance_status, order_id, process,
         fail_reason, create_time, end_time, status FROM all_tasks
  EXCEPT ALL
  SELECT project_id, id, name, instance_id, instance_name, instance_status, order_id, process,
         fail_reason, create_time, end_time, status FROM local_tasks) d;
SET enable_async_append = off;
EXPLAIN (COSTS OFF) SELECT id FROM all_tasks;
SELECT (SELECT array_agg(id ORDER BY id) FROM all_tasks WHERE status = 'Failed') =
       (SELECT array_agg(id ORDER BY id) FROM local_tasks WHERE status = 'Failed') AS same_failed;
RESET enable_async_append;
SELECT (SELECT array_agg(id ORDER BY id) FROM all_tasks WHERE status = 'Failed') =
       (SELECT array_agg(id ORDER BY id) FROM local_tasks WHERE status = 'Failed') AS same_failed_async;

-- ===================================================================
-- pruning: a condition on the key reads one server only
-- ===================================================================
EXPLAIN (COSTS OFF) SELECT id FROM all_tasks WHERE project_id = 'fedcba9876543210fedcba9876543210';
\! test/simctl clearlog
SELECT count(*) FROM all_tasks WHERE project_id = 'fedcba9876543210fedcba9876543210' AND status = 'Failed';
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c
EXPLAIN (COSTS OFF) SELECT id FROM tasks_by_region WHERE region = 'eu-de';
SELECT region, count(*) FROM tasks_by_region WHERE region IN ('eu-de', 'eu-ch2') GROUP BY 1;
-- prepared statements prune at run time
PREPARE by_project(text) AS SELECT count(*) FROM all_tasks WHERE project_id = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_project('0123456789abcdef0123456789abcdef');
EXECUTE by_project('0123456789abcdef0123456789abcdef');
RESET plan_cache_mode;

-- ===================================================================
-- an error in one partition fails the statement (after its retries);
-- the other partition's requests are stopped, and the next statement works
-- ===================================================================
\! test/simctl fault '{"kind": "status", "status": 500, "error_code": "DBS.108000", "error_msg": "Internal server error.", "params": {"offset": "50"}, "project": "fedcba9876543210fedcba9876543210", "times": 10}'
\set VERBOSITY terse
SELECT count(id) FROM all_tasks;
\set VERBOSITY default
\! test/simctl clearfaults
SELECT count(id) FROM all_tasks;

\! test/simctl reset
DROP SCHEMA part CASCADE;
DROP SERVER otc_de, otc_nl CASCADE;
RESET search_path;
