-- bench/search.sql: requests per shape, before and after the time-window
-- search, in each page order (see bench/search.sh)
\pset footer off
CREATE EXTENSION rds_task_fdw;
CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id '0123456789abcdef0123456789abcdef');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token 'bench-token');
IMPORT FOREIGN SCHEMA otc FROM SERVER sim INTO public;
-- the planner's figures for the list (without them it assumes 1,000 tasks,
-- and a filter keeping a tenth of those is cheaper to read whole than to
-- search; README: run ANALYZE when the list's shape changes)
ANALYZE rds_tasks;
CREATE TABLE inventory AS SELECT DISTINCT instance_id FROM rds_tasks ORDER BY 1 LIMIT 5;
ANALYZE inventory;
SELECT instance_id AS some_instance FROM inventory LIMIT 1 \gset
SELECT count(*) AS tasks, max(create_time) - min(create_time) AS spread FROM rds_tasks;

-- requests and the most windows one search needed, from EXPLAIN ANALYZE
CREATE FUNCTION measure(q text, OUT requests bigint, OUT windows bigint) LANGUAGE plpgsql AS $$
DECLARE line text; BEGIN
  requests := 0; windows := 0;
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'HTTP requests: [0-9]+' THEN
      requests := requests + substring(line FROM 'HTTP requests: ([0-9]+)')::bigint;
    END IF;
    IF line ~ 'at most [0-9]+ in one search' THEN
      windows := greatest(windows, substring(line FROM 'at most ([0-9]+) in one search')::bigint);
    END IF;
  END LOOP;
END $$;

CREATE TEMP TABLE shapes (n int, shape text, before_q text, after_q text, per int, budget int);
INSERT INTO shapes VALUES
  (1, 'ORDER BY create_time DESC LIMIT 10',
   $$SELECT id FROM rds_tasks ORDER BY create_time + interval '0' DESC LIMIT 10$$,
   $$SELECT id FROM rds_tasks ORDER BY create_time DESC LIMIT 10$$, 1, 6),
  (2, 'status = ''Failed'' ORDER BY create_time DESC LIMIT 10',
   $$SELECT id FROM rds_tasks WHERE status = 'Failed' ORDER BY create_time + interval '0' DESC LIMIT 10$$,
   $$SELECT id FROM rds_tasks WHERE status = 'Failed' ORDER BY create_time DESC LIMIT 10$$, 1, 8),
  (3, 'max(create_time)',
   $$SELECT max(create_time + interval '0') FROM rds_tasks$$,
   $$SELECT max(create_time) FROM rds_tasks$$, 1, 6),
  (4, 'min(create_time)',
   $$SELECT min(create_time + interval '0') FROM rds_tasks$$,
   $$SELECT min(create_time) FROM rds_tasks$$, 1, 6),
  (5, 'ORDER BY create_time LIMIT 10',
   $$SELECT id FROM rds_tasks ORDER BY create_time + interval '0' LIMIT 10$$,
   $$SELECT id FROM rds_tasks ORDER BY create_time LIMIT 10$$, 1, NULL),
  (6, 'ORDER BY create_time DESC LIMIT 10 OFFSET 40',
   $$SELECT id FROM rds_tasks ORDER BY create_time + interval '0' DESC LIMIT 10 OFFSET 40$$,
   $$SELECT id FROM rds_tasks ORDER BY create_time DESC LIMIT 10 OFFSET 40$$, 1, NULL),
  (7, 'ORDER BY create_time DESC LIMIT 100',
   $$SELECT id FROM rds_tasks ORDER BY create_time + interval '0' DESC LIMIT 100$$,
   $$SELECT id FROM rds_tasks ORDER BY create_time DESC LIMIT 100$$, 1, NULL),
  (8, 'instance_id = x ORDER BY create_time DESC LIMIT 5',
   format($$SELECT id FROM rds_tasks WHERE instance_id = %L ORDER BY create_time + interval '0' DESC LIMIT 5$$, :'some_instance'),
   format($$SELECT id FROM rds_tasks WHERE instance_id = %L ORDER BY create_time DESC LIMIT 5$$, :'some_instance'), 1, NULL),
  (9, 'last task per instance (LATERAL, per outer row)',
   $$SELECT * FROM inventory i, LATERAL (SELECT id FROM rds_tasks r WHERE r.instance_id = i.instance_id ORDER BY create_time + interval '0' DESC LIMIT 1) t$$,
   $$SELECT * FROM inventory i, LATERAL (SELECT id FROM rds_tasks r WHERE r.instance_id = i.instance_id ORDER BY create_time DESC LIMIT 1) t$$,
   5, 6),
  (10, 'last task per status (LATERAL, per outer row)',
   $$SELECT * FROM unnest(ARRAY['Failed', 'Completed', 'Running']) s, LATERAL (SELECT id FROM rds_tasks r WHERE r.status = s ORDER BY create_time + interval '0' DESC LIMIT 1) t$$,
   $$SELECT * FROM unnest(ARRAY['Failed', 'Completed', 'Running']) s, LATERAL (SELECT id FROM rds_tasks r WHERE r.status = s ORDER BY create_time DESC LIMIT 1) t$$,
   3, 6),
  (11, 'last backup: max(create_time) WHERE name = ''CreateBackup''',
   $$SELECT max(create_time + interval '0') FROM rds_tasks WHERE name = 'CreateBackup'$$,
   $$SELECT max(create_time) FROM rds_tasks WHERE name = 'CreateBackup'$$, 1, 6);

CREATE TEMP TABLE results (page_order text, n int, shape text, before bigint, after bigint,
                           windows bigint, budget int);
CREATE FUNCTION run(page_order text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE s record; b record; a record; BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('curl -sS -f -X POST -H ''Content-Type: application/json'' --data-binary ''{"page_order": "%s"}'' %s/_sim/config',
                        page_order, current_setting('bench.sim')));
  FOR s IN SELECT * FROM shapes ORDER BY n LOOP
    b := measure(s.before_q);
    a := measure(s.after_q);
    INSERT INTO results VALUES (page_order, s.n, s.shape, b.requests / s.per, a.requests / s.per,
                                a.windows, s.budget);
  END LOOP;
END $$;
SELECT set_config('bench.sim', :'sim', false) IS NOT NULL AS sim_set \gset
SELECT run('newest');
SELECT run('oldest');
SELECT run('random');
SELECT run('hash');

\echo requests per shape (per outer row for the LATERAL shapes); windows: the most one search needed
SELECT shape,
       max(before) FILTER (WHERE page_order = 'newest') AS before,
       max(after) FILTER (WHERE page_order = 'newest') AS "after: newest",
       max(after) FILTER (WHERE page_order = 'oldest') AS "oldest",
       max(after) FILTER (WHERE page_order = 'random') AS "random",
       max(after) FILTER (WHERE page_order = 'hash') AS "hash",
       max(windows) AS windows,
       CASE WHEN max(budget) IS NULL THEN ''
            WHEN max(after) <= max(budget) THEN 'PASS (<= ' || max(budget) || ')'
            ELSE 'MISS (> ' || max(budget) || ')' END AS budget
  FROM results GROUP BY n, shape ORDER BY n;
SELECT max(windows) AS largest_number_of_windows FROM results;
