/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  Execution of rds_task_fdw scans: the scan state, the request
 *		  streams built from the pushed conditions' run-time values, the
 *		  pages in flight, the duplicate filter, rescans, the asynchronous
 *		  Append callbacks, and EXPLAIN.
 *
 * The conditions' values make an RdsFilter (deparse.c), which yields one or
 * more request streams; each stream pages with offset/limit.  Up to
 * parallel_requests pages are in flight once a stream's first page has told
 * its total_count; every page becomes tuples (convert.c) before the next is
 * decoded, so memory is bounded by the pages in flight, not by the list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "commands/explain.h"
#if PG_VERSION_NUM >= 180000		/* ExplainState, ExplainProperty* */
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "executor/execAsync.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

/* Passes over a stream whose list keeps moving before the scan gives up. */
#define MAX_PASSES				5

/* A pushed condition at run time. */
typedef struct RdsScanCond
{
	char	   *field;
	RdsCondKind kind;
	Oid			valtype;		/* a time condition's column type */
	Oid			argtype;		/* its value's type */
	bool		date_of;		/* on the column's ::date */
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
	RdsRequest *req;			/* the request (maybe answered by the cache) */
	char	   *url;			/* path?query */
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

	/* the next row to return, once found */
	bool		have_row;
	int			row_task;		/* its task in page */
	const char *row_action;		/* resource 'actions': its action */

	/*
	 * Under an asynchronous Append the scan never waits on the network: an
	 * iteration that would returns no row and sets would_block.
	 */
	bool		async;
	bool		would_block;

	RdsIdSet   *seen;			/* ids (or action names) already returned */

	/* RDS_SCAN_GROUPS (groupcount.c) */
	RdsGroupKind group_kind;
	char	   *group_zone;		/* date_trunc's zone, "" = the session's */
	List	   *time_strict;	/* Boolean per condition */
	List	   *time_checks;	/* RdsTimeCheck *, built with the streams */
	RdsGroupCount *groups;		/* the counts, once run */

	/* RDS_SCAN_SEARCH: search.c does the paging */
	RdsSearch  *search;			/* in scan_cxt; NULL until the first row */
	bool		search_desc;
	bool		search_nulls_first;
	bool		search_nulls_excluded;
	int			search_attno;	/* the create_time column */
	int64		search_need;	/* rows the consumer likely wants, -1 */
	char	   *search_text;	/* EXPLAIN: what is pushed down */
	RdsSearchStats search_stats;

	RdsHttpStats stats;

	int			wait_fd;		/* asynchronous Append: the backend's wait
								 * descriptor, -1 until needed or where
								 * unavailable */
	uint64		blocked_epoch;	/* connection's wait epoch when the scan last
								 * found it had to wait */
	bool		blocked;		/* ... and since then it has not looked */

	MemoryContext scan_cxt;		/* filter, streams, seen ids; reset on rescan */
	MemoryContext page_cxt;		/* body and json of the current page */
	MemoryContext row_cxt;		/* values of the current row */
} RdsScanState;

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
		rds_filter_add_time(f, c->kind, c->valtype, c->argtype, c->date_of,
							value);
		return;
	}
	rds_filter_add_values(f, c->field, values);
}

/* RDS_SCAN_GROUPS: remember a create_time condition for groupcount.c. */
static void
add_time_check(RdsScanState *state, RdsScanCond *c, Datum value, int i)
{
	RdsTimeCheck *t;

	if (c->kind != RDS_COND_LOWER && c->kind != RDS_COND_UPPER &&
		c->kind != RDS_COND_TIME_EQ)
		return;
	t = palloc(sizeof(RdsTimeCheck));
	t->kind = c->kind;
	t->strict = boolVal(list_nth(state->time_strict, i));
	t->value = DatumGetTimestampTz(value);
	state->time_checks = lappend(state->time_checks, t);
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
	state->time_checks = NIL;
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
		if (state->mode == RDS_SCAN_GROUPS && state->time_strict)
			add_time_check(state, c, value, foreach_current_index(lc));
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
	char	   *query;
	RdsPending *p;
	int			limit = state->opts->page_size;

	if (st->end_offset >= 0)
		limit = (int) Min((int64) limit, st->end_offset - st->next_offset);

	query = rds_request_query(st->query, psprintf(INT64_FORMAT, st->next_offset),
							  psprintf("%d", limit));

	p = &state->pending[(state->pending_head + state->npending) %
						state->opts->parallel_requests];
	p->cxt = cxt;
	p->active = true;
	p->stream = s;
	p->offset = st->next_offset;
	p->limit = limit;
	p->url = psprintf("%s?%s", state->path, query);
	p->desc = psprintf("GET %s", p->url);

	/*
	 * A pass repeated because total_count changed reads the API only: the
	 * cache would give it the pages the list has moved away from (the
	 * disagreeing first page again and again, for up to cache_ttl).
	 */
	p->req = rds_request_start_cached(state->conn, state->path, query,
									  state->opts->cache_ttl, st->passes == 0);
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

/* What looking for the next page or row found. */
typedef enum RdsNext
{
	RDS_NEXT_FOUND,				/* a page (row) is there */
	RDS_NEXT_END,				/* every stream is exhausted */
	RDS_NEXT_WAIT				/* nowait: nothing can be had without waiting */
} RdsNext;

/*
 * The position (0 = head) of a pending page that can be read without
 * waiting on the network: one answered by the cache, or whose request has its final
 * outcome; -1 if none.  Only the first page in flight of each stream
 * qualifies (a stream's pages are read in order).  Every request is polled,
 * so that all transfers progress and retries whose backoff is over start.
 */
static int
ready_pending(RdsScanState *state)
{
	int			found = -1;
	int			i;
	int			j;

	for (i = 0; i < state->npending; i++)
	{
		RdsPending *p = &state->pending[(state->pending_head + i) %
										state->opts->parallel_requests];
		bool		first = true;
		bool		ready;

		if (!p->active)
			continue;
		ready = rds_request_poll(p->req);
		if (!ready || found >= 0)
			continue;
		for (j = 0; j < i && first; j++)
		{
			RdsPending *q = &state->pending[(state->pending_head + j) %
											state->opts->parallel_requests];

			first = !(q->active && q->stream == p->stream);
		}
		if (first)
			found = i;
	}
	return found;
}

/* Move the pending page at position i to the head, keeping the others' order. */
static void
pending_to_head(RdsScanState *state, int i)
{
	int			n = state->opts->parallel_requests;
	RdsPending	p = state->pending[(state->pending_head + i) % n];

	for (; i > 0; i--)
		state->pending[(state->pending_head + i) % n] =
			state->pending[(state->pending_head + i - 1) % n];
	state->pending[state->pending_head] = p;
}

/*
 * Read the next page into state->page.  RDS_NEXT_END when every stream is
 * exhausted.  With nowait, reads only a page that is there (any stream's),
 * else returns RDS_NEXT_WAIT; without, waits for the next page in order.
 */
static RdsNext
next_page(RdsScanState *state, bool nowait)
{
	RdsPending	pending;
	char	   *desc;
	RdsStream  *st;
	StringInfo	body;
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
			return RDS_NEXT_END;
		if (nowait)
		{
			int			i = ready_pending(state);

			if (i < 0)
				return RDS_NEXT_WAIT;
			pending_to_head(state, i);
		}
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

	/*
	 * The body is decoded in the page's context and freed once decoded (the
	 * page keeps no pointer into it).
	 */
	oldcxt = MemoryContextSwitchTo(state->page_cxt);
	body = makeStringInfo();
	rds_request_finish(pending.req, body, &state->stats);
	desc = pstrdup(pending.desc);
	state->page = rds_page_parse(body->data, body->len, desc);
	pfree(body->data);
	pfree(body);
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
	return RDS_NEXT_FOUND;
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
	state->have_row = false;
	state->count_done = false;
	state->groups = NULL;

	state->seen = rds_idset_create(state->scan_cxt);
	state->search = NULL;
	state->nstreams = 0;
	state->started = false;
}

/* ----------------------------------------------------------------
 *		Execution
 * ----------------------------------------------------------------
 */

void
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
	if (state->mode == RDS_SCAN_GROUPS)
	{
		List	   *group = (List *) list_nth(fsplan->fdw_private,
											  FdwScanPrivateGroup);

		state->group_kind = (RdsGroupKind) intVal(linitial(group));
		state->time_strict = (List *) lsecond(group);
		state->group_zone = strVal(lthird(group));
	}

	rte = exec_rt_fetch(fsplan->scan.scanrelid > 0 ? fsplan->scan.scanrelid :
						(Index) bms_next_member(fsplan->fs_relids, -1), estate);
	relid = rte->relid;
	userid = OidIsValid(RDS_SCAN_CHECK_AS_USER(fsplan, rte)) ?
		RDS_SCAN_CHECK_AS_USER(fsplan, rte) : GetUserId();
	state->opts = rds_get_options(relid, userid);
	state->path = rds_task_list_path(state->opts);

	rel = node->ss.ss_currentRelation ? node->ss.ss_currentRelation :
		table_open(relid, AccessShareLock);
	state->relname = pstrdup(RelationGetRelationName(rel));
	state->ncolumns = node->ss.ss_ScanTupleSlot->tts_tupleDescriptor->natts;
	state->columns = rds_map_columns(state->opts, rel,
									 node->ss.ss_ScanTupleSlot->tts_tupleDescriptor,
									 (List *) list_nth(fsplan->fdw_private,
													   FdwScanPrivateAttnos),
									 state->mode == RDS_SCAN_COUNT ||
									 state->mode == RDS_SCAN_GROUPS);
	if (rel != node->ss.ss_currentRelation)
		table_close(rel, NoLock);

	foreach(lc, (List *) list_nth(fsplan->fdw_private, FdwScanPrivateConds))
	{
		List	   *item = (List *) lfirst(lc);
		RdsScanCond *c = palloc(sizeof(RdsScanCond));

		c->field = strVal(linitial(item));
		c->kind = intVal(lsecond(item));
		c->valtype = (Oid) intVal(lthird(item));
		c->argtype = (Oid) intVal(lfourth(item));
		c->date_of = boolVal(list_nth(item, 4));
		c->expr_index = intVal(list_nth(item, 5));
		state->conds = lappend(state->conds, c);
	}

	if (state->mode == RDS_SCAN_SEARCH)
	{
		List	   *search = (List *) list_nth(fsplan->fdw_private,
											   FdwScanPrivateSearch);

		state->search_desc = boolVal(linitial(search));
		state->search_nulls_first = boolVal(lsecond(search));
		state->search_nulls_excluded = boolVal(lthird(search));
		state->search_attno = intVal(lfourth(search));
		state->search_need = intVal(list_nth(search, 4));
		state->search_text = strVal(list_nth(search, 5));
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

/*
 * Find the next row to return (state->row_task, or state->row_action for
 * the resource 'actions') and set state->have_row.  Duplicates and tasks
 * outside the filter's value sets are skipped.  With nowait, RDS_NEXT_WAIT
 * when that would mean waiting on the network.
 */
static RdsNext
next_row(RdsScanState *state, bool nowait)
{
	bool		actions = (state->opts->resource == RDS_RESOURCE_ACTIONS);

	if (state->have_row)
		return RDS_NEXT_FOUND;
	for (;;)
	{
		RdsNext		r;

		if (actions && state->page &&
			state->action_row < rds_page_nactions(state->page))
		{
			const char *action = rds_page_action(state->page,
												 state->action_row++);

			if (action == NULL || seen_before(state, action))
				continue;
			state->row_action = action;
			state->have_row = true;
			return RDS_NEXT_FOUND;
		}
		if (!actions && state->page && state->page_row < state->page_rows)
		{
			int			i = state->page_row++;

			if (!rds_filter_match(&state->filter, state->page, i) ||
				seen_before(state, rds_page_task_field(state->page, i, "id")))
			{
				row_dropped(state);
				continue;
			}
			state->row_task = i;
			state->have_row = true;
			return RDS_NEXT_FOUND;
		}
		r = next_page(state, nowait);
		if (r != RDS_NEXT_FOUND)
			return r;
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

	foreach(lc, state->filter.fields)
		if (!((RdsFieldSet *) lfirst(lc))->sent)
			remote = false;

	for (s = 0; remote && s < state->nstreams; s++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(state->page_cxt);
		char	   *query;
		StringInfoData body;
		RdsPage    *page;
		int64		total;
		char	   *url;

		query = rds_request_query(state->streams[s].query, "0", "1");
		initStringInfo(&body);
		url = psprintf("%s?%s", state->path, query);
		rds_http_get_cached(state->conn, state->path, query,
							state->opts->cache_ttl, &body, &state->stats);
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
	while (next_row(state, false) == RDS_NEXT_FOUND)
	{
		state->have_row = false;
		count++;
	}
	return count;
}

/* groupcount.c's way to the scan's paging: the next task to count. */
static bool
next_task_for_groups(void *arg, RdsPage **page, int *task)
{
	RdsScanState *state = (RdsScanState *) arg;

	if (next_row(state, false) != RDS_NEXT_FOUND)
		return false;
	state->have_row = false;
	*page = state->page;
	*task = state->row_task;
	return true;
}

/*
 * RDS_SCAN_GROUPS: the rows (key, count(*)) groupcount.c counts; the scan
 * tuple is the group key (none for count(*) alone) and the counts.
 */
static TupleTableSlot *
iterate_groups(RdsScanState *state, TupleTableSlot *slot)
{
	Datum		key;
	bool		isnull;
	int64		count;
	int			c;

	if (state->groups == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(state->scan_cxt);
		RdsGroupScan *gs = palloc0(sizeof(RdsGroupScan));
		int			i;

		gs->opts = state->opts;
		gs->conn = state->conn;
		gs->path = state->path;
		gs->filter = &state->filter;
		for (i = 0; i < state->nstreams; i++)
			gs->streams = lappend(gs->streams, state->streams[i].query);
		gs->time_checks = state->time_checks;
		gs->stats = &state->stats;
		gs->next_task = next_task_for_groups;
		gs->arg = state;
		state->groups = rds_groupcount_create(state->group_kind,
											  state->group_zone);
		rds_groupcount_run(state->groups, gs);
		MemoryContextSwitchTo(oldcxt);
	}
	if (!rds_groupcount_next(state->groups, &key, &isnull, &count))
		return slot;
	for (c = 0; c < state->ncolumns; c++)
	{
		slot->tts_values[c] = Int64GetDatum(count);
		slot->tts_isnull[c] = false;
	}
	if (state->group_kind != RDS_GROUP_NONE)
	{
		slot->tts_values[0] = key;
		slot->tts_isnull[0] = isnull;
	}
	return ExecStoreVirtualTuple(slot);
}

TupleTableSlot *
rdsIterateForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	MemoryContext oldcxt;

	ExecClearTuple(slot);
	MemoryContextReset(state->row_cxt);

	if (!state->started)
	{
		build_streams(state, node->ss.ps.ps_ExprContext);
		state->started = true;
	}

	if (state->mode == RDS_SCAN_GROUPS)
		return iterate_groups(state, slot);

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

	if (state->mode == RDS_SCAN_SEARCH)
	{
		if (state->search == NULL)
			state->search = rds_search_begin(state->scan_cxt, state->opts,
											 state->conn, state->path,
											 &state->filter, state->search_desc,
											 state->search_nulls_first,
											 state->search_nulls_excluded,
											 state->search_need,
											 state->search_attno - 1,
											 state->columns, state->ncolumns,
											 state->relname, &state->stats,
											 &state->search_stats);
		if (!rds_search_next(state->search, slot, state->row_cxt))
			ExecClearTuple(slot);
		return slot;
	}

	if (state->row_budget == 0)
	{
		cancel_pending(state);
		return slot;
	}

	switch (next_row(state, state->async))
	{
		case RDS_NEXT_FOUND:
			break;
		case RDS_NEXT_WAIT:
			state->would_block = true;
			return slot;
		case RDS_NEXT_END:
			return slot;
	}
	state->have_row = false;
	oldcxt = MemoryContextSwitchTo(state->row_cxt);
	if (state->opts->resource == RDS_RESOURCE_ACTIONS)
		rds_store_action(state->columns, state->ncolumns,
						 state->relname, state->row_action, slot);
	else
		rds_store_task(state->columns, state->ncolumns, state->relname,
					   state->page, state->row_task, slot);
	MemoryContextSwitchTo(oldcxt);
	if (state->row_budget > 0 && --state->row_budget == 0)
		cancel_pending(state);	/* LIMIT reached: nothing more in flight */
	return ExecStoreVirtualTuple(slot);
}

void
rdsReScanForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	reset_scan(state);
}

void
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
 * while a page is on the wire the scan reports itself pending.  All
 * partitions thus fetch at the same time.  Such a scan never waits on the
 * network: it reads only pages that are there (any stream's), a request in
 * backoff starts its next attempt when polled after the delay, and an
 * iteration that would wait returns nothing and stays pending, so that no
 * partition (a page in backoff, pages whose rows the local conditions drop)
 * holds up the others.
 *
 * The Append waits on one descriptor per pending scan, but every scan of
 * the backend has the same one (the transport's wait set, which also ticks
 * every 100 ms so that timeouts and cancels are served): a hundred servers
 * cost two descriptors, not three hundred.  It can be registered in an
 * Append's wait set only once (epoll refuses a second registration), so
 * only the first pending scan of each round of ForeignAsyncConfigureWait
 * calls registers it, and only that scan is notified when it fires.  The
 * others therefore look for themselves in the next round: a scan whose
 * connection has seen a transfer complete (or the timer tick) since it last
 * had to wait produces its row right there, as postgres_fdw does for a
 * request another scan's fetch completed.
 * ----------------------------------------------------------------
 */

/*
 * The Append whose round of ForeignAsyncConfigureWait calls is under way,
 * the request index of the last call, and whether the wait descriptor is
 * registered in that round's wait set.  A round visits the pending scans
 * in increasing index order; every other callback ends the round.
 */
static PlanState *round_requestor = NULL;
static int	round_last_index = -1;
static bool round_registered = false;

/*
 * Prepare the scan for the asynchronous Append: its conditions evaluated
 * (which sends its first requests), and a descriptor to wait on.  False
 * where there is none: the scan then runs synchronously.
 */
static bool
async_setup(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	if (!state->started)
	{
		build_streams(state, node->ss.ps.ps_ExprContext);
		state->started = true;
	}
	if (state->wait_fd < 0)
	{
		state->wait_fd = rds_conn_wait_fd(state->conn);
		if (state->wait_fd < 0)
			return false;		/* no way to wait: run synchronously */
	}
	state->async = true;
	return true;
}

/*
 * Run the scan without waiting on the network: true with the row (or the
 * end) in *result, false if it would have to wait.  As in postgres_fdw, the
 * scan itself runs (ExecProcNodeReal: the local conditions' loop, without
 * the instrumentation wrapper, which the async callbacks' callers provide)
 * and an empty result that is not the end means "wait": a page in backoff,
 * or pages whose rows all fail the local conditions, never hold up the
 * other partitions.
 */
static bool
produce_nowait(ForeignScanState *node, TupleTableSlot **result)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	uint64		epoch = rds_conn_wait_epoch(state->conn);

	state->would_block = false;
	*result = node->ss.ps.ExecProcNodeReal((PlanState *) node);
	state->blocked = (TupIsNull(*result) && state->would_block);
	state->blocked_epoch = epoch;
	return !state->blocked;
}

/*
 * Produce a tuple (or the end) if one can be had without waiting on the
 * network, else stay pending.
 */
static void
produce_async(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	TupleTableSlot *result;

	round_requestor = NULL;		/* whatever round there was is over */
	if (!async_setup(node))
	{
		state->async = false;
		ExecAsyncRequestDone(areq,
							 node->ss.ps.ExecProcNodeReal((PlanState *) node));
		return;
	}
	if (produce_nowait(node, &result))
		ExecAsyncRequestDone(areq, result);
	else
		ExecAsyncRequestPending(areq);
}

void
rdsForeignAsyncRequest(AsyncRequest *areq)
{
	produce_async(areq);
}

/*
 * A pending scan whose connection saw progress since it last looked, and
 * can now produce, completes its request here (calling the Append back
 * itself, as postgres_fdw's complete_pending_request does) and wakes the
 * wait so that the Append does not sleep on it.  Otherwise the backend's
 * wait descriptor is registered, once per round.
 */
void
rdsForeignAsyncConfigureWait(AsyncRequest *areq)
{
	ForeignScanState *node = (ForeignScanState *) areq->requestee;
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	AppendState *requestor = (AppendState *) areq->requestor;
	TupleTableSlot *result;

	Assert(state->wait_fd >= 0);
	Assert(areq->callback_pending);

	if (!state->blocked ||
		rds_conn_wait_epoch(state->conn) != state->blocked_epoch)
	{
		areq->callback_pending = false;
		if (produce_nowait(node, &result))
		{
			ExecAsyncRequestDone(areq, result);
			ExecAsyncResponse(areq);
			if (areq->requestee->instrument)
				InstrUpdateTupleCount(areq->requestee->instrument,
									  TupIsNull(result) ? 0.0 : 1.0);
			rds_wait_fd_wake();
			return;
		}
		ExecAsyncRequestPending(areq);
	}

	if (round_requestor != areq->requestor ||
		areq->request_index <= round_last_index)
	{
		/* a new round: a new wait set */
		round_requestor = areq->requestor;
		round_registered = false;
	}
	round_last_index = areq->request_index;
	if (round_registered)
		return;
	AddWaitEventToSet(requestor->as_eventset, WL_SOCKET_READABLE,
					  state->wait_fd, NULL, areq);
	round_registered = true;
}

void
rdsForeignAsyncNotify(AsyncRequest *areq)
{
	produce_async(areq);
}

/* ----------------------------------------------------------------
 *		EXPLAIN
 * ----------------------------------------------------------------
 */

/*
 * How EXPLAIN shows a value known only at run time: a query parameter
 * ($n of PREPARE or a bind message) by its number, anything else (an outer
 * row's value in a nested loop, a subquery's result, a stable expression)
 * as <run-time>.
 */
static char *
runtime_ref(Expr *e)
{
	if (IsA(e, Param) && ((Param *) e)->paramkind == PARAM_EXTERN)
		return psprintf("$%d", ((Param *) e)->paramid);
	return pstrdup("<run-time>");
}

/*
 * The requests a scan sends, as EXPLAIN shows them: the first page request
 * of each stream, built by the same code as the requests themselves
 * (rds_filter_streams and rds_request_query), so that the text is what goes
 * on the wire, in its order.  Values known only at run time are shown as
 * runtime_ref() names them.
 */
static List *
explain_requests(RdsScanState *state, List *fdw_exprs)
{
	RdsFilter	f;
	List	   *queries;
	List	   *lines = NIL;
	ListCell   *lc;
	char	   *offset;
	char	   *limit;
	const char *note = "";

	rds_filter_init(&f);
	foreach(lc, state->conds)
	{
		RdsScanCond *c = (RdsScanCond *) lfirst(lc);
		Expr	   *e = list_nth(fdw_exprs, c->expr_index);

		if (!IsA(e, Const))
			rds_filter_add_placeholder(&f, c->field, c->kind, runtime_ref(e));
		else if (((Const *) e)->constisnull)
			f.empty = true;
		else
			add_cond_value(&f, c, ((Const *) e)->constvalue);
	}

	/* the first page of each stream, as start_page_request asks for it */
	offset = "0";
	limit = psprintf("%d", state->opts->page_size);
	if (state->mode == RDS_SCAN_COUNT)
		limit = "1";
	else if (state->mode == RDS_SCAN_LIMIT)
	{
		Expr	   *e;

		if (state->offset_index >= 0)
		{
			e = list_nth(fdw_exprs, state->offset_index);
			if (!IsA(e, Const))
				offset = runtime_ref(e);
			else if (!((Const *) e)->constisnull)
				offset = psprintf(INT64_FORMAT,
								  DatumGetInt64(((Const *) e)->constvalue));
		}
		if (state->limit_index >= 0)
		{
			e = list_nth(fdw_exprs, state->limit_index);
			if (!IsA(e, Const))
				limit = runtime_ref(e);
			else if (!((Const *) e)->constisnull)
			{
				int64		n = DatumGetInt64(((Const *) e)->constvalue);

				if (n == 0)
					f.empty = true;
				limit = psprintf(INT64_FORMAT,
								 Min(n, (int64) state->opts->page_size));
			}
		}
		note = psprintf(" (pages of at most %d)", state->opts->page_size);
	}

	queries = rds_filter_streams(&f, state->opts, RDS_MAX_STREAMS);
	if (queries == NIL)
		return list_make1(pstrdup("none (the conditions cannot be satisfied)"));

	foreach(lc, queries)
		lines = lappend(lines,
						psprintf("GET %s?%s%s", state->path,
								 rds_request_query((char *) lfirst(lc),
												   offset, limit),
								 note));
	if (state->mode == RDS_SCAN_GROUPS)
		lines = list_concat(lines, rds_groupcount_explain(state->group_kind, &f,
														  state->opts, state->path));
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

void
rdsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (state->mode == RDS_SCAN_COUNT)
		ExplainPropertyText("Pushed down", "count(*) from total_count", es);
	else if (state->mode == RDS_SCAN_GROUPS)
		ExplainPropertyText("Pushed down",
							psprintf("%s from total_count",
									 rds_group_text(state->group_kind,
													state->group_zone)), es);
	else if (state->mode == RDS_SCAN_LIMIT)
		ExplainPropertyText("Pushed down", "LIMIT/OFFSET", es);
	else if (state->mode == RDS_SCAN_SEARCH)
		ExplainPropertyText("Pushed down",
							psprintf("%s (time-window search)", state->search_text),
							es);

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
			ExplainPropertyList("Remote request", lines, es);
	}
	if (es->analyze)
		ExplainPropertyText("HTTP requests",
							psprintf(INT64_FORMAT " (retries " INT64_FORMAT
									 ", bytes received " INT64_FORMAT
									 ", cache hits " INT64_FORMAT "%s)",
									 state->stats.requests, state->stats.retries,
									 state->stats.bytes, state->stats.cache_hits,
									 state->stats.merged > 0 ?
									 psprintf(", merged waits " INT64_FORMAT,
											  state->stats.merged) : ""),
							es);
	if (es->analyze && state->mode == RDS_SCAN_GROUPS && state->groups)
		ExplainPropertyText("Grouped count", rds_groupcount_summary(state->groups), es);
	if (es->analyze && state->mode == RDS_SCAN_SEARCH)
		ExplainPropertyText("Time-window search",
							psprintf(INT64_FORMAT " searches, " INT64_FORMAT
									 " windows (at most " INT64_FORMAT
									 " in one search), " INT64_FORMAT
									 " read whole",
									 state->search_stats.searches,
									 state->search_stats.windows,
									 state->search_stats.max_windows,
									 state->search_stats.whole_pages +
									 state->search_stats.fallbacks),
							es);
}
