/*-------------------------------------------------------------------------
 *
 * gate.c
 *		  The request gate: what an API request passes before it goes on
 *		  the wire, for the cluster's sake.  The shared cache may answer
 *		  it; while another backend sends the identical request, it waits
 *		  for that answer; and it takes one of the server's request slots
 *		  (max_concurrent_requests).
 *
 * What the cache stores is the answer decoded: the page's image
 * (decode.c), made once when the answer arrives, so that no reader decodes
 * it again.  An answer that is no page of the API's is not stored.  A scan
 * that wants each task's raw JSON stores and reads images that hold it,
 * under a key of their own.
 *
 * Waiting is never blocking: the gate says when to look again, and the
 * client (client.c) waits like a retry's backoff, so that an asynchronous
 * Append keeps every other partition going.  The locks are shared.c's:
 * a slot is held for one exchange, a merge lock until the answer is stored
 * (or the request fails, when a waiting peer fetches itself).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "rds_http.h"

/* how often a request waiting for a peer's answer or a slot looks again */
#define RDS_GATE_POLL_MS		5

/* longest wait for another backend's identical request (then: fetch) */
#define RDS_MERGE_WAIT_MAX_S	30

/*
 * rds_gate_init
 *		The gate of a request for url: cached (an entry younger than
 *		cache_ttl may answer it if may_read) when cache_ttl > 0, as a page
 *		image with raw JSON if want_raw.  The image of an answer is made in
 *		CurrentMemoryContext.
 */
void
rds_gate_init(RdsGate *g, const RdsOptions *opts, const char *url,
			  int cache_ttl, bool may_read, bool want_raw)
{
	memset(g, 0, sizeof(RdsGate));
	g->slot = -1;
	g->wait_event = rds_wait_event(RDS_WAIT_BACKOFF);
	g->cxt = CurrentMemoryContext;
	g->want_raw = want_raw;
	if (cache_ttl > 0)
	{
		/* a newline is in no URL: the raw images' key can't be another's */
		g->ticket = rds_cache_ticket(opts->serverid, opts->umid,
									 want_raw ? psprintf("%s\nraw", url) : url);
		g->cache_ttl = cache_ttl;
		g->may_read = may_read;
		g->hit_body = makeStringInfo();
	}
}

/*
 * Whether the cache holds an answer for g: an entry younger than its ttl
 * that is a page image of this build's (not one a backend of another
 * version stored).
 */
static bool
cache_answers(RdsGate *g)
{
	return rds_cache_read(g->ticket, g->cache_ttl, g->hit_body) &&
		rds_page_image_ok(g->hit_body->data, g->hit_body->len);
}

/* the cache answered: no exchange */
static RdsGateResult
gate_hit(RdsGate *g, const RdsOptions *opts)
{
	g->hit = true;
	rds_cache_count(RDS_CACHE_HIT);
	rds_stats_count(opts->serverid, opts->server_name, RDS_STAT_CACHE_HIT);
	return RDS_GATE_HIT;
}

/*
 * rds_gate_pass
 *		Whether the request's next attempt may go on the wire now.  First
 *		(once) the shared cache: an entry answers the request
 *		(RDS_GATE_HIT, the body in g->hit_body); else its merge lock is
 *		taken, or, while another backend sends the identical request, the
 *		request waits for that answer, up to RDS_MERGE_WAIT_MAX_S (or
 *		request_timeout) before fetching itself.  Then a request slot when
 *		the server has max_concurrent_requests.  RDS_GATE_WAIT sets
 *		*retry_at to when to look again.  Throws if the shared files cannot
 *		be used.
 */
RdsGateResult
rds_gate_pass(RdsGate *g, const RdsOptions *opts, TimestampTz *retry_at)
{
	TimestampTz now = GetCurrentTimestamp();

	if (g->ticket != NULL && g->may_read && !g->locked && !g->merge_off)
	{
		RdsLockResult lr;

		if (cache_answers(g))
			return gate_hit(g, opts);
		lr = rds_cache_lock(g->ticket);
		if (lr == RDS_LOCK_TAKEN)
		{
			g->locked = true;
			/* the peer may have stored it between the read and the lock */
			if (cache_answers(g))
			{
				rds_gate_unlock(g);
				return gate_hit(g, opts);
			}
			rds_cache_count(RDS_CACHE_MISS);
		}
		else if (lr == RDS_LOCK_BUSY && (!g->merging || now < g->merge_until))
		{
			if (!g->merging)
			{
				g->merging = true;
				g->merge_until =
					TimestampTzPlusMilliseconds(now,
												Min(opts->request_timeout,
													RDS_MERGE_WAIT_MAX_S) * 1000L);
				rds_cache_count(RDS_CACHE_MERGED);
				rds_stats_count(opts->serverid, opts->server_name,
								RDS_STAT_MERGED);
			}
			g->wait_event = rds_wait_event(RDS_WAIT_PEER);
			*retry_at = TimestampTzPlusMilliseconds(now, RDS_GATE_POLL_MS);
			return RDS_GATE_WAIT;
		}
		else
		{
			/* this backend is fetching it, or the peer took too long */
			g->merge_off = true;
			rds_cache_count(RDS_CACHE_MISS);
		}
	}

	if (opts->max_concurrent_requests > 0 && g->slot < 0)
	{
		g->slot = rds_slot_acquire(opts->serverid, opts->max_concurrent_requests);
		if (g->slot < 0)
		{
			g->wait_event = rds_wait_event(RDS_WAIT_SLOT);
			*retry_at = TimestampTzPlusMilliseconds(now, RDS_GATE_POLL_MS);
			return RDS_GATE_WAIT;
		}
	}
	g->wait_event = rds_wait_event(RDS_WAIT_BACKOFF);
	return RDS_GATE_OPEN;
}

/*
 * rds_gate_exchange_over
 *		An exchange is over (answered, failed or dropped): its slot is free
 *		for the next one.  Never throws.
 */
void
rds_gate_exchange_over(RdsGate *g, Oid serverid)
{
	rds_slot_release(serverid, g->slot);
	g->slot = -1;
}

/*
 * rds_gate_answered
 *		The request's answer: its page image made (in the request's
 *		context, g->image) and stored for the cache's readers and the peers
 *		waiting for it.  A body that is no page is not stored (the reader
 *		decodes it and says why); a failure to store only means no entry.
 *		Throws only if out of memory.
 */
void
rds_gate_answered(RdsGate *g, const char *body, size_t len)
{
	if (g->ticket != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(g->cxt);

		g->image = rds_page_encode(body, len, g->want_raw, &g->image_size);
		MemoryContextSwitchTo(old);
		if (g->image != NULL)
			rds_cache_write(g->ticket, g->image, g->image_size);
	}
	rds_gate_unlock(g);
}

/*
 * rds_gate_unlock
 *		Releases the merge lock, if held: a waiting peer then reads the
 *		stored answer, or fetches itself.  Never throws.
 */
void
rds_gate_unlock(RdsGate *g)
{
	if (g->locked)
		rds_cache_unlock(g->ticket);
	g->locked = false;
}
