/* rds_task_fdw--1.1--1.2.sql: from 1.1 to 1.2 */

\echo Use "ALTER EXTENSION rds_task_fdw UPDATE TO '1.2'" to load this file. \quit

-- The signer took the secret key as an argument, which put it into
-- pg_stat_activity and the statement log.  It now takes the keys from the
-- caller's user mapping for a server.
DROP FUNCTION rds_task_fdw_sign(text, text, text[], text, text);

CREATE FUNCTION rds_task_fdw_sign(server name, method text, url text,
                                  headers text[],
                                  OUT canonical_request text,
                                  OUT string_to_sign text,
                                  OUT authorization text)
RETURNS record
AS 'MODULE_PATHNAME', 'rds_task_fdw_sign_server'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION rds_task_fdw_sign(name, text, text, text[]) FROM PUBLIC;

COMMENT ON FUNCTION rds_task_fdw_sign(name, text, text, text[])
  IS 'AK/SK-sign a request with the access_key and secret_key of the caller''s user mapping for the server (tests, debugging)';
