/* rds_task_fdw--1.3--1.4.sql: from 1.3 to 1.4 */

\echo Use "ALTER EXTENSION rds_task_fdw UPDATE TO '1.4'" to load this file. \quit

-- The shared cache deletes the entries no request can be served any more
-- (see the README, "The shared cache").  A backend of another database
-- cannot see this database's servers and user mappings: the commands that
-- drop or alter them here (DROP EXTENSION ... CASCADE too) ask for a sweep
-- when their transaction commits.
CREATE FUNCTION rds_task_fdw_forget_dropped()
RETURNS event_trigger
AS 'MODULE_PATHNAME'
LANGUAGE C;

COMMENT ON FUNCTION rds_task_fdw_forget_dropped()
  IS 'event trigger: the shared cache deletes the entries of dropped or altered servers and user mappings when the command commits';

CREATE EVENT TRIGGER rds_task_fdw_forget_dropped ON ddl_command_start
  WHEN TAG IN ('DROP EXTENSION', 'DROP FOREIGN DATA WRAPPER', 'DROP SERVER',
               'DROP USER MAPPING', 'DROP OWNED', 'DROP SCHEMA',
               'ALTER SERVER', 'ALTER USER MAPPING')
  EXECUTE FUNCTION rds_task_fdw_forget_dropped();
