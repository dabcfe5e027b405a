-- ===================================================================
-- import: IMPORT FOREIGN SCHEMA creates rds_tasks and rds_task_actions
-- ===================================================================
\getenv sim_http RDS_SIM_HTTP
CREATE SERVER imp FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'sim_http', project_id '0123456789abcdef0123456789abcdef');

-- no user mapping is needed: import does not talk to the API
CREATE SCHEMA imp_all;
IMPORT FOREIGN SCHEMA otc FROM SERVER imp INTO imp_all;
\det+ imp_all.*
\d imp_all.rds_tasks
\d imp_all.rds_task_actions

-- any remote schema name, LIMIT TO and EXCEPT
CREATE SCHEMA imp_limit;
IMPORT FOREIGN SCHEMA "Whatever Name" LIMIT TO (rds_tasks) FROM SERVER imp INTO imp_limit;
\det imp_limit.*
CREATE SCHEMA imp_except;
IMPORT FOREIGN SCHEMA otc EXCEPT (rds_tasks) FROM SERVER imp INTO imp_except;
\det imp_except.*
CREATE SCHEMA imp_none;
IMPORT FOREIGN SCHEMA otc LIMIT TO (nothing_like_this) FROM SERVER imp INTO imp_none;
\det imp_none.*

-- importing over existing tables fails cleanly
IMPORT FOREIGN SCHEMA otc FROM SERVER imp INTO imp_all;

-- the imported tables work
CREATE USER MAPPING FOR CURRENT_USER SERVER imp OPTIONS (auth_token 'test-token-0001');
\! test/simctl reset '{"tasks": 60}'
SELECT count(id) FROM imp_all.rds_tasks;
SELECT count(*) = (SELECT count(DISTINCT name) FROM imp_all.rds_tasks) AS one_row_per_name
  FROM imp_except.rds_task_actions;

DROP SCHEMA imp_all, imp_limit, imp_except, imp_none CASCADE;
DROP SERVER imp CASCADE;
