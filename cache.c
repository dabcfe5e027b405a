/*-------------------------------------------------------------------------
 *
 * cache.c
 *		  The response cache of rds_task_fdw, shared by every backend of the
 *		  cluster: bodies of successful requests, reused for cache_ttl
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
 * applied to it) and the body.  The key is the database, the server and
 * user mapping OIDs, the xmin of their catalog rows (an ALTER SERVER or
 * ALTER USER MAPPING writes a new row version, so entries of the old one
 * are never served again) and the request URL; no secret is part of it.
 * The OS page cache keeps hot entries in memory.
 *
 * The size is bounded by rds_task_fdw.cache_size; a store that takes the
 * running total over it starts a sweep (one backend at a time) that deletes
 * the entries fetched first until 90% of the bound remains.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"

#define RDS_CACHE_MAGIC		0x52445343	/* "RDSC" */
#define RDS_CACHE_FORMAT	1
#define RDS_CACHE_SUFFIX	".entry"
#define RDS_CACHE_TMP		"tmp."

/* The byte lock of the eviction sweep (see shared.c's layout). */
#define RDS_LOCK_SWEEP		0

/* A temporary file this old was left by a backend that died writing it. */
#define RDS_CACHE_TMP_AGE_S	600

/* rds_task_fdw.cache_size, in kB */
int			rds_cache_size_kb = 256 * 1024;

/* The header of an entry file; the key and the body follow. */
typedef struct RdsCacheHeader
{
	uint32		magic;
	uint32		format;
	TimestampTz fetched_at;
	Oid			dbid;
	Oid			owner;			/* the user mapping's user, 0 for PUBLIC */
	uint32		keylen;
	uint32		bodylen;
} RdsCacheHeader;

/* What a request needs to use the cache; see rds_cache_ticket. */
struct RdsCacheTicket
{
	char	   *key;
	uint32		keylen;
	uint64		hash;
	Oid			owner;
	char	   *path;			/* the entry file */
};

PG_FUNCTION_INFO_V1(rds_task_fdw_cache_clear);
PG_FUNCTION_INFO_V1(rds_task_fdw_cache_stats);

static void sweep(void);

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
 * rds_cache_ticket
 *		The cache key of a request of server serverid through user mapping
 *		umid for url, palloc'd in CurrentMemoryContext.  Reads the catalog:
 *		call it in a transaction.  Throws if the server or mapping is gone.
 */
RdsCacheTicket *
rds_cache_ticket(Oid serverid, Oid umid, const char *url)
{
	RdsCacheTicket *t = palloc0(sizeof(RdsCacheTicket));
	HeapTuple	tup;
	TransactionId srv_xmin;
	TransactionId um_xmin;

	tup = SearchSysCache1(FOREIGNSERVEROID, ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for foreign server %u", serverid);
	srv_xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	ReleaseSysCache(tup);

	tup = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for user mapping %u", umid);
	um_xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
	t->owner = ((Form_pg_user_mapping) GETSTRUCT(tup))->umuser;
	ReleaseSysCache(tup);

	t->key = psprintf("db=%u server=%u/%u mapping=%u/%u %s",
					  MyDatabaseId, serverid, srv_xmin, umid, um_xmin, url);
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
	h.dbid = MyDatabaseId;
	h.owner = t->owner;
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
		sweep();
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

typedef struct RdsCacheFile
{
	char		name[MAXPGPATH];
	struct timespec mtime;		/* written (= fetched) at */
	off_t		size;
} RdsCacheFile;

static int
file_age_cmp(const void *a, const void *b)
{
	const RdsCacheFile *x = a;
	const RdsCacheFile *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return (x->mtime.tv_sec < y->mtime.tv_sec) ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return (x->mtime.tv_nsec < y->mtime.tv_nsec) ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * list_entries
 *		The entry files of the cache (palloc'd array, *n of them) and their
 *		total size.  With remove_tmp, deletes temporary files left by dead
 *		backends.  Never throws on a file-system error (the file is skipped).
 */
static RdsCacheFile *
list_entries(int *n, uint64 *bytes, bool remove_tmp)
{
	const char *dir = rds_shared_dir();
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	RdsCacheFile *files;
	int			max = 64;
	time_t		now = time(NULL);

	*n = 0;
	*bytes = 0;
	files = palloc(max * sizeof(RdsCacheFile));
	if (d == NULL)
		return files;
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		char		path[MAXPGPATH];
		struct stat st;
		size_t		l = strlen(de->d_name);
		bool		entry = l > strlen(RDS_CACHE_SUFFIX) &&
			strcmp(de->d_name + l - strlen(RDS_CACHE_SUFFIX), RDS_CACHE_SUFFIX) == 0;
		bool		tmp = strncmp(de->d_name, RDS_CACHE_TMP, strlen(RDS_CACHE_TMP)) == 0;

		if (!entry && !tmp)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (tmp)
		{
			if (remove_tmp && now - st.st_mtime > RDS_CACHE_TMP_AGE_S)
				(void) unlink(path);
			continue;
		}
		if (*n == max)
		{
			max *= 2;
			files = repalloc(files, max * sizeof(RdsCacheFile));
		}
		strlcpy(files[*n].name, path, MAXPGPATH);
		files[*n].mtime = st.st_mtim;
		files[*n].size = st.st_size;
		*bytes += st.st_size;
		(*n)++;
	}
	FreeDir(d);
	return files;
}

/*
 * sweep
 *		Deletes the entries fetched first until the cache takes at most 90%
 *		of rds_task_fdw.cache_size, and sets the size counter to what
 *		remains.  Runs in one backend at a time; a backend that finds
 *		another sweeping returns.
 */
static void
sweep(void)
{
	RdsSharedCounters *c = rds_shared_counters();
	RdsCacheFile *files;
	uint64		bytes;
	uint64		target = (uint64) rds_cache_size_kb * 1024 / 10 * 9;
	int			n;
	int			i;
	int64		evicted = 0;

	if (rds_lock_try(RDS_LOCK_SWEEP) != RDS_LOCK_TAKEN)
		return;
	PG_TRY();
	{
		files = list_entries(&n, &bytes, true);
		qsort(files, n, sizeof(RdsCacheFile), file_age_cmp);
		for (i = 0; i < n && bytes > target; i++)
		{
			if (unlink(files[i].name) == 0)
			{
				bytes -= files[i].size;
				evicted++;
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
 * the cluster; returns how many.  A superuser deletes all of them; another
 * user those of the user mappings of this database whose user they have the
 * privileges of (never those of a PUBLIC mapping, shared by all users).
 */
Datum
rds_task_fdw_cache_clear(PG_FUNCTION_ARGS)
{
	bool		all = superuser();
	RdsCacheFile *files;
	uint64		bytes;
	int			n;
	int			i;
	int64		cleared = 0;

	files = list_entries(&n, &bytes, true);
	for (i = 0; i < n; i++)
	{
		if (!all)
		{
			RdsCacheHeader h;
			int			fd = OpenTransientFile(files[i].name, O_RDONLY | PG_BINARY);
			bool		mine;

			if (fd < 0)
				continue;
			mine = read_all(fd, &h, sizeof(h)) &&
				h.magic == RDS_CACHE_MAGIC && h.dbid == MyDatabaseId &&
				OidIsValid(h.owner) && has_privs_of_role(GetUserId(), h.owner);
			CloseTransientFile(fd);
			if (!mine)
				continue;
		}
		if (unlink(files[i].name) == 0)
		{
			cleared++;
			bytes -= files[i].size;
		}
	}
	pg_atomic_write_u64(&rds_shared_counters()->bytes, bytes);
	PG_RETURN_INT64(cleared);
}

/*
 * rds_task_fdw_cache_stats(): the shared cache now (entries, bytes: counted
 * in the directory) and since the cluster's data directory was created or
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

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	pfree(list_entries(&n, &bytes, false));
	values[0] = Int64GetDatum(n);
	values[1] = Int64GetDatum((int64) pg_atomic_read_u64(&c->hits));
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&c->misses));
	values[3] = Int64GetDatum((int64) bytes);
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&c->merged));
	values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&c->evictions));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
