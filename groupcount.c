/*-------------------------------------------------------------------------
 *
 * groupcount.c
 *		  count(*) over a create_time window, alone or GROUP BY status,
 *		  name or a time bucket of create_time (bucket.c), answered from
 *		  total_count with one request per group, and exact: the requests
 *		  and the phases of a count.  What is counted, the result's rows,
 *		  its stored copy and EXPLAIN's words are groupresult.c's.
 *
 * The window's requests are the scan's own streams (deparse.c).  Their first
 * pages (limit=page_size) give the window's total_count, the names the API
 * lists in "actions", and, when the window fits in them, every task: those
 * are then counted locally.  Otherwise each group gets one limit=1 request
 * per stream (status: the documented statuses; name: the actions; buckets:
 * a window per bucket, where bucket.c says the key changes, the first and
 * last with limit=page_size), several in flight.  The groups must sum to the
 * window's total_count, else a task lies outside every group (an empty or
 * unknown status, a name missing from actions, a list that moved between
 * requests) and the node reads the window's pages and counts locally.
 *
 * The window the requests send is wider than the conditions (deparse.c
 * widens it, the API's bound inclusivity being undocumented): the tasks on
 * its edges (one second beyond each bound, fetched whole) are rechecked
 * against the conditions, and those that fail are taken off the group that
 * counted them.  The timestamps the API returns have second resolution, so
 * bucket windows [b, b' - 1 ms] partition them; should the API's bounds be
 * exclusive, a task on a bucket's bound is lost and the sum check sends the
 * node to the pages.  When reading the pages costs no more requests than
 * the groups and edges, the node reads the pages.
 *
 * A total_count the API gets wrong must not make a count dear: the group
 * requests are at most GC_MAX_GROUP_REQUESTS, they stop as soon as their
 * sum exceeds the window's total_count, pages that end before total_count
 * end the count, and a limit=1 answer is freed as soon as it is read.
 * With cache_ttl, a count's answers are one version of the list: see "One
 * version with the response cache" in groupresult.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "groupresult.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define UNIX_TO_PG_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* How far beyond a bound the edge requests reach: a second and a ms. */
#define EDGE_MS 1001

/*
 * At most this many group requests (buckets, names): a bound that does not
 * come from total_count, which the API could inflate.  720 hourly buckets
 * (30 days, the list's span) fit.
 */
#define GC_MAX_GROUP_REQUESTS 1000

/* A total_count beyond this is not a count (2^53: 9e15 tasks). */
#define GC_MAX_TOTAL ((int64) 1 << 53)

static int64
pg_to_unix_ms(TimestampTz t)
{
	return (t + UNIX_TO_PG_USECS) / 1000;
}

/* ----------------------------------------------------------------
 *		Requests
 * ----------------------------------------------------------------
 */

static GcReq *
new_req(List **reqs, const char *stream, int limit, int group)
{
	GcReq	   *r = palloc0(sizeof(GcReq));

	r->stream = pstrdup(stream);
	r->limit = limit;
	r->group = group;
	r->keep = (limit > 1);
	r->total = -1;
	*reqs = lappend(*reqs, r);
	return r;
}

/* Send r; everything of it lives in a context of its own. */
static void
start_req(RdsGroupCount *gc, GcReq *r)
{
	RdsGroupScan *scan = gc->scan;
	MemoryContext oldcxt;

	r->cxt = AllocSetContextCreate(CurrentMemoryContext, "rds_task_fdw group request",
								   ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(r->cxt);
	r->pr = rds_page_start(scan->conn, scan->path, r->stream, r->offset,
						   r->limit, scan->opts->cache_ttl, gc->may_read, false);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Read r's answer: its total_count and task count, and its page if r keeps
 * it (else the body and page are freed here).  Throws as the scan's
 * requests do.
 */
static void
finish_req(RdsGroupCount *gc, GcReq *r)
{
	RdsGroupScan *scan = gc->scan;
	MemoryContext oldcxt = MemoryContextSwitchTo(r->cxt);

	r->page = rds_page_finish(r->pr, scan->stats);
	r->pr = NULL;
	r->total = rds_page_total_count(r->page);
	r->ntasks = rds_page_ntasks(r->page);
	MemoryContextSwitchTo(oldcxt);
	if (!r->keep)
	{
		MemoryContextDelete(r->cxt);
		r->cxt = NULL;
		r->page = NULL;
	}
}

/* Stop r if it is in flight, and free it. */
static void
drop_req(GcReq *r)
{
	rds_page_cancel(r->pr);
	r->pr = NULL;
	if (r->cxt)
		MemoryContextDelete(r->cxt);
	r->cxt = NULL;
	r->page = NULL;
}

/*
 * Send the requests, up to parallel_requests in flight, and read every
 * answer.  With a sum (not NULL), each answer's total_count is added to it
 * and the run stops as soon as one has none or the sum exceeds limit (the
 * groups are disjoint parts of a window of limit tasks): the requests in
 * flight are then cancelled and the one that stopped it is returned.  NULL
 * when every request was read.  Throws as the scan's requests do.
 */
static GcReq *
run_requests(RdsGroupCount *gc, List *reqs, int64 *sum, int64 limit)
{
	int			n = list_length(reqs);
	int			par = Max(gc->scan->opts->parallel_requests, 1);
	int			started = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		GcReq	   *r = (GcReq *) list_nth(reqs, i);

		while (started < n && started < i + par)
			start_req(gc, (GcReq *) list_nth(reqs, started++));
		CHECK_FOR_INTERRUPTS();
		finish_req(gc, r);
		if (sum == NULL)
			continue;
		if (r->total >= 0)
			*sum += r->total;
		if (r->total < 0 || *sum > limit)
		{
			int			j;

			for (j = i + 1; j < started; j++)
				drop_req((GcReq *) list_nth(reqs, j));
			return r;
		}
	}
	return NULL;
}

/* Is name the name of a task of page? */
static bool
page_has_name(RdsPage *page, const char *name)
{
	int			i;

	for (i = 0; i < rds_page_ntasks(page); i++)
	{
		const char *v = rds_page_task_field(page, i, "name");

		if (v && strcmp(v, name) == 0)
			return true;
	}
	return false;
}

/* Are all sent fields part of the requests (no fan-out cap hit)? */
static bool
all_sent(RdsFilter *f)
{
	ListCell   *lc;

	foreach(lc, f->fields)
	{
		RdsFieldSet *fs = (RdsFieldSet *) lfirst(lc);

		if (!fs->sent && !rds_is_server_field(fs->field))
			return false;
	}
	return true;
}

/* The streams of f narrowed to field = value; NIL if a field is not sent. */
static List *
group_streams(RdsGroupScan *scan, RdsFilter *base, const char *field,
			  const char *value, bool *ok)
{
	RdsFilter  *f = rds_filter_copy(base);
	List	   *streams;

	if (field)
		rds_filter_add_values(f, field, list_make1(pstrdup(value)));
	streams = rds_filter_streams(f, scan->opts, RDS_MAX_STREAMS);
	*ok = all_sent(f);
	return streams;
}

/* ----------------------------------------------------------------
 *		Running
 * ----------------------------------------------------------------
 */

/*
 * rds_groupcount_create
 *		A grouped count by kind; for buckets, of the query's key expression
 *		key_expr whose core is bucket, and by kind2 (status or name) too if
 *		not RDS_GROUP_NONE; its rows hold the keys (status not shown if
 *		hide_status) and the aggregates of specs (groupagg.c).  In the
 *		current memory context.
 */
RdsGroupCount *
rds_groupcount_create(RdsGroupKind kind, RdsGroupKind kind2, const RdsBucket *bucket,
					  Expr *key_expr, List *specs, bool hide_status)
{
	RdsGroupCount *gc = palloc0(sizeof(RdsGroupCount));

	gc->specs = specs;
	gc->hide_status = hide_status;
	gc->kind = kind;
	gc->kind2 = (kind == RDS_GROUP_BUCKET) ? kind2 : RDS_GROUP_NONE;
	gc->window_total = -1;
	if (kind == RDS_GROUP_BUCKET)
	{
		gc->bucket = *bucket;
		gc->key_expr = key_expr;
		gc->key = rds_bucket_key_create(bucket, key_expr);
	}
	gc->how = "none";
	return gc;
}

/* The bucket whose window holds ms, the first or last if outside all. */
static int
bucket_of(RdsGroupCount *gc, int64 ms)
{
	int			j;

	for (j = 0; j < gc->ngroups - 1; j++)
		if (ms <= gc->groups[j].end_ms)
			return j;
	return gc->ngroups - 1;
}

/*
 * Plan the buckets of a window: from the lower bound to the upper one (or
 * to now, the last bucket then open-ended), each [start, next start - 1 ms],
 * the first starting and the last ending where the window's requests do.
 * A bucket ends where the query's key changes (bucket.c says where it may):
 * the key at a bucket's start and a second before its end must be the same.
 * NULL, or why not: a key that changes elsewhere, or more than max_buckets
 * (then too_many).
 */
static const char *
plan_buckets(RdsGroupCount *gc, RdsFilter *f, int max_buckets,
			 const char *too_many)
{
	const char *elsewhere = "a bucket key that changes between its bounds";
	int64		start_ms;
	int64		end_ms;
	TimestampTz lower = f->lower_us - UNIX_TO_PG_USECS;
	TimestampTz upper = f->has_upper ? f->upper_us - UNIX_TO_PG_USECS :
		GetCurrentTimestamp();
	TimestampTz start = lower;
	bool		upper_strict = false;
	GcGroup    *g;
	ListCell   *lc;

	/* create_time < a bucket's start: that bucket is not asked for */
	foreach(lc, gc->scan->time_checks)
	{
		RdsTimeCheck *c = (RdsTimeCheck *) lfirst(lc);

		if (c->kind == RDS_COND_UPPER && c->strict && c->value == upper)
			upper_strict = true;
	}

	rds_filter_window_ms(f, &start_ms, &end_ms);
	g = rds_gc_add_group(&gc->groups, &gc->ngroups, &gc->maxgroups);
	g->rep = start;
	g->label = rds_bucket_key(gc->key, start, false, &g->isnull);
	g->start_ms = start_ms;
	for (;;)
	{
		TimestampTz next = start;
		GcGroup		key;
		int			tries = 0;

		/* where the key changes: pieces of one key (an offset change) join */
		for (;;)
		{
			next = rds_bucket_next(gc->key, next);
			if (next % USECS_PER_SEC != 0)
				return elsewhere;
			key.label = rds_bucket_key(gc->key, next - USECS_PER_SEC, false, &key.isnull);
			if (!rds_bucket_key_equal(gc->key, key.label, key.isnull, g->label, g->isnull))
				return elsewhere;
			if (next > upper || pg_to_unix_ms(next) >= end_ms)
				break;
			key.label = rds_bucket_key(gc->key, next, false, &key.isnull);
			if (!rds_bucket_key_equal(gc->key, key.label, key.isnull, g->label, g->isnull))
				break;
			if (++tries > 4)
				return elsewhere;
		}
		if (next > upper || (next == upper && upper_strict) ||
			pg_to_unix_ms(next) >= end_ms)
		{
			if (!f->has_upper)
				gc->tail_start_ms = pg_to_unix_ms(next);
			break;
		}
		if (gc->ngroups >= max_buckets)
			return too_many;
		gc->groups[gc->ngroups - 1].end_ms = pg_to_unix_ms(next) - 1;
		g = rds_gc_add_group(&gc->groups, &gc->ngroups, &gc->maxgroups);
		g->rep = next;
		g->label = key.label;
		g->isnull = key.isnull;
		g->start_ms = pg_to_unix_ms(next);
		start = next;
	}
	/* without an upper bound the last bucket ends where the next begins */
	gc->groups[gc->ngroups - 1].end_ms =
		gc->tail_start_ms >= 0 ? gc->tail_start_ms - 1 : end_ms;
	return NULL;
}

/*
 * Does the window hold every create_time condition's bound, so that the
 * tasks failing one lie on an edge?  Not when a bound was beyond what the
 * API can express (deparse.c drops it) or is an infinity.
 */
static bool
window_holds_checks(RdsGroupCount *gc, RdsFilter *f)
{
	ListCell   *lc;

	foreach(lc, gc->scan->time_checks)
	{
		RdsTimeCheck *c = (RdsTimeCheck *) lfirst(lc);
		int64		us;

		if (TIMESTAMP_NOT_FINITE(c->value) ||
			pg_add_s64_overflow(c->value, UNIX_TO_PG_USECS, &us))
			return false;
		if (c->kind != RDS_COND_UPPER && (!f->has_lower || us > f->lower_us))
			return false;
		if (c->kind != RDS_COND_LOWER && (!f->has_upper || us < f->upper_us))
			return false;
	}
	return true;
}

/*
 * The tasks after the last bucket (no upper bound): true if they are the
 * missing ones, read whole and counted locally.
 */
static bool
tail_checked(RdsGroupCount *gc, int64 end_ms, int64 missing)
{
	RdsFilter  *tf = rds_filter_copy(gc->scan->filter);
	List	   *tail = NIL;
	List	   *queries;
	ListCell   *lc;
	int64		found = 0;
	bool		ok;

	rds_filter_set_window_ms(tf, gc->tail_start_ms, end_ms);
	queries = group_streams(gc->scan, tf, NULL, NULL, &ok);
	if (!ok)
		return false;
	foreach(lc, queries)
		new_req(&tail, (char *) lfirst(lc), gc->scan->opts->page_size, -1);
	run_requests(gc, tail, NULL, 0);
	gc->edge_requests += list_length(tail);
	foreach(lc, tail)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);

		if (r->total < 0 || r->ntasks < r->total)
			return false;
		found += r->total;
	}
	if (found != missing)
		return false;
	foreach(lc, tail)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);
		int			i;

		for (i = 0; i < r->ntasks; i++)
			rds_gc_tally_task(gc, r->page, i, true);
	}
	return true;
}

/*
 * Take the edge tasks that fail the conditions off the groups that counted
 * them.  False if one cannot be placed (then the pages are read).
 */
static bool
correct_edges(RdsGroupCount *gc, List *edges)
{
	ListCell   *lc;

	foreach(lc, edges)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);
		int			i;

		for (i = 0; i < r->ntasks; i++)
		{
			bool		isnull;
			TimestampTz t = rds_task_create_time(r->page, i, &isnull);
			int			j;

			if (rds_filter_match(gc->scan->filter, r->page, i) &&
				rds_gc_time_checks_pass(gc->scan->time_checks, t, isnull))
				continue;		/* counted, and rightly */
			if (gc->kind == RDS_GROUP_NONE)
				j = 0;
			else if (is_bucket(gc->kind))
			{
				if (isnull)
					return false;
				j = bucket_of(gc, pg_to_unix_ms(t));
				if (gc->groups[j].complete)
					continue;	/* counted locally */
			}
			else
			{
				GcGroup		key;

				rds_gc_task_key(gc, r->page, i, &key);
				for (j = 0; j < gc->ngroups; j++)
					if (rds_gc_same_key(gc, &gc->groups[j], &key))
						break;
				if (j >= gc->ngroups)
					return false;
			}
			gc->groups[j].count--;
		}
	}
	return true;
}

/*
 * How a phase of count_window ends: it counted, the count goes on, or the
 * window's pages are read instead (the rest after the first pages, when
 * reading them is the cheaper or the only way; all of them again, when
 * what the groups said cannot be trusted).
 */
typedef enum GcNext
{
	GC_GO_ON,
	GC_COUNTED,
	GC_READ_REST,
	GC_READ_ALL
} GcNext;

/* What the phases of count_window share. */
typedef struct GcRun
{
	RdsGroupScan *scan;
	RdsFilter  *f;
	List	   *first;			/* GcReq *: the window's first pages */
	List	   *greqs;			/* GcReq *: the group requests */
	int64		total;			/* the window's total_count */
	int64		pages;			/* its pages */
	bool		page_actions;	/* names from actions seen on the page only */
	int64		start_ms;		/* the window sent */
	int64		end_ms;
	int64		lower_end;		/* the edges: a second beyond each bound */
	int64		upper_start;
	int			nedges;
	const char *reason;			/* why the pages are read */
} GcRun;

/* A phase gives up: the pages are read, for reason. */
static GcNext
give_up(GcRun *run, GcNext how, const char *reason)
{
	run->reason = reason;
	return how;
}

/*
 * The window's first pages: total_count, actions, and, when the window
 * fits in them, every task (then counted here).
 */
static GcNext
first_pages(RdsGroupCount *gc, GcRun *run)
{
	int			ps = run->scan->opts->page_size;
	bool		complete = true;
	ListCell   *lc;

	/* count(*) without a window: total_count is the count, nothing to check */
	if (gc->kind == RDS_GROUP_NONE && run->scan->time_checks == NIL &&
		!run->f->has_lower && !run->f->has_upper)
		ps = 1;
	/* kept: a window within them is counted from their tasks */
	foreach(lc, run->scan->streams)
		new_req(&run->first, (char *) lfirst(lc), ps, -1)->keep = true;
	run_requests(gc, run->first, NULL, 0);
	foreach(lc, run->first)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);

		if (r->total < 0)
			return give_up(run, GC_READ_ALL, "no total_count");
		if (r->total > GC_MAX_TOTAL)
			return give_up(run, GC_READ_ALL,
						   psprintf("total_count " INT64_FORMAT " is not a count", r->total));
		run->total += r->total;
		gc->window_total = run->total;
		run->pages += Max((int64) 1, (r->total + ps - 1) / ps);
		if (r->ntasks < r->total)
			complete = false;
	}
	if (!complete)
		return GC_GO_ON;
	gc->how = "first pages";
	foreach(lc, run->first)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);
		int			i;

		for (i = 0; i < r->ntasks; i++)
			rds_gc_tally_task(gc, r->page, i, true);
	}
	return GC_COUNTED;
}

/* GROUP BY status or name: the values, from the filter, the API or actions */
static List *
field_domain(RdsGroupCount *gc, GcRun *run, const char *field)
{
	RdsFieldSet *fs = NULL;
	List	   *domain = NIL;
	ListCell   *lc;

	foreach(lc, run->f->fields)
		if (strcmp(((RdsFieldSet *) lfirst(lc))->field, field) == 0)
			fs = (RdsFieldSet *) lfirst(lc);
	if (fs && fs->constrained)
		return fs->values;
	if (strcmp(field, "status") == 0)
	{
		const char *const *s;

		for (s = rds_gc_documented_statuses; *s; s++)
			domain = lappend(domain, (char *) *s);
		return domain;
	}

	/* names: the actions the first pages list */
	run->page_actions = true;
	foreach(lc, run->first)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);
		int			i;

		for (i = 0; i < rds_page_nactions(r->page); i++)
		{
			const char *a = rds_page_action(r->page, i);
			ListCell   *ld;
			bool		dup = false;

			if (a == NULL || a[0] == '\0')
				continue;
			if (!page_has_name(r->page, a))
				run->page_actions = false;	/* a summary of the list */
			foreach(ld, domain)
				if (strcmp((char *) lfirst(ld), a) == 0)
					dup = true;
			if (!dup)
				domain = lappend(domain, pstrdup(a));
		}
	}
	return domain;
}

/* The groups and their requests (run->greqs). */
static GcNext
plan_groups(RdsGroupCount *gc, GcRun *run)
{
	RdsGroupScan *scan = run->scan;
	RdsFilter  *f = run->f;
	int			ps = scan->opts->page_size;
	bool		ok = true;
	ListCell   *lc;
	int			j;

	/* a condition the window does not hold: its tasks are only in the pages */
	if (!window_holds_checks(gc, f))
		return give_up(run, GC_READ_REST, "a create_time bound the API cannot express");

	if (gc->kind == RDS_GROUP_NONE)
	{
		GcGroup    *g = rds_gc_add_group(&gc->groups, &gc->ngroups, &gc->maxgroups);

		g->count = run->total;
	}
	else if (is_bucket(gc->kind))
	{
		int			cap = GC_MAX_GROUP_REQUESTS / list_length(scan->streams);
		const char *why = f->has_lower ?
		plan_buckets(gc, f, (int) Min(run->pages + 2, (int64) cap),
					 run->pages + 2 > cap ?
					 psprintf("more than %d group requests", GC_MAX_GROUP_REQUESTS) :
					 "fewer requests than groups") :
		"no lower bound";

		if (why)
			return give_up(run, GC_READ_REST, why);
		for (j = 0; j < gc->ngroups && ok; j++)
		{
			RdsFilter  *bf = rds_filter_copy(f);
			bool		edge = (j == 0 || j == gc->ngroups - 1);

			rds_filter_set_window_ms(bf, gc->groups[j].start_ms,
									 gc->groups[j].end_ms);
			foreach(lc, group_streams(scan, bf, NULL, NULL, &ok))
				new_req(&run->greqs, (char *) lfirst(lc), edge ? ps : 1, j);
		}
	}
	else
	{
		const char *field = group_field(gc->kind);

		foreach(lc, field_domain(gc, run, field))
		{
			GcGroup    *g = rds_gc_add_group(&gc->groups, &gc->ngroups, &gc->maxgroups);
			ListCell   *ls;

			g->raw = (char *) lfirst(lc);
			g->text = pg_any_to_server(g->raw, strlen(g->raw), PG_UTF8);
			foreach(ls, group_streams(scan, f, field, g->raw, &ok))
			{
				GcReq	   *same = NULL;
				ListCell   *lf;

				/* a stream of the window that is this group's: counted */
				foreach(lf, run->first)
					if (strcmp(((GcReq *) lfirst(lf))->stream, (char *) lfirst(ls)) == 0)
						same = (GcReq *) lfirst(lf);
				if (same)
					g->count += same->total;
				else
					new_req(&run->greqs, (char *) lfirst(ls), 1, gc->ngroups - 1);
			}
		}
	}
	if (!ok)
		return give_up(run, GC_READ_ALL, "a field is matched locally");
	return GC_GO_ON;
}

/*
 * The edges, and the cost decision: group and edge requests against the
 * pages.  When the actions name only tasks of the first pages, the API may
 * list the page's names alone and a rarer name would send the count to the
 * pages after the groups: they are tried only when the pages cost more
 * than twice as much.
 */
static GcNext
cost_choice(RdsGroupCount *gc, GcRun *run)
{
	RdsFilter  *f = run->f;
	int			nedge_streams = list_length(run->scan->streams);
	int			asks;

	rds_filter_window_ms(f, &run->start_ms, &run->end_ms);
	run->lower_end = (f->lower_us + 999) / 1000 + EDGE_MS;
	run->upper_start = f->upper_us / 1000 - EDGE_MS;
	run->nedges = (f->has_lower ? 1 : 0) + (f->has_upper ? 1 : 0);
	asks = list_length(run->greqs) + run->nedges * nedge_streams;

	/* a window narrower than its edges: the pages */
	if (f->has_lower && f->has_upper && run->lower_end >= run->upper_start)
		return give_up(run, GC_READ_REST, "a window narrower than its edges");
	if (run->pages <= asks)
		return give_up(run, GC_READ_REST, "fewer requests than groups");
	if (run->page_actions && run->pages < 2 * asks)
		return give_up(run, GC_READ_REST,
					   "the actions may list the first page's names only");
	if (list_length(run->greqs) > GC_MAX_GROUP_REQUESTS)
		return give_up(run, GC_READ_REST,
					   psprintf("more than %d group requests", GC_MAX_GROUP_REQUESTS));
	return GC_GO_ON;
}

/*
 * The group requests, and the sum check.  The groups are disjoint parts of
 * the window: a sum beyond its total_count stops the requests at once (a
 * list that grew, or a total_count that is wrong); a sum short of it means
 * a task outside every group.
 */
static GcNext
ask_groups(RdsGroupCount *gc, GcRun *run)
{
	int64		sum = 0;
	GcReq	   *stop;
	ListCell   *lc;
	int			j;

	for (j = 0; j < gc->ngroups; j++)
		sum += gc->groups[j].count;
	stop = run_requests(gc, run->greqs, &sum, run->total);
	gc->group_requests = list_length(run->greqs);
	if (stop && stop->total < 0)
		return give_up(run, GC_READ_ALL, "no total_count");
	if (stop && stop != llast(run->greqs))
		return give_up(run, GC_READ_ALL,
					   psprintf("the groups asked so far sum to " INT64_FORMAT ", more than total_count " INT64_FORMAT,
								sum, run->total));

	foreach(lc, run->greqs)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);

		gc->groups[r->group].count += r->total;
		if (is_bucket(gc->kind))
			gc->groups[r->group].complete = (r->ntasks >= r->total);
	}
	/* a stream of a bucket may be incomplete while another is complete */
	foreach(lc, run->greqs)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);

		if (is_bucket(gc->kind) && r->ntasks < r->total)
			gc->groups[r->group].complete = false;
	}
	sum = 0;
	for (j = 0; j < gc->ngroups; j++)
		sum += gc->groups[j].count;

	/*
	 * Buckets without an upper bound end with the bucket of now: tasks
	 * after it (a clock ahead of ours) are what the buckets miss.  They are
	 * asked for only then, and counted locally.
	 */
	if (sum < run->total && gc->tail_start_ms >= 0)
	{
		if (!tail_checked(gc, run->end_ms, run->total - sum))
			return give_up(run, GC_READ_ALL,
						   psprintf("the buckets sum to " INT64_FORMAT ", total_count is " INT64_FORMAT,
									sum, run->total));
		sum = run->total;
	}
	if (sum != run->total)
		return give_up(run, GC_READ_ALL,
					   psprintf("the groups sum to " INT64_FORMAT ", total_count is " INT64_FORMAT,
								sum, run->total));
	return GC_GO_ON;
}

/*
 * The edges: the tasks a second beyond each bound, read whole and
 * rechecked; those outside the window are taken off their group.  Edges a
 * complete first or last bucket holds need no request.
 */
static GcNext
ask_edges(RdsGroupCount *gc, GcRun *run)
{
	RdsGroupScan *scan = run->scan;
	RdsFilter  *f = run->f;
	int			ps = scan->opts->page_size;
	List	   *edges = NIL;
	bool		ok = true;
	ListCell   *lc;

	if (f->has_lower &&
		!(is_bucket(gc->kind) && gc->groups[0].complete &&
		  run->lower_end <= gc->groups[0].end_ms))
	{
		RdsFilter  *ef = rds_filter_copy(f);

		rds_filter_set_window_ms(ef, run->start_ms, run->lower_end);
		foreach(lc, group_streams(scan, ef, NULL, NULL, &ok))
			new_req(&edges, (char *) lfirst(lc), ps, -1);
	}
	if (f->has_upper &&
		!(is_bucket(gc->kind) && gc->groups[gc->ngroups - 1].complete &&
		  run->upper_start >= gc->groups[gc->ngroups - 1].start_ms))
	{
		RdsFilter  *ef = rds_filter_copy(f);

		rds_filter_set_window_ms(ef, run->upper_start, run->end_ms);
		foreach(lc, group_streams(scan, ef, NULL, NULL, &ok))
			new_req(&edges, (char *) lfirst(lc), ps, -1);
	}
	run_requests(gc, edges, NULL, 0);
	gc->edge_requests += list_length(edges);
	foreach(lc, edges)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);

		if (r->total < 0 || r->ntasks < r->total)
			return give_up(run, GC_READ_ALL, "an edge holds more than a page");
	}
	if (!correct_edges(gc, edges))
		return give_up(run, GC_READ_ALL, "an edge task outside the groups");
	return GC_GO_ON;
}

/* Complete buckets: their tasks counted locally. */
static void
tally_complete_buckets(RdsGroupCount *gc, GcRun *run)
{
	ListCell   *lc;

	gc->how = "groups";
	foreach(lc, run->greqs)
	{
		GcReq	   *r = (GcReq *) lfirst(lc);
		int			i;

		if (!is_bucket(gc->kind) || !gc->groups[r->group].complete)
			continue;
		gc->groups[r->group].count = 0;
		for (i = 0; i < r->ntasks; i++)
			rds_gc_tally_task(gc, r->page, i, true);
	}
}

static void count_window(RdsGroupCount *gc, RdsGroupScan *scan);

/*
 * The statuses the aggregates count, as the API spells them (UTF-8), and
 * NULL: the window as a whole (its totals).
 */
static List *
aggregate_statuses(RdsGroupCount *gc)
{
	List	   *statuses = NIL;
	ListCell   *lc;

	foreach(lc, gc->specs)
	{
		const char *s = rds_group_agg_status(strVal(lfirst(lc)));

		if (s && !list_member(statuses, makeString((char *) s)))
			statuses = lappend(statuses, makeString((char *) s));
	}
	foreach(lc, statuses)
		lfirst(lc) = pg_server_to_any(strVal(lfirst(lc)), strlen(strVal(lfirst(lc))),
									  PG_UTF8);
	return lappend(statuses, NULL);
}

/*
 * Two keys, a bucket and status or name: one bucket count per value of the
 * field, over the window narrowed to it, each exact on its own (its own
 * first pages, buckets, edges and sum check, or its pages).  The values'
 * windows must add up to the window's total_count, else a task has a value
 * outside them (or the list moved) and the window's pages are read.  When
 * status only serves counts of one status (hide_status), only those
 * statuses are counted, and the window as a whole for the totals
 * (totals_apart).  Tried only when every value's requests cost less than
 * the pages.
 */
static GcNext
count_by_field(RdsGroupCount *gc, GcRun *run)
{
	const char *field = group_field(gc->kind2);
	int			nstreams = list_length(run->scan->streams);
	int			cap = GC_MAX_GROUP_REQUESTS / nstreams;
	List	   *domain;
	int64		asks;
	int64		sum = 0;
	const char *why;
	int			nbuckets;
	bool		apart = gc->hide_status && gc->kind2 == RDS_GROUP_STATUS;
	ListCell   *lc;

	if (!window_holds_checks(gc, run->f))
		return give_up(run, GC_READ_REST, "a create_time bound the API cannot express");
	if (!run->f->has_lower)
		return give_up(run, GC_READ_REST, "no lower bound");
	/* the buckets, only to count them */
	why = plan_buckets(gc, run->f, (int) Min(run->pages + 2, (int64) cap),
					   "fewer requests than groups");
	nbuckets = gc->ngroups;
	gc->ngroups = 0;
	gc->tail_start_ms = -1;
	if (why)
		return give_up(run, GC_READ_REST, why);
	domain = apart ? aggregate_statuses(gc) : field_domain(gc, run, field);
	asks = (int64) list_length(domain) * nstreams * (nbuckets + 3);
	if (run->pages <= asks)
		return give_up(run, GC_READ_REST, "fewer requests than groups");
	if (asks > GC_MAX_GROUP_REQUESTS)
		return give_up(run, GC_READ_REST,
					   psprintf("more than %d group requests", GC_MAX_GROUP_REQUESTS));

	foreach(lc, domain)
	{
		const char *value = (const char *) lfirst(lc);
		RdsGroupCount *sub = palloc0(sizeof(RdsGroupCount));
		RdsGroupScan *ss = palloc(sizeof(RdsGroupScan));
		char	   *text = value ? pg_any_to_server(value, strlen(value), PG_UTF8) : NULL;
		GcGroup    *g;

		sub->kind = RDS_GROUP_BUCKET;
		sub->bucket = gc->bucket;
		sub->key_expr = gc->key_expr;
		sub->key = gc->key;
		sub->may_read = gc->may_read;
		*ss = *run->scan;
		ss->filter = rds_filter_copy(run->f);
		if (value)
			rds_filter_add_values(ss->filter, field, list_make1(pstrdup(value)));
		ss->streams = rds_filter_streams(ss->filter, ss->opts, RDS_MAX_STREAMS);
		if (!all_sent(ss->filter))
			return give_up(run, GC_READ_ALL, "a field is matched locally");
		count_window(sub, ss);
		gc->group_requests += sub->group_requests + list_length(ss->streams);
		gc->edge_requests += sub->edge_requests;
		sum += sub->window_total;
		while ((g = rds_gc_next_group(sub)) != NULL)
		{
			GcGroup    *lg = rds_gc_add_group(&gc->local, &gc->nlocal, &gc->maxlocal);

			*lg = *g;
			lg->text = text;
		}
		if (sum > run->total && !apart)
			break;
	}
	gc->ngroups = 0;
	gc->totals_apart = apart;
	if (sum != run->total && !apart)
	{
		gc->nlocal = 0;
		return give_up(run, GC_READ_ALL,
					   psprintf("the values of %s sum to " INT64_FORMAT ", total_count is " INT64_FORMAT,
								field, sum, run->total));
	}
	gc->how = "groups";
	return GC_COUNTED;
}

/*
 * count_window
 *		Count the scan's window (its streams must be built) by groups, as
 *		described at the top of the file, the requests reading the cache
 *		if gc->may_read: the first pages, the groups, the cost decision,
 *		the group requests and their sum, the edges.  A phase that gives up
 *		sends the count to the window's pages, the one way out.  Allocates
 *		in the current context (the scan's); throws as the scan's requests
 *		do.
 */
static void
count_window(RdsGroupCount *gc, RdsGroupScan *scan)
{
	GcRun		run;
	GcNext		next;

	gc->scan = scan;
	gc->cxt = CurrentMemoryContext;
	gc->ngroups = gc->nlocal = gc->next = 0;
	gc->fallback = false;
	gc->reason = NULL;
	gc->group_requests = gc->edge_requests = 0;
	gc->tail_start_ms = -1;
	gc->window_total = 0;
	gc->seen = rds_idset_create(CurrentMemoryContext);

	if (scan->streams == NIL)
	{
		gc->how = "none";
		return;
	}
	memset(&run, 0, sizeof(run));
	run.scan = scan;
	run.f = scan->filter;
	if (!all_sent(run.f))
		next = give_up(&run, GC_READ_ALL, "a field is matched locally");
	else
		next = first_pages(gc, &run);
	if (next == GC_GO_ON && gc->kind2 != RDS_GROUP_NONE)
		next = count_by_field(gc, &run);
	if (next == GC_GO_ON)
		next = plan_groups(gc, &run);
	if (next == GC_GO_ON)
		next = cost_choice(gc, &run);
	if (next == GC_GO_ON)
		next = ask_groups(gc, &run);
	if (next == GC_GO_ON)
		next = ask_edges(gc, &run);

	switch (next)
	{
		case GC_GO_ON:
			tally_complete_buckets(gc, &run);
			break;
		case GC_COUNTED:
			break;
		case GC_READ_REST:
			rds_gc_read_rest_pages(gc, run.first, run.reason, false);
			break;
		case GC_READ_ALL:
			rds_gc_read_pages(gc, run.reason, true);
			break;
	}
}

/*
 * rds_groupcount_run
 *		Count the scan's window (its streams must be built) by groups, as
 *		described at the top of the file; with cache_ttl, from one earlier
 *		count's stored result, else with every request sent past the cache
 *		(see above).  Allocates in the current context (the scan's); throws
 *		as the scan's requests do.
 */
void
rds_groupcount_run(RdsGroupCount *gc, RdsGroupScan *scan)
{
	RdsCacheTicket *ticket = NULL;

	gc->scan = scan;
	gc->cxt = CurrentMemoryContext;
	gc->may_read = true;
	if (scan->opts->cache_ttl > 0 && scan->streams != NIL && all_sent(scan->filter))
	{
		StringInfoData buf;

		ticket = rds_cache_ticket(scan->opts->serverid, scan->opts->umid,
								  rds_gc_result_key(gc, scan));
		initStringInfo(&buf);
		if (rds_cache_read(ticket, scan->opts->cache_ttl, &buf) &&
			rds_gc_load_result(gc, buf.data, buf.len))
		{
			rds_cache_count(RDS_CACHE_HIT);
			scan->stats->cache_hits++;
			gc->how = "cache";
			gc->fallback = false;
			return;
		}
		rds_cache_count(RDS_CACHE_MISS);
		gc->may_read = false;
	}
	count_window(gc, scan);
	if (ticket)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		rds_gc_store_result(gc, &buf);
		rds_cache_write(ticket, buf.data, buf.len);
		pfree(buf.data);
	}
}

