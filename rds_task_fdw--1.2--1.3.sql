/* rds_task_fdw--1.2--1.3.sql: from 1.2 to 1.3 */

\echo Use "ALTER EXTENSION rds_task_fdw UPDATE TO '1.3'" to load this file. \quit

-- The response cache is shared by every backend of the cluster (files under
-- pg_stat_tmp/rds_task_fdw); its figures since the counters were created.
CREATE FUNCTION rds_task_fdw_cache_stats(OUT entries bigint, OUT hits bigint,
                                         OUT misses bigint, OUT bytes bigint,
                                         OUT merged_waits bigint,
                                         OUT evictions bigint)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION rds_task_fdw_cache_stats()
  IS 'the shared response cache: entries and bytes now; hits, misses, waits for another backend''s identical request and evictions so far';

COMMENT ON FUNCTION rds_task_fdw_cache_clear()
  IS 'drop cached responses for the whole cluster (a superuser: all; others: their own user mappings'' in this database); returns how many';
