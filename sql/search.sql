-- ===================================================================
-- search: ORDER BY create_time [DESC] LIMIT n, max/min(create_time) and
-- "latest task per instance" by the time-window search; the EXPLAIN line,
-- the requests the simulator received, and the rows compared, in order,
-- with the same query over a local copy; in every page order the
-- simulator knows (the API's order is undocumented), hash included: tasks
-- sorted by a hash of their id, the same order for every request
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 10000}'

CREATE SERVER se FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef',
           max_retries '0', parallel_requests '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER se OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA se;
SET search_path = se, public;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER se INTO se;
-- small pages: many windows, so that many window edges fall on tied seconds
CREATE FOREIGN TABLE small_pages (id text, create_time timestamptz, status text,
                                  instance_id text)
  SERVER se OPTIONS (page_size '5');

CREATE TABLE local_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
CREATE FUNCTION reload() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE local_tasks;
  EXECUTE format('COPY local_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;
SELECT reload();
ANALYZE local_tasks;
SELECT count(*) AS tasks, count(DISTINCT create_time) AS seconds,
       max(create_time) - min(create_time) < interval '30 days' AS within_30_days
  FROM local_tasks;

-- the rows of a query over rds_tasks (or small_pages) and over the local
-- copy, in their order: equal or not
CREATE FUNCTION same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  fdw text[];
  loc text[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(r::text), ''{}'') FROM (%s) r', q) INTO fdw;
  EXECUTE format('SELECT coalesce(array_agg(r::text), ''{}'') FROM (%s) r',
                 replace(replace(q, 'rds_tasks', 'local_tasks'), 'small_pages', 'local_tasks')) INTO loc;
  RETURN cardinality(fdw) || ' rows, ' ||
         CASE WHEN fdw = loc THEN 'same as local'
              ELSE 'DIFFERENT from local (' || cardinality(loc) || ' rows)' END;
END $$;

-- what EXPLAIN ANALYZE says about a query's requests and windows
CREATE FUNCTION requests(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := ''; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || q LOOP
    IF l ~ 'HTTP requests:' THEN
      r := r || CASE WHEN r = '' THEN '' ELSE '; ' END ||
           substring(l from 'HTTP requests: ([0-9]+)') || ' requests';
    ELSIF l ~ 'Time-window search:' THEN
      r := r || ', ' || substring(l from 'Time-window search: (.*)$');
    END IF;
  END LOOP;
  RETURN r; END $$;

-- the lines of EXPLAIN (VERBOSE) that the FDW writes (the rest of the plan
-- is PostgreSQL's and differs between versions)
CREATE FUNCTION fdw_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text; BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    IF l ~ '(Pushed down|Remote request|Foreign Scan|Sort Key):' OR l ~ 'Foreign Scan' THEN
      RETURN NEXT btrim(l, ' ->');
    END IF;
  END LOOP; END $$;

-- a second where several tasks were created: LIMIT n ends inside it
SELECT n AS tie_n FROM (
  SELECT row_number() OVER (ORDER BY create_time DESC, id) AS n, create_time,
         count(*) OVER (PARTITION BY create_time) AS c FROM local_tasks) x
 WHERE c >= 3 AND n > 20 ORDER BY n LIMIT 1 OFFSET 1 \gset
SELECT count(*) >= 3 AS tied_at_the_edge FROM local_tasks
 WHERE create_time = (SELECT create_time FROM local_tasks ORDER BY create_time DESC, id
                      LIMIT 1 OFFSET :tie_n - 1);
SELECT instance_id AS busy_instance FROM local_tasks GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 \gset

-- ===================================================================
-- EXPLAIN and the requests
-- ===================================================================
EXPLAIN (VERBOSE, COSTS OFF) SELECT id, create_time FROM rds_tasks ORDER BY create_time DESC LIMIT 10;
SELECT fdw_lines('SELECT max(create_time) FROM rds_tasks');
SELECT fdw_lines($$SELECT id FROM rds_tasks WHERE status = 'Failed' ORDER BY create_time LIMIT 5 OFFSET 3$$);
SELECT fdw_lines($$SELECT id FROM rds_tasks ORDER BY create_time DESC NULLS LAST, id LIMIT 5$$);
-- newest first (the simulator's default order): the first page, the last
-- page of a window over all times, then one window near the newest task
\! test/simctl clearlog
SELECT requests('SELECT id, create_time FROM rds_tasks ORDER BY create_time DESC LIMIT 10');
\! test/simctl rawlog | sed -e 's/time=[0-9]*/time=T/g'
-- a raw column: the search's pages keep each task's JSON, its first page
-- and its windows' pages alike (they were read without it)
CREATE FOREIGN TABLE raw_search (id text, create_time timestamptz, raw jsonb) SERVER se;
SELECT fdw_lines($$SELECT id FROM raw_search ORDER BY create_time DESC, id LIMIT 12$$);
SELECT (SELECT array_agg(id || ' ' || (raw->>'status') ORDER BY create_time DESC, id)
          FROM (SELECT id, create_time, raw FROM raw_search
                 ORDER BY create_time DESC, id LIMIT 12) s)
     = (SELECT array_agg(id || ' ' || status ORDER BY create_time DESC, id)
          FROM (SELECT id, create_time, status FROM local_tasks
                 ORDER BY create_time DESC, id LIMIT 12) l) AS raw_same_as_local;
-- an unpushable ORDER BY expression reads every page and sorts (before)
SELECT requests($$SELECT id FROM rds_tasks ORDER BY create_time + interval '0' DESC LIMIT 10$$);
-- no LIMIT: PostgreSQL's Sort over the plain read is cheaper
SELECT fdw_lines('SELECT id FROM rds_tasks ORDER BY create_time DESC');

-- ===================================================================
-- every shape, in each page order: rows (in order) as over the local copy
-- ===================================================================
CREATE FUNCTION shapes(busy text, tie_n int) RETURNS TABLE (shape text, result text, requests text)
LANGUAGE plpgsql AS $f$
DECLARE q text; BEGIN
  FOREACH q IN ARRAY ARRAY[
    'SELECT id, create_time FROM rds_tasks ORDER BY create_time DESC, id LIMIT 10',
    'SELECT create_time FROM rds_tasks ORDER BY create_time DESC LIMIT 10',
    'SELECT id, create_time FROM rds_tasks ORDER BY create_time, id LIMIT 10',
    format('SELECT id FROM rds_tasks ORDER BY create_time DESC, id LIMIT %s', tie_n),
    'SELECT id FROM rds_tasks ORDER BY create_time DESC, id LIMIT 10 OFFSET 45',
    'SELECT id FROM rds_tasks ORDER BY create_time DESC, id LIMIT 120',
    $$SELECT id, status FROM rds_tasks WHERE status = 'Failed' ORDER BY create_time DESC, id LIMIT 10$$,
    $$SELECT id FROM rds_tasks WHERE status || '' = 'Failed' ORDER BY create_time DESC, id LIMIT 10$$,
    $$SELECT id FROM rds_tasks WHERE create_time < '2026-01-01' ORDER BY create_time DESC, id LIMIT 10$$,
    $$SELECT id FROM rds_tasks WHERE create_time >= '2026-01-01' AND name = 'CreateBackup' ORDER BY create_time, id LIMIT 7$$,
    'SELECT max(create_time) FROM rds_tasks',
    'SELECT min(create_time) FROM rds_tasks',
    $$SELECT max(create_time), min(create_time) FROM rds_tasks WHERE status = 'Failed'$$,
    format('SELECT id FROM rds_tasks WHERE instance_id = %L ORDER BY create_time DESC, id LIMIT 3', busy),
    $$SELECT id FROM rds_tasks WHERE status = 'Running' AND instance_id = 'nope' ORDER BY create_time DESC LIMIT 5$$,
    'SELECT id FROM small_pages ORDER BY create_time DESC, id LIMIT 300',
    'SELECT id FROM small_pages ORDER BY create_time, id LIMIT 300'
  ] LOOP
    shape := q; result := same(q); requests := requests(q);
    RETURN NEXT;
  END LOOP;
END $f$;

\! test/simctl config '{"page_order": "newest"}'
SELECT shape, result, requests FROM shapes(:'busy_instance', :tie_n);
\! test/simctl config '{"page_order": "oldest"}'
SELECT shape, result, requests FROM shapes(:'busy_instance', :tie_n);
\! test/simctl config '{"page_order": "random"}'
SELECT shape, result, requests FROM shapes(:'busy_instance', :tie_n);
\! test/simctl config '{"page_order": "hash"}'
SELECT shape, result, requests FROM shapes(:'busy_instance', :tie_n);

-- ===================================================================
-- the issue's budgets on 10,000 tasks over 30 days, in each order
-- ===================================================================
CREATE FUNCTION budget() RETURNS TABLE (shape text, within_budget boolean) LANGUAGE plpgsql AS $f$
DECLARE n int; BEGIN
  n := substring(requests('SELECT id FROM rds_tasks ORDER BY create_time DESC LIMIT 10') from '^[0-9]+')::int;
  shape := 'ORDER BY create_time DESC LIMIT 10: at most 6'; within_budget := n <= 6; RETURN NEXT;
  n := substring(requests($$SELECT id FROM rds_tasks WHERE status = 'Failed' ORDER BY create_time DESC LIMIT 10$$) from '^[0-9]+')::int;
  shape := 'status = Failed ... LIMIT 10: at most 8'; within_budget := n <= 8; RETURN NEXT;
  n := substring(requests('SELECT max(create_time) FROM rds_tasks') from '^[0-9]+')::int;
  shape := 'max(create_time): at most 6'; within_budget := n <= 6; RETURN NEXT;
END $f$;
\! test/simctl config '{"page_order": "newest"}'
SELECT * FROM budget();
\! test/simctl config '{"page_order": "oldest"}'
SELECT * FROM budget();
\! test/simctl config '{"page_order": "random"}'
SELECT * FROM budget();
\! test/simctl config '{"page_order": "hash"}'
SELECT * FROM budget();

-- ===================================================================
-- pages in hash order (unrelated to time, the same for every request):
-- the first and last page are a uniform sample of the times; the first
-- window starts at the newest sample, a window of more than a page is
-- cut by its own first page.  Rows as the unpushed query's (an ORDER BY
-- expression turns the search off and PostgreSQL sorts every page), the
-- requests from the simulator's log
-- ===================================================================
\! test/simctl config '{"page_order": "hash"}'
CREATE FUNCTION same_as_unpushed(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  pushed text[];
  unpushed text[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(r::text), ''{}'') FROM (%s) r', q) INTO pushed;
  EXECUTE format('SELECT coalesce(array_agg(r::text), ''{}'') FROM (%s) r',
                 replace(q, 'create_time)', 'create_time + interval ''0'')')) INTO unpushed;
  RETURN cardinality(pushed) || ' rows, ' ||
         CASE WHEN pushed = unpushed THEN 'same as unpushed' ELSE 'DIFFERENT from unpushed' END;
END $$;
SELECT same_as_unpushed('SELECT id, create_time FROM rds_tasks ORDER BY (create_time) DESC, id LIMIT 10');
SELECT same_as_unpushed('SELECT max(create_time) FROM rds_tasks');
SELECT same_as_unpushed('SELECT id, create_time FROM rds_tasks ORDER BY (create_time) DESC, id LIMIT 100');
\! test/simctl clearlog
SELECT requests('SELECT id, create_time FROM rds_tasks ORDER BY create_time DESC LIMIT 10');
\! test/simctl rawlog | sed -e 's/time=[0-9]*/time=T/g'
\! test/simctl clearlog
SELECT max(create_time) = (SELECT max(create_time) FROM local_tasks) AS newest FROM rds_tasks;
\! test/simctl rawlog | awk 'END { print (NR <= 6) ? "at most 6 requests" : "MORE than 6: " NR }'

-- ===================================================================
-- per outer row: the last task of each instance (a LATERAL subquery, the
-- instance a run-time value), at most 6 requests per instance
-- ===================================================================
CREATE TABLE inventory AS
  SELECT DISTINCT instance_id FROM local_tasks ORDER BY 1 LIMIT 8;
SELECT fdw_lines($$SELECT i.instance_id, t.id, t.create_time FROM inventory i,
  LATERAL (SELECT id, create_time FROM rds_tasks r WHERE r.instance_id = i.instance_id
           ORDER BY create_time DESC, id LIMIT 1) t$$);
\! test/simctl config '{"page_order": "random"}'
SELECT same($$SELECT i.instance_id, t.id, t.create_time FROM inventory i,
  LATERAL (SELECT id, create_time FROM rds_tasks r WHERE r.instance_id = i.instance_id
           ORDER BY create_time DESC, id LIMIT 1) t ORDER BY 1$$);
\! test/simctl clearlog
SELECT count(*) FROM inventory i,
  LATERAL (SELECT id FROM rds_tasks r WHERE r.instance_id = i.instance_id
           ORDER BY create_time DESC LIMIT 1) t;
\! test/simctl rawlog | grep -o 'instance_id=[0-9a-z]*' | sort | uniq -c | awk '{print ($1 <= 6) ? "at most 6 requests" : "MORE than 6: " $1}' | sort | uniq -c

-- ===================================================================
-- parameters: PREPARE with a generic plan, LIMIT/OFFSET and the filter
-- as $n
-- ===================================================================
SET plan_cache_mode = force_generic_plan;
PREPARE latest(text, int, int) AS
  SELECT id, create_time FROM rds_tasks WHERE status = $1 ORDER BY create_time DESC, id LIMIT $2 OFFSET $3;
SELECT fdw_lines($$EXECUTE latest('Failed', 5, 0)$$);
CREATE TEMP TABLE prepared_out AS EXECUTE latest('Failed', 5, 2);
SELECT array_agg(id ORDER BY create_time DESC, id) =
       (SELECT array_agg(id) FROM (SELECT id FROM local_tasks WHERE status = 'Failed'
                                   ORDER BY create_time DESC, id LIMIT 5 OFFSET 2) l) AS same_as_local
  FROM prepared_out;
CREATE TEMP TABLE prepared_out2 AS EXECUTE latest('Completed', 40, 100);
SELECT array_agg(id ORDER BY create_time DESC, id) =
       (SELECT array_agg(id) FROM (SELECT id FROM local_tasks WHERE status = 'Completed'
                                   ORDER BY create_time DESC, id LIMIT 40 OFFSET 100) l) AS same_as_local
  FROM prepared_out2;
RESET plan_cache_mode;

-- ===================================================================
-- fallbacks: a LIMIT near the stream's size reads the stream and sorts;
-- a stream that fits one page is that one request
-- ===================================================================
\! test/simctl config '{"page_order": "newest"}'
SELECT same(format('SELECT id FROM rds_tasks WHERE instance_id = %L ORDER BY create_time DESC, id LIMIT 100', :'busy_instance'));
SELECT requests(format('SELECT id FROM rds_tasks WHERE instance_id = %L ORDER BY create_time DESC, id LIMIT 100', :'busy_instance'));
SELECT same($$SELECT id FROM rds_tasks WHERE status = 'Failed' AND name = 'RestartInstance' ORDER BY create_time DESC, id LIMIT 3$$);
SELECT requests($$SELECT id FROM rds_tasks WHERE id = 'nope' ORDER BY create_time DESC LIMIT 3$$);
-- the planner expected more tasks than there are: the search's first
-- request finds them all (an empty list), or a stream of a few pages that
-- the LIMIT would read most of anyway is read whole and sorted
SELECT fdw_lines($$SELECT id FROM rds_tasks WHERE create_time > '2026-01-15 11:00+00' ORDER BY create_time DESC LIMIT 10$$);
SELECT same($$SELECT id FROM rds_tasks WHERE create_time > '2026-01-15 12:00+00' ORDER BY create_time DESC, id LIMIT 10$$);
SELECT requests($$SELECT id FROM rds_tasks WHERE create_time > '2026-01-15 12:00+00' ORDER BY create_time DESC, id LIMIT 10$$);
SELECT count(*) AS tasks_in_the_last_day FROM local_tasks WHERE create_time > '2026-01-14 12:00+00';
SELECT same($$SELECT id FROM rds_tasks WHERE create_time > '2026-01-14 12:00+00' ORDER BY create_time DESC, id LIMIT 200$$);
SELECT requests($$SELECT id FROM rds_tasks WHERE create_time > '2026-01-14 12:00+00' ORDER BY create_time DESC, id LIMIT 200$$);

-- ===================================================================
-- a list that moves during the search: new tasks at the head after the
-- first request; no task twice, and the rows are the list's newest
-- after the move, as over the list reloaded
-- ===================================================================
\! test/simctl fault '{"kind": "shift", "count": 7, "skip": 1}'
CREATE TABLE moved AS SELECT id, create_time FROM rds_tasks ORDER BY create_time DESC, id LIMIT 20;
SELECT reload();
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_ids,
       array_agg(id ORDER BY create_time DESC, id) =
       (SELECT array_agg(id) FROM (SELECT id FROM local_tasks ORDER BY create_time DESC, id LIMIT 20) l) AS same_as_reloaded
  FROM moved;
\! test/simctl fault '{"kind": "shift", "count": 3, "skip": 2}'
CREATE TABLE moved_max AS SELECT max(create_time) AS m FROM rds_tasks;
SELECT reload();
SELECT m = (SELECT max(create_time) FROM local_tasks) AS newest_after_the_move FROM moved_max;
\! test/simctl clearfaults

DROP SCHEMA se CASCADE;
DROP SERVER se CASCADE;
-- the other suites' list size again
\! test/simctl reset '{"tasks": 2500}'
