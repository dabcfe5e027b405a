-- ===================================================================
-- timestamps: the API's timestamp format is read without timestamptz_in
-- (convert.c's fast path); every value must equal what timestamptz_in
-- makes of the same text (with "+00" when no offset is given), at the ends
-- of time, on leap days, with odd offsets, in several time zones, and for
-- each column type a timestamp can land in.  Text the fast path leaves to
-- timestamptz_in (hour 24, second 60, seven fraction digits, offsets of 15
-- hours) is in the mix too.
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\! test/simctl reset '{"tasks": 1500}'

CREATE SERVER tsv FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER tsv OPTIONS (auth_token 'test-token-0001');
CREATE SCHEMA tsv;
SET search_path = tsv, public;
SELECT set_config('rds_test.sim', :'sim_http', false) IS NOT NULL AS sim_set;

CREATE FOREIGN TABLE t (
  id text,
  create_time timestamptz,
  end_time timestamptz,
  end_tz2 timestamptz(2) OPTIONS (column_name 'end_time'),
  end_ts timestamp OPTIONS (column_name 'end_time'),
  end_ts0 timestamp(0) OPTIONS (column_name 'end_time'),
  end_date date OPTIONS (column_name 'end_time')
) SERVER tsv;

-- ===================================================================
-- the strings: fixed edge cases first, then 1,400 generated ones
-- ===================================================================
CREATE TABLE fixed (s text);
INSERT INTO fixed VALUES
  ('0001-01-01T00:00:00+0000'), ('0001-01-01T00:00:00+1400'), ('0001-01-01T00:00:00-1200'),
  ('9999-12-31T23:59:59+0000'), ('9999-12-31T23:59:59-1400'), ('9999-12-31T23:59:59.999999-1200'),
  ('2000-02-29T12:00:00+0000'), ('2024-02-29T23:59:59-0330'), ('1600-02-29T00:00:00+0545'),
  ('2400-02-29T06:30:00+05:45'), ('1900-02-28T23:59:59+0100'), ('2100-02-28T00:00:00Z'),
  ('2020-07-15T07:46:10+0545'), ('2020-07-15T07:46:10-0330'), ('2020-07-15T07:46:10+05:45'),
  ('2020-07-15T07:46:10-03:30'), ('2020-07-15T07:46:10+14'), ('2020-07-15T07:46:10-12'),
  ('2020-07-15T07:46:10+1459'), ('2020-07-15T07:46:10-0000'), ('2020-07-15 07:46:10+0800'),
  ('2020-07-15T07:46:10'), ('2020-07-15T07:46:10.5'), ('2020-07-15T07:46:10.123456+0800'),
  ('2020-07-15T07:46:10.1234565+0800'), ('2020-07-15T07:46:10.0000005Z'),
  ('2020-07-15T24:00:00+0000'), ('2016-12-31T23:59:60+0000'), ('2020-07-15T07:46:10+15'),
  ('2020-07-15T07:46:10+1500'), ('2020-07-15T07:46+0800'), ('2020-07-15'),
  ('1970-01-01T00:00:00+0000'), ('1969-12-31T23:59:59.999999+0000'),
  ('2038-01-19T03:14:08+0000'), ('1582-10-10T00:00:00+0000'), ('0099-06-15T12:00:00+0000');

SELECT setseed(0.22);
CREATE TABLE gen AS
WITH p AS (
  SELECT i,
         CASE WHEN i % 11 = 0 THEN (ARRAY[1, 2, 99, 100, 999, 1000, 1582, 1900, 1969, 1970,
                                          2000, 2038, 2100, 9998, 9999])[1 + (i / 11) % 15]
              ELSE 1 + floor(random() * 9999)::int END AS y,
         1 + floor(random() * 12)::int AS mo,
         random() AS dr,
         floor(random() * 24)::int AS h, floor(random() * 60)::int AS mi,
         floor(random() * 60)::int AS sec,
         (ARRAY['', '', '', '', '.5', '.25', '.123456', '.000001', '.999999', '.1234567', '.07'])
           [1 + floor(random() * 11)::int] AS frac,
         (ARRAY['+0800', '+0800', '+0000', 'Z', '', '+00', '+00:00', '-0000', '+0545', '-0330',
                '+05:45', '-03:30', '+14', '-12', '+1400', '-1200', '-0800', '+0930', '-0930',
                '+1345', '+0100', '-0100', '+1459', '-1459', '+15', '-1500'])
           [1 + floor(random() * 26)::int] AS off,
         CASE WHEN random() < 0.2 THEN ' ' ELSE 'T' END AS sep
    FROM generate_series(1, 1400) i),
d AS (
  SELECT p.*,
         CASE WHEN i % 13 = 0 THEN 2 ELSE mo END AS mo2,
         CASE WHEN i % 13 = 0 THEN (ARRAY[4, 400, 1600, 2000, 2024, 2400, 9996])[1 + (i / 13) % 7]
              ELSE y END AS y2
    FROM p)
SELECT i, format('%s-%s-%s%s%s:%s:%s%s%s',
                 lpad(y2::text, 4, '0'), lpad(mo2::text, 2, '0'),
                 lpad((CASE WHEN i % 13 = 0 THEN 29
                            ELSE 1 + floor(dr * extract(day FROM make_date(y2, mo2, 1)
                                                        + interval '1 month' - interval '1 day'))::int
                       END)::text, 2, '0'),
                 sep, lpad(h::text, 2, '0'), lpad(mi::text, 2, '0'), lpad(sec::text, 2, '0'),
                 frac, off) AS s
  FROM d;

CREATE TABLE strings AS
  SELECT row_number() OVER () - 1 AS idx, s
    FROM (SELECT s FROM fixed UNION ALL SELECT s FROM (SELECT s FROM gen ORDER BY i) g) a;
SELECT count(*) AS strings, count(DISTINCT s) > 1000 AS varied FROM strings;

-- every string into a task's end_time (create_time stays: it orders the list)
DO $$ BEGIN
  EXECUTE format('COPY (SELECT json_build_object(''edits'', json_agg(json_build_object(''index'', idx, ''set'', json_build_object(''end_time'', s)) ORDER BY idx)) FROM strings) TO PROGRAM %L',
                 'curl -sS -f -X POST -H ''Content-Type: application/json'' --data-binary @- '
                 || current_setting('rds_test.sim') || '/_sim/edit >/dev/null');
END $$;

-- what the simulator now holds, as text
CREATE TABLE sent (
  id text, name text, instance_id text, instance_name text, instance_status text,
  order_id text, process text, fail_reason text, create_time text, end_time text, status text);
DO $$ BEGIN
  EXECUTE format('COPY sent FROM PROGRAM %L WITH (FORMAT csv)',
                 'curl -sS -f ' || current_setting('rds_test.sim') || '/_sim/dataset?format=csv');
END $$;
SELECT count(*) AS tasks, count(*) FILTER (WHERE end_time IN (SELECT s FROM strings)) AS edited FROM sent;

-- timestamptz_in's reading: the API means UTC when no offset is given
CREATE FUNCTION api_ts(s text) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE WHEN s ~ '^\d{4}-\d\d-\d\d$' THEN s || ' 00:00:00+00'
               WHEN s ~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d*)?)?$' THEN s || '+00'
               ELSE s END)::timestamptz $$;

-- ===================================================================
-- the FDW's values against timestamptz_in's, in four zones
-- ===================================================================
CREATE FUNCTION compare() RETURNS TABLE (zone text, tasks bigint, same_timestamptz bigint,
                                         same_other_types bigint, same_create_time bigint)
LANGUAGE sql AS $$
  SELECT current_setting('TimeZone'), count(*),
         count(*) FILTER (WHERE t.end_time IS NOT DISTINCT FROM api_ts(s.end_time)),
         count(*) FILTER (WHERE t.end_tz2 IS NOT DISTINCT FROM api_ts(s.end_time)::timestamptz(2)
                            AND t.end_ts IS NOT DISTINCT FROM (api_ts(s.end_time) AT TIME ZONE 'UTC')
                            AND t.end_ts0 IS NOT DISTINCT FROM (api_ts(s.end_time) AT TIME ZONE 'UTC')::timestamp(0)
                            AND t.end_date IS NOT DISTINCT FROM (api_ts(s.end_time) AT TIME ZONE 'UTC')::date),
         count(*) FILTER (WHERE t.create_time = api_ts(s.create_time))
    FROM t JOIN sent s USING (id) $$;
SET TimeZone = 'UTC';
SELECT * FROM compare();
SET TimeZone = 'Asia/Kathmandu';
SELECT * FROM compare();
SET TimeZone = 'America/St_Johns';
SELECT * FROM compare();
SET TimeZone = 'Pacific/Kiritimati';
SELECT * FROM compare();

-- the fixed strings as the FDW reads them (UTC)
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SELECT s.end_time AS sent, t.end_time, t.end_ts0, t.end_date
  FROM t JOIN sent s USING (id) JOIN strings g ON g.s = s.end_time
 WHERE g.idx < (SELECT count(*) FROM fixed)
 ORDER BY g.idx;

-- ===================================================================
-- what timestamptz_in refuses is still refused, with the same words
-- ===================================================================
\! test/simctl edit '{"edits": [{"index": 0, "set": {"end_time": "2023-02-29T00:00:00+0000"}}]}'
SELECT count(end_time) FROM t;
\! test/simctl edit '{"edits": [{"index": 0, "set": {"end_time": "2023-02-28T00:00:00+0860"}}]}'
SELECT count(end_time) FROM t;
\! test/simctl edit '{"edits": [{"index": 0, "set": {"end_time": "2023-02-28T00:60:00+0800"}}]}'
SELECT count(end_time) FROM t;
RESET TimeZone;
RESET DateStyle;

DROP SCHEMA tsv CASCADE;
DROP SERVER tsv CASCADE;
RESET search_path;
