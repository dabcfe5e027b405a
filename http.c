/*-------------------------------------------------------------------------
 *
 * http.c
 *		  The libcurl side of rds_task_fdw: one connection (multi handle,
 *		  share handle, pool of easy handles) per user mapping, GET requests
 *		  that run concurrently on it, the loop that drives them, retries
 *		  with backoff, timeouts, cancellation, and the mapping of HTTP and
 *		  transport failures to errors.
 *
 * Memory and error discipline: everything libcurl touches from a callback
 * (the transfer, its buffers, its header list) is malloc'd and owned by an
 * RdsTransfer; callbacks never palloc or ereport, they record the problem
 * and return libcurl's abort code, and it is reported after the transfer
 * returns.  An RdsRequest is palloc'd in the caller's memory context and
 * registers a reset callback there, so an ERROR anywhere leaves nothing on
 * the multi handle and nothing malloc'd behind; connection.c additionally
 * detaches transfers at (sub)transaction abort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/timerfd.h>
#define RDS_HAVE_WAIT_FD 1
#endif

#include <curl/curl.h>

#if LIBCURL_VERSION_NUM < 0x074200
#error "rds_task_fdw needs libcurl 7.66 or later (curl_multi_poll)"
#endif

#include "access/xact.h"
#include "lib/ilist.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

/* idle easy handles kept per connection for reuse */
#define RDS_EASY_POOL_SIZE		8

/* TCP/TLS connections kept open per connection: parallel_requests' maximum */
#define RDS_MAX_CONNECTIONS		32

/* sockets of one connection watched for an asynchronous Append */
#define RDS_MAX_WATCHED			64

/* longest wait in curl_multi_poll between interrupt checks */
#define RDS_POLL_INTERVAL_MS	100

/* exponential backoff with full jitter: random(0, min(cap, base * 2^n)) */
#define RDS_BACKOFF_BASE_MS		200
#define RDS_BACKOFF_CAP_MS		10000

/* a Retry-After is honoured up to this long */
#define RDS_RETRY_AFTER_MAX_MS	60000

/* bytes of remote error code/message text shown */
#define RDS_REMOTE_TEXT_MAX		500

/* first allocation of a response buffer */
#define RDS_BODY_INITIAL_SIZE	16384

#define RDS_USER_AGENT			"rds_task_fdw/" RDS_TASK_FDW_VERSION

/*
 * One connection: private copies of the options, the libcurl handles and
 * the live requests.  Allocated in its own memory context (cxt), which
 * connection.c creates under its long-lived context and which
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

	CURLM	   *multi;			/* drives all transfers of this connection */
	CURLSH	   *share;			/* DNS, TLS sessions and connections */
	int			epfd;			/* epoll set of the transfers' sockets and
								 * tick_fd, for asynchronous Append; -1 */
	int			tick_fd;		/* timerfd ticking every poll interval */
	int			watched[RDS_MAX_WATCHED];	/* sockets in epfd */
	int			nwatched;
	CURL	   *pool[RDS_EASY_POOL_SIZE];	/* idle easy handles */
	int			npool;
	int			nattached;		/* transfers on the multi handle */

	dlist_head	requests;		/* live (unreleased) RdsRequests */
};

/*
 * One HTTP exchange (attempt) of a request.  malloc'd: libcurl callbacks
 * write into it.
 */
typedef struct RdsTransfer
{
	CURL	   *easy;
	struct curl_slist *headers;
	char	   *post_body;		/* IAM credentials: wiped when freed */
	size_t		post_len;
	int			nestlevel;		/* transaction nest level that started it */
	uint64		token_generation;	/* IAM token it carries, 0 if none */
	bool		attached;		/* on the multi handle */
	bool		done;			/* libcurl reported completion */
	CURLcode	result;
	long		status;

	/* recorded by the callbacks */
	bool		too_large;		/* body over RDS_MAX_RESPONSE_SIZE */
	bool		out_of_memory;
	bool		want_subject_token;
	char	   *body;
	size_t		body_len;
	size_t		body_cap;
	char	   *subject_token;	/* X-Subject-Token: wiped when freed */
	char		retry_after[64];
	char		request_id[128];	/* X-Request-Id */
	long		os_errno;		/* errno of a failed connect, or 0 */
	char		errbuf[CURL_ERROR_SIZE];
} RdsTransfer;

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
	RdsRequestGuard *guard;
	RdsRequestKind kind;
	const char *method;
	char	   *url;			/* exactly what goes on the wire */
	char	   *path;			/* the caller's path, for messages */
	char	   *sign_path;		/* endpoint prefix + path, as on the wire */
	char	   *query;			/* wire query, canonically encoded */
	int			attempts;		/* exchanges started */
	bool		renewed;		/* a 401 already led to a new token */
	bool		released;
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

static bool curl_initialized = false;

static RdsRequest *request_create(RdsConn *conn, RdsRequestKind kind,
								  const char *method, const char *path,
								  const char *query);
static void request_release(RdsRequest *req);
static void request_guard_callback(void *arg);
static void request_run(RdsRequest *req, RdsHttpStats *stats);
static void start_attempt(RdsRequest *req);
static void setup_easy(RdsConn *conn, RdsRequest *req, RdsTransfer *xfer);
static void transfer_free(RdsConn *conn, RdsTransfer *xfer);
static CURL *take_easy(RdsConn *conn);
static void return_easy(RdsConn *conn, CURL *easy);
static void wipe_slist(struct curl_slist *list);
static void multi_step(RdsConn *conn);
static void setup_wait_fd(RdsConn *conn);
#ifdef RDS_HAVE_WAIT_FD
static void sync_wait_fds(RdsConn *conn);
#endif
static void multi_wait(RdsConn *conn, long timeout_ms);
static void wait_for_transfer(RdsConn *conn, RdsTransfer *xfer);
static void backoff_wait(RdsConn *conn, long delay_ms);
static bool is_transient(const RdsTransfer *xfer);
static long retry_delay_ms(const RdsTransfer *xfer, int retries);
static int	outcome_sqlstate(const RdsTransfer *xfer);
RDS_NORETURN static void report_failure(RdsRequest *req) RDS_NORETURN_ATTR;
static char *printable_text(const char *data, size_t len, size_t max);
static void ensure_token(RdsConn *conn);
static size_t write_callback(char *ptr, size_t size, size_t nmemb,
							 void *userdata);
static size_t header_callback(char *buffer, size_t size, size_t nitems,
							  void *userdata);
static bool header_value(const char *line, size_t len, const char *name,
						 const char **value, size_t *vlen);


/* ------------------------------------------------------------------------
 * Public entry points
 * ------------------------------------------------------------------------
 */

/*
 * rds_curl_version
 *		libcurl's version and its TLS library, e.g. "7.88.1 (OpenSSL/3.0.11)".
 */
const char *
rds_curl_version(void)
{
	curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	if (info->ssl_version)
		return psprintf("%s (%s)", info->version, info->ssl_version);
	return info->version;
}

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
 *		(or one after the token nears expiry) fetches the IAM token first,
 *		synchronously.  Throws on failure to set up the transfer.
 */
RdsRequest *
rds_request_start(RdsConn *conn, const char *path, const char *query)
{
	RdsRequest *req;

	req = request_create(conn, RDS_REQUEST_API, "GET", path, query);

	/*
	 * The response cache (cache_ttl, a later issue) belongs here: a fresh
	 * cached body would complete the request without a transfer, and
	 * rds_request_finish would count a cache hit instead of a request.
	 */

	start_attempt(req);
	return req;
}

/*
 * rds_request_finish
 *		Drives conn until this request has succeeded (HTTP 200), retrying
 *		per the connection's max_retries, and appends the body to body
 *		(allocated in body's context).  Other requests of the connection
 *		progress meanwhile.  Adds to *stats (may be NULL).  The request is
 *		released afterwards, also when this throws: any failure is an ERROR.
 */
void
rds_request_finish(RdsRequest *req, StringInfo body, RdsHttpStats *stats)
{
	RdsTransfer *xfer;

	if (req->released)
		elog(ERROR, "RDS API request was already finished or cancelled");

	PG_TRY();
	{
		request_run(req, stats);
		xfer = req->xfer;
		if (body != NULL && xfer->body_len > 0)
			appendBinaryStringInfo(body, xfer->body, (int) xfer->body_len);
	}
	PG_FINALLY();
	{
		request_release(req);
	}
	PG_END_TRY();
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
 *		Lets the transfers of req's connection progress without waiting.
 *		Returns true once req's current attempt is complete, whatever its
 *		outcome, so that rds_request_finish will not wait on the network
 *		(a retry aside).  Throws only if libcurl itself fails.
 */
bool
rds_request_poll(RdsRequest *req)
{
	RdsConn    *conn = req->conn;

	if (req->released || conn == NULL || req->xfer == NULL)
		return true;
#ifdef RDS_HAVE_WAIT_FD
	if (conn->tick_fd >= 0)
	{
		uint64		ticks;

		/* the tick has served its purpose: clear its readiness */
		if (read(conn->tick_fd, &ticks, sizeof(ticks)) < 0)
			ticks = 0;
	}
#endif
	multi_step(conn);
	if (req->xfer->done)
		return true;
#ifdef RDS_HAVE_WAIT_FD
	if (conn->epfd >= 0)
		sync_wait_fds(conn);
#endif
	return false;
}

/*
 * rds_conn_wait_fd
 *		A new descriptor (the caller closes it) that becomes readable when a
 *		transfer of conn has network activity, and at least every
 *		RDS_POLL_INTERVAL_MS so that timeouts and interrupts are served: for
 *		PostgreSQL's asynchronous Append, which waits on one socket per
 *		scan.  -1 where the platform has no epoll.
 */
int
rds_conn_wait_fd(RdsConn *conn)
{
	if (conn->epfd < 0)
		return -1;
	return dup(conn->epfd);
}

/*
 * rds_http_get
 *		rds_request_start + rds_request_finish.
 */
void
rds_http_get(RdsConn *conn, const char *path, const char *query,
			 StringInfo body, RdsHttpStats *stats)
{
	rds_request_finish(rds_request_start(conn, path, query), body, stats);
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
	o->endpoint = o->project_id = o->region = o->auth_url = o->ca_file = NULL;
	o->proxy = NULL;
	o->auth_token = o->user_name = o->password = o->domain_name = NULL;
	o->access_key = o->secret_key = o->security_token = NULL;

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

	if (!curl_initialized)
	{
		CURLcode	rc = curl_global_init(CURL_GLOBAL_DEFAULT);

		if (rc != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not initialize libcurl: %s",
							curl_easy_strerror(rc))));
		curl_initialized = true;
	}

	cxt = AllocSetContextCreate(parent, "rds_task_fdw connection",
								ALLOCSET_SMALL_SIZES);
	conn = MemoryContextAllocZero(cxt, sizeof(RdsConn));
	conn->cxt = cxt;
	conn->epfd = -1;
	conn->tick_fd = -1;
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

		conn->share = curl_share_init();
		conn->multi = curl_multi_init();
		if (conn->share == NULL || conn->multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create libcurl handles.")));
		/*
		 * Keep a connection per possible parallel request: by default
		 * libcurl keeps 4 per running transfer, and at the end of a scan
		 * only one or two are running, so a repeated scan would reconnect.
		 */
		if (curl_multi_setopt(conn->multi, CURLMOPT_MAXCONNECTS,
							  (long) RDS_MAX_CONNECTIONS) != CURLM_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not set up libcurl connection caching")));
		if (curl_share_setopt(conn->share, CURLSHOPT_SHARE,
							  CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
			curl_share_setopt(conn->share, CURLSHOPT_SHARE,
							  CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
			curl_share_setopt(conn->share, CURLSHOPT_SHARE,
							  CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not set up libcurl connection sharing")));
		setup_wait_fd(conn);
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

		if (req->xfer != NULL)
			transfer_free(conn, req->xfer);
		req->xfer = NULL;
		dlist_delete(&req->node);
		req->conn = NULL;
	}

	while (conn->npool > 0)
		curl_easy_cleanup(conn->pool[--conn->npool]);
	if (conn->multi != NULL)
		curl_multi_cleanup(conn->multi);
	if (conn->tick_fd >= 0)
		close(conn->tick_fd);
	if (conn->epfd >= 0)
		close(conn->epfd);
	if (conn->share != NULL)
		curl_share_cleanup(conn->share);

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

		if (req->xfer != NULL && req->xfer->nestlevel >= nestlevel)
		{
			transfer_free(conn, req->xfer);
			req->xfer = NULL;
		}
	}
}

/*
 * rds_slist_append
 *		Appends a copy of line to a libcurl header list.  On failure throws,
 *		leaving *list as it was (still owned by the caller).
 */
void
rds_slist_append(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	*list = l;
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
		if (req->xfer != NULL)
			transfer_free(req->conn, req->xfer);
		dlist_delete(&req->node);
		req->conn = NULL;
	}
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
 *		Runs req to a successful answer (200 for the API, 201 for IAM),
 *		starting attempts as needed: a token renewal after a 401 with password
 *		authentication, and retries of transient failures with backoff.  On
 *		return req->xfer holds the answer.  Any other outcome throws (see
 *		report_failure).
 */
static void
request_run(RdsRequest *req, RdsHttpStats *stats)
{
	int			retries = 0;
	long		expected = (req->kind == RDS_REQUEST_IAM) ? 201 : 200;

	for (;;)
	{
		RdsConn    *conn = req->conn;
		RdsTransfer *xfer;

		if (conn == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
					 errmsg("RDS API request %s %s failed: the connection was closed",
							req->method, req->path)));

		if (req->xfer == NULL)
			start_attempt(req);
		xfer = req->xfer;
		wait_for_transfer(conn, xfer);

		if (stats != NULL)
		{
			stats->requests++;
			stats->bytes += xfer->body_len;
		}

		if (xfer->result == CURLE_OK && !xfer->too_large &&
			xfer->status == expected)
			return;

		/* an expired or revoked IAM token: renew it and repeat, once */
		if (req->kind == RDS_REQUEST_API && xfer->result == CURLE_OK &&
			xfer->status == 401 &&
			conn->opts.auth_method == RDS_AUTH_PASSWORD && !req->renewed)
		{
			req->renewed = true;
			rds_auth_forget_token(conn->auth, xfer->token_generation);
			transfer_free(conn, xfer);
			req->xfer = NULL;
			if (stats != NULL)
				stats->retries++;
			continue;
		}

		if (is_transient(xfer) && retries < conn->opts.max_retries)
		{
			long		delay = retry_delay_ms(xfer, retries);

			transfer_free(conn, xfer);
			req->xfer = NULL;
			retries++;
			if (stats != NULL)
				stats->retries++;
			backoff_wait(conn, delay);
			continue;
		}

		report_failure(req);
	}
}

/*
 * start_attempt
 *		Starts one exchange of req: fetches an IAM token first if needed,
 *		takes an easy handle, sets it up with fresh authentication headers
 *		and adds it to the multi handle.  Throws on failure; whatever was
 *		allocated is owned by req->xfer by then.
 */
static void
start_attempt(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	RdsTransfer *xfer;
	CURLMcode	mc;

	Assert(req->xfer == NULL);

	if (req->kind == RDS_REQUEST_API &&
		conn->opts.auth_method == RDS_AUTH_PASSWORD)
		ensure_token(conn);

	xfer = calloc(1, sizeof(RdsTransfer));
	if (xfer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	req->xfer = xfer;
	xfer->nestlevel = GetCurrentTransactionNestLevel();
	xfer->want_subject_token = (req->kind == RDS_REQUEST_IAM);

	xfer->easy = take_easy(conn);
	setup_easy(conn, req, xfer);

	mc = curl_multi_add_handle(conn->multi, xfer->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start RDS API request %s %s: %s",
						req->method, req->path, curl_multi_strerror(mc))));
	xfer->attached = true;
	conn->nattached++;
	req->attempts++;
}

/* curl_easy_setopt that throws on failure */
#define RDS_SETOPT(easy, opt, val) \
	do { \
		CURLcode	rc_ = curl_easy_setopt((easy), (opt), (val)); \
		if (rc_ != CURLE_OK) \
			ereport(ERROR, \
					(errcode(ERRCODE_FDW_ERROR), \
					 errmsg("could not set libcurl option %s: %s", \
							#opt, curl_easy_strerror(rc_)))); \
	} while (0)

/*
 * setup_easy
 *		Sets every option of one exchange on xfer->easy.
 */
static void
setup_easy(RdsConn *conn, RdsRequest *req, RdsTransfer *xfer)
{
	CURL	   *easy = xfer->easy;

	RDS_SETOPT(easy, CURLOPT_PRIVATE, xfer);
	RDS_SETOPT(easy, CURLOPT_SHARE, conn->share);
	RDS_SETOPT(easy, CURLOPT_URL, req->url);
	RDS_SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
	RDS_SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85: the bit masks are deprecated */
	RDS_SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	RDS_SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	RDS_SETOPT(easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
	RDS_SETOPT(easy, CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	RDS_SETOPT(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	RDS_SETOPT(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conn->opts.ca_file != NULL)
		RDS_SETOPT(easy, CURLOPT_CAINFO, conn->opts.ca_file);
	/* the proxy option or none: never the environment's *_proxy variables */
	RDS_SETOPT(easy, CURLOPT_PROXY, conn->opts.proxy ? conn->opts.proxy : "");
	RDS_SETOPT(easy, CURLOPT_NOPROXY, "");
	RDS_SETOPT(easy, CURLOPT_CONNECTTIMEOUT, (long) conn->opts.connect_timeout);
	RDS_SETOPT(easy, CURLOPT_TIMEOUT, (long) conn->opts.request_timeout);
	RDS_SETOPT(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	RDS_SETOPT(easy, CURLOPT_USERAGENT, RDS_USER_AGENT);
	RDS_SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "");
	RDS_SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE,
			   (curl_off_t) RDS_MAX_RESPONSE_SIZE);
	RDS_SETOPT(easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
	RDS_SETOPT(easy, CURLOPT_WRITEFUNCTION, write_callback);
	RDS_SETOPT(easy, CURLOPT_WRITEDATA, xfer);
	RDS_SETOPT(easy, CURLOPT_HEADERFUNCTION, header_callback);
	RDS_SETOPT(easy, CURLOPT_HEADERDATA, xfer);

	rds_slist_append(&xfer->headers, "Accept: application/json");

	if (req->kind == RDS_REQUEST_IAM)
	{
		char	   *body = rds_auth_iam_body(&conn->opts);
		size_t		len = strlen(body);

		xfer->post_body = malloc(len + 1);
		if (xfer->post_body != NULL)
			memcpy(xfer->post_body, body, len + 1);
		explicit_bzero(body, len);
		pfree(body);
		if (xfer->post_body == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		xfer->post_len = len;

		rds_slist_append(&xfer->headers,
						 "Content-Type: application/json;charset=utf8");
		rds_slist_append(&xfer->headers, "Expect:");
		RDS_SETOPT(easy, CURLOPT_POST, 1L);
		RDS_SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE,
				   (curl_off_t) xfer->post_len);
		RDS_SETOPT(easy, CURLOPT_POSTFIELDS, xfer->post_body);
	}
	else
	{
		RDS_SETOPT(easy, CURLOPT_HTTPGET, 1L);
		xfer->token_generation =
			rds_auth_add_headers(&conn->opts, conn->auth, conn->host,
								 req->method, req->sign_path, req->query,
								 &xfer->headers);
	}

	RDS_SETOPT(easy, CURLOPT_HTTPHEADER, xfer->headers);
}

/*
 * transfer_free
 *		Takes xfer off the multi handle, returns its easy handle to the pool
 *		and frees (wiping secrets) everything it owns.  Never throws.
 */
static void
transfer_free(RdsConn *conn, RdsTransfer *xfer)
{
	if (xfer->attached)
	{
		curl_multi_remove_handle(conn->multi, xfer->easy);
		conn->nattached--;
	}
	if (xfer->easy != NULL)
		return_easy(conn, xfer->easy);
	if (xfer->headers != NULL)
	{
		wipe_slist(xfer->headers);
		curl_slist_free_all(xfer->headers);
	}
	if (xfer->post_body != NULL)
	{
		explicit_bzero(xfer->post_body, xfer->post_len);
		free(xfer->post_body);
	}
	if (xfer->subject_token != NULL)
	{
		explicit_bzero(xfer->subject_token, strlen(xfer->subject_token));
		free(xfer->subject_token);
	}
	free(xfer->body);
	free(xfer);
}

/* An easy handle from the pool, or a new one.  Throws if none. */
static CURL *
take_easy(RdsConn *conn)
{
	CURL	   *easy;

	if (conn->npool > 0)
		return conn->pool[--conn->npool];

	easy = curl_easy_init();
	if (easy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Could not create a libcurl handle.")));
	return easy;
}

/*
 * return_easy
 *		Resets an easy handle (so that it points at nothing we free) and pools
 *		it, or cleans it up when the pool is full.  Its connections stay in
 *		the share's cache either way.
 */
static void
return_easy(RdsConn *conn, CURL *easy)
{
	curl_easy_reset(easy);
	if (conn->npool < RDS_EASY_POOL_SIZE)
		conn->pool[conn->npool++] = easy;
	else
		curl_easy_cleanup(easy);
}

/* Overwrites the lines of a header list: some hold credentials. */
static void
wipe_slist(struct curl_slist *list)
{
	for (; list != NULL; list = list->next)
	{
		if (list->data != NULL)
			explicit_bzero(list->data, strlen(list->data));
	}
}


/* ------------------------------------------------------------------------
 * Driving transfers
 * ------------------------------------------------------------------------
 */

#ifdef RDS_HAVE_WAIT_FD
/*
 * sync_wait_fds
 *		Mirrors in the connection's epoll set the sockets libcurl's transfers
 *		wait on (as curl_multi_fdset reports them).  Never throws: a socket
 *		that cannot be watched (over FD_SETSIZE, or epoll_ctl failing) only
 *		costs latency, since the tick still wakes the waiter.
 */
static void
sync_wait_fds(RdsConn *conn)
{
	fd_set		rd,
				wr,
				ex;
	int			maxfd = -1;
	int			i;
	int			fd;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	if (curl_multi_fdset(conn->multi, &rd, &wr, &ex, &maxfd) != CURLM_OK)
		return;

	/* forget or update the sockets watched so far */
	for (i = 0; i < conn->nwatched;)
	{
		struct epoll_event ev;

		fd = conn->watched[i];
		memset(&ev, 0, sizeof(ev));
		ev.data.fd = fd;
		ev.events = (fd <= maxfd && FD_ISSET(fd, &rd) ? EPOLLIN : 0) |
			(fd <= maxfd && FD_ISSET(fd, &wr) ? EPOLLOUT : 0);
		if (ev.events == 0)
		{
			(void) epoll_ctl(conn->epfd, EPOLL_CTL_DEL, fd, &ev);
			conn->watched[i] = conn->watched[--conn->nwatched];
			continue;
		}
		(void) epoll_ctl(conn->epfd, EPOLL_CTL_MOD, fd, &ev);
		i++;
	}

	/* watch the new ones */
	for (fd = 0; fd <= maxfd; fd++)
	{
		struct epoll_event ev;
		bool		known = false;

		if (!FD_ISSET(fd, &rd) && !FD_ISSET(fd, &wr))
			continue;
		for (i = 0; i < conn->nwatched && !known; i++)
			known = (conn->watched[i] == fd);
		if (known || conn->nwatched >= RDS_MAX_WATCHED)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.data.fd = fd;
		ev.events = (FD_ISSET(fd, &rd) ? EPOLLIN : 0) | (FD_ISSET(fd, &wr) ? EPOLLOUT : 0);
		if (epoll_ctl(conn->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
			conn->watched[conn->nwatched++] = fd;
	}
}
#endif

/*
 * setup_wait_fd
 *		Creates the connection's epoll set with a ticking timerfd (the
 *		transfers' sockets join it in sync_wait_fds).  Without epoll (or if the
 *		descriptors cannot be had) conn->epfd stays -1 and scans of this
 *		connection run synchronously.
 */
static void
setup_wait_fd(RdsConn *conn)
{
#ifdef RDS_HAVE_WAIT_FD
	struct itimerspec tick;
	struct epoll_event ev;

	conn->epfd = epoll_create1(EPOLL_CLOEXEC);
	conn->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	memset(&tick, 0, sizeof(tick));
	tick.it_value.tv_nsec = RDS_POLL_INTERVAL_MS * 1000000L;
	tick.it_interval.tv_nsec = RDS_POLL_INTERVAL_MS * 1000000L;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = conn->tick_fd;
	if (conn->epfd < 0 || conn->tick_fd < 0 ||
		timerfd_settime(conn->tick_fd, 0, &tick, NULL) != 0 ||
		epoll_ctl(conn->epfd, EPOLL_CTL_ADD, conn->tick_fd, &ev) != 0)
	{
		if (conn->tick_fd >= 0)
			close(conn->tick_fd);
		if (conn->epfd >= 0)
			close(conn->epfd);
		conn->tick_fd = conn->epfd = -1;
	}
#endif
}

/*
 * multi_step
 *		Lets libcurl make progress on every transfer of conn and records the
 *		ones that completed (taking them off the multi handle).
 */
static void
multi_step(RdsConn *conn)
{
	CURLMcode	mc;
	CURLMsg    *msg;
	int			running;
	int			left;

	mc = curl_multi_perform(conn->multi, &running);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("libcurl failed to drive RDS API requests: %s",
						curl_multi_strerror(mc))));

	while ((msg = curl_multi_info_read(conn->multi, &left)) != NULL)
	{
		CURL	   *easy = msg->easy_handle;
		CURLcode	result = msg->data.result;
		RdsTransfer *xfer = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;

		/* msg is invalid once the handle is removed */
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &xfer);
		if (xfer == NULL)
			continue;
		xfer->result = result;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &xfer->status);
		if (curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &xfer->os_errno) != CURLE_OK)
			xfer->os_errno = 0;
		if (result == CURLE_FILESIZE_EXCEEDED)
			xfer->too_large = true;
		if (result == CURLE_OUT_OF_MEMORY)
			xfer->out_of_memory = true;
		curl_multi_remove_handle(conn->multi, easy);
		xfer->attached = false;
		conn->nattached--;
		xfer->done = true;
	}
}

/*
 * multi_wait
 *		Waits up to timeout_ms for activity on conn's sockets, visible in
 *		pg_stat_activity as an Extension wait.  Exits if the postmaster died.
 */
static void
multi_wait(RdsConn *conn, long timeout_ms)
{
	CURLMcode	mc;

	pgstat_report_wait_start(PG_WAIT_EXTENSION);
	mc = curl_multi_poll(conn->multi, NULL, 0, (int) timeout_ms, NULL);
	pgstat_report_wait_end();

	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("libcurl failed to wait for RDS API requests: %s",
						curl_multi_strerror(mc))));
	if (!PostmasterIsAlive())
		proc_exit(1);
}

/*
 * wait_for_transfer
 *		Drives conn until xfer is complete, checking for interrupts (query
 *		cancel, statement_timeout, termination) at least every
 *		RDS_POLL_INTERVAL_MS.
 */
static void
wait_for_transfer(RdsConn *conn, RdsTransfer *xfer)
{
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		multi_step(conn);
		if (xfer->done)
			break;
		multi_wait(conn, RDS_POLL_INTERVAL_MS);
	}
}

/*
 * backoff_wait
 *		Sleeps delay_ms before a retry, interruptibly.  Other transfers of
 *		the connection keep being driven meanwhile.
 */
static void
backoff_wait(RdsConn *conn, long delay_ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  delay_ms);

	for (;;)
	{
		long		remaining;

		CHECK_FOR_INTERRUPTS();
		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													end);
		if (remaining <= 0)
			break;

		if (conn->nattached > 0)
		{
			multi_step(conn);
			multi_wait(conn, Min(remaining, RDS_POLL_INTERVAL_MS));
		}
		else
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 remaining, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
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
	if (xfer->too_large || xfer->out_of_memory)
		return false;

	switch (xfer->result)
	{
		case CURLE_OK:
			break;
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			return true;
		default:
			return false;
	}

	switch (xfer->status)
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
 *		The wait before retry number retries + 1: the server's Retry-After
 *		(delta-seconds or an HTTP date, capped at RDS_RETRY_AFTER_MAX_MS) if
 *		it sent a usable one, else full-jitter exponential backoff.
 */
static long
retry_delay_ms(const RdsTransfer *xfer, int retries)
{
	const char *ra = xfer->retry_after;
	long		cap;

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
			time_t		when = curl_getdate(ra, NULL);

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

	cap = (retries >= 16) ? RDS_BACKOFF_CAP_MS :
		Min((long) RDS_BACKOFF_BASE_MS << retries, RDS_BACKOFF_CAP_MS);
	return (long) (rds_random_fraction() * cap);
}

/*
 * outcome_sqlstate
 *		The SQLSTATE of a failed exchange: the one place that maps HTTP
 *		statuses and transport failures to error codes.
 */
static int
outcome_sqlstate(const RdsTransfer *xfer)
{
	if (xfer->too_large)
		return ERRCODE_FDW_REPLY_HANDLE;
	if (xfer->out_of_memory)
		return ERRCODE_OUT_OF_MEMORY;
	if (xfer->result != CURLE_OK)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;

	if (xfer->status == 401 || xfer->status == 403)
		return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
	if (xfer->status == 404)
		return ERRCODE_FDW_TABLE_NOT_FOUND;
	if (xfer->status == 429 || xfer->status >= 500)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
	if (xfer->status >= 300)
		return ERRCODE_FDW_ERROR;	/* other 4xx, and redirects not followed */
	return ERRCODE_FDW_REPLY_HANDLE;	/* a success status we do not expect */
}

/*
 * transport_failure
 *		What went wrong with a transfer that ended in a libcurl error, in our
 *		own words: libcurl's wording changes between its versions, so it is
 *		given only in the detail.
 */
static const char *
transport_failure(const RdsTransfer *xfer)
{
	switch (xfer->result)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
			return "could not resolve the host name";
		case CURLE_COULDNT_RESOLVE_PROXY:
			return "could not resolve the proxy's host name";
		case CURLE_COULDNT_CONNECT:
			if (xfer->os_errno == ECONNREFUSED)
				return "connection refused";
			return "could not connect to the server";
		case CURLE_OPERATION_TIMEDOUT:
			return "timed out";
		case CURLE_PEER_FAILED_VERIFICATION:
			return "TLS certificate verification failed";
		case CURLE_SSL_CACERT_BADFILE:
			return "could not read the CA file";
		case CURLE_SSL_CONNECT_ERROR:
			return "TLS handshake failed";
		case CURLE_SEND_ERROR:
			return "connection lost while sending the request";
		case CURLE_RECV_ERROR:
			return "connection lost while receiving the response";
		case CURLE_GOT_NOTHING:
			return "connection closed without a response";
		case CURLE_PARTIAL_FILE:
			return "response body truncated (connection closed early)";
		case CURLE_WEIRD_SERVER_REPLY:
			return "not an HTTP response";
		case CURLE_BAD_CONTENT_ENCODING:
			return "undecodable Content-Encoding";
		default:
			return "transfer failed";
	}
}

/*
 * report_failure
 *		Throws the error for the failed current attempt of req, after
 *		releasing req.  Message: the status or libcurl's error, the API's
 *		error_code and error_msg, the method and path; detail: the query
 *		string, the request ID, the number of attempts and (for a body that
 *		is not an error envelope) its content type and length, never its
 *		bytes.  Remote text is made printable; no credential is ever part of
 *		it.
 */
static void
report_failure(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	RdsTransfer *xfer = req->xfer;
	int			sqlstate = outcome_sqlstate(xfer);
	bool		iam = (req->kind == RDS_REQUEST_IAM);
	const char *user = (conn->opts.user_name ? conn->opts.user_name : "");
	char	   *error_code = NULL;
	char	   *error_msg = NULL;
	char	   *request_id = NULL;
	char	   *excerpt = NULL;
	char	   *failure = NULL;
	char	   *libcurl_text = NULL;
	StringInfoData detail;
	long		status = xfer->status;
	int			attempts = req->attempts;

	/* everything needed from the transfer, copied before releasing it */
	if (xfer->too_large)
		failure = psprintf("response body exceeds %d bytes",
						   RDS_MAX_RESPONSE_SIZE);
	else if (xfer->out_of_memory)
		failure = pstrdup("out of memory while receiving the response");
	else if (xfer->result != CURLE_OK)
	{
		failure = pstrdup(transport_failure(xfer));
		libcurl_text = psprintf("%s (libcurl %s, error %d)",
								xfer->errbuf[0] ? xfer->errbuf :
								curl_easy_strerror(xfer->result),
								curl_version_info(CURLVERSION_NOW)->version,
								(int) xfer->result);
	}
	else if (xfer->body_len > 0)
	{
		if (rds_decode_error(xfer->body, xfer->body_len,
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
		else
		{
			/* not the API's: describe it, never echo it (it may be secret) */
			char	   *ctype = NULL;
			size_t		n = 0;

			if (curl_easy_getinfo(xfer->easy, CURLINFO_CONTENT_TYPE,
								  &ctype) == CURLE_OK && ctype != NULL)
				n = Min(strspn(ctype, "abcdefghijklmnopqrstuvwxyz"
							   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+-."), 64);
			excerpt = psprintf("%.*s, %zu bytes",
							   (int) (n ? n : 15), n ? ctype : "no content type",
							   xfer->body_len);
		}
	}
	if (request_id == NULL && xfer->request_id[0] != '\0')
		request_id = printable_text(xfer->request_id,
									strlen(xfer->request_id),
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

	request_release(req);

	if (iam)
	{
		if (failure != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": %s",
							user, failure),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
		else if (error_msg != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": HTTP %ld %s",
							user, status, error_msg),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
		else
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("could not obtain an IAM token for user \"%s\": HTTP %ld",
							user, status),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
	}
	else
	{
		if (failure != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: %s",
							req->method, req->path, failure),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
		else if (error_code != NULL || error_msg != NULL)
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: HTTP %ld %s: %s",
							req->method, req->path, status,
							error_code ? error_code : "",
							error_msg ? error_msg : ""),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
		else
			ereport(ERROR,
					(errcode(sqlstate),
					 errmsg("RDS API request %s %s failed: HTTP %ld",
							req->method, req->path, status),
					 detail.len ? errdetail_internal("%s", detail.data) : 0));
	}
	pg_unreachable();
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
 * ensure_token
 *		Makes sure conn holds a usable IAM token, fetching one if there is
 *		none or it is about to expire.  Throws if IAM does not give one.
 */
static void
ensure_token(RdsConn *conn)
{
	RdsRequest *req;
	RdsTransfer *xfer;

	if (!rds_auth_need_token(conn->auth))
		return;

	req = request_create(conn, RDS_REQUEST_IAM, "POST", "/auth/tokens",
						 "nocatalog=true");
	PG_TRY();
	{
		request_run(req, NULL);
		xfer = req->xfer;
		if (xfer->subject_token == NULL || xfer->subject_token[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("could not obtain an IAM token for user \"%s\": the response has no X-Subject-Token header",
							conn->opts.user_name ? conn->opts.user_name : "")));
		rds_auth_set_token(conn->auth, xfer->subject_token, xfer->body,
						   xfer->body_len);
	}
	PG_FINALLY();
	{
		request_release(req);
	}
	PG_END_TRY();
}


/* ------------------------------------------------------------------------
 * libcurl callbacks: no palloc, no ereport, no PostgreSQL state
 * ------------------------------------------------------------------------
 */

/*
 * write_callback
 *		Appends received body bytes to the transfer's malloc'd buffer.  Past
 *		RDS_MAX_RESPONSE_SIZE, or when out of memory, records it and aborts
 *		the transfer.
 */
static size_t
write_callback(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	RdsTransfer *xfer = (RdsTransfer *) userdata;
	size_t		len = size * nmemb;

	if (len == 0)
		return 0;
	if (len > RDS_MAX_RESPONSE_SIZE - xfer->body_len)
	{
		xfer->too_large = true;
		return 0;
	}
	if (xfer->body_len + len > xfer->body_cap)
	{
		size_t		cap = xfer->body_cap ? xfer->body_cap : RDS_BODY_INITIAL_SIZE;
		char	   *p;

		while (cap < xfer->body_len + len)
			cap *= 2;
		cap = Min(cap, (size_t) RDS_MAX_RESPONSE_SIZE);
		p = realloc(xfer->body, cap);
		if (p == NULL)
		{
			xfer->out_of_memory = true;
			return 0;
		}
		xfer->body = p;
		xfer->body_cap = cap;
	}
	memcpy(xfer->body + xfer->body_len, ptr, len);
	xfer->body_len += len;
	return len;
}

/*
 * header_callback
 *		Records the response headers we use: Retry-After, X-Request-Id and,
 *		for IAM, X-Subject-Token.  A status line starts a new response
 *		(interim 1xx answers), forgetting what an earlier one said.
 */
static size_t
header_callback(char *buffer, size_t size, size_t nitems, void *userdata)
{
	RdsTransfer *xfer = (RdsTransfer *) userdata;
	size_t		len = size * nitems;
	const char *value;
	size_t		vlen;

	if (len >= 5 && memcmp(buffer, "HTTP/", 5) == 0)
	{
		xfer->retry_after[0] = '\0';
		xfer->request_id[0] = '\0';
		if (xfer->subject_token != NULL)
		{
			explicit_bzero(xfer->subject_token, strlen(xfer->subject_token));
			free(xfer->subject_token);
			xfer->subject_token = NULL;
		}
	}
	else if (header_value(buffer, len, "Retry-After", &value, &vlen))
	{
		if (vlen < sizeof(xfer->retry_after))
		{
			memcpy(xfer->retry_after, value, vlen);
			xfer->retry_after[vlen] = '\0';
		}
	}
	else if (header_value(buffer, len, "X-Request-Id", &value, &vlen))
	{
		vlen = Min(vlen, sizeof(xfer->request_id) - 1);
		memcpy(xfer->request_id, value, vlen);
		xfer->request_id[vlen] = '\0';
	}
	else if (xfer->want_subject_token &&
			 header_value(buffer, len, "X-Subject-Token", &value, &vlen))
	{
		char	   *token = malloc(vlen + 1);

		if (token == NULL)
		{
			xfer->out_of_memory = true;
			return 0;
		}
		memcpy(token, value, vlen);
		token[vlen] = '\0';
		if (xfer->subject_token != NULL)
		{
			explicit_bzero(xfer->subject_token, strlen(xfer->subject_token));
			free(xfer->subject_token);
		}
		xfer->subject_token = token;
	}
	return len;
}

/*
 * header_value
 *		If the header line (len bytes, not NUL-terminated) is "name: value"
 *		with name matched case-insensitively, points *value at the value
 *		without surrounding blanks and line end and returns true.
 */
static bool
header_value(const char *line, size_t len, const char *name,
			 const char **value, size_t *vlen)
{
	size_t		nlen = strlen(name);
	const char *v;
	const char *end;

	if (len <= nlen || line[nlen] != ':' ||
		pg_strncasecmp(line, name, nlen) != 0)
		return false;

	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
					   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = v;
	*vlen = end - v;
	return true;
}
