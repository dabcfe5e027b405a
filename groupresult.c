/*-------------------------------------------------------------------------
 *
 * groupresult.c
 *		  What a grouped count counts (groupcount.c asks): the groups' keys,
 *		  tasks counted locally (also the window's pages, when they are
 *		  the count's way), the result's rows, its stored copy in the
 *		  response cache, and what EXPLAIN says.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "groupresult.h"

/* The statuses the API documents: GROUP BY status asks for each. */
const char *const rds_gc_documented_statuses[] = {
	"Running", "Completed", "Failed", NULL
};

/* ----------------------------------------------------------------
 *		Keys
 * ----------------------------------------------------------------
 */

/* What EXPLAIN says is counted (palloc'd). */
char *
rds_group_text(RdsGroupKind kind, RdsGroupKind kind2, const RdsBucket *bucket)
{
	switch (kind)
	{
		case RDS_GROUP_STATUS:
			return pstrdup("count(*) GROUP BY status");
		case RDS_GROUP_NAME:
			return pstrdup("count(*) GROUP BY name");
		case RDS_GROUP_BUCKET:
			return psprintf("count(*) GROUP BY %s%s", rds_bucket_text(bucket),
							kind2 == RDS_GROUP_NONE ? "" : kind2 == RDS_GROUP_STATUS ?
							", status" : ", name");
		default:
			return pstrdup("count(*) over a create_time window");
	}
}

/* Does a task's creation time pass every create_time condition? */
bool
rds_gc_time_checks_pass(List *checks, TimestampTz t, bool isnull)
{
	ListCell   *lc;

	foreach(lc, checks)
	{
		RdsTimeCheck *c = (RdsTimeCheck *) lfirst(lc);

		if (isnull)
			return false;
		switch (c->kind)
		{
			case RDS_COND_LOWER:
				if (c->strict ? !(t > c->value) : !(t >= c->value))
					return false;
				break;
			case RDS_COND_UPPER:
				if (c->strict ? !(t < c->value) : !(t <= c->value))
					return false;
				break;
			case RDS_COND_TIME_EQ:
				if (t != c->value)
					return false;
				break;
			default:
				break;
		}
	}
	return true;
}

/* Fill *g with the key of task i as the query would group it. */
void
rds_gc_task_key(RdsGroupCount *gc, RdsPage *page, int i, GcGroup *g)
{
	memset(g, 0, sizeof(*g));
	if (gc->kind == RDS_GROUP_NONE)
		return;
	if (is_bucket(gc->kind))
	{
		g->rep = rds_task_create_time(page, i, &g->rep_null);
		g->label = rds_bucket_key(gc->key, g->rep, g->rep_null, &g->isnull);
		if (gc->kind2 == RDS_GROUP_NONE)
			return;
	}
	g->raw = (char *) rds_page_task_field(page, i, group_field(is_bucket(gc->kind) ?
															   gc->kind2 : gc->kind));
	/* "" is NULL in the table; a second key's NULL is a NULL text */
	if (g->raw != NULL && g->raw[0] != '\0')
		g->text = pg_any_to_server(g->raw, strlen(g->raw), PG_UTF8);
	else if (!is_bucket(gc->kind))
		g->isnull = true;
}

bool
rds_gc_same_key(RdsGroupCount *gc, GcGroup *a, GcGroup *b)
{
	if (is_bucket(gc->kind))
		return rds_bucket_key_equal(gc->key, a->label, a->isnull, b->label, b->isnull) &&
			(gc->kind2 == RDS_GROUP_NONE ||
			 (a->text == NULL ? b->text == NULL :
			  b->text != NULL && strcmp(a->text, b->text) == 0));
	if (a->isnull || b->isnull)
		return a->isnull == b->isnull;
	if (gc->kind == RDS_GROUP_NONE)
		return true;
	return strcmp(a->text, b->text) == 0;
}

GcGroup *
rds_gc_add_group(GcGroup **arr, int *n, int *max)
{
	if (*n >= *max)
	{
		*max = Max(16, *max * 2);
		*arr = *arr ? repalloc(*arr, sizeof(GcGroup) * *max) :
			palloc(sizeof(GcGroup) * *max);
	}
	memset(&(*arr)[*n], 0, sizeof(GcGroup));
	return &(*arr)[(*n)++];
}

/*
 * Count task i of page locally if it passes the conditions and was not
 * counted before.
 */
void
rds_gc_tally_task(RdsGroupCount *gc, RdsPage *page, int i, bool check_filter)
{
	GcGroup		key;
	TimestampTz t;
	bool		isnull;
	int			j;
	GcGroup    *g;
	const char *id;
	MemoryContext oldcxt;

	if (check_filter && !rds_filter_match(gc->scan->filter, page, i))
		return;
	t = rds_task_create_time(page, i, &isnull);
	if (!rds_gc_time_checks_pass(gc->scan->time_checks, t, isnull))
		return;
	id = rds_page_task_value(page, i, RDS_FIELD_ID, NULL);
	if (id != NULL && rds_idset_add(gc->seen, id))
		return;
	rds_gc_task_key(gc, page, i, &key);
	for (j = 0; j < gc->nlocal; j++)
		if (rds_gc_same_key(gc, &gc->local[j], &key))
		{
			gc->local[j].count++;
			return;
		}
	/* the key's text may point into the page: copied into the run's memory */
	oldcxt = MemoryContextSwitchTo(gc->cxt);
	g = rds_gc_add_group(&gc->local, &gc->nlocal, &gc->maxlocal);
	*g = key;
	g->raw = NULL;
	if (g->text)
		g->text = pstrdup(g->text);
	if (is_bucket(gc->kind))
		g->label = rds_bucket_key_copy(gc->key, key.label, key.isnull);
	g->count = 1;
	MemoryContextSwitchTo(oldcxt);
}

/* ----------------------------------------------------------------
 *		Counting the window's pages
 * ----------------------------------------------------------------
 */

/*
 * Count by reading the window's pages (the scan's own paging): a fallback
 * when the groups could not be trusted, else the cheaper way; reason says
 * why, for EXPLAIN ANALYZE.
 */
void
rds_gc_read_pages(RdsGroupCount *gc, const char *reason, bool fallback)
{
	RdsGroupScan *scan = gc->scan;
	MemoryContext page_cxt = AllocSetContextCreate(CurrentMemoryContext,
												   "rds_task_fdw group page",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt;
	RdsPager   *pager;
	RdsPagerPage got;
	ListCell   *lc;
	int			i;

	gc->reason = pstrdup(reason);
	gc->fallback = fallback;
	gc->how = "pages";
	gc->ngroups = 0;
	gc->nlocal = 0;
	gc->seen = rds_idset_create(CurrentMemoryContext);
	pager = rds_pager_create(CurrentMemoryContext, scan->conn, scan->opts,
							 scan->path, gc->may_read, false, scan->stats);
	foreach(lc, scan->streams)
		rds_pager_add_stream(pager, (char *) lfirst(lc), 0, -1);
	oldcxt = MemoryContextSwitchTo(page_cxt);
	while (rds_pager_next(pager, false, &got) == RDS_NEXT_FOUND)
	{
		for (i = 0; i < rds_page_ntasks(got.page); i++)
			rds_gc_tally_task(gc, got.page, i, true);
		MemoryContextReset(page_cxt);
	}
	MemoryContextSwitchTo(oldcxt);
	rds_pager_destroy(pager);
	MemoryContextDelete(page_cxt);
}

/*
 * Count the window from its first pages and the pages after them, read
 * here (parallel_requests at a time) rather than by the scan: the first
 * pages are not asked for twice.  Should a page's total_count differ from
 * its first page's (the list moved), the scan's paging, which repeats such
 * a pass, counts instead.  A stream whose pages end before its unchanged
 * total_count (a total_count that is wrong) ends there, as the scan's
 * paging ends it, and the reason says so.  fallback: the groups were tried
 * and could not be trusted.
 */
void
rds_gc_read_rest_pages(RdsGroupCount *gc, List *first, const char *reason, bool fallback)
{
	RdsGroupScan *scan = gc->scan;
	int			ps = scan->opts->page_size;
	MemoryContext page_cxt = AllocSetContextCreate(gc->cxt, "rds_task_fdw pages",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt;
	RdsPager   *pager;
	RdsPagerPage got;
	ListCell   *lc;
	char	   *ended = NULL;
	bool		moved = false;
	int			i;

	gc->fallback = fallback;
	gc->how = "pages";
	gc->ngroups = 0;
	gc->nlocal = 0;
	gc->seen = rds_idset_create(gc->cxt);
	pager = rds_pager_create(gc->cxt, scan->conn, scan->opts, scan->path,
							 gc->may_read, false, scan->stats);
	foreach(lc, first)
	{
		GcReq	   *r0 = (GcReq *) lfirst(lc);

		if (r0->ntasks < ps && r0->ntasks < r0->total)
		{
			moved = true;		/* a short page before the end */
			break;
		}
		for (i = 0; i < r0->ntasks; i++)
			rds_gc_tally_task(gc, r0->page, i, true);
		rds_pager_resume_stream(pager, r0->stream, r0->page, ps);
	}

	/* the pages after the first ones, in flight as the pager keeps them */
	oldcxt = MemoryContextSwitchTo(page_cxt);
	while (!moved && rds_pager_next(pager, false, &got) == RDS_NEXT_FOUND)
	{
		GcReq	   *r0 = (GcReq *) list_nth(first, got.stream);
		int			n = rds_page_ntasks(got.page);

		if (got.pass > 0 || rds_page_total_count(got.page) != r0->total)
			moved = true;
		else
		{
			/* a page that ends early: counted as far as it goes */
			if (n < Min((int64) ps, r0->total - got.offset) && ended == NULL)
				ended = MemoryContextStrdup(gc->cxt,
											psprintf("total_count " INT64_FORMAT " is wrong: the pages end at offset " INT64_FORMAT,
													 r0->total, got.offset + n));
			for (i = 0; i < n; i++)
				rds_gc_tally_task(gc, got.page, i, true);
		}
		MemoryContextReset(page_cxt);
	}
	MemoryContextSwitchTo(oldcxt);
	rds_pager_destroy(pager);
	MemoryContextDelete(page_cxt);

	if (moved)
	{
		rds_gc_read_pages(gc, "the list moved while its pages were read", true);
		return;
	}
	gc->reason = ended ? psprintf("%s; %s", reason, ended) : pstrdup(reason);
	if (ended)
		gc->fallback = true;
}

/* ----------------------------------------------------------------
 *		One version with the response cache
 *
 * The requests of one count are answered together or not at all: each
 * request's own cache entry may have been fetched at another time (by a
 * scan, a count(*), another count), and answers of two versions of the list
 * can add up to the window's total_count and still be wrong.  So a count
 * sends its requests past the cache (their answers are still stored for
 * other readers) and stores its result as one entry of its own, keyed by
 * everything the result depends on; a later count within cache_ttl reads
 * that entry, which holds the counts of one run.
 * ----------------------------------------------------------------
 */

/* One row of a stored result; a bucket's key is recomputed from rep. */
typedef struct GcStoredRow
{
	int64		count;
	TimestampTz rep;
	bool		rep_null;
	int32		len;			/* bytes of text that follow; -1 = none */
} GcStoredRow;

#define GC_STORED_MAGIC 0x52444734	/* "RDG4" */

/*
 * The cache key of the count's result: the kind, date_trunc's zone or the
 * session's TimeZone, the create_time conditions rechecked, and the
 * requests' streams (palloc'd).
 */
char *
rds_gc_result_key(RdsGroupCount *gc, RdsGroupScan *scan)
{
	StringInfoData key;
	ListCell   *lc;

	initStringInfo(&key);
	appendStringInfo(&key, "groupcount/3 kind=%d/%d tz=%s page_size=%d path=%s",
					 (int) gc->kind, (int) gc->kind2,
					 pg_get_timezone_name(session_timezone),
					 scan->opts->page_size, scan->path);
	if (is_bucket(gc->kind))
	{
		char	   *expr = nodeToString(gc->key_expr);

		appendStringInfo(&key, " bucket=%s key=%08x", rds_bucket_text(&gc->bucket),
						 hash_bytes((const unsigned char *) expr, strlen(expr)));
	}
	foreach(lc, scan->time_checks)
	{
		RdsTimeCheck *c = (RdsTimeCheck *) lfirst(lc);

		appendStringInfo(&key, " check=%d/%d/" INT64_FORMAT,
						 (int) c->kind, c->strict ? 1 : 0, (int64) c->value);
	}
	foreach(lc, scan->streams)
		appendStringInfo(&key, " stream=%s", (char *) lfirst(lc));
	return key.data;
}

/* The result's rows (rds_gc_next_group's), serialized into buf. */
void
rds_gc_store_result(RdsGroupCount *gc, StringInfo buf)
{
	uint32		magic = GC_STORED_MAGIC;
	GcGroup    *g;

	appendBinaryStringInfo(buf, (char *) &magic, sizeof(magic));
	appendStringInfoChar(buf, gc->totals_apart ? 1 : 0);
	gc->next = 0;
	while ((g = rds_gc_next_group(gc)) != NULL)
	{
		GcStoredRow row;

		memset(&row, 0, sizeof(row));
		row.count = g->count;
		row.len = -1;
		if (is_bucket(gc->kind))
		{
			row.rep = g->rep;
			row.rep_null = g->rep_null;
		}
		if (g->text != NULL)
			row.len = (int32) strlen(g->text);
		appendBinaryStringInfo(buf, (char *) &row, sizeof(row));
		if (row.len > 0)
			appendBinaryStringInfo(buf, g->text, row.len);
	}
	gc->next = 0;				/* the rows are returned again */
}

/*
 * Make the stored result in data the count's result (local rows, in the
 * run's memory).  False, with nothing changed, if data is damaged.
 */
bool
rds_gc_load_result(RdsGroupCount *gc, const char *data, int len)
{
	const char *p = data;
	const char *end = data + len;
	uint32		magic;

	bool		apart;

	if (len < (int) sizeof(magic) + 1)
		return false;
	memcpy(&magic, p, sizeof(magic));
	if (magic != GC_STORED_MAGIC)
		return false;
	apart = (p[sizeof(magic)] != 0);
	for (p += sizeof(magic) + 1; p < end;)
	{
		GcStoredRow row;

		if (end - p < (int) sizeof(row))
			return false;
		memcpy(&row, p, sizeof(row));
		p += sizeof(row);
		if (row.len < -1 || row.len > end - p)
			return false;
		p += Max(row.len, 0);
	}
	gc->ngroups = gc->nlocal = gc->next = 0;
	gc->totals_apart = apart;
	for (p = data + sizeof(magic) + 1; p < end;)
	{
		GcStoredRow row;
		GcGroup    *g;

		memcpy(&row, p, sizeof(row));
		p += sizeof(row);
		g = rds_gc_add_group(&gc->local, &gc->nlocal, &gc->maxlocal);
		g->count = row.count;
		g->isnull = (gc->kind != RDS_GROUP_NONE && row.len < 0);
		if (row.len >= 0)
			g->text = pnstrdup(p, row.len);
		if (is_bucket(gc->kind))
		{
			g->rep = row.rep;
			g->rep_null = row.rep_null;
			g->label = rds_bucket_key(gc->key, g->rep, g->rep_null, &g->isnull);
		}
		p += Max(row.len, 0);
	}
	return true;
}

/*
 * The next group of the result with tasks, NULL at the end: the groups
 * asked for (a complete bucket's count is in its local tallies), each with
 * the local tallies and later buckets of the same key (the wall clock went
 * back), then the local tallies left.  count(*) alone is not a group.
 */
GcGroup *
rds_gc_next_group(RdsGroupCount *gc)
{
	GcGroup    *g;
	int			j;

	for (;;)
	{
		if (gc->next >= gc->ngroups + gc->nlocal)
			return NULL;
		if (gc->next < gc->ngroups)
		{
			g = &gc->groups[gc->next++];
			if (is_bucket(gc->kind) && g->complete)
				continue;		/* its tasks are in local */
			for (j = 0; j < gc->nlocal; j++)
				if (gc->local[j].count > 0 && rds_gc_same_key(gc, &gc->local[j], g))
				{
					g->count += gc->local[j].count;
					gc->local[j].count = 0;
				}
			for (j = gc->next; j < gc->ngroups; j++)
				if (is_bucket(gc->kind) && !gc->groups[j].complete &&
					gc->groups[j].count > 0 && rds_gc_same_key(gc, &gc->groups[j], g))
				{
					g->count += gc->groups[j].count;
					gc->groups[j].count = 0;
				}
		}
		else
			g = &gc->local[gc->next++ - gc->ngroups];
		if (g->count > 0)
			return g;
	}
}

/* The status a group counts (its key or second key), or NULL. */
static const char *
group_status(RdsGroupCount *gc, GcGroup *g)
{
	if (gc->kind == RDS_GROUP_STATUS || gc->kind2 == RDS_GROUP_STATUS)
		return g->text;
	return NULL;
}

/*
 * The result's rows, once: each group a row, or with hide_status the
 * groups of one visible key (the bucket, or none) one row; each row with
 * its count and, per aggregate spec, the count of the status it names.
 * count(*) alone, or with hide_status and no visible key, is one row even
 * when nothing matched.
 */
static void
build_rows(RdsGroupCount *gc)
{
	List	   *specs = gc->specs;
	bool		hide_status = gc->hide_status;
	int			nspecs = list_length(specs);
	bool		one_row = (gc->kind == RDS_GROUP_NONE) ||
		(hide_status && gc->kind == RDS_GROUP_STATUS);
	GcGroup    *g;
	MemoryContext oldcxt = MemoryContextSwitchTo(gc->cxt);

	gc->rows = palloc0(sizeof(GcRow) * (gc->ngroups + gc->nlocal + 1));
	gc->nrows = 0;
	if (one_row)
		gc->rows[gc->nrows++].by_spec = palloc0(sizeof(int64) * Max(nspecs, 1));
	gc->next = 0;
	while ((g = rds_gc_next_group(gc)) != NULL)
	{
		GcRow	   *row = NULL;
		const char *status;
		ListCell   *lc;
		int			i;

		if (one_row)
			row = &gc->rows[0];
		else if (hide_status)
			for (i = 0; i < gc->nrows && row == NULL; i++)
				if (rds_bucket_key_equal(gc->key, gc->rows[i].g->label, gc->rows[i].g->isnull,
										 g->label, g->isnull))
					row = &gc->rows[i];
		if (row == NULL)
		{
			row = &gc->rows[gc->nrows++];
			row->by_spec = palloc0(sizeof(int64) * Max(nspecs, 1));
		}
		if (row->g == NULL)
			row->g = g;
		status = group_status(gc, g);
		if (!gc->totals_apart || status == NULL)
			row->count += g->count;
		i = 0;
		foreach(lc, specs)
		{
			const char *s = rds_group_agg_status(strVal(lfirst(lc)));

			if (s && status && strcmp(s, status) == 0)
				row->by_spec[i] += g->count;
			i++;
		}
	}
	gc->next = 0;
	gc->next_row = 0;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * rds_groupcount_next_row
 *		The next row of the scan tuple, into values and nulls; false at the
 *		end: the visible keys (the bucket or status or name, then a second
 *		key unless hide_status), then per aggregate spec (groupagg.c) its
 *		value.  A group without tasks is no row.  Keys point into the
 *		run's memory.
 */
bool
rds_groupcount_next_row(RdsGroupCount *gc, Datum *values, bool *nulls)
{
	bool		hide_status = gc->hide_status;
	GcRow	   *row;
	GcGroup    *g;
	ListCell   *lc;
	int			c = 0;
	int			i = 0;

	if (gc->rows == NULL)
		build_rows(gc);
	if (gc->next_row >= gc->nrows)
		return false;
	row = &gc->rows[gc->next_row++];
	g = row->g;
	if (gc->kind == RDS_GROUP_BUCKET)
	{
		nulls[c] = g->isnull;
		values[c++] = g->isnull ? (Datum) 0 : g->label;
	}
	else if (gc->kind != RDS_GROUP_NONE && !hide_status)
	{
		nulls[c] = g->isnull;
		values[c++] = g->isnull ? (Datum) 0 : CStringGetTextDatum(g->text);
	}
	if (gc->kind2 != RDS_GROUP_NONE && !hide_status)
	{
		nulls[c] = (g->text == NULL);
		values[c++] = g->text ? CStringGetTextDatum(g->text) : (Datum) 0;
	}
	foreach(lc, gc->specs)
	{
		values[c] = rds_group_agg_value(strVal(lfirst(lc)), row->count,
										row->by_spec[i++], &nulls[c]);
		c++;
	}
	return true;
}

/* EXPLAIN ANALYZE: which way the count went. */
char *
rds_groupcount_summary(RdsGroupCount *gc)
{
	if (strcmp(gc->how, "groups") == 0)
		return psprintf("%d groups from %d group requests and %d edge requests, fallback: no",
						gc->kind2 == RDS_GROUP_NONE ? gc->ngroups : gc->nlocal,
						gc->group_requests, gc->edge_requests);
	if (strcmp(gc->how, "cache") == 0)
		return pstrdup("the stored result of one earlier count (response cache), fallback: no");
	if (strcmp(gc->how, "first pages") == 0)
		return pstrdup("the window fits in its first pages: counted locally, fallback: no");
	if (strcmp(gc->how, "pages") == 0)
		return gc->fallback ?
			psprintf("pages read and counted locally, fallback: yes (%s)", gc->reason) :
			psprintf("pages read and counted locally (%s), fallback: no", gc->reason);
	return pstrdup("no request");
}

/*
 * explain_lines
 *		Appends to lines one "GET path?query (what)" line per request stream
 *		of f, its page limit being limit.
 */
static List *
explain_lines(List *lines, RdsFilter *f, const RdsOptions *opts,
			  const char *path, const char *limit, const char *what)
{
	ListCell   *ls;

	foreach(ls, rds_filter_streams(f, opts, RDS_MAX_STREAMS))
		lines = lappend(lines, psprintf("GET %s?%s (%s)", path,
										rds_request_query((char *) lfirst(ls), "0", limit),
										what));
	return lines;
}

/*
 * rds_groupcount_explain
 *		EXPLAIN VERBOSE's requests after the window's first pages, built by
 *		the builder of the requests themselves from f (which may hold
 *		placeholders): one per group for status, a template for names and
 *		buckets, and the edges.
 */
List *
rds_groupcount_explain(RdsGroupKind kind, RdsGroupKind kind2, RdsFilter *f,
					   const RdsOptions *opts, const char *path)
{
	List	   *lines = NIL;
	ListCell   *lc;
	char	   *ps = psprintf("%d", opts->page_size);
	RdsGroupKind fkind = (kind == RDS_GROUP_BUCKET) ? kind2 : kind;
	bool		constrained = false;
	RdsFilter  *gf;

	/* a status or name the conditions fix: the window's streams are the groups */
	if (fkind == RDS_GROUP_STATUS || fkind == RDS_GROUP_NAME)
		foreach(lc, f->fields)
			if (strcmp(((RdsFieldSet *) lfirst(lc))->field, group_field(fkind)) == 0)
				constrained = ((RdsFieldSet *) lfirst(lc))->constrained;

	/* two keys: each value's window is counted by buckets */
	if (kind2 != RDS_GROUP_NONE && !constrained)
	{
		f = rds_filter_copy(f);
		rds_filter_add_placeholder(f, group_field(kind2), RDS_COND_EQ,
								   kind2 == RDS_GROUP_STATUS ? "<each status>" :
								   "<each of actions>");
		lines = explain_lines(lines, f, opts, path, ps, "each value's first page");
	}
	if (kind == RDS_GROUP_STATUS && !constrained)
	{
		const char *const *s;

		for (s = rds_gc_documented_statuses; *s; s++)
		{
			gf = rds_filter_copy(f);
			rds_filter_add_values(gf, group_field(kind), list_make1((char *) *s));
			lines = explain_lines(lines, gf, opts, path, "1", "group");
		}
	}
	else if (kind == RDS_GROUP_NAME && !constrained)
	{
		gf = rds_filter_copy(f);
		rds_filter_add_placeholder(gf, "name", RDS_COND_EQ, "<each of actions>");
		lines = explain_lines(lines, gf, opts, path, "1", "group");
	}
	if (kind == RDS_GROUP_BUCKET)
	{
		gf = rds_filter_copy(f);
		gf->lower_placeholder = "<bucket start>";
		gf->upper_placeholder = "<bucket end>";
		lines = explain_lines(lines, gf, opts, path, "1",
							  psprintf("each bucket; the first and last with limit=%s", ps));
	}
	if (f->has_lower || f->lower_placeholder)
	{
		gf = rds_filter_copy(f);
		gf->upper_placeholder = "<lower bound + 1 s>";
		lines = explain_lines(lines, gf, opts, path, ps, "lower edge");
	}
	if (f->has_upper || f->upper_placeholder)
	{
		gf = rds_filter_copy(f);
		gf->lower_placeholder = "<upper bound - 1 s>";
		lines = explain_lines(lines, gf, opts, path, ps, "upper edge");
	}
	return lines;
}
