/*-------------------------------------------------------------------------
 *
 * cache.c
 *		  The response cache of rds_task_fdw, shared by every backend of the
 *		  cluster: answers of successful requests (the page decoded, see
 *		  gate.c; a grouped count's result), reused for cache_ttl
 *		  seconds by any backend sending the identical request under the
 *		  same server and user mapping; and the merge locks that let one
 *		  backend fetch while the others asking the same wait for its answer.
 *
 * One file per entry in $PGDATA/pg_stat_tmp/rds_task_fdw (see shared.c),
 * named after a 64-bit hash of the key, written under a temporary name and
 * renamed, so a reader sees a whole entry or none (a backend killed while
 * writing leaves only a temporary file, removed by the next sweep).  The
 * file holds the full key, checked on every read (a hash collision is a
 * miss, never a wrong body), the fetch time (the reader's cache_ttl is
 * applied to it) and the answer.  The key is the database, server and user
 * mapping OIDs, the xmin of their catalog rows (an ALTER SERVER or ALTER
 * USER MAPPING writes a new row version, so entries of the old one are never
 * served again; a database created with the OID of a dropped one has
 * another pg_database row, so it is never served the dropped one's entries)
 * and the request URL; no secret is part of it.  The OS page cache keeps hot
 * entries in memory.
 *
 * An entry no reader can be served again is dead: its database was dropped
 * (or its pg_database row replaced), or, seen from its own database, its
 * server or user mapping was dropped (DROP EXTENSION ... CASCADE, DROP
 * SERVER, DROP USER MAPPING) or altered; or it is older than the longest
 * cache_ttl.  Every listing of the directory (scan_entries) deletes the dead
 * entries it finds: rds_task_fdw_cache_stats() before counting, and the
 * sweep that a store starts at most every RDS_CACHE_SWEEP_INTERVAL_S.
 *
 * The size is bounded by rds_task_fdw.cache_size; a store that takes the
 * running total over it starts a sweep (one backend at a time) that deletes
 * the dead entries, then the entries fetched first until 90% of the bound
 * remains.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

#define RDS_CACHE_MAGIC		0x52445343	/* "RDSC" */
/* 3: an entry of a task-list request holds its page image, not the body */
#define RDS_CACHE_FORMAT	3
#define RDS_CACHE_SUFFIX	".entry"
#define RDS_CACHE_TMP		"tmp."

/* The byte lock of the eviction sweep (see shared.c's layout). */
#define RDS_LOCK_SWEEP		0

/* A temporary file this old was left by a backend that died writing it. */
#define RDS_CACHE_TMP_AGE_S	600

/* A store starts a sweep for dead entries at most this often. */
#define RDS_CACHE_SWEEP_INTERVAL_S	10

/* rds_task_fdw.cache_size, in kB */
int			rds_cache_size_kb = 256 * 1024;

/*
 * Where an entry comes from: the catalog rows (OID and xmin) its key names,
 * and the mapping's user.
 */
typedef struct RdsCacheOrigin
{
	Oid			dbid;
	TransactionId dbxmin;
	Oid			serverid;
	TransactionId srvxmin;
	Oid			umid;
	TransactionId umxmin;
	Oid			owner;			/* the user mapping's user, 0 for PUBLIC */
} RdsCacheOrigin;

/* The header of an entry file; the key and the answer follow. */
typedef struct RdsCacheHeader
{
	uint32		magic;
	uint32		format;
	TimestampTz fetched_at;
	RdsCacheOrigin o;			/* also in the key */
	uint32		keylen;
	uint32		bodylen;
} RdsCacheHeader;

/* What a request needs to use the cache; see rds_cache_ticket. */
struct RdsCacheTicket
{
	char	   *key;
	uint32		keylen;
	uint64		hash;
	RdsCacheOrigin o;
	char	   *path;			/* the entry file */
};

PG_FUNCTION_INFO_V1(rds_task_fdw_cache_clear);
PG_FUNCTION_INFO_V1(rds_task_fdw_cache_stats);
PG_FUNCTION_INFO_V1(rds_task_fdw_cache_stats_by_database);

static void sweep(bool evict);

/*
 * rds_cache_define_settings
 *		Defines rds_task_fdw.cache_size (called from _PG_init).
 */
void
rds_cache_define_settings(void)
{
	DefineCustomIntVariable("rds_task_fdw.cache_size",
							"Disk space the shared response cache may take.",
							"Entries live under pg_stat_tmp/rds_task_fdw; beyond this size the "
							"oldest are deleted.",
							&rds_cache_size_kb,
							256 * 1024,
							16,
							INT_MAX / 2,
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
}

/*
 * row_version
 *		Whether the row oid of syscache cacheid exists; if so, its xmin in
 *		*xmin and, for a user mapping, its user in *owner (may be NULL).
 *		Reads the catalog: call it in a transaction.
 */
static bool
row_version(int cacheid, Oid oid, TransactionId *xmin, Oid *owner)
{
	HeapTuple	tup = SearchSysCache1(cacheid, ObjectIdGetDatum(oid));

	if (!HeapTupleIsValid(tup))
		return false;
	*xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	if (owner != NULL)
		*owner = ((Form_pg_user_mapping) GETSTRUCT(tup))->umuser;
	ReleaseSysCache(tup);
	return true;
}

/*
 * rds_cache_ticket
 *		The cache key of a request of server serverid through user mapping
 *		umid for url, palloc'd in CurrentMemoryContext.  Reads the catalog:
 *		call it in a transaction.  Throws if the server or mapping is gone.
 */
RdsCacheTicket *
rds_cache_ticket(Oid serverid, Oid umid, const char *url)
{
	RdsCacheTicket *t = palloc0(sizeof(RdsCacheTicket));
	RdsCacheOrigin *o = &t->o;

	o->dbid = MyDatabaseId;
	if (!row_version(DATABASEOID, MyDatabaseId, &o->dbxmin, NULL))
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	o->serverid = serverid;
	if (!row_version(FOREIGNSERVEROID, serverid, &o->srvxmin, NULL))
		elog(ERROR, "cache lookup failed for foreign server %u", serverid);
	o->umid = umid;
	if (!row_version(USERMAPPINGOID, umid, &o->umxmin, &o->owner))
		elog(ERROR, "cache lookup failed for user mapping %u", umid);

	t->key = psprintf("db=%u/%u server=%u/%u mapping=%u/%u %s",
					  o->dbid, o->dbxmin, o->serverid, o->srvxmin,
					  o->umid, o->umxmin, url);
	t->keylen = strlen(t->key);
	t->hash = hash_bytes_extended((const unsigned char *) t->key,
								  t->keylen, 0);
	t->path = psprintf("%s/%016llx" RDS_CACHE_SUFFIX,
					   rds_shared_dir(), (unsigned long long) t->hash);
	return t;
}

/* Reads exactly len bytes; false on a short read or an error. */
static bool
read_all(int fd, void *buf, size_t len)
{
	char	   *p = buf;

	while (len > 0)
	{
		ssize_t		n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static bool
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

/*
 * rds_cache_read
 *		If an entry for t fetched less than ttl seconds ago exists, makes
 *		body hold exactly its body (whatever body held before is dropped,
 *		so that a request read twice can never answer twice) and returns
 *		true.  A missing, expired, foreign (hash
 *		collision) or damaged entry is a miss.  Throws only if out of memory.
 */
bool
rds_cache_read(RdsCacheTicket *t, int ttl, StringInfo body)
{
	RdsCacheHeader h;
	struct stat st;
	int			fd;
	bool		ok = false;
	char	   *key = NULL;

	if (ttl <= 0)
		return false;
	fd = OpenTransientFile(t->path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && read_all(fd, &h, sizeof(h)) &&
		h.magic == RDS_CACHE_MAGIC && h.format == RDS_CACHE_FORMAT &&
		h.keylen == t->keylen &&
		st.st_size == (off_t) (sizeof(h) + h.keylen + h.bodylen) &&
		!TimestampDifferenceExceeds(h.fetched_at, GetCurrentTimestamp(),
									ttl * 1000))
	{
		key = palloc(h.keylen);
		if (read_all(fd, key, h.keylen) && memcmp(key, t->key, h.keylen) == 0)
		{
			resetStringInfo(body);
			enlargeStringInfo(body, h.bodylen);
			if (read_all(fd, body->data + body->len, h.bodylen))
			{
				body->len += h.bodylen;
				body->data[body->len] = '\0';
				ok = true;
			}
		}
		pfree(key);
	}
	CloseTransientFile(fd);
	return ok;
}

/*
 * rds_cache_write
 *		Stores body as the entry for t, fetched now (replacing an older
 *		entry), and sweeps the directory if the cache went over its size.
 *		A failure to write only means no entry.  Never throws, except when
 *		out of memory.
 */
void
rds_cache_write(RdsCacheTicket *t, const char *body, size_t len)
{
	static uint32 seq = 0;
	RdsSharedCounters *c;
	RdsCacheHeader h;
	char	   *tmp;
	int			fd;
	bool		ok;
	uint64		total;
	uint64		size = sizeof(h) + t->keylen + len;

	if (size > (uint64) rds_cache_size_kb * 1024 / 4)
		return;					/* one entry never takes over the cache */

	memset(&h, 0, sizeof(h));
	h.magic = RDS_CACHE_MAGIC;
	h.format = RDS_CACHE_FORMAT;
	h.fetched_at = GetCurrentTimestamp();
	h.o = t->o;
	h.keylen = t->keylen;
	h.bodylen = (uint32) len;

	tmp = psprintf("%s/" RDS_CACHE_TMP "%d.%u", rds_shared_dir(), MyProcPid,
				   seq++);
	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
	{
		pfree(tmp);
		return;
	}
	ok = write_all(fd, &h, sizeof(h)) && write_all(fd, t->key, t->keylen) &&
		write_all(fd, body, len);
	if (CloseTransientFile(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, t->path) != 0)
	{
		(void) unlink(tmp);
		pfree(tmp);
		return;
	}
	pfree(tmp);

	c = rds_shared_counters();
	total = pg_atomic_add_fetch_u64(&c->bytes, size);
	if (total > (uint64) rds_cache_size_kb * 1024)
		sweep(true);
	else if (TimestampDifferenceExceeds((TimestampTz) pg_atomic_read_u64(&c->swept_at),
										h.fetched_at,
										RDS_CACHE_SWEEP_INTERVAL_S * 1000))
		sweep(false);
}

/*
 * rds_cache_lock
 *		Tries the merge lock of t's key (see shared.c): RDS_LOCK_TAKEN means
 *		this request fetches and others wait for it; RDS_LOCK_BUSY that
 *		another backend is fetching it; RDS_LOCK_MINE that a request of this
 *		backend is (the caller then fetches without waiting: the other
 *		request may not progress while this one waits).
 */
RdsLockResult
rds_cache_lock(RdsCacheTicket *t)
{
	return rds_lock_try(rds_lock_merge_offset(t->hash));
}

/* Releases the merge lock of t's key.  Never throws. */
void
rds_cache_unlock(RdsCacheTicket *t)
{
	rds_lock_release(rds_lock_merge_offset(t->hash));
}

/* Counts a hit, a miss or a merged wait in the cluster-wide counters. */
void
rds_cache_count(RdsCacheEvent ev)
{
	RdsSharedCounters *c = rds_shared_counters();

	switch (ev)
	{
		case RDS_CACHE_HIT:
			pg_atomic_fetch_add_u64(&c->hits, 1);
			break;
		case RDS_CACHE_MISS:
			pg_atomic_fetch_add_u64(&c->misses, 1);
			break;
		case RDS_CACHE_MERGED:
			pg_atomic_fetch_add_u64(&c->merged, 1);
			break;
	}
}

/* ------------------------------------------------------------------------
 * The directory: sweeps, statistics, clearing
 * ------------------------------------------------------------------------
 */

/* A live entry, as scan_entries lists it. */
typedef struct RdsCacheFile
{
	char		name[NAMEDATALEN];	/* file name in rds_shared_dir() */
	TimestampTz fetched_at;
	off_t		size;
	Oid			dbid;
	Oid			serverid;
	Oid			owner;			/* the user mapping's user, 0 for PUBLIC */
} RdsCacheFile;

static int
file_age_cmp(const void *a, const void *b)
{
	const RdsCacheFile *x = a;
	const RdsCacheFile *y = b;

	if (x->fetched_at != y->fetched_at)
		return (x->fetched_at < y->fetched_at) ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * entry_is_dead
 *		Whether no request can be served the entry of origin o fetched at
 *		fetched_at any more (see the file header): its database is gone or
 *		has a new pg_database row; in this database, its server or user
 *		mapping is gone or has a new row; or it is older than the longest
 *		cache_ttl.  Another database's servers and mappings cannot be seen
 *		from here: their entries go when their database is dropped, or by
 *		age.  Reads the catalog: call it in a transaction.
 */
static bool
entry_is_dead(const RdsCacheOrigin *o, TimestampTz fetched_at, TimestampTz now)
{
	TransactionId xmin;

	if (TimestampDifferenceExceeds(fetched_at, now, RDS_CACHE_TTL_MAX * 1000))
		return true;
	if (!row_version(DATABASEOID, o->dbid, &xmin, NULL) || xmin != o->dbxmin)
		return true;
	if (o->dbid != MyDatabaseId)
		return false;
	if (!row_version(FOREIGNSERVEROID, o->serverid, &xmin, NULL) ||
		xmin != o->srvxmin)
		return true;
	if (!row_version(USERMAPPINGOID, o->umid, &xmin, NULL) ||
		xmin != o->umxmin)
		return true;
	return false;
}

/*
 * scan_entries
 *		The live entries of the cache (palloc'd array, *n of them) and their
 *		total size.  Deletes on the way the dead entries (see entry_is_dead;
 *		only when called in a transaction, as the check reads the catalog),
 *		files that are not a whole entry of this format, and temporary files
 *		left by backends that died writing them; *removed counts the entries
 *		deleted.  This is the one listing of the directory: the sweep, the
 *		statistics and clearing all start from it.  Never throws on a
 *		file-system error (the file is skipped); throws only when out of
 *		memory.
 */
static RdsCacheFile *
scan_entries(int *n, uint64 *bytes, int64 *removed)
{
	const char *dir = rds_shared_dir();
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	RdsCacheFile *files;
	int			max = 64;
	time_t		now_s = time(NULL);
	TimestampTz now = GetCurrentTimestamp();
	bool		check = IsTransactionState();

	*n = 0;
	*bytes = 0;
	*removed = 0;
	files = palloc(max * sizeof(RdsCacheFile));
	if (d == NULL)
		return files;
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		char		path[MAXPGPATH];
		struct stat st;
		RdsCacheHeader h;
		size_t		l = strlen(de->d_name);
		bool		entry = l > strlen(RDS_CACHE_SUFFIX) && l < NAMEDATALEN &&
			strcmp(de->d_name + l - strlen(RDS_CACHE_SUFFIX), RDS_CACHE_SUFFIX) == 0;
		bool		tmp = strncmp(de->d_name, RDS_CACHE_TMP, strlen(RDS_CACHE_TMP)) == 0;
		bool		whole;
		int			fd;

		if (!entry && !tmp)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (tmp)
		{
			if (stat(path, &st) == 0 && now_s - st.st_mtime > RDS_CACHE_TMP_AGE_S)
				(void) unlink(path);
			continue;
		}
		fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
		if (fd < 0)
			continue;
		whole = fstat(fd, &st) == 0 && read_all(fd, &h, sizeof(h)) &&
			h.magic == RDS_CACHE_MAGIC && h.format == RDS_CACHE_FORMAT &&
			st.st_size == (off_t) (sizeof(h) + h.keylen + h.bodylen);
		CloseTransientFile(fd);
		if (!whole || (check && entry_is_dead(&h.o, h.fetched_at, now)))
		{
			if (unlink(path) == 0)
				(*removed)++;
			continue;
		}
		if (*n == max)
		{
			max *= 2;
			files = repalloc(files, max * sizeof(RdsCacheFile));
		}
		strlcpy(files[*n].name, de->d_name, NAMEDATALEN);
		files[*n].fetched_at = h.fetched_at;
		files[*n].size = st.st_size;
		files[*n].dbid = h.o.dbid;
		files[*n].serverid = h.o.serverid;
		files[*n].owner = h.o.owner;
		*bytes += st.st_size;
		(*n)++;
	}
	FreeDir(d);
	return files;
}

/* Deletes the entry file name (of rds_shared_dir()); true if it did. */
static bool
remove_entry(const char *name)
{
	char		path[MAXPGPATH];

	snprintf(path, sizeof(path), "%s/%s", rds_shared_dir(), name);
	return unlink(path) == 0;
}

/*
 * sweep
 *		Deletes the dead entries (see scan_entries) and, with evict, the
 *		entries fetched first until the cache takes at most 90% of
 *		rds_task_fdw.cache_size; sets the size counter to what remains.
 *		Runs in one backend at a time; a backend that finds another
 *		sweeping returns.
 */
static void
sweep(bool evict)
{
	RdsSharedCounters *c = rds_shared_counters();
	RdsCacheFile *files;
	uint64		bytes;
	uint64		target = (uint64) rds_cache_size_kb * 1024 / 10 * 9;
	int			n;
	int			i;
	int64		dead;
	int64		evicted = 0;

	if (rds_lock_try(RDS_LOCK_SWEEP) != RDS_LOCK_TAKEN)
		return;
	PG_TRY();
	{
		pg_atomic_write_u64(&c->swept_at, (uint64) GetCurrentTimestamp());
		files = scan_entries(&n, &bytes, &dead);
		if (evict)
		{
			qsort(files, n, sizeof(RdsCacheFile), file_age_cmp);
			for (i = 0; i < n && bytes > target; i++)
			{
				if (remove_entry(files[i].name))
				{
					bytes -= files[i].size;
					evicted++;
				}
			}
		}
		pfree(files);
		pg_atomic_write_u64(&c->bytes, bytes);
		pg_atomic_fetch_add_u64(&c->evictions, evicted);
	}
	PG_FINALLY();
	{
		rds_lock_release(RDS_LOCK_SWEEP);
	}
	PG_END_TRY();
}

/*
 * rds_task_fdw_cache_clear(): deletes cached responses for every backend of
 * the cluster; returns how many.  A superuser deletes all of them; the
 * owner of this database all of this database's; another user those of the
 * user mappings of this database whose user they have the privileges of
 * (never those of a PUBLIC mapping, shared by all users).
 */
Datum
rds_task_fdw_cache_clear(PG_FUNCTION_ARGS)
{
	bool		all = superuser();
	bool		owner = rds_database_owner(MyDatabaseId, GetUserId());
	RdsCacheFile *files;
	uint64		bytes;
	int			n;
	int			i;
	int64		dead;
	int64		cleared = 0;

	files = scan_entries(&n, &bytes, &dead);
	for (i = 0; i < n; i++)
	{
		if (!all &&
			!(files[i].dbid == MyDatabaseId &&
			  (owner ||
			   (OidIsValid(files[i].owner) &&
				has_privs_of_role(GetUserId(), files[i].owner)))))
			continue;
		if (remove_entry(files[i].name))
		{
			cleared++;
			bytes -= files[i].size;
		}
	}
	pfree(files);
	pg_atomic_write_u64(&rds_shared_counters()->bytes, bytes);
	PG_RETURN_INT64(cleared);
}

/*
 * rds_task_fdw_cache_stats(): the shared cache now (entries, bytes: counted
 * in the directory, after deleting the dead entries) and since the cluster's data directory was created or
 * the counters file removed (hits, misses, merged_waits, evictions).
 */
Datum
rds_task_fdw_cache_stats(PG_FUNCTION_ARGS)
{
	RdsSharedCounters *c = rds_shared_counters();
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};
	uint64		bytes;
	int			n;
	int64		dead;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pfree(scan_entries(&n, &bytes, &dead));
	pg_atomic_write_u64(&c->bytes, bytes);
	values[0] = Int64GetDatum(n);
	values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&c->hits));
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&c->misses));
	values[3] = Int64GetDatum((int64) bytes);
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&c->merged));
	values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&c->evictions));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

static int
file_server_cmp(const void *a, const void *b)
{
	const RdsCacheFile *x = a;
	const RdsCacheFile *y = b;

	if (x->dbid != y->dbid)
		return (x->dbid < y->dbid) ? -1 : 1;
	if (x->serverid != y->serverid)
		return (x->serverid < y->serverid) ? -1 : 1;
	return 0;
}

/*
 * rds_task_fdw_cache_stats_by_database(): the shared cache's live entries
 * and bytes per (database, server), to see which database fills
 * rds_task_fdw.cache_size.  server is NULL for another database's server
 * (its name is in that database's catalog; serverid names it there).  A
 * superuser sees every database's rows; other users this database's.
 */
Datum
rds_task_fdw_cache_stats_by_database(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all = superuser();
	RdsCacheFile *files;
	uint64		bytes;
	int			n;
	int			i;
	int64		dead;

	InitMaterializedSRF(fcinfo, 0);
	files = scan_entries(&n, &bytes, &dead);
	qsort(files, n, sizeof(RdsCacheFile), file_server_cmp);
	for (i = 0; i < n;)
	{
		Datum		values[5];
		bool		nulls[5] = {0};
		int64		entries = 0;
		int64		size = 0;
		int			j;
		char	   *dbname;
		ForeignServer *srv = NULL;

		for (j = i; j < n && file_server_cmp(&files[i], &files[j]) == 0; j++)
		{
			entries++;
			size += files[j].size;
		}
		dbname = get_database_name(files[i].dbid);
		if ((all || files[i].dbid == MyDatabaseId) && dbname != NULL)
		{
			if (files[i].dbid == MyDatabaseId)
				srv = GetForeignServerExtended(files[i].serverid,
											   FSV_MISSING_OK);
			values[0] = CStringGetDatum(dbname);
			values[0] = DirectFunctionCall1(namein, values[0]);
			if (srv != NULL)
				values[1] = DirectFunctionCall1(namein,
												CStringGetDatum(srv->servername));
			else
				nulls[1] = true;
			values[2] = ObjectIdGetDatum(files[i].serverid);
			values[3] = Int64GetDatum(entries);
			values[4] = Int64GetDatum(size);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		i = j;
	}
	pfree(files);
	PG_RETURN_VOID();
}
