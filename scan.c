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

/*
 * Execution state of a foreign scan.
 */
typedef struct RdsScanState
{
	RdsScanPlan plan;			/* from the planner (plan.c) */
	RdsOptions *opts;
	RdsConn    *conn;
	char	   *path;			/* /v3/{project_id}/tasklist */
	const char *relname;

	int			ncolumns;
	RdsColumn  *columns;

	/* the values of the plan's conditions */
	List	   *exprs;			/* ExprState * of fdw_exprs */
	RdsFilter	filter;

	/* request streams, read by the pager */
	RdsPager   *pager;			/* in scan_cxt; NULL until the first row */
	int			nstreams;
	int64		row_budget;		/* LIMIT: rows still to return, -1 = all */
	bool		started;		/* conditions evaluated, streams built */

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
	List	   *time_checks;	/* RdsTimeCheck *, built with the streams */
	Expr	   *group_expr;		/* RDS_GROUP_BUCKET: the query's key */
	RdsGroupCount *groups;		/* the counts, once run */

	/* RDS_SCAN_SEARCH: search.c does the paging */
	RdsSearch  *search;			/* in scan_cxt; NULL until the first row */
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
add_cond_value(RdsFilter *f, RdsPlanCond *c, Datum value)
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
		rds_filter_add_time(f, c->kind, c->valtype, c->argtype, c->date_of, c->strict,
							value);
		return;
	}
	rds_filter_add_values(f, c->field, values);
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
	int64		offset = 0;

	rds_filter_init(&state->filter);
	state->time_checks = NIL;
	foreach(lc, state->plan.conds)
	{
		RdsPlanCond *c = (RdsPlanCond *) lfirst(lc);
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
		if (state->plan.mode == RDS_SCAN_GROUPS && c->valtype == TIMESTAMPTZOID)
			state->time_checks = rds_time_checks(state->time_checks, c->kind,
												 c->strict, c->argtype,
												 c->date_of, value);
	}

	/* LIMIT and OFFSET */
	state->row_budget = -1;
	if (state->plan.mode == RDS_SCAN_LIMIT)
	{
		bool		isnull;
		Datum		value;

		if (state->plan.offset_index >= 0)
		{
			value = ExecEvalExpr(list_nth(state->exprs, state->plan.offset_index),
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
		if (state->plan.limit_index >= 0)
		{
			value = ExecEvalExpr(list_nth(state->exprs, state->plan.limit_index),
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
	}
	queries = rds_filter_streams(&state->filter, state->opts, RDS_MAX_STREAMS);
	state->nstreams = list_length(queries);
	state->pager = rds_pager_create(state->scan_cxt, state->conn, state->opts,
									state->path, true,
									rds_columns_want_raw(state->columns,
														 state->ncolumns),
									&state->stats);
	foreach(lc, queries)
		rds_pager_add_stream(state->pager, (char *) lfirst(lc), offset,
							 state->row_budget >= 0 ? offset + state->row_budget : -1);
	MemoryContextSwitchTo(oldcxt);
}

/* ----------------------------------------------------------------
 *		Paging (pager.c reads the streams)
 * ----------------------------------------------------------------
 */

/*
 * Read the next page into state->page.  RDS_NEXT_END when every stream is
 * exhausted.  With nowait, reads only a page that is there (any stream's),
 * else returns RDS_NEXT_WAIT; without, waits for the next page in order.
 */
static RdsNext
next_page(RdsScanState *state, bool nowait)
{
	RdsPagerPage got;
	MemoryContext oldcxt;
	RdsNext		r;

	state->page = NULL;
	state->page_rows = 0;
	state->page_row = 0;
	state->action_row = 0;
	MemoryContextReset(state->page_cxt);

	oldcxt = MemoryContextSwitchTo(state->page_cxt);
	r = rds_pager_next(state->pager, nowait, &got);
	MemoryContextSwitchTo(oldcxt);
	if (r != RDS_NEXT_FOUND)
		return r;

	/* a stream's first total_count tells the duplicate filter its size */
	if (got.expect >= 0 && state->opts->resource == RDS_RESOURCE_TASKS)
		rds_idset_expect(state->seen, got.expect);
	state->page = got.page;
	state->page_rows = rds_page_ntasks(got.page);
	state->page_stream = got.stream;
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
	rds_pager_extend(state->pager, state->page_stream);
}

/*
 * Forget what the scan read and sent; the next iteration evaluates the
 * conditions again (parameters of a nested loop are only set by then).
 */
static void
reset_scan(RdsScanState *state)
{
	rds_pager_cancel(state->pager);
	if (state->seen)
		rds_idset_report(state->seen, state->relname);
	MemoryContextReset(state->scan_cxt);
	MemoryContextReset(state->page_cxt);
	state->page = NULL;
	state->page_rows = state->page_row = state->action_row = 0;
	state->have_row = false;
	state->groups = NULL;

	state->seen = rds_idset_create(state->scan_cxt);
	state->search = NULL;
	state->pager = NULL;
	state->nstreams = 0;
	state->started = false;
}

/* ----------------------------------------------------------------
 *		Execution
 * ----------------------------------------------------------------
 */

/*
 * rdsBeginForeignScan
 *		Reads the plan (plan.c) into a new RdsScanState, resolves the
 *		options for the checking user and maps the scan's columns.  With
 *		EXPLAIN only, stops there (rdsExplainForeignScan needs no more);
 *		else prepares the values' expressions, the connection and the
 *		memory contexts.  No request is sent before the first row is asked
 *		for.  Throws on bad options or a column the API does not have.
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

	state = palloc0(sizeof(RdsScanState));
	state->wait_fd = -1;
	node->fdw_state = state;

	rds_plan_from_list(fsplan->fdw_private, &state->plan);

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
									 state->plan.attnos,
									 state->plan.mode == RDS_SCAN_COUNT ||
									 state->plan.mode == RDS_SCAN_GROUPS);
	if (rel != node->ss.ss_currentRelation)
		table_close(rel, NoLock);

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/* a bucket key: the first column of the scan tuple (planner.c) */
	if (state->plan.mode == RDS_SCAN_GROUPS && state->plan.group_kind == RDS_GROUP_BUCKET)
		state->group_expr = ((TargetEntry *) linitial(fsplan->fdw_scan_tlist))->expr;
	state->exprs = ExecInitExprList(fsplan->fdw_exprs, (PlanState *) node);
	state->conn = rds_get_connection(state->opts);
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
				seen_before(state, rds_page_task_value(state->page, i, RDS_FIELD_ID, NULL)))
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
 * RDS_SCAN_GROUPS and RDS_SCAN_COUNT: the rows groupcount.c counts; the
 * scan tuple is the group keys (none for count(*) alone; a bucket, then status or name, for
 * two; status not shown when only the aggregates count by it) and the
 * aggregates (groupagg.c).
 */
static TupleTableSlot *
iterate_groups(RdsScanState *state, TupleTableSlot *slot)
{
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
			gs->streams = lappend(gs->streams,
								  (char *) rds_pager_stream_query(state->pager, i));
		gs->time_checks = state->time_checks;
		gs->stats = &state->stats;
		state->groups = rds_groupcount_create(state->plan.group_kind,
											  state->plan.group_kind2,
											  &state->plan.bucket,
											  state->group_expr,
											  state->plan.group_aggs,
											  state->plan.group_hide_status);
		rds_groupcount_run(state->groups, gs);
		MemoryContextSwitchTo(oldcxt);
	}
	if (!rds_groupcount_next_row(state->groups, slot->tts_values, slot->tts_isnull))
		return slot;
	return ExecStoreVirtualTuple(slot);
}

/*
 * rdsIterateForeignScan
 *		The next row, or an empty slot at the end.  The first call
 *		evaluates the conditions' values and builds the request streams;
 *		then, by mode: the count(*) row, the grouped counts (groupcount.c),
 *		the time-window search (search.c), or the tasks of the pages in
 *		order, each id once, pages kept in flight up to parallel_requests.
 *		Under an asynchronous Append it never waits: an empty slot with
 *		would_block set means "not yet".  Throws on a failed request or a
 *		page that is not the API's.
 */
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

	/* count(*) from total_count, with or without groups: groupcount.c */
	if (state->plan.mode == RDS_SCAN_GROUPS || state->plan.mode == RDS_SCAN_COUNT)
		return iterate_groups(state, slot);

	if (state->plan.mode == RDS_SCAN_SEARCH)
	{
		if (state->search == NULL)
			state->search = rds_search_begin(state->scan_cxt, state->opts,
											 state->conn, state->path,
											 &state->filter, state->plan.search_desc,
											 state->plan.search_nulls_first,
											 state->plan.search_nulls_excluded,
											 state->plan.search_need,
											 state->plan.search_attno - 1,
											 state->columns, state->ncolumns,
											 state->relname, &state->stats,
											 &state->search_stats);
		if (!rds_search_next(state->search, slot, state->row_cxt))
			ExecClearTuple(slot);
		return slot;
	}

	if (state->row_budget == 0)
	{
		rds_pager_cancel(state->pager);
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
		rds_pager_cancel(state->pager);	/* LIMIT reached: nothing more in flight */
	return ExecStoreVirtualTuple(slot);
}

/*
 * rdsReScanForeignScan
 *		Cancels what is in flight and starts over at the next row: the
 *		values (Params of a parameterized path may have changed) are
 *		evaluated again and the streams rebuilt.
 */
void
rdsReScanForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	reset_scan(state);
}

/*
 * rdsEndForeignScan
 *		Cancels the requests still in flight.  Everything else lives in the
 *		query's memory, and the connection stays for the next query.
 */
void
rdsEndForeignScan(ForeignScanState *node)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;

	if (state == NULL || state->seen == NULL)
		return;					/* EXPLAIN only */
	rds_pager_cancel(state->pager);
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

/*
 * rdsForeignAsyncRequest, rdsForeignAsyncConfigureWait,
 * rdsForeignAsyncNotify
 *		The asynchronous Append protocol: a request yields a row if one is
 *		ready, else the scan's wait descriptor (readable on network activity
 *		and every RDS_POLL_INTERVAL_MS) is added to the Append's wait set,
 *		and a notification lets the transfers progress and yields the next
 *		row if there is one by then.
 */
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
	foreach(lc, state->plan.conds)
	{
		RdsPlanCond *c = (RdsPlanCond *) lfirst(lc);
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
	if (state->plan.mode == RDS_SCAN_COUNT)
		limit = "1";
	else if (state->plan.mode == RDS_SCAN_LIMIT)
	{
		Expr	   *e;

		if (state->plan.offset_index >= 0)
		{
			e = list_nth(fdw_exprs, state->plan.offset_index);
			if (!IsA(e, Const))
				offset = runtime_ref(e);
			else if (!((Const *) e)->constisnull)
				offset = psprintf(INT64_FORMAT,
								  DatumGetInt64(((Const *) e)->constvalue));
		}
		if (state->plan.limit_index >= 0)
		{
			e = list_nth(fdw_exprs, state->plan.limit_index);
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
	if (state->plan.mode == RDS_SCAN_GROUPS)
		lines = list_concat(lines, rds_groupcount_explain(state->plan.group_kind,
														  state->plan.group_kind2, &f,
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

/*
 * rdsExplainForeignScan
 *		"Remote request:" lines built by the code that builds the requests
 *		(deparse.c, with run-time values shown as placeholders), what is
 *		pushed down (LIMIT, count(*), groups, search), and with ANALYZE the
 *		HTTP figures: requests, retries, bytes, cache hits, merged waits.
 */
void
rdsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	RdsScanState *state = (RdsScanState *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	if (state->plan.mode == RDS_SCAN_COUNT)
		ExplainPropertyText("Pushed down", "count(*) from total_count", es);
	else if (state->plan.mode == RDS_SCAN_GROUPS)
		ExplainPropertyText("Pushed down",
							psprintf("%s from total_count%s",
									 rds_group_text(state->plan.group_kind,
													state->plan.group_kind2,
													&state->plan.bucket),
									 state->plan.group_hide_status ?
									 " (status for the counts of one status, not shown)" : ""),
							es);
	else if (state->plan.mode == RDS_SCAN_LIMIT)
		ExplainPropertyText("Pushed down", "LIMIT/OFFSET", es);
	else if (state->plan.mode == RDS_SCAN_SEARCH)
		ExplainPropertyText("Pushed down",
							psprintf("%s (time-window search)", state->plan.search_text),
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
	if (es->analyze && state->plan.mode == RDS_SCAN_GROUPS && state->groups)
		ExplainPropertyText("Grouped count", rds_groupcount_summary(state->groups), es);
	if (es->analyze && state->plan.mode == RDS_SCAN_SEARCH)
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
