/* rds_task_fdw--1.0.sql: objects of rds_task_fdw 1.0 */

\echo Use "CREATE EXTENSION rds_task_fdw" to load this file. \quit

CREATE FUNCTION rds_task_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION rds_task_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER rds_task_fdw
  HANDLER rds_task_fdw_handler
  VALIDATOR rds_task_fdw_validator;

-- Only those granted USAGE explicitly may create servers.
REVOKE ALL ON FOREIGN DATA WRAPPER rds_task_fdw FROM PUBLIC;

CREATE FUNCTION rds_task_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;

COMMENT ON FUNCTION rds_task_fdw_version()
  IS 'versions of rds_task_fdw, libcurl and json-c';

CREATE FUNCTION rds_task_fdw_cache_clear()
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION rds_task_fdw_cache_clear()
  IS 'drop the responses this backend cached (cache_ttl); returns how many';

-- AK/SK signing of a request, as the FDW does it; for tests and debugging.
CREATE FUNCTION rds_task_fdw_sign(method text, url text, headers text[],
                                  access_key text, secret_key text,
                                  OUT canonical_request text,
                                  OUT string_to_sign text,
                                  OUT authorization text)
RETURNS record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION rds_task_fdw_sign(text, text, text[], text, text) FROM PUBLIC;
