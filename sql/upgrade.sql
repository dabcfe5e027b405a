-- ===================================================================
-- upgrade: 1.0 to 1.4 (through 1.1, 1.2 and 1.3) with ALTER EXTENSION ... UPDATE
-- ===================================================================
DROP EXTENSION rds_task_fdw CASCADE;
CREATE EXTENSION rds_task_fdw VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'rds_task_fdw';
SELECT count(*) AS partition_helper FROM pg_proc WHERE proname = 'rds_task_fdw_create_partitioned';
-- servers and mappings made with 1.0 survive the update
CREATE SERVER up FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1');
CREATE USER MAPPING FOR CURRENT_USER SERVER up OPTIONS (auth_token 't');
ALTER EXTENSION rds_task_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'rds_task_fdw';
-- (a view's row type, and its array, are members too on 17 and later)
SELECT pg_describe_object(classid, objid, 0) AS member
  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'rds_task_fdw')
   AND NOT (classid = 'pg_type'::regclass AND EXISTS
            (SELECT 1 FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem
              WHERE t.oid = objid AND (t.typrelid <> 0 OR e.typrelid <> 0)))
 ORDER BY 1;
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname = 'up';
-- 1.1 to 1.2: the signer takes the keys from the caller's user mapping
DROP EXTENSION rds_task_fdw CASCADE;
CREATE EXTENSION rds_task_fdw VERSION '1.1';
SELECT oid::regprocedure AS signer FROM pg_proc WHERE proname = 'rds_task_fdw_sign';
ALTER EXTENSION rds_task_fdw UPDATE TO '1.2';
SELECT oid::regprocedure AS signer, proacl FROM pg_proc WHERE proname = 'rds_task_fdw_sign';
-- 1.2 to 1.3: the statistics of the shared cache
DROP EXTENSION rds_task_fdw CASCADE;
CREATE EXTENSION rds_task_fdw VERSION '1.2';
SELECT count(*) AS stats_function FROM pg_proc WHERE proname = 'rds_task_fdw_cache_stats';
ALTER EXTENSION rds_task_fdw UPDATE TO '1.3';
SELECT oid::regprocedure AS stats, pg_get_function_arguments(oid) AS columns
  FROM pg_proc WHERE proname = 'rds_task_fdw_cache_stats';
SELECT entries >= 0 AND hits >= 0 AND misses >= 0 AND bytes >= 0 AS sane
  FROM rds_task_fdw_cache_stats();
-- 1.3 to 1.4: per-server statistics, the cache per database
DROP EXTENSION rds_task_fdw CASCADE;
CREATE EXTENSION rds_task_fdw VERSION '1.3';
SELECT count(*) AS server_stats FROM pg_proc WHERE proname LIKE 'rds_task_fdw_server_stats%';
ALTER EXTENSION rds_task_fdw UPDATE TO '1.4';
SELECT oid::regprocedure AS function, pg_get_function_result(oid) AS result
  FROM pg_proc WHERE proname IN ('rds_task_fdw_server_stats', 'rds_task_fdw_server_stats_reset',
                                 'rds_task_fdw_cache_stats_by_database')
 ORDER BY oid::regprocedure::text COLLATE "C";
SELECT attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'rds_task_fdw_server_stats'::regclass AND attnum > 0 ORDER BY attnum;
SELECT has_function_privilege('public', 'rds_task_fdw_server_stats_reset()', 'EXECUTE') AS public_may_reset,
       has_table_privilege('public', 'rds_task_fdw_server_stats', 'SELECT') AS public_may_read;
SELECT count(*) >= 0 AS readable FROM rds_task_fdw_server_stats;
SELECT count(*) >= 0 AS readable FROM rds_task_fdw_cache_stats_by_database();
-- a fresh install is 1.4 directly (1.0 script plus the updates)
DROP EXTENSION rds_task_fdw CASCADE;
CREATE EXTENSION rds_task_fdw;
SELECT extversion FROM pg_extension WHERE extname = 'rds_task_fdw';
SELECT * FROM pg_extension_update_paths('rds_task_fdw') WHERE path IS NOT NULL ORDER BY 1, 2;
