-- bench/stats.sql: scans with and without rds_task_fdw.server_stats (see stats.sh)
\pset footer off
CREATE EXTENSION rds_task_fdw;
CREATE SERVER bench FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id '0123456789abcdef0123456789abcdef');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench OPTIONS (auth_token 'bench-token');
CREATE FOREIGN TABLE wire_tasks (id text, status text) SERVER bench;
CREATE FOREIGN TABLE cached_tasks (id text, status text) SERVER bench
  OPTIONS (cache_ttl '3600');

CREATE TEMP TABLE runs (shape text, stats bool, ms float8);

CREATE FUNCTION pg_temp.measure(shape text, q text, n int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  r int;
  on_ bool;
BEGIN
  EXECUTE q;                                   -- warm: connection, cache entries
  FOR r IN 1 .. n LOOP
    FOREACH on_ IN ARRAY CASE WHEN r % 2 = 0 THEN ARRAY[true, false] ELSE ARRAY[false, true] END LOOP
      PERFORM set_config('rds_task_fdw.server_stats', on_::text, false);
      t0 := clock_timestamp();
      EXECUTE q;
      INSERT INTO runs VALUES (shape, on_, 1000 * extract(epoch FROM clock_timestamp() - t0));
    END LOOP;
  END LOOP;
  PERFORM set_config('rds_task_fdw.server_stats', 'on', false);
END $$;

\o /dev/null
SELECT pg_temp.measure('scan over the wire (200 exchanges)', 'SELECT count(id) FROM wire_tasks', :repeats);
SELECT pg_temp.measure('scan from the shared cache (200 hits)', 'SELECT count(id) FROM cached_tasks', :repeats);
\o

\echo
\echo Median of :repeats scans each, alternating, one session:
SELECT shape,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE stats)::numeric, 1) AS "stats on ms",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT stats)::numeric, 1) AS "stats off ms",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE stats) /
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE NOT stats))::numeric, 3) AS "on/off"
  FROM runs GROUP BY shape ORDER BY shape DESC;
SELECT server, requests, cache_hits, round(mean_ms::numeric, 2) AS mean_ms,
       round(p95_ms::numeric, 2) AS p95_ms FROM rds_task_fdw_server_stats;
