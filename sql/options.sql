-- ===================================================================
-- options: every option is validated when it is set
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP

-- the version function names all three components
SELECT rds_task_fdw_version() ~ '^rds_task_fdw 1\.2\.0, libcurl [0-9.]+ \([^)]+\), json-c [0-9.]+$' AS version_ok;

-- the wrapper takes no options, and PUBLIC has no USAGE on it
CREATE ROLE rds_opt_user LOGIN;
SELECT has_foreign_data_wrapper_privilege('rds_opt_user', 'rds_task_fdw', 'USAGE') AS public_usage;
ALTER FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com');

-- ===================================================================
-- servers
-- ===================================================================
-- required options
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw;
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com');
-- unknown option: the hint lists the valid ones
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', endpont 'x');
-- secrets are accepted only in user mappings
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', password 'hunter2');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', auth_token 'tok');
-- endpoint: https, or http only to a loopback host; no credentials, query or fragment
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'http://rds.eu-de.otc.t-systems.com', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'ftp://rds.eu-de.otc.t-systems.com', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://alice:pw@rds.eu-de.otc.t-systems.com', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/?x=1', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com:99999', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'http://10.0.0.1', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', auth_url 'http://iam.example.com/v3', project_id 'p1');
-- project_id goes into the path: no slashes or query characters
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id '../admin?x=');
-- integer options and their ranges
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', page_size '51');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', page_size '0');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', connect_timeout 'ten');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', max_retries '-1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', parallel_requests '0');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', cache_ttl '1e3');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', ca_file 'relative/ca.pem');
-- table-only options are refused on a server
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', resource 'tasks');

-- a valid server, with every server option
CREATE SERVER s_ok FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/', project_id '54623db08b174c858ba779d2aa7923a3',
           region 'eu-de', auth_url 'https://iam.eu-de.otc.t-systems.com/v3', ca_file '/etc/ssl/certs/ca-certificates.crt',
           connect_timeout '5', request_timeout '30', max_retries '0', parallel_requests '8',
           page_size '50', cache_ttl '0');
-- loopback http is fine (the simulator), by name or address, IPv4 or IPv6
CREATE SERVER s_loop1 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://localhost:8080', project_id 'p1');
CREATE SERVER s_loop2 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://127.0.0.2:8080', project_id 'p1');
CREATE SERVER s_loop3 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://[::1]:8080', project_id 'p1');
-- ALTER is validated on the resulting list
ALTER SERVER s_ok OPTIONS (DROP endpoint);
ALTER SERVER s_ok OPTIONS (SET page_size '100');
ALTER SERVER s_ok OPTIONS (SET page_size '10');

-- ca_file is superuser-only
GRANT USAGE ON FOREIGN DATA WRAPPER rds_task_fdw TO rds_opt_user;
SET ROLE rds_opt_user;
CREATE SERVER s_user FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', ca_file '/tmp/evil.pem');
CREATE SERVER s_user FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1');
RESET ROLE;

-- ===================================================================
-- user mappings: exactly one way to authenticate
-- ===================================================================
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok;
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (auth_token 't', user_name 'alice', password 'p', domain_name 'd');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (user_name 'alice', password 'p');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (access_key 'AK');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (security_token 'st');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (auth_token '');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (auth_token 't', page_size '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (token 't');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (auth_token 't');
CREATE USER MAPPING FOR rds_opt_user SERVER s_ok OPTIONS (user_name 'bob', password 'pw', domain_name 'dom');
GRANT USAGE ON FOREIGN SERVER s_ok TO rds_opt_user;
CREATE USER MAPPING FOR public SERVER s_loop1 OPTIONS (access_key 'AK', secret_key 'SK', security_token 'ST');
ALTER USER MAPPING FOR rds_opt_user SERVER s_ok OPTIONS (ADD auth_token 'x');
-- a user sees the options of its own mapping, not those of others
SET ROLE rds_opt_user;
SELECT srvname, usename, umoptions FROM pg_user_mappings WHERE srvname = 's_ok' ORDER BY usename;
RESET ROLE;

-- ===================================================================
-- foreign tables and columns
-- ===================================================================
CREATE FOREIGN TABLE ft_bad1 (id text) SERVER s_ok OPTIONS (resource 'jobs');
CREATE FOREIGN TABLE ft_bad2 (id text) SERVER s_ok OPTIONS (page_size '500');
CREATE FOREIGN TABLE ft_bad3 (id text) SERVER s_ok OPTIONS (endpoint 'https://rds.eu-nl.otc.t-systems.com');
CREATE FOREIGN TABLE ft_bad4 (id text OPTIONS (column_name '')) SERVER s_ok;
CREATE FOREIGN TABLE ft_bad5 (id text OPTIONS (name 'id')) SERVER s_ok;
CREATE FOREIGN TABLE ft_ok (task_id text OPTIONS (column_name 'id'), status text)
  SERVER s_ok OPTIONS (resource 'tasks', page_size '20', parallel_requests '2', cache_ttl '0');
ALTER FOREIGN TABLE ft_ok OPTIONS (SET page_size '0');

-- ===================================================================
-- clean up
-- ===================================================================
DROP SERVER s_ok, s_loop1, s_loop2, s_loop3, s_user CASCADE;
REVOKE USAGE ON FOREIGN DATA WRAPPER rds_task_fdw FROM rds_opt_user;
DROP ROLE rds_opt_user;
