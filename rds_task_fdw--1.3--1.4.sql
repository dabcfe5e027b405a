/* rds_task_fdw--1.3--1.4.sql: from 1.3 to 1.4 */

\echo Use "ALTER EXTENSION rds_task_fdw UPDATE TO '1.4'" to load this file. \quit

-- What a DBA watches: each server's activity, counted by every backend of
-- the cluster (a file under pg_stat_tmp/rds_task_fdw) since the last reset.
CREATE FUNCTION rds_task_fdw_server_stats(OUT dbname name, OUT server name,
                                          OUT requests bigint, OUT retries bigint,
                                          OUT throttled bigint, OUT errors bigint,
                                          OUT bytes_received bigint,
                                          OUT cache_hits bigint,
                                          OUT merged_waits bigint,
                                          OUT mean_ms float8, OUT p95_ms float8,
                                          OUT max_ms float8,
                                          OUT last_error text,
                                          OUT last_error_at timestamptz,
                                          OUT stats_since timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION rds_task_fdw_server_stats()
  IS 'per (database, server): requests, retries, 429s, errors, bytes, cache hits, merged waits and exchange times since the last reset (non-superusers: servers of this database they have USAGE on)';

CREATE VIEW rds_task_fdw_server_stats AS
  SELECT * FROM rds_task_fdw_server_stats();

GRANT SELECT ON rds_task_fdw_server_stats TO PUBLIC;

CREATE FUNCTION rds_task_fdw_server_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION rds_task_fdw_server_stats_reset() FROM PUBLIC;

COMMENT ON FUNCTION rds_task_fdw_server_stats_reset()
  IS 'zero the figures of rds_task_fdw_server_stats for the whole cluster (superuser, or whom it is granted to)';

-- The shared cache per database and server: which one fills cache_size.
CREATE FUNCTION rds_task_fdw_cache_stats_by_database(OUT dbname name,
                                                     OUT server name,
                                                     OUT serverid oid,
                                                     OUT entries bigint,
                                                     OUT bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION rds_task_fdw_cache_stats_by_database()
  IS 'the shared response cache''s entries and bytes per database and server (server is NULL for another database''s; non-superusers: this database)';

COMMENT ON FUNCTION rds_task_fdw_cache_clear()
  IS 'drop cached responses for the whole cluster (a superuser: all; this database''s owner: its entries; others: their own user mappings'' in this database); returns how many';
