/*-------------------------------------------------------------------------
 *
 * rds_task_fdw.c
 *		  Foreign-data wrapper for the Open Telekom Cloud RDS task list
 *		  (GET /v3/{project_id}/tasklist): the handler, planning and costing,
 *		  the scan that pages through the list, EXPLAIN, and IMPORT FOREIGN
 *		  SCHEMA.
 *
 * The scan asks for pages of page_size tasks with offset/limit, keeps up to
 * parallel_requests of them in flight once the first page has told the
 * total_count, and turns each page into tuples before it decodes the next,
 * so memory is bounded by the pages in flight, not by the list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

PG_MODULE_MAGIC;

/* Planner estimates when nothing better is known. */
#define DEFAULT_ROW_ESTIMATE	1000.0
/* One HTTP exchange, in units of seq_page_cost: a remote round trip. */
#define REQUEST_COST			100.0

/* Length of the key of the duplicate filter; longer ids are not filtered. */
#define ID_KEY_SIZE				128

/* The fields of a task object, in the order of the imported table. */
static const char *const task_fields[] = {
	"id", "name", "instance_id", "instance_name", "instance_status",
	"order_id", "process", "fail_reason", "create_time", "end_time",
	"status", NULL
};

/*
 * Where a column's value comes from.
 */
typedef enum RdsColumnSource
{
	COL_NONE,					/* dropped or unused column: always NULL */
	COL_FIELD,					/* a task field (or the action name) */
	COL_RAW,					/* the whole task object */
	COL_PROJECT_ID,				/* the server's project_id */
	COL_REGION					/* the server's region */
} RdsColumnSource;

typedef struct RdsColumn
{
	RdsColumnSource source;
	const char *field;			/* task field name for COL_FIELD */
	const char *attname;
	Oid			typid;
	int32		typmod;
	FmgrInfo	input;
	Oid			ioparam;
	Datum		constval;		/* for COL_PROJECT_ID / COL_REGION */
	bool		constnull;
} RdsColumn;

/* One page request in flight. */
typedef struct RdsPending
{
	RdsRequest *req;
	int64		offset;
	char	   *desc;			/* "GET path?query" for messages */
} RdsPending;

/*
 * Execution state of a foreign scan.
 */
typedef struct RdsScanState
{
	RdsOptions *opts;
	RdsConn    *conn;
	char	   *path;			/* /v3/{project_id}/tasklist */
	char	   *filter_query;	/* pushed query parameters, "" if none */

	int			ncolumns;
	RdsColumn  *columns;

	/* paging of the current stream */
	int64		next_offset;	/* offset of the next page to request */
	int64		total_count;	/* last total_count seen, -1 unknown */
	bool		stream_done;	/* no more pages to request or read */
	RdsPending *pending;		/* ring of parallel_requests entries */
	int			pending_head;
	int			npending;

	/* the page being returned */
	RdsPage    *page;
	int			page_rows;
	int			page_row;
	int			action_row;		/* resource 'actions': next action */
	const char *page_desc;

	HTAB	   *seen;			/* ids (or action names) already returned */

	RdsHttpStats stats;

	MemoryContext request_cxt;	/* in-flight requests, reset on rescan */
	MemoryContext page_cxt;		/* body and json of the current page */
	MemoryContext row_cxt;		/* values of the current row */
} RdsScanState;

/* Error context while converting a value. */
typedef struct ConversionContext
{
	RdsScanState *state;
	RdsColumn  *column;
	const char *value;
} ConversionContext;

PG_FUNCTION_INFO_V1(rds_task_fdw_handler);
PG_FUNCTION_INFO_V1(rds_task_fdw_version);

static void rdsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static void rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
static ForeignScan *rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
									  Oid foreigntableid, ForeignPath *best_path,
									  List *tlist, List *scan_clauses,
									  Plan *outer_plan);
static void rdsBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *rdsIterateForeignScan(ForeignScanState *node);
static void rdsReScanForeignScan(ForeignScanState *node);
static void rdsEndForeignScan(ForeignScanState *node);
static void rdsExplainForeignScan(ForeignScanState *node, ExplainState *es);
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
	routine->BeginForeignScan = rdsBeginForeignScan;
	routine->IterateForeignScan = rdsIterateForeignScan;
	routine->ReScanForeignScan = rdsReScanForeignScan;
	routine->EndForeignScan = rdsEndForeignScan;
	routine->ExplainForeignScan = rdsExplainForeignScan;
	routine->ImportForeignSchema = rdsImportForeignSchema;

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
 *		Planning
 * ----------------------------------------------------------------
 */

static void
rdsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	baserel->rows = DEFAULT_ROW_ESTIMATE *
		clauselist_selectivity(root, baserel->baserestrictinfo, 0,
							   JOIN_INNER, NULL);
	baserel->tuples = DEFAULT_ROW_ESTIMATE;
}

static void
rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	double		pages = ceil(DEFAULT_ROW_ESTIMATE / RDS_MAX_PAGE_SIZE);
	Cost		startup_cost = REQUEST_COST;
	Cost		total_cost;

	total_cost = startup_cost + (pages - 1) * REQUEST_COST +
		baserel->tuples * cpu_tuple_cost * 10;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost, NIL,
									 NULL, NULL, NIL));
}

static ForeignScan *
rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	/* Nothing is pushed yet: every condition is checked locally. */
	scan_clauses = extract_actual_clauses(scan_clauses, false);

	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							NIL, NIL, NIL, NIL, outer_plan);
}

/* ----------------------------------------------------------------
 *		Columns
 * ----------------------------------------------------------------
 */

static bool
is_task_field(const char *name)
{
	const char *const *f;

	for (f = task_fields; *f; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

static char *
task_field_list(void)
{
	StringInfoData buf;
	const char *const *f;

	initStringInfo(&buf);
	for (f = task_fields; *f; f++)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", *f);
	return buf.data;
}

/*
 * Map every column of the foreign table to its source and input function.
 * A column that matches nothing is an ERROR listing what exists.
 */
static void
map_columns(RdsScanState *state, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	Oid			relid = RelationGetRelid(rel);
	int			i;

	state->ncolumns = tupdesc->natts;
	state->columns = palloc0(sizeof(RdsColumn) * tupdesc->natts);

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		RdsColumn  *col = &state->columns[i];
		const char *field;
		Oid			infunc;

		if (att->attisdropped)
			continue;

		field = rds_column_field_name(relid, att->attnum);
		col->attname = pstrdup(NameStr(att->attname));
		col->field = field;
		col->typid = att->atttypid;
		col->typmod = att->atttypmod;
		getTypeInputInfo(att->atttypid, &infunc, &col->ioparam);
		fmgr_info(infunc, &col->input);

		if (strcmp(field, "project_id") == 0 || strcmp(field, "region") == 0)
		{
			const char *v = (strcmp(field, "project_id") == 0) ?
				state->opts->project_id : state->opts->region;

			col->source = (field[0] == 'p') ? COL_PROJECT_ID : COL_REGION;
			col->constnull = (v == NULL);
			if (v)
				col->constval = InputFunctionCall(&col->input, (char *) v,
												  col->ioparam, col->typmod);
		}
		else if (state->opts->resource == RDS_RESOURCE_ACTIONS)
		{
			if (strcmp(field, "name") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
						 errmsg("column \"%s\" of foreign table \"%s\" matches no field of an action",
								col->attname, RelationGetRelationName(rel)),
						 errhint("A table with resource 'actions' has the fields: name, project_id, region.")));
			col->source = COL_FIELD;
		}
		else if (strcmp(field, "raw") == 0 &&
				 (att->atttypid == JSONOID || att->atttypid == JSONBOID))
			col->source = COL_RAW;
		else if (is_task_field(field))
			col->source = COL_FIELD;
		else
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
					 errmsg("column \"%s\" of foreign table \"%s\" matches no task field",
							col->attname, RelationGetRelationName(rel)),
					 errdetail("The task fields are: %s; also raw (json or jsonb), project_id and region.",
							   task_field_list()),
					 errhint("Rename the column or map it with the column option column_name.")));
	}
}

static void
conversion_error_callback(void *arg)
{
	ConversionContext *ctx = (ConversionContext *) arg;
	RdsScanState *state = ctx->state;
	const char *id = NULL;

	if (state->page && state->opts->resource == RDS_RESOURCE_TASKS &&
		state->page_row > 0)
		id = rds_page_task_field(state->page, state->page_row - 1, "id");
	if (id)
		errcontext("column \"%s\" (task field \"%s\") of task %s",
				   ctx->column->attname, ctx->column->field, id);
	else
		errcontext("column \"%s\" (task field \"%s\")",
				   ctx->column->attname, ctx->column->field);
}

/*
 * Convert one field value into a column's type.  Timestamps of the API carry
 * an offset; timestamp and date columns get the instant in UTC, the API's
 * own zone, whatever the session's TimeZone.
 */
static Datum
convert_value(RdsScanState *state, RdsColumn *col, const char *value)
{
	ConversionContext ctx;
	ErrorContextCallback errcb;
	Datum		result;
	char	   *converted;

	ctx.state = state;
	ctx.column = col;
	ctx.value = value;
	errcb.callback = conversion_error_callback;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/* The API speaks UTF-8; this also rejects invalid byte sequences. */
	converted = pg_any_to_server(value, strlen(value), PG_UTF8);

	if (col->typid == TIMESTAMPOID || col->typid == DATEOID)
	{
		TimestampTz ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																 CStringGetDatum(converted),
																 ObjectIdGetDatum(InvalidOid),
																 Int32GetDatum(-1)));

		/* a TimestampTz is UTC wall-clock time read as a Timestamp */
		result = TimestampGetDatum(ts);
		if (col->typid == DATEOID)
			result = DirectFunctionCall1(timestamp_date, result);
		else if (col->typmod >= 0)
			result = DirectFunctionCall2(timestamp_scale, result,
										 Int32GetDatum(col->typmod));
	}
	else
		result = InputFunctionCall(&col->input, converted, col->ioparam,
								   col->typmod);

	error_context_stack = errcb.previous;
	return result;
}

/* ----------------------------------------------------------------
 *		Paging
 * ----------------------------------------------------------------
 */

static int
page_limit(RdsScanState *state)
{
	return state->opts->page_size;
}

/* Send the request for the page at state->next_offset. */
static void
start_page_request(RdsScanState *state)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(state->request_cxt);
	StringInfoData query;
	RdsPending *p;
	int			slot;

	initStringInfo(&query);
	appendStringInfoString(&query, state->filter_query);
	rds_append_query_param(&query, "offset",
						   psprintf(INT64_FORMAT, state->next_offset));
	rds_append_query_param(&query, "limit",
						   psprintf("%d", page_limit(state)));

	slot = (state->pending_head + state->npending) % state->opts->parallel_requests;
	p = &state->pending[slot];
	p->offset = state->next_offset;
	p->desc = psprintf("GET %s?%s", state->path, query.data);
	p->req = rds_request_start(state->conn, state->path, query.data);
	state->npending++;
	state->next_offset += page_limit(state);

	MemoryContextSwitchTo(oldcxt);
}

/* Cancel every request in flight. */
static void
cancel_pending(RdsScanState *state)
{
	while (state->npending > 0)
	{
		RdsPending *p = &state->pending[state->pending_head];

		if (p->req)
			rds_request_cancel(p->req);
		p->req = NULL;
		state->pending_head = (state->pending_head + 1) % state->opts->parallel_requests;
		state->npending--;
	}
	state->pending_head = 0;
}

/*
 * Keep as many page requests in flight as allowed and useful: one until
 * total_count is known, then up to parallel_requests, never past the end.
 */
static void
fill_pipeline(RdsScanState *state)
{
	while (!state->stream_done &&
		   state->npending < state->opts->parallel_requests)
	{
		if (state->total_count < 0)
		{
			/* before the first page, or without a total_count: one at a time */
			if (state->npending > 0)
				break;
		}
		else if (state->next_offset >= state->total_count)
			break;
		start_page_request(state);
	}
}

/*
 * Read the next page of the list into state->page.  Returns false when the
 * list is exhausted.
 */
static bool
next_page(RdsScanState *state)
{
	RdsPending	pending;
	StringInfoData body;
	MemoryContext oldcxt;
	int			limit = page_limit(state);
	int			n;
	int64		total;

	state->page = NULL;
	state->page_rows = 0;
	state->page_row = 0;
	state->action_row = 0;
	MemoryContextReset(state->page_cxt);

	fill_pipeline(state);
	if (state->npending == 0)
		return false;

	pending = state->pending[state->pending_head];
	state->pending[state->pending_head].req = NULL;
	state->pending_head = (state->pending_head + 1) % state->opts->parallel_requests;
	state->npending--;

	oldcxt = MemoryContextSwitchTo(state->page_cxt);
	initStringInfo(&body);
	rds_request_finish(pending.req, &body, &state->stats);
	state->page_desc = pstrdup(pending.desc);
	state->page = rds_page_parse(body.data, body.len, state->page_desc);
	MemoryContextSwitchTo(oldcxt);

	n = rds_page_ntasks(state->page);
	total = rds_page_total_count(state->page);

	if (n > limit)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: %d tasks for a limit of %d",
						state->page_desc, n, limit)));
	if (total >= 0 && pending.offset + n > total)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: total_count " INT64_FORMAT " is less than the tasks returned",
						state->page_desc, total),
				 errdetail("The page at offset " INT64_FORMAT " holds %d tasks.",
						   pending.offset, n)));

	state->total_count = total;
	state->page_rows = n;

	/* the last page: empty, short, or reaching total_count */
	if (n == 0 || n < limit ||
		(total >= 0 && pending.offset + limit >= total))
	{
		state->stream_done = true;
		cancel_pending(state);
	}
	return true;
}

/* Remember a key; true if it was seen before in this scan. */
static bool
seen_before(RdsScanState *state, const char *key)
{
	bool		found;

	if (key == NULL || strlen(key) >= ID_KEY_SIZE)
		return false;
	(void) hash_search(state->seen, key, HASH_ENTER, &found);
	return found;
}

static void
reset_scan(RdsScanState *state)
{
	HASHCTL		ctl;

	cancel_pending(state);
	MemoryContextReset(state->request_cxt);
	MemoryContextReset(state->page_cxt);
	state->page = NULL;
	state->page_rows = state->page_row = state->action_row = 0;
	state->next_offset = 0;
	state->total_count = -1;
	state->stream_done = false;

	ctl.keysize = ID_KEY_SIZE;
	ctl.entrysize = ID_KEY_SIZE;
	ctl.hcxt = state->request_cxt;
	state->seen = hash_create("rds_task_fdw seen ids", 1024, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* ----------------------------------------------------------------
 *		Execution
 * ----------------------------------------------------------------
 */

static void
rdsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	RdsScanState *state;
	Oid			userid;
	RangeTblEntry *rte;

	state = palloc0(sizeof(RdsScanState));
	node->fdw_state = state;

	rte = exec_rt_fetch(fsplan->scan.scanrelid, estate);
	userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	state->opts = rds_get_options(rte->relid, userid);
	state->path = psprintf("/v3/%s/tasklist", state->opts->project_id);
	state->filter_query = "";
	map_columns(state, node->ss.ss_currentRelation);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	state->conn = rds_get_connection(state->opts);
	state->pending = palloc0(sizeof(RdsPending) * state->opts->parallel_requests);
	state->request_cxt = AllocSetContextCreate(estate->es_query_cxt,
											   "rds_task_fdw requests",
											   ALLOCSET_DEFAULT_SIZES);
	state->page_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"rds_task_fdw page",
											ALLOCSET_DEFAULT_SIZES);
	state->row_cxt = AllocSetContextCreate(estate->es_query_cxt,
										   "rds_task_fdw row",
										   ALLOCSET_SMALL_SIZES);
	reset_scan(state);
}

/* Fill the slot with task i of the current page. */
static void
store_task(RdsScanState *state, TupleTableSlot *slot, int i)
{
	int			c;

	for (c = 0; c < state->ncolumns; c++)
	{
		RdsColumn  *col = &state->columns[c];
		const char *value;

		slot->tts_isnull[c] = true;
		switch (col->source)
		{
			case COL_NONE:
				break;
			case COL_PROJECT_ID:
			case COL_REGION:
				slot->tts_isnull[c] = col->constnull;
				slot->tts_values[c] = col->constval;
				break;
			case COL_RAW:
				slot->tts_values[c] = InputFunctionCall(&col->input,
														rds_page_task_json(state->page, i),
														col->ioparam, col->typmod);
				slot->tts_isnull[c] = false;
				break;
			case COL_FIELD:
				value = rds_page_task_field(state->page, i, col->field);
				if (value != NULL)
				{
					slot->tts_values[c] = convert_value(state, col, value);
					slot->tts_isnull[c] = false;
				}
				break;
		}
	}
}

/* Fill the slot with one action name. */
static void
store_action(RdsScanState *state, TupleTableSlot *slot, const char *action)
{
	int			c;

	for (c = 0; c < state->ncolumns; c++)
	{
		RdsColumn  *col = &state->columns[c];

		slot->tts_isnull[c] = true;
		if (col->source == COL_PROJECT_ID || col->source == COL_REGION)
		{
			slot->tts_isnull[c] = col->constnull;
			slot->tts_values[c] = col->constval;
		}
		else if (col->source == COL_FIELD)
		{
			slot->tts_values[c] = convert_value(state, col, action);
			slot->tts_isnull[c] = false;
		}
	}
}

static TupleTableSlot *
rdsIterateForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcxt;

	ExecClearTuple(slot);
	MemoryContextReset(state->row_cxt);

	for (;;)
	{
		if (state->page && state->opts->resource == RDS_RESOURCE_ACTIONS)
		{
			if (state->action_row < rds_page_nactions(state->page))
			{
				const char *action = rds_page_action(state->page,
													 state->action_row++);

				if (action == NULL || seen_before(state, action))
					continue;
				oldcxt = MemoryContextSwitchTo(state->row_cxt);
				store_action(state, slot, action);
				MemoryContextSwitchTo(oldcxt);
				return ExecStoreVirtualTuple(slot);
			}
		}
		else if (state->page && state->page_row < state->page_rows)
		{
			int			i = state->page_row++;

			if (seen_before(state, rds_page_task_field(state->page, i, "id")))
				continue;
			oldcxt = MemoryContextSwitchTo(state->row_cxt);
			store_task(state, slot, i);
			MemoryContextSwitchTo(oldcxt);
			return ExecStoreVirtualTuple(slot);
		}

		if (!next_page(state))
			return slot;
	}
}

static void
rdsReScanForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	reset_scan(state);
}

static void
rdsEndForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	if (state == NULL || state->pending == NULL)
		return;
	cancel_pending(state);
}

static void
rdsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	if (es->verbose)
	{
		StringInfoData query;

		initStringInfo(&query);
		appendStringInfoString(&query, state->filter_query);
		rds_append_query_param(&query, "limit",
							   psprintf("%d", state->opts->page_size));
		ExplainPropertyText("Remote request",
							psprintf("GET %s?%s", state->path, query.data), es);
	}
	if (es->analyze)
		ExplainPropertyText("HTTP requests",
							psprintf(INT64_FORMAT " (retries " INT64_FORMAT
									 ", bytes received " INT64_FORMAT
									 ", cache hits " INT64_FORMAT ")",
									 state->stats.requests, state->stats.retries,
									 state->stats.bytes, state->stats.cache_hits),
							es);
}

/* ----------------------------------------------------------------
 *		IMPORT FOREIGN SCHEMA
 * ----------------------------------------------------------------
 */

static List *
rdsImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	const char *srv = quote_identifier(server->servername);
	List	   *commands = NIL;

	commands = lappend(commands,
					   psprintf("CREATE FOREIGN TABLE rds_tasks (\n"
								"  id text, name text, instance_id text, instance_name text, instance_status text,\n"
								"  order_id text, process integer, fail_reason text,\n"
								"  create_time timestamptz, end_time timestamptz, status text\n"
								") SERVER %s", srv));
	commands = lappend(commands,
					   psprintf("CREATE FOREIGN TABLE rds_task_actions (name text) "
								"SERVER %s OPTIONS (resource 'actions')", srv));
	return commands;
}
