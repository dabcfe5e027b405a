/*-------------------------------------------------------------------------
 *
 * rds_task_fdw.h
 *		  What crosses the files of rds_task_fdw, sorted by who reads it:
 *		  the types every file uses (options, stats, the opaque types);
 *		  the FDW callbacks; the plan the planner hands the executor;
 *		  conditions and requests (deparse.c); the readers' side of the
 *		  task list (pager, page, columns, ids); the read paths beside the
 *		  scan (search, grouped counts); the API client; what the cluster's
 *		  backends share; options.
 *
 * Only the transport (http.c, http_callbacks.c, waitfd.c) and auth.c include
 * curl.h and only decode.c includes json-c; everything crossing those
 * borders is declared here in PostgreSQL terms.  The client's internals
 * (transport, auth, connection life cycle) are in the private rds_http.h,
 * the transport's own in rds_transport.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_TASK_FDW_H
#define RDS_TASK_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "foreign/fdwapi.h"
#include "nodes/pathnodes.h"
#include "nodes/pg_list.h"
#include "port/atomics.h"

#define RDS_TASK_FDW_VERSION "1.4.0"

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
	Oid			userid;			/* the user whose mapping this is */

	/* server */
	char	   *server_name;	/* the foreign server's name, for messages */
	char	   *endpoint;		/* scheme://host[:port][/prefix], no trailing '/' */
	char	   *project_id;
	char	   *region;
	char	   *auth_url;		/* IAM base, e.g. https://iam.eu-de.../v3, no trailing '/' */
	char	   *ca_file;
	char	   *proxy;			/* proxy URL, NULL = none (never the environment's) */
	int			connect_timeout;	/* seconds */
	int			request_timeout;	/* seconds */
	int			max_retries;
	int			max_concurrent_requests;	/* cluster-wide, 0 = unlimited */

	/* server or table */
	int			parallel_requests;
	int			page_size;
	int			cache_ttl;		/* seconds, 0 = off */
	bool		use_remote_estimate;	/* ask the API while planning */
	int			analyze_sample_pages;	/* requests ANALYZE may send */

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
	int64		merged;			/* waited for another backend's identical
								 * request */
} RdsHttpStats;

/* Opaque types: each is known inside the file named */
typedef struct RdsConn RdsConn;		/* client.c: per backend and user mapping */
typedef struct RdsRequest RdsRequest;	/* client.c: one GET in flight */
typedef struct RdsPage RdsPage;		/* decode.c: one decoded page */
typedef struct RdsColumn RdsColumn;	/* convert.c: one column of a scan tuple */
typedef struct RdsIdSet RdsIdSet;	/* idset.c */
typedef struct RdsPageReq RdsPageReq;	/* pager.c: one page request */
typedef struct RdsPager RdsPager;	/* pager.c: request streams read in order */
typedef struct RdsSearch RdsSearch;	/* search.c */
typedef struct RdsGroupCount RdsGroupCount;	/* groupcount.c */
typedef struct RdsBucketKey RdsBucketKey;	/* bucket.c */
typedef struct RdsCacheTicket RdsCacheTicket;	/* cache.c: one request's key */


/* ================================================================
 * For PostgreSQL: the callbacks of rds_task_fdw.c's FdwRoutine
 * ================================================================
 */

/* planner.c */
extern void rdsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern void rdsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
							   Oid foreigntableid);
extern ForeignScan *rdsGetForeignPlan(PlannerInfo *root, RelOptInfo *foreignrel,
									  Oid foreigntableid, ForeignPath *best_path,
									  List *tlist, List *scan_clauses,
									  Plan *outer_plan);
extern void rdsGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
									RelOptInfo *input_rel, RelOptInfo *output_rel,
									void *extra);
extern bool rdsIsForeignPathAsyncCapable(ForeignPath *path);

/* scan.c */
extern void rdsBeginForeignScan(ForeignScanState *node, int eflags);
extern TupleTableSlot *rdsIterateForeignScan(ForeignScanState *node);
extern void rdsReScanForeignScan(ForeignScanState *node);
extern void rdsEndForeignScan(ForeignScanState *node);
extern void rdsExplainForeignScan(ForeignScanState *node,
								  struct ExplainState *es);
extern void rdsForeignAsyncRequest(AsyncRequest *areq);
extern void rdsForeignAsyncConfigureWait(AsyncRequest *areq);
extern void rdsForeignAsyncNotify(AsyncRequest *areq);


/* analyze.c */
extern bool rdsAnalyzeForeignTable(Relation relation,
								   AcquireSampleRowsFunc *func,
								   BlockNumber *totalpages);

/* ================================================================
 * For the planner and the executor: the plan they share
 * ================================================================
 */

/*
 * What a ForeignScan returns.
 */
typedef enum RdsScanMode
{
	RDS_SCAN_ROWS = 0,			/* tasks (or actions) of a base relation */
	RDS_SCAN_LIMIT,				/* the same, with LIMIT/OFFSET pushed */
	RDS_SCAN_COUNT,				/* one row: count(*) */
	RDS_SCAN_GROUPS,			/* count(*) [GROUP BY key]: groupcount.c */
	RDS_SCAN_SEARCH				/* tasks sorted by create_time (search.c) */
} RdsScanMode;

typedef enum RdsCondKind
{
	RDS_COND_EQ = 0,			/* field = value */
	RDS_COND_ANY,				/* field = ANY (array value) */
	RDS_COND_LOWER,				/* create_time >= value (> if strict) */
	RDS_COND_UPPER,				/* create_time <= value (< if strict) */
	RDS_COND_TIME_EQ			/* create_time = value */
} RdsCondKind;

/* The key of count(*) [GROUP BY key] (groupcount.c). */
typedef enum RdsGroupKind
{
	RDS_GROUP_NONE = 0,			/* count(*) alone (over a time window) */
	RDS_GROUP_STATUS,
	RDS_GROUP_NAME,
	RDS_GROUP_BUCKET			/* a time bucket of create_time (bucket.c) */
} RdsGroupKind;

/* Where a bucket key's core changes (bucket.c). */
typedef enum RdsBucketUnit
{
	RDS_BUCKET_NONE = 0,
	RDS_BUCKET_SECONDS,			/* every N seconds since the Unix epoch */
	RDS_BUCKET_MINUTE,			/* date_trunc's units on a wall clock */
	RDS_BUCKET_HOUR,
	RDS_BUCKET_DAY,
	RDS_BUCKET_WEEK,
	RDS_BUCKET_MONTH,
	RDS_BUCKET_QUARTER,
	RDS_BUCKET_YEAR
} RdsBucketUnit;

typedef struct RdsBucket
{
	RdsBucketUnit unit;
	int			seconds;		/* RDS_BUCKET_SECONDS: N */
	int			shift_days;		/* the unit's bounds of create_time + days */
	char	   *zone;			/* the wall clock's zone, "" = the session's */
} RdsBucket;

/*
 * The plan: what GetForeignPlan hands BeginForeignScan, and what a
 * time-window search path carries to GetForeignPlan.  plan.c alone turns
 * it into fdw_private and back (rds_plan_to_list, rds_plan_from_list).
 */
typedef struct RdsPlanCond
{
	char	   *field;			/* task field, or project_id / region */
	RdsCondKind kind;
	Oid			valtype;		/* type of a create_time column, or 0 */
	Oid			argtype;		/* type of a time condition's value, or 0 */
	bool		date_of;		/* the condition is on the column's ::date */
	bool		strict;			/* an exclusive time bound */
	int			expr_index;		/* its value in fdw_exprs */
} RdsPlanCond;

typedef struct RdsScanPlan
{
	RdsScanMode mode;
	List	   *attnos;			/* Integer per scan column: table attno, 0 =
								 * not fetched */
	List	   *conds;			/* RdsPlanCond *, sent to the API */
	int			limit_index;	/* RDS_SCAN_LIMIT: in fdw_exprs, -1 = none */
	int			offset_index;	/* likewise */
	RdsGroupKind group_kind;	/* RDS_SCAN_GROUPS: the key */
	RdsGroupKind group_kind2;	/* a second key after a bucket, or NONE */
	bool		group_hide_status;	/* status counted, not a column */
	List	   *group_aggs;		/* String: the spec (groupagg.c) of each
								 * column after the keys */
	RdsBucket	bucket;			/* RDS_GROUP_BUCKET: the key's core */
	bool		search_desc;	/* RDS_SCAN_SEARCH: the order wanted */
	bool		search_nulls_first;
	bool		search_nulls_excluded;	/* create_time IS NOT NULL holds */
	int			search_attno;	/* the create_time column */
	int			search_need;	/* rows the consumer likely wants, -1 */
	char	   *search_text;	/* EXPLAIN: "ORDER BY ..." */
} RdsScanPlan;

/* plan.c */
extern void rds_plan_init(RdsScanPlan *plan, RdsScanMode mode);
extern List *rds_plan_to_list(const RdsScanPlan *plan);
extern void rds_plan_from_list(List *fdw_private, RdsScanPlan *plan);

/* ================================================================
 * For planning and paging: conditions and the requests built from them
 * ================================================================
 */

/* deparse.c: which conditions are sent, and the requests built from them */

/* Fan-out cap: more request streams than this and a field is not sent. */
#define RDS_MAX_STREAMS 100

/* A condition the planner can turn into request parameters. */
typedef struct RdsCond
{
	const char *field;			/* task field, or project_id / region */
	RdsCondKind kind;
	bool		strict;
	Oid			valtype;		/* type of a create_time column */
	Oid			argtype;		/* type of a time condition's value */
	bool		date_of;		/* the condition is on the column's ::date */
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
	char	   *placeholder;	/* EXPLAIN: the value is known at run time only
								 * and is shown as this text */
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
	char	   *lower_placeholder;	/* EXPLAIN: bounds known at run time only */
	char	   *upper_placeholder;
	bool		window_set;		/* send exactly this window (ms), whatever
								 * the bounds */
	int64		window_start_ms;
	int64		window_end_ms;
} RdsFilter;

/* end_time sent for an open upper side: 9999-12-31T23:59:59.999Z */
#define RDS_OPEN_END_MS INT64CONST(253402300799999)

extern bool rds_is_server_field(const char *field);
extern char *rds_task_list_path(const RdsOptions *opts);
extern bool rds_classify_clause(PlannerInfo *root, RelOptInfo *baserel,
								Oid relid, Expr *clause, RdsCond *cond);
extern void rds_filter_init(RdsFilter *f);
extern void rds_filter_add_values(RdsFilter *f, const char *field,
								  List *values);
extern void rds_filter_add_time(RdsFilter *f, RdsCondKind kind, Oid valtype,
								Oid argtype, bool date_of, bool strict,
								Datum value);
extern List *rds_time_checks(List *checks, RdsCondKind kind, bool strict,
							 Oid argtype, bool date_of, Datum value);
extern void rds_filter_add_placeholder(RdsFilter *f, const char *field,
									   RdsCondKind kind,
									   const char *placeholder);
extern List *rds_filter_streams(RdsFilter *f, const RdsOptions *opts,
								int max_streams);
extern char *rds_request_query(const char *stream, const char *offset,
							   const char *limit);
extern void rds_filter_window_ms(const RdsFilter *f, int64 *start_ms,
								 int64 *end_ms);
extern void rds_filter_set_window_ms(RdsFilter *f, int64 start_ms,
									 int64 end_ms);
extern RdsFilter *rds_filter_copy(const RdsFilter *f);
extern bool rds_filter_match(RdsFilter *f, RdsPage *page, int i);

/* ================================================================
 * For the readers: the task list page by page, and what is in a page
 * ================================================================
 */

/* pager.c: every read of the task list, page by page */

/* What looking for the next page (or row) found. */
typedef enum RdsNext
{
	RDS_NEXT_FOUND,				/* a page (row) is there */
	RDS_NEXT_END,				/* every stream is exhausted */
	RDS_NEXT_WAIT				/* nowait: nothing can be had without waiting */
} RdsNext;

/* A page a pager read. */
typedef struct RdsPagerPage
{
	RdsPage    *page;
	int			stream;			/* of the pager */
	int64		offset;			/* its first task's offset in the list */
	int			pass;			/* the stream's pass: a new one means the list
								 * moved and the stream is read again */
	int64		expect;			/* the stream's first total_count: the tasks
								 * it will bring (minus its start), else -1 */
} RdsPagerPage;

extern RdsPageReq *rds_page_start(RdsConn *conn, const char *path,
								  const char *stream, int64 offset, int limit,
								  int cache_ttl, bool may_read, bool want_raw);
extern bool rds_page_ready(RdsPageReq *pr);
extern void rds_page_cancel(RdsPageReq *pr);
extern RdsPage *rds_page_finish(RdsPageReq *pr, RdsHttpStats *stats);
extern RdsPage *rds_page_get(RdsConn *conn, const char *path,
							 const char *stream, int64 offset, int limit,
							 int cache_ttl, bool want_raw, RdsHttpStats *stats);
extern RdsPager *rds_pager_create(MemoryContext parent, RdsConn *conn,
								  const RdsOptions *opts, const char *path,
								  bool use_cache, bool want_raw,
								  RdsHttpStats *stats);
extern int	rds_pager_add_stream(RdsPager *pg, const char *query,
								 int64 start_offset, int64 end_offset);
extern int	rds_pager_resume_stream(RdsPager *pg, const char *query,
									RdsPage *first, int first_limit);
extern const char *rds_pager_stream_query(RdsPager *pg, int s);
extern void rds_pager_extend(RdsPager *pg, int s);
extern RdsNext rds_pager_next(RdsPager *pg, bool nowait, RdsPagerPage *out);
extern void rds_pager_cancel(RdsPager *pg);
extern void rds_pager_destroy(RdsPager *pg);

/* decode.c: a page's envelope and fields (json-c) */
extern RdsPage *rds_page_parse(const char *body, size_t len, bool want_raw,
							   const char *request_desc, const char *server);
extern char *rds_page_encode(const char *body, size_t len, bool want_raw,
							 size_t *size);
extern bool rds_page_image_ok(const char *bytes, size_t size);
extern RdsPage *rds_page_from_image(const char *bytes, size_t size,
									bool want_raw, const char *request_desc,
									const char *server);
extern int	rds_page_ntasks(RdsPage *page);
extern int64 rds_page_total_count(RdsPage *page);
extern const char *rds_page_task_field(RdsPage *page, int i,
									   const char *field);
extern const char *rds_page_task_value(RdsPage *page, int i, int field,
									   int *len);
extern const char *rds_page_task_json(RdsPage *page, int i, int *len);
extern int	rds_page_nactions(RdsPage *page);
extern const char *rds_page_action(RdsPage *page, int i);
extern bool rds_decode_error(const char *body, size_t len, char **error_code,
							 char **error_msg, char **request_id);
extern bool rds_decode_token_expiry(const char *body, size_t len,
									TimestampTz *expires_at);
extern const char *rds_json_c_version(void);

/* decode.c: the task's fields */
/* A field of a task object: its column type, whether the API filters on it */
typedef struct RdsTaskField
{
	const char *name;
	const char *sqltype;		/* of its column in IMPORT FOREIGN SCHEMA */
	bool		param;			/* a query parameter of the task list */
} RdsTaskField;

extern const RdsTaskField rds_task_fields[];	/* ends with name NULL */

/* Positions in rds_task_fields, which must list the fields in this order */
typedef enum RdsTaskFieldNo
{
	RDS_FIELD_ID,
	RDS_FIELD_NAME,
	RDS_FIELD_INSTANCE_ID,
	RDS_FIELD_INSTANCE_NAME,
	RDS_FIELD_INSTANCE_STATUS,
	RDS_FIELD_ORDER_ID,
	RDS_FIELD_PROCESS,
	RDS_FIELD_FAIL_REASON,
	RDS_FIELD_CREATE_TIME,
	RDS_FIELD_END_TIME,
	RDS_FIELD_STATUS,
	RDS_NTASK_FIELDS
} RdsTaskFieldNo;

extern int	rds_task_field_no(const char *name);

/* convert.c: columns and values */


extern RdsColumn *rds_map_columns(const RdsOptions *opts, Relation rel,
								  TupleDesc scandesc, List *attnos,
								  bool count);
extern bool rds_columns_want_raw(const RdsColumn *columns, int ncolumns);
extern void rds_store_task(RdsColumn *columns, int ncolumns,
						   const char *relname, RdsPage *page, int i,
						   TupleTableSlot *slot);
extern void rds_store_action(RdsColumn *columns, int ncolumns,
							 const char *relname, const char *action,
							 TupleTableSlot *slot);
extern TimestampTz rds_task_create_time(RdsPage *page, int i, bool *isnull);

/* idset.c: the ids a scan returned */
extern RdsIdSet *rds_idset_create(MemoryContext cxt);
extern void rds_idset_expect(RdsIdSet *set, int64 n);
extern bool rds_idset_add(RdsIdSet *set, const char *key);
extern void rds_idset_counts(const RdsIdSet *set, int64 *ids, int64 *others);
extern Size rds_idset_bytes(const RdsIdSet *set);
extern void rds_idset_report(const RdsIdSet *set, const char *relname);

/* ================================================================
 * The read paths beside the plain scan
 * ================================================================
 */

/* search.c: the time-window search */

/* What EXPLAIN ANALYZE shows of the searches of one scan. */
typedef struct RdsSearchStats
{
	int64		searches;		/* scans (rescans) that searched */
	int64		requests;		/* their requests */
	int64		windows;		/* windows asked for, narrowings included */
	int64		max_windows;	/* most windows one search asked for */
	int64		whole_pages;	/* streams that fit in their first page */
	int64		fallbacks;		/* searches that read the whole stream */
} RdsSearchStats;

extern RdsSearch *rds_search_begin(MemoryContext cxt, const RdsOptions *opts,
								   RdsConn *conn, const char *path,
								   RdsFilter *filter, bool desc,
								   bool nulls_first, bool nulls_excluded,
								   int64 need, int time_col,
								   RdsColumn *columns, int ncolumns,
								   const char *relname, RdsHttpStats *stats,
								   RdsSearchStats *sstats);
extern bool rds_search_next(RdsSearch *s, TupleTableSlot *slot,
							MemoryContext tmpcxt);

/* groupcount.c: count(*) [GROUP BY key] from total_count */
/* A create_time condition, rechecked on the tasks groupcount.c reads. */
typedef struct RdsTimeCheck
{
	RdsCondKind kind;			/* LOWER, UPPER or TIME_EQ */
	bool		strict;
	TimestampTz value;
} RdsTimeCheck;

/* What groupcount.c needs of a scan whose streams are built. */
typedef struct RdsGroupScan
{
	const RdsOptions *opts;
	RdsConn    *conn;
	const char *path;
	RdsFilter  *filter;
	List	   *streams;		/* char *: the scan's stream queries */
	List	   *time_checks;	/* RdsTimeCheck * */
	RdsHttpStats *stats;
} RdsGroupScan;


extern char *rds_group_text(RdsGroupKind kind, RdsGroupKind kind2,
							const RdsBucket *bucket);
extern RdsGroupCount *rds_groupcount_create(RdsGroupKind kind,
											RdsGroupKind kind2,
											const RdsBucket *bucket,
											Expr *key_expr, List *specs,
											bool hide_status);
extern void rds_groupcount_run(RdsGroupCount *gc, RdsGroupScan *scan);
extern bool rds_groupcount_next_row(RdsGroupCount *gc, Datum *values,
									bool *nulls);

/* groupagg.c: the aggregates a grouped count answers */
extern char *rds_group_agg_spec(Expr *e, Index relid, Oid reloid);
extern Datum rds_group_agg_value(const char *spec, int64 count,
								 int64 status_count, bool *isnull);
extern const char *rds_group_agg_status(const char *spec);
extern char *rds_groupcount_summary(RdsGroupCount *gc);
extern List *rds_groupcount_explain(RdsGroupKind kind, RdsGroupKind kind2,
									RdsFilter *f, const RdsOptions *opts,
									const char *path);

/* bucket.c: time buckets of create_time */
extern bool rds_bucket_recognize(Expr *e, Index relid, Oid reloid, RdsBucket *b);
extern char *rds_bucket_text(const RdsBucket *b);
extern double rds_bucket_guess(const RdsBucket *b);
extern RdsBucketKey *rds_bucket_key_create(const RdsBucket *b, Expr *expr);
extern Datum rds_bucket_key(RdsBucketKey *k, TimestampTz t, bool tnull,
							bool *isnull);
extern Datum rds_bucket_key_copy(RdsBucketKey *k, Datum v, bool isnull);
extern bool rds_bucket_key_equal(RdsBucketKey *k, Datum a, bool anull,
								 Datum b, bool bnull);
extern TimestampTz rds_bucket_next(RdsBucketKey *k, TimestampTz t);

/* ================================================================
 * For the pager and the readers: the API client
 * ================================================================
 */

/* connection.c, client.c: the API client seen from the readers */

extern RdsConn *rds_get_connection(const RdsOptions *opts);
extern void rds_append_query_param(StringInfo buf, const char *key,
								   const char *value);
/* What rds_request_finish hands back */
typedef enum RdsAnswer
{
	RDS_ANSWER_BODY,			/* the response body as it came */
	RDS_ANSWER_IMAGE,			/* the page image made of it (to be cached) */
	RDS_ANSWER_CACHED			/* the shared cache's page image */
} RdsAnswer;

extern RdsRequest *rds_request_start_cached(RdsConn *conn, const char *path,
											const char *query, int cache_ttl,
											bool may_read, bool want_raw);
extern RdsAnswer rds_request_finish(RdsRequest *req, StringInfo body,
									RdsHttpStats *stats);
extern void rds_request_cancel(RdsRequest *req);
extern bool rds_request_poll(RdsRequest *req);
extern int	rds_conn_wait_fd(RdsConn *conn);
extern const char *rds_conn_server_name(RdsConn *conn);
extern Oid	rds_conn_server_id(RdsConn *conn);
extern uint64 rds_conn_wait_epoch(RdsConn *conn);
extern void rds_wait_fd_wake(void);
extern const char *rds_curl_version(void);

/* ================================================================
 * Shared by the backends of the cluster
 * ================================================================
 */

/* shared.c: state shared by the backends of the cluster */
typedef enum RdsLockResult
{
	RDS_LOCK_TAKEN,				/* this backend has it now */
	RDS_LOCK_BUSY,				/* another backend holds it */
	RDS_LOCK_MINE				/* this backend already held it */
} RdsLockResult;

/* The counters file, mapped by every backend (all zero when created). */
typedef struct RdsSharedCounters
{
	pg_atomic_uint64 hits;
	pg_atomic_uint64 misses;
	pg_atomic_uint64 merged;	/* requests that waited for a peer's fetch */
	pg_atomic_uint64 evictions;
	pg_atomic_uint64 bytes;		/* size of the entries, roughly (exact
								 * after a sweep) */
	pg_atomic_uint64 swept_at;	/* TimestampTz of the last sweep */
} RdsSharedCounters;

extern const char *rds_shared_dir(void);
extern RdsLockResult rds_lock_try(uint64 offset);
extern void rds_lock_release(uint64 offset);
extern uint64 rds_lock_merge_offset(uint64 keyhash);
extern int	rds_slot_acquire(Oid serverid, int max);
extern void rds_slot_release(Oid serverid, int slot);
extern RdsSharedCounters *rds_shared_counters(void);
extern void rds_locks_driving(bool driving);

/* what a backend waits for, as pg_stat_activity shows it */
typedef enum RdsWaitKind
{
	RDS_WAIT_WIRE,				/* the API's answer (on the wire) */
	RDS_WAIT_PEER,				/* another backend's identical request */
	RDS_WAIT_SLOT,				/* a request slot (max_concurrent_requests) */
	RDS_WAIT_BACKOFF			/* the delay before a retry */
} RdsWaitKind;

extern uint32 rds_wait_event(RdsWaitKind kind);

/* stats.c: per-server figures of the cluster, request log lines */
typedef enum RdsStatKind
{
	RDS_STAT_REQUEST,			/* an exchange sent */
	RDS_STAT_CACHE_HIT,			/* answered by the shared cache */
	RDS_STAT_MERGED				/* waited for another backend's request */
} RdsStatKind;

/* One finished HTTP exchange, as counted and logged. */
typedef struct RdsExchange
{
	Oid			serverid;
	const char *server;			/* its name */
	const char *method;
	const char *path;			/* as on the wire, without the query */
	const char *query;			/* "" if none; never holds a secret */
	long		status;			/* HTTP status, if no failure */
	const char *failure;		/* transport failure, NULL if answered */
	double		ms;				/* time of the exchange */
	size_t		bytes;			/* body bytes received */
	int			attempt;		/* 1 for the first */
	const char *retry_reason;	/* NULL: not retried */
	long		retry_in_ms;
} RdsExchange;

extern void rds_stats_define_settings(void);
extern void rds_stats_count(Oid serverid, const char *server, RdsStatKind kind);
extern void rds_stats_exchange(const RdsExchange *x);
extern void rds_stats_error(Oid serverid, const char *server,
							const char *message);

/* cache.c: the shared response cache */

/* The longest cache_ttl: an entry older than this can never be served. */
#define RDS_CACHE_TTL_MAX	86400

typedef enum RdsCacheEvent
{
	RDS_CACHE_HIT,
	RDS_CACHE_MISS,
	RDS_CACHE_MERGED
} RdsCacheEvent;

extern int	rds_cache_size_kb;
extern void rds_cache_define_settings(void);
extern RdsCacheTicket *rds_cache_ticket(Oid serverid, Oid umid,
										const char *url);
extern bool rds_cache_read(RdsCacheTicket *t, int ttl, StringInfo body);
extern void rds_cache_write(RdsCacheTicket *t, const char *body, size_t len);
extern RdsLockResult rds_cache_lock(RdsCacheTicket *t);
extern void rds_cache_unlock(RdsCacheTicket *t);
extern void rds_cache_count(RdsCacheEvent ev);

/* ================================================================
 * Options
 * ================================================================
 */

/* option.c */
extern RdsOptions *rds_get_options(Oid foreigntableid, Oid userid);
extern RdsOptions *rds_get_server_options(Oid serverid, Oid userid);
extern const char *rds_column_field_name(Oid foreigntableid, AttrNumber attnum);
extern void rds_check_connection_allowed(const RdsOptions *opts);

#endif							/* RDS_TASK_FDW_H */
