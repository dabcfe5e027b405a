/*-------------------------------------------------------------------------
 *
 * rds_compat.h
 *		  The differences between the PostgreSQL versions rds_task_fdw builds
 *		  against (14 to 17), in one place.
 *
 * PostgreSQL 13 lacks pg_hmac (AK/SK signing) and the asynchronous FDW
 * API, so 14 is the oldest version supported.  Only 15 is built and tested
 * on the project's machines; the guards below follow the upstream API
 * changes of 16 (permission info moved out of RangeTblEntry) and 17 (the
 * fdw_restrictinfo argument of the path constructors).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_COMPAT_H
#define RDS_COMPAT_H

#if PG_VERSION_NUM < 140000
#error "rds_task_fdw needs PostgreSQL 14 or later"
#endif

/* The user a foreign scan checks permissions as (0: the current user). */
#if PG_VERSION_NUM >= 160000
#define RDS_SCAN_CHECK_AS_USER(fsplan, rte) ((fsplan)->checkAsUser)
#else
#define RDS_SCAN_CHECK_AS_USER(fsplan, rte) ((rte)->checkAsUser)
#endif

/* Path constructors: PostgreSQL 17 added fdw_restrictinfo. */
#if PG_VERSION_NUM >= 170000
#define rds_create_foreignscan_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, priv) \
	create_foreignscan_path(root, rel, target, rows, startup, total, \
							pathkeys, required_outer, outerpath, NIL, priv)
#define rds_create_foreign_upper_path(root, rel, target, rows, startup, total, \
									  pathkeys, outerpath, priv) \
	create_foreign_upper_path(root, rel, target, rows, startup, total, \
							  pathkeys, outerpath, NIL, priv)
#else
#define rds_create_foreignscan_path create_foreignscan_path
#define rds_create_foreign_upper_path create_foreign_upper_path
#endif

/* A uniform random number in [0, 1): pg_prng arrived in PostgreSQL 15. */
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#define rds_random_fraction() pg_prng_double(&pg_global_prng_state)
#else
#define rds_random_fraction() ((double) random() / ((double) MAX_RANDOM_VALUE + 1))
#endif

#endif							/* RDS_COMPAT_H */
