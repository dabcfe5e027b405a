/*-------------------------------------------------------------------------
 *
 * planner.h
 *		  Private to the planner's files (planner.c, grouppath.c): the
 *		  planner state of a relation and the cost of a request.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_PLANNER_H
#define RDS_PLANNER_H

#include "nodes/pathnodes.h"

#include "rds_task_fdw.h"

/* One HTTP exchange, in units of seq_page_cost: a remote round trip. */
#define REQUEST_COST			100.0

/*
 * Planner state of a relation (RelOptInfo.fdw_private): for the foreign
 * table itself, and for the upper relations we offer paths for.
 */
typedef struct RdsRelInfo
{
	Oid			relid;			/* the foreign table */
	RdsOptions *opts;
	List	   *remote_conds;	/* RdsCond * of baserestrictinfo */
	List	   *local_conds;	/* RestrictInfo * checked locally */
	bool		all_exact;		/* nothing is left to check locally */
	bool		has_fanout;		/* an IN list is pushed */
	double		total_tasks;	/* estimated size of the whole list */
	double		streams;		/* estimated request streams */
	double		fetched_rows;	/* estimated rows the requests return */
	List	   *remote_rinfos;	/* RestrictInfo * of remote_conds */
	List	   *unpushed_rinfos;	/* RestrictInfo * the API does not see */
	RdsScanMode upper;			/* for an upper relation: what it does */
	RelOptInfo *baserel;		/* for an upper relation: the foreign table */
	RdsGroupKind group_kind;	/* RDS_SCAN_GROUPS: the key */
	RdsGroupKind group_kind2;	/* ... a second key after a bucket, or NONE */
	bool		group_hide_status;	/* ... status counted, not a column */
	List	   *group_exprs;	/* RDS_SCAN_GROUPS: the GROUP BY expressions,
								 * in the order of the keys */
	List	   *having;			/* RDS_SCAN_GROUPS: HAVING, checked locally */
	RdsBucket	bucket;			/* RDS_GROUP_BUCKET: the key's core */
} RdsRelInfo;

/* grouppath.c: the grouped count's upper path */
extern void rds_add_group_count_path(PlannerInfo *root, RelOptInfo *input_rel,
									 RelOptInfo *output_rel,
									 GroupPathExtraData *gextra);
extern List *rds_group_scan_tlist(RdsRelInfo *fpinfo, PathTarget *target);

#endif							/* RDS_PLANNER_H */
