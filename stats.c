/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  What a DBA watches: the per-server activity of the whole cluster
 *		  (rds_task_fdw_server_stats(), rds_task_fdw_server_stats_reset())
 *		  and the request log lines of rds_task_fdw.log_requests.
 *
 * The figures live in one file, $PGDATA/pg_stat_tmp/rds_task_fdw/
 * server_stats (see shared.c), mapped by every backend that counts: no
 * shared memory, so no shared_preload_libraries and no restart.  The file
 * has a fixed number of rows, one per (database, server), so its size is
 * bounded; when all are taken, the row least recently used is given to the
 * newcomer.  Counters are atomics in the mapping: counting costs a few
 * atomic additions per exchange, no lock and no system call.  Making,
 * reusing and resetting a row, and writing a last error, are done under
 * the stats byte lock of shared.c's lock file; a row becomes visible only
 * once its key is written (its state is set last), and a last error is
 * written between two increments of a sequence number, so a backend killed
 * mid-write leaves no garbage row and no half-written message (readers see
 * an odd sequence as "no message").  The file is kept when backends end
 * and across restarts, like pg_stat_statements' figures.
 *
 * Exchange times go into a small histogram of log buckets (four per
 * doubling of microseconds), from which p95 is read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "commands/dbcommands.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

#define RDS_STATS_NAME		"server_stats"
#define RDS_STATS_MAGIC		0x52445353	/* "RDSS" */
#define RDS_STATS_FORMAT	1
#define RDS_STATS_ROWS		512
#define RDS_STATS_BUCKETS	128
#define RDS_STATS_ERROR_LEN	256

/* The byte lock of the stats file (see shared.c's layout). */
#define RDS_LOCK_STATS		1

/* row states */
#define ROW_FREE			0
#define ROW_USED			1

/* One (database, server): 0 in a new file is "free, all zero". */
typedef struct RdsStatsRow
{
	pg_atomic_uint32 state;		/* ROW_USED once the key is written */
	uint32		generation;		/* changes when the row is given away */
	Oid			dbid;
	Oid			serverid;
	NameData	server;			/* its name when the row was made */
	pg_atomic_uint64 stats_since;	/* TimestampTz */
	pg_atomic_uint64 last_used; /* TimestampTz, roughly */
	pg_atomic_uint64 requests;
	pg_atomic_uint64 retries;
	pg_atomic_uint64 throttled;
	pg_atomic_uint64 errors;
	pg_atomic_uint64 bytes;
	pg_atomic_uint64 cache_hits;
	pg_atomic_uint64 merged;
	pg_atomic_uint64 timed;		/* exchanges with a time */
	pg_atomic_uint64 sum_us;
	pg_atomic_uint64 max_us;
	pg_atomic_uint64 hist[RDS_STATS_BUCKETS];
	pg_atomic_uint32 error_seq; /* odd while last_error is written */
	TimestampTz last_error_at;
	char		last_error[RDS_STATS_ERROR_LEN];
} RdsStatsRow;

typedef struct RdsStatsFile
{
	uint32		magic;
	uint32		format;
	uint32		nrows;
	uint32		pad;
	RdsStatsRow rows[RDS_STATS_ROWS];
} RdsStatsFile;

/* rds_task_fdw.log_requests */
typedef enum RdsLogRequests
{
	RDS_LOG_OFF,
	RDS_LOG_ERRORS,
	RDS_LOG_RETRIES,
	RDS_LOG_ALL
} RdsLogRequests;

static const struct config_enum_entry log_requests_options[] = {
	{"off", RDS_LOG_OFF, false},
	{"errors", RDS_LOG_ERRORS, false},
	{"retries", RDS_LOG_RETRIES, false},
	{"all", RDS_LOG_ALL, false},
	{NULL, 0, false}
};

static int	rds_log_requests = RDS_LOG_ERRORS;
static bool rds_track_server_stats = true;

/* This backend's mapping, NULL until first used; broken: do not try again. */
static RdsStatsFile *stats_file = NULL;
static bool stats_broken = false;

/* The rows this backend counts in (of its database), looked up once. */
#define RDS_STATS_LOCAL	16
typedef struct RdsStatsLocal
{
	Oid			serverid;
	int			row;
	uint32		generation;
} RdsStatsLocal;
static RdsStatsLocal local_rows[RDS_STATS_LOCAL];
static int	nlocal = 0;

PG_FUNCTION_INFO_V1(rds_task_fdw_server_stats);
PG_FUNCTION_INFO_V1(rds_task_fdw_server_stats_reset);

/*
 * rds_stats_define_settings
 *		Defines rds_task_fdw.log_requests and rds_task_fdw.server_stats
 *		(called from _PG_init).
 */
void
rds_stats_define_settings(void)
{
	DefineCustomEnumVariable("rds_task_fdw.log_requests",
							 "Which HTTP exchanges with the API are written to the server log.",
							 "off or errors: none (a failed request is the query's ERROR); "
							 "retries: each retried exchange and why; all: every exchange.",
							 &rds_log_requests,
							 RDS_LOG_ERRORS,
							 log_requests_options,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("rds_task_fdw.server_stats",
							 "Counts the requests of each server in rds_task_fdw_server_stats.",
							 NULL,
							 &rds_track_server_stats,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * The file and its rows
 * ------------------------------------------------------------------------
 */

/* Takes the stats lock, waiting (it is held for microseconds).  Throws. */
static void
stats_lock(void)
{
	while (rds_lock_try(RDS_LOCK_STATS) == RDS_LOCK_BUSY)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(200L);
	}
}

static void
stats_unlock(void)
{
	rds_lock_release(RDS_LOCK_STATS);
}

/*
 * map_file
 *		Maps the stats file, created (all zero) if missing, and sets its
 *		header (a file of another format starts afresh).  Throws.
 */
static RdsStatsFile *
map_file(void)
{
	char	   *path = psprintf("%s/%s", rds_shared_dir(), RDS_STATS_NAME);
	int			fd;
	struct stat st;
	void	   *p;
	RdsStatsFile *f;

	fd = OpenTransientFile(path, O_RDWR | O_CREAT | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	if (fstat(fd, &st) < 0 ||
		(st.st_size != (off_t) sizeof(RdsStatsFile) &&
		 ftruncate(fd, sizeof(RdsStatsFile)) < 0))
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not size file \"%s\": %m", path)));
	}
	p = mmap(NULL, sizeof(RdsStatsFile), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	CloseTransientFile(fd);
	if (p == MAP_FAILED)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not map file \"%s\": %m", path)));
	f = (RdsStatsFile *) p;
	if (f->magic != RDS_STATS_MAGIC || f->format != RDS_STATS_FORMAT ||
		f->nrows != RDS_STATS_ROWS)
	{
		stats_lock();
		if (f->magic != RDS_STATS_MAGIC || f->format != RDS_STATS_FORMAT ||
			f->nrows != RDS_STATS_ROWS)
		{
			memset(f, 0, sizeof(RdsStatsFile));
			f->format = RDS_STATS_FORMAT;
			f->nrows = RDS_STATS_ROWS;
			pg_write_barrier();
			f->magic = RDS_STATS_MAGIC;
		}
		stats_unlock();
	}
	return f;
}

/*
 * get_file
 *		The mapped stats file, or NULL if it cannot be used (then counting
 *		stops in this backend, with one WARNING: a query never fails for
 *		its statistics).  Never throws but out of memory.
 */
static RdsStatsFile *
get_file(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (stats_file != NULL || stats_broken)
		return stats_file;
	PG_TRY();
	{
		stats_file = map_file();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		stats_broken = true;
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("rds_task_fdw: server statistics are not counted in this session: %s",
						edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return stats_file;
}

static bool
row_valid(RdsStatsRow *r)
{
	return pg_atomic_read_u32(&r->state) == ROW_USED && OidIsValid(r->dbid);
}

/* Zeroes the figures of row r (its key stays).  Under the stats lock. */
static void
row_zero(RdsStatsRow *r, TimestampTz now)
{
	int			i;

	pg_atomic_write_u64(&r->requests, 0);
	pg_atomic_write_u64(&r->retries, 0);
	pg_atomic_write_u64(&r->throttled, 0);
	pg_atomic_write_u64(&r->errors, 0);
	pg_atomic_write_u64(&r->bytes, 0);
	pg_atomic_write_u64(&r->cache_hits, 0);
	pg_atomic_write_u64(&r->merged, 0);
	pg_atomic_write_u64(&r->timed, 0);
	pg_atomic_write_u64(&r->sum_us, 0);
	pg_atomic_write_u64(&r->max_us, 0);
	for (i = 0; i < RDS_STATS_BUCKETS; i++)
		pg_atomic_write_u64(&r->hist[i], 0);
	pg_atomic_fetch_add_u32(&r->error_seq, 1);
	r->last_error[0] = '\0';
	r->last_error_at = 0;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&r->error_seq, 1);
	pg_atomic_write_u64(&r->stats_since, (uint64) now);
	pg_atomic_write_u64(&r->last_used, (uint64) now);
}

/*
 * find_row
 *		The row of (this database, serverid), made (or taken from the least
 *		recently used server) under the stats lock if there is none.
 */
static int
find_row(RdsStatsFile *f, Oid serverid, const char *server)
{
	int			i;
	int			found = -1;
	int			victim = -1;
	uint64		oldest = PG_UINT64_MAX;
	TimestampTz now = GetCurrentTimestamp();
	RdsStatsRow *r;

	stats_lock();
	for (i = 0; i < RDS_STATS_ROWS; i++)
	{
		r = &f->rows[i];
		if (!row_valid(r))
		{
			if (oldest > 0)
			{
				oldest = 0;
				victim = i;
			}
			continue;
		}
		if (r->dbid == MyDatabaseId && r->serverid == serverid)
		{
			found = i;
			break;
		}
		if (pg_atomic_read_u64(&r->last_used) < oldest)
		{
			oldest = pg_atomic_read_u64(&r->last_used);
			victim = i;
		}
	}
	if (found < 0)
	{
		r = &f->rows[victim];
		pg_atomic_write_u32(&r->state, ROW_FREE);
		pg_write_barrier();
		r->generation++;
		r->dbid = MyDatabaseId;
		r->serverid = serverid;
		namestrcpy(&r->server, server ? server : "");
		row_zero(r, now);
		pg_write_barrier();
		pg_atomic_write_u32(&r->state, ROW_USED);
		found = victim;
	}
	stats_unlock();
	return found;
}

/*
 * stats_row
 *		The row this backend counts serverid's activity in, or NULL when
 *		statistics are off or unusable.  Looked up in the file once per
 *		backend (again if the row was given to another server meanwhile).
 */
static RdsStatsRow *
stats_row(Oid serverid, const char *server)
{
	RdsStatsFile *f;
	RdsStatsRow *r;
	int			i;

	if (!rds_track_server_stats || !OidIsValid(serverid))
		return NULL;
	f = get_file();
	if (f == NULL)
		return NULL;
	for (i = 0; i < nlocal; i++)
	{
		if (local_rows[i].serverid != serverid)
			continue;
		r = &f->rows[local_rows[i].row];
		if (r->generation == local_rows[i].generation && row_valid(r) &&
			r->dbid == MyDatabaseId && r->serverid == serverid)
			return r;
		break;
	}
	if (i == nlocal)
	{
		if (nlocal == RDS_STATS_LOCAL)
			nlocal--;			/* forget the last one looked up */
		i = nlocal++;
	}
	local_rows[i].serverid = serverid;
	local_rows[i].row = find_row(f, serverid, server);
	r = &f->rows[local_rows[i].row];
	local_rows[i].generation = r->generation;
	return r;
}

/* ------------------------------------------------------------------------
 * Counting
 * ------------------------------------------------------------------------
 */

/*
 * rds_stats_count
 *		Adds n to one figure of server serverid (named server) of this
 *		database.  Never throws but out of memory.
 */
void
rds_stats_count(Oid serverid, const char *server, RdsStatKind kind)
{
	RdsStatsRow *r = stats_row(serverid, server);

	if (r == NULL)
		return;
	switch (kind)
	{
		case RDS_STAT_REQUEST:
			pg_atomic_fetch_add_u64(&r->requests, 1);
			break;
		case RDS_STAT_CACHE_HIT:
			pg_atomic_fetch_add_u64(&r->cache_hits, 1);
			break;
		case RDS_STAT_MERGED:
			pg_atomic_fetch_add_u64(&r->merged, 1);
			break;
	}
}

/* The histogram bucket of an exchange time: four per doubling. */
static int
time_bucket(uint64 us)
{
	int			msb;
	int			b;

	if (us < 4)
		return (int) us;
	msb = pg_leftmost_one_pos64(us);
	b = 4 * msb + (int) ((us >> (msb - 2)) & 3);
	return Min(b, RDS_STATS_BUCKETS - 1);
}

/* The geometric middle of a bucket, in microseconds. */
static double
bucket_middle(int b)
{
	double		lo;
	double		hi;

	if (b < 4)
		return b;
	lo = (double) ((uint64) (4 + (b & 3)) << (b / 4 - 2));
	hi = (double) ((uint64) (5 + (b & 3)) << (b / 4 - 2));
	return sqrt(lo * hi);
}

/*
 * rds_stats_exchange
 *		One finished exchange: its time, bytes and answer are counted (a
 *		429 as throttled, a retry as a retry) and, per
 *		rds_task_fdw.log_requests, written to the server log: the server,
 *		method, path and query string, status, milliseconds, bytes and
 *		attempt, and for a retry its reason.  The caller passes no secret
 *		(the query string holds none: credentials travel in headers).
 *		Never throws but out of memory.
 */
void
rds_stats_exchange(const RdsExchange *x)
{
	RdsStatsRow *r = stats_row(x->serverid, x->server);
	bool		log;

	if (r != NULL)
	{
		uint64		us = (uint64) Max(x->ms * 1000.0, 0.0);
		uint64		max = pg_atomic_read_u64(&r->max_us);

		pg_atomic_fetch_add_u64(&r->timed, 1);
		pg_atomic_fetch_add_u64(&r->sum_us, us);
		pg_atomic_fetch_add_u64(&r->hist[time_bucket(us)], 1);
		while (us > max &&
			   !pg_atomic_compare_exchange_u64(&r->max_us, &max, us))
			;
		pg_atomic_fetch_add_u64(&r->bytes, x->bytes);
		if (x->failure == NULL && x->status == 429)
			pg_atomic_fetch_add_u64(&r->throttled, 1);
		if (x->retry_reason != NULL)
			pg_atomic_fetch_add_u64(&r->retries, 1);
		pg_atomic_write_u64(&r->last_used, (uint64) GetCurrentTimestamp());
	}

	log = rds_log_requests == RDS_LOG_ALL ||
		(rds_log_requests == RDS_LOG_RETRIES && x->retry_reason != NULL);
	if (!log)
		return;
	if (x->retry_reason != NULL)
		ereport(LOG,
				(errcode(ERRCODE_WARNING),
				 errmsg("rds_task_fdw: server \"%s\": %s %s%s%s: %s%s, %.1f ms, %zu bytes, attempt %d; retry in %ld ms (%s)",
						x->server, x->method, x->path,
						x->query[0] ? "?" : "", x->query,
						x->failure ? "failed: " : "HTTP ",
						x->failure ? x->failure : psprintf("%ld", x->status),
						x->ms, x->bytes, x->attempt,
						x->retry_in_ms, x->retry_reason),
				 errhidestmt(true)));
	else
		ereport(LOG,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg("rds_task_fdw: server \"%s\": %s %s%s%s: %s%s, %.1f ms, %zu bytes, attempt %d",
						x->server, x->method, x->path,
						x->query[0] ? "?" : "", x->query,
						x->failure ? "failed: " : "HTTP ",
						x->failure ? x->failure : psprintf("%ld", x->status),
						x->ms, x->bytes, x->attempt),
				 errhidestmt(true)));
}

/*
 * rds_stats_error
 *		A request of server serverid ended in an ERROR for the query, with
 *		message (the ERROR's message: no secret, no body that is not the
 *		API's).  Never throws but out of memory.
 */
void
rds_stats_error(Oid serverid, const char *server, const char *message)
{
	RdsStatsRow *r = stats_row(serverid, server);
	int			len;

	if (r == NULL)
		return;
	pg_atomic_fetch_add_u64(&r->errors, 1);
	stats_lock();
	pg_atomic_fetch_add_u32(&r->error_seq, 1);
	pg_write_barrier();
	len = pg_mbcliplen(message, strlen(message), RDS_STATS_ERROR_LEN - 1);
	memcpy(r->last_error, message, len);
	r->last_error[len] = '\0';
	r->last_error_at = GetCurrentTimestamp();
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&r->error_seq, 1);
	stats_unlock();
}

/* ------------------------------------------------------------------------
 * The SQL functions
 * ------------------------------------------------------------------------
 */

/*
 * row_visible
 *		Whether the current user sees row r: a superuser every row; another
 *		user the rows of this database's servers they have USAGE on.
 */
static bool
row_visible(RdsStatsRow *r, bool superuser_)
{
	if (superuser_)
		return true;
	if (r->dbid != MyDatabaseId)
		return false;
	if (GetForeignServerExtended(r->serverid, FSV_MISSING_OK) == NULL)
		return false;
	return rds_server_usage_ok(r->serverid, GetUserId());
}

/* p95 of row r's exchange times in ms, NULL (false) without any. */
static bool
row_p95_ms(RdsStatsRow *r, uint64 timed, double *p95)
{
	uint64		want;
	uint64		seen = 0;
	int			i;

	if (timed == 0)
		return false;
	want = (timed * 95 + 99) / 100;
	for (i = 0; i < RDS_STATS_BUCKETS; i++)
	{
		seen += pg_atomic_read_u64(&r->hist[i]);
		if (seen >= want)
			break;
	}
	*p95 = Min(bucket_middle(Min(i, RDS_STATS_BUCKETS - 1)),
			   (double) pg_atomic_read_u64(&r->max_us)) / 1000.0;
	return true;
}

/* Fills the output row of rds_task_fdw_server_stats from r, but dbname. */
static void
row_values(RdsStatsRow *r, Datum *values, bool *nulls)
{
	ForeignServer *srv = NULL;
	NameData   *name;
	uint64		timed = pg_atomic_read_u64(&r->timed);
	double		p95;
	uint32		seq;
	char		msg[RDS_STATS_ERROR_LEN];
	TimestampTz at;

	if (r->dbid == MyDatabaseId)
		srv = GetForeignServerExtended(r->serverid, FSV_MISSING_OK);
	name = palloc0(sizeof(NameData));
	namestrcpy(name, srv ? srv->servername : NameStr(r->server));
	values[1] = NameGetDatum(name);
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&r->requests));
	values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&r->retries));
	values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&r->throttled));
	values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&r->errors));
	values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&r->bytes));
	values[7] = Int64GetDatum((int64) pg_atomic_read_u64(&r->cache_hits));
	values[8] = Int64GetDatum((int64) pg_atomic_read_u64(&r->merged));
	if (timed > 0)
	{
		values[9] = Float8GetDatum((double) pg_atomic_read_u64(&r->sum_us) /
								   timed / 1000.0);
		(void) row_p95_ms(r, timed, &p95);
		values[10] = Float8GetDatum(p95);
		values[11] = Float8GetDatum((double) pg_atomic_read_u64(&r->max_us) /
									1000.0);
	}
	else
		nulls[9] = nulls[10] = nulls[11] = true;

	/* the last error, read under the lock; odd: died writing it */
	stats_lock();
	seq = pg_atomic_read_u32(&r->error_seq);
	pg_read_barrier();
	memcpy(msg, r->last_error, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	at = r->last_error_at;
	stats_unlock();
	if ((seq & 1) == 0 && msg[0] != '\0')
	{
		values[12] = CStringGetTextDatum(msg);
		values[13] = TimestampTzGetDatum(at);
	}
	else
		nulls[12] = nulls[13] = true;
	values[14] = TimestampTzGetDatum((TimestampTz) pg_atomic_read_u64(&r->stats_since));
}

/*
 * rds_task_fdw_server_stats(): one row per (database, server) that made
 * requests since the last reset.  A superuser sees every database's; other
 * users the rows of this database's servers on which they have USAGE.
 */
Datum
rds_task_fdw_server_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RdsStatsFile *f;
	bool		su = superuser();
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	f = get_file();
	if (f == NULL)
		PG_RETURN_VOID();
	for (i = 0; i < RDS_STATS_ROWS; i++)
	{
		RdsStatsRow *r = &f->rows[i];
		Datum		values[15];
		bool		nulls[15] = {0};
		char	   *dbname;
		NameData   *dbn;

		if (!row_valid(r) || !row_visible(r, su))
			continue;
		dbname = get_database_name(r->dbid);
		if (dbname == NULL)
			continue;			/* a dropped database */
		dbn = palloc0(sizeof(NameData));
		namestrcpy(dbn, dbname);
		row_values(r, values, nulls);
		values[0] = NameGetDatum(dbn);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

/*
 * rds_task_fdw_server_stats_reset(): zeroes every row's figures (superuser,
 * or whom it was granted to).  Rows of servers or databases that no longer
 * exist are freed.
 */
Datum
rds_task_fdw_server_stats_reset(PG_FUNCTION_ARGS)
{
	RdsStatsFile *f = get_file();
	TimestampTz now = GetCurrentTimestamp();
	bool	   *gone;
	uint32	   *gen;
	int			i;

	if (f == NULL)
		PG_RETURN_VOID();
	/* the catalog is read before the lock is taken: it may throw */
	gone = palloc0(RDS_STATS_ROWS * sizeof(bool));
	gen = palloc0(RDS_STATS_ROWS * sizeof(uint32));
	for (i = 0; i < RDS_STATS_ROWS; i++)
	{
		RdsStatsRow *r = &f->rows[i];

		gen[i] = r->generation;
		gone[i] = row_valid(r) &&
			(get_database_name(r->dbid) == NULL ||
			 (r->dbid == MyDatabaseId &&
			  GetForeignServerExtended(r->serverid, FSV_MISSING_OK) == NULL));
	}
	stats_lock();
	for (i = 0; i < RDS_STATS_ROWS; i++)
	{
		RdsStatsRow *r = &f->rows[i];

		if (!row_valid(r))
			continue;
		if (gone[i] && r->generation == gen[i])
		{
			pg_atomic_write_u32(&r->state, ROW_FREE);
			r->generation++;
			continue;
		}
		row_zero(r, now);
	}
	stats_unlock();
	PG_RETURN_VOID();
}
