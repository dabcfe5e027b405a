/*-------------------------------------------------------------------------
 *
 * plan.c
 *		  The plan format: what the planner hands the executor in
 *		  ForeignScan.fdw_private (and what a time-window search path
 *		  carries in ForeignPath.fdw_private), written and read here only.
 *
 * fdw_private must survive copyObject and, for a cached plan, outlive the
 * planner, so it is a List of plain nodes.  It is flat and read by name:
 * each position has an enum constant below, and a condition, the only
 * record with more than one item, is a List indexed the same way.  The
 * plan holds no OID but built-in type OIDs (a condition's types), which
 * fit an Integer; the foreign table is found in the range table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"

#include "rds_task_fdw.h"

/* The items of fdw_private; rds_plan_to_list writes them in this order. */
enum RdsPlanItem
{
	RdsPlanMode,				/* Integer: RdsScanMode */
	RdsPlanAttnos,				/* List of Integer: table attno per scan
								 * column, 0 = not fetched */
	RdsPlanConds,				/* List of conditions (RdsPlanCondItem) */
	RdsPlanLimitIndex,			/* Integer: LIMIT in fdw_exprs, -1 = none */
	RdsPlanOffsetIndex,			/* Integer: OFFSET in fdw_exprs, -1 = none */
	RdsPlanGroupKind,			/* Integer: RdsGroupKind */
	RdsPlanGroupKind2,			/* Integer: RdsGroupKind */
	RdsPlanGroupHideStatus,		/* Boolean */
	RdsPlanGroupAggs,			/* List of String: groupagg.c's specs */
	RdsPlanBucketUnit,			/* Integer: RdsBucketUnit */
	RdsPlanBucketSeconds,		/* Integer */
	RdsPlanBucketShiftDays,		/* Integer */
	RdsPlanBucketZone,			/* String: "" = the session's */
	RdsPlanSearchDesc,			/* Boolean */
	RdsPlanSearchNullsFirst,	/* Boolean */
	RdsPlanSearchNullsExcluded, /* Boolean */
	RdsPlanSearchAttno,			/* Integer: the create_time column */
	RdsPlanSearchNeed,			/* Integer: rows wanted, -1 = unknown */
	RdsPlanSearchText,			/* String: EXPLAIN's "ORDER BY ..." */
	RdsPlanItems				/* the number of items */
};

/* The items of one condition. */
enum RdsPlanCondItem
{
	RdsPlanCondField,			/* String */
	RdsPlanCondKind,			/* Integer: RdsCondKind */
	RdsPlanCondValtype,			/* Integer: Oid, 0 = not a time condition */
	RdsPlanCondArgtype,			/* Integer: Oid of its value, or 0 */
	RdsPlanCondDateOf,			/* Boolean */
	RdsPlanCondStrict,			/* Boolean */
	RdsPlanCondExprIndex,		/* Integer: its value in fdw_exprs */
	RdsPlanCondItems
};

/* item i of a list written here, as a node of the expected type */
#define plan_int(l, i)		intVal(list_nth_node(Integer, (l), (i)))
#define plan_bool(l, i)		boolVal(list_nth_node(Boolean, (l), (i)))
#define plan_str(l, i)		strVal(list_nth_node(String, (l), (i)))

/*
 * rds_plan_init
 *		A plan of the given mode with nothing in it: no condition, no
 *		column, no LIMIT/OFFSET, no group key, no search.
 */
void
rds_plan_init(RdsScanPlan *plan, RdsScanMode mode)
{
	memset(plan, 0, sizeof(RdsScanPlan));
	plan->mode = mode;
	plan->limit_index = -1;
	plan->offset_index = -1;
	plan->group_kind = RDS_GROUP_NONE;
	plan->bucket.zone = "";
	plan->search_attno = 0;
	plan->search_need = -1;
	plan->search_text = "";
}

static List *
cond_to_list(const RdsPlanCond *c)
{
	List	   *l = NIL;

	/* built-in type OIDs only (see the file header): they fit an Integer */
	Assert(c->valtype == InvalidOid || c->valtype == TIMESTAMPTZOID ||
		   c->valtype == TIMESTAMPOID || c->valtype == DATEOID);
	Assert(c->argtype == InvalidOid || c->argtype == TIMESTAMPTZOID ||
		   c->argtype == TIMESTAMPOID || c->argtype == DATEOID);
	l = lappend(l, makeString(pstrdup(c->field)));	/* RdsPlanCondField */
	l = lappend(l, makeInteger(c->kind));	/* RdsPlanCondKind */
	l = lappend(l, makeInteger((int) c->valtype));	/* RdsPlanCondValtype */
	l = lappend(l, makeInteger((int) c->argtype));	/* RdsPlanCondArgtype */
	l = lappend(l, makeBoolean(c->date_of));	/* RdsPlanCondDateOf */
	l = lappend(l, makeBoolean(c->strict));	/* RdsPlanCondStrict */
	l = lappend(l, makeInteger(c->expr_index));	/* RdsPlanCondExprIndex */
	Assert(list_length(l) == RdsPlanCondItems);
	return l;
}

static RdsPlanCond *
cond_from_list(List *l)
{
	RdsPlanCond *c = palloc(sizeof(RdsPlanCond));

	Assert(list_length(l) == RdsPlanCondItems);
	c->field = plan_str(l, RdsPlanCondField);
	c->kind = (RdsCondKind) plan_int(l, RdsPlanCondKind);
	c->valtype = (Oid) plan_int(l, RdsPlanCondValtype);
	c->argtype = (Oid) plan_int(l, RdsPlanCondArgtype);
	c->date_of = plan_bool(l, RdsPlanCondDateOf);
	c->strict = plan_bool(l, RdsPlanCondStrict);
	c->expr_index = plan_int(l, RdsPlanCondExprIndex);
	return c;
}

/*
 * rds_plan_to_list
 *		plan as an fdw_private List (palloc'd in CurrentMemoryContext).
 */
List *
rds_plan_to_list(const RdsScanPlan *plan)
{
	List	   *l = NIL;
	List	   *conds = NIL;
	ListCell   *lc;

	foreach(lc, plan->conds)
		conds = lappend(conds, cond_to_list((RdsPlanCond *) lfirst(lc)));

	l = lappend(l, makeInteger(plan->mode));	/* RdsPlanMode */
	l = lappend(l, list_copy(plan->attnos));	/* RdsPlanAttnos */
	l = lappend(l, conds);		/* RdsPlanConds */
	l = lappend(l, makeInteger(plan->limit_index));	/* RdsPlanLimitIndex */
	l = lappend(l, makeInteger(plan->offset_index));	/* RdsPlanOffsetIndex */
	l = lappend(l, makeInteger(plan->group_kind));	/* RdsPlanGroupKind */
	l = lappend(l, makeInteger(plan->group_kind2));	/* RdsPlanGroupKind2 */
	l = lappend(l, makeBoolean(plan->group_hide_status));	/* RdsPlanGroupHideStatus */
	l = lappend(l, list_copy(plan->group_aggs));	/* RdsPlanGroupAggs */
	l = lappend(l, makeInteger(plan->bucket.unit)); /* RdsPlanBucketUnit */
	l = lappend(l, makeInteger(plan->bucket.seconds));	/* RdsPlanBucketSeconds */
	l = lappend(l, makeInteger(plan->bucket.shift_days));	/* RdsPlanBucketShiftDays */
	l = lappend(l, makeString(pstrdup(plan->bucket.zone)));	/* RdsPlanBucketZone */
	l = lappend(l, makeBoolean(plan->search_desc));	/* RdsPlanSearchDesc */
	l = lappend(l, makeBoolean(plan->search_nulls_first));	/* ...NullsFirst */
	l = lappend(l, makeBoolean(plan->search_nulls_excluded));	/* ...NullsExcluded */
	l = lappend(l, makeInteger(plan->search_attno));	/* RdsPlanSearchAttno */
	l = lappend(l, makeInteger(plan->search_need));	/* RdsPlanSearchNeed */
	l = lappend(l, makeString(pstrdup(plan->search_text)));	/* ...SearchText */
	Assert(list_length(l) == RdsPlanItems);
	return l;
}

/*
 * rds_plan_from_list
 *		Reads an fdw_private List written by rds_plan_to_list into *plan;
 *		its strings and lists point into fdw_private.
 */
void
rds_plan_from_list(List *fdw_private, RdsScanPlan *plan)
{
	ListCell   *lc;

	if (list_length(fdw_private) != RdsPlanItems)
		elog(ERROR, "rds_task_fdw: unexpected plan format (%d items)",
			 list_length(fdw_private));
	rds_plan_init(plan, (RdsScanMode) plan_int(fdw_private, RdsPlanMode));
	plan->attnos = (List *) list_nth(fdw_private, RdsPlanAttnos);
	foreach(lc, (List *) list_nth(fdw_private, RdsPlanConds))
		plan->conds = lappend(plan->conds, cond_from_list((List *) lfirst(lc)));
	plan->limit_index = plan_int(fdw_private, RdsPlanLimitIndex);
	plan->offset_index = plan_int(fdw_private, RdsPlanOffsetIndex);
	plan->group_kind = (RdsGroupKind) plan_int(fdw_private, RdsPlanGroupKind);
	plan->group_kind2 = (RdsGroupKind) plan_int(fdw_private, RdsPlanGroupKind2);
	plan->group_hide_status = plan_bool(fdw_private, RdsPlanGroupHideStatus);
	plan->group_aggs = (List *) list_nth(fdw_private, RdsPlanGroupAggs);
	plan->bucket.unit = (RdsBucketUnit) plan_int(fdw_private, RdsPlanBucketUnit);
	plan->bucket.seconds = plan_int(fdw_private, RdsPlanBucketSeconds);
	plan->bucket.shift_days = plan_int(fdw_private, RdsPlanBucketShiftDays);
	plan->bucket.zone = plan_str(fdw_private, RdsPlanBucketZone);
	plan->search_desc = plan_bool(fdw_private, RdsPlanSearchDesc);
	plan->search_nulls_first = plan_bool(fdw_private, RdsPlanSearchNullsFirst);
	plan->search_nulls_excluded = plan_bool(fdw_private, RdsPlanSearchNullsExcluded);
	plan->search_attno = plan_int(fdw_private, RdsPlanSearchAttno);
	plan->search_need = plan_int(fdw_private, RdsPlanSearchNeed);
	plan->search_text = plan_str(fdw_private, RdsPlanSearchText);
}
