/*-------------------------------------------------------------------------
 *
 * bucket.c
 *		  Time buckets: which GROUP BY expressions of create_time a grouped
 *		  count can answer with one request per bucket (the planner's
 *		  side), and where, in time, each bucket begins and what key the
 *		  query gives it (the executor's side).
 *
 * A bucket key is an expression of the create_time column whose core is one
 * of
 *
 *	  date_trunc(unit, create_time [, zone])
 *	  date_trunc(unit, W)					W: create_time::timestamp,
 *											create_time AT TIME ZONE zone,
 *											either plus or minus whole days
 *	  create_time::date, W::date
 *	  floor(extract(epoch from create_time) / N)	(or date_part)
 *
 * for units minute to year, wrapped in casts, interval or constant
 * arithmetic ("* N"), to_timestamp() and the like (wrapper_functions): the
 * forms BI tools write.  The core fixes where the key can change: at a boundary
 * of the unit on the wall clock of the zone (the session's TimeZone unless
 * named), or at a change of the zone's offset from UTC (daylight saving),
 * or every N seconds since the Unix epoch.  Between two such instants the
 * wall clock runs on without a jump, so the key is constant, and the
 * window between them is one request.
 *
 * The keys themselves are never computed here: the query's own expression
 * is evaluated, with PostgreSQL's functions, at each bucket's start, and
 * also a second before its end, which must give the same key (else the
 * count reads the pages: an expression this file misreads costs requests,
 * never rows).  Buckets that end on the same key (the wall clock goes back
 * at the end of daylight saving) are one group.
 *
 * Zones: only names PostgreSQL reads the way pg_tzset does (a name with a
 * '/', UTC, GMT); an abbreviation such as 'CET' means a fixed offset to
 * date_trunc and AT TIME ZONE, so it is not pushed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define UNIX_TO_PG_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* The longest epoch bucket pushed: ten years. */
#define MAX_BUCKET_SECONDS (10 * 366 * SECS_PER_DAY)

/* What recognising a key found of its core. */
typedef struct KeyCore
{
	Index		relid;
	Oid			reloid;
	RdsBucket  *b;
} KeyCore;

/* ----------------------------------------------------------------
 *		The planner's side
 * ----------------------------------------------------------------
 */

/* The function a FuncExpr or OpExpr calls, and its arguments. */
static bool
call_of(Node *n, Oid *fn, List **args)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n && IsA(n, FuncExpr))
	{
		*fn = ((FuncExpr *) n)->funcid;
		*args = ((FuncExpr *) n)->args;
		return true;
	}
	if (n && IsA(n, OpExpr))
	{
		*fn = get_opcode(((OpExpr *) n)->opno);
		*args = ((OpExpr *) n)->args;
		return true;
	}
	return false;
}

/* The text of a non-null text constant, or NULL. */
static char *
const_text(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n == NULL || !IsA(n, Const) || ((Const *) n)->constisnull ||
		((Const *) n)->consttype != TEXTOID)
		return NULL;
	return TextDatumGetCString(((Const *) n)->constvalue);
}

/* Is n the create_time column of the relation, a timestamptz? */
static bool
is_create_time(Node *n, KeyCore *kc)
{
	Var		   *var;

	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n == NULL || !IsA(n, Var))
		return false;
	var = (Var *) n;
	return var->varno == (int) kc->relid && var->varlevelsup == 0 &&
		var->varattno > 0 && var->vartype == TIMESTAMPTZOID &&
		strcmp(rds_column_field_name(kc->reloid, var->varattno), "create_time") == 0;
}

/*
 * A zone PostgreSQL reads as pg_tzset does (see the top of the file);
 * palloc'd, or NULL.
 */
static char *
zone_name(Node *n)
{
	char	   *z = const_text(n);

	if (z == NULL || z[0] == '\0' || pg_tzset(z) == NULL)
		return NULL;
	if (strchr(z, '/') == NULL && pg_strcasecmp(z, "UTC") != 0 &&
		pg_strcasecmp(z, "GMT") != 0)
		return NULL;
	return z;
}

/* Whole days of a constant interval (no months, no time), or false. */
static bool
interval_days(Node *n, int *days)
{
	Interval   *iv;

	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n == NULL || !IsA(n, Const) || ((Const *) n)->constisnull ||
		((Const *) n)->consttype != INTERVALOID)
		return false;
	iv = DatumGetIntervalP(((Const *) n)->constvalue);
	if (iv->month != 0 || iv->time != 0 || iv->day < -366 || iv->day > 366)
		return false;
	*days = iv->day;
	return true;
}

/*
 * create_time, or create_time plus or minus whole days: *shift gets the
 * days.  tz: create_time is a timestamptz (days added in the session's
 * TimeZone), else a wall clock W (see the top of the file), whose zone goes
 * to kc->b->zone.
 */
static bool
shifted(Node *n, KeyCore *kc, bool tz, int *shift)
{
	Oid			fn;
	List	   *args;
	int			days;

	if (tz && is_create_time(n, kc))
		return true;
	if (!call_of(n, &fn, &args))
		return false;
	if (list_length(args) == 2 &&
		(tz ? (fn == F_TIMESTAMPTZ_PL_INTERVAL || fn == F_TIMESTAMPTZ_MI_INTERVAL) :
		 (fn == F_TIMESTAMP_PL_INTERVAL || fn == F_TIMESTAMP_MI_INTERVAL)) &&
		interval_days(lsecond(args), &days))
	{
		bool		minus = (fn == F_TIMESTAMPTZ_MI_INTERVAL || fn == F_TIMESTAMP_MI_INTERVAL);

		*shift += minus ? -days : days;
		return shifted(linitial(args), kc, tz, shift);
	}
	if (tz)
		return false;
	if (fn == F_TIMESTAMP_TIMESTAMPTZ && list_length(args) == 1 &&
		is_create_time(linitial(args), kc))
	{
		kc->b->zone = "";
		return true;
	}
	if (fn == F_TIMEZONE_TEXT_TIMESTAMPTZ && list_length(args) == 2 &&
		is_create_time(lsecond(args), kc))
		return (kc->b->zone = zone_name(linitial(args))) != NULL;
	return false;
}

/* date_trunc's unit, minute to year, or NONE. */
static RdsBucketUnit
trunc_unit(Node *n)
{
	char	   *text = const_text(n);
	char	   *low;
	int			type;
	int			val;

	if (text == NULL)
		return RDS_BUCKET_NONE;
	low = downcase_truncate_identifier(text, strlen(text), false);
	type = DecodeUnits(0, low, &val);
	if (type != UNITS)
		return RDS_BUCKET_NONE;
	switch (val)
	{
		case DTK_MINUTE:
			return RDS_BUCKET_MINUTE;
		case DTK_HOUR:
			return RDS_BUCKET_HOUR;
		case DTK_DAY:
			return RDS_BUCKET_DAY;
		case DTK_WEEK:
			return RDS_BUCKET_WEEK;
		case DTK_MONTH:
			return RDS_BUCKET_MONTH;
		case DTK_QUARTER:
			return RDS_BUCKET_QUARTER;
		case DTK_YEAR:
			return RDS_BUCKET_YEAR;
		default:
			return RDS_BUCKET_NONE;
	}
}

/* A positive whole number of seconds, up to MAX_BUCKET_SECONDS, or 0. */
static int
const_seconds(Node *n)
{
	Const	   *c;
	double		v;

	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n == NULL || !IsA(n, Const) || ((Const *) n)->constisnull)
		return 0;
	c = (Const *) n;
	switch (c->consttype)
	{
		case INT2OID:
			v = DatumGetInt16(c->constvalue);
			break;
		case INT4OID:
			v = DatumGetInt32(c->constvalue);
			break;
		case INT8OID:
			v = (double) DatumGetInt64(c->constvalue);
			break;
		case FLOAT8OID:
			v = DatumGetFloat8(c->constvalue);
			break;
		case NUMERICOID:
			v = DatumGetFloat8(DirectFunctionCall1(numeric_float8, c->constvalue));
			break;
		default:
			return 0;
	}
	if (!(v >= 1 && v <= MAX_BUCKET_SECONDS) || v != floor(v))
		return 0;
	return (int) v;
}

/* extract(epoch from create_time) or date_part('epoch', create_time) */
static bool
is_epoch(Node *n, KeyCore *kc)
{
	Oid			fn;
	List	   *args;
	char	   *field;

	if (!call_of(n, &fn, &args) || list_length(args) != 2 ||
		(fn != F_EXTRACT_TEXT_TIMESTAMPTZ && fn != F_DATE_PART_TEXT_TIMESTAMPTZ) ||
		(field = const_text(linitial(args))) == NULL ||
		pg_strcasecmp(field, "epoch") != 0)
		return false;
	return is_create_time(lsecond(args), kc);
}

/* Is n a core (see the top of the file)?  Fills kc->b. */
static bool
is_core(Node *n, KeyCore *kc)
{
	RdsBucket  *b = kc->b;
	Oid			fn;
	List	   *args;
	List	   *dargs;
	Oid			dfn;

	memset(b, 0, sizeof(*b));
	b->zone = "";
	if (!call_of(n, &fn, &args))
		return false;
	switch (fn)
	{
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ:
			b->unit = trunc_unit(linitial(args));
			return b->unit != RDS_BUCKET_NONE &&
				shifted(lsecond(args), kc, true, &b->shift_days);
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT:
			b->unit = trunc_unit(linitial(args));
			return b->unit != RDS_BUCKET_NONE &&
				is_create_time(lsecond(args), kc) &&
				(b->zone = zone_name(lthird(args))) != NULL;
		case F_DATE_TRUNC_TEXT_TIMESTAMP:
			b->unit = trunc_unit(linitial(args));
			return b->unit != RDS_BUCKET_NONE &&
				shifted(lsecond(args), kc, false, &b->shift_days);
		case F_DATE_TIMESTAMPTZ:
			b->unit = RDS_BUCKET_DAY;
			return shifted(linitial(args), kc, true, &b->shift_days);
		case F_DATE_TIMESTAMP:
			b->unit = RDS_BUCKET_DAY;
			return shifted(linitial(args), kc, false, &b->shift_days);
		case F_FLOOR_NUMERIC:
		case F_FLOOR_FLOAT8:
			if (!call_of(linitial(args), &dfn, &dargs) || list_length(dargs) != 2 ||
				(dfn != F_NUMERIC_DIV && dfn != F_FLOAT8DIV))
				return false;
			b->unit = RDS_BUCKET_SECONDS;
			b->seconds = const_seconds(lsecond(dargs));
			return b->seconds > 0 && is_epoch(linitial(dargs), kc);
		default:
			return false;
	}
}

/* expression_tree_walker: collect the immediate children */
static bool
child_walker(Node *node, List **children)
{
	if (node)
		*children = lappend(*children, node);
	return false;
}

/* Nothing evaluated at run time but the expression itself. */
static bool
unsafe_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) || IsA(node, SubLink) || IsA(node, SubPlan) ||
		IsA(node, Aggref) || IsA(node, WindowFunc) ||
		IsA(node, PlaceHolderVar) || IsA(node, GroupingFunc))
		return true;
	return expression_tree_walker(node, unsafe_walker, context);
}

/*
 * The functions a wrapper of the core may call: casts, interval and
 * constant arithmetic, zones, truncation, to_timestamp: none of them fails
 * on a time the API can hold, so evaluating the key where no task is (a
 * bucket's bound) raises no error the query would not.
 */
static const Oid wrapper_functions[] = {
	F_DATE_TRUNC_TEXT_TIMESTAMPTZ, F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT,
	F_DATE_TRUNC_TEXT_TIMESTAMP, F_DATE_TIMESTAMPTZ, F_DATE_TIMESTAMP,
	F_TIMESTAMP_TIMESTAMPTZ, F_TIMESTAMPTZ_TIMESTAMP, F_TIMESTAMPTZ_DATE,
	F_TIMESTAMP_DATE, F_TIMEZONE_TEXT_TIMESTAMPTZ, F_TIMEZONE_TEXT_TIMESTAMP,
	F_TIMESTAMPTZ_PL_INTERVAL, F_TIMESTAMPTZ_MI_INTERVAL,
	F_TIMESTAMP_PL_INTERVAL, F_TIMESTAMP_MI_INTERVAL, F_TO_TIMESTAMP_FLOAT8,
	F_NUMERIC_MUL, F_NUMERIC_ADD, F_NUMERIC_SUB, F_FLOAT8MUL, F_FLOAT8PL,
	F_FLOAT8MI, F_FLOAT8_NUMERIC, F_NUMERIC_FLOAT8, F_INT8_NUMERIC,
	F_NUMERIC_INT8, F_INT8_FLOAT8, F_FLOAT8_INT8
};

/* Is n, down to the core, made of constants and wrapper_functions only? */
static bool
wrapper_safe(Node *n, Node *core)
{
	Oid			fn;
	List	   *args;
	ListCell   *lc;
	size_t		i;

	if (n == core || (n && IsA(n, Const)))
		return true;
	if (n && IsA(n, RelabelType))
		return wrapper_safe((Node *) ((RelabelType *) n)->arg, core);
	if (n && IsA(n, CoerceViaIO))	/* to text: an output function */
		return (((CoerceViaIO *) n)->resulttype == TEXTOID ||
				((CoerceViaIO *) n)->resulttype == VARCHAROID) &&
			wrapper_safe((Node *) ((CoerceViaIO *) n)->arg, core);
	if (!call_of(n, &fn, &args))
		return false;
	for (i = 0; i < lengthof(wrapper_functions); i++)
		if (wrapper_functions[i] == fn)
			break;
	if (i == lengthof(wrapper_functions))
		return false;
	foreach(lc, args)
		if (!wrapper_safe((Node *) lfirst(lc), core))
			return false;
	return true;
}

/*
 * rds_bucket_recognize
 *		Is e, a GROUP BY expression of relation relid (table reloid), a
 *		bucket key (see the top of the file)?  Then its core goes to *b.
 *		A wrapper holds constants and wrapper_functions only.
 */
bool
rds_bucket_recognize(Expr *e, Index relid, Oid reloid, RdsBucket *b)
{
	KeyCore		kc;
	Node	   *n = (Node *) e;

	kc.relid = relid;
	kc.reloid = reloid;
	kc.b = b;
	if (e == NULL || unsafe_walker(n, NULL) ||
		list_length(pull_var_clause(n, 0)) != 1)
		return false;
	while (n)
	{
		List	   *children = NIL;
		Node	   *with_var = NULL;
		ListCell   *lc;

		if (is_core(n, &kc))
			return wrapper_safe((Node *) e, n);
		(void) expression_tree_walker(n, child_walker, &children);
		foreach(lc, children)
			if (contain_var_clause((Node *) lfirst(lc)))
				with_var = (Node *) lfirst(lc);
		n = with_var;
	}
	return false;
}

static const char *
unit_name(RdsBucketUnit unit)
{
	switch (unit)
	{
		case RDS_BUCKET_MINUTE:
			return "minute";
		case RDS_BUCKET_HOUR:
			return "hour";
		case RDS_BUCKET_DAY:
			return "day";
		case RDS_BUCKET_WEEK:
			return "week";
		case RDS_BUCKET_MONTH:
			return "month";
		case RDS_BUCKET_QUARTER:
			return "quarter";
		case RDS_BUCKET_YEAR:
			return "year";
		default:
			return "second";
	}
}

/*
 * rds_bucket_text
 *		What the buckets are, for EXPLAIN (palloc'd): the core, such as
 *		date_trunc('day', create_time) or date_trunc('week', create_time +
 *		'1 days', 'Europe/Berlin').
 */
char *
rds_bucket_text(const RdsBucket *b)
{
	const char *zone = b->zone[0] ? psprintf(", %s", quote_literal_cstr(b->zone)) : "";
	const char *shift = b->shift_days ? psprintf(" %c '%d days'",
												 b->shift_days > 0 ? '+' : '-',
												 abs(b->shift_days)) : "";

	if (b->unit == RDS_BUCKET_SECONDS)
		return psprintf("floor(extract(epoch from create_time) / %d)", b->seconds);
	return psprintf("date_trunc('%s', create_time%s%s)", unit_name(b->unit), shift, zone);
}

/* rds_bucket_guess: buckets in the 30 days a window typically spans */
double
rds_bucket_guess(const RdsBucket *b)
{
	switch (b->unit)
	{
		case RDS_BUCKET_SECONDS:
			return Max(1.0, 30.0 * SECS_PER_DAY / b->seconds);
		case RDS_BUCKET_MINUTE:
			return 30.0 * 24 * 60;
		case RDS_BUCKET_HOUR:
			return 24.0 * 7;
		case RDS_BUCKET_DAY:
			return 30.0;
		case RDS_BUCKET_WEEK:
			return 5.0;
		default:
			return 2.0;
	}
}

/* ----------------------------------------------------------------
 *		The executor's side
 * ----------------------------------------------------------------
 */

/* The query's key expression, evaluated for a create_time. */
struct RdsBucketKey
{
	RdsBucket	b;
	ExprState  *state;
	ExprContext *econtext;
	TupleTableSlot *slot;		/* create_time at attno, nothing else read */
	int			attno;
	int16		typlen;
	bool		typbyval;
};

/*
 * rds_bucket_key_create
 *		Prepares the evaluation of expr, a bucket key recognised as b, in
 *		the current memory context (nothing outside it).
 */
RdsBucketKey *
rds_bucket_key_create(const RdsBucket *b, Expr *expr)
{
	RdsBucketKey *k = palloc0(sizeof(RdsBucketKey));
	Var		   *var = (Var *) linitial(pull_var_clause((Node *) expr, 0));
	TupleDesc	desc;
	int			i;

	k->b = *b;
	k->b.zone = pstrdup(b->zone);
	k->attno = var->varattno;
	desc = CreateTemplateTupleDesc(k->attno);
	for (i = 1; i <= k->attno; i++)
		TupleDescInitEntry(desc, (AttrNumber) i, NULL, TIMESTAMPTZOID, -1, 0);
	k->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	expr = (Expr *) copyObject(expr);
	fix_opfuncids((Node *) expr);
	k->state = ExecInitExpr(expr, NULL);
	k->econtext = CreateStandaloneExprContext();
	get_typlenbyval(exprType((Node *) expr), &k->typlen, &k->typbyval);
	return k;
}

/*
 * rds_bucket_key
 *		The query's key for create_time t (NULL if tnull), in the current
 *		memory context.  Throws what the expression throws.
 */
Datum
rds_bucket_key(RdsBucketKey *k, TimestampTz t, bool tnull, bool *isnull)
{
	TupleTableSlot *slot = k->slot;
	Datum		value;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < k->attno; i++)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	slot->tts_values[k->attno - 1] = TimestampTzGetDatum(t);
	slot->tts_isnull[k->attno - 1] = tnull;
	ExecStoreVirtualTuple(slot);
	k->econtext->ecxt_scantuple = slot;
	value = ExecEvalExprSwitchContext(k->state, k->econtext, isnull);
	value = *isnull ? (Datum) 0 : datumCopy(value, k->typbyval, k->typlen);
	ResetExprContext(k->econtext);
	return value;
}

/* rds_bucket_key_copy: a key copied into the current memory context */
Datum
rds_bucket_key_copy(RdsBucketKey *k, Datum v, bool isnull)
{
	return isnull ? (Datum) 0 : datumCopy(v, k->typbyval, k->typlen);
}

/* rds_bucket_key_equal: are two keys the same group? */
bool
rds_bucket_key_equal(RdsBucketKey *k, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull == bnull;
	return datumIsEqual(a, b, k->typbyval, k->typlen);
}

/* One unit of a date_trunc bucket on the wall clock. */
static Interval
unit_interval(RdsBucketUnit unit)
{
	Interval	iv;

	memset(&iv, 0, sizeof(iv));
	switch (unit)
	{
		case RDS_BUCKET_MINUTE:
			iv.time = USECS_PER_MINUTE;
			break;
		case RDS_BUCKET_HOUR:
			iv.time = USECS_PER_HOUR;
			break;
		case RDS_BUCKET_DAY:
			iv.day = 1;
			break;
		case RDS_BUCKET_WEEK:
			iv.day = 7;
			break;
		case RDS_BUCKET_MONTH:
			iv.month = 1;
			break;
		case RDS_BUCKET_QUARTER:
			iv.month = 3;
			break;
		default:
			iv.month = MONTHS_PER_YEAR;
			break;
	}
	return iv;
}

/* floor(a / b) for b > 0 */
static int64
floor_div(int64 a, int64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/*
 * rds_bucket_next
 *		Where the key may next change after t, a whole second: the next
 *		boundary of the unit on the zone's wall clock, or the zone's next
 *		change of offset if that comes first; for epoch buckets, the next
 *		multiple of N seconds.  Throws "timestamp out of range" only beyond
 *		PostgreSQL's range.
 */
TimestampTz
rds_bucket_next(RdsBucketKey *k, TimestampTz t)
{
	const RdsBucket *b = &k->b;
	pg_tz	   *tz;
	pg_time_t	s = (pg_time_t) (floor_div(t, USECS_PER_SEC) + UNIX_TO_PG_SECS);
	struct pg_tm *tm;
	long		off;
	Timestamp	wall;
	Timestamp	start;
	Timestamp	next;
	Interval	iv;
	TimestampTz cand;
	long		before_off;
	long		after_off;
	int			before_dst;
	int			after_dst;
	pg_time_t	boundary;

	if (b->unit == RDS_BUCKET_SECONDS)
		return (TimestampTz) ((floor_div(s, b->seconds) + 1) * b->seconds - UNIX_TO_PG_SECS) *
			USECS_PER_SEC;

	tz = b->zone[0] ? pg_tzset(b->zone) : session_timezone;
	if (tz == NULL)
		elog(ERROR, "time zone \"%s\" vanished", b->zone);
	tm = pg_localtime(&s, tz);
	if (tm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	off = tm->tm_gmtoff;
	wall = t + (int64) off * USECS_PER_SEC + (int64) b->shift_days * USECS_PER_DAY;
	start = DatumGetTimestamp(DirectFunctionCall2(timestamp_trunc,
												  CStringGetTextDatum(unit_name(b->unit)),
												  TimestampGetDatum(wall)));
	iv = unit_interval(b->unit);
	next = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
												 TimestampGetDatum(start),
												 IntervalPGetDatum(&iv)));
	cand = next - (int64) b->shift_days * USECS_PER_DAY - (int64) off * USECS_PER_SEC;

	/* the offset changes first: the wall clock jumps there */
	if (pg_next_dst_boundary(&s, &before_off, &before_dst, &boundary,
							 &after_off, &after_dst, tz) == 1)
	{
		TimestampTz at = (TimestampTz) (boundary - UNIX_TO_PG_SECS) * USECS_PER_SEC;

		if (at > t && at < cand)
			cand = at;
	}
	return cand;
}
