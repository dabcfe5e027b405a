/*-------------------------------------------------------------------------
 *
 * rds_compat.h
 *		  The differences between the PostgreSQL versions rds_task_fdw builds
 *		  against (15 to 18), in one place.
 *
 * 15, 17 and 18 are built and tested (Debian 12, Debian 13 and sid); 16
 * has no Debian package there and follows from the guards below, which
 * track the upstream API changes of 16 (permission info moved out of
 * RangeTblEntry, DecodeDateTime's DateTimeErrorExtra), 17 (the
 * fdw_restrictinfo argument of the path constructors, the caller-supplied
 * JsonLexContext) and 18 (pg_noreturn, explain_state.h and
 * explain_format.h, the disabled_nodes argument of the path constructors).
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_COMPAT_H
#define RDS_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "rds_task_fdw needs PostgreSQL 15 or later"
#endif

/*
 * A function that never returns.  18 replaced the trailing attribute
 * pg_attribute_noreturn() with a leading pg_noreturn.
 */
#if PG_VERSION_NUM >= 180000
#define RDS_NORETURN pg_noreturn
#define RDS_NORETURN_ATTR
#else
#define RDS_NORETURN
#define RDS_NORETURN_ATTR pg_attribute_noreturn()
#endif

/*
 * DecodeDateTime reports the bad field through a DateTimeErrorExtra from
 * 16 on.
 */
#if PG_VERSION_NUM >= 160000
#define rds_decode_date_time(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime(field, ftype, nf, dtype, tm, fsec, tz, NULL)
#else
#define rds_decode_date_time DecodeDateTime
#endif

/*
 * A JSON lexer over a string, without de-escaping.  17 fills the context
 * it is given (released with freeJsonLexContext, which also frees the text
 * json_errdetail returned); older versions palloc one.
 */
#if PG_VERSION_NUM >= 170000
#define rds_make_json_lex(buf, json, len) \
	makeJsonLexContextCstringLen(buf, json, len, PG_UTF8, false)
#define rds_free_json_lex(lex) freeJsonLexContext(lex)
#else
#define rds_make_json_lex(buf, json, len) \
	((void) (buf), makeJsonLexContextCstringLen(json, len, PG_UTF8, false))
#define rds_free_json_lex(lex) pfree(lex)
#endif

/* The user a foreign scan checks permissions as (0: the current user). */
#if PG_VERSION_NUM >= 160000
#define RDS_SCAN_CHECK_AS_USER(fsplan, rte) ((fsplan)->checkAsUser)
#else
#define RDS_SCAN_CHECK_AS_USER(fsplan, rte) ((rte)->checkAsUser)
#endif

/*
 * Path constructors: 17 added fdw_restrictinfo, 18 disabled_nodes (the
 * number of disabled nodes below: none for a foreign scan or upper path).
 */
#if PG_VERSION_NUM >= 180000
#define rds_create_foreignscan_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, priv) \
	create_foreignscan_path(root, rel, target, rows, 0, startup, total, \
							pathkeys, required_outer, outerpath, NIL, priv)
#define rds_create_foreign_upper_path(root, rel, target, rows, startup, total, \
									  pathkeys, outerpath, priv) \
	create_foreign_upper_path(root, rel, target, rows, 0, startup, total, \
							  pathkeys, outerpath, NIL, priv)
#elif PG_VERSION_NUM >= 170000
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

/* Is a path key descending?  18 replaced pk_strategy with pk_cmptype. */
#if PG_VERSION_NUM >= 180000
#define RDS_PATHKEY_DESC(pk) ((pk)->pk_cmptype == COMPARE_GT)
#else
#define RDS_PATHKEY_DESC(pk) ((pk)->pk_strategy == BTGreaterStrategyNumber)
#endif

/* Wait events of their own for extensions (WaitEventExtensionNew). */
#if PG_VERSION_NUM >= 170000
#define RDS_HAVE_CUSTOM_WAIT_EVENTS 1
#endif

/* USAGE on a foreign server; ownership of a database */
#if PG_VERSION_NUM >= 160000
#define rds_server_usage_ok(srvid, roleid) \
	(object_aclcheck(ForeignServerRelationId, srvid, roleid, ACL_USAGE) == ACLCHECK_OK)
#define rds_database_owner(dbid, roleid) \
	object_ownercheck(DatabaseRelationId, dbid, roleid)
#else
#define rds_server_usage_ok(srvid, roleid) \
	(pg_foreign_server_aclcheck(srvid, roleid, ACL_USAGE) == ACLCHECK_OK)
#define rds_database_owner(dbid, roleid) pg_database_ownercheck(dbid, roleid)
#endif

/* A uniform random number in [0, 1). */
#include "common/pg_prng.h"
#define rds_random_fraction() pg_prng_double(&pg_global_prng_state)

#endif							/* RDS_COMPAT_H */
