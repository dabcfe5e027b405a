/*-------------------------------------------------------------------------
 *
 * pager.c
 *		  Reading the task list page by page: one page request (built,
 *		  sent, answered, decoded and checked in one way for every reader),
 *		  and request streams read in order with pages in flight up to
 *		  parallel_requests, passes repeated while the list moves.
 *
 * Every page of the task list is fetched through rds_page_start and
 * rds_page_finish: the query string and the "GET path?query" text come
 * from deparse.c's rds_request_query, a page the shared cache answered is
 * named as the cache's copy in messages, and a page that holds more tasks
 * than asked for, or more than its total_count, is refused.  A page is
 * decoded once: with cache_ttl the gate (gate.c) makes its image when the
 * answer arrives, and a cache hit is that image, read as it is.
 *
 * A pager (RdsPager) reads request streams: the pages of one filter, from
 * a start offset to the end of the list or to an end offset.  A stream
 * sends one page until it knows total_count, then its pages up to the end;
 * further streams start while earlier ones wait.  A total_count that
 * changes between the pages of a pass means the list moved: offsets
 * shifted, so the pass is repeated (at most RDS_MAX_PASSES), and a
 * repeated pass never reads the cache, which would give it the pages the
 * list has moved away from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "rds_task_fdw.h"

/* Passes over a stream whose list keeps moving before the reader gives up. */
#define RDS_MAX_PASSES			5

/* One page request, from rds_page_start to rds_page_finish. */
struct RdsPageReq
{
	RdsRequest *req;			/* the request (maybe answered by the cache) */
	char	   *desc;			/* "GET path?query" for messages */
	const char *server;			/* the foreign server's name, for messages */
	Oid			serverid;		/* and its OID, for its statistics */
	int64		offset;
	int			limit;
	bool		want_raw;		/* keep each task's raw JSON */
};

/* One request stream: the pages of one combination of filter values. */
typedef struct RdsStream
{
	char	   *query;			/* filter parameters, "" if none */
	int64		start_offset;	/* where each pass starts */
	int64		next_offset;	/* offset of the next page to request */
	int64		end_offset;		/* request nothing from here; -1 = the end */
	int64		total_count;	/* last total_count seen, -1 unknown */
	int64		pass_total;		/* first total_count of this pass, -1 */
	bool		moved;			/* total_count changed during this pass */
	int			passes;			/* passes done because the list moved */
	int			inflight;		/* its pages in flight */
	bool		done;			/* no more pages to request */
} RdsStream;

/* One page request of a pager in flight. */
typedef struct RdsPending
{
	MemoryContext cxt;			/* everything of this request; deleted when
								 * the page is read or the request cancelled */
	bool		active;			/* false once read or cancelled */
	RdsPageReq *pr;
	int			stream;
} RdsPending;

struct RdsPager
{
	MemoryContext cxt;			/* the pager's own memory */
	RdsConn    *conn;
	const RdsOptions *opts;
	const char *path;
	bool		use_cache;		/* the first pass may read the cache */
	bool		want_raw;		/* pages keep each task's raw JSON */
	RdsHttpStats *stats;

	int			nstreams;
	int			maxstreams;
	RdsStream  *streams;

	RdsPending *pending;		/* ring of parallel_requests entries */
	int			pending_head;
	int			npending;
};


/* ------------------------------------------------------------------------
 * One page
 * ------------------------------------------------------------------------
 */

/*
 * rds_page_start
 *		Sends GET path?{stream}&offset=..&limit=.. on conn and returns at
 *		once.  With cache_ttl > 0 and may_read, the shared cache may answer.
 *		want_raw: the page keeps each task's raw JSON (rds_page_task_json).
 *		Allocated in CurrentMemoryContext (the request is released with it).
 *		Throws if the request cannot be started.
 */
RdsPageReq *
rds_page_start(RdsConn *conn, const char *path, const char *stream,
			   int64 offset, int limit, int cache_ttl, bool may_read,
			   bool want_raw)
{
	RdsPageReq *pr = palloc(sizeof(RdsPageReq));
	char	   *query;

	query = rds_request_query(stream, psprintf(INT64_FORMAT, offset),
							  psprintf("%d", limit));
	pr->desc = psprintf("GET %s?%s", path, query);
	pr->server = pstrdup(rds_conn_server_name(conn));
	pr->serverid = rds_conn_server_id(conn);
	pr->offset = offset;
	pr->limit = limit;
	pr->want_raw = want_raw;
	pr->req = rds_request_start_cached(conn, path, query, cache_ttl, may_read,
									   want_raw);
	return pr;
}

/*
 * rds_page_ready
 *		Whether rds_page_finish can return without waiting on the network
 *		(it lets every transfer of the connection progress).
 */
bool
rds_page_ready(RdsPageReq *pr)
{
	return rds_request_poll(pr->req);
}

/*
 * rds_page_cancel
 *		Stops the request if it is still on the wire.  Never throws.
 */
void
rds_page_cancel(RdsPageReq *pr)
{
	if (pr != NULL && pr->req != NULL)
		rds_request_cancel(pr->req);
	if (pr != NULL)
		pr->req = NULL;
}

static RdsPage *page_decode(RdsPageReq *pr, StringInfo body,
							RdsAnswer answer, const char *desc);

/*
 * rds_page_finish
 *		Waits for pr's answer and decodes it in CurrentMemoryContext (or
 *		reads its image).  Adds to *stats (may be NULL).  Throws
 *		if the request failed, or the body is not a page of the API's, or
 *		holds more tasks than asked for or than its total_count allows.
 */
RdsPage *
rds_page_finish(RdsPageReq *pr, RdsHttpStats *stats)
{
	StringInfoData body;
	RdsRequest *req = pr->req;
	const char *volatile desc = pr->desc;
	RdsPage    *volatile page = NULL;
	MemoryContext cxt = CurrentMemoryContext;
	RdsAnswer	answer;

	pr->req = NULL;				/* finished, hence released, even on error */
	initStringInfo(&body);
	answer = rds_request_finish(req, &body, stats);
	if (answer == RDS_ANSWER_CACHED)
		desc = psprintf("%s (the shared cache's copy)", desc);

	/* an answer that is not a page is the server's error too (its stats) */
	PG_TRY();
	{
		page = page_decode(pr, &body, answer, desc);
	}
	PG_CATCH();
	{
		MemoryContext ecxt = MemoryContextSwitchTo(cxt);
		ErrorData  *edata = CopyErrorData();

		MemoryContextSwitchTo(ecxt);
		rds_stats_error(pr->serverid, pr->server, edata->message);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return page;
}

/*
 * page_decode
 *		pr's answer, decoded in CurrentMemoryContext (a body is freed once
 *		decoded; an image is kept by the page); desc names the request in
 *		messages.  Throws if the body is not a page of the API's, or holds
 *		more tasks than asked for or than its total_count allows.
 */
static RdsPage *
page_decode(RdsPageReq *pr, StringInfo body, RdsAnswer answer,
			const char *desc)
{
	RdsPage    *page;
	int			n;
	int64		total;

	if (answer == RDS_ANSWER_BODY)
	{
		page = rds_page_parse(body->data, body->len, pr->want_raw, desc,
							  pr->server);
		pfree(body->data);
	}
	else
		page = rds_page_from_image(body->data, body->len, pr->want_raw, desc,
								   pr->server);

	n = rds_page_ntasks(page);
	total = rds_page_total_count(page);
	if (n > pr->limit)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: %d tasks for a limit of %d",
						desc, n, pr->limit),
				 errcontext("foreign server \"%s\"", pr->server)));
	if (total >= 0 && n > 0 && pr->offset + n > total)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: total_count " INT64_FORMAT " is less than the tasks returned",
						desc, total),
				 errdetail("The page at offset " INT64_FORMAT " holds %d tasks.",
						   pr->offset, n),
				 errcontext("foreign server \"%s\"", pr->server)));
	return page;
}

/*
 * rds_page_get
 *		rds_page_start + rds_page_finish: one page, decoded in
 *		CurrentMemoryContext.
 */
RdsPage *
rds_page_get(RdsConn *conn, const char *path, const char *stream,
			 int64 offset, int limit, int cache_ttl, bool want_raw,
			 RdsHttpStats *stats)
{
	return rds_page_finish(rds_page_start(conn, path, stream, offset, limit,
										  cache_ttl, true, want_raw),
						   stats);
}


/* ------------------------------------------------------------------------
 * Streams
 * ------------------------------------------------------------------------
 */

/*
 * rds_pager_create
 *		A pager with no stream, in a context of its own under parent.  The
 *		first pass of a stream may read the shared cache if use_cache (and
 *		opts->cache_ttl > 0).  want_raw: its pages keep each task's raw JSON
 *		(rds_page_task_json), which a reader storing rows of a table with a
 *		raw column needs (rds_columns_want_raw).  Adds the requests'
 *		figures to *stats.
 */
RdsPager *
rds_pager_create(MemoryContext parent, RdsConn *conn, const RdsOptions *opts,
				 const char *path, bool use_cache, bool want_raw,
				 RdsHttpStats *stats)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "rds_task_fdw pager",
											  ALLOCSET_SMALL_SIZES);
	RdsPager   *pg = MemoryContextAllocZero(cxt, sizeof(RdsPager));

	pg->cxt = cxt;
	pg->conn = conn;
	pg->opts = opts;
	pg->path = path;
	pg->use_cache = use_cache;
	pg->want_raw = want_raw;
	pg->stats = stats;
	pg->maxstreams = 4;
	pg->streams = MemoryContextAllocZero(cxt, sizeof(RdsStream) * pg->maxstreams);
	pg->pending = MemoryContextAllocZero(cxt, sizeof(RdsPending) * opts->parallel_requests);
	return pg;
}

/*
 * rds_pager_add_stream
 *		A new stream: the pages of filter query (rds_filter_streams' form)
 *		from start_offset, to end_offset (-1: the end of the list).  Returns
 *		its number, from 0 in the order they are added.
 */
int
rds_pager_add_stream(RdsPager *pg, const char *query, int64 start_offset,
					 int64 end_offset)
{
	RdsStream  *st;

	if (pg->nstreams == pg->maxstreams)
	{
		pg->maxstreams *= 2;
		pg->streams = repalloc(pg->streams, sizeof(RdsStream) * pg->maxstreams);
	}
	st = &pg->streams[pg->nstreams];
	memset(st, 0, sizeof(RdsStream));
	st->query = MemoryContextStrdup(pg->cxt, query);
	st->start_offset = start_offset;
	st->next_offset = start_offset;
	st->end_offset = end_offset;
	st->total_count = -1;
	st->pass_total = -1;
	return pg->nstreams++;
}

/*
 * rds_pager_resume_stream
 *		A new stream whose first page (offset 0, limit first_limit) the
 *		reader already has: the pager sends the pages after it, and a pass
 *		repeated because the list moved starts again at offset 0.  first is
 *		never returned by rds_pager_next.  Returns its number.
 */
int
rds_pager_resume_stream(RdsPager *pg, const char *query, RdsPage *first,
						int first_limit)
{
	int			s = rds_pager_add_stream(pg, query, 0, -1);
	RdsStream  *st = &pg->streams[s];
	int			n = rds_page_ntasks(first);
	int64		total = rds_page_total_count(first);

	st->next_offset = first_limit;
	st->total_count = total;
	st->pass_total = total;
	if (n == 0 || n < first_limit || (total >= 0 && first_limit >= total))
		st->done = true;		/* the first page was the last */
	return s;
}

/* The filter query of stream s. */
const char *
rds_pager_stream_query(RdsPager *pg, int s)
{
	return pg->streams[s].query;
}

/*
 * rds_pager_extend
 *		Stream s (one with an end offset) asks for one row more: a row read
 *		was not returned (a duplicate, or a value not wanted).
 */
void
rds_pager_extend(RdsPager *pg, int s)
{
	if (pg->streams[s].end_offset >= 0)
		pg->streams[s].end_offset++;
}

/* Send the request for the next page of stream s. */
static void
start_page_request(RdsPager *pg, int s)
{
	RdsStream  *st = &pg->streams[s];
	MemoryContext cxt = AllocSetContextCreate(pg->cxt, "rds_task_fdw request",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	RdsPending *p;
	int			limit = pg->opts->page_size;

	if (st->end_offset >= 0)
		limit = (int) Min((int64) limit, st->end_offset - st->next_offset);

	p = &pg->pending[(pg->pending_head + pg->npending) %
					 pg->opts->parallel_requests];
	p->cxt = cxt;
	p->active = true;
	p->stream = s;
	p->pr = rds_page_start(pg->conn, pg->path, st->query, st->next_offset,
						   limit, pg->opts->cache_ttl,
						   pg->use_cache && st->passes == 0, pg->want_raw);
	pg->npending++;
	st->inflight++;
	st->next_offset += limit;

	MemoryContextSwitchTo(oldcxt);
}

/* Stop a page request (if it is still on the wire) and free it. */
static void
release_pending(RdsPending *p)
{
	if (p->active && p->pr)
		rds_page_cancel(p->pr);
	p->active = false;
	p->pr = NULL;
	if (p->cxt)
		MemoryContextDelete(p->cxt);
	p->cxt = NULL;
}

/*
 * rds_pager_cancel
 *		Cancels every request in flight (a LIMIT reached, a rescan, the end
 *		of the query).  The streams stay; never throws.
 */
void
rds_pager_cancel(RdsPager *pg)
{
	if (pg == NULL)
		return;
	while (pg->npending > 0)
	{
		release_pending(&pg->pending[pg->pending_head]);
		pg->pending_head = (pg->pending_head + 1) % pg->opts->parallel_requests;
		pg->npending--;
	}
	pg->pending_head = 0;
	pg->npending = 0;
}

/* Cancel the requests of one stream that are still in flight. */
static void
cancel_stream(RdsPager *pg, int s)
{
	int			i;

	for (i = 0; i < pg->npending; i++)
	{
		RdsPending *p = &pg->pending[(pg->pending_head + i) %
									 pg->opts->parallel_requests];

		if (p->stream == s && p->active)
		{
			release_pending(p);
			pg->streams[s].inflight--;
		}
	}
}

/*
 * Keep as many page requests in flight as allowed and useful: a stream
 * sends one page until it knows its total_count, then pages up to the end;
 * further streams start while earlier ones wait.
 */
static void
fill_pipeline(RdsPager *pg)
{
	int			s;

	for (s = 0; s < pg->nstreams &&
		 pg->npending < pg->opts->parallel_requests; s++)
	{
		RdsStream  *st = &pg->streams[s];

		while (!st->done && pg->npending < pg->opts->parallel_requests)
		{
			if (st->end_offset >= 0 && st->next_offset >= st->end_offset)
				break;
			if (st->total_count < 0 ? st->inflight > 0
				: st->next_offset >= st->total_count)
				break;
			start_page_request(pg, s);
		}
	}
}

/*
 * The position (0 = head) of a pending page that can be read without
 * waiting on the network: one answered by the cache, or whose request has
 * its final outcome; -1 if none.  Only the first page in flight of each
 * stream qualifies (a stream's pages are read in order).  Every request is
 * polled, so that all transfers progress and retries whose backoff is over
 * start.
 */
static int
ready_pending(RdsPager *pg)
{
	int			found = -1;
	int			i;
	int			j;

	for (i = 0; i < pg->npending; i++)
	{
		RdsPending *p = &pg->pending[(pg->pending_head + i) %
									 pg->opts->parallel_requests];
		bool		first = true;
		bool		ready;

		if (!p->active)
			continue;
		ready = rds_page_ready(p->pr);
		if (!ready || found >= 0)
			continue;
		for (j = 0; j < i && first; j++)
		{
			RdsPending *q = &pg->pending[(pg->pending_head + j) %
										 pg->opts->parallel_requests];

			first = !(q->active && q->stream == p->stream);
		}
		if (first)
			found = i;
	}
	return found;
}

/* Move the pending page at position i to the head, keeping the others' order. */
static void
pending_to_head(RdsPager *pg, int i)
{
	int			n = pg->opts->parallel_requests;
	RdsPending	p = pg->pending[(pg->pending_head + i) % n];

	for (; i > 0; i--)
		pg->pending[(pg->pending_head + i) % n] =
			pg->pending[(pg->pending_head + i - 1) % n];
	pg->pending[pg->pending_head] = p;
}

/*
 * rds_pager_next
 *		The next page, decoded in CurrentMemoryContext, into *out.
 *		RDS_NEXT_END when every stream is exhausted.  With nowait, reads only
 *		a page that is there (any stream's), else returns RDS_NEXT_WAIT;
 *		without, waits for the next page in order.  Throws on a failed
 *		request, a page that is not the API's, or a list that kept moving
 *		for RDS_MAX_PASSES passes.
 */
RdsNext
rds_pager_next(RdsPager *pg, bool nowait, RdsPagerPage *out)
{
	RdsPending	pending;
	RdsStream  *st;
	int			n;
	int64		total;
	int64		offset;
	int			limit;

	memset(out, 0, sizeof(RdsPagerPage));
	out->expect = -1;
	for (;;)
	{
		fill_pipeline(pg);
		if (pg->npending == 0)
			return RDS_NEXT_END;
		if (nowait)
		{
			int			i = ready_pending(pg);

			if (i < 0)
				return RDS_NEXT_WAIT;
			pending_to_head(pg, i);
		}
		pending = pg->pending[pg->pending_head];
		pg->pending[pg->pending_head].active = false;
		pg->pending[pg->pending_head].cxt = NULL;
		pg->pending_head = (pg->pending_head + 1) % pg->opts->parallel_requests;
		pg->npending--;
		if (pending.active)
			break;				/* skip cancelled entries */
		if (pending.cxt)
			MemoryContextDelete(pending.cxt);
	}
	st = &pg->streams[pending.stream];
	st->inflight--;

	offset = pending.pr->offset;
	limit = pending.pr->limit;
	out->page = rds_page_finish(pending.pr, pg->stats);
	release_pending(&pending);

	n = rds_page_ntasks(out->page);
	total = rds_page_total_count(out->page);
	out->stream = pending.stream;
	out->offset = offset;
	out->pass = st->passes;
	st->total_count = total;

	/*
	 * A total_count that changes between pages means tasks were added or
	 * removed while paging: offsets shifted, and pages answered before and
	 * after the move may leave a gap.  The pass is then repeated; the
	 * reader skips tasks it has already seen.
	 */
	if (total >= 0)
	{
		if (st->pass_total < 0 && st->passes == 0)
			out->expect = (st->end_offset >= 0 ? Min(total, st->end_offset) : total) -
				st->start_offset;
		if (st->pass_total < 0)
			st->pass_total = total;
		else if (total != st->pass_total)
			st->moved = true;
	}

	/* the stream's last page: empty, short, or reaching total_count */
	if (n == 0 || n < limit || (total >= 0 && offset + limit >= total))
	{
		cancel_stream(pg, pending.stream);
		if (st->moved && st->end_offset < 0)
		{
			if (++st->passes >= RDS_MAX_PASSES)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("the task list kept changing while %s was read", pg->path),
						 errdetail("total_count changed during each of %d passes.", RDS_MAX_PASSES),
						 errhint("Run the query again, or narrow it with conditions on create_time."),
						 errcontext("foreign server \"%s\"", rds_conn_server_name(pg->conn))));
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

/*
 * rds_pager_destroy
 *		Cancels what is in flight and frees the pager.  Never throws.
 */
void
rds_pager_destroy(RdsPager *pg)
{
	if (pg == NULL)
		return;
	rds_pager_cancel(pg);
	MemoryContextDelete(pg->cxt);
}
