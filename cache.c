/*-------------------------------------------------------------------------
 *
 * cache.c
 *		  The response cache of rds_task_fdw: bodies of successful requests,
 *		  kept per backend for cache_ttl seconds and reused for an identical
 *		  request (same user mapping, same URL).
 *
 * Off unless cache_ttl > 0.  Entries live in their own memory context under
 * TopMemoryContext; the oldest are evicted beyond RDS_CACHE_MAX_BYTES.  Any
 * change to a server or user mapping empties the cache, and so does
 * rds_task_fdw_cache_clear().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/ilist.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

/* Memory the cached bodies may take in one backend. */
#define RDS_CACHE_MAX_BYTES (64 * 1024 * 1024)

/* Longest URL a cache key holds; longer requests are not cached. */
#define RDS_CACHE_KEY_URL	1024

typedef struct RdsCacheKey
{
	Oid			umid;
	char		url[RDS_CACHE_KEY_URL];
} RdsCacheKey;

typedef struct RdsCacheEntry
{
	RdsCacheKey key;			/* hash key */
	char	   *body;
	int			len;
	TimestampTz stored_at;
	dlist_node	node;			/* in age order, oldest first */
} RdsCacheEntry;

static HTAB *cache = NULL;
static MemoryContext cache_cxt = NULL;
static dlist_head cache_order = DLIST_STATIC_INIT(cache_order);
static Size cache_bytes = 0;

PG_FUNCTION_INFO_V1(rds_task_fdw_cache_clear);

static void
drop_entry(RdsCacheEntry *entry)
{
	dlist_delete(&entry->node);
	cache_bytes -= entry->len;
	pfree(entry->body);
	hash_search(cache, &entry->key, HASH_REMOVE, NULL);
}

/* Empty the cache; returns the number of entries dropped. */
static int64
clear_all(void)
{
	int64		n = 0;

	while (cache && !dlist_is_empty(&cache_order))
	{
		drop_entry(dlist_container(RdsCacheEntry, node,
								   dlist_head_node(&cache_order)));
		n++;
	}
	return n;
}

static void
invalidate_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	(void) clear_all();
}

static void
cache_init(void)
{
	HASHCTL		ctl;

	if (cache)
		return;
	cache_cxt = AllocSetContextCreate(TopMemoryContext,
									  "rds_task_fdw response cache",
									  ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(RdsCacheKey);
	ctl.entrysize = sizeof(RdsCacheEntry);
	ctl.hcxt = cache_cxt;
	cache = hash_create("rds_task_fdw response cache", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, invalidate_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, invalidate_callback, (Datum) 0);
}

static bool
make_key(RdsCacheKey *key, Oid umid, const char *url)
{
	if (strlen(url) >= RDS_CACHE_KEY_URL)
		return false;
	memset(key, 0, sizeof(*key));
	key->umid = umid;
	strlcpy(key->url, url, RDS_CACHE_KEY_URL);
	return true;
}

/*
 * A body stored for this user mapping and URL less than ttl seconds ago:
 * appended to body, true.  Otherwise false.
 */
bool
rds_cache_lookup(Oid umid, const char *url, int ttl, StringInfo body)
{
	RdsCacheKey key;
	RdsCacheEntry *entry;

	if (ttl <= 0 || cache == NULL || !make_key(&key, umid, url))
		return false;
	entry = hash_search(cache, &key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	if (TimestampDifferenceExceeds(entry->stored_at, GetCurrentTimestamp(),
								   ttl * 1000))
	{
		drop_entry(entry);
		return false;
	}
	appendBinaryStringInfo(body, entry->body, entry->len);
	return true;
}

/*
 * Remember a successful response body (when caching is on for the scan).
 */
void
rds_cache_store(Oid umid, const char *url, int ttl, const char *body, int len)
{
	RdsCacheKey key;
	RdsCacheEntry *entry;
	bool		found;

	if (ttl <= 0 || len > RDS_CACHE_MAX_BYTES || !make_key(&key, umid, url))
		return;
	cache_init();

	entry = hash_search(cache, &key, HASH_FIND, NULL);
	if (entry)
		drop_entry(entry);
	while (cache_bytes + len > RDS_CACHE_MAX_BYTES && !dlist_is_empty(&cache_order))
		drop_entry(dlist_container(RdsCacheEntry, node,
								   dlist_head_node(&cache_order)));

	entry = hash_search(cache, &key, HASH_ENTER, &found);
	entry->body = MemoryContextAlloc(cache_cxt, Max(len, 1));
	memcpy(entry->body, body, len);
	entry->len = len;
	entry->stored_at = GetCurrentTimestamp();
	dlist_push_tail(&cache_order, &entry->node);
	cache_bytes += len;
}

/*
 * rds_task_fdw_cache_clear(): drop every cached response of this backend;
 * returns how many there were.
 */
Datum
rds_task_fdw_cache_clear(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(clear_all());
}
