/*-------------------------------------------------------------------------
 *
 * rds_task_fdw.c
 *		  Foreign-data wrapper for the Open Telekom Cloud RDS task list
 *		  (GET /v3/{project_id}/tasklist): the handler, planning and costing,
 *		  the scan that pages through the list, EXPLAIN, and IMPORT FOREIGN
 *		  SCHEMA.
 *
 * Planning: deparse.c says which conditions become query parameters; they
 * travel to the executor in fdw_private (descriptions) and fdw_exprs (the
 * values, evaluated when the scan starts or rescans).  Joins get
 * parameterized paths, so that a nested loop asks for one key at a time.
 * Two upper paths take more work off PostgreSQL: LIMIT/OFFSET (when nothing
 * is filtered locally) and count(*) (answered from total_count).
 *
 * Execution: the conditions' values make an RdsFilter, which yields one or
 * more request streams; each stream pages with offset/limit.  Up to
 * parallel_requests pages are in flight once a stream's first page has told
 * its total_count; every page becomes tuples before the next is decoded,
 * so memory is bounded by the pages in flight, not by the list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000		/* ExplainState, ExplainProperty* */
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "executor/execAsync.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "common/hashfn.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

PG_MODULE_MAGIC;

/* One HTTP exchange, in units of seq_page_cost: a remote round trip. */
#define REQUEST_COST			100.0
/* Decoding and converting one task, on top of cpu_tuple_cost. */
#define DECODE_COST_PER_ROW		0.02
/* The list size assumed when the API cannot be asked. */
#define DEFAULT_TOTAL_TASKS		1000.0
/* How long a remote size estimate is reused by a backend. */
#define ESTIMATE_TTL_SECS		300
/* Passes over a stream whose list keeps moving before the scan gives up. */
#define MAX_PASSES				5

/* The fields of a task object, in the order of the imported table. */
static const char *const task_fields[] = {
	"id", "name", "instance_id", "instance_name", "instance_status",
	"order_id", "process", "fail_reason", "create_time", "end_time",
	"status", NULL
};

/*
 * What a ForeignScan returns.
 */
typedef enum RdsScanMode
{
	RDS_SCAN_ROWS = 0,			/* tasks (or actions) of a base relation */
	RDS_SCAN_LIMIT,				/* the same, with LIMIT/OFFSET pushed */
	RDS_SCAN_COUNT				/* one row: count(*) */
} RdsScanMode;

/*
 * fdw_private of a ForeignScan.  The order must match the list built by
 * rdsGetForeignPlan.
 */
enum FdwScanPrivateIndex
{
	FdwScanPrivateMode,			/* Integer: RdsScanMode */
	FdwScanPrivateRelid,		/* Integer: OID of the foreign table */
	FdwScanPrivateAttnos,		/* List of Integer: table attno per scan
								 * column, 0 = not fetched */
	FdwScanPrivateConds,		/* List of List (String field, Integer kind,
								 * Integer valtype, Integer fdw_exprs index) */
	FdwScanPrivateLimit			/* List (Integer limit index, Integer offset
								 * index), -1 = absent */
};

/*
 * Planner state of a relation (RelOptInfo.fdw_private): for the foreign
 * table itself, and for the upper relations we offer paths for.
 */
typedef struct RdsRelInfo
{
	Oid			relid;			/* the foreign table */
	RdsOptions *opts;
	List	   *remote_conds;	/* RdsCond * of baserestrictinfo */
	List	   *local_conds;	/* RestrictInfo * checked locally */
	bool		all_exact;		/* nothing is left to check locally */
	bool		has_fanout;		/* an IN list is pushed */
	double		total_tasks;	/* estimated size of the whole list */
	double		streams;		/* estimated request streams */
	double		fetched_rows;	/* estimated rows the requests return */
	RdsScanMode upper;			/* for an upper relation: what it does */
	RelOptInfo *baserel;		/* for an upper relation: the foreign table */
} RdsRelInfo;

/*
 * Where a scan column's value comes from.
 */
typedef enum RdsColumnSource
{
	COL_NONE,					/* dropped or not needed: NULL */
	COL_FIELD,					/* a task field (or the action name) */
	COL_RAW,					/* the whole task object */
	COL_PROJECT_ID,				/* the server's project_id */
	COL_REGION,					/* the server's region */
	COL_COUNT					/* count(*) */
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

/* A pushed condition at run time. */
typedef struct RdsScanCond
{
	char	   *field;
	RdsCondKind kind;
	Oid			valtype;
	int			expr_index;		/* in fdw_exprs */
} RdsScanCond;

/* One request stream: the pages of one combination of filter values. */
typedef struct RdsStream
{
	char	   *query;			/* filter parameters, "" if none */
	int64		start_offset;	/* where each pass starts */
	int64		next_offset;	/* offset of the next page to request */
	int64		end_offset;		/* LIMIT: request nothing from here; -1 */
	int64		total_count;	/* last total_count seen, -1 unknown */
	int64		pass_total;		/* first total_count of this pass, -1 */
	bool		moved;			/* total_count changed during this pass */
	int			passes;			/* passes done because the list moved */
	int			inflight;		/* its pages in flight */
	bool		done;			/* no more pages to request */
} RdsStream;

/* One page request in flight. */
typedef struct RdsPending
{
	MemoryContext cxt;			/* everything of this request; deleted when
								 * the page is read or the request cancelled */
	bool		active;			/* false once read or cancelled */
	RdsRequest *req;			/* the transfer, or NULL if cached */
	StringInfo	cached;			/* a body from the response cache */
	char	   *url;			/* path?query, the cache key */
	int			stream;
	int64		offset;
	int			limit;
	char	   *desc;			/* "GET path?query" for messages */
} RdsPending;

/*
 * Execution state of a foreign scan.
 */
typedef struct RdsScanState
{
	RdsScanMode mode;
	RdsOptions *opts;
	RdsConn    *conn;
	char	   *path;			/* /v3/{project_id}/tasklist */
	const char *relname;

	int			ncolumns;
	RdsColumn  *columns;

	/* conditions and their values */
	List	   *conds;			/* RdsScanCond * */
	List	   *exprs;			/* ExprState * of fdw_exprs */
	int			limit_index;
	int			offset_index;
	RdsFilter	filter;

	/* request streams */
	int			nstreams;
	RdsStream  *streams;
	int64		row_budget;		/* LIMIT: rows still to return, -1 = all */
	bool		count_done;		/* COUNT: the row was returned */
	bool		started;		/* conditions evaluated, streams built */

	/* pages in flight, in the order they are read */
	RdsPending *pending;		/* ring of parallel_requests entries */
	int			pending_head;
	int			npending;

	/* the page being returned */
	RdsPage    *page;
	int			page_rows;
	int			page_row;
	int			action_row;		/* resource 'actions': next action */
	int			page_stream;

	RdsIdSet   *seen;			/* ids (or action names) already returned */

	RdsHttpStats stats;

	int			wait_fd;		/* asynchronous Append: readable on activity,
								 * -1 until needed or where unavailable */
	MemoryContextCallback wait_fd_cb;	/* closes it with the query */

	MemoryContext scan_cxt;		/* filter, streams, seen ids; reset on rescan */
	MemoryContext page_cxt;		/* body and json of the current page */
	MemoryContext row_cxt;		/* values of the current row */
} RdsScanState;

/* Error context while converting a value. */
typedef struct ConversionContext
{
	RdsScanState *state;
	RdsColumn  *column;
} ConversionContext;

/* A remembered size of a task list, per user mapping. */
typedef struct RdsEstimateKey
{
	Oid			umid;
	uint32		target;			/* hash of endpoint and project_id */
} RdsEstimateKey;

typedef struct RdsEstimate
{
	RdsEstimateKey key;			/* hash key */
	double		total;
	TimestampTz fetched_at;
} RdsEstimate;

static HTAB *estimate_cache = NULL;

PG_FUNCTION_INFO_V1(rds_task_fdw_handler);
PG_FUNCTION_INFO_V1(rds_task_fdw_version);

static void rdsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static void rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
static ForeignScan *rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *foreignrel,
									  Oid foreigntableid, ForeignPath *best_path,
									  List *tlist, List *scan_clauses,
									  Plan *outer_plan);
static void rdsGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
									RelOptInfo *input_rel, RelOptInfo *output_rel,
									void *extra);
static void rdsBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *rdsIterateForeignScan(ForeignScanState *node);
static void rdsReScanForeignScan(ForeignScanState *node);
static void rdsEndForeignScan(ForeignScanState *node);
static void rdsExplainForeignScan(ForeignScanState *node, ExplainState *es);
static bool rdsIsForeignPathAsyncCapable(ForeignPath *path);
static void rdsForeignAsyncRequest(AsyncRequest *areq);
static void rdsForeignAsyncConfigureWait(AsyncRequest *areq);
static void rdsForeignAsyncNotify(AsyncRequest *areq);
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
 *		Planning: estimates
 * ----------------------------------------------------------------
 */

/* The path of the task list of the options' project. */
static char *
task_list_path(const RdsOptions *opts)
{
	return psprintf("/v3/%s/tasklist", opts->project_id);
}

/*
 * The size of the whole task list, from a limit=1 request whose total_count
 * is remembered by the backend for ESTIMATE_TTL_SECS.
 */
static double
estimate_total_tasks(RdsOptions *opts)
{
	RdsEstimate *entry;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext oldcxt;
	MemoryContext tmpcxt;
	char	   *path;
	StringInfoData query;
	StringInfoData body;
	RdsPage    *page;
	int64		total;
	RdsEstimateKey key;

	if (estimate_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(RdsEstimateKey);
		ctl.entrysize = sizeof(RdsEstimate);
		ctl.hcxt = CacheMemoryContext;
		estimate_cache = hash_create("rds_task_fdw estimates", 16, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.umid = opts->umid;
	key.target = hash_bytes((const unsigned char *) opts->endpoint, strlen(opts->endpoint)) ^
		hash_bytes((const unsigned char *) opts->project_id, strlen(opts->project_id));
	entry = hash_search(estimate_cache, &key, HASH_ENTER, &found);
	if (found && !TimestampDifferenceExceeds(entry->fetched_at, now,
											 ESTIMATE_TTL_SECS * 1000))
		return entry->total;
	entry->fetched_at = 0;

	path = task_list_path(opts);
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "rds_task_fdw estimate",
								   ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	initStringInfo(&query);
	rds_append_query_param(&query, "offset", "0");
	rds_append_query_param(&query, "limit", "1");
	initStringInfo(&body);
	rds_http_get(rds_get_connection(opts), path, query.data, &body, NULL);
	page = rds_page_parse(body.data, body.len,
						  psprintf("GET %s?%s", path, query.data));
	total = rds_page_total_count(page);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);

	entry->total = (total >= 0) ? (double) total : DEFAULT_TOTAL_TASKS;
	entry->fetched_at = now;
	return entry->total;
}

/* Number of values of a constant array, or -1. */
static int
const_array_length(Expr *value)
{
	if (IsA(value, Const) && !((Const *) value)->constisnull)
	{
		ArrayType  *arr = DatumGetArrayTypeP(((Const *) value)->constvalue);

		return ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	}
	return -1;
}

/*
 * Fraction of the list one condition keeps, without statistics: ids and
 * order ids are unique, instances and names repeat, statuses are few.
 */
static double
cond_selectivity(RdsCond *cond, double total)
{
	double		per_value;

	if (strcmp(cond->field, "id") == 0 || strcmp(cond->field, "order_id") == 0)
		per_value = 1.0 / Max(total, 1.0);
	else if (strcmp(cond->field, "instance_id") == 0)
		per_value = 0.02;
	else if (strcmp(cond->field, "name") == 0)
		per_value = 0.1;
	else if (strcmp(cond->field, "status") == 0)
		per_value = 0.33;
	else if (rds_is_server_field(cond->field))
		per_value = 1.0;
	else if (cond->kind == RDS_COND_TIME_EQ)
		per_value = 1.0 / Max(total, 1.0);
	else
		per_value = 0.5;		/* one side of a time window */

	if (cond->kind == RDS_COND_ANY)
	{
		int			n = const_array_length(cond->value);

		return Min(1.0, per_value * (n >= 0 ? n : 10));
	}
	return per_value;
}

static double
cond_streams(RdsCond *cond)
{
	if (cond->kind == RDS_COND_ANY && !rds_is_server_field(cond->field))
	{
		int			n = const_array_length(cond->value);

		return Min(n >= 0 ? n : 10, RDS_MAX_STREAMS);
	}
	return 1;
}

/*
 * Cost of fetching 'rows' tasks in 'streams' request streams: a round trip
 * per page, pages of a stream overlapping up to parallel_requests.
 */
static void
request_costs(RdsOptions *opts, double rows, double streams,
			  Cost *startup, Cost *total)
{
	double		pages = streams * Max(1.0, ceil(rows / Max(streams, 1.0) / opts->page_size));

	*startup = REQUEST_COST;
	*total = REQUEST_COST * (1.0 + (pages - 1.0) / opts->parallel_requests) +
		rows * (cpu_tuple_cost + DECODE_COST_PER_ROW);
}

/* ----------------------------------------------------------------
 *		Planning: paths
 * ----------------------------------------------------------------
 */

/*
 * rds_classify_clause for this relation.  With resource 'actions' the rows
 * are the responses' action names, which the requests' filters narrow but
 * do not define: every condition is then also checked locally.
 */
static bool
classify_clause(PlannerInfo *root, RelOptInfo *baserel, RdsRelInfo *fpinfo,
				Expr *clause, RdsCond *cond)
{
	if (!rds_classify_clause(root, baserel, fpinfo->relid, clause, cond))
		return false;
	if (fpinfo->opts->resource == RDS_RESOURCE_ACTIONS)
		cond->exact = false;
	return true;
}

/* The user whose user mapping a scan of baserel uses. */
static Oid
rel_user(PlannerInfo *root, RelOptInfo *baserel)
{
	return OidIsValid(baserel->userid) ? baserel->userid : GetUserId();
}

static void
rdsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RdsRelInfo *fpinfo = palloc0(sizeof(RdsRelInfo));
	ListCell   *lc;
	double		selectivity = 1.0;

	baserel->fdw_private = fpinfo;
	fpinfo->relid = foreigntableid;
	fpinfo->opts = rds_get_options(foreigntableid, rel_user(root, baserel));
	fpinfo->all_exact = true;
	fpinfo->streams = 1;
	fpinfo->upper = RDS_SCAN_ROWS;

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		RdsCond		cond;

		if (rinfo->pseudoconstant)
			continue;
		if (classify_clause(root, baserel, fpinfo, rinfo->clause, &cond))
		{
			RdsCond    *c = palloc(sizeof(RdsCond));

			*c = cond;
			fpinfo->remote_conds = lappend(fpinfo->remote_conds, c);
			fpinfo->streams *= cond_streams(c);
			if (cond.kind == RDS_COND_ANY)
				fpinfo->has_fanout = true;
			if (!cond.exact)
			{
				fpinfo->local_conds = lappend(fpinfo->local_conds, rinfo);
				fpinfo->all_exact = false;
			}
		}
		else
		{
			fpinfo->local_conds = lappend(fpinfo->local_conds, rinfo);
			fpinfo->all_exact = false;
		}
	}
	fpinfo->streams = Min(fpinfo->streams, RDS_MAX_STREAMS);

	fpinfo->total_tasks = estimate_total_tasks(fpinfo->opts);

	/* what the requests return: ids are one row whatever the size */
	foreach(lc, fpinfo->remote_conds)
		selectivity *= cond_selectivity((RdsCond *) lfirst(lc), fpinfo->total_tasks);
	fpinfo->fetched_rows = Max(1.0, fpinfo->total_tasks * selectivity);

	baserel->tuples = fpinfo->total_tasks;
	baserel->rows = clamp_row_est(fpinfo->fetched_rows *
								  clauselist_selectivity(root, fpinfo->local_conds,
														 baserel->relid, JOIN_INNER, NULL));
}

/*
 * Is the join clause "our text column = outer value" on a field the API
 * filters by?  Used to find parameterized paths.
 */
static bool
is_param_clause(PlannerInfo *root, RelOptInfo *baserel, RdsRelInfo *fpinfo,
				RestrictInfo *rinfo)
{
	RdsCond		cond;

	if (rinfo->pseudoconstant || !bms_is_member(baserel->relid, rinfo->clause_relids))
		return false;
	if (!classify_clause(root, baserel, fpinfo, rinfo->clause, &cond))
		return false;
	return cond.kind == RDS_COND_EQ && cond.exact &&
		!rds_is_server_field(cond.field);
}

/* Callback for generate_implied_equalities_for_column: our pushable column? */
static bool
ec_member_matches_field(PlannerInfo *root, RelOptInfo *rel,
						EquivalenceClass *ec, EquivalenceMember *em,
						void *arg)
{
	Expr	   *expr = em->em_expr;

	while (expr && IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return expr && IsA(expr, Var) && ((Var *) expr)->varno == (int) rel->relid &&
		((Var *) expr)->varattno == *(AttrNumber *) arg;
}

static void
rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RdsRelInfo *fpinfo = (RdsRelInfo *) baserel->fdw_private;
	Cost		startup_cost;
	Cost		total_cost;
	List	   *candidates = NIL;
	List	   *done_outers = NIL;
	ListCell   *lc;
	int			attno;

	request_costs(fpinfo->opts, fpinfo->fetched_rows, fpinfo->streams,
				  &startup_cost, &total_cost);
	add_path(baserel, (Path *)
			 rds_create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost, NIL,
									 baserel->lateral_relids, NULL, NIL));

	/*
	 * Parameterized paths: "column = outer value" join clauses on fields the
	 * API filters by, plain or implied by equivalence classes.  A nested loop
	 * over them sends one request stream per outer row.
	 */
	foreach(lc, baserel->joininfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (is_param_clause(root, baserel, fpinfo, rinfo))
			candidates = lappend(candidates, rinfo);
	}
	if (baserel->has_eclass_joins)
	{
		for (attno = 1; attno <= baserel->max_attr; attno++)
		{
			List	   *clauses;

			clauses = generate_implied_equalities_for_column(root, baserel,
															 ec_member_matches_field,
															 &attno,
															 baserel->lateral_referencers);
			foreach(lc, clauses)
			{
				RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

				if (is_param_clause(root, baserel, fpinfo, rinfo))
					candidates = lappend(candidates, rinfo);
			}
		}
	}

	foreach(lc, candidates)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Relids		required_outer;
		ParamPathInfo *ppi;
		double		rows;
		ListCell   *lc2;
		bool		seen = false;

		required_outer = bms_union(rinfo->clause_relids, baserel->lateral_relids);
		required_outer = bms_del_member(required_outer, baserel->relid);
		if (bms_is_empty(required_outer))
			continue;
		foreach(lc2, done_outers)
			if (bms_equal((Relids) lfirst(lc2), required_outer))
				seen = true;
		if (seen)
			continue;
		done_outers = lappend(done_outers, required_outer);

		ppi = get_baserel_parampathinfo(root, baserel, required_outer);
		rows = ppi->ppi_rows;
		request_costs(fpinfo->opts, Max(rows, 1.0), 1.0, &startup_cost, &total_cost);
		add_path(baserel, (Path *)
				 rds_create_foreignscan_path(root, baserel, NULL, rows,
										 startup_cost, total_cost, NIL,
										 required_outer, NULL, NIL));
	}
}

/* Serialize conditions into fdw_private form, their values into fdw_exprs. */
static List *
serialize_conds(List *conds, List **fdw_exprs)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, conds)
	{
		RdsCond    *c = (RdsCond *) lfirst(lc);

		*fdw_exprs = lappend(*fdw_exprs, c->value);
		result = lappend(result,
						 list_make4(makeString(pstrdup(c->field)),
									makeInteger(c->kind),
									makeInteger((int) c->valtype),
									makeInteger(list_length(*fdw_exprs) - 1)));
	}
	return result;
}

/* Table attnos of the plain Vars of a target list, in order. */
static List *
scan_tlist_attnos(List *fdw_scan_tlist)
{
	List	   *attnos = NIL;
	ListCell   *lc;

	foreach(lc, fdw_scan_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		attnos = lappend(attnos,
						 makeInteger(IsA(tle->expr, Var) ?
									 ((Var *) tle->expr)->varattno : 0));
	}
	return attnos;
}

static ForeignScan *
rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *foreignrel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	RdsRelInfo *fpinfo = (RdsRelInfo *) foreignrel->fdw_private;
	List	   *fdw_exprs = NIL;
	List	   *fdw_private;
	List	   *conds = NIL;
	List	   *local_exprs = NIL;
	List	   *attnos = NIL;
	List	   *fdw_scan_tlist = NIL;
	int			limit_index = -1;
	int			offset_index = -1;
	ListCell   *lc;

	if (IS_SIMPLE_REL(foreignrel))
	{
		Bitmapset  *attrs_used = NULL;
		Relation	rel;
		int			natts;
		int			i;

		/* split the clauses: sent, sent and rechecked, or local only */
		foreach(lc, scan_clauses)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
			RdsCond		cond;

			if (rinfo->pseudoconstant)
				continue;
			if (classify_clause(root, foreignrel, fpinfo, rinfo->clause, &cond))
			{
				RdsCond    *c = palloc(sizeof(RdsCond));

				*c = cond;
				conds = lappend(conds, c);
				if (!cond.exact)
					local_exprs = lappend(local_exprs, rinfo->clause);
			}
			else
				local_exprs = lappend(local_exprs, rinfo->clause);
		}

		/* fetch only what the target list and the local conditions use */
		pull_varattnos((Node *) foreignrel->reltarget->exprs, foreignrel->relid,
					   &attrs_used);
		pull_varattnos((Node *) local_exprs, foreignrel->relid, &attrs_used);
		rel = table_open(fpinfo->relid, NoLock);
		natts = RelationGetDescr(rel)->natts;
		table_close(rel, NoLock);
		for (i = 1; i <= natts; i++)
		{
			bool		used = bms_is_member(i - FirstLowInvalidHeapAttributeNumber,
											 attrs_used) ||
				bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs_used);

			attnos = lappend(attnos, makeInteger(used ? i : 0));
		}

		fdw_private = list_make5(makeInteger(RDS_SCAN_ROWS),
								 makeInteger((int) fpinfo->relid),
								 attnos,
								 serialize_conds(conds, &fdw_exprs),
								 list_make2(makeInteger(-1), makeInteger(-1)));
		return make_foreignscan(tlist, local_exprs, foreignrel->relid,
								fdw_exprs, fdw_private, NIL, NIL, outer_plan);
	}

	/* an upper relation: LIMIT or count(*) over the foreign table */
	{
		RdsRelInfo *basefp = (RdsRelInfo *) fpinfo->baserel->fdw_private;
		List	   *serialized = serialize_conds(basefp->remote_conds, &fdw_exprs);

		if (fpinfo->upper == RDS_SCAN_COUNT)
		{
			fdw_scan_tlist = add_to_flat_tlist(NIL,
											   pull_var_clause((Node *) best_path->path.pathtarget->exprs,
															   PVC_INCLUDE_AGGREGATES));
		}
		else
		{
			Query	   *parse = root->parse;

			fdw_scan_tlist = add_to_flat_tlist(NIL,
											   pull_var_clause((Node *) best_path->path.pathtarget->exprs,
															   PVC_RECURSE_PLACEHOLDERS));
			attnos = scan_tlist_attnos(fdw_scan_tlist);
			if (parse->limitCount)
			{
				fdw_exprs = lappend(fdw_exprs, parse->limitCount);
				limit_index = list_length(fdw_exprs) - 1;
			}
			if (parse->limitOffset)
			{
				fdw_exprs = lappend(fdw_exprs, parse->limitOffset);
				offset_index = list_length(fdw_exprs) - 1;
			}
		}
		fdw_private = list_make5(makeInteger(fpinfo->upper),
								 makeInteger((int) basefp->relid),
								 attnos,
								 serialized,
								 list_make2(makeInteger(limit_index),
											makeInteger(offset_index)));
		return make_foreignscan(tlist, NIL, 0, fdw_exprs, fdw_private,
								fdw_scan_tlist, NIL, outer_plan);
	}
}

/* Is every aggregate in the target count(*), and is there nothing else? */
static bool
target_is_count_star(PathTarget *target)
{
	List	   *nodes = pull_var_clause((Node *) target->exprs,
										PVC_INCLUDE_AGGREGATES);
	ListCell   *lc;

	if (nodes == NIL)
		return false;
	foreach(lc, nodes)
	{
		Aggref	   *agg = (Aggref *) lfirst(lc);

		if (!IsA(agg, Aggref) || agg->aggfnoid != F_COUNT_ || !agg->aggstar ||
			agg->aggfilter || agg->aggdistinct || agg->aggorder ||
			agg->agglevelsup != 0 || agg->aggkind != AGGKIND_NORMAL)
			return false;
	}
	return true;
}

/* Is a LIMIT/OFFSET value known when the scan starts? */
static bool
is_limit_value(Node *node)
{
	if (node == NULL || IsA(node, Const))
		return true;
	return IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN;
}

static void
add_upper_path(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel,
			   RdsScanMode mode, PathTarget *target, double rows, Cost total)
{
	RdsRelInfo *basefp = (RdsRelInfo *) input_rel->fdw_private;
	RdsRelInfo *fpinfo = palloc0(sizeof(RdsRelInfo));

	*fpinfo = *basefp;
	fpinfo->upper = mode;
	fpinfo->baserel = input_rel;
	output_rel->fdw_private = fpinfo;

	add_path(output_rel, (Path *)
			 rds_create_foreign_upper_path(root, output_rel, target, rows,
									   REQUEST_COST, total, NIL, NULL, NIL));
}

/*
 * Upper paths: count(*) answered from total_count, and LIMIT/OFFSET sent
 * as offset/limit.  Both only when every condition is enforced by the
 * requests, so that nothing local could drop a row.
 */
static void
rdsGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						RelOptInfo *input_rel, RelOptInfo *output_rel,
						void *extra)
{
	RdsRelInfo *ifp = (RdsRelInfo *) input_rel->fdw_private;
	Query	   *parse = root->parse;

	/*
	 * A condition that mentions no column of the table (including one that
	 * PostgreSQL derived from two constants, such as 'A' = 'B') becomes a
	 * one-time filter above the scan; an upper path would replace the scan
	 * with it, so there is none then.
	 */
	if (root->hasPseudoConstantQuals)
		return;
	if (ifp == NULL || ifp->upper != RDS_SCAN_ROWS || output_rel->fdw_private ||
		input_rel->reloptkind != RELOPT_BASEREL ||
		!bms_is_empty(input_rel->lateral_relids) || !ifp->all_exact ||
		ifp->opts->resource != RDS_RESOURCE_TASKS)
		return;

	if (stage == UPPERREL_GROUP_AGG)
	{
		GroupPathExtraData *gextra = (GroupPathExtraData *) extra;
		PathTarget *target = root->upper_targets[UPPERREL_GROUP_AGG];

		if (parse->groupClause || parse->groupingSets || parse->havingQual ||
			parse->hasWindowFuncs || parse->hasTargetSRFs ||
			gextra->patype == PARTITIONWISE_AGGREGATE_PARTIAL ||
			!target_is_count_star(target))
			return;
		add_upper_path(root, input_rel, output_rel, RDS_SCAN_COUNT, target, 1,
					   REQUEST_COST * ifp->streams * 0.5);
	}
	else if (stage == UPPERREL_FINAL)
	{
		FinalPathExtraData *fextra = (FinalPathExtraData *) extra;
		PathTarget *target = root->upper_targets[UPPERREL_FINAL];
		List	   *vars;
		ListCell   *lc;
		double		rows;
		double		pages;

		if (!fextra->limit_needed || parse->sortClause || parse->distinctClause ||
			parse->hasAggs || parse->groupClause || parse->hasWindowFuncs ||
			parse->hasTargetSRFs || parse->rowMarks ||
			parse->limitOption != LIMIT_OPTION_COUNT || ifp->has_fanout ||
			!is_limit_value(parse->limitCount) ||
			!is_limit_value(parse->limitOffset) ||
			contain_subplans((Node *) target->exprs))
			return;
		/* only plain columns of the table are fetched */
		vars = pull_var_clause((Node *) target->exprs, PVC_RECURSE_PLACEHOLDERS);
		foreach(lc, vars)
		{
			Var		   *var = (Var *) lfirst(lc);

			if (!IsA(var, Var) || var->varattno <= 0 ||
				var->varno != (int) input_rel->relid)
				return;
		}

		/* as PostgreSQL's Limit does, guess 10% when the count is a parameter */
		rows = input_rel->rows;
		if (fextra->count_est > 0)
			rows = Min(rows, (double) fextra->count_est);
		else if (parse->limitCount)
			rows *= 0.10;
		pages = Max(1.0, ceil(rows / ifp->opts->page_size));
		add_upper_path(root, input_rel, output_rel, RDS_SCAN_LIMIT, target,
					   clamp_row_est(rows),
					   REQUEST_COST * (1.0 + (pages - 1.0) / ifp->opts->parallel_requests) * 0.5);
	}
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
 * Map every column of the foreign table to its source and input function;
 * the columns not in 'used' (an attno per column, 0 = unused) are NULL.
 * A column that matches nothing is an ERROR listing what exists.
 */
static void
map_table_column(RdsScanState *state, RdsColumn *col, Relation rel,
				 Form_pg_attribute att)
{
	Oid			relid = RelationGetRelid(rel);
	const char *field = rds_column_field_name(relid, att->attnum);
	Oid			infunc;

	col->attname = pstrdup(NameStr(att->attname));
	col->field = pstrdup(field);
	col->typid = att->atttypid;
	col->typmod = att->atttypmod;
	getTypeInputInfo(att->atttypid, &infunc, &col->ioparam);
	fmgr_info(infunc, &col->input);

	if (rds_is_server_field(field))
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

/*
 * Columns of the scan tuple.  Every column of the table is checked (a bad
 * one is an error even when unused); attnos says which table column each
 * scan column holds (0: none, left NULL).
 */
static void
map_columns(RdsScanState *state, Relation rel, TupleDesc scandesc, List *attnos)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	RdsColumn  *bytable;
	int			i;

	bytable = palloc0(sizeof(RdsColumn) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped)
			map_table_column(state, &bytable[i], rel, att);
	}

	state->ncolumns = scandesc->natts;
	state->columns = palloc0(sizeof(RdsColumn) * scandesc->natts);
	for (i = 0; i < scandesc->natts; i++)
	{
		int			attno;

		if (state->mode == RDS_SCAN_COUNT)
		{
			state->columns[i].source = COL_COUNT;
			continue;
		}
		attno = (i < list_length(attnos)) ? intVal(list_nth(attnos, i)) : 0;
		if (attno > 0 && attno <= tupdesc->natts &&
			!TupleDescAttr(tupdesc, attno - 1)->attisdropped)
			state->columns[i] = bytable[attno - 1];
		else
			state->columns[i].source = COL_NONE;
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
		errcontext("column \"%s\" (task field \"%s\") of foreign table \"%s\", task %s",
				   ctx->column->attname, ctx->column->field, state->relname, id);
	else
		errcontext("column \"%s\" (task field \"%s\") of foreign table \"%s\"",
				   ctx->column->attname, ctx->column->field, state->relname);
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
 *		Conditions at run time
 * ----------------------------------------------------------------
 */

/* A filter value in the API's encoding, or NULL if it can match nothing. */
static char *
filter_value(Datum d)
{
	char	   *s = TextDatumGetCString(d);

	/* "" is NULL in the table: "= ''" matches no task */
	if (s[0] == '\0')
		return NULL;
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* Narrow a filter with the (non-null) value of one pushed condition. */
static void
add_cond_value(RdsFilter *f, RdsScanCond *c, Datum value)
{
	List	   *values = NIL;

	if (c->kind == RDS_COND_EQ)
	{
		char	   *v = filter_value(value);

		if (v)
			values = list_make1(v);
	}
	else if (c->kind == RDS_COND_ANY)
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		Datum	   *elems;
		bool	   *nulls;
		int			nelems;
		int			i;
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign,
						  &elems, &nulls, &nelems);
		for (i = 0; i < nelems; i++)
		{
			char	   *v;

			if (!nulls[i] && (v = filter_value(elems[i])) != NULL)
				values = lappend(values, v);
		}
	}
	else
	{
		rds_filter_add_time(f, c->kind, c->valtype, value);
		return;
	}
	rds_filter_add_values(f, c->field, values);
}

/*
 * Evaluate the pushed conditions' values into state->filter and build the
 * request streams.  Runs at scan start and at each rescan.
 */
static void
build_streams(RdsScanState *state, ExprContext *econtext)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);
	ListCell   *lc;
	List	   *queries;
	int			i;

	rds_filter_init(&state->filter);
	foreach(lc, state->conds)
	{
		RdsScanCond *c = (RdsScanCond *) lfirst(lc);
		ExprState  *es = (ExprState *) list_nth(state->exprs, c->expr_index);
		bool		isnull;
		Datum		value;

		value = ExecEvalExpr(es, econtext, &isnull);
		if (isnull)
		{
			state->filter.empty = true;
			continue;
		}
		add_cond_value(&state->filter, c, value);
	}

	/* LIMIT and OFFSET */
	state->row_budget = -1;
	if (state->mode == RDS_SCAN_LIMIT)
	{
		int64		offset = 0;
		bool		isnull;
		Datum		value;

		if (state->offset_index >= 0)
		{
			value = ExecEvalExpr(list_nth(state->exprs, state->offset_index),
								 econtext, &isnull);
			if (!isnull)
			{
				offset = DatumGetInt64(value);
				if (offset < 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE),
							 errmsg("OFFSET must not be negative")));
			}
		}
		if (state->limit_index >= 0)
		{
			value = ExecEvalExpr(list_nth(state->exprs, state->limit_index),
								 econtext, &isnull);
			if (!isnull)
			{
				state->row_budget = DatumGetInt64(value);
				if (state->row_budget < 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE),
							 errmsg("LIMIT must not be negative")));
			}
		}
		if (state->row_budget == 0)
			state->filter.empty = true;
		queries = rds_filter_streams(&state->filter, state->opts, RDS_MAX_STREAMS);
		state->nstreams = list_length(queries);
		state->streams = palloc0(sizeof(RdsStream) * Max(state->nstreams, 1));
		for (i = 0; i < state->nstreams; i++)
		{
			state->streams[i].query = list_nth(queries, i);
			state->streams[i].start_offset = offset;
			state->streams[i].next_offset = offset;
			state->streams[i].end_offset = (state->row_budget >= 0) ?
				offset + state->row_budget : -1;
			state->streams[i].total_count = -1;
			state->streams[i].pass_total = -1;
		}
	}
	else
	{
		queries = rds_filter_streams(&state->filter, state->opts, RDS_MAX_STREAMS);
		state->nstreams = list_length(queries);
		state->streams = palloc0(sizeof(RdsStream) * Max(state->nstreams, 1));
		for (i = 0; i < state->nstreams; i++)
		{
			state->streams[i].query = list_nth(queries, i);
			state->streams[i].end_offset = -1;
			state->streams[i].total_count = -1;
			state->streams[i].pass_total = -1;
		}
	}
	MemoryContextSwitchTo(oldcxt);
}

/* ----------------------------------------------------------------
 *		Paging
 * ----------------------------------------------------------------
 */

/* Send the request for the next page of stream s. */
static void
start_page_request(RdsScanState *state, int s)
{
	RdsStream  *st = &state->streams[s];
	MemoryContext cxt = AllocSetContextCreate(state->scan_cxt,
											  "rds_task_fdw request",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	StringInfoData query;
	RdsPending *p;
	int			limit = state->opts->page_size;

	if (st->end_offset >= 0)
		limit = (int) Min((int64) limit, st->end_offset - st->next_offset);

	initStringInfo(&query);
	appendStringInfoString(&query, st->query);
	rds_append_query_param(&query, "offset", psprintf(INT64_FORMAT, st->next_offset));
	rds_append_query_param(&query, "limit", psprintf("%d", limit));

	p = &state->pending[(state->pending_head + state->npending) %
						state->opts->parallel_requests];
	p->cxt = cxt;
	p->active = true;
	p->stream = s;
	p->offset = st->next_offset;
	p->limit = limit;
	p->url = psprintf("%s?%s", state->path, query.data);
	p->desc = psprintf("GET %s", p->url);
	p->req = NULL;
	p->cached = makeStringInfo();
	if (rds_cache_lookup(state->opts->umid, p->url, state->opts->cache_ttl, p->cached))
		state->stats.cache_hits++;
	else
	{
		p->cached = NULL;
		p->req = rds_request_start(state->conn, state->path, query.data);
	}
	state->npending++;
	st->inflight++;
	st->next_offset += limit;

	MemoryContextSwitchTo(oldcxt);
}

/* Stop a page request (if it is still on the wire) and free it. */
static void
release_pending(RdsPending *p)
{
	if (p->active && p->req)
		rds_request_cancel(p->req);
	p->active = false;
	p->req = NULL;
	if (p->cxt)
		MemoryContextDelete(p->cxt);
	p->cxt = NULL;
}

/* Cancel every request in flight. */
static void
cancel_pending(RdsScanState *state)
{
	while (state->npending > 0)
	{
		release_pending(&state->pending[state->pending_head]);
		state->pending_head = (state->pending_head + 1) % state->opts->parallel_requests;
		state->npending--;
	}
	state->pending_head = 0;
	state->npending = 0;
}

/* Cancel the requests of one stream that are still in flight. */
static void
cancel_stream(RdsScanState *state, int s)
{
	int			i;

	for (i = 0; i < state->npending; i++)
	{
		RdsPending *p = &state->pending[(state->pending_head + i) %
										state->opts->parallel_requests];

		if (p->stream == s && p->active)
		{
			release_pending(p);
			state->streams[s].inflight--;
		}
	}
}

/*
 * Keep as many page requests in flight as allowed and useful: a stream
 * sends one page until it knows its total_count, then pages up to the end;
 * further streams start while earlier ones wait.
 */
static void
fill_pipeline(RdsScanState *state)
{
	int			s;

	for (s = 0; s < state->nstreams &&
		 state->npending < state->opts->parallel_requests; s++)
	{
		RdsStream  *st = &state->streams[s];

		while (!st->done && state->npending < state->opts->parallel_requests)
		{
			if (st->end_offset >= 0 && st->next_offset >= st->end_offset)
				break;
			if (st->total_count < 0 ? st->inflight > 0
				: st->next_offset >= st->total_count)
				break;
			start_page_request(state, s);
		}
	}
}

/*
 * Read the next page into state->page.  Returns false when every stream is
 * exhausted.
 */
static bool
next_page(RdsScanState *state)
{
	RdsPending	pending;
	char	   *desc;
	RdsStream  *st;
	StringInfoData body;
	MemoryContext oldcxt;
	int			n;
	int64		total;

	state->page = NULL;
	state->page_rows = 0;
	state->page_row = 0;
	state->action_row = 0;
	MemoryContextReset(state->page_cxt);

	for (;;)
	{
		fill_pipeline(state);
		if (state->npending == 0)
			return false;
		pending = state->pending[state->pending_head];
		state->pending[state->pending_head].active = false;
		state->pending[state->pending_head].cxt = NULL;
		state->pending_head = (state->pending_head + 1) % state->opts->parallel_requests;
		state->npending--;
		if (pending.active)
			break;				/* skip cancelled entries */
		if (pending.cxt)
			MemoryContextDelete(pending.cxt);
	}
	st = &state->streams[pending.stream];
	st->inflight--;

	oldcxt = MemoryContextSwitchTo(state->page_cxt);
	initStringInfo(&body);
	if (pending.cached)
		appendBinaryStringInfo(&body, pending.cached->data, pending.cached->len);
	else
	{
		rds_request_finish(pending.req, &body, &state->stats);
		rds_cache_store(state->opts->umid, pending.url, state->opts->cache_ttl,
						body.data, body.len);
	}
	desc = pstrdup(pending.desc);
	state->page = rds_page_parse(body.data, body.len, desc);
	MemoryContextSwitchTo(oldcxt);
	pending.req = NULL;			/* finished, hence released */
	release_pending(&pending);

	n = rds_page_ntasks(state->page);
	total = rds_page_total_count(state->page);

	if (n > pending.limit)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: %d tasks for a limit of %d",
						desc, n, pending.limit)));
	if (total >= 0 && n > 0 && pending.offset + n > total)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: total_count " INT64_FORMAT " is less than the tasks returned",
						desc, total),
				 errdetail("The page at offset " INT64_FORMAT " holds %d tasks.",
						   pending.offset, n)));

	st->total_count = total;
	state->page_rows = n;
	state->page_stream = pending.stream;

	/*
	 * A total_count that changes between pages means tasks were added or
	 * removed while paging: offsets shifted, and pages answered before and
	 * after the move may leave a gap.  The pass is then repeated; tasks
	 * already returned are skipped by the duplicate filter.
	 */
	if (total >= 0)
	{
		/* the first pass's first page tells the duplicate filter its size */
		if (st->pass_total < 0 && st->passes == 0 &&
			state->opts->resource == RDS_RESOURCE_TASKS)
			rds_idset_expect(state->seen,
							 (st->end_offset >= 0 ? Min(total, st->end_offset) : total) -
							 st->start_offset);
		if (st->pass_total < 0)
			st->pass_total = total;
		else if (total != st->pass_total)
			st->moved = true;
	}

	/* the stream's last page: empty, short, or reaching total_count */
	if (n == 0 || n < pending.limit ||
		(total >= 0 && pending.offset + pending.limit >= total))
	{
		cancel_stream(state, pending.stream);
		if (st->moved && st->end_offset < 0)
		{
			if (++st->passes >= MAX_PASSES)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("the task list kept changing while %s was read", state->path),
						 errdetail("total_count changed during each of %d passes.", MAX_PASSES),
						 errhint("Run the query again, or narrow it with conditions on create_time.")));
			st->next_offset = st->start_offset;
			st->total_count = -1;
			st->pass_total = -1;
			st->moved = false;
		}
		else
			st->done = true;
	}
	return true;
}

/* Remember a key; true if it was seen before in this scan. */
static bool
seen_before(RdsScanState *state, const char *key)
{
	if (key == NULL)
		return false;
	return rds_idset_add(state->seen, key);
}

/*
 * A row the scan read but does not return (duplicate, or not matching a
 * value set): under a pushed LIMIT, ask for one more.
 */
static void
row_dropped(RdsScanState *state)
{
	RdsStream  *st = &state->streams[state->page_stream];

	if (st->end_offset >= 0)
		st->end_offset++;
}

/*
 * Forget what the scan read and sent; the next iteration evaluates the
 * conditions again (parameters of a nested loop are only set by then).
 */
static void
reset_scan(RdsScanState *state)
{
	cancel_pending(state);
	if (state->seen)
		rds_idset_report(state->seen, state->relname);
	MemoryContextReset(state->scan_cxt);
	MemoryContextReset(state->page_cxt);
	state->page = NULL;
	state->page_rows = state->page_row = state->action_row = 0;
	state->count_done = false;

	state->seen = rds_idset_create(state->scan_cxt);
	state->nstreams = 0;
	state->started = false;
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
	Oid			relid;
	Oid			userid;
	RangeTblEntry *rte;
	Relation	rel;
	ListCell   *lc;
	List	   *limits;

	state = palloc0(sizeof(RdsScanState));
	state->wait_fd = -1;
	node->fdw_state = state;

	state->mode = intVal(list_nth(fsplan->fdw_private, FdwScanPrivateMode));
	limits = (List *) list_nth(fsplan->fdw_private, FdwScanPrivateLimit);
	state->limit_index = intVal(linitial(limits));
	state->offset_index = intVal(lsecond(limits));

	rte = exec_rt_fetch(fsplan->scan.scanrelid > 0 ? fsplan->scan.scanrelid :
						(Index) bms_next_member(fsplan->fs_relids, -1), estate);
	relid = rte->relid;
	userid = OidIsValid(RDS_SCAN_CHECK_AS_USER(fsplan, rte)) ?
		RDS_SCAN_CHECK_AS_USER(fsplan, rte) : GetUserId();
	state->opts = rds_get_options(relid, userid);
	state->path = task_list_path(state->opts);

	rel = node->ss.ss_currentRelation ? node->ss.ss_currentRelation :
		table_open(relid, AccessShareLock);
	state->relname = pstrdup(RelationGetRelationName(rel));
	map_columns(state, rel, node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
				(List *) list_nth(fsplan->fdw_private, FdwScanPrivateAttnos));
	if (rel != node->ss.ss_currentRelation)
		table_close(rel, NoLock);

	foreach(lc, (List *) list_nth(fsplan->fdw_private, FdwScanPrivateConds))
	{
		List	   *item = (List *) lfirst(lc);
		RdsScanCond *c = palloc(sizeof(RdsScanCond));

		c->field = strVal(linitial(item));
		c->kind = intVal(lsecond(item));
		c->valtype = (Oid) intVal(lthird(item));
		c->expr_index = intVal(lfourth(item));
		state->conds = lappend(state->conds, c);
	}

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	state->exprs = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	state->conn = rds_get_connection(state->opts);
	state->pending = palloc0(sizeof(RdsPending) * state->opts->parallel_requests);
	state->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
											"rds_task_fdw scan",
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
			case COL_COUNT:
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

/*
 * Advance to the next task to return; false at the end.  Duplicates and
 * tasks outside the filter's value sets are skipped.
 */
static bool
next_task(RdsScanState *state, int *task)
{
	for (;;)
	{
		if (state->page && state->page_row < state->page_rows)
		{
			int			i = state->page_row++;

			if (!rds_filter_match(&state->filter, state->page, i) ||
				seen_before(state, rds_page_task_field(state->page, i, "id")))
			{
				row_dropped(state);
				continue;
			}
			*task = i;
			return true;
		}
		if (!next_page(state))
			return false;
	}
}

/*
 * count(*): one limit=1 request per stream, summing total_count; when a
 * stream has no total_count, or a field could not be sent, the tasks are
 * counted as they are read.
 */
static int64
count_tasks(RdsScanState *state)
{
	int64		count = 0;
	bool		remote = true;
	ListCell   *lc;
	int			s;
	int			task;

	foreach(lc, state->filter.fields)
		if (!((RdsFieldSet *) lfirst(lc))->sent)
			remote = false;

	for (s = 0; remote && s < state->nstreams; s++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(state->page_cxt);
		StringInfoData query;
		StringInfoData body;
		RdsPage    *page;
		int64		total;
		char	   *url;

		initStringInfo(&query);
		appendStringInfoString(&query, state->streams[s].query);
		rds_append_query_param(&query, "offset", "0");
		rds_append_query_param(&query, "limit", "1");
		initStringInfo(&body);
		url = psprintf("%s?%s", state->path, query.data);
		if (rds_cache_lookup(state->opts->umid, url, state->opts->cache_ttl, &body))
			state->stats.cache_hits++;
		else
		{
			rds_http_get(state->conn, state->path, query.data, &body, &state->stats);
			rds_cache_store(state->opts->umid, url, state->opts->cache_ttl,
							body.data, body.len);
		}
		page = rds_page_parse(body.data, body.len, psprintf("GET %s", url));
		total = rds_page_total_count(page);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(state->page_cxt);
		if (total < 0)
			remote = false;
		else
			count += total;
	}
	if (remote)
		return count;

	/* count what is read */
	count = 0;
	while (next_task(state, &task))
		count++;
	return count;
}

static TupleTableSlot *
rdsIterateForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcxt;
	int			task;

	ExecClearTuple(slot);
	MemoryContextReset(state->row_cxt);

	if (!state->started)
	{
		build_streams(state, node->ss.ps.ps_ExprContext);
		state->started = true;
	}

	if (state->mode == RDS_SCAN_COUNT)
	{
		int64		count;
		int			c;

		if (state->count_done)
			return slot;
		count = count_tasks(state);
		state->count_done = true;
		for (c = 0; c < state->ncolumns; c++)
		{
			slot->tts_values[c] = Int64GetDatum(count);
			slot->tts_isnull[c] = false;
		}
		return ExecStoreVirtualTuple(slot);
	}

	if (state->row_budget == 0)
	{
		cancel_pending(state);
		return slot;
	}

	if (state->opts->resource == RDS_RESOURCE_ACTIONS)
	{
		for (;;)
		{
			if (state->page && state->action_row < rds_page_nactions(state->page))
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
			if (!next_page(state))
				return slot;
		}
	}

	if (!next_task(state, &task))
		return slot;
	oldcxt = MemoryContextSwitchTo(state->row_cxt);
	store_task(state, slot, task);
	MemoryContextSwitchTo(oldcxt);
	if (state->row_budget > 0 && --state->row_budget == 0)
		cancel_pending(state);	/* LIMIT reached: nothing more in flight */
	return ExecStoreVirtualTuple(slot);
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
	rds_idset_report(state->seen, state->relname);
}

/* ----------------------------------------------------------------
 *		Asynchronous execution (Append over several servers)
 *
 * Every partition's scan starts its requests as soon as the Append asks;
 * while a page is on the wire the scan reports itself pending and gives
 * PostgreSQL a descriptor to wait on (the connection's epoll set, which
 * also ticks every 100 ms so that timeouts and cancels are served).  All
 * partitions thus fetch at the same time.
 * ----------------------------------------------------------------
 */

static bool
rdsIsForeignPathAsyncCapable(ForeignPath *path)
{
	RelOptInfo *rel = path->path.parent;
	RdsRelInfo *fpinfo = (RdsRelInfo *) rel->fdw_private;

	return IS_SIMPLE_REL(rel) && fpinfo != NULL && fpinfo->upper == RDS_SCAN_ROWS;
}

static void
close_wait_fd(void *arg)
{
	RdsScanState *state = (RdsScanState *) arg;

	if (state->wait_fd >= 0)
		close(state->wait_fd);
	state->wait_fd = -1;
}

/*
 * Can the next tuple be produced without waiting on the network?  Starts
 * the scan's requests if they are not yet sent.
 */
static bool
async_ready(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	int			i;

	if (!state->started)
	{
		build_streams(state, node->ss.ps.ps_ExprContext);
		state->started = true;
	}
	if (state->wait_fd < 0)
	{
		state->wait_fd = rds_conn_wait_fd(state->conn);
		if (state->wait_fd < 0)
			return true;		/* no way to wait: run synchronously */
		state->wait_fd_cb.func = close_wait_fd;
		state->wait_fd_cb.arg = state;
		MemoryContextRegisterResetCallback(node->ss.ps.state->es_query_cxt,
										   &state->wait_fd_cb);
	}
	if (state->page &&
		(state->opts->resource == RDS_RESOURCE_ACTIONS ?
		 state->action_row < rds_page_nactions(state->page) :
		 state->page_row < state->page_rows))
		return true;

	fill_pipeline(state);
	for (i = 0; i < state->npending; i++)
	{
		RdsPending *p = &state->pending[(state->pending_head + i) %
										state->opts->parallel_requests];

		if (!p->active)
			continue;
		return p->cached != NULL || rds_request_poll(p->req);
	}
	return true;				/* nothing in flight: the end */
}

/* Produce a tuple (or the end) if one is ready, else stay pending. */
static void
produce_async(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;

	if (async_ready(node))
		ExecAsyncRequestDone(areq, ExecProcNode((PlanState *) node));
	else
		ExecAsyncRequestPending(areq);
}

static void
rdsForeignAsyncRequest(AsyncRequest *areq)
{
	produce_async(areq);
}

static void
rdsForeignAsyncConfigureWait(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	AppendState *requestor = (AppendState *) areq->requestor;

	Assert(state->wait_fd >= 0);
	AddWaitEventToSet(requestor->as_eventset, WL_SOCKET_READABLE,
					  state->wait_fd, NULL, areq);
}

static void
rdsForeignAsyncNotify(AsyncRequest *areq)
{
	produce_async(areq);
}

/* ----------------------------------------------------------------
 *		EXPLAIN
 * ----------------------------------------------------------------
 */

/*
 * How EXPLAIN names a value known only at run time: a parameter by its own
 * number, any other expression by its position among the scan's values.
 */
static char *
runtime_ref(Expr *e, int index)
{
	if (IsA(e, Param))
		return psprintf("$%d", ((Param *) e)->paramid);
	return psprintf("$%d", index + 1);
}

/*
 * The requests a scan sends, as EXPLAIN shows them: values known at plan
 * time are shown, values computed at run time as $n (n counts fdw_exprs).
 */
static List *
explain_requests(RdsScanState *state, List *fdw_exprs)
{
	RdsFilter	f;
	List	   *runtime = NIL;
	List	   *queries;
	List	   *lines = NIL;
	ListCell   *lc;
	StringInfoData paging;

	rds_filter_init(&f);
	foreach(lc, state->conds)
	{
		RdsScanCond *c = (RdsScanCond *) lfirst(lc);
		Expr	   *e = list_nth(fdw_exprs, c->expr_index);
		Const	   *k = IsA(e, Const) ? (Const *) e : NULL;

		if (k == NULL)
		{
			char	   *param = NULL;

			char	   *ref = runtime_ref(e, c->expr_index);

			if (c->kind == RDS_COND_LOWER)
				param = psprintf("start_time=%s", ref);
			else if (c->kind == RDS_COND_UPPER)
				param = psprintf("end_time=%s", ref);
			else if (c->kind == RDS_COND_TIME_EQ)
				param = psprintf("start_time=%s&end_time=%s", ref, ref);
			else if (!rds_is_server_field(c->field))
				param = psprintf("%s=%s%s", c->field,
								 c->kind == RDS_COND_ANY ? "ANY:" : "", ref);
			if (param)
				runtime = lappend(runtime, param);
			continue;
		}
		if (k->constisnull)
			f.empty = true;
		else
			add_cond_value(&f, c, k->constvalue);
	}

	queries = rds_filter_streams(&f, state->opts, RDS_MAX_STREAMS);
	if (queries == NIL)
		return list_make1(pstrdup("none (the conditions cannot be satisfied)"));

	initStringInfo(&paging);
	if (state->mode == RDS_SCAN_COUNT)
		appendStringInfoString(&paging, "offset=0&limit=1");
	else if (state->mode == RDS_SCAN_LIMIT)
	{
		Expr	   *e;

		if (state->offset_index >= 0)
		{
			e = list_nth(fdw_exprs, state->offset_index);
			if (IsA(e, Const) && !((Const *) e)->constisnull)
				appendStringInfo(&paging, "offset=" INT64_FORMAT,
								 DatumGetInt64(((Const *) e)->constvalue));
			else
				appendStringInfo(&paging, "offset=%s", runtime_ref(e, state->offset_index));
		}
		else
			appendStringInfoString(&paging, "offset=0");
		if (state->limit_index >= 0)
		{
			e = list_nth(fdw_exprs, state->limit_index);
			if (IsA(e, Const) && !((Const *) e)->constisnull)
				appendStringInfo(&paging, "&limit=" INT64_FORMAT " (pages of at most %d)",
								 DatumGetInt64(((Const *) e)->constvalue),
								 state->opts->page_size);
			else
				appendStringInfo(&paging, "&limit=%s (pages of at most %d)",
								 runtime_ref(e, state->limit_index), state->opts->page_size);
		}
		else
			appendStringInfo(&paging, "&limit=%d", state->opts->page_size);
	}
	else
		appendStringInfo(&paging, "limit=%d", state->opts->page_size);

	foreach(lc, queries)
	{
		StringInfoData buf;
		ListCell   *lr;

		initStringInfo(&buf);
		appendStringInfo(&buf, "GET %s?", state->path);
		appendStringInfoString(&buf, (char *) lfirst(lc));
		foreach(lr, runtime)
		{
			if (buf.data[buf.len - 1] != '?')
				appendStringInfoChar(&buf, '&');
			appendStringInfoString(&buf, (char *) lfirst(lr));
		}
		if (buf.data[buf.len - 1] != '?')
			appendStringInfoChar(&buf, '&');
		appendStringInfoString(&buf, paging.data);
		lines = lappend(lines, buf.data);
	}
	foreach(lc, f.fields)
	{
		RdsFieldSet *fs = (RdsFieldSet *) lfirst(lc);

		if (!fs->sent && !rds_is_server_field(fs->field))
			lines = lappend(lines,
							psprintf("(%s: %d values, more than %d request streams allow: matched locally)",
									 fs->field, list_length(fs->values), RDS_MAX_STREAMS));
	}
	return lines;
}

#define EXPLAIN_MAX_STREAMS 10

static void
rdsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (state->mode == RDS_SCAN_COUNT)
		ExplainPropertyText("Pushed down", "count(*) from total_count", es);
	else if (state->mode == RDS_SCAN_LIMIT)
		ExplainPropertyText("Pushed down", "LIMIT/OFFSET", es);

	if (es->verbose)
	{
		List	   *lines = explain_requests(state, fsplan->fdw_exprs);

		if (es->format == EXPLAIN_FORMAT_TEXT)
		{
			ListCell   *lc;
			int			n = 0;

			foreach(lc, lines)
			{
				if (++n > EXPLAIN_MAX_STREAMS && list_length(lines) > EXPLAIN_MAX_STREAMS + 1)
				{
					ExplainPropertyText("Remote request",
										psprintf("... and %d more request streams",
												 list_length(lines) - EXPLAIN_MAX_STREAMS),
										es);
					break;
				}
				ExplainPropertyText("Remote request", (char *) lfirst(lc), es);
			}
		}
		else
			ExplainPropertyList("Remote requests", lines, es);
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
