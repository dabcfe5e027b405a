/*-------------------------------------------------------------------------
 *
 * http.c
 *		  The transport of rds_task_fdw: one libcurl multi handle per
 *		  backend for every connection (server and user mapping), with a
 *		  share handle (DNS, TLS sessions, connections) and a pool of easy
 *		  handles; HTTP exchanges that run concurrently on it, the loop that
 *		  drives them, interruptible waits, the descriptor an asynchronous
 *		  Append waits on (waitfd.c), and cancellation.  What to send, when
 *		  to retry and which error to raise is the client's (client.c).
 *
 * Memory and error discipline: everything libcurl touches from a callback
 * (the transfer, its buffers, its header list) is malloc'd and owned by an
 * RdsTransfer; callbacks never palloc or ereport, they record the problem
 * and return libcurl's abort code, and it is reported after the transfer
 * returns.  Whoever holds a transfer frees it with rds_transfer_free on
 * every path (client.c does so from a memory context reset callback).
 *
 * One multi handle for the backend: a query over a hundred servers drives
 * one set of transfers, and servers that name the same host share its
 * HTTP connections (libcurl reuses a connection only for a request with the
 * same host, port, TLS settings (ca_file) and proxy; the credentials are
 * request headers).  An RdsTransport is what a connection keeps of its
 * own: those settings, its timeouts, and how many of its transfers have
 * completed (the epoch a waiting scan compares).
 *
 * Descriptors: every descriptor the transport holds (each socket libcurl
 * opens, the wait set and its timer) is counted with PostgreSQL's
 * AcquireExternalFD, so that fd.c keeps room for them.  The connections are
 * capped below the external budget (leaving room for the Append's own wait
 * set and other extensions); a transfer beyond the cap waits in libcurl's
 * queue for a connection to free up.  If a socket is still refused (others
 * took the budget), the cap drops to the sockets open and the transfer
 * waits for one of them, or, if the backend has none, fails with a clear
 * error.
 *
 * This file calls no other file of the client: auth.c and client.c call it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#if LIBCURL_VERSION_NUM < 0x074200
#error "rds_task_fdw needs libcurl 7.66 or later (curl_multi_poll)"
#endif

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "rds_compat.h"
#include "rds_http.h"
#include "rds_transport.h"

/* most connections the backend keeps open at once, whatever the budget */
#define RDS_MAX_CONNECTIONS		1024

/* longest wait in curl_multi_poll between interrupt checks */
#define RDS_POLL_INTERVAL_MS	RDS_WAIT_TICK_MS

#define RDS_USER_AGENT			"rds_task_fdw/" RDS_TASK_FDW_VERSION

/*
 * What a connection keeps of its own.  Allocated in the connection's memory
 * context; the libcurl side is the backend's (RdsCore).
 */
struct RdsTransport
{
	char	   *ca_file;		/* NULL: the system's CAs */
	char	   *proxy;			/* NULL: no proxy (never the environment's) */
	int			connect_timeout;	/* seconds */
	int			request_timeout;	/* seconds */
	uint64		completions;	/* its transfers completed so far */
	bool		counted;		/* in rds_core.ntransports */
};

RdsCore		rds_core;



static bool curl_initialized = false;

static void core_create(void);
static void core_destroy(void);
static long connection_budget(void);
static CURLSH *share_create(void);
static void setup_easy(RdsTransport *t, RdsTransfer *xfer, const char *url);
static CURL *take_easy(void);
static void return_easy(CURL *easy);
static void wipe_slist(struct curl_slist *list);
static bool multi_due(void);
static void multi_step(void);
static void multi_wait(long timeout_ms, uint32 wait_event);


/* ------------------------------------------------------------------------
 * Connections
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
 * rds_transport_create
 *		What a new connection keeps of its own, allocated in cxt (ca_file and
 *		proxy are copied there); the backend's libcurl handles are set up
 *		with the first connection.  Initializes libcurl on first use.
 *		Throws if libcurl cannot be set up; nothing is left behind then.
 */
RdsTransport *
rds_transport_create(const char *ca_file, const char *proxy,
					 int connect_timeout, int request_timeout,
					 MemoryContext cxt)
{
	RdsTransport *t;

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

	t = MemoryContextAllocZero(cxt, sizeof(RdsTransport));
	t->ca_file = ca_file ? MemoryContextStrdup(cxt, ca_file) : NULL;
	t->proxy = proxy ? MemoryContextStrdup(cxt, proxy) : NULL;
	t->connect_timeout = connect_timeout;
	t->request_timeout = request_timeout;

	if (rds_core.ntransports == 0)
		core_create();			/* throws, leaving nothing behind */
	rds_core.ntransports++;
	t->counted = true;
	return t;
}

/*
 * rds_transport_destroy
 *		Forgets t (not freed: it goes with its memory context); with the
 *		backend's last connection, frees the libcurl handles and descriptors.
 *		Every transfer of t must have been freed first.  Never throws.
 */
void
rds_transport_destroy(RdsTransport *t)
{
	if (!t->counted)
		return;
	t->counted = false;
	if (--rds_core.ntransports == 0)
		core_destroy();
}

/*
 * core_create
 *		The backend's multi and share handles.  Throws if libcurl cannot set
 *		them up; nothing is left behind then.
 */
static void
core_create(void)
{
	long		budget = connection_budget();

	memset(&rds_core, 0, sizeof(rds_core));
	rds_core.multi = curl_multi_init();
	rds_core.share = share_create();
	rds_core.max_sockets = budget;
	rds_core.fds_stale = true;
	/*
	 * At most budget connections, and all of them kept for reuse (libcurl's
	 * default keeps 4 per running transfer: at the end of a scan only one
	 * or two run, so a repeated scan would reconnect).  Transfers beyond
	 * the cap wait in libcurl's queue for a connection.
	 */
	if (rds_core.multi == NULL || rds_core.share == NULL ||
		curl_multi_setopt(rds_core.multi, CURLMOPT_MAXCONNECTS,
						  budget) != CURLM_OK ||
		curl_multi_setopt(rds_core.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
						  budget) != CURLM_OK)
	{
		core_destroy();
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not set up libcurl connection handling")));
	}
}

/*
 * core_destroy
 *		Frees the backend's libcurl handles, closing its cached connections
 *		and the wait descriptor.  No transfer may be running.  Never throws.
 */
static void
core_destroy(void)
{
	while (rds_core.npool > 0)
		curl_easy_cleanup(rds_core.pool[--rds_core.npool]);
	if (rds_core.multi != NULL)
		curl_multi_cleanup(rds_core.multi);
	if (rds_core.share != NULL)
		curl_share_cleanup(rds_core.share); /* closes the cached connections */
	rds_core.multi = NULL;
	rds_core.share = NULL;
	rds_waitfd_close();
}

/*
 * connection_budget
 *		How many connections the backend may hold at once: the external
 *		descriptor budget (a third of what fd.c keeps, as AcquireExternalFD
 *		counts it) less the wait set and its timer, and an eighth (at least
 *		two) left to others: the Append's own wait set, postgres_fdw.
 */
static long
connection_budget(void)
{
	long		external = max_safe_fds / 3;
	long		budget = external - 2 - Max(2, external / 8);

	return Min(Max(budget, 1), RDS_MAX_CONNECTIONS);
}

/*
 * share_create
 *		A share handle for DNS, TLS sessions and connections, or NULL.
 */
static CURLSH *
share_create(void)
{
	CURLSH	   *share = curl_share_init();

	if (share == NULL)
		return NULL;
	if (curl_share_setopt(share, CURLSHOPT_SHARE,
						  CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
		curl_share_setopt(share, CURLSHOPT_SHARE,
						  CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
		curl_share_setopt(share, CURLSHOPT_SHARE,
						  CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
	{
		curl_share_cleanup(share);
		return NULL;
	}
	return share;
}

/*
 * rds_transport_drop_idle
 *		Closes the backend's cached connections if no transfer is running,
 *		giving their descriptors back (a socket was refused for want of
 *		one).  Returns how many sockets were closed.  Never throws.
 */
int
rds_transport_drop_idle(void)
{
	CURLSH	   *share;
	int			before = rds_core.nsockets;
	int			i;

	if (rds_core.ntransports == 0 || rds_core.nattached > 0 || rds_core.nsockets == 0)
		return 0;
	share = share_create();
	if (share == NULL)
		return 0;
	/* no transfer runs: only pooled easy handles still hold the share */
	for (i = 0; i < rds_core.npool; i++)
		(void) curl_easy_setopt(rds_core.pool[i], CURLOPT_SHARE, NULL);
	if (curl_share_cleanup(rds_core.share) != CURLSHE_OK)
	{
		curl_share_cleanup(share);
		return 0;
	}
	rds_core.share = share;
	return before - rds_core.nsockets;
}

/*
 * rds_transport_wait_fd
 *		The backend's wait descriptor (waitfd.c; the transport owns it, the
 *		caller never closes it): readable when a transfer of any connection
 *		has network activity, and at least every RDS_WAIT_TICK_MS so that
 *		timeouts and interrupts are served.  For PostgreSQL's asynchronous
 *		Append, which waits on one descriptor per scan: every scan gets the
 *		same one.  -1 where the platform has no epoll, or no descriptor is
 *		to be had.
 */
int
rds_transport_wait_fd(RdsTransport *t)
{
	rds_core.fds_stale = true;		/* a new set mirrors nothing yet */
	return rds_waitfd_get();
}

/*
 * rds_transport_epoch
 *		A number that changes whenever a transfer of t completes or the wait
 *		descriptor's timer ticks: while it stays the same, a scan that had
 *		to wait still has to (nothing it waits for can have happened).
 *		Never throws.
 */
uint64
rds_transport_epoch(RdsTransport *t)
{
	/* a wait in a synchronous scan may have left the set behind */
	if (rds_core.fds_stale && rds_core.multi != NULL && rds_waitfd_sync(rds_core.multi))
		rds_core.fds_stale = false;
	return t->completions + rds_waitfd_ticks();
}

/*
 * rds_transport_wake
 *		Makes the wait descriptor readable at once (see rds_waitfd_wake).
 */
void
rds_transport_wake(void)
{
	rds_waitfd_wake();
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
 * Transfers
 * ------------------------------------------------------------------------
 */

/*
 * rds_transfer_create
 *		A new, unstarted exchange (malloc'd; the caller frees it with
 *		rds_transfer_free on every path).  With want_subject_token the
 *		response's X-Subject-Token header is kept.  Throws if out of memory.
 */
RdsTransfer *
rds_transfer_create(bool want_subject_token)
{
	RdsTransfer *xfer = calloc(1, sizeof(RdsTransfer));

	if (xfer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	xfer->want_subject_token = want_subject_token;
	return xfer;
}

/*
 * rds_transfer_headers
 *		The request header list of an unstarted exchange, for
 *		rds_slist_append; the transfer owns (and wipes) what is added.
 */
struct curl_slist **
rds_transfer_headers(RdsTransfer *xfer)
{
	return &xfer->headers;
}

/*
 * rds_transfer_set_post
 *		Makes the exchange a POST of a copy of body (len bytes), wiped when
 *		the transfer is freed.  Returns false, changing nothing, if out of
 *		memory (so that the caller can wipe its copy first); never throws.
 */
bool
rds_transfer_set_post(RdsTransfer *xfer, const char *body, size_t len)
{
	char	   *copy = malloc(len + 1);

	if (copy == NULL)
		return false;
	memcpy(copy, body, len);
	copy[len] = '\0';
	xfer->post_body = copy;
	xfer->post_len = len;
	return true;
}

/*
 * rds_transfer_start
 *		Takes an easy handle, sets it up for url with the exchange's headers
 *		(and POST body) and adds it to t's multi handle; returns at once,
 *		the exchange progresses whenever any transfer of t is driven.
 *		method and path only name the request in an error.  Throws on
 *		failure; whatever was allocated is owned by xfer by then.
 */
void
rds_transfer_start(RdsTransport *t, RdsTransfer *xfer, const char *url,
				   const char *method, const char *path)
{
	CURLMcode	mc;

	xfer->easy = take_easy();
	xfer->transport = t;
	setup_easy(t, xfer, url);

	mc = curl_multi_add_handle(rds_core.multi, xfer->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start RDS API request %s %s: %s",
						method, path, curl_multi_strerror(mc))));
	xfer->attached = true;
	rds_core.nattached++;
	rds_core.fds_stale = true;
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
setup_easy(RdsTransport *t, RdsTransfer *xfer, const char *url)
{
	CURL	   *easy = xfer->easy;

	RDS_SETOPT(easy, CURLOPT_PRIVATE, xfer);
	RDS_SETOPT(easy, CURLOPT_SHARE, rds_core.share);
	RDS_SETOPT(easy, CURLOPT_URL, url);
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
	if (t->ca_file != NULL)
		RDS_SETOPT(easy, CURLOPT_CAINFO, t->ca_file);
	/* the proxy option or none: never the environment's *_proxy variables */
	RDS_SETOPT(easy, CURLOPT_PROXY, t->proxy ? t->proxy : "");
	RDS_SETOPT(easy, CURLOPT_NOPROXY, "");
	RDS_SETOPT(easy, CURLOPT_CONNECTTIMEOUT, (long) t->connect_timeout);
	RDS_SETOPT(easy, CURLOPT_TIMEOUT, (long) t->request_timeout);
	RDS_SETOPT(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	RDS_SETOPT(easy, CURLOPT_USERAGENT, RDS_USER_AGENT);
	RDS_SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "");
	RDS_SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE,
			   (curl_off_t) RDS_MAX_RESPONSE_SIZE);
	RDS_SETOPT(easy, CURLOPT_ERRORBUFFER, xfer->errbuf);
	RDS_SETOPT(easy, CURLOPT_WRITEFUNCTION, rds_write_callback);
	RDS_SETOPT(easy, CURLOPT_WRITEDATA, xfer);
	RDS_SETOPT(easy, CURLOPT_HEADERFUNCTION, rds_header_callback);
	RDS_SETOPT(easy, CURLOPT_HEADERDATA, xfer);
	/* a connection keeps the close callback of the transfer that opened it */
	RDS_SETOPT(easy, CURLOPT_OPENSOCKETFUNCTION, rds_open_socket_callback);
	RDS_SETOPT(easy, CURLOPT_OPENSOCKETDATA, xfer);
	RDS_SETOPT(easy, CURLOPT_CLOSESOCKETFUNCTION, rds_close_socket_callback);
	RDS_SETOPT(easy, CURLOPT_CLOSESOCKETDATA, &rds_core);

	if (xfer->post_body != NULL)
	{
		RDS_SETOPT(easy, CURLOPT_POST, 1L);
		RDS_SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE,
				   (curl_off_t) xfer->post_len);
		RDS_SETOPT(easy, CURLOPT_POSTFIELDS, xfer->post_body);
	}
	else
		RDS_SETOPT(easy, CURLOPT_HTTPGET, 1L);

	RDS_SETOPT(easy, CURLOPT_HTTPHEADER, xfer->headers);
}

/*
 * rds_transfer_free
 *		Takes xfer off the multi handle (if started), returns its easy
 *		handle to the pool and frees (wiping secrets) everything it owns.
 *		Never throws.
 */
void
rds_transfer_free(RdsTransport *t, RdsTransfer *xfer)
{
	if (xfer->attached)
	{
		curl_multi_remove_handle(rds_core.multi, xfer->easy);
		rds_core.nattached--;
		rds_core.fds_stale = true;
	}
	if (xfer->easy != NULL)
		return_easy(xfer->easy);
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
	if (xfer->resp.subject_token != NULL)
	{
		explicit_bzero(xfer->resp.subject_token,
					   strlen(xfer->resp.subject_token));
		free(xfer->resp.subject_token);
	}
	free(xfer->resp.body);
	free(xfer);
}

/* An easy handle from the pool, or a new one.  Throws if none. */
static CURL *
take_easy(void)
{
	CURL	   *easy;

	if (rds_core.npool > 0)
		return rds_core.pool[--rds_core.npool];

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
return_easy(CURL *easy)
{
	curl_easy_reset(easy);
	if (rds_core.npool < RDS_EASY_POOL_SIZE)
		rds_core.pool[rds_core.npool++] = easy;
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

/*
 * copy_content_type
 *		The response's Content-Type into resp, cut at the first character
 *		that is not a MIME token or '/' (so nothing else of the remote text
 *		reaches a message); empty when there was none.
 */
static void
copy_content_type(CURL *easy, RdsResponse *resp)
{
	char	   *ctype = NULL;
	size_t		n = 0;

	if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
		ctype != NULL)
		n = strspn(ctype, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+-.");
	n = Min(n, sizeof(resp->content_type) - 1);
	memcpy(resp->content_type, ctype ? ctype : "", n);
	resp->content_type[n] = '\0';
}

/*
 * multi_step
 *		Lets libcurl make progress on every transfer of the backend, records
 *		the ones that completed (taking them off the multi handle, and
 *		counting them in their connection's epoch), and mirrors the sockets
 *		libcurl now waits on in the wait set.
 */
static void
multi_step(void)
{
	CURLMcode	mc;
	CURLMsg    *msg;
	int			running;
	int			left;

	/* a socket was refused: no more connections than the ones open */
	if (rds_core.want_max_sockets > 0 && rds_core.want_max_sockets < rds_core.max_sockets)
	{
		if (curl_multi_setopt(rds_core.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
							  rds_core.want_max_sockets) == CURLM_OK)
			rds_core.max_sockets = rds_core.want_max_sockets;
	}
	rds_core.want_max_sockets = 0;

	rds_core.perform_ticks = rds_waitfd_ticks();
	mc = curl_multi_perform(rds_core.multi, &running);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("libcurl failed to drive RDS API requests: %s",
						curl_multi_strerror(mc))));

	while ((msg = curl_multi_info_read(rds_core.multi, &left)) != NULL)
	{
		CURL	   *easy = msg->easy_handle;
		CURLcode	result = msg->data.result;
		RdsTransfer *xfer = NULL;
		double		secs = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;

		/* msg is invalid once the handle is removed */
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &xfer);
		if (xfer == NULL)
			continue;
		xfer->result = result;
		xfer->resp.failed = (result != CURLE_OK);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &xfer->resp.status);
		if (curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &xfer->os_errno) != CURLE_OK)
			xfer->os_errno = 0;
		copy_content_type(easy, &xfer->resp);
		if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &secs) == CURLE_OK)
			xfer->resp.total_ms = secs * 1000.0;
		if (result == CURLE_FILESIZE_EXCEEDED)
			xfer->resp.too_large = true;
		if (result == CURLE_OUT_OF_MEMORY)
			xfer->resp.out_of_memory = true;
		curl_multi_remove_handle(rds_core.multi, easy);
		xfer->attached = false;
		rds_core.nattached--;
		xfer->resp.done = true;
		xfer->transport->completions++;
	}

	rds_core.fds_stale = !rds_waitfd_sync(rds_core.multi);
}

/*
 * multi_due
 *		Whether a non-blocking poll has to let libcurl work: when something
 *		in the wait set is ready, a timer of libcurl's is due, the timer
 *		ticked since the last time (a socket the set could not watch is
 *		served at least that often), or the set may not mirror libcurl's
 *		sockets.  Saves a scan of a hundred servers' transfers for every
 *		poll of every scan.  Never throws.
 */
static bool
multi_due(void)
{
	long		timeout_ms;

	if (rds_core.fds_stale || !rds_waitfd_open())
		return true;
	if (curl_multi_timeout(rds_core.multi, &timeout_ms) != CURLM_OK ||
		timeout_ms == 0)
		return true;
	if (rds_waitfd_ticks() != rds_core.perform_ticks)
		return true;
	return rds_waitfd_ready();
}

/*
 * multi_wait
 *		Waits up to timeout_ms for activity on the backend's sockets, visible
 *		in pg_stat_activity as wait_event.  Exits if the postmaster died.
 */
static void
multi_wait(long timeout_ms, uint32 wait_event)
{
	CURLMcode	mc;

	pgstat_report_wait_start(wait_event);
	mc = curl_multi_poll(rds_core.multi, NULL, 0, (int) timeout_ms, NULL);
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
 * rds_transport_wait
 *		Drives the backend's transfers until xfer is complete, checking for
 *		interrupts (query cancel, statement_timeout, termination) at least
 *		every RDS_POLL_INTERVAL_MS.
 */
void
rds_transport_wait(RdsTransport *t, RdsTransfer *xfer)
{
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		multi_step();
		if (xfer->resp.done)
			break;
		multi_wait(RDS_POLL_INTERVAL_MS, rds_wait_event(RDS_WAIT_WIRE));
	}
}

/*
 * rds_transport_sleep
 *		Sleeps delay_ms (before a retry, or while a request waits for its
 *		turn), interruptibly, shown as wait_event.  The backend's other
 *		transfers keep being driven meanwhile.
 */
void
rds_transport_sleep(RdsTransport *t, long delay_ms, uint32 wait_event)
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

		if (rds_core.nattached > 0)
		{
			multi_step();
			multi_wait(Min(remaining, RDS_POLL_INTERVAL_MS), wait_event);
		}
		else
		{
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 remaining, wait_event);
			ResetLatch(MyLatch);
		}
	}
}

/*
 * rds_transport_poll
 *		Lets the backend's transfers progress without waiting (if anything
 *		happened since the last time).  Returns true once xfer is complete,
 *		whatever its outcome (false if xfer is NULL: only drive the
 *		others).  Throws only if libcurl itself fails.
 */
bool
rds_transport_poll(RdsTransport *t, RdsTransfer *xfer)
{
	if (xfer != NULL && xfer->resp.done)
		return true;
	if (multi_due())
		multi_step();
	return xfer != NULL && xfer->resp.done;
}

/* ------------------------------------------------------------------------
 * Outcomes, in the transport's terms
 * ------------------------------------------------------------------------
 */

/*
 * rds_transfer_response
 *		What the exchange brought back so far (complete once ->done).
 */
const RdsResponse *
rds_transfer_response(const RdsTransfer *xfer)
{
	return &xfer->resp;
}

/*
 * rds_transfer_retryable
 *		Whether a transport failure may go away on a new attempt: timeouts
 *		and dropped or refused connections.  A failed name lookup is not
 *		one: it will not resolve on the next try either.
 */
bool
rds_transfer_retryable(const RdsTransfer *xfer)
{
	switch (xfer->result)
	{
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
}

/*
 * rds_transfer_no_fd
 *		Whether the exchange failed because no descriptor was left for a
 *		socket: 1 while the backend had sockets open (a new attempt waits
 *		for one of them), 2 when it had none (no attempt can work).
 */
int
rds_transfer_no_fd(const RdsTransfer *xfer)
{
	if (!xfer->resp.failed || !xfer->no_fd)
		return 0;
	return xfer->no_fd_alone ? 2 : 1;
}

/*
 * rds_transfer_failure_detail
 *		libcurl's own account of a transport failure, with its version and
 *		error number, for an errdetail (palloc'd).
 */
char *
rds_transfer_failure_detail(const RdsTransfer *xfer)
{
	return psprintf("%s (libcurl %s, error %d)",
					xfer->errbuf[0] ? xfer->errbuf :
					curl_easy_strerror(xfer->result),
					curl_version_info(CURLVERSION_NOW)->version,
					(int) xfer->result);
}

/*
 * rds_http_date
 *		An HTTP date (as in Retry-After) as a time_t, or -1 if s is none.
 */
time_t
rds_http_date(const char *s)
{
	return curl_getdate(s, NULL);
}

/*
 * rds_transfer_failure
 *		What went wrong with a transfer that ended in a libcurl error, in our
 *		own words: libcurl's wording changes between its versions, so it is
 *		given only in the detail.
 */
const char *
rds_transfer_failure(const RdsTransfer *xfer)
{
	switch (xfer->result)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
			return "could not resolve the host name";
		case CURLE_COULDNT_RESOLVE_PROXY:
			return "could not resolve the proxy's host name";
		case CURLE_COULDNT_CONNECT:
			if (xfer->no_fd)
				return "no file descriptor left for a socket in this server process";
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
 * rds_transfer_failure_kind
 *		Which of the failures that a message gives advice for ended the
 *		transfer (RDS_FAILURE_OTHER for any other, or none).
 */
RdsFailureKind
rds_transfer_failure_kind(const RdsTransfer *xfer)
{
	switch (xfer->result)
	{
		case CURLE_OPERATION_TIMEDOUT:
			return RDS_FAILURE_TIMEOUT;
		case CURLE_PEER_FAILED_VERIFICATION:
			return RDS_FAILURE_TLS_VERIFY;
		case CURLE_SSL_CACERT_BADFILE:
			return RDS_FAILURE_CA_FILE;
		default:
			return RDS_FAILURE_OTHER;
	}
}

/*
 * rds_transfer_ca_file
 *		The CA bundle the transfer verified certificates with: ca_file, else
 *		libcurl's built-in default (libcurl 7.84 and later), else NULL.
 *		Points into libcurl's or the transport's memory.
 */
const char *
rds_transfer_ca_file(const RdsTransfer *xfer)
{
	char	   *path = NULL;

	if (xfer->transport != NULL && xfer->transport->ca_file != NULL)
		return xfer->transport->ca_file;
#if LIBCURL_VERSION_NUM >= 0x075400
	if (xfer->easy != NULL &&
		curl_easy_getinfo(xfer->easy, CURLINFO_CAINFO, &path) != CURLE_OK)
		path = NULL;
#endif
	return path;
}
