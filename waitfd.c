/*-------------------------------------------------------------------------
 *
 * waitfd.c
 *		  The one descriptor of this backend that an asynchronous Append
 *		  waits on, for every scan of every server: an epoll set of the
 *		  sockets libcurl's transfers wait on, plus a timer that ticks every
 *		  RDS_WAIT_TICK_MS so that timeouts, backoffs and interrupts are
 *		  served.  Part of the transport (http.c is its only caller).
 *
 * One set per backend, whatever the number of servers: the epoll set and
 * the timer are two descriptors, counted with AcquireExternalFD, created
 * when an asynchronous Append first asks and kept until the transport
 * closes its last connection.  A descriptor the Append registered only
 * needs to be readable when some transfer made progress; which scan can
 * then produce a row is the scan's business (scan.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/timerfd.h>
#define RDS_HAVE_WAIT_FD 1
#endif

#include <curl/curl.h>

#include "storage/fd.h"

#include "rds_http.h"

/* the set and its timer; -1 until created */
static int	wait_epfd = -1;
static int	wait_tick_fd = -1;

#ifdef RDS_HAVE_WAIT_FD
/* events each socket is watched for in wait_epfd (0: not watched) */
static uint32 watched[FD_SETSIZE];
static int	max_watched = -1;	/* highest socket watched, -1 if none */
#endif

/* ticks read from the timer so far */
static uint64 ticks_seen = 0;

/* the timer was made to fire at once: its next expiration is no tick */
static bool woken = false;

#ifdef RDS_HAVE_WAIT_FD
/*
 * When the timer was last armed (CLOCK_MONOTONIC, µs, taken just after
 * arming it, so never before the true arming), and the earliest time its
 * next unread expiration can be due: before then a read would find nothing,
 * and rds_waitfd_ticks does not make one (a scan asks for every row).
 */
static int64 tick_armed_us = 0;
static int64 tick_due_us = 0;

static int64 monotonic_us(void);
static void read_ticks(bool force);
#endif

/*
 * rds_waitfd_get
 *		The backend's wait descriptor, created on first need (synchronous
 *		scans never ask): -1 without epoll, or if its two descriptors cannot
 *		be had (the scans then run synchronously).  Never throws.
 */
int
rds_waitfd_get(void)
{
#ifdef RDS_HAVE_WAIT_FD
	struct itimerspec tick;
	struct epoll_event ev;

	if (wait_epfd >= 0)
		return wait_epfd;
	if (!AcquireExternalFD())
		return -1;
	wait_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (wait_epfd < 0)
	{
		ReleaseExternalFD();
		return -1;
	}
	if (!AcquireExternalFD())
	{
		close(wait_epfd);
		ReleaseExternalFD();
		wait_epfd = -1;
		return -1;
	}
	wait_tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	memset(&tick, 0, sizeof(tick));
	tick.it_value.tv_nsec = RDS_WAIT_TICK_MS * 1000000L;
	tick.it_interval.tv_nsec = RDS_WAIT_TICK_MS * 1000000L;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = wait_tick_fd;
	if (wait_tick_fd < 0 ||
		timerfd_settime(wait_tick_fd, 0, &tick, NULL) != 0 ||
		epoll_ctl(wait_epfd, EPOLL_CTL_ADD, wait_tick_fd, &ev) != 0)
	{
		if (wait_tick_fd >= 0)
			close(wait_tick_fd);
		close(wait_epfd);
		ReleaseExternalFD();
		ReleaseExternalFD();
		wait_tick_fd = wait_epfd = -1;
		return -1;
	}
	tick_armed_us = monotonic_us();
	tick_due_us = tick_armed_us + RDS_WAIT_TICK_MS * 1000L;
	memset(watched, 0, sizeof(watched));
	max_watched = -1;
	return wait_epfd;
#else
	return -1;
#endif
}

/*
 * rds_waitfd_open
 *		Whether the wait descriptor exists (an asynchronous Append asked).
 */
bool
rds_waitfd_open(void)
{
	return wait_epfd >= 0;
}

/*
 * rds_waitfd_close
 *		Closes the wait descriptor and its timer, if open, giving their
 *		descriptors back.  Never throws.
 */
void
rds_waitfd_close(void)
{
	if (wait_tick_fd >= 0)
	{
		close(wait_tick_fd);
		ReleaseExternalFD();
	}
	if (wait_epfd >= 0)
	{
		close(wait_epfd);
		ReleaseExternalFD();
	}
	wait_tick_fd = wait_epfd = -1;
	woken = false;
}

/*
 * rds_waitfd_ticks
 *		How many times the timer has ticked so far (reading it clears its
 *		readiness; a wake-up is not counted, so that it does not make every
 *		waiting scan look again).  The timer is read only once an expiration
 *		can be due (or a wake-up is pending), not on every call: an
 *		asynchronous scan asks for every row.  0 while there is no wait
 *		descriptor.  Never throws.
 */
uint64
rds_waitfd_ticks(void)
{
#ifdef RDS_HAVE_WAIT_FD
	read_ticks(false);
#endif
	return ticks_seen;
}

#ifdef RDS_HAVE_WAIT_FD
/*
 * read_ticks
 *		Reads the timer into ticks_seen, if an expiration can be due by now
 *		(or a wake-up is pending), or if force.
 */
static void
read_ticks(bool force)
{
	uint64		n;
	int64		now;
	int64		period = RDS_WAIT_TICK_MS * 1000L;

	if (wait_tick_fd < 0)
		return;
	now = monotonic_us();
	if (!force && !woken && now < tick_due_us)
		return;
	if (read(wait_tick_fd, &n, sizeof(n)) == sizeof(n))
	{
		if (woken && n > 0)
			n--;				/* not a tick, only a wake-up */
		woken = false;
		ticks_seen += n;
		/* the first expiration after now (until then, nothing to read) */
		tick_due_us = tick_armed_us +
			((now - tick_armed_us) / period + 1) * period;
	}
	/* else not fired yet (timer slack): look again next time */
}
#endif

/*
 * rds_waitfd_wake
 *		Makes the wait descriptor readable at once (the timer fires now,
 *		then ticks on as before): a scan can produce rows without the
 *		network, so whoever waits on the descriptor must not sleep.  Never
 *		throws.
 */
void
rds_waitfd_wake(void)
{
#ifdef RDS_HAVE_WAIT_FD
	struct itimerspec tick;

	if (wait_tick_fd < 0 || woken)
		return;
	read_ticks(true);			/* re-arming drops the ticks not read */
	woken = true;
	memset(&tick, 0, sizeof(tick));
	tick.it_value.tv_nsec = 1;
	tick.it_interval.tv_nsec = RDS_WAIT_TICK_MS * 1000000L;
	(void) timerfd_settime(wait_tick_fd, 0, &tick, NULL);
	tick_armed_us = monotonic_us();
#endif
}

#ifdef RDS_HAVE_WAIT_FD
/* CLOCK_MONOTONIC (the timer's clock) in µs; no system call (vDSO) */
static int64
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
#endif

/*
 * rds_waitfd_ready
 *		Whether anything in the wait set (a socket, the timer) is ready now.
 *		True when there is no set: the caller must then look anyway.  Never
 *		throws.
 */
bool
rds_waitfd_ready(void)
{
#ifdef RDS_HAVE_WAIT_FD
	struct epoll_event ev;

	if (wait_epfd < 0)
		return true;
	return epoll_wait(wait_epfd, &ev, 1, 0) != 0;
#else
	return true;
#endif
}

/*
 * rds_waitfd_forget
 *		The socket fd is being closed (the kernel drops it from the set):
 *		forget it, so that a new socket given the same number is added
 *		anew.  Never throws.
 */
void
rds_waitfd_forget(int fd)
{
#ifdef RDS_HAVE_WAIT_FD
	if (fd >= 0 && fd < FD_SETSIZE)
		watched[fd] = 0;
#endif
}

/*
 * rds_waitfd_sync
 *		Mirrors in the wait set the sockets that multi's transfers wait on
 *		(as curl_multi_fdset reports them).  Returns false if some socket
 *		could not be watched (beyond FD_SETSIZE, or epoll_ctl failing): the
 *		caller must then not rely on the set alone, the timer still wakes
 *		the waiter.  Does nothing (true) while there is no set.  Never
 *		throws.
 */
bool
rds_waitfd_sync(void *multi)
{
#ifdef RDS_HAVE_WAIT_FD
	fd_set		rd,
				wr,
				ex;
	int			maxfd = -1;
	int			fd;
	int			top;
	bool		complete = true;

	if (wait_epfd < 0)
		return true;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	if (curl_multi_fdset((CURLM *) multi, &rd, &wr, &ex, &maxfd) != CURLM_OK)
		return false;

	top = Max(maxfd, max_watched);
	max_watched = -1;
	for (fd = 0; fd <= top && fd < FD_SETSIZE; fd++)
	{
		struct epoll_event ev;
		uint32		want = 0;

		if (fd == wait_tick_fd)
			continue;
		if (fd <= maxfd)
			want = (FD_ISSET(fd, &rd) ? EPOLLIN : 0) |
				(FD_ISSET(fd, &wr) ? EPOLLOUT : 0);
		if (want != watched[fd])
		{
			memset(&ev, 0, sizeof(ev));
			ev.data.fd = fd;
			ev.events = want;
			if (want == 0)
				(void) epoll_ctl(wait_epfd, EPOLL_CTL_DEL, fd, &ev);
			else if (epoll_ctl(wait_epfd, watched[fd] ? EPOLL_CTL_MOD :
							   EPOLL_CTL_ADD, fd, &ev) != 0 &&
					 epoll_ctl(wait_epfd, errno == EEXIST ? EPOLL_CTL_MOD :
							   EPOLL_CTL_ADD, fd, &ev) != 0)
			{
				complete = false;
				want = 0;
			}
			watched[fd] = want;
		}
		if (watched[fd] != 0)
			max_watched = fd;
	}
	return complete;
#else
	return true;
#endif
}
