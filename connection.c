/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  The per-backend cache of rds_task_fdw connections, keyed by user
 *		  mapping OID, and its invalidation.
 *
 * A connection (client.c's RdsConn) keeps libcurl handles, TLS sessions,
 * open HTTP connections and the IAM token across pages, scans and
 * statements.  ALTER/DROP of the server or user mapping marks the entry
 * invalidated; it is rebuilt on the next rds_get_connection.  A connection
 * handed out in the current transaction may still be referenced by an open
 * scan (a cursor), so it is not freed then but retired until the end of the
 * transaction.  Transfers still in flight at (sub)transaction abort are
 * stopped, so the next statement finds every multi handle idle.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "rds_http.h"

typedef struct RdsConnCacheEntry
{
	Oid			key;			/* user mapping OID: hash key, must be first */
	RdsConn    *conn;			/* NULL until (re)built */
	bool		invalidated;	/* options changed: rebuild before reuse */
	bool		used_in_xact;	/* handed out in the current transaction */
	uint32		server_hashvalue;	/* FOREIGNSERVEROID hash of the server */
	uint32		mapping_hashvalue;	/* USERMAPPINGOID hash of the mapping */
} RdsConnCacheEntry;

static HTAB *ConnectionHash = NULL;

/* parent of every connection's context, and home of the bookkeeping */
static MemoryContext RdsConnectionContext = NULL;

/* invalidated connections still possibly in use: freed at transaction end */
static List *RetiredConnections = NIL;

static void conn_cache_init(void);
static void conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void conn_xact_callback(XactEvent event, void *arg);
static void conn_subxact_callback(SubXactEvent event,
								  SubTransactionId mySubid,
								  SubTransactionId parentSubid, void *arg);
static void conn_abort_all(int nestlevel);


/*
 * rds_get_connection
 *		The connection of opts->umid for this backend, built from opts on
 *		first use or after an invalidation.  The connection copies what it
 *		needs from opts (server and user mapping options).  It stays valid at
 *		least until the end of the current transaction.  Throws if it cannot
 *		be built, or if opts may not be used (rds_check_connection_allowed).
 */
RdsConn *
rds_get_connection(const RdsOptions *opts)
{
	RdsConnCacheEntry *entry;
	bool		found;

	rds_check_connection_allowed(opts);

	if (ConnectionHash == NULL)
		conn_cache_init();

	entry = hash_search(ConnectionHash, &opts->umid, HASH_ENTER, &found);
	if (!found)
	{
		entry->conn = NULL;
		entry->invalidated = false;
		entry->used_in_xact = false;
	}

	if (entry->conn != NULL && entry->invalidated)
	{
		RdsConn    *old = entry->conn;

		if (entry->used_in_xact)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(RdsConnectionContext);

			RetiredConnections = lappend(RetiredConnections, old);
			MemoryContextSwitchTo(oldcxt);
			entry->conn = NULL;
		}
		else
		{
			entry->conn = NULL;
			rds_conn_destroy(old);
		}
	}

	if (entry->conn == NULL)
	{
		entry->invalidated = false;
		entry->server_hashvalue =
			GetSysCacheHashValue1(FOREIGNSERVEROID,
								  ObjectIdGetDatum(opts->serverid));
		entry->mapping_hashvalue =
			GetSysCacheHashValue1(USERMAPPINGOID,
								  ObjectIdGetDatum(opts->umid));
		entry->conn = rds_conn_create(opts, RdsConnectionContext);
	}

	entry->used_in_xact = true;
	return entry->conn;
}

/*
 * conn_cache_init
 *		Creates the cache and registers the invalidation and transaction
 *		callbacks, once per backend.
 */
static void
conn_cache_init(void)
{
	HASHCTL		ctl;

	RdsConnectionContext = AllocSetContextCreate(CacheMemoryContext,
												 "rds_task_fdw connections",
												 ALLOCSET_DEFAULT_SIZES);

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RdsConnCacheEntry);
	ctl.hcxt = RdsConnectionContext;
	ConnectionHash = hash_create("rds_task_fdw connections", 8, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, conn_inval_callback,
								  (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, conn_inval_callback,
								  (Datum) 0);
	RegisterXactCallback(conn_xact_callback, NULL);
	RegisterSubXactCallback(conn_subxact_callback, NULL);
}

/*
 * conn_inval_callback
 *		A server or user mapping changed (hashvalue 0: possibly any of them):
 *		mark the affected entries.  Only marks; freeing happens in
 *		rds_get_connection or at transaction end.
 */
static void
conn_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	RdsConnCacheEntry *entry;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID &&
			 entry->server_hashvalue == hashvalue) ||
			(cacheid == USERMAPPINGOID &&
			 entry->mapping_hashvalue == hashvalue))
			entry->invalidated = true;
	}
}

/*
 * conn_xact_callback
 *		At the end of a transaction: stop transfers still in flight (an
 *		aborted statement's, or ones nobody finished), free invalidated and
 *		retired connections (wiping their secrets), and forget which
 *		connections the transaction used.
 */
static void
conn_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	RdsConnCacheEntry *entry;
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}

	conn_abort_all(0);

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		entry->used_in_xact = false;
		if (entry->conn != NULL && entry->invalidated)
		{
			RdsConn    *conn = entry->conn;

			entry->conn = NULL;
			rds_conn_destroy(conn);
		}
	}

	foreach(lc, RetiredConnections)
		rds_conn_destroy((RdsConn *) lfirst(lc));
	list_free(RetiredConnections);
	RetiredConnections = NIL;
}

/*
 * conn_subxact_callback
 *		At subtransaction abort, stop the transfers the subtransaction (or
 *		a deeper one) started.  Requests of scans that outlive it (cursors
 *		opened earlier) start again when they are next finished.
 */
static void
conn_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	conn_abort_all(GetCurrentTransactionNestLevel());
}

/* Stops transfers started at nestlevel or deeper on every connection. */
static void
conn_abort_all(int nestlevel)
{
	HASH_SEQ_STATUS scan;
	RdsConnCacheEntry *entry;
	ListCell   *lc;

	hash_seq_init(&scan, ConnectionHash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn != NULL)
			rds_conn_abort_requests(entry->conn, nestlevel);
	}
	foreach(lc, RetiredConnections)
		rds_conn_abort_requests((RdsConn *) lfirst(lc), nestlevel);
}
