/*-------------------------------------------------------------------------
 *
 * client.c
 *		  The RDS API client of rds_task_fdw: connections (options, host,
 *		  IAM token, transport), requests across their attempts, retries
 *		  with backoff and Retry-After, the token renewal after a 401, and
 *		  the mapping of HTTP and transport failures to errors.
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
#include "mb/pg_wchar.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "rds_compat.h"
#include "rds_http.h"

/*
 * Exponential backoff with "equal jitter": before retry n + 1 (n = 0, 1, ...)
 * the wait is d/2 + random(0, d/2), d = min(cap, base * 2^n).  A 429 is a
 * throttle, whose limits here are per minute: its base makes the first wait
 * at least 1 s.  5xx, timeouts and broken connections are hiccups: a shorter
 * base.  The wait never exceeds request_timeout; statement_timeout and query
 * cancel end any wait (rds_transport_sleep serves interrupts).
 */
#define RDS_BACKOFF_THROTTLE_BASE_MS	2000
#define RDS_BACKOFF_BASE_MS		500
#define RDS_BACKOFF_CAP_MS		30000

/* a Retry-After is honoured up to this long */
#define RDS_RETRY_AFTER_MAX_MS	60000

/* attempts a request repeats for want of a socket before it fails */
#define RDS_MAX_FD_WAITS		20

/* bytes of remote error code/message text shown */
#define RDS_REMOTE_TEXT_MAX		500

/*
 * One connection: private copies of the options, the IAM token, the
 * transport and the live requests.  Allocated in its own memory context
 * (cxt), which connection.c creates under its long-lived context and which
 * rds_conn_destroy deletes after wiping the secrets.
 */
struct RdsConn
{
	MemoryContext cxt;
	RdsOptions	opts;			/* copy; only server and user mapping fields
								 * are used */
	char	   *host;			/* Host header value of the endpoint */
	char	   *base_path;		/* path prefix of the endpoint, "" if none */
	RdsAuthState *auth;			/* IAM token (password authentication) */
	RdsTransport *transport;	/* libcurl handles; NULL until created */

	dlist_head	requests;		/* live (unreleased) RdsRequests */

	/* the IAM token request in flight, in a context of its own, or NULL */
	struct RdsRequest *token_req;
	MemoryContext token_cxt;
};

typedef enum RdsRequestKind
{
	RDS_REQUEST_API,			/* GET on the RDS API */
	RDS_REQUEST_IAM				/* POST of the IAM token request */
} RdsRequestKind;

typedef struct RdsRequestGuard RdsRequestGuard;

/*
 * One request, across its attempts.  palloc'd in the caller's context; the
 * guard's reset callback releases it if the context goes away first.
 */
struct RdsRequest
{
	dlist_node	node;			/* in conn->requests while conn is set */
	RdsConn    *conn;			/* NULL once released or the connection was
								 * dropped */
	RdsTransfer *xfer;			/* current attempt, NULL between attempts */
	int			nestlevel;		/* transaction nest level that started it */
	uint64		token_generation;	/* IAM token it carries, 0 if none */
	RdsRequestGuard *guard;
	RdsRequestKind kind;
	const char *method;
	char	   *url;			/* exactly what goes on the wire */
	char	   *path;			/* the caller's path, for messages */
	char	   *sign_path;		/* endpoint prefix + path, as on the wire */
	char	   *query;			/* wire query, canonically encoded */
	int			attempts;		/* exchanges started */
	int			retries;		/* attempts repeated after a transient
								 * failure */
	int			fd_waits;		/* attempts repeated for want of a socket */
	bool		renewed;		/* a 401 already led to a new token */
	bool		settled;		/* the current attempt's outcome is counted
								 * and final: success or an error to report */
	TimestampTz retry_at;		/* between attempts: when the next may start */
	RdsHttpStats stats;			/* exchanges of this request so far, added to
								 * the caller's stats by rds_request_finish */
	bool		released;

	/* the shared cache and the cluster-wide limits (gate.c) */
	RdsGate		gate;
};

/*
 * Kept apart from the request so that a caller may pfree a finished
 * request: the reset callback then finds guard->req == NULL.
 */
struct RdsRequestGuard
{
	MemoryContextCallback callback;
	RdsRequest *req;
};

static RdsRequest *request_create(RdsConn *conn, RdsRequestKind kind,
								  const char *method, const char *path,
								  const char *query);
static void request_release(RdsRequest *req);
static void request_guard_callback(void *arg);
static void request_run(RdsRequest *req);
static bool request_poll(RdsRequest *req);
static bool request_settle(RdsRequest *req);
static bool request_succeeded(RdsRequest *req);
static void start_attempt(RdsRequest *req);
static void drop_attempt(RdsRequest *req);
static bool is_transient(const RdsTransfer *xfer);
static long retry_delay_ms(const RdsRequest *req);
static int	outcome_sqlstate(const RdsTransfer *xfer);
RDS_NORETURN static void report_failure(RdsRequest *req) RDS_NORETURN_ATTR;
static char *failure_hint(RdsConn *conn, const RdsTransfer *xfer, bool iam);
static char *printable_text(const char *data, size_t len, size_t max);
static bool token_ready(RdsConn *conn, bool wait);
static bool request_gate(RdsRequest *req);
static void settle_done(RdsConn *conn);
static bool needs_token(RdsRequest *req);


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
 * rds_request_start
 *		Begins GET {endpoint}{path}?{query} on conn and returns at once; the
 *		transfer progresses whenever any request of conn is being driven.
 *		The request is palloc'd in CurrentMemoryContext and released with
 *		it.  With password authentication the first request of a connection
 *		(or one after the token nears expiry) starts the IAM token request
 *		instead; the attempt starts when the token is there (whoever drives
 *		the connection).  Throws on failure to set up the transfer.
 */
RdsRequest *
rds_request_start(RdsConn *conn, const char *path, const char *query)
{
	RdsRequest *req;

	req = request_create(conn, RDS_REQUEST_API, "GET", path, query);
	/* without a token yet, the attempt starts once it is there */
	if (!needs_token(req) || token_ready(conn, false))
		start_attempt(req);
	return req;
}

/*
 * rds_request_start_cached
 *		rds_request_start for a request whose answer the shared cache may
 *		hold (cache_ttl > 0; else the same as rds_request_start): an entry
 *		younger than cache_ttl answers it if may_read; if another backend is
 *		sending the identical request, this one waits for that answer
 *		(polled like a retry's backoff); a successful answer is stored.
 */
RdsRequest *
rds_request_start_cached(RdsConn *conn, const char *path, const char *query,
						 int cache_ttl, bool may_read)
{
	RdsRequest *req;

	req = request_create(conn, RDS_REQUEST_API, "GET", path, query);
	rds_gate_init(&req->gate, &conn->opts, req->url, cache_ttl, may_read);
	if (!needs_token(req) || token_ready(conn, false))
		start_attempt(req);
	return req;
}

/*
 * rds_request_finish
 *		Drives conn until this request has succeeded (HTTP 200), retrying
 *		per the connection's max_retries, and appends the body to body
 *		(allocated in body's context).  Other requests of the connection
 *		progress meanwhile.  Adds to *stats (may be NULL).  Returns true if
 *		the body is the shared cache's copy, not an answer of this request
 *		(messages about the body must say so).  The request is released
 *		afterwards, also when this throws: any failure is an ERROR.
 */
bool
rds_request_finish(RdsRequest *req, StringInfo body, RdsHttpStats *stats)
{
	const RdsResponse *resp;
	volatile bool hit = false;

	if (req->released)
		elog(ERROR, "RDS API request was already finished or cancelled");

	PG_TRY();
	{
		request_run(req);
		hit = req->gate.hit;
		if (hit)
		{
			if (body != NULL)
				appendBinaryStringInfo(body, req->gate.hit_body->data,
									   req->gate.hit_body->len);
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
		request_release(req);
	}
	PG_END_TRY();
	return hit;
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
		request_release(req);
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

	rds_gate_init(&req->gate, &conn->opts, req->url, 0, false);

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
 * request_release
 *		Stops the current transfer, if any, and unlinks the request from its
 *		connection.  Never throws.
 */
static void
request_release(RdsRequest *req)
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
		request_release(guard->req);
}

/*
 * request_run
 *		Runs req to its final outcome, starting attempts as needed (see
 *		request_settle), waiting out the delay before each retry while the
 *		connection's other transfers progress.  On return req->xfer holds a
 *		successful answer (200 for the API, 201 for IAM); any other outcome
 *		throws (see report_failure).
 */
static void
request_run(RdsRequest *req)
{
	for (;;)
	{
		RdsConn    *conn = req->conn;

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
		report_failure(req);
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
		req->settled = true;
		rds_gate_answered(&req->gate, resp->body, resp->body_len);
		return true;
	}

	/* an expired or revoked IAM token: renew it and repeat, once */
	if (req->kind == RDS_REQUEST_API && !resp->failed &&
		resp->status == 401 &&
		conn->opts.auth_method == RDS_AUTH_PASSWORD && !req->renewed)
	{
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

	if (is_transient(req->xfer) && !rds_transfer_no_fd(req->xfer) &&
		req->retries < conn->opts.max_retries)
	{
		long		delay = retry_delay_ms(req);

		drop_attempt(req);
		req->retries++;
		req->stats.retries++;
		req->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);
		return false;
	}

	req->settled = true;
	rds_gate_unlock(&req->gate);	/* a waiting peer now fetches itself */
	return true;
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
 * Outcomes: retries and errors
 * ------------------------------------------------------------------------
 */

/*
 * is_transient
 *		Whether a failed exchange may be retried: HTTP 429, 500, 502, 503,
 *		504, timeouts and dropped or refused connections.  A failed name
 *		lookup is not: it will not resolve on the next try either.
 */
static bool
is_transient(const RdsTransfer *xfer)
{
	const RdsResponse *resp = rds_transfer_response(xfer);

	if (resp->too_large || resp->out_of_memory)
		return false;
	if (resp->failed)
		return rds_transfer_retryable(xfer);

	switch (resp->status)
	{
		case 429:
		case 500:
		case 502:
		case 503:
		case 504:
			return true;
		default:
			return false;
	}
}

/*
 * retry_delay_ms
 *		The wait before retry number req->retries + 1 after req's failed
 *		current attempt: the server's Retry-After (delta-seconds or an HTTP
 *		date, capped at RDS_RETRY_AFTER_MAX_MS) if it sent a usable one,
 *		else the exponential backoff with jitter described at
 *		RDS_BACKOFF_THROTTLE_BASE_MS, never longer than the connection's
 *		request_timeout.  Never throws.
 */
static long
retry_delay_ms(const RdsRequest *req)
{
	const RdsResponse *resp = rds_transfer_response(req->xfer);
	const char *ra = resp->retry_after;
	int			retries = req->retries;
	long		base;
	long		d;
	long		delay;

	if (ra[0] != '\0')
	{
		long		ms = -1;

		if (strspn(ra, "0123456789") == strlen(ra))
		{
			if (strlen(ra) <= 6)
				ms = atol(ra) * 1000;
			else
				ms = RDS_RETRY_AFTER_MAX_MS;
		}
		else
		{
			time_t		when = rds_http_date(ra);

			if (when != (time_t) -1)
			{
				time_t		now = time(NULL);

				if (when <= now)
					ms = 0;
				else if (when - now > RDS_RETRY_AFTER_MAX_MS / 1000)
					ms = RDS_RETRY_AFTER_MAX_MS;
				else
					ms = (long) (when - now) * 1000;
			}
		}
		if (ms >= 0)
			return Min(ms, RDS_RETRY_AFTER_MAX_MS);
	}

	base = (!resp->failed && resp->status == 429) ?
		RDS_BACKOFF_THROTTLE_BASE_MS : RDS_BACKOFF_BASE_MS;
	d = (retries >= 16) ? RDS_BACKOFF_CAP_MS :
		Min(base << retries, RDS_BACKOFF_CAP_MS);
	delay = d / 2 + (long) (rds_random_fraction() * (d / 2));

	return Min(delay, (long) req->conn->opts.request_timeout * 1000);
}

/*
 * outcome_sqlstate
 *		The SQLSTATE of a failed exchange: the one place that maps HTTP
 *		statuses and transport failures to error codes.
 */
static int
outcome_sqlstate(const RdsTransfer *xfer)
{
	const RdsResponse *resp = rds_transfer_response(xfer);

	if (resp->too_large)
		return ERRCODE_FDW_REPLY_HANDLE;
	if (resp->out_of_memory)
		return ERRCODE_OUT_OF_MEMORY;
	if (resp->failed)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;

	if (resp->status == 401 || resp->status == 403)
		return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
	if (resp->status == 404)
		return ERRCODE_FDW_TABLE_NOT_FOUND;
	if (resp->status == 429 || resp->status >= 500)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
	if (resp->status >= 300)
		return ERRCODE_FDW_ERROR;	/* other 4xx, and redirects not followed */
	return ERRCODE_FDW_REPLY_HANDLE;	/* a success status we do not expect */
}

/*
 * report_failure
 *		Throws the error for the failed current attempt of req, after
 *		releasing req.  Message: the status or libcurl's error, the API's
 *		error_code and error_msg, the method and path; detail: the query
 *		string, the request ID, the number of attempts and (for a body that
 *		is not an error envelope) its content type and length, never its
 *		bytes; a hint for the mistakes a setting fixes (a 404: project_id and
 *		endpoint; a timeout: request_timeout and max_retries; TLS
 *		verification: ca_file and the CA store in use); a context line naming
 *		the foreign server.  Remote text is made printable; no credential is
 *		ever part of it.
 */
static void
report_failure(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	RdsTransfer *xfer = req->xfer;
	const RdsResponse *resp = rds_transfer_response(xfer);
	int			sqlstate = outcome_sqlstate(xfer);
	bool		no_fd = (rds_transfer_no_fd(xfer) != 0);
	bool		iam = (req->kind == RDS_REQUEST_IAM);
	const char *user = (conn->opts.user_name ? conn->opts.user_name : "");
	char	   *error_code = NULL;
	char	   *error_msg = NULL;
	char	   *request_id = NULL;
	char	   *excerpt = NULL;
	char	   *failure = NULL;
	char	   *libcurl_text = NULL;
	StringInfoData detail;
	long		status = resp->status;
	int			attempts = req->attempts;
	char	   *server = pstrdup(conn->opts.server_name ?
								 conn->opts.server_name : "?");
	char	   *hint = NULL;

	/* everything needed from the transfer, copied before releasing it */
	if (resp->too_large)
		failure = psprintf("response body exceeds %d bytes",
						   RDS_MAX_RESPONSE_SIZE);
	else if (resp->out_of_memory)
		failure = pstrdup("out of memory while receiving the response");
	else if (resp->failed)
	{
		failure = pstrdup(rds_transfer_failure(xfer));
		libcurl_text = rds_transfer_failure_detail(xfer);
	}
	else if (resp->body_len > 0)
	{
		if (rds_decode_error(resp->body, resp->body_len,
							 &error_code, &error_msg, &request_id))
		{
			if (error_code != NULL)
				error_code = printable_text(error_code, strlen(error_code),
											RDS_REMOTE_TEXT_MAX);
			if (error_msg != NULL)
				error_msg = printable_text(error_msg, strlen(error_msg),
										   RDS_REMOTE_TEXT_MAX);
			if (request_id != NULL)
				request_id = printable_text(request_id, strlen(request_id),
											RDS_REMOTE_TEXT_MAX);
		}
		else					/* not the API's: never echoed, it may be secret */
			excerpt = psprintf("%s, %zu bytes",
							   resp->content_type[0] ? resp->content_type :
							   "no content type", resp->body_len);
	}
	if (request_id == NULL && resp->request_id[0] != '\0')
		request_id = printable_text(resp->request_id,
									strlen(resp->request_id),
									RDS_REMOTE_TEXT_MAX);

	initStringInfo(&detail);
	if (!iam && req->query[0] != '\0')
		appendStringInfo(&detail, "Query string: %s.", req->query);
	if (iam && error_code != NULL)
		appendStringInfo(&detail, "%sIAM error code: %s.",
						 detail.len ? " " : "", error_code);
	if (request_id != NULL)
		appendStringInfo(&detail, "%sRequest ID: %s.",
						 detail.len ? " " : "", request_id);
	if (attempts > 1)
		appendStringInfo(&detail, "%sGave up after %d attempts.",
						 detail.len ? " " : "", attempts);
	if (excerpt != NULL)
		appendStringInfo(&detail, "%sThe response is not an API error (%s).",
						 detail.len ? " " : "", excerpt);
	if (libcurl_text != NULL)
		appendStringInfo(&detail, "%sTransport: %s.",
						 detail.len ? " " : "", libcurl_text);

	hint = failure_hint(conn, xfer, iam);

	request_release(req);

	if (iam)
	{
		if (failure != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": %s",
							user, failure),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 no_fd ? errhint("Raise max_files_per_process, or lower parallel_requests.") :
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
		else if (error_msg != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": HTTP %ld %s",
							user, status, error_msg),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
		else
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": HTTP %ld",
							user, status),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
	}
	else
	{
		if (failure != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: %s",
							req->method, req->path, failure),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 no_fd ? errhint("Raise max_files_per_process, or lower parallel_requests.") :
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
		else if (error_code != NULL || error_msg != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: HTTP %ld %s: %s",
							req->method, req->path, status,
							error_code ? error_code : "",
							error_msg ? error_msg : ""),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
		else
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: HTTP %ld",
							req->method, req->path, status),
					 detail.len ? errdetail_internal("%s", detail.data) : 0,
					 hint ? errhint("%s", hint) : 0,
					 errcontext("foreign server \"%s\"", server)));
	}
	pg_unreachable();
}

/*
 * failure_hint
 *		The advice for the failed current attempt of a request on conn (iam:
 *		the IAM token request), palloc'd, or NULL if there is none: the
 *		options that fix a 404, a timeout, a certificate that does not
 *		verify or an unreadable CA file.  Names no secret.
 */
static char *
failure_hint(RdsConn *conn, const RdsTransfer *xfer, bool iam)
{
	const RdsResponse *resp = rds_transfer_response(xfer);
	const RdsOptions *o = &conn->opts;
	const char *ca;

	if (!resp->failed)
	{
		if (resp->status != 404)
			return NULL;
		if (iam)
			return psprintf("Check the server's auth_url (now \"%s\"): IAM does not know the path.",
							o->auth_url ? o->auth_url : "");
		return psprintf("Check the server's project_id (now \"%s\") and endpoint (now \"%s\"): the API answers 404 for a project that its region does not know and for a path it does not serve.",
						o->project_id ? o->project_id : "",
						o->endpoint ? o->endpoint : "");
	}

	switch (rds_transfer_failure_kind(xfer))
	{
		case RDS_FAILURE_TIMEOUT:
			return psprintf("The server's request_timeout is %d s (connect_timeout %d s) for each attempt and max_retries is %d: raise request_timeout if the API is slow to answer, lower max_retries to give up sooner.",
							o->request_timeout, o->connect_timeout,
							o->max_retries);
		case RDS_FAILURE_TLS_VERIFY:
			if (o->ca_file != NULL)
				return psprintf("The certificate was checked against the server's ca_file \"%s\": that file must hold the CA that signed the certificate, and the certificate must name the host.",
								o->ca_file);
			ca = rds_transfer_ca_file(xfer);
			return psprintf("The certificate was checked against the system's CA store (%s%s%s): for a certificate signed by another CA, a superuser sets the server option ca_file to a PEM file holding that CA.  The certificate must also name the host.",
							ca ? "\"" : "", ca ? ca : "libcurl's default",
							ca ? "\"" : "");
		case RDS_FAILURE_CA_FILE:
			return psprintf("The server's ca_file \"%s\" must be a PEM file that the database server's operating system user can read.",
							o->ca_file ? o->ca_file : "");
		case RDS_FAILURE_OTHER:
			break;
	}
	return NULL;
}

/*
 * printable_text
 *		A palloc'd copy of at most about max bytes of remote text, safe for a
 *		message: valid UTF-8 kept when the database encoding is UTF-8 (else
 *		non-ASCII bytes become '?'), line breaks and tabs become spaces,
 *		other control bytes and invalid sequences '?', trailing blanks are
 *		dropped; "..." marks a cut.
 */
static char *
printable_text(const char *data, size_t len, size_t max)
{
	StringInfoData buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len && (size_t) buf.len < max)
	{
		unsigned char c = (unsigned char) data[i];

		if (c < 0x80)
		{
			if (c == '\n' || c == '\r' || c == '\t')
				appendStringInfoChar(&buf, ' ');
			else if (c < 0x20 || c == 0x7F)
				appendStringInfoChar(&buf, '?');
			else
				appendStringInfoChar(&buf, (char) c);
			i++;
		}
		else
		{
			int			l = pg_utf_mblen((const unsigned char *) data + i);

			if (utf8 && i + l <= len &&
				pg_utf8_islegal((const unsigned char *) data + i, l))
			{
				appendBinaryStringInfo(&buf, data + i, l);
				i += l;
			}
			else
			{
				appendStringInfoChar(&buf, '?');
				i++;
			}
		}
	}
	while (buf.len > 0 && buf.data[buf.len - 1] == ' ')
		buf.data[--buf.len] = '\0';
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
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
