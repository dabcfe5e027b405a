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

#include <curl/curl.h>

#include "rds_http.h"

/* idle easy handles kept for reuse */
#define RDS_EASY_POOL_SIZE		16

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
								 * sockets: perform before trusting it */
	uint64		perform_ticks;	/* timer ticks at the last perform */
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

/* http_callbacks.c: installed on every easy handle by http.c */
extern curl_socket_t rds_open_socket_callback(void *clientp, curlsocktype purpose,
											  struct curl_sockaddr *address);
extern int	rds_close_socket_callback(void *clientp, curl_socket_t item);
extern size_t rds_write_callback(char *ptr, size_t size, size_t nmemb,
								 void *userdata);
extern size_t rds_header_callback(char *buffer, size_t size, size_t nitems,
								  void *userdata);

#endif							/* RDS_TRANSPORT_H */
