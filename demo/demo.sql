-- demo/demo.sql: what an operator types, against the simulator.
\getenv sim_https RDS_SIM_HTTPS
\getenv sim_ca RDS_SIM_CA
\pset footer on
\echo
\echo '-- CREATE EXTENSION, SERVER, USER MAPPING; IMPORT FOREIGN SCHEMA'
CREATE EXTENSION rds_task_fdw;
SELECT rds_task_fdw_version();
CREATE SERVER otc_eu_de FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_https', project_id '54623db08b174c858ba779d2aa7923a3',
           region 'eu-de', ca_file :'sim_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER otc_eu_de
  OPTIONS (user_name 'alice', password 'Demo-Passw0rd', domain_name 'OTC-EU-DE-00000000001000000001');
IMPORT FOREIGN SCHEMA otc FROM SERVER otc_eu_de INTO public;
\d rds_tasks

\echo '-- failed tasks'
SELECT * FROM rds_tasks WHERE status = 'Failed';

\echo '-- tasks per status'
SELECT status, count(*) FROM rds_tasks GROUP BY status ORDER BY count(*) DESC;

\echo '-- join with a small inventory table of our own'
CREATE TABLE inventory (instance_name text PRIMARY KEY, team text, environment text);
INSERT INTO inventory
SELECT instance_name,
       (ARRAY['payments', 'search', 'platform', 'analytics'])[1 + abs(hashtext(instance_name)) % 4],
       CASE WHEN instance_name LIKE '%prod%' THEN 'production' ELSE 'staging' END
  FROM (SELECT DISTINCT instance_name FROM rds_tasks WHERE instance_name IS NOT NULL) s;
SELECT i.team, i.environment, count(*) AS tasks,
       count(*) FILTER (WHERE t.status = 'Failed') AS failed,
       max(t.create_time) AS last_task
  FROM inventory i JOIN rds_tasks t USING (instance_name)
 GROUP BY i.team, i.environment ORDER BY i.team, i.environment;

\echo '-- what the FDW asks the API for, and how many requests it took'
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) SELECT count(*) FROM rds_tasks;

\echo '-- the latest failures: a time-window search, not a read of the whole list'
SELECT create_time, name, instance_name FROM rds_tasks
 WHERE status = 'Failed' ORDER BY create_time DESC LIMIT 5;
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF)
SELECT create_time, name, instance_name FROM rds_tasks
 WHERE status = 'Failed' ORDER BY create_time DESC LIMIT 5;

\echo '-- a dashboard panel: tasks per status in the last 7 days, one request per status'
SELECT status, count(*) FROM rds_tasks
 WHERE create_time >= now() - interval '7 days' GROUP BY status ORDER BY status;
EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF)
SELECT status, count(*) FROM rds_tasks
 WHERE create_time >= now() - interval '7 days' GROUP BY status ORDER BY status;

\echo '-- failures per day over 30 days'
SELECT date_trunc('day', create_time) AS day, count(*) FROM rds_tasks
 WHERE status = 'Failed' AND create_time >= now() - interval '30 days' GROUP BY 1 ORDER BY 1;

\echo '-- when did each instance last run a backup?'
SELECT instance_name, max(create_time) AS last_backup FROM rds_tasks
 WHERE name = 'CreateBackup' GROUP BY instance_name ORDER BY 2 DESC LIMIT 5;

\echo '-- the shared response cache (cache_ttl): every session of the cluster uses it'
ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD cache_ttl '60');
SELECT count(*) FROM rds_tasks WHERE status = 'Running';
SELECT count(*) FROM rds_tasks WHERE status = 'Running';
SELECT * FROM rds_task_fdw_cache_stats();

\echo '-- the actions seen in the task list'
SELECT name FROM rds_task_actions ORDER BY name;
