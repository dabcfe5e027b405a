/*-------------------------------------------------------------------------
 *
 * rds_task_fdw.c
 *		  Foreign-data wrapper for the Open Telekom Cloud RDS task list
 *		  (GET /v3/{project_id}/tasklist): the handler with the callback
 *		  table, the version function, and IMPORT FOREIGN SCHEMA.
 *
 * Where the rest lives: planning and costing in planner.c; which
 * conditions are sent, and the request text, in deparse.c; the scan, async
 * Append and EXPLAIN in scan.c; column mapping and value conversion in
 * convert.c; options in option.c; the API client (retries, errors) in
 * client.c over the transport in http.c, with authentication in auth.c;
 * the page decoder in decode.c; the connection cache and the response
 * cache in connection.c and cache.c; the per-server statistics and the
 * request log lines in stats.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "utils/builtins.h"

#include "rds_task_fdw.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(rds_task_fdw_handler);
PG_FUNCTION_INFO_V1(rds_task_fdw_version);

static List *rdsImportForeignSchema(ImportForeignSchemaStmt *stmt,
									Oid serverOid);

/*
 * The handler: the FdwRoutine of rds_task_fdw.
 */
Datum
rds_task_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = rdsGetForeignRelSize;
	routine->GetForeignPaths = rdsGetForeignPaths;
	routine->GetForeignPlan = rdsGetForeignPlan;
	routine->GetForeignUpperPaths = rdsGetForeignUpperPaths;
	routine->BeginForeignScan = rdsBeginForeignScan;
	routine->IterateForeignScan = rdsIterateForeignScan;
	routine->ReScanForeignScan = rdsReScanForeignScan;
	routine->EndForeignScan = rdsEndForeignScan;
	routine->ExplainForeignScan = rdsExplainForeignScan;
	routine->ImportForeignSchema = rdsImportForeignSchema;
	routine->AnalyzeForeignTable = rdsAnalyzeForeignTable;
	routine->IsForeignPathAsyncCapable = rdsIsForeignPathAsyncCapable;
	routine->ForeignAsyncRequest = rdsForeignAsyncRequest;
	routine->ForeignAsyncConfigureWait = rdsForeignAsyncConfigureWait;
	routine->ForeignAsyncNotify = rdsForeignAsyncNotify;

	PG_RETURN_POINTER(routine);
}

/*
 * rds_task_fdw_version(): this extension's, libcurl's and json-c's versions.
 */
Datum
rds_task_fdw_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("rds_task_fdw %s, libcurl %s, json-c %s",
											  RDS_TASK_FDW_VERSION,
											  rds_curl_version(),
											  rds_json_c_version())));
}


/* ----------------------------------------------------------------
 *		IMPORT FOREIGN SCHEMA
 * ----------------------------------------------------------------
 */

/*
 * rdsImportForeignSchema
 *		The two tables a server offers, whatever the remote schema named:
 *		rds_tasks (a column per task field, rds_task_fields) and
 *		rds_task_actions; LIMIT TO / EXCEPT are applied by PostgreSQL.
 */
static List *
rdsImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	const char *srv = quote_identifier(server->servername);
	List	   *commands = NIL;
	StringInfoData tasks;
	const RdsTaskField *f;

	initStringInfo(&tasks);
	appendStringInfoString(&tasks, "CREATE FOREIGN TABLE rds_tasks (");
	for (f = rds_task_fields; f->name; f++)
		appendStringInfo(&tasks, "%s\n  %s %s", f == rds_task_fields ? "" : ",",
						 f->name, f->sqltype);
	appendStringInfo(&tasks, "\n) SERVER %s", srv);
	commands = lappend(commands, tasks.data);
	commands = lappend(commands,
					   psprintf("CREATE FOREIGN TABLE rds_task_actions (name text) "
								"SERVER %s OPTIONS (resource 'actions')", srv));
	return commands;
}

