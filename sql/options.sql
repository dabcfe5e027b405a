-- ===================================================================
-- options: every option is validated when it is set
-- ===================================================================
\set VERBOSITY default
\getenv sim_http RDS_SIM_HTTP
\getenv sim_https RDS_SIM_HTTPS
\getenv sim_ca RDS_SIM_CA

-- the version function names all three components
SELECT rds_task_fdw_version() ~ '^rds_task_fdw 1\.4\.0, libcurl [0-9.]+ \([^)]+\), json-c [0-9.]+$' AS version_ok;

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
-- project_id goes into the path: no slashes or query characters, and no
-- "." or ".." segments (libcurl would collapse them, AK/SK would sign another path)
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id '../admin?x=');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id '..');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id '.');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p%2e%2e');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
-- the same for the endpoint's path prefix: only unreserved characters and "/"
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/v1/../admin', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/./', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/a%2F..', project_id 'p1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', auth_url 'https://iam.eu-de.otc.t-systems.com/v3/..', project_id 'p1');
-- control characters are refused in every value, secrets included, and the
-- message does not repeat the value
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id E'p1\r\nX-Injected: yes');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', region E'eu-de\x7f');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint E'https://rds.eu-de.otc.t-systems.com/\tx', project_id 'p1');
-- proxy: http(s)://host[:port], no credentials, no path, no other scheme
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', proxy 'socks5://proxy.example.com:1080');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', proxy 'http://u:pw@proxy.example.com:3128');
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', proxy 'http://proxy.example.com:3128/path');
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
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', max_concurrent_requests '1025');
-- max_concurrent_requests: per server for the whole cluster, 0 = unlimited
CREATE SERVER s_mcr FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', max_concurrent_requests '0');
ALTER SERVER s_mcr OPTIONS (SET max_concurrent_requests '8');
CREATE FOREIGN TABLE t_mcr (id text) SERVER s_mcr OPTIONS (max_concurrent_requests '2');
DROP SERVER s_mcr;
-- the shared cache's size: postgresql.conf (or ALTER SYSTEM) and a reload
SHOW rds_task_fdw.cache_size;
SET rds_task_fdw.cache_size = '1MB';
-- table-only options are refused on a server
CREATE SERVER s_bad FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', resource 'tasks');

-- a valid server, with every server option
CREATE SERVER s_ok FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com/', project_id '54623db08b174c858ba779d2aa7923a3',
           region 'eu-de', auth_url 'https://iam.eu-de.otc.t-systems.com/v3', ca_file '/etc/ssl/certs/ca-certificates.crt',
           connect_timeout '5', request_timeout '30', max_retries '0', parallel_requests '8',
           page_size '50', cache_ttl '0', proxy 'http://proxy.example.com:3128/');
-- loopback http is fine (the simulator), by name or address, IPv4 or IPv6
CREATE SERVER s_loop1 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://localhost:8080', project_id 'p1');
CREATE SERVER s_loop2 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://127.0.0.2:8080', project_id 'p1');
CREATE SERVER s_loop3 FOREIGN DATA WRAPPER rds_task_fdw OPTIONS (endpoint 'http://[::1]:8080', project_id 'p1');
-- ALTER is validated on the resulting list
ALTER SERVER s_ok OPTIONS (DROP endpoint);
ALTER SERVER s_ok OPTIONS (SET page_size '100');
ALTER SERVER s_ok OPTIONS (SET page_size '10');

-- ca_file and proxy are superuser-only
GRANT USAGE ON FOREIGN DATA WRAPPER rds_task_fdw TO rds_opt_user;
SET ROLE rds_opt_user;
CREATE SERVER s_user FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', ca_file '/tmp/evil.pem');
CREATE SERVER s_user FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1', proxy 'http://127.0.0.1:3128');
CREATE SERVER s_user FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1');
RESET ROLE;

-- ===================================================================
-- non-superusers: https, port 443, hosts in rds_task_fdw.allowed_hosts
-- ===================================================================
SHOW rds_task_fdw.allowed_hosts;
-- the setting is checked, and only a superuser may change it
SET rds_task_fdw.allowed_hosts = 'https://rds.example.com';
SET rds_task_fdw.allowed_hosts = 'a..example.com';
SET rds_task_fdw.allowed_hosts = 'rds.example.com:0';
SET rds_task_fdw.allowed_hosts = '*';
SET rds_task_fdw.allowed_hosts = 'rds.example.com:8443, *.Example.ORG  [::1]:443,192.0.2.1';
SHOW rds_task_fdw.allowed_hosts;
RESET rds_task_fdw.allowed_hosts;
SET ROLE rds_opt_user;
SET rds_task_fdw.allowed_hosts = '*.example.com';
-- refused: plain http (also to loopback), other hosts, IP literals, other ports
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'http://127.0.0.1:5432/x', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'http://localhost', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://127.0.0.1', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://[::1]', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://169.254.169.254/latest', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://internal.example.com', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com:8443', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com.evil.example', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://evil-otc.t-systems.com', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://otc.t-systems.com', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com.', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1',
           auth_url 'http://127.0.0.1:9999/v3');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id 'p1',
           auth_url 'https://iam.example.org/v3');
ALTER SERVER s_user OPTIONS (SET endpoint 'https://10.0.0.1');
ALTER SERVER s_user OPTIONS (ADD auth_url 'https://iam.eu-de.otc.t-systems.com:444/v3');
-- accepted: the clouds' API hosts, any case, the explicit standard port
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://RDS.EU-CH2.SC.OTC.T-SYSTEMS.COM:443', project_id 'p1',
           auth_url 'https://iam-pub.eu-ch2.sc.otc.t-systems.com/v3');
ALTER SERVER s_ssrf OPTIONS (SET endpoint 'https://rds.ap-southeast-1.myhuaweicloud.com');
ALTER SERVER s_ssrf OPTIONS (SET auth_url 'https://iam.myhuaweicloud.com/v3');
DROP SERVER s_ssrf;
RESET ROLE;
-- the superuser may list more hosts; IP literals match only as listed
SET rds_task_fdw.allowed_hosts = 'rds.example.com:8443, 192.0.2.1';
SET ROLE rds_opt_user;
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.example.com', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://192.0.2.2', project_id 'p1');
CREATE SERVER s_ssrf FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint 'https://rds.example.com:8443', project_id 'p1', auth_url 'https://192.0.2.1/v3');
DROP SERVER s_ssrf;
RESET ROLE;
RESET rds_task_fdw.allowed_hosts;
-- the refusal's hint is a recipe: its statements run as given (the file
-- then holds the new list; RESET undoes it before any reload)
LOAD 'rds_task_fdw';
ALTER SYSTEM SET rds_task_fdw.allowed_hosts = '*.otc.t-systems.com, *.myhuaweicloud.com, *.huaweicloud.com, rds.eu-de.otc.t-systems.com:8443';
SELECT setting FROM pg_file_settings WHERE name = 'rds_task_fdw.allowed_hosts';
ALTER SYSTEM RESET rds_task_fdw.allowed_hosts;
SELECT count(*) FROM pg_file_settings WHERE name = 'rds_task_fdw.allowed_hosts';

-- ===================================================================
-- a server a superuser made, handed over: its owner may change other
-- options but not choose ca_file, proxy, or a disallowed endpoint
-- ===================================================================
CREATE SERVER s_given FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef',
           ca_file '/etc/ssl/certs/ca-certificates.crt', proxy 'http://127.0.0.1:9', max_retries '0');
ALTER SERVER s_given OWNER TO rds_opt_user;
CREATE SCHEMA rds_opt_schema AUTHORIZATION rds_opt_user;
SET ROLE rds_opt_user;
ALTER SERVER s_given OPTIONS (SET max_retries '1', ADD page_size '10');
ALTER SERVER s_given OPTIONS (SET ca_file '/tmp/evil.pem');
ALTER SERVER s_given OPTIONS (SET proxy 'http://127.0.0.1:10');
ALTER SERVER s_given OPTIONS (SET endpoint 'http://127.0.0.1:1');
ALTER SERVER s_given OPTIONS (ADD auth_url 'http://127.0.0.1:2/v3');
-- the requests are checked too: table, IMPORT, whoever set the endpoint
CREATE USER MAPPING FOR rds_opt_user SERVER s_given OPTIONS (auth_token 'test-token-0001');
CREATE FOREIGN TABLE rds_opt_schema.ft_given (id text) SERVER s_given;
\! test/simctl clearlog
SELECT count(*) FROM rds_opt_schema.ft_given;
IMPORT FOREIGN SCHEMA otc LIMIT TO (rds_tasks) FROM SERVER s_given INTO rds_opt_schema;
SELECT count(*) FROM rds_opt_schema.rds_tasks WHERE status = 'Failed';
-- no request reached the simulator
\! test/simctl log
RESET ROLE;
-- a superuser's own mapping on the same server is not restricted
-- (the proxy is dropped first: it points nowhere)
ALTER SERVER s_given OPTIONS (DROP proxy);
CREATE USER MAPPING FOR CURRENT_USER SERVER s_given OPTIONS (auth_token 'test-token-0001');
SELECT count(*) AS superuser_count FROM rds_opt_schema.ft_given \gset
SELECT :superuser_count > 0 AS superuser_scans;
-- with https, a CA the superuser set and a host:port the superuser allowed,
-- the non-superuser owner scans
SELECT replace(:'sim_https', '127.0.0.1', 'localhost') AS sim_https_name,
       split_part(replace(:'sim_https', '127.0.0.1', 'localhost'), '//', 2) AS sim_https_hostport \gset
ALTER SERVER s_given OPTIONS (SET endpoint :'sim_https_name', SET ca_file :'sim_ca');
SET rds_task_fdw.allowed_hosts = :'sim_https_hostport';
SET ROLE rds_opt_user;
SELECT count(*) = :superuser_count AS owner_scans_the_same FROM rds_opt_schema.ft_given;
RESET ROLE;
-- ... but not by IP address, which the setting does not list (terse: the
-- hint shows the setting, with the simulator's port)
ALTER SERVER s_given OPTIONS (SET endpoint :'sim_https');
SET ROLE rds_opt_user;
\set VERBOSITY terse
SELECT count(*) FROM rds_opt_schema.ft_given;
\set VERBOSITY default
RESET ROLE;
RESET rds_task_fdw.allowed_hosts;
DROP SCHEMA rds_opt_schema CASCADE;
DROP SERVER s_given CASCADE;

-- ===================================================================
-- user mappings: at most one way to authenticate
-- ===================================================================
-- none is accepted (pg_dump writes mappings without options); a scan
-- through it says what to set
CREATE USER MAPPING FOR CURRENT_USER SERVER s_loop2;
CREATE FOREIGN TABLE ft_noauth (id text) SERVER s_loop2;
SELECT count(*) FROM ft_noauth;
DROP FOREIGN TABLE ft_noauth;
-- a secret with a control character: refused, and not repeated
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (auth_token E'tok\r\nX-Injected: yes');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_ok OPTIONS (user_name 'alice', password E'pw\x01', domain_name 'd');
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
CREATE FOREIGN TABLE ft_bad6 (id text OPTIONS (column_name E'id\n')) SERVER s_ok;
CREATE FOREIGN TABLE ft_bad7 (id text) SERVER s_ok OPTIONS (resource E'tasks\t');
CREATE FOREIGN TABLE ft_ok (task_id text OPTIONS (column_name 'id'), status text)
  SERVER s_ok OPTIONS (resource 'tasks', page_size '20', parallel_requests '2', cache_ttl '0');
ALTER FOREIGN TABLE ft_ok OPTIONS (SET page_size '0');

-- ===================================================================
-- clean up
-- ===================================================================
DROP SERVER s_ok, s_loop1, s_loop2, s_loop3, s_user CASCADE;
REVOKE USAGE ON FOREIGN DATA WRAPPER rds_task_fdw FROM rds_opt_user;
DROP ROLE rds_opt_user;
