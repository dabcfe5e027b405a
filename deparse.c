/*-------------------------------------------------------------------------
 *
 * deparse.c
 *		  Which conditions rds_task_fdw pushes to the API, how they become
 *		  query parameters, and the request text itself: the query string
 *		  of every page request and EXPLAIN's "Remote request:" line come
 *		  from the same builder (rds_filter_streams, rds_request_query).
 *
 * At plan time rds_classify_clause() recognizes
 *	   field = value			 (id, name, instance_id, order_id, status,
 *								  and the server-side project_id and region)
 *	   field = ANY(array value)	 (the same fields; IN lists)
 *	   create_time <, <=, =, >=, > value
 *								 (a create_time column of type timestamptz,
 *								  timestamp or date; the value of any of
 *								  these types, converted as PostgreSQL's
 *								  cross-type comparison converts it)
 *	   create_time::date <, <=, =, >=, > date value
 *								 (the matching window of instants)
 * where the value is anything that can be computed before the scan starts:
 * a constant, a parameter, a stable expression or an outer column of a
 * nested-loop join.
 *
 * At run time the values are fed into an RdsFilter, which intersects the
 * sets of values per field, narrows the time window, and finally produces
 * the request streams: one query string per combination of values, with
 * fan-out capped at RDS_MAX_STREAMS.  Fields that are not sent (over the
 * cap) are still enforced by rds_filter_match(), which every returned task
 * passes through, so the rows are exact whatever was pushed.  For EXPLAIN
 * the same filter is built from the values known at plan time, with
 * placeholders (rds_filter_add_placeholder) where a value is known only at
 * run time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/int.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define UNIX_TO_PG_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* end_time sent for an open upper side: 9999-12-31T23:59:59.999Z */
#define OPEN_END_MS RDS_OPEN_END_MS

/*
 * Is the field one the server's options answer (project_id, region) rather
 * than the API?
 */
bool
rds_is_server_field(const char *field)
{
	return strcmp(field, "project_id") == 0 || strcmp(field, "region") == 0;
}

/*
 * rds_task_list_path
 *		The path of the task list of the options' project (palloc'd).
 */
char *
rds_task_list_path(const RdsOptions *opts)
{
	return psprintf("/v3/%s/tasklist", opts->project_id);
}

/* Is this the name of a field that can be filtered by equality? */
static bool
is_equality_field(const char *field)
{
	const RdsTaskField *f;

	for (f = rds_task_fields; f->name; f++)
		if (f->param && strcmp(f->name, field) == 0)
			return true;
	return rds_is_server_field(field);
}

static Expr *
strip_relabel(Expr *e)
{
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
	return e;
}

/* A plain column of the scanned relation? */
static Var *
our_var(Expr *e, RelOptInfo *baserel)
{
	e = strip_relabel(e);
	if (e && IsA(e, Var))
	{
		Var		   *v = (Var *) e;

		if (v->varno == (int) baserel->relid && v->varlevelsup == 0 &&
			v->varattno > 0)
			return v;
	}
	return NULL;
}

/* The time types a create_time column or a time value may have. */
static bool
is_time_type(Oid typid)
{
	return typid == TIMESTAMPTZOID || typid == TIMESTAMPOID || typid == DATEOID;
}

/*
 * date(column) of a timestamptz or timestamp column of the scanned
 * relation (what create_time::date is), or NULL.
 */
static Var *
our_var_date(Expr *e, RelOptInfo *baserel)
{
	FuncExpr   *fe;
	Var		   *v;

	e = strip_relabel(e);
	if (e == NULL || !IsA(e, FuncExpr))
		return NULL;
	fe = (FuncExpr *) e;
	if ((fe->funcid != F_DATE_TIMESTAMPTZ && fe->funcid != F_DATE_TIMESTAMP) ||
		list_length(fe->args) != 1)
		return NULL;
	v = our_var(linitial(fe->args), baserel);
	if (v == NULL || (v->vartype != TIMESTAMPTZOID && v->vartype != TIMESTAMPOID))
		return NULL;
	return v;
}

/*
 * Can the value be computed when the scan starts?  No column of the scanned
 * relation, nothing volatile, no subplan.  Columns of other relations are
 * fine: they are outer values of a parameterized scan.
 */
static bool
is_runtime_value(PlannerInfo *root, Expr *value, RelOptInfo *baserel)
{
	Relids		varnos;

	if (contain_volatile_functions((Node *) value) ||
		contain_subplans((Node *) value) ||
		contain_agg_clause((Node *) value) ||
		contain_window_function((Node *) value))
		return false;
	varnos = pull_varnos(root, (Node *) value);
	return !bms_is_member(baserel->relid, varnos);
}

/* Text equality under a collation that compares bytes? */
static bool
is_exact_text_equality(Oid opno, Oid collation)
{
	if (get_opcode(opno) != F_TEXTEQ)
		return false;
	return !OidIsValid(collation) || get_collation_isdeterministic(collation);
}

/*
 * The btree strategy of opno comparing a column of type typid (on the left
 * unless commuted) with a value of a time type, or 0.  Cross-type operators
 * (timestamptz >= timestamp, ...) count: they are in the same operator
 * family as the column type's own.  *argtype is the value's type.
 */
static int
range_strategy(Oid opno, Oid typid, bool commuted, Oid *argtype)
{
	Oid			lefttype,
				righttype;
	Oid			opclass = GetDefaultOpClass(typid, BTREE_AM_OID);

	if (!OidIsValid(opclass))
		return 0;
	op_input_types(opno, &lefttype, &righttype);
	if (commuted)
	{
		Oid			t = lefttype;

		lefttype = righttype;
		righttype = t;
	}
	if (lefttype != typid || !is_time_type(righttype))
		return 0;
	*argtype = righttype;
	return get_op_opfamily_strategy(opno, get_opclass_family(opclass));
}

/*
 * Classify one condition of a scan.  Returns true and fills *cond when the
 * condition can be turned into request parameters.  relid is the foreign
 * table (for column_name options).
 */
bool
rds_classify_clause(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
					Expr *clause, RdsCond *cond)
{
	memset(cond, 0, sizeof(*cond));

	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Var		   *var;
		Expr	   *value;
		bool		commuted = false;
		const char *field;

		if (list_length(op->args) != 2)
			return false;
		if ((var = our_var(linitial(op->args), baserel)) != NULL)
			value = lsecond(op->args);
		else if ((var = our_var(lsecond(op->args), baserel)) != NULL)
		{
			value = linitial(op->args);
			commuted = true;
		}
		else if ((var = our_var_date(linitial(op->args), baserel)) != NULL)
		{
			value = lsecond(op->args);
			cond->date_of = true;
		}
		else if ((var = our_var_date(lsecond(op->args), baserel)) != NULL)
		{
			value = linitial(op->args);
			commuted = true;
			cond->date_of = true;
		}
		else
			return false;
		if (!is_runtime_value(root, value, baserel))
			return false;

		field = rds_column_field_name(relid, var->varattno);
		cond->field = field;
		cond->value = value;

		if (is_equality_field(field))
		{
			if (cond->date_of)
				return false;
			if (var->vartype != TEXTOID && var->vartype != VARCHAROID)
				return false;
			if (!is_exact_text_equality(op->opno, op->inputcollid))
				return false;
			cond->kind = RDS_COND_EQ;
			cond->exact = true;
			return true;
		}
		if (strcmp(field, "create_time") == 0 && is_time_type(var->vartype))
		{
			Oid			argtype = InvalidOid;
			int			strategy;

			/* create_time::date compares dates with a date */
			strategy = range_strategy(op->opno,
									  cond->date_of ? DATEOID : var->vartype,
									  commuted, &argtype);
			if (cond->date_of && argtype != DATEOID)
				return false;
			if (commuted)
			{
				if (strategy == BTLessStrategyNumber)
					strategy = BTGreaterStrategyNumber;
				else if (strategy == BTLessEqualStrategyNumber)
					strategy = BTGreaterEqualStrategyNumber;
				else if (strategy == BTGreaterStrategyNumber)
					strategy = BTLessStrategyNumber;
				else if (strategy == BTGreaterEqualStrategyNumber)
					strategy = BTLessEqualStrategyNumber;
			}
			cond->valtype = var->vartype;
			cond->argtype = argtype;
			cond->exact = false;	/* ms rounding: always rechecked locally */
			switch (strategy)
			{
				case BTLessStrategyNumber:
					cond->kind = RDS_COND_UPPER;
					cond->strict = true;
					return true;
				case BTLessEqualStrategyNumber:
					cond->kind = RDS_COND_UPPER;
					return true;
				case BTEqualStrategyNumber:
					cond->kind = RDS_COND_TIME_EQ;
					return true;
				case BTGreaterEqualStrategyNumber:
					cond->kind = RDS_COND_LOWER;
					return true;
				case BTGreaterStrategyNumber:
					cond->kind = RDS_COND_LOWER;
					cond->strict = true;
					return true;
				default:
					return false;
			}
		}
		return false;
	}

	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;
		Var		   *var;
		Expr	   *value;
		const char *field;

		if (!saop->useOr || list_length(saop->args) != 2)
			return false;
		var = our_var(linitial(saop->args), baserel);
		value = lsecond(saop->args);
		if (var == NULL || !is_runtime_value(root, value, baserel))
			return false;
		if (var->vartype != TEXTOID && var->vartype != VARCHAROID)
			return false;
		if (!is_exact_text_equality(saop->opno, saop->inputcollid))
			return false;
		field = rds_column_field_name(relid, var->varattno);
		if (!is_equality_field(field))
			return false;
		cond->field = field;
		cond->kind = RDS_COND_ANY;
		cond->value = value;
		cond->exact = true;
		return true;
	}

	return false;
}

/* ----------------------------------------------------------------
 *		Run-time filters
 * ----------------------------------------------------------------
 */

static RdsFieldSet *
field_set(RdsFilter *f, const char *field)
{
	ListCell   *lc;
	RdsFieldSet *fs;

	foreach(lc, f->fields)
	{
		fs = (RdsFieldSet *) lfirst(lc);
		if (strcmp(fs->field, field) == 0)
			return fs;
	}
	fs = palloc0(sizeof(RdsFieldSet));
	fs->field = pstrdup(field);
	fs->constrained = false;
	f->fields = lappend(f->fields, fs);
	return fs;
}

static bool
list_has_string(List *l, const char *s)
{
	ListCell   *lc;

	foreach(lc, l)
		if (strcmp((char *) lfirst(lc), s) == 0)
			return true;
	return false;
}

void
rds_filter_init(RdsFilter *f)
{
	memset(f, 0, sizeof(*f));
}

/*
 * Constrain a field to a set of values (NULLs already removed; duplicates
 * allowed).  Several constraints on one field intersect.
 */
void
rds_filter_add_values(RdsFilter *f, const char *field, List *values)
{
	RdsFieldSet *fs = field_set(f, field);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, values)
	{
		char	   *v = (char *) lfirst(lc);

		if (list_has_string(result, v))
			continue;
		if (fs->constrained && !list_has_string(fs->values, v))
			continue;
		result = lappend(result, v);
	}
	fs->values = result;
	fs->constrained = true;
	if (result == NIL)
		f->empty = true;
}

/*
 * Unix microseconds of a timestamp, timestamptz or date value.  Returns
 * false for a finite value whose Unix microseconds do not fit in an int64
 * (dates and timestamps near the end of PostgreSQL's range): such a bound
 * lies beyond anything the API can express, and the caller drops it.
 * Infinities set *infinite (and *us to the matching int64 extreme).
 */
static bool
time_value_us(Datum value, Oid valtype, bool upper, int64 *us, bool *infinite)
{
	int64		pg_us;

	*infinite = false;
	if (valtype == DATEOID)
	{
		DateADT		d = DatumGetDateADT(value);

		if (DATE_NOT_FINITE(d))
		{
			*infinite = true;
			*us = DATE_IS_NOBEGIN(d) ? PG_INT64_MIN : PG_INT64_MAX;
			return true;
		}
		/* a date bound covers its whole UTC day */
		if (pg_mul_s64_overflow((int64) d + (upper ? 1 : 0), USECS_PER_DAY, &pg_us))
			return false;
	}
	else
	{
		Timestamp	ts = DatumGetTimestamp(value);

		if (TIMESTAMP_NOT_FINITE(ts))
		{
			*infinite = true;
			*us = TIMESTAMP_IS_NOBEGIN(ts) ? PG_INT64_MIN : PG_INT64_MAX;
			return true;
		}
		pg_us = ts;
	}
	return !pg_add_s64_overflow(pg_us, UNIX_TO_PG_USECS, us);
}

/* An infinity of a time type: -infinity if overflow < 0, else +infinity. */
static Datum
time_infinity(Oid typid, int overflow)
{
	if (typid == DATEOID)
	{
		DateADT		d;

		if (overflow < 0)
			DATE_NOBEGIN(d);
		else
			DATE_NOEND(d);
		return DateADTGetDatum(d);
	}
	else
	{
		Timestamp	ts;

		if (overflow < 0)
			TIMESTAMP_NOBEGIN(ts);
		else
			TIMESTAMP_NOEND(ts);
		return TimestampGetDatum(ts);
	}
}

/*
 * A date as a value of a timestamp(tz) column: its midnight, in the
 * session's TimeZone for timestamptz, as PostgreSQL converts it.  Beyond
 * the range of the column type it is that side's infinity, as PostgreSQL's
 * cross-type comparisons take it.
 */
static Datum
date_as(Oid coltype, DateADT d)
{
	int			overflow = 0;
	Timestamp	ts;

	if (coltype == TIMESTAMPTZOID)
		ts = date2timestamptz_opt_overflow(d, &overflow);
	else
		ts = date2timestamp_opt_overflow(d, &overflow);
	return overflow ? time_infinity(coltype, overflow) : TimestampGetDatum(ts);
}

/*
 * The value of a time condition as a value of the column's type, converted
 * as PostgreSQL's cross-type comparison operators convert it (timestamp and
 * date against timestamptz depend on the session's TimeZone: evaluated when
 * the scan starts, as PostgreSQL would).  Where the two sides cannot be
 * converted into each other exactly, the result is the nearest value that
 * keeps every matching task inside the window: the local recheck settles
 * the rest.  *widen_us is how far the window must be widened on each side
 * for that: a timestamptz value against a timestamp or date column is taken
 * as its UTC wall clock, widened by a day, more than any zone's offset and
 * daylight saving shift (PostgreSQL converts the column's side of such a
 * comparison; converting the value instead could overflow near the ends of
 * time, where PostgreSQL's comparison does not fail).
 */
static Datum
as_column_value(Datum value, Oid argtype, Oid coltype, int64 *widen_us)
{
	*widen_us = 0;
	if (argtype == coltype || !OidIsValid(argtype))
		return value;
	if (argtype == TIMESTAMPTZOID && !TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(value)))
		*widen_us = USECS_PER_DAY;
	if (coltype == DATEOID)
	{
		/* the day of the value: a date column's bounds cover whole days */
		return DirectFunctionCall1(timestamp_date, value);
	}
	if (argtype == DATEOID)
		return date_as(coltype, DatumGetDateADT(value));
	if (coltype == TIMESTAMPTZOID)
	{
		/* timestamp value: read in the session's TimeZone */
		int			overflow = 0;
		TimestampTz tz;

		tz = timestamp2timestamptz_opt_overflow(DatumGetTimestamp(value), &overflow);
		return overflow ? time_infinity(coltype, overflow) : TimestampTzGetDatum(tz);
	}
	/* timestamptz value against a timestamp column: its UTC wall clock */
	return value;
}

/* Narrow the window from below: create_time >= the column value value. */
static void
add_lower(RdsFilter *f, Oid valtype, Datum value, int64 widen_us)
{
	int64		us;
	bool		infinite;

	if (!time_value_us(value, valtype, false, &us, &infinite))
		return;					/* beyond the API's range: no lower bound */
	if (infinite && us == PG_INT64_MAX)
		f->empty = true;		/* create_time >= +infinity */
	else if (!infinite && !pg_sub_s64_overflow(us, widen_us, &us) &&
			 (!f->has_lower || us > f->lower_us))
	{
		f->has_lower = true;
		f->lower_us = us;
	}
}

/* Narrow the window from above: create_time <= the column value value. */
static void
add_upper(RdsFilter *f, Oid valtype, Datum value, bool day_end, int64 widen_us)
{
	int64		us;
	bool		infinite;

	if (!time_value_us(value, valtype, day_end, &us, &infinite))
		return;					/* beyond the API's range: no upper bound */
	if (infinite && us == PG_INT64_MIN)
		f->empty = true;		/* create_time <= -infinity */
	else if (!infinite && !pg_add_s64_overflow(us, widen_us, &us) &&
			 (!f->has_upper || us < f->upper_us))
	{
		f->has_upper = true;
		f->upper_us = us;
	}
}

/*
 * Narrow the creation-time window by a condition on a create_time column of
 * type valtype, with a value of type argtype (0: the column's), or with
 * date_of on the column's ::date and a date value.  Strictness matters only
 * for the ::date (a day more or less); otherwise the window is widened to whole milliseconds and one more on
 * each side, and the condition itself is rechecked locally.  A finite bound
 * too far out to compute with narrows nothing (the local recheck still
 * applies it).
 */
void
rds_filter_add_time(RdsFilter *f, RdsCondKind kind, Oid valtype, Oid argtype,
					bool date_of, bool strict, Datum value)
{
	int64		widen_us;

	if (date_of)
	{
		/*
		 * create_time::date op d: from d's midnight to the next one; > d
		 * from the next midnight, < d up to d's
		 */
		DateADT		d = DatumGetDateADT(value);
		DateADT		next = DATE_NOT_FINITE(d) ? d : d + 1;

		if (kind == RDS_COND_LOWER || kind == RDS_COND_TIME_EQ)
			add_lower(f, valtype,
					  date_as(valtype, kind == RDS_COND_LOWER && strict ? next : d), 0);
		if (kind == RDS_COND_UPPER || kind == RDS_COND_TIME_EQ)
			add_upper(f, valtype,
					  date_as(valtype, kind == RDS_COND_UPPER && strict ? d : next),
					  false, 0);
	}
	else
	{
		value = as_column_value(value, argtype, valtype, &widen_us);
		if (kind == RDS_COND_LOWER || kind == RDS_COND_TIME_EQ)
			add_lower(f, valtype, value, widen_us);
		if (kind == RDS_COND_UPPER || kind == RDS_COND_TIME_EQ)
			add_upper(f, valtype, value,
					  kind == RDS_COND_UPPER || valtype == DATEOID, widen_us);
	}
	if (f->has_lower && f->has_upper && f->lower_us > f->upper_us)
		f->empty = true;
}

/* Append a check of create_time kind value to checks. */
static List *
add_check(List *checks, RdsCondKind kind, bool strict, TimestampTz value)
{
	RdsTimeCheck *c = palloc(sizeof(RdsTimeCheck));

	c->kind = kind;
	c->strict = strict;
	c->value = value;
	return lappend(checks, c);
}

/*
 * rds_time_checks
 *		The condition "create_time kind value" (or "create_time::date kind
 *		value" if date_of) on a timestamptz column, as checks of a task's
 *		create_time appended to checks: a timestamp or date value converted
 *		as PostgreSQL's cross-type comparison converts it (in the session's
 *		TimeZone, beyond the range an infinity); a condition on the ::date
 *		as the bounds of its days.  Palloc'd.
 */
List *
rds_time_checks(List *checks, RdsCondKind kind, bool strict, Oid argtype,
				bool date_of, Datum value)
{
	bool		lower = (kind == RDS_COND_LOWER || kind == RDS_COND_TIME_EQ);
	bool		upper = (kind == RDS_COND_UPPER || kind == RDS_COND_TIME_EQ);
	int64		widen_us;

	if (kind != RDS_COND_LOWER && kind != RDS_COND_UPPER && kind != RDS_COND_TIME_EQ)
		return checks;
	if (date_of)
	{
		DateADT		d = DatumGetDateADT(value);
		DateADT		next = DATE_NOT_FINITE(d) ? d : d + 1;

		/* ::date > d: from the next midnight; ::date <= d: before it */
		if (lower)
			checks = add_check(checks, RDS_COND_LOWER, false,
							   DatumGetTimestampTz(date_as(TIMESTAMPTZOID,
														   kind == RDS_COND_LOWER && strict ? next : d)));
		if (upper)
			checks = add_check(checks, RDS_COND_UPPER, true,
							   DatumGetTimestampTz(date_as(TIMESTAMPTZOID,
														   kind == RDS_COND_UPPER && strict ? d : next)));
		return checks;
	}
	value = as_column_value(value, argtype, TIMESTAMPTZOID, &widen_us);
	return add_check(checks, kind, strict, DatumGetTimestampTz(value));
}

/*
 * rds_filter_add_placeholder
 *		For EXPLAIN: a condition whose value is known only at run time.  The
 *		requests then show placeholder (such as "$1") where the value, or
 *		the time bound computed from it, goes.  A second placeholder for the
 *		same place shows as "<run-time>".  Filters with placeholders are for
 *		display only: they never reach rds_filter_match.
 */
void
rds_filter_add_placeholder(RdsFilter *f, const char *field, RdsCondKind kind,
						   const char *placeholder)
{
	if (kind == RDS_COND_EQ || kind == RDS_COND_ANY)
	{
		RdsFieldSet *fs = field_set(f, field);

		fs->placeholder = fs->placeholder ? "<run-time>" :
			(kind == RDS_COND_ANY ? psprintf("<each of %s>", placeholder) :
			 pstrdup(placeholder));
		fs->constrained = true;
		return;
	}
	if (kind == RDS_COND_LOWER || kind == RDS_COND_TIME_EQ)
		f->lower_placeholder = f->lower_placeholder ? "<run-time>" :
			pstrdup(placeholder);
	if (kind == RDS_COND_UPPER || kind == RDS_COND_TIME_EQ)
		f->upper_placeholder = f->upper_placeholder ? "<run-time>" :
			pstrdup(placeholder);
}

/* Appends "key=text" (text not encoded: digits or a placeholder). */
static void
append_param_text(StringInfo buf, const char *key, const char *text)
{
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	appendStringInfo(buf, "%s=%s", key, text);
}

/* floor and ceiling division for possibly negative numbers */
static int64
floor_div(int64 a, int64 b)
{
	return (a >= 0) ? a / b : -((-a + b - 1) / b);
}

static int64
ceil_div(int64 a, int64 b)
{
	return -floor_div(-a, b);
}

/*
 * The request streams of a filter: a list of query strings (filter
 * parameters only; the scan adds offset and limit), one per combination of
 * values of the fields sent.  Fields with more values than the fan-out cap
 * allows are not sent (marked in RdsFieldSet.sent = false) and are enforced
 * by rds_filter_match() alone.  The server's project_id and region are
 * checked here: a mismatch empties the filter.  Returns NIL if nothing can
 * match.
 */
List *
rds_filter_streams(RdsFilter *f, const RdsOptions *opts, int max_streams)
{
	List	   *streams;
	ListCell   *lc;
	const RdsTaskField *pf;
	double		product;

	if (f->empty)
		return NIL;

	/* project_id and region are known here: no request if they differ */
	foreach(lc, f->fields)
	{
		RdsFieldSet *fs = (RdsFieldSet *) lfirst(lc);
		const char *actual = NULL;

		fs->sent = false;
		if (fs->placeholder != NULL && rds_is_server_field(fs->field))
			continue;			/* compared when the value is known */
		if (strcmp(fs->field, "project_id") == 0)
			actual = opts->project_id;
		else if (strcmp(fs->field, "region") == 0)
			actual = opts->region;
		else
		{
			fs->sent = true;
			continue;
		}
		if (actual == NULL || !list_has_string(fs->values, actual))
		{
			f->empty = true;
			return NIL;
		}
	}

	/* cap the fan-out: stop sending the widest sets until it fits */
	for (;;)
	{
		RdsFieldSet *widest = NULL;

		product = 1;
		foreach(lc, f->fields)
		{
			RdsFieldSet *fs = (RdsFieldSet *) lfirst(lc);

			if (!fs->sent || fs->placeholder != NULL)
				continue;
			product *= list_length(fs->values);
			if (list_length(fs->values) > 1 &&
				(widest == NULL || list_length(fs->values) > list_length(widest->values)))
				widest = fs;
		}
		if (product <= max_streams || widest == NULL)
			break;
		widest->sent = false;
	}

	/* the cartesian product, fields in the task's order */
	streams = list_make1(pstrdup(""));
	for (pf = rds_task_fields; pf->name; pf++)
	{
		RdsFieldSet *fs = NULL;
		List	   *next = NIL;
		ListCell   *ls;

		if (!pf->param)
			continue;
		foreach(lc, f->fields)
		{
			RdsFieldSet *cand = (RdsFieldSet *) lfirst(lc);

			if (cand->sent && strcmp(cand->field, pf->name) == 0)
				fs = cand;
		}
		if (fs == NULL)
			continue;
		foreach(ls, streams)
		{
			ListCell   *lv;

			if (fs->placeholder != NULL)
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendStringInfoString(&buf, (char *) lfirst(ls));
				append_param_text(&buf, fs->field, fs->placeholder);
				next = lappend(next, buf.data);
				continue;
			}
			foreach(lv, fs->values)
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendStringInfoString(&buf, (char *) lfirst(ls));
				rds_append_query_param(&buf, fs->field, (char *) lfirst(lv));
				next = lappend(next, buf.data);
			}
		}
		streams = next;
	}

	/* the creation-time window: both ends always sent */
	if (f->has_lower || f->has_upper || f->lower_placeholder ||
		f->upper_placeholder || f->window_set)
	{
		int64		start_ms;
		int64		end_ms;
		char	   *start_text;
		char	   *end_text;
		List	   *next = NIL;

		rds_filter_window_ms(f, &start_ms, &end_ms);
		if ((f->upper_placeholder == NULL && end_ms < 0) ||
			(f->lower_placeholder == NULL && start_ms > OPEN_END_MS) ||
			(f->lower_placeholder == NULL && f->upper_placeholder == NULL &&
			 start_ms > end_ms))
		{
			f->empty = true;
			return NIL;
		}
		start_text = f->lower_placeholder ? f->lower_placeholder :
			psprintf(INT64_FORMAT, start_ms);
		end_text = f->upper_placeholder ? f->upper_placeholder :
			psprintf(INT64_FORMAT, end_ms);
		foreach(lc, streams)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			appendStringInfoString(&buf, (char *) lfirst(lc));
			append_param_text(&buf, "start_time", start_text);
			append_param_text(&buf, "end_time", end_text);
			next = lappend(next, buf.data);
		}
		streams = next;
	}
	return streams;
}

/*
 * rds_filter_window_ms
 *		The creation-time window rds_filter_streams sends for f, in Unix
 *		milliseconds: the bounds widened to whole milliseconds and one more
 *		on each side (0 and the end of 9999 when open), or the window set by
 *		rds_filter_set_window_ms.
 */
void
rds_filter_window_ms(const RdsFilter *f, int64 *start_ms, int64 *end_ms)
{
	if (f->window_set)
	{
		*start_ms = f->window_start_ms;
		*end_ms = f->window_end_ms;
		return;
	}
	*start_ms = 0;
	*end_ms = OPEN_END_MS;
	if (f->has_lower)
		*start_ms = Max(floor_div(f->lower_us, 1000) - 1, 0);
	if (f->has_upper)
		*end_ms = Min(ceil_div(f->upper_us, 1000) + 1, OPEN_END_MS);
}

/*
 * rds_filter_set_window_ms
 *		Make the requests of f send exactly start_time=start_ms and
 *		end_time=end_ms (for requests that split a window: groupcount.c's
 *		buckets and edges).  end_ms may be RDS_OPEN_END_MS.
 */
void
rds_filter_set_window_ms(RdsFilter *f, int64 start_ms, int64 end_ms)
{
	f->window_set = true;
	f->window_start_ms = start_ms;
	f->window_end_ms = Min(end_ms, OPEN_END_MS);
}

/*
 * rds_filter_copy
 *		A copy of f whose value sets can be narrowed without touching f
 *		(palloc'd in the current context; the values are shared).
 */
RdsFilter *
rds_filter_copy(const RdsFilter *f)
{
	RdsFilter  *copy = palloc(sizeof(RdsFilter));
	ListCell   *lc;

	*copy = *f;
	copy->fields = NIL;
	foreach(lc, f->fields)
	{
		RdsFieldSet *fs = palloc(sizeof(RdsFieldSet));

		*fs = *(RdsFieldSet *) lfirst(lc);
		fs->values = list_copy(fs->values);
		copy->fields = lappend(copy->fields, fs);
	}
	return copy;
}

/*
 * rds_request_query
 *		The query string of one page request: a stream's filter parameters
 *		(from rds_filter_streams) followed by offset and limit, in the order
 *		they go on the wire.  offset and limit are digits, or placeholders
 *		when EXPLAIN renders a value known only at run time.  Every request
 *		the scan sends, and every "Remote request:" line, is built here.
 */
char *
rds_request_query(const char *stream, const char *offset, const char *limit)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, stream);
	append_param_text(&buf, "offset", offset);
	append_param_text(&buf, "limit", limit);
	return buf.data;
}

/*
 * Does task i of the page satisfy every value set of the filter?  Cheap
 * string comparisons that make the result exact even for fields that were
 * not sent, or an API that filtered loosely.
 */
bool
rds_filter_match(RdsFilter *f, RdsPage *page, int i)
{
	ListCell   *lc;

	foreach(lc, f->fields)
	{
		RdsFieldSet *fs = (RdsFieldSet *) lfirst(lc);
		const char *v;

		if (rds_is_server_field(fs->field))
			continue;			/* settled in rds_filter_streams() */
		v = rds_page_task_field(page, i, fs->field);
		if (v == NULL || !list_has_string(fs->values, v))
			return false;
	}
	return true;
}
