/*-------------------------------------------------------------------------
 *
 * rds_http.h
 *		  Private declarations of the API client of rds_task_fdw: the
 *		  transport (http.c), authentication (auth.c) and the connection
 *		  life cycle (client.c, for connection.c).
 *
 * Included only by client.c, gate.c, http.c, waitfd.c, auth.c and
 * connection.c.  The calls go one way: client.c -> auth.c -> http.c, and
 * client.c -> http.c -> waitfd.c; gate.c uses shared.c, cache.c and stats.c
 * only (client.c and outcome.c count in stats.c too);
 * http.c calls neither client.c nor auth.c, auth.c never calls client.c.
 * No curl.h here: libcurl
 * types appear only as the incomplete struct curl_slist.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_HTTP_H
#define RDS_HTTP_H

#include <time.h>

#include "lib/ilist.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

struct curl_slist;

/* Largest response body accepted; a larger one fails the exchange. */
#define RDS_MAX_RESPONSE_SIZE (8 * 1024 * 1024)

/* ---- client.c, for connection.c ---- */
extern RdsConn *rds_conn_create(const RdsOptions *opts, MemoryContext parent);
extern void rds_conn_destroy(RdsConn *conn);
extern void rds_conn_abort_requests(RdsConn *conn, int nestlevel);

/* ---- gate.c: what an API request passes before it goes on the wire ---- */
typedef struct RdsGate
{
	RdsCacheTicket *ticket;		/* NULL: not cached */
	int			cache_ttl;
	bool		may_read;		/* an entry may answer it */
	bool		want_raw;		/* its page image keeps each task's raw JSON */
	bool		hit;			/* answered from the cache: no transfer */
	StringInfo	hit_body;		/* the cache's page image */
	MemoryContext cxt;			/* the request's, for the image */
	char	   *image;			/* the answer's page image, when stored */
	size_t		image_size;
	bool		locked;			/* holds the merge lock of its key */
	bool		merging;		/* waits (waited) for a peer's fetch */
	bool		merge_off;		/* fetches without the merge lock */
	TimestampTz merge_until;	/* waits for the peer no longer than this */
	int			slot;			/* max_concurrent_requests slot held, -1 */
	uint32		wait_event;		/* while waiting between attempts */
} RdsGate;

typedef enum RdsGateResult
{
	RDS_GATE_OPEN,				/* go on the wire */
	RDS_GATE_WAIT,				/* look again at *retry_at */
	RDS_GATE_HIT				/* answered by the cache: g->hit_body */
} RdsGateResult;

extern void rds_gate_init(RdsGate *g, const RdsOptions *opts, const char *url,
						  int cache_ttl, bool may_read, bool want_raw);
extern RdsGateResult rds_gate_pass(RdsGate *g, const RdsOptions *opts,
								   TimestampTz *retry_at);
extern void rds_gate_exchange_over(RdsGate *g, Oid serverid);
extern void rds_gate_answered(RdsGate *g, const char *body, size_t len);
extern void rds_gate_unlock(RdsGate *g);

/* ---- http.c: the transport ---- */
typedef struct RdsTransport RdsTransport;	/* a connection's libcurl side */
typedef struct RdsTransfer RdsTransfer;	/* one HTTP exchange, malloc'd */

/*
 * What a finished exchange brought back, recorded by the transport's
 * libcurl callbacks.  Owned by the transfer (malloc'd strings); valid until
 * rds_transfer_free.
 */
typedef struct RdsResponse
{
	bool		done;			/* the exchange is complete */
	bool		failed;			/* transport failure: no usable HTTP status */
	long		status;			/* HTTP status, 0 if none */
	bool		too_large;		/* body over RDS_MAX_RESPONSE_SIZE */
	bool		out_of_memory;
	char	   *body;
	size_t		body_len;
	char	   *subject_token;	/* X-Subject-Token, if asked for */
	char		retry_after[64];
	char		request_id[128];	/* X-Request-Id */
	char		content_type[64];	/* Content-Type, token characters only */
	double		total_ms;		/* time of the exchange, libcurl's */
} RdsResponse;

/* transport failures a message gives advice for (see rds_transfer_failure_kind) */
typedef enum RdsFailureKind
{
	RDS_FAILURE_OTHER,			/* none, or one without advice */
	RDS_FAILURE_TIMEOUT,		/* connect_timeout or request_timeout passed */
	RDS_FAILURE_TLS_VERIFY,		/* the certificate or host name did not verify */
	RDS_FAILURE_CA_FILE			/* ca_file could not be read */
} RdsFailureKind;

extern RdsTransport *rds_transport_create(const char *ca_file,
										  const char *proxy,
										  int connect_timeout,
										  int request_timeout,
										  MemoryContext cxt);
extern void rds_transport_destroy(RdsTransport *t);
extern RdsTransfer *rds_transfer_create(bool want_subject_token);
extern struct curl_slist **rds_transfer_headers(RdsTransfer *xfer);
extern bool rds_transfer_set_post(RdsTransfer *xfer, const char *body,
								  size_t len);
extern void rds_transfer_start(RdsTransport *t, RdsTransfer *xfer,
							   const char *url, const char *method,
							   const char *path);
extern void rds_transfer_free(RdsTransport *t, RdsTransfer *xfer);
extern const RdsResponse *rds_transfer_response(const RdsTransfer *xfer);
extern bool rds_transfer_retryable(const RdsTransfer *xfer);
extern const char *rds_transfer_failure(const RdsTransfer *xfer);
extern char *rds_transfer_failure_detail(const RdsTransfer *xfer);
extern RdsFailureKind rds_transfer_failure_kind(const RdsTransfer *xfer);
extern const char *rds_transfer_ca_file(const RdsTransfer *xfer);
extern void rds_transport_wait(RdsTransport *t, RdsTransfer *xfer);
extern void rds_transport_sleep(RdsTransport *t, long delay_ms,
								uint32 wait_event);
extern bool rds_transport_poll(RdsTransport *t, RdsTransfer *xfer);
extern int	rds_transport_wait_fd(RdsTransport *t);
extern uint64 rds_transport_epoch(RdsTransport *t);
extern void rds_transport_wake(void);
extern int	rds_transport_drop_idle(void);
extern int	rds_transfer_no_fd(const RdsTransfer *xfer);
extern time_t rds_http_date(const char *s);
extern void rds_slist_append(struct curl_slist **list, const char *line);

/* ---- waitfd.c: the backend's wait descriptor, for http.c ---- */

/* the wait descriptor's timer ticks this often (ms) */
#define RDS_WAIT_TICK_MS 100

extern int	rds_waitfd_get(void);
extern bool rds_waitfd_open(void);
extern void rds_waitfd_close(void);
extern uint64 rds_waitfd_ticks(void);
extern void rds_waitfd_wake(void);
extern bool rds_waitfd_ready(void);
extern void rds_waitfd_forget(int fd);
extern bool rds_waitfd_sync(void *multi);

/* ---- auth.c, for client.c ---- */
typedef struct RdsAuthState RdsAuthState;	/* the cached IAM token */

extern RdsAuthState *rds_auth_create(MemoryContext cxt);
extern void rds_auth_clear(RdsAuthState *state);
extern bool rds_auth_need_token(RdsAuthState *state);
extern char *rds_auth_iam_body(const RdsOptions *opts);
extern void rds_auth_set_token(RdsAuthState *state, const char *token,
							   const char *body, size_t len);
extern void rds_auth_forget_token(RdsAuthState *state, uint64 generation);
extern uint64 rds_auth_add_headers(const RdsOptions *opts, RdsAuthState *state,
								   const char *host, const char *method,
								   const char *path, const char *query,
								   struct curl_slist **headers);
extern void rds_uri_encode(StringInfo buf, const char *s, size_t len);
extern char *rds_normalize_query(const char *query);
extern void rds_split_url(const char *url, char **host, char **path,
						  char **query);

/* ---- client.c and outcome.c: a connection, a request ---- */

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

extern void rds_request_release(RdsRequest *req);
extern bool rds_is_transient(const RdsTransfer *xfer);
extern long rds_retry_delay_ms(const RdsRequest *req);
extern const char *rds_retry_reason(const RdsTransfer *xfer);
/* What a failed request throws, copied from it before it is released. */
typedef struct RdsFailure
{
	int			sqlstate;
	char	   *message;
	char	   *detail;			/* or NULL */
	const char *hint;			/* or NULL */
	char	   *server;			/* the foreign server, for the context */
} RdsFailure;

extern RdsFailure *rds_failure_of(RdsRequest *req);
RDS_NORETURN extern void rds_failure_throw(const RdsFailure *f) RDS_NORETURN_ATTR;

#endif							/* RDS_HTTP_H */
