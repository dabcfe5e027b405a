-- ===================================================================
-- auth: a ready token, IAM password auth with renewal, AK/SK signing
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\getenv test_data RDS_TEST_DATA
\! test/simctl reset '{"tasks": 120}'

CREATE SERVER au FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef', max_retries '0',
           parallel_requests '1');
CREATE FOREIGN TABLE au_tasks (id text, status text) SERVER au;

-- ===================================================================
-- auth_token
-- ===================================================================
CREATE USER MAPPING FOR CURRENT_USER SERVER au OPTIONS (auth_token 'test-token-0001');
EXPLAIN (COSTS OFF) SELECT id FROM au_tasks;  -- the planner's size estimate, remembered
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
\! test/simctl log
-- a bad token: the API's error, and never the token itself
\set VERBOSITY terse
ALTER USER MAPPING FOR CURRENT_USER SERVER au OPTIONS (SET auth_token 'no-such-token-XYZZY');
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
\set VERBOSITY default
\! test/simctl log

-- ===================================================================
-- IAM password authentication
-- ===================================================================
DROP USER MAPPING FOR CURRENT_USER SERVER au;
CREATE USER MAPPING FOR CURRENT_USER SERVER au
  OPTIONS (user_name 'alice', password 'alice-S3cret-pw', domain_name 'OTC-DOMAIN-1');
-- the token is fetched once, then reused by later statements
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
SELECT count(id) FROM au_tasks;
\! test/simctl rawlog
-- a token the API no longer accepts is renewed once and the request repeated
\! test/simctl revoke
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
\! test/simctl rawlog
-- a token close to its expires_at is renewed before use
\! test/simctl config '{"token_ttl": 2}'
ALTER USER MAPPING FOR CURRENT_USER SERVER au OPTIONS (SET domain_name 'OTC-DOMAIN-1');
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
SELECT pg_sleep(2.2);
SELECT count(id) FROM au_tasks;
\! test/simctl rawlog
\! test/simctl config '{"token_ttl": 86400}'
-- wrong password: IAM's message, and never the password
ALTER USER MAPPING FOR CURRENT_USER SERVER au OPTIONS (SET password 'Wrong-Pass-Word-42');
SELECT count(id) FROM au_tasks;
-- auth_url pointing nowhere useful
ALTER USER MAPPING FOR CURRENT_USER SERVER au OPTIONS (SET password 'alice-S3cret-pw');
ALTER SERVER au OPTIONS (ADD auth_url 'http://127.0.0.1:1/v3');
\set VERBOSITY terse
SELECT count(id) FROM au_tasks;
\set VERBOSITY default
ALTER SERVER au OPTIONS (DROP auth_url);
SELECT count(id) FROM au_tasks;

-- ===================================================================
-- AK/SK signing
-- ===================================================================
DROP USER MAPPING FOR CURRENT_USER SERVER au;
CREATE USER MAPPING FOR CURRENT_USER SERVER au
  OPTIONS (access_key 'AKTESTEXAMPLE000001', secret_key 'SKtestExampleSecretKey0000000000000001');
\! test/simctl clearlog
SELECT count(id) FROM au_tasks;
\! test/simctl log
-- temporary credentials carry their security token
ALTER USER MAPPING FOR CURRENT_USER SERVER au
  OPTIONS (SET access_key 'AKTEMPEXAMPLE000002', SET secret_key 'SKtempExampleSecretKey0000000000000002',
           ADD security_token 'temp-security-token-0002');
SELECT count(id) FROM au_tasks;
-- a wrong secret key: 401, and not retried (keys lock after repeated failures)
ALTER SERVER au OPTIONS (SET max_retries '3');
ALTER USER MAPPING FOR CURRENT_USER SERVER au
  OPTIONS (SET access_key 'AKTESTEXAMPLE000001', SET secret_key 'Wrong-Secret-Key-0000000000000000000000', DROP security_token);
\! test/simctl clearlog
\set VERBOSITY terse
SELECT count(id) FROM au_tasks;
\set VERBOSITY default
\! test/simctl log

-- the signer reproduces every published and SDK-computed vector, with the
-- keys of the caller's user mapping (no key in the statement)
CREATE SERVER au_sign FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1');
CREATE USER MAPPING FOR CURRENT_USER SERVER au_sign OPTIONS (auth_token 't');
SELECT * FROM rds_task_fdw_sign('au_sign', 'GET', 'https://h/p', ARRAY[]::text[]);
ALTER USER MAPPING FOR CURRENT_USER SERVER au_sign
  OPTIONS (DROP auth_token, ADD access_key 'x', ADD secret_key 'y');
CREATE FUNCTION pg_temp.check_vector(v jsonb, OUT canonical_request bool,
                                     OUT string_to_sign bool, OUT "authorization" bool)
LANGUAGE plpgsql AS $$
DECLARE
  s record;
BEGIN
  EXECUTE format('ALTER USER MAPPING FOR CURRENT_USER SERVER au_sign OPTIONS (SET access_key %L, SET secret_key %L)',
                 v->>'access_key', v->>'secret_key');
  SELECT * INTO s
    FROM rds_task_fdw_sign('au_sign', v->>'method', v->>'url',
                           ARRAY(SELECT key || ': ' || value FROM jsonb_each_text(v->'headers')));
  canonical_request := s.canonical_request = v->>'canonical_request';
  string_to_sign := s.string_to_sign = v->>'string_to_sign';
  "authorization" := s."authorization" = v->>'authorization';
END
$$;
SELECT v->>'name' AS vector, c.*
  FROM jsonb_array_elements(pg_read_file(:'test_data' || '/aksk_vectors.json')::jsonb) v,
       LATERAL pg_temp.check_vector(v) c;
-- the 1.1 form, with the secret key as an argument, is gone
SELECT * FROM rds_task_fdw_sign('GET', 'https://h/p', ARRAY[]::text[], 'ak', 'sk');
DROP SERVER au_sign CASCADE;

DROP SERVER au CASCADE;
