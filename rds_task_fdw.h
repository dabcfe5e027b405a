/*-------------------------------------------------------------------------
 *
 * rds_task_fdw.h
 *		  Shared declarations of rds_task_fdw: effective options, the HTTP
 *		  client seen from the planner side, and the page decoder.
 *
 * Only http.c/connection.c/auth.c include curl.h and only decode.c includes
 * json-c; everything crossing those borders is declared here in PostgreSQL
 * terms.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_TASK_FDW_H
#define RDS_TASK_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"

#define RDS_TASK_FDW_VERSION "1.1.0"

/* The API's upper bound for the limit parameter. */
#define RDS_MAX_PAGE_SIZE 50

typedef enum RdsAuthMethod
{
	RDS_AUTH_NONE = 0,
	RDS_AUTH_TOKEN,				/* auth_token */
	RDS_AUTH_PASSWORD,			/* user_name/password/domain_name */
	RDS_AUTH_AKSK				/* access_key/secret_key[/security_token] */
} RdsAuthMethod;

typedef enum RdsResource
{
	RDS_RESOURCE_TASKS = 0,
	RDS_RESOURCE_ACTIONS
} RdsResource;

/*
 * The effective options of one scan or import, resolved table > server >
 * user mapping with defaults filled in.  All strings are palloc'd in the
 * context that was current when the struct was built; optional strings are
 * NULL when unset.
 */
typedef struct RdsOptions
{
	Oid			serverid;
	Oid			umid;			/* user mapping OID (cache key for connections) */

	/* server */
	char	   *endpoint;		/* scheme://host[:port][/prefix], no trailing '/' */
	char	   *project_id;
	char	   *region;
	char	   *auth_url;		/* IAM base, e.g. https://iam.eu-de.../v3, no trailing '/' */
	char	   *ca_file;
	int			connect_timeout;	/* seconds */
	int			request_timeout;	/* seconds */
	int			max_retries;

	/* server or table */
	int			parallel_requests;
	int			page_size;
	int			cache_ttl;		/* seconds, 0 = off */

	/* table */
	RdsResource resource;

	/* user mapping */
	RdsAuthMethod auth_method;
	char	   *auth_token;
	char	   *user_name;
	char	   *password;
	char	   *domain_name;
	char	   *access_key;
	char	   *secret_key;
	char	   *security_token;
} RdsOptions;

/*
 * Counters shown by EXPLAIN ANALYZE ("HTTP requests: ...").  Owned by the
 * caller; the HTTP layer only adds to them.
 */
typedef struct RdsHttpStats
{
	int64		requests;		/* HTTP exchanges sent, retries included */
	int64		retries;		/* of those, repetitions after a failure */
	int64		bytes;			/* response body bytes received */
	int64		cache_hits;		/* answered from the response cache */
} RdsHttpStats;

/* ---- option.c ---- */
extern RdsOptions *rds_get_options(Oid foreigntableid, Oid userid);
extern RdsOptions *rds_get_server_options(Oid serverid, Oid userid);
extern const char *rds_column_field_name(Oid foreigntableid, AttrNumber attnum);

/* ---- connection.c / http.c / auth.c ---- */
typedef struct RdsConn RdsConn;		/* opaque, per backend and user mapping */
typedef struct RdsRequest RdsRequest;	/* opaque, one GET in flight */

extern RdsConn *rds_get_connection(const RdsOptions *opts);
extern void rds_append_query_param(StringInfo buf, const char *key,
								   const char *value);
extern RdsRequest *rds_request_start(RdsConn *conn, const char *path,
									 const char *query);
extern void rds_request_finish(RdsRequest *req, StringInfo body,
							   RdsHttpStats *stats);
extern void rds_request_cancel(RdsRequest *req);
extern bool rds_request_poll(RdsRequest *req);
extern int	rds_conn_wait_fd(RdsConn *conn);
extern void rds_http_get(RdsConn *conn, const char *path, const char *query,
						 StringInfo body, RdsHttpStats *stats);
extern const char *rds_curl_version(void);

/* Largest response body accepted; a larger one fails the request. */
#define RDS_MAX_RESPONSE_SIZE (8 * 1024 * 1024)

/*
 * Internal to connection.c, http.c and auth.c.  No curl.h here: libcurl
 * types appear only as the incomplete struct curl_slist.
 */
struct curl_slist;
typedef struct RdsAuthState RdsAuthState;	/* auth.c: the cached IAM token */

/* http.c, for connection.c */
extern RdsConn *rds_conn_create(const RdsOptions *opts, MemoryContext parent);
extern void rds_conn_destroy(RdsConn *conn);
extern void rds_conn_abort_requests(RdsConn *conn, int nestlevel);

/* http.c, for auth.c */
extern void rds_slist_append(struct curl_slist **list, const char *line);

/* auth.c, for http.c */
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

/* ---- cache.c ---- */
extern bool rds_cache_lookup(Oid umid, const char *url, int ttl, StringInfo body);
extern void rds_cache_store(Oid umid, const char *url, int ttl,
							const char *body, int len);

/* ---- deparse.c ---- */

/* Fan-out cap: more request streams than this and a field is not sent. */
#define RDS_MAX_STREAMS 100

typedef enum RdsCondKind
{
	RDS_COND_EQ = 0,			/* field = value */
	RDS_COND_ANY,				/* field = ANY (array value) */
	RDS_COND_LOWER,				/* create_time >= value (> if strict) */
	RDS_COND_UPPER,				/* create_time <= value (< if strict) */
	RDS_COND_TIME_EQ			/* create_time = value */
} RdsCondKind;

/* A condition the planner can turn into request parameters. */
typedef struct RdsCond
{
	const char *field;			/* task field, or project_id / region */
	RdsCondKind kind;
	bool		strict;
	Oid			valtype;		/* type of a create_time column */
	Expr	   *value;			/* computed when the scan starts */
	bool		exact;			/* the request enforces it: no local recheck */
} RdsCond;

/* The values one field may take in a scan. */
typedef struct RdsFieldSet
{
	char	   *field;
	bool		constrained;
	List	   *values;			/* distinct char *, UTF-8 */
	bool		sent;			/* part of the requests (else matched locally) */
} RdsFieldSet;

/* The run-time filter of a scan, built from evaluated conditions. */
typedef struct RdsFilter
{
	bool		empty;			/* nothing can match: send no request */
	List	   *fields;			/* RdsFieldSet * */
	bool		has_lower;
	bool		has_upper;
	int64		lower_us;		/* Unix microseconds */
	int64		upper_us;
} RdsFilter;

extern bool rds_is_server_field(const char *field);
extern bool rds_classify_clause(PlannerInfo *root, RelOptInfo *baserel,
								Oid relid, Expr *clause, RdsCond *cond);
extern void rds_filter_init(RdsFilter *f);
extern void rds_filter_add_values(RdsFilter *f, const char *field,
								  List *values);
extern void rds_filter_add_time(RdsFilter *f, RdsCondKind kind, Oid valtype,
								Datum value);
extern List *rds_filter_streams(RdsFilter *f, const RdsOptions *opts,
								int max_streams);

/* ---- idset.c ---- */
typedef struct RdsIdSet RdsIdSet;
extern RdsIdSet *rds_idset_create(MemoryContext cxt);
extern void rds_idset_expect(RdsIdSet *set, int64 n);
extern bool rds_idset_add(RdsIdSet *set, const char *key);
extern void rds_idset_counts(const RdsIdSet *set, int64 *ids, int64 *others);
extern Size rds_idset_bytes(const RdsIdSet *set);
extern void rds_idset_report(const RdsIdSet *set, const char *relname);

/* ---- decode.c ---- */
typedef struct RdsPage RdsPage;		/* opaque: one decoded response page */

extern RdsPage *rds_page_parse(const char *body, size_t len,
							   const char *request_desc);
extern int	rds_page_ntasks(RdsPage *page);
extern int64 rds_page_total_count(RdsPage *page);
extern const char *rds_page_task_field(RdsPage *page, int i,
									   const char *field);
extern char *rds_page_task_json(RdsPage *page, int i);
extern int	rds_page_nactions(RdsPage *page);
extern const char *rds_page_action(RdsPage *page, int i);
extern bool rds_decode_error(const char *body, size_t len, char **error_code,
							 char **error_msg, char **request_id);
extern bool rds_decode_token_expiry(const char *body, size_t len,
									TimestampTz *expires_at);
extern const char *rds_json_c_version(void);

/* deparse.c, needing RdsPage */
extern bool rds_filter_match(RdsFilter *f, RdsPage *page, int i);

#endif							/* RDS_TASK_FDW_H */
