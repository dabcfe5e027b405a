/*-------------------------------------------------------------------------
 *
 * rds_transport.h
 *		  Private to the transport (http.c and http_callbacks.c): the
 *		  backend's libcurl side and one HTTP exchange, which libcurl's
 *		  callbacks write into.  Nothing else includes it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RDS_TRANSPORT_H
#define RDS_TRANSPORT_H

#include <poll.h>

#include <curl/curl.h>

#include "rds_http.h"

/* idle easy handles kept for reuse */
#define RDS_EASY_POOL_SIZE		16

/* most connections the backend keeps open at once, whatever the budget */
#define RDS_MAX_CONNECTIONS		1024

/*
 * most sockets libcurl may ask to be watched at once: one per connection,
 * and one for each name being resolved (its resolver's socket pair)
 */
#define RDS_MAX_WATCHED			(2 * RDS_MAX_CONNECTIONS + 16)

/*
 * The libcurl side of the backend, shared by every RdsTransport: created
 * with the first, cleaned up with the last.
 */
typedef struct RdsCore
{
	int			ntransports;	/* RdsTransports alive */
	CURLM	   *multi;			/* drives every transfer of the backend */
	CURLSH	   *share;			/* DNS, TLS sessions and connections */
	CURL	   *pool[RDS_EASY_POOL_SIZE];	/* idle easy handles */
	int			npool;
	int			nattached;		/* transfers on the multi handle */
	int			nsockets;		/* sockets open (each an external FD) */
	long		max_sockets;	/* cap set on the multi handle */
	long		want_max_sockets;	/* cap to set after a refused socket */
	bool		fds_stale;		/* the wait set may not mirror libcurl's
								 * sockets: drive before trusting it */

	/*
	 * libcurl's socket interface: what its socket and timer callbacks asked
	 * for.  The transfers are driven by telling libcurl which socket is
	 * ready (or that its timer expired), so that it neither polls each
	 * socket itself nor looks at transfers that have nothing to do.
	 */
	struct pollfd watch[RDS_MAX_WATCHED];	/* sockets libcurl waits on */
	int			nwatch;
	bool		watch_full;		/* a socket could not be recorded */
	bool		timer_set;		/* libcurl's timer runs ... */
	TimestampTz timer_at;		/* ... and expires then */
} RdsCore;

extern RdsCore rds_core;

/*
 * One HTTP exchange.  malloc'd: libcurl callbacks write into it.
 */
struct RdsTransfer
{
	RdsResponse resp;			/* what came back */
	CURL	   *easy;
	struct curl_slist *headers;
	char	   *post_body;		/* IAM credentials: wiped when freed */
	size_t		post_len;
	bool		attached;		/* on the multi handle */
	bool		want_subject_token;
	RdsTransport *transport;	/* while started: whose transfer it is */
	bool		no_fd;			/* a socket was refused: no descriptor left */
	bool		no_fd_alone;	/* ... while the backend had no socket */
	CURLcode	result;
	long		os_errno;		/* errno of a failed connect, or 0 */
	size_t		body_cap;
	char		errbuf[CURL_ERROR_SIZE];
};

/* http_callbacks.c: installed by http.c on every easy handle ... */
extern curl_socket_t rds_open_socket_callback(void *clientp, curlsocktype purpose,
											  struct curl_sockaddr *address);
extern int	rds_close_socket_callback(void *clientp, curl_socket_t item);
/* ... and on the multi handle */
extern int	rds_socket_callback(CURL *easy, curl_socket_t s, int what,
								void *userp, void *socketp);
extern int	rds_timer_callback(CURLM *multi, long timeout_ms, void *userp);
extern void rds_unwatch_socket(RdsCore *c, curl_socket_t s);
extern size_t rds_write_callback(char *ptr, size_t size, size_t nmemb,
								 void *userdata);
extern size_t rds_header_callback(char *buffer, size_t size, size_t nitems,
								  void *userdata);

#endif							/* RDS_TRANSPORT_H */
