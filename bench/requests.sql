-- bench/requests.sql: requests per query shape (see bench/requests.sh)
CREATE EXTENSION rds_task_fdw;
CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim', project_id '0123456789abcdef0123456789abcdef');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token 'bench-token');
IMPORT FOREIGN SCHEMA otc FROM SERVER sim INTO public;
CREATE TABLE inventory AS SELECT DISTINCT instance_id FROM rds_tasks ORDER BY 1 LIMIT 5;
ANALYZE inventory;
SELECT id AS some_id, instance_id AS some_instance, create_time AS t FROM rds_tasks OFFSET 5000 LIMIT 1 \gset

CREATE FUNCTION requests(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  line text;
  n bigint := 0;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'HTTP requests: [0-9]+' THEN
      n := n + substring(line FROM 'HTTP requests: ([0-9]+)')::bigint;
    END IF;
  END LOOP;
  RETURN n;
END $$;

-- a full scan: what every shape cost before pushdown
SELECT requests('SELECT id FROM rds_tasks') AS full_scan \gset
-- before pushdown a LIMIT still stopped early: ceil((offset + n) / 50) pages
CREATE TEMP TABLE shapes (shape text, query text, before bigint);
INSERT INTO shapes VALUES
  ('id = const', format('SELECT * FROM rds_tasks WHERE id = %L', :'some_id'), NULL),
  ('status = const', 'SELECT * FROM rds_tasks WHERE status = ''Failed''', NULL),
  ('instance_id = const', format('SELECT * FROM rds_tasks WHERE instance_id = %L', :'some_instance'), NULL),
  ('status IN (2 values)', 'SELECT * FROM rds_tasks WHERE status IN (''Failed'', ''Running'')', NULL),
  ('create_time >= t (last ~50%)', format('SELECT * FROM rds_tasks WHERE create_time >= %L', :'t'), NULL),
  ('create_time in a 6-hour window', format('SELECT * FROM rds_tasks WHERE create_time BETWEEN %L AND %L::timestamptz + interval ''6 hours''', :'t', :'t'), NULL),
  ('status = const AND 1-day window', format('SELECT * FROM rds_tasks WHERE status = ''Failed'' AND create_time BETWEEN %L AND %L::timestamptz + interval ''1 day''', :'t', :'t'), NULL),
  ('join with 5 inventory rows', 'SELECT * FROM inventory i JOIN rds_tasks t USING (instance_id)', NULL),
  ('LIMIT 10', 'SELECT * FROM rds_tasks LIMIT 10', 1),
  ('LIMIT 120', 'SELECT * FROM rds_tasks LIMIT 120', 3),
  ('OFFSET 5000 LIMIT 10', 'SELECT * FROM rds_tasks OFFSET 5000 LIMIT 10', 101),
  ('count(*)', 'SELECT count(*) FROM rds_tasks', NULL),
  ('count(*) WHERE status IN (2)', 'SELECT count(*) FROM rds_tasks WHERE status IN (''Failed'', ''Running'')', NULL),
  ('contradiction', 'SELECT * FROM rds_tasks WHERE status = ''Failed'' AND status = ANY (ARRAY[''Running''])', NULL),
  ('ORDER BY create_time LIMIT 5 (not pushable)', 'SELECT * FROM rds_tasks ORDER BY create_time LIMIT 5', NULL);
\pset footer off
SELECT shape AS "query shape", coalesce(before, :full_scan) AS "requests before",
       requests(query) AS "requests now"
  FROM shapes;
