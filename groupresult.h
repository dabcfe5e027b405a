/*-------------------------------------------------------------------------
 *
 * groupresult.h
 *		  What a grouped count counted, private to groupresult.c, which
 *		  keeps it, and groupcount.c, which asks: a run's state, its groups
 *		  and rows, and groupresult.c's functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_GROUPRESULT_H
#define RDS_GROUPRESULT_H

#include "rds_task_fdw.h"

/* One group: its key, and what counts it. */
typedef struct GcGroup
{
	bool		isnull;
	char	   *raw;			/* status/name: the API's value (UTF-8) */
	char	   *text;			/* the same in the server encoding */
	Datum		label;			/* buckets: the query's key */
	TimestampTz rep;			/* buckets: an instant of the key (its
								 * bucket's start, or a task's time) */
	bool		rep_null;		/* ... a task without create_time */
	int64		start_ms;		/* buckets: the window asked for */
	int64		end_ms;
	bool		complete;		/* buckets: every task read (counted locally) */
	int64		count;			/* API's count, then corrected; or local */
} GcGroup;

/*
 * One request: a query, its answer.  A limit=1 request keeps only its
 * total_count and task count: its body and page are freed as soon as they
 * are read.  A page request (limit = page_size) keeps its page, whose tasks
 * are counted or rechecked.
 */
typedef struct GcReq
{
	char	   *stream;			/* the filter parameters */
	int64		offset;
	int			limit;
	int			group;			/* the group it counts, -1 none */
	bool		keep;			/* keep the page once read */
	MemoryContext cxt;			/* the request, body and page; NULL once
								 * freed */
	RdsPageReq *pr;				/* maybe answered by the response cache */
	RdsPage    *page;
	int64		total;
	int			ntasks;
} GcReq;

/* A row of the scan tuple: groups of one visible key (groupresult.c). */
typedef struct GcRow
{
	GcGroup    *g;				/* the first, whose keys are shown */
	int64		count;
	int64	   *by_spec;		/* per aggregate spec: its status's count */
} GcRow;

/* A grouped count: what it asks, what it counted, how it went. */
struct RdsGroupCount
{
	RdsGroupKind kind;
	RdsGroupKind kind2;			/* with a bucket: STATUS or NAME, a second key */
	List	   *specs;			/* String: each aggregate column (groupagg.c) */
	bool		hide_status;	/* status only for the aggregates, not shown */
	bool		totals_apart;	/* groups without a status are the totals, the
								 * others only the aggregates' statuses */
	RdsBucket	bucket;			/* RDS_GROUP_BUCKET: the key's core */
	Expr	   *key_expr;		/* RDS_GROUP_BUCKET: the query's key */
	RdsBucketKey *key;			/* ... evaluated (bucket.c) */
	MemoryContext cxt;			/* everything of a run */
	RdsGroupScan *scan;
	bool		may_read;		/* the requests may be answered by the cache */

	/* the result */
	GcGroup    *groups;
	int			ngroups;
	int			maxgroups;
	GcGroup    *local;			/* tasks counted locally, by key */
	int			nlocal;
	int			maxlocal;
	int			next;			/* next group: groups, then local */
	GcRow	   *rows;			/* the scan's rows, once built */
	int			nrows;
	int			next_row;
	RdsIdSet   *seen;

	/* what happened, for EXPLAIN ANALYZE */
	const char *how;			/* "groups", "first pages", "pages", "none" */
	bool		fallback;		/* pages read because the groups failed */
	char	   *reason;			/* why the pages were read */
	int64		window_total;	/* the window's total_count, -1 unknown */
	int			group_requests;
	int			edge_requests;
	int64		tail_start_ms;	/* buckets without an upper bound: where the
								 * bucket after the last one starts, -1 */
};

/* The statuses the API documents: GROUP BY status asks for each. */
extern const char *const rds_gc_documented_statuses[];

static inline bool
is_bucket(RdsGroupKind kind)
{
	return kind == RDS_GROUP_BUCKET;
}

/* The task field a status or name group is keyed by. */
static inline const char *
group_field(RdsGroupKind kind)
{
	return kind == RDS_GROUP_STATUS ? "status" : "name";
}

/* groupresult.c */
extern bool rds_gc_time_checks_pass(List *checks, TimestampTz t, bool isnull);
extern void rds_gc_task_key(RdsGroupCount *gc, RdsPage *page, int i, GcGroup *g);
extern bool rds_gc_same_key(RdsGroupCount *gc, GcGroup *a, GcGroup *b);
extern GcGroup *rds_gc_add_group(GcGroup **arr, int *n, int *max);
extern void rds_gc_tally_task(RdsGroupCount *gc, RdsPage *page, int i,
							  bool check_filter);
extern char *rds_gc_result_key(RdsGroupCount *gc, RdsGroupScan *scan);
extern void rds_gc_store_result(RdsGroupCount *gc, StringInfo buf);
extern bool rds_gc_load_result(RdsGroupCount *gc, const char *data, int len);
extern GcGroup *rds_gc_next_group(RdsGroupCount *gc);
extern void rds_gc_read_pages(RdsGroupCount *gc, const char *reason, bool fallback);
extern void rds_gc_read_rest_pages(RdsGroupCount *gc, List *first,
								   const char *reason, bool fallback);

#endif							/* RDS_GROUPRESULT_H */
