/*-------------------------------------------------------------------------
 *
 * groupagg.c
 *		  The aggregates a grouped count answers besides count(*): counts of
 *		  one status, as BI tools write them for a "single stat" or a
 *		  stacked panel.
 *
 *	  count(*) FILTER (WHERE status = 'X')			count_if:X
 *	  count(CASE WHEN status = 'X' THEN 1 END)		count_if:X
 *	  sum(CASE WHEN status = 'X' THEN 1 ELSE 0 END)	sum_if:X
 *	  sum(CASE WHEN status = 'X' THEN 1 END)		sum_if_null:X (NULL when
 *													no task has status X)
 *
 * The planner names each scan column's aggregate with such a spec (plan.c
 * carries them); the grouped count then counts by status as well, visibly
 * or not, and groupresult.c computes each column from the counts of the
 * statuses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_aggregate.h"
#include "catalog/pg_type.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "rds_task_fdw.h"

/* n without the relabelling PostgreSQL puts on varchar and domains */
static Node *
strip(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* Is n the status column of the relation (text, deterministic collation)? */
static bool
is_status(Node *n, Index relid, Oid reloid)
{
	Var		   *var = (Var *) strip(n);

	return var && IsA(var, Var) && var->varno == (int) relid &&
		var->varlevelsup == 0 && var->varattno > 0 &&
		(var->vartype == TEXTOID || var->vartype == VARCHAROID) &&
		(!OidIsValid(var->varcollid) || get_collation_isdeterministic(var->varcollid)) &&
		strcmp(rds_column_field_name(reloid, var->varattno), "status") == 0;
}

/* status = 'X' (either side): X, palloc'd; else NULL */
static char *
status_eq(Node *n, Index relid, Oid reloid)
{
	OpExpr	   *op = (OpExpr *) strip(n);
	Node	   *a;
	Node	   *b;
	Const	   *c;

	if (op == NULL || !IsA(op, OpExpr) || list_length(op->args) != 2 ||
		get_opcode(op->opno) != F_TEXTEQ)
		return NULL;
	a = linitial(op->args);
	b = lsecond(op->args);
	if (!is_status(a, relid, reloid))
	{
		Node	   *t = a;

		a = b;
		b = t;
	}
	c = (Const *) strip(b);
	if (!is_status(a, relid, reloid) || c == NULL || !IsA(c, Const) ||
		c->constisnull || (c->consttype != TEXTOID && c->consttype != VARCHAROID))
		return NULL;
	return TextDatumGetCString(c->constvalue);
}

/* A constant of value v (int4), or any non-null constant if v < 0. */
static bool
is_const(Node *n, int v)
{
	Const	   *c = (Const *) strip(n);

	if (c == NULL || !IsA(c, Const) || c->constisnull)
		return false;
	return v < 0 || (c->consttype == INT4OID && DatumGetInt32(c->constvalue) == v);
}

static bool
is_null(Node *n)
{
	n = strip(n);
	return n == NULL || (IsA(n, Const) && ((Const *) n)->constisnull);
}

/*
 * CASE WHEN status = 'X' THEN then ELSE otherwise END: X (palloc'd) when
 * then matches then_value (< 0: any non-null constant) and the ELSE is
 * absent or NULL (*else_zero false) or 0 (*else_zero true); else NULL.
 */
static char *
case_of_status(Node *n, Index relid, Oid reloid, int then_value, bool *else_zero)
{
	CaseExpr   *ce = (CaseExpr *) strip(n);
	CaseWhen   *w;

	if (ce == NULL || !IsA(ce, CaseExpr) || ce->arg != NULL ||
		list_length(ce->args) != 1)
		return NULL;
	w = (CaseWhen *) linitial(ce->args);
	if (!is_const((Node *) w->result, then_value))
		return NULL;
	if (is_null((Node *) ce->defresult))
		*else_zero = false;
	else if (is_const((Node *) ce->defresult, 0))
		*else_zero = true;
	else
		return NULL;
	return status_eq((Node *) w->expr, relid, reloid);
}

/*
 * rds_group_agg_spec
 *		The spec of aggregate e (see the top of the file), "count" for
 *		count(*), or NULL if a grouped count cannot answer it.  Palloc'd.
 */
char *
rds_group_agg_spec(Expr *e, Index relid, Oid reloid)
{
	Aggref	   *agg = (Aggref *) e;
	Node	   *arg;
	char	   *x;
	bool		else_zero;

	if (e == NULL || !IsA(e, Aggref) || agg->aggdistinct || agg->aggorder ||
		agg->agglevelsup != 0 || agg->aggkind != AGGKIND_NORMAL)
		return NULL;
	arg = list_length(agg->args) == 1 ?
		(Node *) ((TargetEntry *) linitial(agg->args))->expr : NULL;
	if (agg->aggfnoid == F_COUNT_ && agg->aggstar)
	{
		if (agg->aggfilter == NULL)
			return pstrdup("count");
		x = status_eq((Node *) agg->aggfilter, relid, reloid);
		return x ? psprintf("count_if:%s", x) : NULL;
	}
	if (agg->aggfilter != NULL || arg == NULL)
		return NULL;
	if (agg->aggfnoid == F_COUNT_ANY)
	{
		if (is_const(arg, -1))
			return pstrdup("count");
		x = case_of_status(arg, relid, reloid, -1, &else_zero);
		return x && !else_zero ? psprintf("count_if:%s", x) : NULL;
	}
	if (agg->aggfnoid == F_SUM_INT4)
	{
		x = case_of_status(arg, relid, reloid, 1, &else_zero);
		if (x == NULL)
			return NULL;
		return psprintf("%s:%s", else_zero ? "sum_if" : "sum_if_null", x);
	}
	return NULL;
}

/*
 * rds_group_agg_value
 *		The value of the aggregate spec over a group of count tasks, of
 *		which status_count have the status the spec names.
 */
Datum
rds_group_agg_value(const char *spec, int64 count, int64 status_count, bool *isnull)
{
	*isnull = false;
	if (strncmp(spec, "count", 5) == 0)
		return Int64GetDatum(strcmp(spec, "count") == 0 ? count : status_count);
	/* sum(CASE ... ELSE 0): NULL over no task; without ELSE, over none of X */
	if (strncmp(spec, "sum_if_null:", 12) == 0 ? status_count == 0 : count == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return Int64GetDatum(status_count);
}

/* rds_group_agg_status: the status a spec counts, or NULL for count(*) */
const char *
rds_group_agg_status(const char *spec)
{
	const char *colon = strchr(spec, ':');

	return colon ? colon + 1 : NULL;
}
