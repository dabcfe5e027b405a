-- ===================================================================
-- errors: HTTP statuses, API error bodies, broken responses, transport
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\getenv sim_https RDS_SIM_HTTPS
\getenv sim_ca RDS_SIM_CA
\getenv sim_other_ca RDS_SIM_OTHER_CA
\! test/simctl reset '{"tasks": 120}'

CREATE SERVER er FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER er OPTIONS (auth_token 'test-token-0001');
CREATE FOREIGN TABLE er_tasks (id text, status text) SERVER er;

-- SQLSTATE, message, detail, hint and the context line naming the foreign
-- server of a failing statement, with the parts that change from run to run
-- (request ids, milliseconds, ports, directories, the system's CA file) masked
CREATE FUNCTION show_error(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  m text;
  d text;
  h text;
  c text;
  st text;
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                          h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT,
                          st = RETURNED_SQLSTATE;
  c := (SELECT string_agg(l, E'\n') FROM regexp_split_to_table(c, E'\n') l
        WHERE l LIKE 'foreign server %');
  -- libcurl's own text (in DETAIL only) differs between its versions: the
  -- error number stays
  RETURN regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
                        st || ' ' || m || coalesce(E'\nDETAIL: ' || nullif(d, ''), '')
                        || coalesce(E'\nHINT: ' || nullif(h, ''), '')
                        || coalesce(E'\nCONTEXT: ' || c, ''),
                        'Request ID: [0-9a-f]+', 'Request ID: <id>', 'g'),
                        '[0-9]+ (ms|milliseconds)', 'N \1', 'g'),
                        'Transport: .* \(libcurl [^,]+, error ([0-9]+)\)', 'Transport: <libcurl text> (libcurl <version>, error \1)', 'g'),
                        '127\.0\.0\.1:[0-9]+', '127.0.0.1:<port>', 'g'),
                        'CA store \([^)]*\)', 'CA store (<system CA file>)', 'g'),
                        '"/[^"]*/([^/"]+)"', '"<dir>/\1"', 'g');
END $$;

-- plan once: the planner's size estimate (one limit=1 request) is remembered
SELECT count(id) FROM er_tasks;

-- ===================================================================
-- HTTP errors name status, error_code, error_msg, method and path
-- ===================================================================
-- an unknown project
ALTER SERVER er OPTIONS (SET project_id '99999999999999999999999999999999');
SELECT show_error('SELECT count(id) FROM er_tasks');
ALTER SERVER er OPTIONS (SET project_id '0123456789abcdef0123456789abcdef');
-- 400, 403, 500, 502 from the API
\! test/simctl fault '{"kind": "status", "status": 400, "error_code": "DBS.280001", "error_msg": "Invalid parameter."}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "status", "status": 403, "error_code": "DBS.200044", "error_msg": "Permission denied."}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "status", "status": 500, "error_code": "DBS.108000", "error_msg": "Internal server error."}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "status", "status": 502, "body": "<html>Bad Gateway</html>"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
-- the same error as the client sees it
\set VERBOSITY terse
\! test/simctl fault '{"kind": "status", "status": 500, "error_code": "DBS.108000", "error_msg": "Internal server error."}'
SELECT count(id) FROM er_tasks;
\set VERBOSITY default
-- an error on a later page fails the statement: never a short result
\! test/simctl fault '{"kind": "status", "status": 500, "error_code": "DBS.108000", "error_msg": "Internal server error.", "params": {"offset": "100"}}'
SELECT show_error('SELECT count(id) FROM er_tasks');
-- redirects are not followed
\! test/simctl fault '{"kind": "status", "status": 302, "body": "", "headers": {"Location": "http://127.0.0.1:1/elsewhere"}}'
SELECT show_error('SELECT count(id) FROM er_tasks');

-- ===================================================================
-- retries: 429/5xx are retried up to max_retries, honouring Retry-After
-- ===================================================================
ALTER SERVER er OPTIONS (SET max_retries '2');
\! test/simctl clearlog
\! test/simctl fault '{"kind": "status", "status": 503, "error_code": "APIGW.0613", "error_msg": "IAM unavailable", "times": 2}'
SELECT count(id) FROM er_tasks;
\! test/simctl log
\! test/simctl clearlog
\! test/simctl fault '{"kind": "status", "status": 429, "error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached", "retry_after": "1", "times": 3}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl log
-- 400 is never retried
\! test/simctl clearlog
\! test/simctl fault '{"kind": "status", "status": 400, "error_code": "DBS.280001", "error_msg": "Invalid parameter."}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl log
ALTER SERVER er OPTIONS (SET max_retries '0');

-- ===================================================================
-- broken bodies: a clear error, no garbage rows
-- ===================================================================
\! test/simctl fault '{"kind": "malformed"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "html"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "wrong_types", "variant": "tasks_object"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "wrong_types", "variant": "tasks_missing"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "wrong_types", "variant": "root_array"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "wrong_types", "variant": "fields_numbers"}'
SELECT show_error('SELECT * FROM er_tasks');
-- a numeric string for total_count is accepted
\! test/simctl fault '{"kind": "wrong_types", "variant": "total_count_string"}'
SELECT count(id) FROM er_tasks;
\! test/simctl fault '{"kind": "total_count", "value": -5}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "total_count", "value": 10}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "deep", "depth": 100000}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "invalid_utf8"}'
SELECT show_error('SELECT * FROM er_tasks');
\! test/simctl fault '{"kind": "big", "size": 10000000}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "truncate"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
\! test/simctl fault '{"kind": "drop"}'
SELECT show_error('SELECT count(id) FROM er_tasks');
-- after all that, the same backend and connection still work
SELECT count(id) FROM er_tasks;

-- ===================================================================
-- transport: connection refused, timeouts
-- ===================================================================
ALTER SERVER er OPTIONS (SET endpoint 'http://127.0.0.1:1');
SELECT show_error('SELECT count(id) FROM er_tasks');
ALTER SERVER er OPTIONS (SET endpoint :'sim_http', ADD request_timeout '1');
\! test/simctl fault '{"kind": "hang", "seconds": 5}'
SELECT show_error('SELECT count(id) FROM er_tasks');
ALTER SERVER er OPTIONS (DROP request_timeout);
SELECT count(id) FROM er_tasks;

-- ===================================================================
-- TLS is always verified
-- ===================================================================
ALTER SERVER er OPTIONS (SET endpoint :'sim_https');
SELECT show_error('SELECT count(id) FROM er_tasks');
ALTER SERVER er OPTIONS (ADD ca_file :'sim_other_ca');
SELECT show_error('SELECT count(id) FROM er_tasks');
ALTER SERVER er OPTIONS (SET ca_file :'sim_ca');
SELECT count(id) FROM er_tasks;
SELECT replace(:'sim_https', '127.0.0.1', 'localhost') AS sim_https_name \gset
ALTER SERVER er OPTIONS (SET endpoint :'sim_https_name');
SELECT count(id) FROM er_tasks;

\! test/simctl reset
DROP FUNCTION show_error(text);
DROP SERVER er CASCADE;
