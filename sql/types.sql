-- ===================================================================
-- types: values through each column type's input function; "" is NULL
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 400}'

CREATE SERVER typ FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER typ OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA typ;
SET search_path = typ, public;

CREATE TABLE sim_tasks (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process integer, fail_reason text,
  create_time timestamptz, end_time timestamptz, status text);
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;
DO $$ BEGIN
  EXECUTE format('COPY sim_tasks FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;

CREATE FOREIGN TABLE typed (
  id text,
  name varchar(64),
  process integer,
  process_num numeric(5,1) OPTIONS (column_name 'process'),
  process_small smallint OPTIONS (column_name 'process'),
  create_time timestamptz,
  create_ts timestamp OPTIONS (column_name 'create_time'),
  create_ts0 timestamp(0) OPTIONS (column_name 'create_time'),
  create_date date OPTIONS (column_name 'create_time'),
  end_time timestamptz,
  instance_name text,
  instance_status varchar,
  order_id text,
  fail_reason text,
  status text
) SERVER typ;

-- every value equals the simulator's; timestamp and date are UTC whatever TimeZone says
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t.name IS NOT DISTINCT FROM s.name
         AND t.process IS NOT DISTINCT FROM s.process
         AND t.process_num IS NOT DISTINCT FROM s.process::numeric
         AND t.process_small IS NOT DISTINCT FROM s.process::smallint
         AND t.create_time = s.create_time
         AND t.create_ts = (s.create_time AT TIME ZONE 'UTC')
         AND t.create_ts0 = (s.create_time AT TIME ZONE 'UTC')
         AND t.create_date = (s.create_time AT TIME ZONE 'UTC')::date
         AND t.end_time IS NOT DISTINCT FROM s.end_time
         AND t.instance_name IS NOT DISTINCT FROM s.instance_name
         AND t.instance_status IS NOT DISTINCT FROM s.instance_status
         AND t.order_id IS NOT DISTINCT FROM s.order_id
         AND t.fail_reason IS NOT DISTINCT FROM s.fail_reason
         AND t.status IS NOT DISTINCT FROM s.status) AS equal
  FROM typed t JOIN sim_tasks s USING (id);
RESET TimeZone;

-- "" and missing fields are NULL for every type, and the data has both
SELECT count(*) FILTER (WHERE process IS NULL) = (SELECT count(*) FROM sim_tasks WHERE process IS NULL) AS process_nulls,
       count(*) FILTER (WHERE process_num IS NULL) = count(*) FILTER (WHERE process IS NULL) AS numeric_nulls,
       count(*) FILTER (WHERE order_id IS NULL) > 0 AS empty_order_ids,
       count(*) FILTER (WHERE fail_reason IS NULL AND status = 'Failed') > 0 AS failed_without_reason,
       count(*) FILTER (WHERE end_time IS NULL) = (SELECT count(*) FROM sim_tasks WHERE end_time IS NULL) AS end_time_nulls
  FROM typed;
-- the realistic values are there: statuses, instance states with spaces, progress
SELECT status, count(*) > 0 AS present FROM typed GROUP BY status ORDER BY status;
SELECT count(DISTINCT instance_status) FILTER (WHERE instance_status LIKE '% %') > 0 AS spaced_states,
       bool_and(process BETWEEN 0 AND 100) AS process_in_range,
       bool_and(process IS NULL) FILTER (WHERE status <> 'Running') AS done_tasks_have_no_progress,
       count(*) FILTER (WHERE instance_name ~ '[^\x01-\x7f]') > 0 AS non_ascii_names
  FROM typed;
SELECT min(create_time) >= '2025-12-16 12:00:00+00' AND max(create_time) <= '2026-01-15 12:00:00+00' AS thirty_days
  FROM typed;

-- non-ASCII text arrives byte for byte (json-c 0.18's strict mode refused
-- every such byte; the extension parses around it)
SELECT DISTINCT instance_name COLLATE "C" AS instance_name FROM typed
 WHERE octet_length(instance_name) > char_length(instance_name) ORDER BY 1;
SELECT (SELECT array_agg(instance_name ORDER BY id) FROM typed) =
       (SELECT array_agg(instance_name ORDER BY id) FROM sim_tasks) AS names_as_sent;

-- a timestamp without an offset is UTC, as the API means, whatever the
-- session's TimeZone (a date alone is its UTC midnight)
SET TimeZone = 'America/New_York';
\! test/simctl fault '{"kind": "wrong_types", "variant": "fields_numbers", "fields": {"create_time": "2020-07-15T07:46:10", "end_time": "2020-07-15"}}'
SELECT create_time, create_ts, create_date, end_time FROM typed LIMIT 1;
\! test/simctl fault '{"kind": "wrong_types", "variant": "fields_numbers", "fields": {"create_time": "2020-07-15 07:46:10.25", "end_time": "2020-07-15T07:46:10Z"}}'
SELECT create_time, create_ts, create_date, end_time FROM typed LIMIT 1;
RESET TimeZone;

-- a value the column type does not accept is an error that names column and task
CREATE FOREIGN TABLE typed_bad (id text, status integer) SERVER typ;
SELECT * FROM typed_bad;
CREATE FOREIGN TABLE typed_bad2 (id text, instance_status varchar(3)) SERVER typ;
SELECT * FROM typed_bad2;
-- and the session goes on
SELECT count(id) FROM typed;

-- ===================================================================
-- a LATIN1 database: every column, raw included, in the database encoding
-- ===================================================================
SELECT instance_id AS latin1_instance FROM sim_tasks WHERE instance_name = 'rds-münchen-01' LIMIT 1 \gset
SELECT instance_id AS chinese_instance FROM sim_tasks WHERE instance_name = '数据库-生产-01' LIMIT 1 \gset
\set regress_db :DBNAME
CREATE DATABASE rds_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c rds_latin1
SET client_encoding = 'UTF8';
SET client_min_messages = warning;
CREATE EXTENSION rds_task_fdw;
RESET client_min_messages;
CREATE SERVER typ FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER typ OPTIONS (auth_token 'test-token-0001');
CREATE FOREIGN TABLE lat (id text, instance_id text, instance_name text, raw json,
                          rawb jsonb OPTIONS (column_name 'raw'))
  SERVER typ;
SELECT DISTINCT instance_name, raw->>'instance_name' AS raw_name, rawb->>'instance_name' AS rawb_name,
       convert_to(raw->>'instance_name', 'LATIN1') AS latin1_bytes
  FROM lat WHERE instance_id = :'latin1_instance';
-- what LATIN1 cannot hold is a clean error naming the column and task
SELECT count(raw) FROM lat WHERE instance_id = :'chinese_instance';
SELECT count(instance_name) FROM lat WHERE instance_id = :'chinese_instance';
\c :regress_db
DROP DATABASE rds_latin1;
SET search_path = typ, public;

DROP SCHEMA typ CASCADE;
DROP SERVER typ CASCADE;
RESET search_path;
