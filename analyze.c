/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		  ANALYZE of an rds_task_fdw foreign table: the list's size from
 *		  total_count, and a sample of tasks from pages spread evenly over
 *		  the list, so that pg_class.reltuples and pg_statistic describe the
 *		  remote list and the planner needs no request to estimate.
 *
 * The cost is bounded: one limit=1 request for the size, then at most
 * analyze_sample_pages page requests (fewer when the list has fewer
 * pages), at even steps from a random start.  A table with resource 'actions' gets the distinct action names
 * of the same pages (all of them when every page is read).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "rds_task_fdw.h"

/* The sample being collected: a reservoir of targrows tuples. */
typedef struct RdsSample
{
	HeapTuple  *rows;
	int			targrows;
	int			numrows;
	double		seen;			/* tuples offered so far */
	MemoryContext tuple_cxt;	/* where sampled tuples live (ANALYZE's) */
	List	   *actions;		/* action names offered so far (tuple_cxt) */
	Relation	rel;
	RdsColumn  *columns;
	TupleTableSlot *slot;
} RdsSample;

static int	acquire_sample_rows(Relation relation, int elevel,
								HeapTuple *rows, int targrows,
								double *totalrows, double *totaldeadrows);

/*
 * The list sizes rdsAnalyzeForeignTable found, for the acquire_sample_rows
 * calls that follow for the same tables (ANALYZE of a partitioned table
 * asks every partition first, then samples each).  A few slots, reused in
 * turn; a size not found is asked again.
 */
#define SIZED_SLOTS 32
static struct
{
	Oid			relid;
	int64		total;
}			sized[SIZED_SLOTS];
static int	sized_next = 0;

/* The remembered size of relid's list, forgotten once taken; -1 if none. */
static int64
take_size(Oid relid)
{
	int			i;

	for (i = 0; i < SIZED_SLOTS; i++)
	{
		if (sized[i].relid == relid && OidIsValid(relid))
		{
			sized[i].relid = InvalidOid;
			return sized[i].total;
		}
	}
	return -1;
}

/*
 * rdsAnalyzeForeignTable
 *		Every rds_task_fdw table can be analyzed.  The size in pages (what
 *		ANALYZE of a partitioned table weighs its partitions' samples by)
 *		comes from one limit=1 request.
 */
bool
rdsAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
					   BlockNumber *totalpages)
{
	RdsOptions *opts = rds_get_options(RelationGetRelid(relation), GetUserId());
	MemoryContext tmpcxt;
	MemoryContext oldcxt;
	int64		total;

	tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "rds_task_fdw analyze",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	total = rds_page_total_count(rds_page_get(rds_get_connection(opts),
											  rds_task_list_path(opts), "",
											  0, 1, 0, false, NULL));
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(tmpcxt);

	(void) take_size(RelationGetRelid(relation));	/* an older one goes */
	sized[sized_next].relid = RelationGetRelid(relation);
	sized[sized_next].total = Max(total, 0);
	sized_next = (sized_next + 1) % SIZED_SLOTS;
	*func = acquire_sample_rows;
	*totalpages = (BlockNumber) Max(1, Min((double) MaxBlockNumber,
										   ceil((double) Max(total, 0) /
												opts->page_size)));
	return true;
}

/* Offer one tuple (the slot's values) to the reservoir (Algorithm R). */
static void
sample_slot(RdsSample *s)
{
	MemoryContext oldcxt;
	int			k;

	s->seen += 1;
	if (s->numrows < s->targrows)
		k = s->numrows++;
	else
	{
		k = (int) pg_prng_uint64_range(&pg_global_prng_state, 0,
									   (uint64) s->seen - 1);
		if (k >= s->targrows)
			return;
		heap_freetuple(s->rows[k]);
	}
	oldcxt = MemoryContextSwitchTo(s->tuple_cxt);
	s->rows[k] = heap_form_tuple(s->slot->tts_tupleDescriptor,
								 s->slot->tts_values, s->slot->tts_isnull);
	MemoryContextSwitchTo(oldcxt);
}

/* Offer every task of a page, or with resource 'actions' its new names. */
static void
sample_page(RdsSample *s, const RdsOptions *opts, RdsPage *page)
{
	int			natts = s->slot->tts_tupleDescriptor->natts;
	int			i;

	if (opts->resource == RDS_RESOURCE_ACTIONS)
	{
		for (i = 0; i < rds_page_nactions(page); i++)
		{
			const char *action = rds_page_action(page, i);
			MemoryContext oldcxt;

			if (action == NULL || list_member(s->actions, makeString((char *) action)))
				continue;
			oldcxt = MemoryContextSwitchTo(s->tuple_cxt);
			s->actions = lappend(s->actions, makeString(pstrdup(action)));
			MemoryContextSwitchTo(oldcxt);
			ExecClearTuple(s->slot);
			rds_store_action(s->columns, natts, RelationGetRelationName(s->rel),
							 action, s->slot);
			sample_slot(s);
		}
		return;
	}
	for (i = 0; i < rds_page_ntasks(page); i++)
	{
		ExecClearTuple(s->slot);
		rds_store_task(s->columns, natts, RelationGetRelationName(s->rel),
					   page, i, s->slot);
		sample_slot(s);
	}
}

/*
 * acquire_sample_rows
 *		ANALYZE's AcquireSampleRowsFunc.  Reads the first page (for
 *		total_count) and pages at even steps over the list, at most
 *		analyze_sample_pages in all, and keeps a uniform sample of targrows
 *		of their tasks.  *totalrows is total_count; nothing is dead.
 */
static int
acquire_sample_rows(Relation relation, int elevel, HeapTuple *rows,
					int targrows, double *totalrows, double *totaldeadrows)
{
	RdsOptions *opts = rds_get_options(RelationGetRelid(relation), GetUserId());
	TupleDesc	tupdesc = RelationGetDescr(relation);
	RdsConn    *conn = rds_get_connection(opts);
	char	   *path = rds_task_list_path(opts);
	MemoryContext page_cxt;
	MemoryContext sample_cxt;
	MemoryContext oldcxt;
	RdsSample	s;
	List	   *attnos = NIL;
	RdsPager   *pager;
	int64		total;
	int64		npages;
	int			nsample;
	int			requests = 1;	/* rdsAnalyzeForeignTable's */
	double		start;
	int			i;

	memset(&s, 0, sizeof(s));
	s.rows = rows;
	s.targrows = targrows;
	s.tuple_cxt = CurrentMemoryContext;
	s.rel = relation;
	for (i = 0; i < tupdesc->natts; i++)
		attnos = lappend(attnos,
						 makeInteger(TupleDescAttr(tupdesc, i)->attisdropped ? 0 : i + 1));
	s.columns = rds_map_columns(opts, relation, tupdesc, attnos, false);
	s.slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);

	page_cxt = AllocSetContextCreate(CurrentMemoryContext, "rds_task_fdw analyze page",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(page_cxt);

	/* the size, as rdsAnalyzeForeignTable just found it (or asked now) */
	if ((total = take_size(RelationGetRelid(relation))) < 0)
	{
		total = Max(rds_page_total_count(rds_page_get(conn, path, "", 0, 1,
													  0, false, NULL)), 0);
		requests++;
	}

	/*
	 * Pages at even steps over the list, from a random start within the
	 * first step, so that the newest tasks (the first page) are not in every
	 * sample.
	 */
	npages = Max((total + opts->page_size - 1) / opts->page_size, 1);
	nsample = (int) Min(npages, (int64) opts->analyze_sample_pages);
	start = pg_prng_double(&pg_global_prng_state);
	pager = rds_pager_create(page_cxt, conn, opts, path, false,
							 rds_columns_want_raw(s.columns, tupdesc->natts),
							 NULL);
	for (i = 0; i < nsample; i++)
	{
		int64		pageno = Min((int64) floor((i + start) * npages / nsample),
								 npages - 1);

		rds_pager_add_stream(pager, "", pageno * opts->page_size,
							 (pageno + 1) * opts->page_size);
	}
	/* the sample pages, parallel_requests of them in flight */
	sample_cxt = AllocSetContextCreate(page_cxt, "rds_task_fdw sample page",
									   ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(sample_cxt);
	for (;;)
	{
		RdsPagerPage got;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(sample_cxt);
		if (rds_pager_next(pager, false, &got) != RDS_NEXT_FOUND)
			break;
		sample_page(&s, opts, got.page);
		requests++;
	}
	if (opts->resource == RDS_RESOURCE_ACTIONS)
		total = list_length(s.actions);	/* the distinct names found */

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(page_cxt);
	ExecDropSingleTupleTableSlot(s.slot);

	ereport(elevel,
			(errmsg("\"%s\": %lld rows in the list, %d sampled from %d of %lld pages (%d requests)",
					RelationGetRelationName(relation), (long long) total,
					s.numrows, nsample, (long long) npages, requests)));

	*totalrows = (double) total;
	*totaldeadrows = 0;
	return s.numrows;
}
