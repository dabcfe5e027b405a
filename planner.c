/*-------------------------------------------------------------------------
 *
 * planner.c
 *		  Planning and costing of rds_task_fdw scans: the size of the task
 *		  list (ANALYZE's figures or a default; a remembered limit=1 request
 *		  only with use_remote_estimate), base and parameterized
 *		  paths, the upper paths that push LIMIT/OFFSET and count(*), and
 *		  GetForeignPlan, which hands the executor its fdw_private and
 *		  fdw_exprs.
 *
 * deparse.c says which conditions become query parameters; they travel to
 * the executor in fdw_private (descriptions) and fdw_exprs (the values,
 * evaluated when the scan starts or rescans).  Joins get parameterized
 * paths, so that a nested loop asks for one key at a time.  Two upper paths
 * take more work off PostgreSQL: LIMIT/OFFSET (when nothing is filtered
 * locally) and count(*) (answered from total_count).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "foreign/fdwapi.h"
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
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

/* One HTTP exchange, in units of seq_page_cost: a remote round trip. */
#define REQUEST_COST			100.0
/* Decoding and converting one task, on top of cpu_tuple_cost. */
#define DECODE_COST_PER_ROW		0.02
/* The list size assumed when the API cannot be asked. */
#define DEFAULT_TOTAL_TASKS		1000.0
/* How long a remote size estimate is reused by a backend. */
#define ESTIMATE_TTL_SECS		300

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
	List	   *remote_rinfos;	/* RestrictInfo * of remote_conds */
	List	   *unpushed_rinfos;	/* RestrictInfo * the API does not see */
	RdsScanMode upper;			/* for an upper relation: what it does */
	RelOptInfo *baserel;		/* for an upper relation: the foreign table */
	RdsGroupKind group_kind;	/* RDS_SCAN_GROUPS: the key */
	Expr	   *group_expr;		/* RDS_SCAN_GROUPS: the GROUP BY expression */
	List	   *time_strict;	/* RDS_SCAN_GROUPS: Boolean per remote_conds */
	List	   *having;			/* RDS_SCAN_GROUPS: HAVING, checked locally */
	char	   *group_zone;		/* RDS_SCAN_GROUPS: date_trunc's zone, "" =
								 * the session's TimeZone */
} RdsRelInfo;

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

static List *group_scan_tlist(RdsRelInfo *fpinfo, PathTarget *target);

/* ----------------------------------------------------------------
 *		Planning: estimates
 * ----------------------------------------------------------------
 */


/*
 * The size of the whole task list, asked of the API (use_remote_estimate):
 * a limit=1 request whose total_count the backend remembers for
 * ESTIMATE_TTL_SECS.  Throws if the request fails.
 */
static double
remote_total_tasks(RdsOptions *opts)
{
	RdsEstimate *entry;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext oldcxt;
	MemoryContext tmpcxt;
	char	   *path;
	char	   *query;
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

	path = rds_task_list_path(opts);
	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "rds_task_fdw estimate",
								   ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	query = rds_request_query("", "0", "1");
	initStringInfo(&body);
	rds_http_get(rds_get_connection(opts), path, query, &body, NULL);
	page = rds_page_parse(body.data, body.len,
						  psprintf("GET %s?%s", path, query), opts->server_name);
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

void
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
			fpinfo->remote_rinfos = lappend(fpinfo->remote_rinfos, rinfo);
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
			fpinfo->unpushed_rinfos = lappend(fpinfo->unpushed_rinfos, rinfo);
			fpinfo->all_exact = false;
		}
	}
	fpinfo->streams = Min(fpinfo->streams, RDS_MAX_STREAMS);

	/*
	 * The list's size.  Planning sends no request unless use_remote_estimate
	 * asks for one: ANALYZE's figures (pg_class.reltuples, pg_statistic)
	 * when it has run, else a fixed default.
	 */
	if (fpinfo->opts->use_remote_estimate)
		fpinfo->total_tasks = remote_total_tasks(fpinfo->opts);
	else if (baserel->tuples >= 0)
		fpinfo->total_tasks = baserel->tuples;
	else
		fpinfo->total_tasks = DEFAULT_TOTAL_TASKS;

	/*
	 * What the requests return: after ANALYZE, the statistics say what the
	 * pushed conditions keep; without them, what the fields are like (ids
	 * are one row whatever the size, statuses are few).
	 */
	if (baserel->tuples >= 0 && !fpinfo->opts->use_remote_estimate)
		selectivity = clauselist_selectivity(root, fpinfo->remote_rinfos,
											 baserel->relid, JOIN_INNER, NULL);
	else
	{
		foreach(lc, fpinfo->remote_conds)
			selectivity *= cond_selectivity((RdsCond *) lfirst(lc),
											fpinfo->total_tasks);
	}
	fpinfo->fetched_rows = Max(1.0, fpinfo->total_tasks * selectivity);

	/*
	 * What the scan returns: the conditions the API does not see on top of
	 * what it returns (a pushed condition rechecked locally counts once).
	 */
	baserel->tuples = fpinfo->total_tasks;
	baserel->rows = clamp_row_est(fpinfo->fetched_rows *
								  clauselist_selectivity(root, fpinfo->unpushed_rinfos,
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

/*
 * The time-window search (search.c): a path whose rows come sorted on the
 * create_time column as the query's first sort key wants them, so that
 * ORDER BY create_time [DESC] LIMIT n, max/min(create_time) (planned as
 * such a LIMIT 1) and LATERAL "latest task" subqueries read only the
 * newest (oldest) windows.  Offered for one request stream (no IN list)
 * of tasks; conditions checked locally only make the search read more
 * windows.  Its ForeignPath.fdw_private is the FdwScanPrivateSearch list.
 * Costed as two requests to start and one per ~30 rows after: cheaper
 * than reading and sorting the stream when few rows are wanted, dearer
 * when all are (then PostgreSQL keeps the plain read and its Sort).
 */
static void
add_search_path(PlannerInfo *root, RelOptInfo *baserel, RdsRelInfo *fpinfo)
{
	PathKey    *pk;
	Var		   *var = NULL;
	ListCell   *lc;
	const char *field;
	bool		desc;
	bool		nulls_excluded = false;
	int64		need = -1;
	StringInfoData text;
	double		per_window;
	Cost		startup_cost;
	Cost		total_cost;
	Query	   *parse = root->parse;

	if (root->query_pathkeys == NIL || fpinfo->has_fanout ||
		fpinfo->opts->resource != RDS_RESOURCE_TASKS ||
		baserel->reloptkind != RELOPT_BASEREL)
		return;
	pk = linitial_node(PathKey, root->query_pathkeys);
	if (pk->pk_eclass->ec_has_volatile)
		return;
	foreach(lc, pk->pk_eclass->ec_members)
	{
		EquivalenceMember *em = (EquivalenceMember *) lfirst(lc);

		if (IsA(em->em_expr, Var) &&
			((Var *) em->em_expr)->varno == (int) baserel->relid &&
			((Var *) em->em_expr)->varlevelsup == 0 &&
			((Var *) em->em_expr)->varattno > 0)
		{
			var = (Var *) em->em_expr;
			break;
		}
	}
	if (var == NULL ||
		(var->vartype != TIMESTAMPTZOID && var->vartype != TIMESTAMPOID))
		return;
	field = rds_column_field_name(fpinfo->relid, var->varattno);
	if (strcmp(field, "create_time") != 0 ||
		pk->pk_opfamily != get_opclass_family(GetDefaultOpClass(var->vartype,
																BTREE_AM_OID)))
		return;
	desc = RDS_PATHKEY_DESC(pk);

	/* "create_time IS NOT NULL" (max/min add it): no task without a time */
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		NullTest   *nt = (NullTest *) rinfo->clause;

		if (IsA(nt, NullTest) && nt->nulltesttype == IS_NOT_NULL &&
			IsA(nt->arg, Var) && ((Var *) nt->arg)->varno == var->varno &&
			((Var *) nt->arg)->varattno == var->varattno)
			nulls_excluded = true;
	}

	/* the rows wanted, when this relation is the whole query */
	if (root->limit_tuples > 0 &&
		bms_membership(root->all_baserels) == BMS_SINGLETON)
		need = (int64) root->limit_tuples;

	/* EXPLAIN: "ORDER BY create_time DESC LIMIT 10" */
	initStringInfo(&text);
	appendStringInfo(&text, "ORDER BY %s%s%s",
					 quote_identifier(get_attname(fpinfo->relid, var->varattno, false)),
					 desc ? " DESC" : "",
					 pk->pk_nulls_first == desc ? "" :
					 pk->pk_nulls_first ? " NULLS FIRST" : " NULLS LAST");
	if (bms_membership(root->all_baserels) == BMS_SINGLETON)
	{
		if (parse->limitCount && IsA(parse->limitCount, Const) &&
			!((Const *) parse->limitCount)->constisnull)
			appendStringInfo(&text, " LIMIT " INT64_FORMAT,
							 DatumGetInt64(((Const *) parse->limitCount)->constvalue));
		else if (parse->limitCount && IsA(parse->limitCount, Param))
			appendStringInfo(&text, " LIMIT $%d", ((Param *) parse->limitCount)->paramid);
		if (parse->limitOffset && IsA(parse->limitOffset, Const) &&
			!((Const *) parse->limitOffset)->constisnull)
			appendStringInfo(&text, " OFFSET " INT64_FORMAT,
							 DatumGetInt64(((Const *) parse->limitOffset)->constvalue));
		else if (parse->limitOffset && IsA(parse->limitOffset, Param))
			appendStringInfo(&text, " OFFSET $%d", ((Param *) parse->limitOffset)->paramid);
	}

	per_window = Max(1.0, floor(fpinfo->opts->page_size * 0.6));
	startup_cost = 2 * REQUEST_COST;
	total_cost = startup_cost + REQUEST_COST * ceil(fpinfo->fetched_rows / per_window) +
		fpinfo->fetched_rows * (cpu_tuple_cost + DECODE_COST_PER_ROW);
	add_path(baserel, (Path *)
			 rds_create_foreignscan_path(root, baserel, NULL, baserel->rows,
										 startup_cost, total_cost,
										 list_make1(pk), baserel->lateral_relids,
										 NULL,
										 lappend(list_make5(makeBoolean(desc),
															makeBoolean(pk->pk_nulls_first),
															makeBoolean(nulls_excluded),
															makeInteger(var->varattno),
															makeInteger((int) Min(need, PG_INT32_MAX))),
												 makeString(text.data))));
}

void
rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	RdsRelInfo *fpinfo = (RdsRelInfo *) baserel->fdw_private;
	Cost		startup_cost;
	Cost		total_cost;
	List	   *candidates = NIL;
	List	   *done_outers = NIL;
	ListCell   *lc;
	AttrNumber	attno;			/* ec_member_matches_field reads an AttrNumber */

	request_costs(fpinfo->opts, fpinfo->fetched_rows, fpinfo->streams,
				  &startup_cost, &total_cost);
	add_path(baserel, (Path *)
			 rds_create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost, NIL,
									 baserel->lateral_relids, NULL, NIL));
	add_search_path(root, baserel, fpinfo);

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

		/* built-in type OIDs (see FdwScanPrivateIndex): they fit an Integer */
		Assert(c->valtype == InvalidOid || c->valtype == TIMESTAMPTZOID ||
			   c->valtype == TIMESTAMPOID || c->valtype == DATEOID);
		Assert(c->argtype == InvalidOid || c->argtype == TIMESTAMPTZOID ||
			   c->argtype == TIMESTAMPOID || c->argtype == DATEOID);
		*fdw_exprs = lappend(*fdw_exprs, c->value);
		result = lappend(result,
						 lappend(list_make5(makeString(pstrdup(c->field)),
											makeInteger(c->kind),
											makeInteger((int) c->valtype),
											makeInteger((int) c->argtype),
											makeBoolean(c->date_of)),
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

ForeignScan *
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

		/* the time-window search (add_search_path) needs create_time */
		if (best_path->fdw_private != NIL)
			list_nth_node(Integer, attnos,
						  intVal(lfourth(best_path->fdw_private)) - 1)->ival =
				intVal(lfourth(best_path->fdw_private));
		fdw_private = list_make5(makeInteger(best_path->fdw_private != NIL ?
											 RDS_SCAN_SEARCH : RDS_SCAN_ROWS),
								 attnos,
								 serialize_conds(conds, &fdw_exprs),
								 list_make2(makeInteger(-1), makeInteger(-1)),
								 NIL);	/* FdwScanPrivateGroup */
		fdw_private = lappend(fdw_private, best_path->fdw_private);
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
		else if (fpinfo->upper == RDS_SCAN_GROUPS)
			fdw_scan_tlist = group_scan_tlist(fpinfo, best_path->path.pathtarget);
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
								 attnos,
								 serialized,
								 list_make2(makeInteger(limit_index),
											makeInteger(offset_index)),
								 fpinfo->upper == RDS_SCAN_GROUPS ?
								 list_make3(makeInteger(fpinfo->group_kind),
											fpinfo->time_strict,
											makeString(pstrdup(fpinfo->group_zone))) :
								 NIL);
		fdw_private = lappend(fdw_private, NIL);	/* FdwScanPrivateSearch */
		/* a grouped count's HAVING runs on its rows, as the scan's qual */
		return make_foreignscan(tlist,
								fpinfo->upper == RDS_SCAN_GROUPS ? fpinfo->having : NIL,
								0, fdw_exprs, fdw_private,
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

/* Is the expression count(*), or count of a non-null constant, plain? */
static bool
is_count_star(Expr *e)
{
	Aggref	   *agg = (Aggref *) e;

	if (!IsA(e, Aggref) || agg->aggfilter || agg->aggdistinct || agg->aggorder ||
		agg->agglevelsup != 0 || agg->aggkind != AGGKIND_NORMAL)
		return false;
	if (agg->aggfnoid == F_COUNT_ && agg->aggstar)
		return true;
	if (agg->aggfnoid == F_COUNT_ANY && list_length(agg->args) == 1)
	{
		Expr	   *arg = ((TargetEntry *) linitial(agg->args))->expr;

		return IsA(arg, Const) && !((Const *) arg)->constisnull;
	}
	return false;
}

/*
 * Can HAVING be checked on the counts' rows?  Its aggregates must be among
 * the counts, its columns inside the GROUP BY expression.
 */
static bool
having_is_local(Node *having, Expr *group_expr)
{
	List	   *nodes;
	ListCell   *lc;

	if (having == NULL)
		return true;
	if (contain_subplans(having) || contain_volatile_functions(having))
		return false;
	nodes = pull_var_clause(having, PVC_INCLUDE_AGGREGATES);
	foreach(lc, nodes)
	{
		Expr	   *e = (Expr *) lfirst(lc);

		if (IsA(e, Aggref) ? !is_count_star(e) :
			(group_expr == NULL ||
			 !list_member(pull_var_clause((Node *) group_expr, 0), e)))
			return false;
	}
	return true;
}

/*
 * What a GROUP BY expression groups by, for groupcount.c: a text column of
 * the task field status or name (compared by bytes), or date_trunc('day' or
 * 'hour', create_time[, constant zone]) on a timestamptz column (in the
 * session's TimeZone or that zone, as groupcount.c computes the buckets; the
 * zone goes to *zone, "" for the session's); RDS_GROUP_NONE for anything
 * else.
 */
static RdsGroupKind
group_kind_of(Expr *e, RelOptInfo *baserel, RdsRelInfo *fpinfo, char **zone)
{
	Var		   *var;
	const char *field;

	*zone = "";
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
	if (e && IsA(e, FuncExpr) &&
		((((FuncExpr *) e)->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ &&
		  list_length(((FuncExpr *) e)->args) == 2) ||
		 (((FuncExpr *) e)->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT &&
		  list_length(((FuncExpr *) e)->args) == 3)))
	{
		Const	   *unit = (Const *) linitial(((FuncExpr *) e)->args);
		Var		   *col = (Var *) lsecond(((FuncExpr *) e)->args);
		char	   *unit_text;

		if (list_length(((FuncExpr *) e)->args) == 3)
		{
			Const	   *z = (Const *) lthird(((FuncExpr *) e)->args);

			if (!IsA(z, Const) || z->constisnull || z->consttype != TEXTOID)
				return RDS_GROUP_NONE;
			*zone = TextDatumGetCString(z->constvalue);
			if ((*zone)[0] == '\0')
				return RDS_GROUP_NONE;	/* PostgreSQL's error, not ours */
		}

		if (!IsA(unit, Const) || unit->constisnull || unit->consttype != TEXTOID ||
			!IsA(col, Var) || col->varno != (int) baserel->relid ||
			col->varlevelsup != 0 || col->varattno <= 0 ||
			col->vartype != TIMESTAMPTZOID ||
			strcmp(rds_column_field_name(fpinfo->relid, col->varattno),
				   "create_time") != 0)
			return RDS_GROUP_NONE;
		unit_text = TextDatumGetCString(unit->constvalue);
		if (pg_strcasecmp(unit_text, "day") == 0)
			return RDS_GROUP_DAY;
		if (pg_strcasecmp(unit_text, "hour") == 0)
			return RDS_GROUP_HOUR;
		return RDS_GROUP_NONE;
	}
	if (e == NULL || !IsA(e, Var))
		return RDS_GROUP_NONE;
	var = (Var *) e;
	if (var->varno != (int) baserel->relid || var->varlevelsup != 0 ||
		var->varattno <= 0 || var->vartypmod >= 0 ||
		(var->vartype != TEXTOID && var->vartype != VARCHAROID) ||
		(OidIsValid(var->varcollid) &&
		 !get_collation_isdeterministic(var->varcollid)))
		return RDS_GROUP_NONE;
	field = rds_column_field_name(fpinfo->relid, var->varattno);
	if (strcmp(field, "status") == 0)
		return RDS_GROUP_STATUS;
	if (strcmp(field, "name") == 0)
		return RDS_GROUP_NAME;
	return RDS_GROUP_NONE;
}

/*
 * The scan tuple of a grouped count: the GROUP BY expression (if any), then
 * the count(*) aggregates.
 */
static List *
group_scan_tlist(RdsRelInfo *fpinfo, PathTarget *target)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	if (fpinfo->group_expr)
		tlist = lappend(tlist, makeTargetEntry(copyObject(fpinfo->group_expr),
											   1, NULL, false));
	foreach(lc, target->exprs)
		if (is_count_star((Expr *) lfirst(lc)))
			tlist = add_to_flat_tlist(tlist, list_make1(lfirst(lc)));
	/* the counts HAVING uses */
	foreach(lc, pull_var_clause((Node *) fpinfo->having, PVC_INCLUDE_AGGREGATES))
		if (IsA(lfirst(lc), Aggref))
			tlist = add_to_flat_tlist(tlist, list_make1(lfirst(lc)));
	return tlist;
}

/*
 * count(*) [GROUP BY status | name | date_trunc('day'|'hour', create_time)]
 * answered by groupcount.c: every condition is pushed, the only ones the
 * requests do not enforce being create_time bounds of a timestamptz column
 * by a timestamptz value (rechecked there on the window's edges); no
 * HAVING (it would have to run in the scan).  Buckets need a lower bound.
 * Costed as the group requests or the pages, whichever is fewer: the
 * executor chooses the same way once it knows total_count.
 */
static void
add_group_count_path(PlannerInfo *root, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, GroupPathExtraData *gextra)
{
	RdsRelInfo *ifp = (RdsRelInfo *) input_rel->fdw_private;
	RdsRelInfo *fpinfo;
	Query	   *parse = root->parse;
	PathTarget *target = root->upper_targets[UPPERREL_GROUP_AGG];
	RdsGroupKind kind = RDS_GROUP_NONE;
	Expr	   *group_expr = NULL;
	char	   *zone = "";
	List	   *strict = NIL;
	bool		has_lower = false;
	bool		has_window = false;
	bool		has_count = false;
	double		groups;
	double		pages;
	ListCell   *lc;

	if (parse->groupingSets || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || ifp->unpushed_rinfos != NIL ||
		gextra->patype == PARTITIONWISE_AGGREGATE_PARTIAL)
		return;
	foreach(lc, ifp->remote_conds)
	{
		RdsCond    *c = (RdsCond *) lfirst(lc);

		strict = lappend(strict, makeBoolean(c->strict));
		if (c->exact)
			continue;
		if (strcmp(c->field, "create_time") != 0 || c->date_of ||
			c->valtype != TIMESTAMPTZOID || c->argtype != TIMESTAMPTZOID ||
			(c->kind != RDS_COND_LOWER && c->kind != RDS_COND_UPPER &&
			 c->kind != RDS_COND_TIME_EQ))
			return;
		has_window = true;
		if (c->kind != RDS_COND_UPPER)
			has_lower = true;
	}
	if (parse->groupClause)
	{
		if (list_length(parse->groupClause) != 1)
			return;
		group_expr = (Expr *) get_sortgroupclause_expr(linitial(parse->groupClause),
													   parse->targetList);
		kind = group_kind_of(group_expr, input_rel, ifp, &zone);
		if (kind == RDS_GROUP_NONE ||
			((kind == RDS_GROUP_DAY || kind == RDS_GROUP_HOUR) && !has_lower))
			return;
	}
	else if (!has_window)
		return;					/* the plain count(*) path */
	foreach(lc, target->exprs)
	{
		Expr	   *e = (Expr *) lfirst(lc);

		if (is_count_star(e))
			has_count = true;
		else if (group_expr == NULL || !equal(e, group_expr))
			return;
	}
	if (!has_count || !having_is_local(gextra->havingQual, group_expr))
		return;

	switch (kind)
	{
		case RDS_GROUP_STATUS:
			groups = 3;
			break;
		case RDS_GROUP_NAME:
			groups = 15;
			break;
		case RDS_GROUP_DAY:
			groups = 30;
			break;
		case RDS_GROUP_HOUR:
			groups = 24 * 7;
			break;
		default:
			groups = 1;
			break;
	}
	pages = ifp->streams * Max(1.0, ceil(ifp->fetched_rows / Max(ifp->streams, 1.0) /
										 ifp->opts->page_size));
	fpinfo = palloc0(sizeof(RdsRelInfo));
	*fpinfo = *ifp;
	fpinfo->upper = RDS_SCAN_GROUPS;
	fpinfo->baserel = input_rel;
	fpinfo->group_kind = kind;
	fpinfo->group_expr = group_expr;
	fpinfo->time_strict = strict;
	fpinfo->having = (List *) gextra->havingQual;
	fpinfo->group_zone = zone;
	output_rel->fdw_private = fpinfo;
	add_path(output_rel, (Path *)
			 rds_create_foreign_upper_path(root, output_rel, target, groups,
										   REQUEST_COST,
										   REQUEST_COST * (1.0 + Min(groups * ifp->streams + 2, pages) /
														   ifp->opts->parallel_requests) * 0.5,
										   NIL, NULL, NIL));
}

/*
 * Upper paths: count(*) answered from total_count, and LIMIT/OFFSET sent
 * as offset/limit.  Both only when every condition is enforced by the
 * requests, so that nothing local could drop a row.
 */
void
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
		!bms_is_empty(input_rel->lateral_relids) ||
		ifp->opts->resource != RDS_RESOURCE_TASKS)
		return;

	/* count(*) over a create_time window, or by groups: groupcount.c */
	if (stage == UPPERREL_GROUP_AGG && (!ifp->all_exact || parse->groupClause))
	{
		add_group_count_path(root, input_rel, output_rel,
							 (GroupPathExtraData *) extra);
		return;
	}
	if (!ifp->all_exact)
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

bool
rdsIsForeignPathAsyncCapable(ForeignPath *path)
{
	RelOptInfo *rel = path->path.parent;
	RdsRelInfo *fpinfo = (RdsRelInfo *) rel->fdw_private;

	/* the time-window search reads window after window, synchronously */
	return IS_SIMPLE_REL(rel) && fpinfo != NULL && fpinfo->upper == RDS_SCAN_ROWS &&
		path->fdw_private == NIL;
}
