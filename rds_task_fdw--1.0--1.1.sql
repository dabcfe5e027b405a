/* rds_task_fdw--1.0--1.1.sql: from 1.0 to 1.1 */

\echo Use "ALTER EXTENSION rds_task_fdw UPDATE TO '1.1'" to load this file. \quit

-- One partitioned table over several servers (regions, projects): a foreign
-- table partition per server, keyed by project_id or region, so that a
-- condition on the key prunes servers and the others are read at the same
-- time (asynchronous Append).
CREATE FUNCTION rds_task_fdw_create_partitioned(
    table_name text,
    servers name[],
    partition_key text DEFAULT 'project_id',
    schema_name name DEFAULT current_schema())
RETURNS SETOF regclass
LANGUAGE plpgsql
AS $$
DECLARE
  srv name;
  opts text[];
  key_value text;
  endpoint text;
  part text;
BEGIN
  IF partition_key NOT IN ('project_id', 'region') THEN
    RAISE EXCEPTION 'invalid partition key "%"', partition_key
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Partition by project_id or region.';
  END IF;
  IF servers IS NULL OR cardinality(servers) = 0 THEN
    RAISE EXCEPTION 'no servers given' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  EXECUTE format(
    'CREATE TABLE %I.%I (
       project_id text, region text,
       id text, name text, instance_id text, instance_name text, instance_status text,
       order_id text, process integer, fail_reason text,
       create_time timestamptz, end_time timestamptz, status text
     ) PARTITION BY LIST (%I)', schema_name, table_name, partition_key);
  RETURN NEXT format('%I.%I', schema_name, table_name)::regclass;

  FOREACH srv IN ARRAY servers LOOP
    SELECT s.srvoptions INTO opts
      FROM pg_catalog.pg_foreign_server s
      JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
     WHERE s.srvname = srv AND w.fdwname = 'rds_task_fdw';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'server "%" does not exist or is not an rds_task_fdw server', srv
        USING ERRCODE = 'undefined_object';
    END IF;
    SELECT split_part(o, '=', 2) INTO key_value
      FROM unnest(opts) o WHERE split_part(o, '=', 1) = partition_key;
    IF key_value IS NULL AND partition_key = 'region' THEN
      -- the default region: the endpoint host's second label
      SELECT substr(o, length('endpoint=') + 1) INTO endpoint
        FROM unnest(opts) o WHERE o LIKE 'endpoint=%';
      key_value := substring(endpoint FROM '^https?://[^./:]+\.([^./:]+)\.');
    END IF;
    IF key_value IS NULL THEN
      RAISE EXCEPTION 'server "%" has no %', srv, partition_key
        USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Set it with ALTER SERVER ... OPTIONS (ADD region ''...'').';
    END IF;
    part := table_name || '_' || srv;
    EXECUTE format('CREATE FOREIGN TABLE %I.%I PARTITION OF %I.%I FOR VALUES IN (%L) SERVER %I',
                   schema_name, part, schema_name, table_name, key_value, srv);
    RETURN NEXT format('%I.%I', schema_name, part)::regclass;
  END LOOP;
END
$$;

COMMENT ON FUNCTION rds_task_fdw_create_partitioned(text, name[], text, name)
  IS 'create a table partitioned by project_id or region with one foreign table per rds_task_fdw server';
