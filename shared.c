/*-------------------------------------------------------------------------
 *
 * shared.c
 *		  The state rds_task_fdw shares between all backends of the cluster
 *		  without shared memory (which PostgreSQL 15 only grants to a
 *		  library in shared_preload_libraries, that is after a restart):
 *		  the directory $PGDATA/pg_stat_tmp/rds_task_fdw, byte locks on its
 *		  file "locks", the request slots per server built on them
 *		  (max_concurrent_requests), the counters file, the wait events.
 *		  The per-server statistics file is stats.c's.
 *
 * The locks are Linux open-file-description locks (F_OFD_SETLK) on single
 * bytes of one file that each backend opens once: the kernel drops them
 * when the backend's descriptor closes, also when the backend is killed,
 * so a crash never leaves a lock behind.  All locks are taken without
 * waiting; who must wait polls (see client.c).  Two requests of one
 * backend share its descriptor, and OFD locks of one descriptor never
 * conflict with each other, so the bytes this backend holds are tracked
 * here as well.
 *
 * A lock held for a request (its slot, its merge lock) belongs to a
 * backend that drives the request.  A backend that stops driving it (an
 * idle cursor whose client stopped fetching, a long stretch of other work
 * between two rows) lends it: RDS_LEND_AFTER_MS after the backend last
 * let its requests progress, a timer releases every request lock it holds
 * (fcntl is async-signal-safe), so that other backends get the slot, or
 * fetch a merged request themselves.  The exchange itself goes on and is
 * read when the backend comes back; its own release is then a no-op.
 *
 * Byte layout of "locks": byte 0 guards the cache's eviction sweep, byte 1
 * the per-server statistics file (stats.c); bytes
 * from RDS_LOCK_MERGE_BASE are the cache's merge locks (one per request
 * key hash); bytes from RDS_LOCK_SLOT_BASE are request slots, 1024 per
 * (database, server).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/wait_event.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

#define RDS_SHARED_DIR		"pg_stat_tmp/rds_task_fdw"
#define RDS_LOCK_FILE		RDS_SHARED_DIR "/locks"
#define RDS_COUNTERS_FILE	RDS_SHARED_DIR "/counters"

#define RDS_LOCK_MERGE_BASE	((uint64) 1 << 56)
#define RDS_LOCK_MERGE_MASK	(((uint64) 1 << 52) - 1)
#define RDS_LOCK_SLOT_BASE	((uint64) 1 << 60)
#define RDS_LOCK_SLOT_MASK	(((uint64) 1 << 40) - 1)

/*
 * A request lock is lent this long after its backend last drove its
 * requests: longer than any wait between two polls of a driving backend
 * (RDS_POLL_INTERVAL_MS), short enough that an idle session costs the
 * others a second, not its lifetime.
 */
#define RDS_LEND_AFTER_MS	1000

/* request locks the lending timer may release (more are not lent) */
#define RDS_MAX_LENDABLE	256

/* The byte locks this backend holds (a handful: its requests in flight). */
static uint64 *held = NULL;
static int	nheld = 0;
static int	maxheld = 0;

/*
 * The request locks (not the sweep lock) among them, for the timer: a
 * fixed array the signal handler can read while held[] is repalloc'd; 0 is
 * a free entry.
 */
static volatile uint64 lendable[RDS_MAX_LENDABLE];
static TimestampTz lend_armed_at = 0;
static TimeoutId lend_timeout = MAX_TIMEOUTS;

static int	lock_fd = -1;
static RdsSharedCounters *counters = NULL;

/*
 * rds_shared_dir
 *		The directory of the shared state, relative to the data directory
 *		(every backend's working directory), created if missing.  Throws if
 *		it cannot be created.
 */
const char *
rds_shared_dir(void)
{
	static bool made = false;

	if (!made)
	{
		if (MakePGDirectory(RDS_SHARED_DIR) < 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m",
							RDS_SHARED_DIR)));
		made = true;
	}
	return RDS_SHARED_DIR;
}

/* The lock file's descriptor, opened once per backend.  Throws. */
static int
get_lock_fd(void)
{
	if (lock_fd >= 0)
		return lock_fd;
	(void) rds_shared_dir();
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not open \"%s\": out of file descriptors",
						RDS_LOCK_FILE),
				 errhint("Raise max_files_per_process.")));
	lock_fd = open(RDS_LOCK_FILE, O_RDWR | O_CREAT | PG_BINARY | O_CLOEXEC,
				   pg_file_create_mode);
	if (lock_fd < 0)
	{
		int			save_errno = errno;

		ReleaseExternalFD();
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", RDS_LOCK_FILE)));
	}
	return lock_fd;
}

/* Releases the byte lock at offset, if held.  Async-signal-safe. */
static void
unlock_byte(uint64 offset)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t) offset;
	fl.l_len = 1;
	(void) fcntl(lock_fd, F_OFD_SETLK, &fl);
}

/*
 * lend_locks
 *		The lending timer's handler, in signal context: releases every
 *		request lock this backend holds.  held[] still lists them, so this
 *		backend takes none of those bytes again before its own release,
 *		which then only unlocks what is no longer locked.
 */
static void
lend_locks(void)
{
	int			i;

	for (i = 0; i < RDS_MAX_LENDABLE; i++)
	{
		uint64		offset = lendable[i];

		if (offset == 0)
			continue;
		lendable[i] = 0;
		unlock_byte(offset);
	}
}

static void
lendable_add(uint64 offset)
{
	int			i;

	for (i = 0; i < RDS_MAX_LENDABLE; i++)
	{
		if (lendable[i] == 0)
		{
			lendable[i] = offset;
			return;
		}
	}
}

static void
lendable_remove(uint64 offset)
{
	int			i;

	for (i = 0; i < RDS_MAX_LENDABLE; i++)
	{
		if (lendable[i] == offset)
		{
			lendable[i] = 0;
			return;
		}
	}
}

static bool
any_lendable(void)
{
	int			i;

	for (i = 0; i < RDS_MAX_LENDABLE; i++)
		if (lendable[i] != 0)
			return true;
	return false;
}

/*
 * rds_locks_driving
 *		Tells the lending timer whether this backend drives its requests:
 *		true just before it waits on them (nothing is lent meanwhile), false
 *		when the wait is over or it hands control back to PostgreSQL: what
 *		it holds is then lent after RDS_LEND_AFTER_MS, unless it drives its
 *		requests again first.  Taking a request lock also starts the timer.
 *		Throws (FATAL) only if PostgreSQL has no user timeout left to
 *		register, the first time.
 */
void
rds_locks_driving(bool driving)
{
	TimestampTz now;

	if (lend_timeout == MAX_TIMEOUTS)
	{
		if (driving || !any_lendable())
			return;
		lend_timeout = RegisterTimeout(USER_TIMEOUT, lend_locks);
	}
	if (driving || !any_lendable())
	{
		if (get_timeout_active(lend_timeout))
			disable_timeout(lend_timeout, false);
		return;
	}
	/* polled often: the timer is moved at most every 1/10 of its time */
	now = GetCurrentTimestamp();
	if (get_timeout_active(lend_timeout) &&
		!TimestampDifferenceExceeds(lend_armed_at, now, RDS_LEND_AFTER_MS / 10))
		return;
	lend_armed_at = now;
	enable_timeout_after(lend_timeout, RDS_LEND_AFTER_MS);
}

static bool
is_held(uint64 offset)
{
	int			i;

	for (i = 0; i < nheld; i++)
		if (held[i] == offset)
			return true;
	return false;
}

/*
 * rds_lock_try
 *		Takes the byte lock at offset without waiting.  RDS_LOCK_TAKEN,
 *		RDS_LOCK_BUSY if another backend holds it, RDS_LOCK_MINE if this
 *		backend does.  Throws if the lock file cannot be used.
 */
RdsLockResult
rds_lock_try(uint64 offset)
{
	struct flock fl;
	int			fd;

	if (is_held(offset))
		return RDS_LOCK_MINE;
	fd = get_lock_fd();
	if (held == NULL)
	{
		maxheld = 16;
		held = MemoryContextAlloc(TopMemoryContext, maxheld * sizeof(uint64));
	}
	else if (nheld == maxheld)
	{
		maxheld *= 2;
		held = repalloc(held, maxheld * sizeof(uint64));
	}

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t) offset;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0)
	{
		if (errno == EAGAIN || errno == EACCES)
			return RDS_LOCK_BUSY;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not lock file \"%s\": %m", RDS_LOCK_FILE)));
	}
	held[nheld++] = offset;
	if (offset >= RDS_LOCK_MERGE_BASE)	/* a request's lock */
	{
		lendable_add(offset);
		rds_locks_driving(false);
	}
	return RDS_LOCK_TAKEN;
}

/*
 * rds_lock_release
 *		Releases a byte lock taken with rds_lock_try.  Never throws.
 */
void
rds_lock_release(uint64 offset)
{
	int			i;

	for (i = 0; i < nheld; i++)
	{
		if (held[i] != offset)
			continue;
		held[i] = held[--nheld];
		lendable_remove(offset);
		unlock_byte(offset);
		return;
	}
}

/* The merge lock byte of a request key hash. */
uint64
rds_lock_merge_offset(uint64 keyhash)
{
	return RDS_LOCK_MERGE_BASE + (keyhash & RDS_LOCK_MERGE_MASK);
}

/* The byte of slot i of a server of this database. */
static uint64
slot_offset(Oid serverid, int i)
{
	uint32		ids[2];
	uint64		h;

	ids[0] = MyDatabaseId;
	ids[1] = serverid;
	h = hash_bytes_extended((const unsigned char *) ids, sizeof(ids), 0);
	return RDS_LOCK_SLOT_BASE + ((h & RDS_LOCK_SLOT_MASK) << 10) + (uint64) i;
}

/*
 * rds_slot_acquire
 *		One of the max request slots of server serverid (of this database),
 *		taken without waiting: its number, or -1 if all are in use.  Throws
 *		if the lock file cannot be used.
 */
int
rds_slot_acquire(Oid serverid, int max)
{
	int			start = (int) (MyProcPid % max);
	int			k;

	/* start at a different slot in each backend: fewer failed tries */
	for (k = 0; k < max; k++)
	{
		int			i = (start + k) % max;

		if (rds_lock_try(slot_offset(serverid, i)) == RDS_LOCK_TAKEN)
			return i;
	}
	return -1;
}

/*
 * rds_slot_release
 *		Gives back a slot from rds_slot_acquire (-1: nothing).  Never throws.
 */
void
rds_slot_release(Oid serverid, int slot)
{
	if (slot >= 0)
		rds_lock_release(slot_offset(serverid, slot));
}

/*
 * rds_shared_counters
 *		The cluster-wide counters, a small file mapped into every backend
 *		that uses them (a new file is all zeroes: every counter 0).  Throws
 *		if the file cannot be mapped.
 */
RdsSharedCounters *
rds_shared_counters(void)
{
	int			fd;
	struct stat st;
	void	   *p;

	if (counters != NULL)
		return counters;
	(void) rds_shared_dir();
	fd = OpenTransientFile(RDS_COUNTERS_FILE, O_RDWR | O_CREAT | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", RDS_COUNTERS_FILE)));
	if (fstat(fd, &st) < 0 ||
		(st.st_size < (off_t) sizeof(RdsSharedCounters) &&
		 ftruncate(fd, sizeof(RdsSharedCounters)) < 0))
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not size file \"%s\": %m", RDS_COUNTERS_FILE)));
	}
	p = mmap(NULL, sizeof(RdsSharedCounters), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	CloseTransientFile(fd);
	if (p == MAP_FAILED)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not map file \"%s\": %m", RDS_COUNTERS_FILE)));
	counters = (RdsSharedCounters *) p;
	return counters;
}

/*
 * rds_wait_event
 *		The wait event shown in pg_stat_activity while a request waits: on
 *		PostgreSQL 17 and later of type Extension, RdsTaskFdwWire for the
 *		API's answer, RdsTaskFdwPeerFetch for another backend's identical
 *		request, RdsTaskFdwRequestSlot for a request slot and
 *		RdsTaskFdwBackoff for the delay before a retry; before 17 the
 *		generic "Extension" for all four (PostgreSQL 15 and 16 give an
 *		extension no event names of its own).
 */
uint32
rds_wait_event(RdsWaitKind kind)
{
#ifdef RDS_HAVE_CUSTOM_WAIT_EVENTS
	static const char *const names[] = {
		[RDS_WAIT_WIRE] = "RdsTaskFdwWire",
		[RDS_WAIT_PEER] = "RdsTaskFdwPeerFetch",
		[RDS_WAIT_SLOT] = "RdsTaskFdwRequestSlot",
		[RDS_WAIT_BACKOFF] = "RdsTaskFdwBackoff"
	};
	static uint32 events[lengthof(names)];

	if (events[kind] == 0)
		events[kind] = WaitEventExtensionNew(names[kind]);
	return events[kind];
#else
	return PG_WAIT_EXTENSION;
#endif
}
