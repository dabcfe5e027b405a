/*-------------------------------------------------------------------------
 *
 * convert.c
 *		  Column mapping and value conversion of rds_task_fdw: which task
 *		  field (or raw object, project_id, region) each column of a foreign
 *		  table holds, and turning the API's text values into the columns'
 *		  types (timestamps in UTC, raw json, any type with an input
 *		  function).
 *
 * The scan (scan.c) maps the columns once when it begins and fills each
 * tuple from a decoded page (decode.c) through rds_store_task or
 * rds_store_action.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

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

struct RdsColumn
{
	RdsColumnSource source;
	const char *field;			/* task field name for COL_FIELD */
	int			fieldno;		/* its RdsTaskFieldNo (tasks only) */
	const char *attname;
	Oid			typid;
	int32		typmod;
	FmgrInfo	input;
	Oid			ioparam;
	Datum		constval;		/* for COL_PROJECT_ID / COL_REGION */
	bool		constnull;
};

/* Error context while converting a value. */
typedef struct ConversionContext
{
	RdsColumn  *column;
	const char *relname;
	RdsPage    *page;			/* the task's page, NULL for an action */
	int			row;			/* the task's index in page */
} ConversionContext;

/* ----------------------------------------------------------------
 *		Columns
 * ----------------------------------------------------------------
 */

static char *
task_field_list(void)
{
	StringInfoData buf;
	const RdsTaskField *f;

	initStringInfo(&buf);
	for (f = rds_task_fields; f->name; f++)
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", f->name);
	return buf.data;
}

/*
 * Map every column of the foreign table to its source and input function;
 * the columns not in 'used' (an attno per column, 0 = unused) are NULL.
 * A column that matches nothing is an ERROR listing what exists.
 */
static void
map_table_column(const RdsOptions *opts, RdsColumn *col, Relation rel,
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
			opts->project_id : opts->region;

		col->source = (field[0] == 'p') ? COL_PROJECT_ID : COL_REGION;
		col->constnull = (v == NULL);
		if (v)
			col->constval = InputFunctionCall(&col->input, (char *) v,
											  col->ioparam, col->typmod);
	}
	else if (opts->resource == RDS_RESOURCE_ACTIONS)
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
	else if ((col->fieldno = rds_task_field_no(field)) >= 0)
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
 * rds_map_columns
 *		The columns of a scan tuple (scandesc->natts of them, palloc'd in
 *		the current context).  Every column of the table is checked (a bad
 *		one is an ERROR even when unused); attnos says which table column
 *		each scan column holds (0: none, left NULL).  With count, every
 *		column holds count(*).
 */
RdsColumn *
rds_map_columns(const RdsOptions *opts, Relation rel, TupleDesc scandesc,
				List *attnos, bool count)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	RdsColumn  *bytable;
	RdsColumn  *columns;
	int			i;

	bytable = palloc0(sizeof(RdsColumn) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped)
			map_table_column(opts, &bytable[i], rel, att);
	}

	columns = palloc0(sizeof(RdsColumn) * scandesc->natts);
	for (i = 0; i < scandesc->natts; i++)
	{
		int			attno;

		if (count)
		{
			columns[i].source = COL_COUNT;
			continue;
		}
		attno = (i < list_length(attnos)) ? intVal(list_nth(attnos, i)) : 0;
		if (attno > 0 && attno <= tupdesc->natts &&
			!TupleDescAttr(tupdesc, attno - 1)->attisdropped)
			columns[i] = bytable[attno - 1];
		else
			columns[i].source = COL_NONE;
	}
	return columns;
}

static void
conversion_error_callback(void *arg)
{
	ConversionContext *ctx = (ConversionContext *) arg;
	const char *id = NULL;

	if (ctx->page)
		id = rds_page_task_value(ctx->page, ctx->row, RDS_FIELD_ID, NULL);
	if (id)
		errcontext("column \"%s\" (task field \"%s\") of foreign table \"%s\", task %s",
				   ctx->column->attname, ctx->column->field, ctx->relname, id);
	else
		errcontext("column \"%s\" (task field \"%s\") of foreign table \"%s\"",
				   ctx->column->attname, ctx->column->field, ctx->relname);
}

/* Skip n digits; NULL unless there are exactly that many. */
static const char *
skip_n_digits(const char *s, int n)
{
	while (n-- > 0)
	{
		if (*s < '0' || *s > '9')
			return NULL;
		s++;
	}
	return s;
}

/*
 * A timestamp of the API as an instant: the API means UTC, so an ISO 8601
 * date or date-time without an offset ("2020-07-15T07:46:10") gets "+00"
 * (a date alone gets midnight), and timestamptz_in does not read it in the
 * session's TimeZone.  Anything else is returned as it is, for the input
 * function to take or refuse.
 */
static const char *
utc_timestamp_text(const char *s)
{
	const char *p = s;

	if ((p = skip_n_digits(p, 4)) == NULL || *p++ != '-' ||
		(p = skip_n_digits(p, 2)) == NULL || *p++ != '-' ||
		(p = skip_n_digits(p, 2)) == NULL)
		return s;
	if (*p == '\0')
		return psprintf("%s 00:00:00+00", s);
	if ((*p != 'T' && *p != ' ') ||
		(p = skip_n_digits(p + 1, 2)) == NULL || *p++ != ':' ||
		(p = skip_n_digits(p, 2)) == NULL)
		return s;
	if (*p == ':' && (p = skip_n_digits(p + 1, 2)) == NULL)
		return s;
	if (*p == '.')
	{
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return (*p == '\0') ? psprintf("%s+00", s) : s;
}

/* The value of n digits at s; -1 unless they are all digits. */
static inline int
digits_value(const char *s, int n)
{
	int			v = 0;

	while (n-- > 0)
	{
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/*
 * The API's timestamp format read without timestamptz_in:
 * YYYY-MM-DD, T or space, hh:mm:ss, an optional fraction of 1 to 6 digits,
 * and an offset +hhmm, +hh:mm, +hh or Z, or none (UTC).  Returns false for
 * anything else, or a value timestamptz_in would judge by rules of its own
 * (year 0, hour 24, second 60, a day the month lacks, an offset of 15 hours
 * or more): the caller then asks timestamptz_in, so results never differ.
 */
static bool
fast_timestamptz(const char *s, int len, TimestampTz *result)
{
	int			y, mo, d, h, mi, sec, off = 0;
	int64		fsec = 0;
	const char *p;
	const char *end = s + len;
	static const int mdays[2][12] = {
		{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
		{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':')
		return false;
	if ((y = digits_value(s, 4)) < 1 || (mo = digits_value(s + 5, 2)) < 1 ||
		mo > 12 || (d = digits_value(s + 8, 2)) < 1 ||
		d > mdays[isleap(y) ? 1 : 0][mo - 1] ||
		(h = digits_value(s + 11, 2)) < 0 || h > 23 ||
		(mi = digits_value(s + 14, 2)) < 0 || mi > 59 ||
		(sec = digits_value(s + 17, 2)) < 0 || sec > 59)
		return false;
	p = s + 19;
	if (p < end && *p == '.')
	{
		int			n = 0;

		for (p++; p < end && *p >= '0' && *p <= '9' && n < 7; p++, n++)
			fsec = fsec * 10 + (*p - '0');
		if (n == 0 || n > 6)
			return false;
		for (; n < 6; n++)
			fsec *= 10;
	}
	if (p < end && *p == 'Z' && p + 1 == end)
		p++;
	else if (p < end && (*p == '+' || *p == '-'))
	{
		int			oh = digits_value(p + 1, Min(2, (int) (end - p - 1)));
		int			om = 0;
		const char *q = p + 3;

		if (end - p < 3 || oh < 0 || oh > 14)
			return false;
		if (q < end && *q == ':')
			q++;
		if (q < end || q == p + 4)
		{
			/* +hhmm or +hh:mm: two digits of minutes end the text */
			if (end - q != 2 || (om = digits_value(q, 2)) < 0 || om > 59)
				return false;
			q += 2;
		}
		off = (oh * MINS_PER_HOUR + om) * SECS_PER_MINUTE;
		if (*p == '-')
			off = -off;
		p = q;
	}
	if (p != end)
		return false;

	*result = (TimestampTz) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
		((int64) ((h * MINS_PER_HOUR + mi) * SECS_PER_MINUTE + sec - off)) * USECS_PER_SEC +
		fsec;
	return true;
}

/*
 * A timestamp of the API (UTF-8 text of len bytes) as an instant, as a
 * timestamptz column reads it (utc_timestamp_text, then timestamptz_in);
 * the API's own format takes fast_timestamptz.  Throws on a value
 * timestamptz_in refuses.
 */
static TimestampTz
api_timestamptz(const char *v, int len)
{
	TimestampTz ts;
	char	   *converted;

	if (fast_timestamptz(v, len, &ts))
		return ts;
	converted = pg_any_to_server(v, len, PG_UTF8);
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(utc_timestamp_text(converted)),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}

/*
 * rds_task_create_time
 *		Task i's create_time as an instant, converted as a timestamptz
 *		column converts it; *isnull when missing or "".  Throws on a value
 *		timestamptz_in refuses.
 */
TimestampTz
rds_task_create_time(RdsPage *page, int i, bool *isnull)
{
	int			len;
	const char *v = rds_page_task_value(page, i, RDS_FIELD_CREATE_TIME, &len);

	*isnull = (v == NULL || v[0] == '\0');
	if (*isnull)
		return 0;
	return api_timestamptz(v, len);
}

/*
 * Convert one field value into a column's type.  Timestamps of the API are
 * instants in UTC (with an offset, or read as UTC without one); timestamp
 * and date columns get that instant's UTC wall-clock time, whatever the
 * session's TimeZone.
 */
static Datum
convert_value(RdsColumn *col, const char *relname, RdsPage *page,
			  int row, const char *value, int len)
{
	ConversionContext ctx;
	ErrorContextCallback errcb;
	Datum		result;
	char	   *converted;

	ctx.column = col;
	ctx.relname = relname;
	ctx.page = page;
	ctx.row = row;
	errcb.callback = conversion_error_callback;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (col->typid == TIMESTAMPTZOID || col->typid == TIMESTAMPOID ||
		col->typid == DATEOID)
	{
		/* a TimestampTz is UTC wall-clock time read as a Timestamp */
		result = TimestampTzGetDatum(api_timestamptz(value, len));
		if (col->typid == DATEOID)
			result = DirectFunctionCall1(timestamp_date, result);
		else if (col->typmod >= 0)
			result = DirectFunctionCall2(col->typid == TIMESTAMPOID ?
										 timestamp_scale : timestamptz_scale,
										 result, Int32GetDatum(col->typmod));
	}
	else
	{
		/* The API speaks UTF-8; this also rejects invalid byte sequences. */
		converted = pg_any_to_server(value, len, PG_UTF8);
		if (col->typid == TEXTOID)
			result = PointerGetDatum(cstring_to_text_with_len(converted,
															  converted == value ? len : (int) strlen(converted)));
		else
			result = InputFunctionCall(&col->input, converted, col->ioparam,
									   col->typmod);
	}

	error_context_stack = errcb.previous;
	return result;
}

/*
 * rds_columns_want_raw
 *		Whether a column of the scan is filled with the task's raw JSON.
 */
bool
rds_columns_want_raw(const RdsColumn *columns, int ncolumns)
{
	int			c;

	for (c = 0; c < ncolumns; c++)
		if (columns[c].source == COL_RAW)
			return true;
	return false;
}

/*
 * rds_store_task
 *		Fills the slot's values and nulls (not the tuple itself) with task i
 *		of page.  Converted values are allocated in the current context; a
 *		value the column's type rejects is an ERROR naming the column, the
 *		table (relname) and the task.
 */
void
rds_store_task(RdsColumn *columns, int ncolumns, const char *relname,
			   RdsPage *page, int i, TupleTableSlot *slot)
{
	int			c;

	for (c = 0; c < ncolumns; c++)
	{
		RdsColumn  *col = &columns[c];
		const char *value;
		int			len;

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
				/* converted to the database encoding like every field */
				value = rds_page_task_json(page, i, &len);
				slot->tts_values[c] = convert_value(col, relname, page, i,
													value, len);
				slot->tts_isnull[c] = false;
				break;
			case COL_FIELD:
				value = rds_page_task_value(page, i, col->fieldno, &len);
				if (value != NULL)
				{
					slot->tts_values[c] = convert_value(col, relname, page, i,
														value, len);
					slot->tts_isnull[c] = false;
				}
				break;
		}
	}
}

/*
 * rds_store_action
 *		Fills the slot's values and nulls with one action name, as
 *		rds_store_task does for a task.
 */
void
rds_store_action(RdsColumn *columns, int ncolumns, const char *relname,
				 const char *action, TupleTableSlot *slot)
{
	int			c;

	for (c = 0; c < ncolumns; c++)
	{
		RdsColumn  *col = &columns[c];

		slot->tts_isnull[c] = true;
		if (col->source == COL_PROJECT_ID || col->source == COL_REGION)
		{
			slot->tts_isnull[c] = col->constnull;
			slot->tts_values[c] = col->constval;
		}
		else if (col->source == COL_FIELD)
		{
			slot->tts_values[c] = convert_value(col, relname, NULL, 0, action,
												(int) strlen(action));
			slot->tts_isnull[c] = false;
		}
	}
}
