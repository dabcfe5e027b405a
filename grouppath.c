/*-------------------------------------------------------------------------
 *
 * grouppath.c
 *		  The grouped count's upper path: which GROUP BY keys (status, name,
 *		  a time bucket of create_time, or a bucket and status or name) and
 *		  which aggregates (count(*), counts of one status) groupcount.c
 *		  answers, the scan tuple it fills, and the path's cost.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/tlist.h"
#include "utils/lsyscache.h"

#include "rds_compat.h"
#include "planner.h"

/*
 * Can n (an output expression or HAVING) be computed from the counts' rows?
 * Its aggregates must be ones a grouped count answers (groupagg.c), its
 * columns inside the GROUP BY expressions.  *by_status: an aggregate counts
 * one status.
 */
static bool
computed_from_counts(Node *n, List *group_exprs, RelOptInfo *rel, bool *by_status)
{
	RdsRelInfo *fpinfo = (RdsRelInfo *) rel->fdw_private;
	ListCell   *lc;

	if (n == NULL)
		return true;
	if (contain_subplans(n) || contain_volatile_functions(n))
		return false;
	foreach(lc, pull_var_clause(n, PVC_INCLUDE_AGGREGATES))
	{
		Expr	   *e = (Expr *) lfirst(lc);
		char	   *spec;

		if (!IsA(e, Aggref))
		{
			if (!list_member(pull_var_clause((Node *) group_exprs, 0), e))
				return false;
			continue;
		}
		spec = rds_group_agg_spec(e, rel->relid, fpinfo->relid);
		if (spec == NULL)
			return false;
		if (rds_group_agg_status(spec) != NULL)
			*by_status = true;
	}
	return true;
}

/*
 * What a GROUP BY expression groups by, for groupcount.c: a text column of
 * the task field status or name (compared by bytes), or a time bucket of a
 * timestamptz create_time column (bucket.c; its core goes to *bucket);
 * RDS_GROUP_NONE for anything else.
 */
static RdsGroupKind
group_kind_of(Expr *e, RelOptInfo *baserel, RdsRelInfo *fpinfo, RdsBucket *bucket)
{
	Var		   *var;
	const char *field;

	if (rds_bucket_recognize(e, baserel->relid, fpinfo->relid, bucket))
		return RDS_GROUP_BUCKET;
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
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
List *
rds_group_scan_tlist(RdsRelInfo *fpinfo, PathTarget *target)
{
	List	   *tlist = NIL;
	ListCell   *lc;

	foreach(lc, fpinfo->group_exprs)
		tlist = lappend(tlist, makeTargetEntry(copyObject(lfirst(lc)),
											   list_length(tlist) + 1, NULL, false));
	/* the aggregates of the output and of HAVING */
	foreach(lc, pull_var_clause((Node *) list_make2(target->exprs, fpinfo->having),
								PVC_INCLUDE_AGGREGATES))
		if (IsA(lfirst(lc), Aggref))
			tlist = add_to_flat_tlist(tlist, list_make1(lfirst(lc)));
	return tlist;
}

/*
 * count(*) [GROUP BY status | name | a time bucket of create_time]
 * answered by groupcount.c: every condition is pushed, the only ones the
 * requests do not enforce being create_time bounds of a timestamptz column
 * by a timestamptz, timestamp or date value, or of its ::date (rechecked
 * there on the window's edges, converted as PostgreSQL's comparison
 * converts them); HAVING only of the key and the counts, checked above the
 * scan.  Buckets need a lower bound.
 * Costed as the group requests or the pages, whichever is fewer: the
 * executor chooses the same way once it knows total_count.
 */
void
rds_add_group_count_path(PlannerInfo *root, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, GroupPathExtraData *gextra)
{
	RdsRelInfo *ifp = (RdsRelInfo *) input_rel->fdw_private;
	RdsRelInfo *fpinfo;
	Query	   *parse = root->parse;
	PathTarget *target = root->upper_targets[UPPERREL_GROUP_AGG];
	RdsGroupKind kind = RDS_GROUP_NONE;
	List	   *group_exprs = NIL;
	RdsGroupKind kind2 = RDS_GROUP_NONE;
	RdsBucket	bucket;
	bool		has_lower = false;
	bool		has_window = false;
	bool		has_agg = false;
	bool		by_status = false;
	bool		hide_status = false;
	List	   *group_kinds = NIL;
	double		groups;
	double		pages;
	ListCell   *lc;

	memset(&bucket, 0, sizeof(bucket));
	bucket.zone = "";
	if (parse->groupingSets || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || ifp->unpushed_rinfos != NIL ||
		gextra->patype == PARTITIONWISE_AGGREGATE_PARTIAL)
		return;
	foreach(lc, ifp->remote_conds)
	{
		RdsCond    *c = (RdsCond *) lfirst(lc);

		if (c->exact)
			continue;
		if (strcmp(c->field, "create_time") != 0 || c->valtype != TIMESTAMPTZOID ||
			(c->argtype != TIMESTAMPTZOID && c->argtype != TIMESTAMPOID &&
			 c->argtype != DATEOID) ||
			(c->kind != RDS_COND_LOWER && c->kind != RDS_COND_UPPER &&
			 c->kind != RDS_COND_TIME_EQ))
			return;
		has_window = true;
		if (c->kind != RDS_COND_UPPER)
			has_lower = true;
	}
	if (parse->groupClause)
	{
		/* one key, or a bucket and status or name (in either order) */
		if (list_length(parse->groupClause) > 2)
			return;
		foreach(lc, parse->groupClause)
		{
			Expr	   *e = (Expr *) get_sortgroupclause_expr(lfirst(lc), parse->targetList);
			RdsBucket	b;
			RdsGroupKind k = group_kind_of(e, input_rel, ifp, &b);

			if (k == RDS_GROUP_NONE)
				return;
			group_kinds = lappend_int(group_kinds, k);
			if (k == RDS_GROUP_BUCKET)
				bucket = b;
			if (group_exprs == NIL || k == RDS_GROUP_BUCKET)
			{
				kind2 = kind;
				kind = k;
				group_exprs = lcons(e, group_exprs);
			}
			else
			{
				kind2 = k;
				group_exprs = lappend(group_exprs, e);
			}
		}
		if (list_length(group_exprs) == 2 &&
			(kind != RDS_GROUP_BUCKET || kind2 == RDS_GROUP_BUCKET))
			return;
		if (kind == RDS_GROUP_BUCKET && !has_lower)
			return;
	}
	foreach(lc, target->exprs)
	{
		Expr	   *e = (Expr *) lfirst(lc);

		if (list_member(group_exprs, e))
			continue;
		if (!computed_from_counts((Node *) e, group_exprs, input_rel, &by_status))
			return;
		has_agg |= contain_agg_clause((Node *) e);
	}
	if (!has_agg ||
		!computed_from_counts(gextra->havingQual, group_exprs, input_rel, &by_status))
		return;
	if (!parse->groupClause && !has_window && !by_status)
		return;					/* the plain count(*) path */

	/* counts of one status: the status is a key, shown or not */
	if (by_status)
	{
		if (kind == RDS_GROUP_NONE)
			kind = RDS_GROUP_STATUS;
		else if (kind == RDS_GROUP_BUCKET && kind2 == RDS_GROUP_NONE)
			kind2 = RDS_GROUP_STATUS;
		else if (kind != RDS_GROUP_STATUS && kind2 != RDS_GROUP_STATUS)
			return;
		hide_status = !list_member_int(group_kinds, RDS_GROUP_STATUS);
	}

	switch (kind)
	{
		case RDS_GROUP_STATUS:
			groups = 3;
			break;
		case RDS_GROUP_NAME:
			groups = 15;
			break;
		case RDS_GROUP_BUCKET:
			groups = rds_bucket_guess(&bucket) *
				(kind2 == RDS_GROUP_STATUS ? 3 : kind2 == RDS_GROUP_NAME ? 15 : 1);
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
	fpinfo->group_kind2 = kind2;
	fpinfo->group_hide_status = hide_status;
	fpinfo->group_exprs = group_exprs;
	fpinfo->having = (List *) gextra->havingQual;
	fpinfo->bucket = bucket;
	output_rel->fdw_private = fpinfo;
	add_path(output_rel, (Path *)
			 rds_create_foreign_upper_path(root, output_rel, target, groups,
										   REQUEST_COST,
										   REQUEST_COST * (1.0 + Min(groups * ifp->streams + 2, pages) /
														   ifp->opts->parallel_requests) * 0.5,
										   NIL, NULL, NIL));
}
