-- ===================================================================
-- scan: paging through the whole list, streaming, duplicates, columns
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 2500}'

CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA scan;
IMPORT FOREIGN SCHEMA otc FROM SERVER sim INTO scan;
SET search_path = scan, public;

-- EXPLAIN ANALYZE without timings; 18 prints row counts with two decimals
CREATE FUNCTION explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(l, 'rows=([0-9]+)\.00 ', 'rows=\1 ', 'g'); END LOOP; END $$;

-- the simulator's own copy of the data, in its list order
CREATE TABLE sim_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text,
  pos serial);
-- COPY FROM PROGRAM runs in the server's working directory: curl the dataset
-- a full read of a table while the list moves: rows, distinct ids, and how
-- many of them were in the list before the move
CREATE FUNCTION read_moving(t regclass) RETURNS TABLE (rows bigint, distinct_ids bigint, known bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT count(*), count(DISTINCT id),
                                      count(*) FILTER (WHERE id IN (SELECT id FROM sim_tasks))
                                 FROM (SELECT id FROM %s) t', t);
END $$;
CREATE FUNCTION load_sim_tasks() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE sim_tasks;
  ALTER SEQUENCE sim_tasks_pos_seq RESTART;
  EXECUTE format('COPY sim_tasks (id, name, instance_id, instance_name, instance_status, order_id,
                  process, fail_reason, create_time, end_time, status)
                  FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
  RETURN (SELECT count(*) FROM sim_tasks);
END $$;
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
SELECT load_sim_tasks();
-- the planner asks once for the list's size (limit=1) and remembers it
\! test/simctl clearlog
EXPLAIN (COSTS OFF) SELECT id FROM rds_tasks;
\! test/simctl log

-- ===================================================================
-- a full scan returns exactly the simulator's rows, in its order
-- ===================================================================
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks;
-- 2500 tasks in pages of 50: 50 requests, none past the end
\! test/simctl log | wc -l
\! test/simctl log | head -n 2
\! test/simctl log | tail -n 1
SELECT count(*) AS missing FROM (SELECT id, name, instance_id, instance_name, instance_status, order_id,
    process, fail_reason, create_time, end_time, status FROM sim_tasks
  EXCEPT ALL SELECT * FROM rds_tasks) d;
SELECT count(*) AS extra FROM (SELECT * FROM rds_tasks
  EXCEPT ALL SELECT id, name, instance_id, instance_name, instance_status, order_id,
    process, fail_reason, create_time, end_time, status FROM sim_tasks) d;
-- the FDW streams rows in the API's order, pages fetched in parallel or not
SELECT (SELECT array_agg(id) FROM rds_tasks) = (SELECT array_agg(id ORDER BY pos) FROM sim_tasks) AS same_order;
ALTER FOREIGN TABLE rds_tasks OPTIONS (ADD parallel_requests '1');
SELECT (SELECT array_agg(id) FROM rds_tasks) = (SELECT array_agg(id ORDER BY pos) FROM sim_tasks) AS same_order_sequential;
ALTER FOREIGN TABLE rds_tasks OPTIONS (DROP parallel_requests);

-- ===================================================================
-- where paging stops: offset >= total_count, a short page, an empty page
-- ===================================================================
\! test/simctl reset '{"tasks": 120}'
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks;
\! test/simctl log
\! test/simctl reset '{"tasks": 100}'
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks;
\! test/simctl log
\! test/simctl reset '{"tasks": 0}'
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks;
\! test/simctl log
-- without total_count the scan goes on until a short or an empty page
\! test/simctl reset '{"tasks": 100}'
\! test/simctl fault '{"kind": "total_count", "value": null, "times": -1}'
\! test/simctl clearlog
SELECT count(id) FROM rds_tasks;
\! test/simctl log
\! test/simctl clearfaults
-- page_size
\! test/simctl reset '{"tasks": 100}'
CREATE FOREIGN TABLE small_pages (id text) SERVER sim OPTIONS (page_size '30');
\! test/simctl clearlog
SELECT count(id), count(DISTINCT id) FROM small_pages;
\! test/simctl log

-- ===================================================================
-- the list moves between pages: no task twice, none lost
-- ===================================================================
-- read one page at a time, new tasks at the head shift the later pages;
-- the changed total_count makes the scan read the list once more
\! test/simctl reset '{"tasks": 120}'
SELECT load_sim_tasks();
CREATE FOREIGN TABLE moving (id text) SERVER sim OPTIONS (parallel_requests '1');
\! test/simctl fault '{"kind": "shift", "count": 5, "params": {"offset": "50"}}'
\! test/simctl clearlog
SELECT * FROM read_moving('moving');
\! test/simctl log

-- with pages in flight in parallel, a later page can be answered before the
-- move and an earlier one after it: the changed total_count is noticed and
-- the list read again, so no task that existed is lost or returned twice
\! test/simctl reset '{"tasks": 300}'
SELECT load_sim_tasks();
\! test/simctl fault '{"kind": "shift", "count": 5, "delay_ms": 300, "params": {"offset": "50"}}'
\! test/simctl clearlog
SELECT * FROM read_moving('rds_tasks');
\! test/simctl log | sed -e 's/offset=[0-9]*/offset=N/' | sort | uniq -c

-- more new tasks than the first total_count promised: the filter grows
-- while the list is read again, and still knows every id
\! test/simctl reset '{"tasks": 120}'
SELECT load_sim_tasks();
\! test/simctl fault '{"kind": "shift", "count": 40, "params": {"offset": "50"}}'
SELECT * FROM read_moving('moving');

-- ===================================================================
-- keys of any length: long ids and action names are filtered too
-- ===================================================================
-- a 45-byte action name is on each of the 10 pages, and returned once
\! test/simctl reset '{"tasks": 500, "long_action": true}'
SELECT load_sim_tasks();
SELECT name, octet_length(name) AS bytes, count(*) FROM rds_task_actions
 WHERE octet_length(name) > 40 GROUP BY name;
SELECT (SELECT array_agg(name ORDER BY name) FROM rds_task_actions) =
       (SELECT array_agg(DISTINCT name ORDER BY name) FROM sim_tasks) AS same_actions;
-- 60-byte task ids while the list moves: one page at a time ...
\! test/simctl reset '{"tasks": 120, "id_length": 60}'
SELECT load_sim_tasks();
SELECT min(octet_length(id)) AS min_bytes, max(octet_length(id)) AS max_bytes FROM sim_tasks;
\! test/simctl fault '{"kind": "shift", "count": 5, "params": {"offset": "50"}}'
\! test/simctl clearlog
SELECT * FROM read_moving('moving');
\! test/simctl log
-- ... and four pages in flight
\! test/simctl reset '{"tasks": 300, "id_length": 60}'
SELECT load_sim_tasks();
CREATE FOREIGN TABLE moving4 (id text) SERVER sim OPTIONS (parallel_requests '4');
\! test/simctl fault '{"kind": "shift", "count": 5, "delay_ms": 300, "params": {"offset": "50"}}'
SELECT * FROM read_moving('moving4');
-- the moved list, now still: exactly the simulator's rows, in its order
SELECT load_sim_tasks();
SELECT (SELECT array_agg(id) FROM moving4) = (SELECT array_agg(id ORDER BY pos) FROM sim_tasks) AS same_order;

-- ===================================================================
-- an early stop leaves no request in flight
-- ===================================================================
\! test/simctl reset '{"tasks": 300}'
SELECT load_sim_tasks();
SELECT instance_name || '/' || id AS needle FROM sim_tasks WHERE pos = 120 \gset
\! test/simctl fault '{"kind": "delay", "ms": 3000, "params": {"offset": "150"}}' '{"kind": "delay", "ms": 3000, "params": {"offset": "200"}}' '{"kind": "delay", "ms": 3000, "params": {"offset": "250"}}'
\! test/simctl clearlog
SELECT count(*) FROM (SELECT id FROM rds_tasks WHERE instance_name || '/' || id = :'needle' LIMIT 1) s;
SELECT pg_sleep(0.3);
-- the pages after the one that held the row were requested in parallel,
-- then abandoned when the scan ended (the simulator logs 499)
\! test/simctl log

-- ===================================================================
-- the response cache: hits within cache_ttl, expiry, invalidation
-- ===================================================================
CREATE FOREIGN TABLE cached (id text, status text) SERVER sim OPTIONS (cache_ttl '2');
SELECT explain_analyze($$SELECT id FROM cached WHERE status = 'Failed'$$);
SELECT explain_analyze($$SELECT id FROM cached WHERE status = 'Failed'$$);
SELECT pg_sleep(2.1);
SELECT explain_analyze($$SELECT id FROM cached WHERE status = 'Failed'$$);
-- a change to the server: what was cached before is never served again
-- (its entry is dead: deleted unseen by the next sweep or clear, which
-- counts only the 2 entries fetched since)
ALTER SERVER sim OPTIONS (ADD connect_timeout '9');
SELECT explain_analyze($$SELECT id FROM cached WHERE status = 'Failed'$$);
SELECT explain_analyze($$SELECT count(*) FROM cached WHERE status = 'Failed'$$);
SELECT explain_analyze($$SELECT count(*) FROM cached WHERE status = 'Failed'$$);
SELECT rds_task_fdw_cache_clear();
SELECT rds_task_fdw_cache_clear();
-- off by default
SELECT explain_analyze($$SELECT id FROM rds_tasks WHERE status = 'Failed'$$);
SELECT explain_analyze($$SELECT id FROM rds_tasks WHERE status = 'Failed'$$);

-- a cached first page that the list has moved away from: the pass that
-- notices the changed total_count is repeated from the API, not the cache,
-- and the result is the simulator's current list
\! test/simctl reset '{"tasks": 120}'
CREATE FOREIGN TABLE cached_moving (id text) SERVER sim
  OPTIONS (cache_ttl '60', parallel_requests '1');
-- LIMIT 50 caches the first page only (the URL a full scan asks first)
\! test/simctl clearlog
SELECT count(*) FROM (SELECT id FROM cached_moving LIMIT 50) s;
\! test/simctl log
-- five new tasks at the head when the second page is asked for
\! test/simctl fault '{"kind": "shift", "count": 5, "params": {"offset": "50"}}'
\! test/simctl clearlog
CREATE TEMP TABLE cached_result AS SELECT id FROM cached_moving;
\! test/simctl log
SELECT load_sim_tasks();
SELECT (SELECT count(*) FROM cached_result) AS rows,
       (SELECT count(DISTINCT id) FROM cached_result) AS distinct_ids,
       (SELECT count(*) FROM (SELECT id FROM sim_tasks EXCEPT SELECT id FROM cached_result) d) AS missing,
       (SELECT count(*) FROM (SELECT id FROM cached_result EXCEPT SELECT id FROM sim_tasks) d) AS extra;
-- the list moves again; within cache_ttl the next scan reads only the
-- cache, whose pages all come from the repeated pass: the list as it was
-- then, not a mix of two lists
\! test/simctl fault '{"kind": "shift", "count": 5, "params": {"offset": "50"}}'
SELECT count(id) FROM moving;
\! test/simctl clearlog
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids,
       count(*) FILTER (WHERE id IN (SELECT id FROM cached_result)) AS as_before
  FROM cached_moving;
\! test/simctl log
SELECT rds_task_fdw_cache_clear() > 0 AS cleared;
DROP FOREIGN TABLE cached_moving;
DROP TABLE cached_result;

-- ===================================================================
-- columns: any subset, any order, column_name, raw, project_id, region
-- ===================================================================
\! test/simctl reset '{"tasks": 300}'
SELECT load_sim_tasks();
CREATE FOREIGN TABLE picked (
  state text OPTIONS (column_name 'status'),
  created date OPTIONS (column_name 'create_time'),
  id varchar(40),
  pct integer OPTIONS (column_name 'process'),
  project_id text,
  region text,
  raw jsonb
) SERVER sim;
SELECT count(*) FROM picked p JOIN sim_tasks s USING (id)
 WHERE p.state IS NOT DISTINCT FROM s.status
   AND p.created = (s.create_time AT TIME ZONE 'UTC')::date
   AND p.pct IS NOT DISTINCT FROM s.process
   AND p.project_id = '0123456789abcdef0123456789abcdef'
   AND p.region IS NULL
   AND p.raw->>'id' = s.id
   AND p.raw->>'instance_name' = s.instance_name;
-- raw keeps what the API sent: "" and missing fields stay apart there
SELECT count(*) FILTER (WHERE raw ? 'fail_reason') > 0 AS some_present,
       count(*) FILTER (WHERE NOT raw ? 'fail_reason') > 0 AS some_missing,
       count(*) FILTER (WHERE raw->>'process' = '') > 0 AS some_empty
  FROM picked;
-- a column that matches no task field
CREATE FOREIGN TABLE wrong_col (id text, owner text) SERVER sim;
SELECT * FROM wrong_col;
CREATE FOREIGN TABLE wrong_raw (raw text) SERVER sim;
SELECT * FROM wrong_raw;
-- a table without columns still counts rows
CREATE FOREIGN TABLE no_cols () SERVER sim;
SELECT count(*) FROM no_cols;
-- region comes from the endpoint host's second label
SELECT replace(:'sim_http', '127.0.0.1', 'rds.eu-de.localhost') AS sim_region_url \gset
CREATE SERVER sim_region FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_region_url', project_id '0123456789abcdef0123456789abcdef');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim_region OPTIONS (auth_token 'test-token-0001');
CREATE FOREIGN TABLE regional (region text, project_id text, id text) SERVER sim_region;
SELECT region, project_id, count(*) FROM regional GROUP BY 1, 2;
ALTER SERVER sim_region OPTIONS (ADD region 'eu-nl');
SELECT region, count(*) FROM regional GROUP BY 1;

-- ===================================================================
-- the actions resource: distinct task names
-- ===================================================================
SELECT (SELECT array_agg(name ORDER BY name) FROM rds_task_actions) =
       (SELECT array_agg(DISTINCT name ORDER BY name) FROM sim_tasks) AS same_actions;
SELECT count(*) AS actions, count(DISTINCT name) AS distinct_names,
       count(*) = (SELECT count(DISTINCT name) FROM sim_tasks) AS one_row_per_name
  FROM rds_task_actions;

-- ===================================================================
-- rescans: the inner side of a nested loop restarts from offset 0
-- ===================================================================
\! test/simctl clearlog
EXPLAIN (COSTS OFF)
SELECT v.x, (SELECT count(id) FROM rds_tasks t WHERE t.status || t.name <> v.x) AS fdw
  FROM (VALUES ('Failed'), ('Running'), ('Completed')) v(x);
SELECT v.x, (SELECT count(id) FROM rds_tasks t WHERE t.status <> v.x) AS fdw,
            (SELECT count(*) FROM sim_tasks s WHERE s.status <> v.x) AS local
  FROM (VALUES ('Failed'), ('Running'), ('Completed')) v(x);
-- 300 tasks: 6 pages per scan, three scans
\! test/simctl log | wc -l

-- ===================================================================
-- EXPLAIN: the remote request, and the real request counts
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, status FROM rds_tasks;
SELECT explain_analyze($$SELECT count(id) FROM rds_tasks$$);

-- ===================================================================
-- 10,000 tasks: exactly the simulator's rows
-- ===================================================================
\! test/simctl reset '{"tasks": 10000}'
SELECT load_sim_tasks();
\! test/simctl clearlog
SELECT count(*) AS missing FROM (SELECT id, name, instance_id, instance_name, instance_status, order_id,
    process, fail_reason, create_time, end_time, status FROM sim_tasks
  EXCEPT ALL SELECT * FROM rds_tasks) d;
\! test/simctl log | wc -l
SELECT count(*) AS extra FROM (SELECT * FROM rds_tasks
  EXCEPT ALL SELECT id, name, instance_id, instance_name, instance_status, order_id,
    process, fail_reason, create_time, end_time, status FROM sim_tasks) d;

\! test/simctl reset
DROP SCHEMA scan CASCADE;
DROP SERVER sim, sim_region CASCADE;
RESET search_path;
