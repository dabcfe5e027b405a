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
#include "planner.h"

/* Decoding and converting one task, on top of cpu_tuple_cost. */
#define DECODE_COST_PER_ROW		0.02
/* The list size assumed when the API cannot be asked. */
#define DEFAULT_TOTAL_TASKS		1000.0
/* How long a remote size estimate is reused by a backend. */
#define ESTIMATE_TTL_SECS		300

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
	total = rds_page_total_count(rds_page_get(rds_get_connection(opts), path,
											  "", 0, 1, 0, false, NULL));
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

/*
 * rdsGetForeignRelSize
 *		Resolves the table's options for the scanning user, splits
 *		baserestrictinfo once into conditions the API is sent (RdsCond, some
 *		also rechecked) and conditions it never sees, and estimates the rows:
 *		the list's size from ANALYZE, the API (use_remote_estimate: one
 *		limit=1 request, remembered per backend) or a default, narrowed by
 *		the conditions.  Leaves an RdsRelInfo in baserel->fdw_private for the
 *		later callbacks.  Throws on bad options, or if use_remote_estimate's
 *		request fails.
 */
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
 * windows.  Its ForeignPath.fdw_private is a plan (plan.c) with the
 * search's part filled in.
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
	RdsScanPlan plan;

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
	rds_plan_init(&plan, RDS_SCAN_SEARCH);
	plan.search_desc = desc;
	plan.search_nulls_first = pk->pk_nulls_first;
	plan.search_nulls_excluded = nulls_excluded;
	plan.search_attno = var->varattno;
	plan.search_need = (int) Min(need, PG_INT32_MAX);
	plan.search_text = text.data;
	add_path(baserel, (Path *)
			 rds_create_foreignscan_path(root, baserel, NULL, baserel->rows,
										 startup_cost, total_cost,
										 list_make1(pk), baserel->lateral_relids,
										 NULL, rds_plan_to_list(&plan)));
}

/*
 * rdsGetForeignPaths
 *		Adds the plain read of the request streams; the time-window search,
 *		sorted by create_time, when the query wants that order; and a
 *		parameterized path per set of outer relations for join clauses on
 *		fields the API filters by (one request stream per outer row).  Each
 *		path's fdw_private is NIL but the search's, which is a plan
 *		(plan.c) with its search part filled in.
 */
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

/* The plan's form of conditions; their values are appended to fdw_exprs. */
static List *
plan_conds(List *conds, List **fdw_exprs)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, conds)
	{
		RdsCond    *c = (RdsCond *) lfirst(lc);
		RdsPlanCond *pc = palloc(sizeof(RdsPlanCond));

		*fdw_exprs = lappend(*fdw_exprs, c->value);
		pc->field = pstrdup(c->field);
		pc->kind = c->kind;
		pc->valtype = c->valtype;
		pc->argtype = c->argtype;
		pc->date_of = c->date_of;
		pc->strict = c->strict;
		pc->expr_index = list_length(*fdw_exprs) - 1;
		result = lappend(result, pc);
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

/* The condition GetForeignRelSize made of rinfo, or NULL. */
static RdsCond *
remote_cond_of(RdsRelInfo *fpinfo, RestrictInfo *rinfo)
{
	ListCell   *lr;
	ListCell   *lc;

	forboth(lr, fpinfo->remote_rinfos, lc, fpinfo->remote_conds)
		if (lfirst(lr) == rinfo)
			return (RdsCond *) lfirst(lc);
	return NULL;
}

/*
 * rdsGetForeignPlan
 *		Makes the ForeignScan of best_path.  fdw_private is the plan
 *		(plan.c: mode, fetched columns, conditions sent, LIMIT/OFFSET, group
 *		key, search); fdw_exprs the conditions' values and LIMIT/OFFSET, so
 *		that outer Vars become Params.  For a base relation the clauses are
 *		those GetForeignRelSize split (a parameterized path's join clauses
 *		are classified here); the ones the API does not enforce stay in the
 *		plan's qual.  For an upper relation (LIMIT, count(*), grouped
 *		counts) fdw_scan_tlist describes its rows, and a grouped count's
 *		HAVING is the qual.
 */
ForeignScan *
rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *foreignrel, Oid foreigntableid,
				  ForeignPath *best_path, List *tlist, List *scan_clauses,
				  Plan *outer_plan)
{
	RdsRelInfo *fpinfo = (RdsRelInfo *) foreignrel->fdw_private;
	RdsScanPlan plan;
	List	   *fdw_exprs = NIL;
	List	   *conds = NIL;
	List	   *local_exprs = NIL;
	List	   *fdw_scan_tlist = NIL;
	ListCell   *lc;

	if (IS_SIMPLE_REL(foreignrel))
	{
		Bitmapset  *attrs_used = NULL;
		Relation	rel;
		int			natts;
		int			i;

		/* a time-window search path brings its part of the plan */
		if (best_path->fdw_private != NIL)
			rds_plan_from_list(best_path->fdw_private, &plan);
		else
			rds_plan_init(&plan, RDS_SCAN_ROWS);

		/*
		 * The clauses as GetForeignRelSize split them: sent, sent and
		 * rechecked, or local only.  A join clause of a parameterized path
		 * is new here.
		 */
		foreach(lc, scan_clauses)
		{
			RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
			RdsCond    *known = remote_cond_of(fpinfo, rinfo);
			RdsCond		cond;

			if (rinfo->pseudoconstant)
				continue;
			if (known != NULL)
				cond = *known;
			else if (list_member_ptr(fpinfo->unpushed_rinfos, rinfo) ||
					 !classify_clause(root, foreignrel, fpinfo, rinfo->clause, &cond))
			{
				local_exprs = lappend(local_exprs, rinfo->clause);
				continue;
			}
			conds = lappend(conds, memcpy(palloc(sizeof(RdsCond)), &cond,
										  sizeof(RdsCond)));
			if (!cond.exact)
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
				bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs_used) ||
				i == plan.search_attno;	/* the search needs create_time */

			plan.attnos = lappend(plan.attnos, makeInteger(used ? i : 0));
		}
		plan.conds = plan_conds(conds, &fdw_exprs);
		return make_foreignscan(tlist, local_exprs, foreignrel->relid,
								fdw_exprs, rds_plan_to_list(&plan),
								NIL, NIL, outer_plan);
	}

	/* an upper relation: LIMIT or count(*) over the foreign table */
	rds_plan_init(&plan, fpinfo->upper);
	plan.conds = plan_conds(((RdsRelInfo *) fpinfo->baserel->fdw_private)->remote_conds,
							&fdw_exprs);
	if (fpinfo->upper == RDS_SCAN_COUNT)
	{
		fdw_scan_tlist = add_to_flat_tlist(NIL,
										   pull_var_clause((Node *) best_path->path.pathtarget->exprs,
														   PVC_INCLUDE_AGGREGATES));
		/* every column a count(*) (target_is_count_star) */
		foreach(lc, fdw_scan_tlist)
			plan.group_aggs = lappend(plan.group_aggs, makeString("count"));
	}
	else if (fpinfo->upper == RDS_SCAN_GROUPS)
	{
		fdw_scan_tlist = rds_group_scan_tlist(fpinfo, best_path->path.pathtarget);
		plan.group_kind = fpinfo->group_kind;
		plan.group_kind2 = fpinfo->group_kind2;
		plan.group_hide_status = fpinfo->group_hide_status;
		plan.bucket = fpinfo->bucket;
		/* each column after the keys: its aggregate */
		foreach(lc, list_copy_tail(fdw_scan_tlist, list_length(fpinfo->group_exprs)))
			plan.group_aggs = lappend(plan.group_aggs, makeString(
				rds_group_agg_spec(((TargetEntry *) lfirst(lc))->expr,
								   fpinfo->baserel->relid,
								   ((RdsRelInfo *) fpinfo->baserel->fdw_private)->relid)));
	}
	else
	{
		Query	   *parse = root->parse;

		fdw_scan_tlist = add_to_flat_tlist(NIL,
										   pull_var_clause((Node *) best_path->path.pathtarget->exprs,
														   PVC_RECURSE_PLACEHOLDERS));
		plan.attnos = scan_tlist_attnos(fdw_scan_tlist);
		if (parse->limitCount)
		{
			fdw_exprs = lappend(fdw_exprs, parse->limitCount);
			plan.limit_index = list_length(fdw_exprs) - 1;
		}
		if (parse->limitOffset)
		{
			fdw_exprs = lappend(fdw_exprs, parse->limitOffset);
			plan.offset_index = list_length(fdw_exprs) - 1;
		}
	}
	/* a grouped count's HAVING runs on its rows, as the scan's qual */
	return make_foreignscan(tlist,
							fpinfo->upper == RDS_SCAN_GROUPS ? fpinfo->having : NIL,
							0, fdw_exprs, rds_plan_to_list(&plan),
							fdw_scan_tlist, NIL, outer_plan);
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
	if (stage == UPPERREL_GROUP_AGG &&
		(!ifp->all_exact || parse->groupClause ||
		 !target_is_count_star(root->upper_targets[UPPERREL_GROUP_AGG])))
	{
		rds_add_group_count_path(root, input_rel, output_rel,
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

/*
 * rdsIsForeignPathAsyncCapable
 *		A plain read of a base relation may run under an asynchronous
 *		Append; counts, LIMIT and the time-window search do not.
 */
bool
rdsIsForeignPathAsyncCapable(ForeignPath *path)
{
	RelOptInfo *rel = path->path.parent;
	RdsRelInfo *fpinfo = (RdsRelInfo *) rel->fdw_private;

	/* the time-window search reads window after window, synchronously */
	return IS_SIMPLE_REL(rel) && fpinfo != NULL && fpinfo->upper == RDS_SCAN_ROWS &&
		path->fdw_private == NIL;
}
