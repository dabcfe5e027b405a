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
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

/*
 * The fields of a task object, in the order of the table IMPORT FOREIGN
 * SCHEMA creates: the one list of them, for conversion (here), the query
 * parameters (deparse.c) and IMPORT (rds_task_fdw.c).
 */
const RdsTaskField rds_task_fields[] = {
	{"id", "text", true},
	{"name", "text", true},
	{"instance_id", "text", true},
	{"instance_name", "text", false},
	{"instance_status", "text", false},
	{"order_id", "text", true},
	{"process", "integer", false},
	{"fail_reason", "text", false},
	{"create_time", "timestamptz", false},
	{"end_time", "timestamptz", false},
	{"status", "text", true},
	{NULL, NULL, false}
};

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

static bool
is_task_field(const char *name)
{
	const RdsTaskField *f;

	for (f = rds_task_fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return true;
	return false;
}

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
		id = rds_page_task_field(ctx->page, ctx->row, "id");
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

/*
 * rds_task_create_time
 *		Task i's create_time as an instant, converted as a timestamptz
 *		column converts it; *isnull when missing or "".  Throws on a value
 *		timestamptz_in refuses.
 */
TimestampTz
rds_task_create_time(RdsPage *page, int i, bool *isnull)
{
	const char *v = rds_page_task_field(page, i, "create_time");
	char	   *converted;

	*isnull = (v == NULL || v[0] == '\0');
	if (*isnull)
		return 0;
	converted = pg_any_to_server(v, strlen(v), PG_UTF8);
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(utc_timestamp_text(converted)),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}

/*
 * Convert one field value into a column's type.  Timestamps of the API are
 * instants in UTC (with an offset, or read as UTC without one); timestamp
 * and date columns get that instant's UTC wall-clock time, whatever the
 * session's TimeZone.
 */
static Datum
convert_value(RdsColumn *col, const char *relname, RdsPage *page,
			  int row, const char *value)
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

	/* The API speaks UTF-8; this also rejects invalid byte sequences. */
	converted = pg_any_to_server(value, strlen(value), PG_UTF8);

	if (col->typid == TIMESTAMPTZOID || col->typid == TIMESTAMPOID ||
		col->typid == DATEOID)
		converted = unconstify(char *, utc_timestamp_text(converted));

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
				slot->tts_values[c] = convert_value(col, relname, page, i,
													rds_page_task_json(page, i));
				slot->tts_isnull[c] = false;
				break;
			case COL_FIELD:
				value = rds_page_task_field(page, i, col->field);
				if (value != NULL)
				{
					slot->tts_values[c] = convert_value(col, relname, page, i, value);
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
			slot->tts_values[c] = convert_value(col, relname, NULL, 0, action);
			slot->tts_isnull[c] = false;
		}
	}
}
