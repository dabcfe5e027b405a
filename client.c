/*-------------------------------------------------------------------------
 *
 * client.c
 *		  The RDS API client of rds_task_fdw: connections (options, host,
 *		  IAM token, transport), requests across their attempts, retries,
 *		  the token renewal after a 401.  What a failed exchange means
 *		  (retry or error, and the error's words) is outcome.c's.
 *
 * Calls go one way: this file asks auth.c for tokens and signatures and
 * http.c (the transport) for exchanges; auth.c uses only the transport; the
 * transport calls neither.  An RdsRequest is palloc'd in the caller's
 * memory context and registers a reset callback there, so an ERROR anywhere
 * leaves nothing on the multi handle and nothing malloc'd behind;
 * connection.c additionally detaches transfers at (sub)transaction abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "lib/ilist.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "rds_compat.h"
#include "rds_http.h"

/* attempts a request repeats for want of a socket before it fails */
#define RDS_MAX_FD_WAITS		20


static RdsRequest *request_create(RdsConn *conn, RdsRequestKind kind,
								  const char *method, const char *path,
								  const char *query);
static void request_guard_callback(void *arg);
static void request_run(RdsRequest *req);
static bool request_poll(RdsRequest *req);
static bool request_settle(RdsRequest *req);
static bool request_succeeded(RdsRequest *req);
static void start_attempt(RdsRequest *req);
static void drop_attempt(RdsRequest *req);
static bool token_ready(RdsConn *conn, bool wait);
static bool request_gate(RdsRequest *req);
static void settle_done(RdsConn *conn);
static bool needs_token(RdsRequest *req);
static void exchange_over(RdsRequest *req, const char *retry_reason,
						  long retry_in_ms);


/* ------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------
 */


/*
 * rds_append_query_param
 *		Appends "key=value" to a query string under construction, preceded by
 *		'&' unless buf is empty; both sides percent-encoded as the signature
 *		wants them (see rds_uri_encode).  A NULL value is sent as empty.
 */
void
rds_append_query_param(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		value = "";
	if (buf->len > 0)
		appendStringInfoChar(buf, '&');
	rds_uri_encode(buf, key, strlen(key));
	appendStringInfoChar(buf, '=');
	rds_uri_encode(buf, value, strlen(value));
}

/*
 * rds_request_start_cached
 *		Begins GET {endpoint}{path}?{query} on conn and returns at once; the
 *		transfer progresses whenever any request of conn is being driven.
 *		The request is palloc'd in CurrentMemoryContext and released with
 *		it.  With password authentication the first request of a connection
 *		(or one after the token nears expiry) starts the IAM token request
 *		instead; the attempt starts when the token is there (whoever drives
 *		the connection).  With cache_ttl > 0 the shared cache may hold the
 *		answer: an entry younger than cache_ttl answers it if may_read; if
 *		another backend is sending the identical request, this one waits
 *		for that answer (polled like a retry's backoff); a successful answer
 *		is stored as a page image (gate.c), with each task's raw JSON if
 *		want_raw.  Throws on failure to set up the transfer.
 */
RdsRequest *
rds_request_start_cached(RdsConn *conn, const char *path, const char *query,
						 int cache_ttl, bool may_read, bool want_raw)
{
	RdsRequest *req;

	req = request_create(conn, RDS_REQUEST_API, "GET", path, query);
	rds_gate_init(&req->gate, &conn->opts, req->url, cache_ttl, may_read,
				  want_raw);
	/* without a token yet, the attempt starts once it is there */
	if (!needs_token(req) || token_ready(conn, false))
		start_attempt(req);
	return req;
}

/*
 * rds_request_finish
 *		Drives conn until this request has succeeded (HTTP 200), retrying
 *		per the connection's max_retries, and appends the answer to body
 *		(allocated in body's context).  Other requests of the connection
 *		progress meanwhile.  Adds to *stats (may be NULL).  Returns what
 *		body holds: the response body, or with cache_ttl the page image
 *		made of it, or the shared cache's page image (not an answer of this
 *		request: messages about it must say so).  The request is released
 *		afterwards, also when this throws: any failure is an ERROR.
 */
RdsAnswer
rds_request_finish(RdsRequest *req, StringInfo body, RdsHttpStats *stats)
{
	const RdsResponse *resp;
	volatile RdsAnswer answer = RDS_ANSWER_BODY;

	if (req->released)
		elog(ERROR, "RDS API request was already finished or cancelled");

	PG_TRY();
	{
		request_run(req);
		if (req->gate.hit)
		{
			answer = RDS_ANSWER_CACHED;
			if (body != NULL)
				appendBinaryStringInfo(body, req->gate.hit_body->data,
									   req->gate.hit_body->len);
		}
		else if (req->gate.image != NULL)
		{
			answer = RDS_ANSWER_IMAGE;
			if (body != NULL)
				appendBinaryStringInfo(body, req->gate.image,
									   (int) req->gate.image_size);
		}
		else
		{
			resp = rds_transfer_response(req->xfer);
			if (body != NULL && resp->body_len > 0)
				appendBinaryStringInfo(body, resp->body, (int) resp->body_len);
		}
	}
	PG_FINALLY();
	{
		if (stats != NULL)
		{
			stats->requests += req->stats.requests;
			stats->retries += req->stats.retries;
			stats->bytes += req->stats.bytes;
			stats->cache_hits += req->gate.hit ? 1 : 0;
			stats->merged += req->gate.merging ? 1 : 0;
		}
		rds_request_release(req);
	}
	PG_END_TRY();
	return answer;
}

/*
 * rds_request_cancel
 *		Stops the request (if still in flight) and releases it.  Idempotent;
 *		accepts NULL.  Never throws.
 */
void
rds_request_cancel(RdsRequest *req)
{
	if (req != NULL && !req->released)
		rds_request_release(req);
}

/*
 * rds_request_poll
 *		Lets the transfers of req's connection progress without waiting,
 *		and takes req through its attempts as rds_request_finish would: a
 *		transient failure waits out its backoff (or Retry-After) here,
 *		across calls, instead of in a sleep, and the next attempt starts
 *		once the time has come.  Returns true once req has its final
 *		outcome (success, or the failure rds_request_finish reports), so
 *		that rds_request_finish will not wait on the network.  Throws if an
 *		attempt cannot be started or libcurl itself fails.
 */
bool
rds_request_poll(RdsRequest *req)
{
	bool		done = request_poll(req);

	/* back to PostgreSQL: what req and its peers hold is lent if it waits */
	rds_locks_driving(false);
	return done;
}

/* rds_request_poll's work */
static bool
request_poll(RdsRequest *req)
{
	for (;;)
	{
		if (req->released || req->conn == NULL || req->gate.hit)
			return true;
		if (req->xfer == NULL)
		{
			if (req->retry_at != 0 && GetCurrentTimestamp() < req->retry_at)
			{
				/* in backoff: keep the connection's other transfers going */
				(void) rds_transport_poll(req->conn->transport, NULL);
				settle_done(req->conn);
				return false;
			}
			if (needs_token(req) && !token_ready(req->conn, false))
				return false;
			start_attempt(req);
			if (req->gate.hit)
				return true;
		}
		if (req->settled)
			return true;
		if (!rds_transport_poll(req->conn->transport, req->xfer))
			return false;
		if (request_settle(req))
			return true;
	}
}

/*
 * rds_conn_wait_fd
 *		The descriptor (the backend's one, owned by the transport: never
 *		closed by the caller) that becomes readable when a transfer of any
 *		connection has network activity, and at least every 100 ms so that
 *		timeouts and interrupts are served: for PostgreSQL's asynchronous
 *		Append.  -1 where the platform has no epoll.
 */
int
rds_conn_wait_fd(RdsConn *conn)
{
	return rds_transport_wait_fd(conn->transport);
}

/*
 * rds_conn_server_name
 *		The name of conn's foreign server, for messages.
 */
const char *
rds_conn_server_name(RdsConn *conn)
{
	return conn->opts.server_name ? conn->opts.server_name : "?";
}

/*
 * rds_conn_server_id
 *		The OID of conn's foreign server, for its statistics.
 */
Oid
rds_conn_server_id(RdsConn *conn)
{
	return conn->opts.serverid;
}

/*
 * rds_conn_wait_epoch
 *		Changes whenever a transfer of conn completes or the wait
 *		descriptor's timer ticks: while it stays the same, a scan of conn
 *		that had to wait still has to.  Never throws.
 */
uint64
rds_conn_wait_epoch(RdsConn *conn)
{
	return rds_transport_epoch(conn->transport);
}

/*
 * rds_wait_fd_wake
 *		Makes the wait descriptor readable at once: a scan has rows to give
 *		without the network.  Never throws.
 */
void
rds_wait_fd_wake(void)
{
	rds_transport_wake();
}

/* ------------------------------------------------------------------------
 * Connections (the cache itself is connection.c's)
 * ------------------------------------------------------------------------
 */

static char *
conn_strdup(RdsConn *conn, const char *s)
{
	return s ? MemoryContextStrdup(conn->cxt, s) : NULL;
}

static void
wipe_option(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
}

/*
 * copy_options
 *		Copies opts into conn's context.  The string pointers are cleared
 *		first, so that a failure half-way never leaves conn pointing at (and
 *		later wiping) the caller's strings.
 */
static void
copy_options(RdsConn *conn, const RdsOptions *opts)
{
	RdsOptions *o = &conn->opts;

	*o = *opts;
	o->server_name = NULL;
	o->endpoint = o->project_id = o->region = o->auth_url = o->ca_file = NULL;
	o->proxy = NULL;
	o->auth_token = o->user_name = o->password = o->domain_name = NULL;
	o->access_key = o->secret_key = o->security_token = NULL;

	o->server_name = conn_strdup(conn, opts->server_name);
	o->endpoint = conn_strdup(conn, opts->endpoint);
	o->project_id = conn_strdup(conn, opts->project_id);
	o->region = conn_strdup(conn, opts->region);
	o->auth_url = conn_strdup(conn, opts->auth_url);
	o->ca_file = conn_strdup(conn, opts->ca_file);
	o->proxy = conn_strdup(conn, opts->proxy);
	o->auth_token = conn_strdup(conn, opts->auth_token);
	o->user_name = conn_strdup(conn, opts->user_name);
	o->password = conn_strdup(conn, opts->password);
	o->domain_name = conn_strdup(conn, opts->domain_name);
	o->access_key = conn_strdup(conn, opts->access_key);
	o->secret_key = conn_strdup(conn, opts->secret_key);
	o->security_token = conn_strdup(conn, opts->security_token);
}

/*
 * rds_conn_create
 *		A new connection for opts in a memory context of its own under
 *		parent.  Initializes libcurl on first use.  Throws if libcurl cannot
 *		be set up or the endpoint cannot be parsed; nothing is left behind.
 */
RdsConn *
rds_conn_create(const RdsOptions *opts, MemoryContext parent)
{
	MemoryContext cxt;
	RdsConn    *conn;

	cxt = AllocSetContextCreate(parent, "rds_task_fdw connection",
								ALLOCSET_SMALL_SIZES);
	conn = MemoryContextAllocZero(cxt, sizeof(RdsConn));
	conn->cxt = cxt;
	dlist_init(&conn->requests);

	PG_TRY();
	{
		char	   *host;
		char	   *base_path;
		char	   *query;

		copy_options(conn, opts);
		rds_split_url(conn->opts.endpoint, &host, &base_path, &query);
		conn->host = conn_strdup(conn, host);
		conn->base_path = conn_strdup(conn, base_path);
		conn->auth = rds_auth_create(cxt);
		conn->transport = rds_transport_create(conn->opts.ca_file,
											   conn->opts.proxy,
											   conn->opts.connect_timeout,
											   conn->opts.request_timeout,
											   cxt);
	}
	PG_CATCH();
	{
		rds_conn_destroy(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return conn;
}

/*
 * rds_conn_destroy
 *		Stops every transfer of conn, detaches its live requests (their
 *		finish then throws), frees the libcurl handles, wipes the secrets and
 *		deletes the connection's memory context.  Never throws.
 */
void
rds_conn_destroy(RdsConn *conn)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &conn->requests)
	{
		RdsRequest *req = dlist_container(RdsRequest, node, iter.cur);

		drop_attempt(req);
		dlist_delete(&req->node);
		req->conn = NULL;
	}

	if (conn->transport != NULL)
		rds_transport_destroy(conn->transport);

	rds_auth_clear(conn->auth);
	wipe_option(conn->opts.auth_token);
	wipe_option(conn->opts.password);
	wipe_option(conn->opts.access_key);
	wipe_option(conn->opts.secret_key);
	wipe_option(conn->opts.security_token);

	MemoryContextDelete(conn->cxt);
}

/*
 * rds_conn_abort_requests
 *		Stops the transfers started at transaction nest level nestlevel or
 *		deeper (0: all), leaving the multi handle clean.  Their requests
 *		stay live: finishing one starts it again.  Never throws.
 */
void
rds_conn_abort_requests(RdsConn *conn, int nestlevel)
{
	dlist_iter	iter;

	dlist_foreach(iter, &conn->requests)
	{
		RdsRequest *req = dlist_container(RdsRequest, node, iter.cur);

		if (req->xfer != NULL && req->nestlevel >= nestlevel)
			drop_attempt(req);
	}
}

/* ------------------------------------------------------------------------
 * Requests and their transfers
 * ------------------------------------------------------------------------
 */

/*
 * request_create
 *		A live request of conn in CurrentMemoryContext, not started.
 */
static RdsRequest *
request_create(RdsConn *conn, RdsRequestKind kind, const char *method,
			   const char *path, const char *query)
{
	RdsRequest *req;
	RdsRequestGuard *guard;

	req = palloc0(sizeof(RdsRequest));
	guard = palloc0(sizeof(RdsRequestGuard));

	req->kind = kind;
	req->method = method;
	req->path = pstrdup(path);
	req->query = rds_normalize_query(query);
	if (kind == RDS_REQUEST_API)
	{
		req->sign_path = psprintf("%s%s", conn->base_path, path);
		req->url = psprintf("%s%s%s%s", conn->opts.endpoint, path,
							req->query[0] ? "?" : "", req->query);
	}
	else
	{
		req->sign_path = req->path;
		req->url = psprintf("%s%s%s%s", conn->opts.auth_url, path,
							req->query[0] ? "?" : "", req->query);
	}

	rds_gate_init(&req->gate, &conn->opts, req->url, 0, false, false);

	/* from here on the request is tracked and cleaned up with its context */
	guard->req = req;
	guard->callback.func = request_guard_callback;
	guard->callback.arg = guard;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &guard->callback);
	req->guard = guard;
	req->conn = conn;
	dlist_push_tail(&conn->requests, &req->node);

	return req;
}

/*
 * rds_request_release
 *		Stops the current transfer, if any, and unlinks the request from its
 *		connection.  Never throws.
 */
void
rds_request_release(RdsRequest *req)
{
	if (req->conn != NULL)
	{
		drop_attempt(req);
		dlist_delete(&req->node);
		req->conn = NULL;
	}
	rds_gate_unlock(&req->gate);
	req->xfer = NULL;
	if (req->guard != NULL)
	{
		req->guard->req = NULL;
		req->guard = NULL;
	}
	req->released = true;
}

/* Memory context reset callback: the request's context is going away. */
static void
request_guard_callback(void *arg)
{
	RdsRequestGuard *guard = (RdsRequestGuard *) arg;

	if (guard->req != NULL)
		rds_request_release(guard->req);
}

/*
 * request_run
 *		Runs req to its final outcome, starting attempts as needed (see
 *		request_settle), waiting out the delay before each retry while the
 *		connection's other transfers progress.  On return req->xfer holds a
 *		successful answer (200 for the API, 201 for IAM); any other outcome
 *		throws (see rds_failure_of).
 */
static void
request_run(RdsRequest *req)
{
	for (;;)
	{
		RdsConn    *conn = req->conn;
		RdsFailure *failure;

		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("RDS API request %s %s failed: the connection was closed",
							req->method, req->path)));

		if (req->gate.hit)
			break;
		if (req->xfer == NULL)
		{
			if (req->retry_at != 0)
			{
				long		delay = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																	req->retry_at);

				if (delay > 0)
				{
					rds_locks_driving(true);
					rds_transport_sleep(conn->transport, delay,
										req->gate.wait_event);
					rds_locks_driving(false);
				}
				settle_done(conn);
			}
			start_attempt(req);
			if (req->xfer == NULL)
				continue;		/* answered by the cache, or still waiting */
		}
		if (!req->settled)
		{
			rds_locks_driving(true);
			rds_transport_wait(conn->transport, req->xfer);
			rds_locks_driving(false);
			if (!request_settle(req))
				continue;
		}
		if (request_succeeded(req))
			break;
		failure = rds_failure_of(req);
		rds_request_release(req);
		rds_failure_throw(failure);
	}
}

/*
 * request_succeeded
 *		Whether req's settled attempt brought the expected answer.
 */
static bool
request_succeeded(RdsRequest *req)
{
	const RdsResponse *resp = rds_transfer_response(req->xfer);
	long		expected = (req->kind == RDS_REQUEST_IAM) ? 201 : 200;

	return !resp->failed && !resp->too_large && resp->status == expected;
}

/*
 * request_settle
 *		Judges req's complete current attempt.  Returns true if it is the
 *		final outcome (success, or a failure to report): req->settled is set
 *		and the attempt kept.  Otherwise the attempt is dropped and the next
 *		one scheduled in req->retry_at: at once after a 401 with password
 *		authentication (the token is renewed, once), after the backoff or
 *		Retry-After for a transient failure within max_retries.  Never
 *		throws.
 */
static bool
request_settle(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	const RdsResponse *resp = rds_transfer_response(req->xfer);

	req->stats.requests++;
	req->stats.bytes += resp->body_len;
	rds_gate_exchange_over(&req->gate, conn->opts.serverid);

	if (request_succeeded(req))
	{
		exchange_over(req, NULL, 0);
		req->settled = true;
		rds_gate_answered(&req->gate, resp->body, resp->body_len);
		return true;
	}

	/* an expired or revoked IAM token: renew it and repeat, once */
	if (req->kind == RDS_REQUEST_API && !resp->failed &&
		resp->status == 401 &&
		conn->opts.auth_method == RDS_AUTH_PASSWORD && !req->renewed)
	{
		exchange_over(req, "HTTP 401: the IAM token is renewed", 0);
		req->renewed = true;
		rds_auth_forget_token(conn->auth, req->token_generation);
		drop_attempt(req);
		req->stats.retries++;
		req->retry_at = 0;
		return false;
	}

	/*
	 * No descriptor was left for a socket, but the connection has sockets
	 * of its own (and now no more connections than those): the next attempt
	 * waits for one of them.  If it has none, idle connections of other
	 * servers are closed to make room.  Not a failure of the API: no
	 * backoff, and max_retries is not spent.
	 */
	if (rds_transfer_no_fd(req->xfer) != 0 && req->fd_waits < RDS_MAX_FD_WAITS &&
		(rds_transfer_no_fd(req->xfer) == 1 || rds_transport_drop_idle() > 0))
	{
		drop_attempt(req);
		req->fd_waits++;
		req->retry_at = 0;
		return false;
	}

	if (rds_is_transient(req->xfer) && !rds_transfer_no_fd(req->xfer) &&
		req->retries < conn->opts.max_retries)
	{
		long		delay = rds_retry_delay_ms(req);

		exchange_over(req, rds_retry_reason(req->xfer), delay);
		drop_attempt(req);
		req->retries++;
		req->stats.retries++;
		req->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);
		return false;
	}

	exchange_over(req, NULL, 0);
	req->settled = true;
	rds_gate_unlock(&req->gate);	/* a waiting peer now fetches itself */
	return true;
}

/*
 * exchange_over
 *		Counts req's complete current attempt in the server's figures and
 *		logs it per rds_task_fdw.log_requests (stats.c); retry_reason says
 *		why it is repeated after retry_in_ms (NULL: it is not).  Never
 *		throws but out of memory.
 */
static void
exchange_over(RdsRequest *req, const char *retry_reason, long retry_in_ms)
{
	const RdsResponse *resp = rds_transfer_response(req->xfer);
	RdsExchange x;

	x.serverid = req->conn->opts.serverid;
	x.server = rds_conn_server_name(req->conn);
	x.method = req->method;
	x.path = req->sign_path;
	if (req->kind == RDS_REQUEST_IAM)
	{
		char	   *host;
		char	   *prefix;
		char	   *query;

		/* the path as on the wire: auth_url's path, then the request's */
		rds_split_url(req->url, &host, &prefix, &query);
		x.path = prefix;
	}
	x.query = req->query;
	x.status = resp->status;
	x.failure = resp->failed ? rds_transfer_failure(req->xfer) : NULL;
	x.ms = resp->total_ms;
	x.bytes = resp->body_len;
	x.attempt = req->attempts;
	x.retry_reason = retry_reason;
	x.retry_in_ms = retry_in_ms;
	rds_stats_exchange(&x);
}

/*
 * start_attempt
 *		Starts one exchange of req (unless one is running): fetches an IAM
 *		token first if needed, waiting for it, takes an easy handle, sets it
 *		up with fresh authentication headers and adds it to the multi
 *		handle.  Throws on failure; whatever was
 *		allocated is owned by req->xfer by then.
 */
static void
start_attempt(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	RdsTransfer *xfer;

	if (req->gate.hit)
		return;
	if (needs_token(req))
	{
		/*
		 * Fetching the token starts the requests that waited for it, req
		 * too: it may have been answered (by the cache) or started by now.
		 */
		(void) token_ready(conn, true);
		if (req->gate.hit)
			return;
	}
	if (req->xfer != NULL)
		return;
	if (!request_gate(req))
		return;

	xfer = rds_transfer_create(req->kind == RDS_REQUEST_IAM);
	req->xfer = xfer;
	req->settled = false;
	req->retry_at = 0;
	req->nestlevel = GetCurrentTransactionNestLevel();
	req->token_generation = 0;

	rds_slist_append(rds_transfer_headers(xfer), "Accept: application/json");

	if (req->kind == RDS_REQUEST_IAM)
	{
		char	   *body = rds_auth_iam_body(&conn->opts);
		size_t		len = strlen(body);

		bool		copied = rds_transfer_set_post(xfer, body, len);

		explicit_bzero(body, len);
		pfree(body);
		if (!copied)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));

		rds_slist_append(rds_transfer_headers(xfer),
						 "Content-Type: application/json;charset=utf8");
		rds_slist_append(rds_transfer_headers(xfer), "Expect:");
	}
	else
		req->token_generation =
			rds_auth_add_headers(&conn->opts, conn->auth, conn->host,
								 req->method, req->sign_path, req->query,
								 rds_transfer_headers(xfer));

	rds_transfer_start(conn->transport, xfer, req->url, req->method,
					   req->path);
	req->attempts++;
	rds_stats_count(conn->opts.serverid, rds_conn_server_name(conn),
					RDS_STAT_REQUEST);
}

/*
 * drop_attempt
 *		Stops and frees req's current attempt, if any.  Never throws.
 */
static void
drop_attempt(RdsRequest *req)
{
	if (req->xfer != NULL && req->conn != NULL)
		rds_transfer_free(req->conn->transport, req->xfer);
	if (req->conn != NULL)
		rds_gate_exchange_over(&req->gate, req->conn->opts.serverid);
	req->xfer = NULL;
	req->settled = false;
}

/*
 * request_gate
 *		Whether req's next attempt may go on the wire now (gate.c).  When
 *		the cache answered it, req is settled and false returned; while it
 *		must wait, false with req->retry_at set to when to look again.
 *		Throws if the shared files cannot be used.
 */
static bool
request_gate(RdsRequest *req)
{
	if (req->kind != RDS_REQUEST_API)
		return true;
	switch (rds_gate_pass(&req->gate, &req->conn->opts, &req->retry_at))
	{
		case RDS_GATE_OPEN:
			return true;
		case RDS_GATE_HIT:
			req->settled = true;
			req->retry_at = 0;
			return false;
		case RDS_GATE_WAIT:
			break;
	}
	return false;
}

/*
 * settle_done
 *		Settles every request of conn whose transfer has completed, so that
 *		the request slots and merge locks they hold are released now, not
 *		when their scan gets round to reading them: a request waiting for a
 *		slot must never wait for one that a completed transfer of its own
 *		backend holds (nor make a peer wait for it).  Throws only if libcurl
 *		itself fails.
 */
static void
settle_done(RdsConn *conn)
{
	dlist_iter	iter;

	dlist_foreach(iter, &conn->requests)
	{
		RdsRequest *r = dlist_container(RdsRequest, node, iter.cur);

		if (r->kind == RDS_REQUEST_API && r->xfer != NULL && !r->settled &&
			rds_transport_poll(conn->transport, r->xfer))
			(void) request_settle(r);
	}
}

/* ------------------------------------------------------------------------
 * IAM token
 * ------------------------------------------------------------------------
 */

/*
 * needs_token
 *		Whether req's next attempt needs an IAM token that conn lacks.
 */
static bool
needs_token(RdsRequest *req)
{
	return req->kind == RDS_REQUEST_API &&
		req->conn->opts.auth_method == RDS_AUTH_PASSWORD &&
		rds_auth_need_token(req->conn->auth);
}

/*
 * token_ready
 *		Makes sure conn holds a usable IAM token: if it has none, or it is
 *		about to expire, the IAM request is started (one per connection, in
 *		conn->token_cxt) and driven.  With wait, returns true once the token
 *		is there; without, returns false while the IAM request is still
 *		under way, so that other transfers and partitions are not held up.
 *		When the token arrives, the API requests of conn that were waiting
 *		for it start.  Throws if IAM does not give a token.
 */
static bool
token_ready(RdsConn *conn, bool wait)
{
	RdsRequest *req;
	const RdsResponse *resp;
	dlist_iter	iter;

	if (!rds_auth_need_token(conn->auth))
		return true;

	if (conn->token_req == NULL)
	{
		MemoryContext oldcxt;

		if (conn->token_cxt == NULL)
			conn->token_cxt = AllocSetContextCreate(conn->cxt,
													"rds_task_fdw IAM request",
													ALLOCSET_SMALL_SIZES);
		oldcxt = MemoryContextSwitchTo(conn->token_cxt);
		conn->token_req = request_create(conn, RDS_REQUEST_IAM, "POST",
										 "/auth/tokens", "nocatalog=true");
		MemoryContextSwitchTo(oldcxt);
	}
	req = conn->token_req;
	if (!wait && !rds_request_poll(req))
		return false;

	PG_TRY();
	{
		request_run(req);
		resp = rds_transfer_response(req->xfer);
		if (resp->subject_token == NULL || resp->subject_token[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("could not obtain an IAM token for user \"%s\": the response has no X-Subject-Token header",
							conn->opts.user_name ? conn->opts.user_name : ""),
					 errcontext("foreign server \"%s\"",
								conn->opts.server_name ? conn->opts.server_name : "?")));
		rds_auth_set_token(conn->auth, resp->subject_token, resp->body,
						   resp->body_len);
	}
	PG_FINALLY();
	{
		/* a failed token request is started afresh by the next caller */
		conn->token_req = NULL;
		MemoryContextReset(conn->token_cxt);	/* releases req */
	}
	PG_END_TRY();

	/* the requests that waited for the token */
	dlist_foreach(iter, &conn->requests)
	{
		RdsRequest *r = dlist_container(RdsRequest, node, iter.cur);

		if (r->kind == RDS_REQUEST_API && r->xfer == NULL && !r->gate.hit &&
			r->retry_at == 0 && r->attempts == 0)
			start_attempt(r);
	}
	return true;
}
