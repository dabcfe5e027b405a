/*-------------------------------------------------------------------------
 *
 * search.c
 *		  The time-window search: a scan that returns a request stream's
 *		  tasks sorted by creation time (newest first, or oldest first)
 *		  without reading the whole stream, for ORDER BY create_time
 *		  [DESC] LIMIT n, max/min(create_time) and a LATERAL "latest task
 *		  per outer row".
 *
 * The API's page order is undocumented, so nothing here depends on it.
 * What the API does promise is that start_time/end_time filter on the
 * creation time and that total_count counts the matching tasks.  The scan
 * therefore cuts the time axis into windows, from the end the ordering
 * starts at: a window whose tasks all came back in one page (total_count
 * <= the page size), or whose pages were all read while total_count stayed
 * the same, is complete; its tasks are sorted locally and returned, and
 * the next window below it is read only when the consumer asks for more.
 * Windows are half-open in "key" space (the creation time in microseconds,
 * negated for oldest first) and are widened on the wire like every time
 * bound (deparse.c); each task is placed by its LOCAL create_time, so a
 * task belongs to exactly one window and tasks with the same creation time
 * are always in the same window (no row is lost or split at an edge).
 *
 * Choosing windows is a heuristic, never a correctness matter: the first
 * two requests read the stream's first and last page (total_count and 100
 * tasks of sample); a page whose times are monotone suggests a sorted list
 * (its top tasks are then exactly the newest), otherwise the samples are
 * taken as random and the window edge is interpolated where about
 * SEARCH_TARGET tasks should lie.  A window that turns out to hold more than
 * a page is narrowed with the sample its own first page gave (at most
 * MAX_NARROW times), after which it is read page by page.
 *
 * Pages of at least 8 tasks whose times are in no order (an API that pages
 * by a hash of the id, the same for every request) are a uniform sample of
 * the creation times, which says how many tasks lie between two samples but
 * not where the newest task is: the first window starts at the newest
 * sample (open above, never empty; about count / 101 tasks); if it holds
 * more than a page, its own first page, a uniform sample of it, cuts it (no
 * proportion of time); below complete windows, the density that the tasks
 * they held and the samples below upper give together sizes the next one,
 * aiming a quarter above the rows still wanted.  The order is seen in the
 * samples, never configured; a sorted list keeps the paths above.
 *
 * Tasks without a creation time cannot be found by a window.  Unless the
 * query excludes them (a condition on create_time, or IS NOT NULL), the
 * search compares the stream's total_count without a window with the one of
 * a window over all times; if they differ, it falls back to reading the
 * whole stream and sorting it (also when the first page shows such a task);
 * a task without a time inside a window (an API that counted it there after
 * all) is an error, never a row put out of order.  It also falls back when
 * a known LIMIT makes reading the stream no dearer than searching.  The
 * samples and probes are sent one at a time, a window's pages through the
 * pager (pager.c), parallel_requests in flight; all bypass the response
 * cache (a window must be one snapshot of the list).
 *
 * A list that moves during the search: a window is complete only if its
 * pages agree on total_count (else the pager reads it again).
 * Tasks created after the search passed their time are not returned (the
 * newest window was read before they existed); no task is returned twice
 * (windows do not overlap, and an id set guards it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "utils/memutils.h"

#include "rds_task_fdw.h"

/* Tasks a window should hold: below a page, with room for noise. */
#define SEARCH_TARGET_RANDOM	0.6
#define SEARCH_TARGET_SORTED	0.8
/* Spans between samples that give the density below a window (unsorted). */
#define SEARCH_DENSITY_SPANS	4
/* Narrowings of one window before it is read page by page. */
#define MAX_NARROW				8

#define KEY_MIN					PG_INT64_MIN
#define KEY_MAX					PG_INT64_MAX

/* What the first pages suggest about the API's order (in key space). */
typedef enum SearchHint
{
	HINT_RANDOM = 0,			/* no order seen: samples taken as random */
	HINT_TOP_FIRST,				/* the first page holds the top keys */
	HINT_TOP_LAST,				/* the last page holds the top keys */
	HINT_UNSORTED				/* pages of enough tasks, in no time order */
} SearchHint;

/* One row of a complete window, waiting to be returned. */
typedef struct SearchRow
{
	int64		key;
	bool		isnull;			/* no creation time (fallback read only) */
	MinimalTuple tuple;
} SearchRow;

struct RdsSearch
{
	/* given by the scan */
	const RdsOptions *opts;
	RdsConn    *conn;
	const char *path;
	RdsFilter  *filter;			/* the scan's evaluated filter */
	bool		desc;
	bool		nulls_first;
	bool		nulls_excluded;
	int64		need;			/* rows the consumer likely wants, -1 unknown */
	int			time_col;		/* index of create_time in the scan tuple */
	RdsColumn  *columns;
	int			ncolumns;
	bool		want_raw;		/* a column holds the task's raw JSON */
	const char *relname;
	RdsHttpStats *stats;
	RdsSearchStats *sstats;

	MemoryContext cxt;			/* the search's own state */
	MemoryContext window_cxt;	/* rows of the current window */
	MemoryContext page_cxt;		/* one response */

	bool		started;
	bool		finished;		/* no window left */
	int64		upper;			/* key: everything >= this has been returned */
	int64		remaining;		/* estimated tasks below upper */
	SearchHint	hint;
	int64	   *samples;		/* known keys below upper, sorted descending */
	int			nsamples;
	int64	   *top;			/* HINT_*: the contiguous top keys, descending */
	int			ntop;

	SearchRow  *rows;			/* the current window's rows, in order */
	int			nrows;
	int			next_row;

	int			nwindows;		/* windows asked for, narrowings included */
	int64		taken;			/* rows of the windows read so far */
	int64		last_width;		/* the last complete window: its width (us), */
	int64		last_count;		/* and its total_count; 0 = none yet */
	int64		seen_width;		/* the same summed over complete windows */
	int64		seen_count;
};

/* A decoded page with the request that got it. */
typedef struct SearchPage
{
	RdsPage    *page;
	int			ntasks;
	int64		total;
} SearchPage;

/* ---------------------------------------------------------------- */

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define UNIX_TO_PG_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/*
 * The key of a create_time column value (a timestamp or timestamptz
 * Datum): its Unix microseconds, negated when the oldest come first, so
 * that rows are always returned by descending key.
 */
static inline int64
time_key(RdsSearch *s, Datum value)
{
	int64		us = DatumGetInt64(value) + UNIX_TO_PG_USECS;

	return s->desc ? us : -us;
}

/*
 * The filter parameters of a window [lo, hi) in key space (KEY_MIN/KEY_MAX:
 * open), or with windowed false the stream without any window of ours.
 * NULL if the filter leaves nothing to ask for.
 */
static char *
window_stream(RdsSearch *s, bool windowed, int64 lo, int64 hi)
{
	RdsFilter	f = *s->filter;
	List	   *streams;

	if (windowed)
	{
		int64		tlo;
		int64		thi;
		bool		has_tlo;
		bool		has_thi;

		/* key [lo, hi) as an inclusive interval of times */
		if (s->desc)
		{
			has_tlo = lo != KEY_MIN;
			tlo = lo;
			has_thi = hi != KEY_MAX;
			thi = hi - 1;
		}
		else
		{
			has_tlo = hi != KEY_MAX;
			tlo = -hi + 1;
			has_thi = lo != KEY_MIN;
			thi = -lo;
		}
		/* always a window, so that tasks without a time are not counted */
		if (!has_tlo && !f.has_lower)
		{
			f.has_lower = true;
			f.lower_us = 0;
		}
		if (has_tlo && (!f.has_lower || tlo > f.lower_us))
		{
			f.has_lower = true;
			f.lower_us = tlo;
		}
		if (has_thi && (!f.has_upper || thi < f.upper_us))
		{
			f.has_upper = true;
			f.upper_us = thi;
		}
		if (f.has_lower && f.has_upper && f.lower_us > f.upper_us)
			return NULL;
	}
	streams = rds_filter_streams(&f, s->opts, RDS_MAX_STREAMS);
	if (streams == NIL)
		return NULL;
	Assert(list_length(streams) == 1);
	return (char *) linitial(streams);
}

/*
 * Send one request and decode it into s->page_cxt (reset by the caller).
 * A NULL query is an empty answer.  Throws on HTTP or decoding errors and
 * on an answer that contradicts itself.
 */
/*
 * A page's counts into r; throws if it has no total_count, which the search
 * needs.
 */
static SearchPage
page_counts(RdsPage *page, SearchPage r)
{
	r.page = page;
	r.ntasks = rds_page_ntasks(page);
	r.total = rds_page_total_count(page);
	if (r.total < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to a time-window search request: no total_count"),
				 errhint("The time-window search needs total_count; order by an expression such as create_time + interval '0' to read the whole list instead.")));
	return r;
}

static SearchPage
fetch(RdsSearch *s, const char *stream, int64 offset, int limit)
{
	SearchPage	r;
	MemoryContext oldcxt;

	r.page = NULL;
	r.ntasks = 0;
	r.total = 0;
	if (stream == NULL)
		return r;
	oldcxt = MemoryContextSwitchTo(s->page_cxt);
	r.page = rds_page_get(s->conn, s->path, stream, offset, limit, 0,
						  s->want_raw, s->stats);
	MemoryContextSwitchTo(oldcxt);
	s->sstats->requests++;
	return page_counts(r.page, r);
}

/*
 * Convert task i of a page into a row (in s->window_cxt): its key from the
 * LOCAL create_time.  False if the task fails the filter's value sets.
 */
static bool
make_row(RdsSearch *s, RdsPage *page, int i, TupleTableSlot *slot,
		 MemoryContext tmpcxt, SearchRow *row)
{
	MemoryContext oldcxt;

	if (!rds_filter_match(s->filter, page, i))
		return false;
	oldcxt = MemoryContextSwitchTo(tmpcxt);
	ExecClearTuple(slot);
	rds_store_task(s->columns, s->ncolumns, s->relname, page, i, slot);
	ExecStoreVirtualTuple(slot);
	row->isnull = slot->tts_isnull[s->time_col];
	row->key = row->isnull ? 0 :
		time_key(s, slot->tts_values[s->time_col]);
	MemoryContextSwitchTo(s->window_cxt);
	row->tuple = ExecCopySlotMinimalTuple(slot);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(tmpcxt);
	return true;
}

/* The key of task i's create_time, for sampling; false if it has none. */
static bool
task_key(RdsSearch *s, RdsPage *page, int i, TupleTableSlot *slot,
		 MemoryContext tmpcxt, int64 *key)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(tmpcxt);
	bool		ok;

	ExecClearTuple(slot);
	rds_store_task(s->columns, s->ncolumns, s->relname, page, i, slot);
	ok = !slot->tts_isnull[s->time_col];
	if (ok)
		*key = time_key(s, slot->tts_values[s->time_col]);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(tmpcxt);
	return ok;
}

static int
cmp_key_desc(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x < y) ? 1 : (x > y) ? -1 : 0;
}

/* Rows in the order they are returned: descending key, NULLs per nulls_first. */
static int
cmp_row(const void *a, const void *b, void *arg)
{
	const SearchRow *x = (const SearchRow *) a;
	const SearchRow *y = (const SearchRow *) b;
	bool		nulls_first = *(bool *) arg;

	if (x->isnull || y->isnull)
	{
		if (x->isnull && y->isnull)
			return 0;
		return (x->isnull == nulls_first) ? -1 : 1;
	}
	return (x->key < y->key) ? 1 : (x->key > y->key) ? -1 : 0;
}

/*
 * The keys of a page's tasks (palloc'd in s->cxt) and whether they are
 * monotone: *order 1 = descending, -1 = ascending, 2 = neither, 0 = too
 * few tasks (or all equal) to tell.
 */
static int64 *
page_keys(RdsSearch *s, SearchPage *p, TupleTableSlot *slot, MemoryContext tmpcxt,
		  int *nkeys, int *order)
{
	int64	   *keys = MemoryContextAlloc(s->cxt, sizeof(int64) * Max(p->ntasks, 1));
	int			n = 0;
	bool		down = true;
	bool		up = true;
	int			i;

	for (i = 0; i < p->ntasks; i++)
	{
		int64		k;

		if (!task_key(s, p->page, i, slot, tmpcxt, &k))
			continue;
		if (n > 0 && k > keys[n - 1])
			down = false;
		if (n > 0 && k < keys[n - 1])
			up = false;
		keys[n++] = k;
	}
	*nkeys = n;
	/* a handful of tasks is monotone by chance too often to mean anything */
	*order = (n < 8 || (down && up)) ? 0 : down ? 1 : up ? -1 : 2;
	return keys;
}

/* Add keys to the samples (kept sorted descending, below upper). */
static void
add_samples(RdsSearch *s, int64 *keys, int n)
{
	int64	   *all = MemoryContextAlloc(s->cxt, sizeof(int64) * (s->nsamples + n + 1));
	int			m = 0;
	int			i;

	for (i = 0; i < s->nsamples; i++)
		all[m++] = s->samples[i];
	for (i = 0; i < n; i++)
		if (keys[i] < s->upper)
			all[m++] = keys[i];
	qsort(all, m, sizeof(int64), cmp_key_desc);
	s->samples = all;
	s->nsamples = m;
}

/* Drop what is no longer below upper from the samples and the top list. */
static void
trim_samples(RdsSearch *s)
{
	int			i = 0;

	while (i < s->nsamples && s->samples[i] >= s->upper)
		i++;
	s->samples += i;
	s->nsamples -= i;
	i = 0;
	while (i < s->ntop && s->top[i] >= s->upper)
		i++;
	s->top += i;
	s->ntop -= i;
}

/* A key floored to a whole second of creation time, within (KEY_MIN, upper). */
static int64
round_edge(RdsSearch *s, int64 key, int64 upper)
{
	int64		r = key - ((key % USECS_PER_SEC) + USECS_PER_SEC) % USECS_PER_SEC;

	if (r >= upper)
		r = upper - 1;
	return r;
}

/*
 * The tasks a window not cut by a sorted top should hold.  Pages seen
 * unsorted: aim a quarter above the rows still wanted, when known, within
 * 60% and 80% of a page (a window cut by samples holds its target give or
 * take a fifth or so: enough rows, seldom more than a page).
 */
static double
window_target(RdsSearch *s)
{
	int			page = s->opts->page_size;
	double		lo = Max(1.0, floor(page * SEARCH_TARGET_RANDOM));
	double		hi = Max(1.0, floor(page * SEARCH_TARGET_SORTED));

	if (s->hint != HINT_UNSORTED || s->need <= 0)
		return lo;
	return Min(Max(ceil((double) (s->need - s->taken) * 1.25), lo), hi);
}

/*
 * Where the next window [edge, upper) should start so that it holds about
 * target tasks out of the 'count' estimated below upper, from the keys
 * known there (samples: descending; top: the contiguous top if the order
 * looked sorted) or, for the window after a complete one (next: true), the
 * density that one had: its width scaled to the target, at most 8 times
 * wider (16 when it was empty), at least a quarter as wide.  KEY_MIN: take
 * everything below upper.
 */
static int64
choose_edge(RdsSearch *s, int64 upper, int64 count, int64 *samples, int nsamples,
			int64 *top, int ntop, bool next)
{
	int			page = s->opts->page_size;
	double		target;
	double		p;
	int			i;

	if (count <= page)
		return KEY_MIN;
	if (top != NULL && ntop > 0)
	{
		target = Max(1.0, floor(page * SEARCH_TARGET_SORTED));
		if (ntop >= (int) target)
			return round_edge(s, top[(int) target - 1], upper);
	}
	/*
	 * Unsorted pages, below complete windows: the density from all the
	 * evidence, as for a Poisson process, the tasks counted in those windows
	 * over their width and the samples down to the k-th below upper over
	 * their span at the sampling rate.  The windows' count alone says little
	 * when it is small (one task in a second would widen by only 8 times
	 * per window), the samples alone vary (a span holds an exponential
	 * number of tasks); a window that came up short widens the next.
	 */
	if (next && s->hint == HINT_UNSORTED && s->seen_width > 0 &&
		upper != KEY_MAX && (nsamples > 0 || s->seen_count > 0))
	{
		int			k = Min(nsamples, SEARCH_DENSITY_SPANS);
		double		rate_samples = (double) nsamples / Max(count, nsamples);
		double		span = (k > 0) ? (double) upper - (double) samples[k - 1] : 0.0;
		double		rate = (s->seen_count + k) /
			((double) s->seen_width + rate_samples * span);
		double		width;

		target = window_target(s);
		width = Max(target / rate, (double) USECS_PER_SEC);
		if ((double) upper - width <= (double) PG_INT64_MIN / 2)
			return KEY_MIN;
		return round_edge(s, upper - (int64) width, upper);
	}
	if (next && s->last_width > 0 && upper != KEY_MAX)
	{
		double		w = (double) s->last_width;
		double		width;

		target = window_target(s);
		if (s->last_count > 0)
			width = Min(Max(w * target / s->last_count, w / 4), w * 8);
		else
			width = w * 16;
		width = Max(width, (double) USECS_PER_SEC);
		if ((double) upper - width <= (double) PG_INT64_MIN / 2)
			return KEY_MIN;
		return round_edge(s, upper - (int64) width, upper);
	}
	if (nsamples == 0)
		return KEY_MIN;			/* nothing to go by: the first page will tell */

	/* samples taken as random: sample i (1-based) ranks near i*count/(n+1) */
	target = window_target(s);
	p = target * (nsamples + 1) / (double) count;
	if (p >= nsamples)
		return KEY_MIN;
	if (p >= 1.0)
	{
		double		frac;

		i = (int) floor(p);
		frac = p - i;
		return round_edge(s, samples[i - 1] -
						  (int64) (frac * (double) (samples[i - 1] - samples[i])),
						  upper);
	}
	else if (s->hint == HINT_UNSORTED)
	{
		/*
		 * Pages in an order unrelated to time: the samples are spread
		 * uniformly over the tasks, so each span between two samples, and
		 * the span between upper and the newest sample, holds about count /
		 * (nsamples + 1) tasks.  Below a known upper edge, the spans down
		 * to the k-th sample give the density (one span alone varies too
		 * much) and the window is as wide as target tasks take, at least a
		 * second.  Open above, nothing tells where the newest task is (a
		 * mean gap past the sample misses it about half the time): take the
		 * newest sample itself, a window that is never empty, and whose
		 * first page, a sample of it, narrows it if it holds too many.
		 */
		int			k = Min(nsamples, SEARCH_DENSITY_SPANS);
		int64		edge;

		if (upper == KEY_MAX)
			return round_edge(s, samples[0], upper);
		edge = round_edge(s, upper - (int64) (p / k * (double) (upper - samples[k - 1])),
						  upper);
		if (edge > upper - USECS_PER_SEC && upper - USECS_PER_SEC > KEY_MIN / 2)
			edge = round_edge(s, upper - USECS_PER_SEC, upper);
		return edge;
	}
	else
	{
		/* above the newest sample: extrapolate with the mean gap */
		double		gap = (nsamples > 1) ?
			(double) (samples[0] - samples[nsamples - 1]) / (nsamples - 1) :
			(double) USECS_PER_SEC * 3600;
		double		t0 = (double) samples[0] + gap;

		if (upper != KEY_MAX && t0 > (double) upper)
			t0 = (double) upper;
		return round_edge(s, (int64) (t0 - p * (t0 - (double) samples[0])), upper);
	}
}

/* The window's next page from pager, in s->page_cxt; false at the end. */
static bool
next_window_page(RdsSearch *s, RdsPager *pager, RdsPagerPage *got)
{
	MemoryContext oldcxt;
	RdsNext		r;

	MemoryContextReset(s->page_cxt);
	oldcxt = MemoryContextSwitchTo(s->page_cxt);
	r = rds_pager_next(pager, false, got);
	MemoryContextSwitchTo(oldcxt);
	if (r != RDS_NEXT_FOUND)
		return false;
	s->sstats->requests++;
	(void) page_counts(got->page, (SearchPage) {0});
	return true;
}

/*
 * Read every page of the window [lo, hi) (windowed) or of the whole stream
 * and collect its rows whose key lies in [lo, hi) (all rows, NULL times
 * included, when not windowed) into s->rows, until the pages agree on
 * total_count.  first: its first page, already fetched (or NULL).
 */
static void
read_window(RdsSearch *s, bool windowed, int64 lo, int64 hi, SearchPage *first,
			TupleTableSlot *slot, MemoryContext tmpcxt)
{
	const char *stream = window_stream(s, windowed, lo, hi);
	RdsPager   *pager;
	RdsPagerPage got;
	bool		have;
	int			pass = -1;
	int			n = 0;
	int			cap = 0;
	RdsIdSet   *ids = NULL;

	/* the search reads the API only: a window is one version of the list */
	MemoryContextReset(s->window_cxt);
	pager = rds_pager_create(s->window_cxt, s->conn, s->opts, s->path, false,
							 s->want_raw, s->stats);
	if (stream != NULL && first != NULL)
		rds_pager_resume_stream(pager, stream, first->page, s->opts->page_size);
	else if (stream != NULL)
		rds_pager_add_stream(pager, stream, 0, -1);

	/* the first page, if already read, then the pager's pages */
	memset(&got, 0, sizeof(got));
	got.page = first ? first->page : NULL;
	have = (got.page != NULL) || next_window_page(s, pager, &got);
	while (have)
	{
		int			i;

		if (got.pass != pass)
		{
			/* a (new) pass: the list moved, the window is read again */
			pass = got.pass;
			n = 0;
			cap = 64;
			s->rows = MemoryContextAlloc(s->window_cxt, sizeof(SearchRow) * cap);
			ids = rds_idset_create(s->window_cxt);
		}
		for (i = 0; i < rds_page_ntasks(got.page); i++)
		{
			SearchRow	row;
			const char *id = rds_page_task_field(got.page, i, "id");

			/* a task seen twice while paging (the list moved) counts once */
			if (id != NULL && rds_idset_add(ids, id))
				continue;
			if (!make_row(s, got.page, i, slot, tmpcxt, &row))
				continue;
			if (windowed && row.isnull && !s->nulls_excluded &&
				!s->filter->has_lower && !s->filter->has_upper)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INCONSISTENT_DESCRIPTOR_INFORMATION),
						 errmsg("a task without create_time came back for a creation-time window of %s", s->path),
						 errdetail("The time-window search cannot place such a task in the order."),
						 errhint("Order by an expression such as create_time + interval '0' to read and sort the whole list.")));
			if (windowed && (row.isnull || row.key < lo || row.key >= hi))
				continue;
			if (n == cap)
			{
				cap *= 2;
				s->rows = repalloc(s->rows, sizeof(SearchRow) * cap);
			}
			s->rows[n++] = row;
		}
		have = next_window_page(s, pager, &got);
	}
	s->nrows = n;
	rds_pager_destroy(pager);
	qsort_arg(s->rows, s->nrows, sizeof(SearchRow), cmp_row, &s->nulls_first);
	s->next_row = 0;
}

/* The fallback: the whole stream read and sorted. */
static void
read_all(RdsSearch *s, bool windowed, SearchPage *first, TupleTableSlot *slot,
		 MemoryContext tmpcxt)
{
	s->sstats->fallbacks++;
	read_window(s, windowed, KEY_MIN, KEY_MAX, first, slot, tmpcxt);
	s->finished = true;
}

/*
 * The first two requests: the stream's first page (without a window of
 * ours) and, if there is more, its last page in a window over all times.
 * Decides between the search and the fallback and seeds the samples.
 */
static void
start_search(RdsSearch *s, TupleTableSlot *slot, MemoryContext tmpcxt)
{
	int			page = s->opts->page_size;
	bool		has_time = s->filter->has_lower || s->filter->has_upper;
	SearchPage	first;
	SearchPage	last;
	int64		count;
	int64	   *keys;
	int			nkeys;
	int			order;
	int64	   *lkeys;
	int			nlkeys;
	int			lorder;

	s->upper = KEY_MAX;
	first = fetch(s, window_stream(s, false, KEY_MIN, KEY_MAX), 0, page);
	if (first.page == NULL || first.total <= first.ntasks || first.ntasks < page)
	{
		/*
		 * the first page is the whole stream (also when it ends before a
		 * total_count that is wrong)
		 */
		s->sstats->whole_pages++;
		read_window(s, false, KEY_MIN, KEY_MAX, &first, slot, tmpcxt);
		s->finished = true;
		return;
	}
	count = first.total;

	/* a LIMIT that reads most of the stream anyway: read it */
	if (s->need > 0 &&
		(double) count / page <= 2.0 + ceil((double) s->need / (page * SEARCH_TARGET_RANDOM)))
	{
		read_all(s, false, &first, slot, tmpcxt);
		return;
	}

	keys = page_keys(s, &first, slot, tmpcxt, &nkeys, &order);
	if (nkeys < first.ntasks && !has_time && !s->nulls_excluded)
	{
		/* tasks without a creation time: no window finds them */
		read_all(s, false, &first, slot, tmpcxt);
		return;
	}
	add_samples(s, keys, nkeys);

	MemoryContextReset(s->page_cxt);
	last = fetch(s, window_stream(s, true, KEY_MIN, KEY_MAX), Max(count - page, 0),
				 page);
	if (!has_time && !s->nulls_excluded && last.total != count)
	{
		/* tasks without a creation time (or a list that moved): read it all */
		MemoryContextReset(s->page_cxt);
		first = fetch(s, window_stream(s, false, KEY_MIN, KEY_MAX), 0, page);
		read_all(s, false, &first, slot, tmpcxt);
		return;
	}
	lkeys = page_keys(s, &last, slot, tmpcxt, &nlkeys, &lorder);
	add_samples(s, lkeys, nlkeys);
	s->remaining = last.total;

	if (order == 1 && nkeys == first.ntasks)
	{
		s->hint = HINT_TOP_FIRST;
		s->top = keys;
		s->ntop = nkeys;
	}
	else if (lorder == -1 && nlkeys == last.ntasks)
	{
		int			i;

		s->hint = HINT_TOP_LAST;
		s->top = MemoryContextAlloc(s->cxt, sizeof(int64) * Max(nlkeys, 1));
		for (i = 0; i < nlkeys; i++)
			s->top[i] = lkeys[nlkeys - 1 - i];
		s->ntop = nlkeys;
	}
	else if (order == 2 || lorder == 2)
		s->hint = HINT_UNSORTED;
}

/*
 * Find, read and sort the next complete window below s->upper.
 */
static void
next_window(RdsSearch *s, TupleTableSlot *slot, MemoryContext tmpcxt)
{
	int			page = s->opts->page_size;
	int64		upper = s->upper;
	int64		count = s->remaining;
	int64	   *samples = s->samples;
	int			nsamples = s->nsamples;
	int64	   *top = (s->hint == HINT_TOP_FIRST || s->hint == HINT_TOP_LAST) ?
		s->top : NULL;
	int			ntop = s->ntop;
	int			narrowed;

	int64		prev_edge = KEY_MIN;
	bool		page_sample = false;

	for (narrowed = 0;; narrowed++)
	{
		int64		edge = choose_edge(s, upper, count, samples, nsamples, top, ntop,
									   narrowed == 0);
		SearchPage	p;

		if (narrowed > 0)
		{
			/*
			 * The window [prev_edge, upper) held 'count' tasks.  Its first
			 * page need not be a sample of it (a list sorted the other way
			 * gives its oldest tasks): cut it also in proportion of time,
			 * keep the narrower of the two, and always make progress.  Not
			 * in proportion of time when the pages look unsorted and that
			 * page's times are not monotone either: then the page is a
			 * sample of the window, a better guide than time, which assumes
			 * tasks right up to upper (open, or the edge of an empty window).
			 */
			int64		top_key = (upper != KEY_MAX) ? upper :
				(s->nsamples > 0 ? s->samples[0] + USECS_PER_SEC : KEY_MAX);
			int64		base = (prev_edge != KEY_MIN) ? prev_edge :
				(nsamples > 0 ? samples[nsamples - 1] : KEY_MIN);

			if (!page_sample &&
				top_key != KEY_MAX && base != KEY_MIN && top_key > base)
			{
				double		target = Max(1.0, floor(page * SEARCH_TARGET_RANDOM));
				int64		by_time = top_key - (int64) ((double) (top_key - base) *
														 target / Max(count, 1));

				edge = Max(edge, round_edge(s, by_time, upper));
				if (edge <= prev_edge)
					edge = round_edge(s, base + (top_key - base) / 2, upper);
			}
			if (edge <= prev_edge && prev_edge != KEY_MIN)
				edge = Min(prev_edge + USECS_PER_SEC, upper - 1);
		}
		prev_edge = edge;

		MemoryContextReset(s->page_cxt);
		p = fetch(s, window_stream(s, true, edge, upper), 0, page);
		s->sstats->windows++;
		if (++s->nwindows > s->sstats->max_windows)
			s->sstats->max_windows = s->nwindows;
		if (p.ntasks < page && p.total > p.ntasks)
		{
			/*
			 * A first page that ends before its total_count: the count is
			 * wrong (or the list moved), and windows cut by it could be
			 * asked for without end.  What is left is read whole, its pages
			 * ending where the list does.
			 */
			s->sstats->fallbacks++;
			if (upper == KEY_MAX)
				read_window(s, false, KEY_MIN, KEY_MAX, NULL, slot, tmpcxt);
			else
				read_window(s, true, KEY_MIN, upper, NULL, slot, tmpcxt);
			s->upper = KEY_MIN;
			s->finished = true;
			return;
		}
		if (p.total <= p.ntasks || narrowed >= MAX_NARROW ||
			edge >= upper - USECS_PER_SEC)
		{
			read_window(s, true, edge, upper, &p, slot, tmpcxt);
			if (edge != KEY_MIN)
			{
				/* the first window is open above: measure from its newest row */
				int64		top = (upper != KEY_MAX) ? upper :
					(s->nrows > 0 ? s->rows[0].key + 1 : KEY_MAX);

				if (top != KEY_MAX)
				{
					s->last_width = Max(top - edge, USECS_PER_SEC);
					s->last_count = p.total;
					s->seen_width += s->last_width;
					s->seen_count += p.total;
				}
			}
			s->upper = edge;
			s->taken += s->nrows;
			s->remaining = Max(s->remaining - p.total, 0);
			if (edge == KEY_MIN)
				s->finished = true;
			trim_samples(s);
			return;
		}

		/* too many: narrow with what this window's first page showed */
		{
			int64	   *keys;
			int			nkeys;
			int			order;
			int			i;
			int			m = 0;

			keys = page_keys(s, &p, slot, tmpcxt, &nkeys, &order);
			samples = MemoryContextAlloc(s->cxt, sizeof(int64) * (nkeys + 1));
			for (i = 0; i < nkeys; i++)
				if (keys[i] >= edge && keys[i] < upper)
					samples[m++] = keys[i];
			qsort(samples, m, sizeof(int64), cmp_key_desc);
			nsamples = m;
			count = p.total;
			page_sample = (s->hint == HINT_UNSORTED && order == 2 && m > 0);
			top = (s->hint == HINT_TOP_FIRST && order == 1) ? samples : NULL;
			ntop = m;
			/* unsorted: s->samples stay a uniform sample of the stream */
			if (s->hint != HINT_UNSORTED)
				add_samples(s, keys, nkeys);
		}
	}
}

/*
 * rds_search_begin
 *		A search over the stream of filter (already evaluated; one stream),
 *		returning rows by create_time descending (desc) or ascending, NULL
 *		times first or last; nulls_excluded: a local condition drops tasks
 *		without a time; need: rows the consumer likely wants (-1 unknown);
 *		time_col: create_time's index in the scan tuple.  Everything lives in
 *		cxt (reset by the scan on rescan); the options, connection, filter,
 *		columns and counters must outlive it.  Sends nothing yet.
 */
RdsSearch *
rds_search_begin(MemoryContext cxt, const RdsOptions *opts, RdsConn *conn,
				 const char *path, RdsFilter *filter, bool desc,
				 bool nulls_first, bool nulls_excluded, int64 need,
				 int time_col, RdsColumn *columns, int ncolumns,
				 const char *relname, RdsHttpStats *stats,
				 RdsSearchStats *sstats)
{
	RdsSearch  *s = MemoryContextAllocZero(cxt, sizeof(RdsSearch));

	s->opts = opts;
	s->conn = conn;
	s->path = path;
	s->filter = filter;
	s->desc = desc;
	s->nulls_first = nulls_first;
	s->nulls_excluded = nulls_excluded;
	s->need = need;
	s->time_col = time_col;
	s->columns = columns;
	s->ncolumns = ncolumns;
	s->want_raw = rds_columns_want_raw(columns, ncolumns);
	s->relname = relname;
	s->stats = stats;
	s->sstats = sstats;
	s->cxt = cxt;
	s->window_cxt = AllocSetContextCreate(cxt, "rds_task_fdw search window",
										  ALLOCSET_DEFAULT_SIZES);
	s->page_cxt = AllocSetContextCreate(cxt, "rds_task_fdw search page",
										ALLOCSET_DEFAULT_SIZES);
	sstats->searches++;
	return s;
}

/*
 * rds_search_next
 *		Store the next row in slot (any slot type) and return true, or
 *		return false at the end.  The slot's contents live until the next
 *		call.  Sends requests as needed; throws on their errors.
 */
bool
rds_search_next(RdsSearch *s, TupleTableSlot *slot, MemoryContext tmpcxt)
{
	if (s->filter->empty)
		return false;
	for (;;)
	{
		while (s->next_row < s->nrows)
		{
			SearchRow  *row = &s->rows[s->next_row++];

			ExecForceStoreMinimalTuple(row->tuple, slot, false);
			return true;
		}
		if (s->finished)
			return false;
		if (!s->started)
		{
			s->started = true;
			start_search(s, slot, tmpcxt);
			if (s->finished)
				continue;
		}
		next_window(s, slot, tmpcxt);
	}
}
