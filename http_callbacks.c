/*-------------------------------------------------------------------------
 *
 * http_callbacks.c
 *		  What libcurl calls back during a transfer: sockets opened and
 *		  closed (each counted as a PostgreSQL external descriptor), body
 *		  bytes and the response headers we use.  http.c installs them.
 *
 * Callbacks run inside libcurl: they never palloc, never ereport and touch
 * no PostgreSQL state but the descriptor count; a failure is recorded in
 * the transfer and libcurl's abort code returned (http.c reports it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include <curl/curl.h>

#include "storage/fd.h"

#include "rds_compat.h"
#include "rds_http.h"
#include "rds_transport.h"

/* first allocation of a response buffer */
#define RDS_BODY_INITIAL_SIZE	16384

static bool header_value(const char *line, size_t len, const char *name,
						 const char **value, size_t *vlen);

/*
 * rds_open_socket_callback
 *		Opens a socket for libcurl once PostgreSQL grants a descriptor for
 *		it.  If none is left, records it in the transfer (and, when the
 *		backend has sockets open, caps its connections at their number)
 *		and refuses: libcurl fails the attempt to connect.
 */
curl_socket_t
rds_open_socket_callback(void *clientp, curlsocktype purpose,
					 struct curl_sockaddr *address)
{
	RdsTransfer *xfer = (RdsTransfer *) clientp;
	int			fd;

	if (!AcquireExternalFD())
	{
		xfer->no_fd = true;
		xfer->no_fd_alone = (rds_core.nsockets == 0);
		if (rds_core.nsockets > 0)
			rds_core.want_max_sockets = rds_core.nsockets;
		return CURL_SOCKET_BAD;
	}
	fd = socket(address->family, address->socktype, address->protocol);
	if (fd < 0)
	{
		ReleaseExternalFD();
		return CURL_SOCKET_BAD;
	}
	rds_core.nsockets++;
	return fd;
}

/*
 * rds_close_socket_callback
 *		Closes a socket opened by rds_open_socket_callback, giving back its
 *		descriptor.  clientp is the backend's RdsCore, which outlives its
 *		sockets.
 */
int
rds_close_socket_callback(void *clientp, curl_socket_t item)
{
	RdsCore    *c = (RdsCore *) clientp;

	rds_waitfd_forget(item);
	close(item);
	ReleaseExternalFD();
	c->nsockets--;
	return 0;
}

/*
 * rds_write_callback
 *		Appends received body bytes to the transfer's malloc'd buffer.  Past
 *		RDS_MAX_RESPONSE_SIZE, or when out of memory, records it and aborts
 *		the transfer.
 */
size_t
rds_write_callback(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	RdsTransfer *xfer = (RdsTransfer *) userdata;
	size_t		len = size * nmemb;

	if (len == 0)
		return 0;
	if (len > RDS_MAX_RESPONSE_SIZE - xfer->resp.body_len)
	{
		xfer->resp.too_large = true;
		return 0;
	}
	if (xfer->resp.body_len + len > xfer->body_cap)
	{
		size_t		cap = xfer->body_cap ? xfer->body_cap : RDS_BODY_INITIAL_SIZE;
		char	   *p;

		while (cap < xfer->resp.body_len + len)
			cap *= 2;
		cap = Min(cap, (size_t) RDS_MAX_RESPONSE_SIZE);
		p = realloc(xfer->resp.body, cap);
		if (p == NULL)
		{
			xfer->resp.out_of_memory = true;
			return 0;
		}
		xfer->resp.body = p;
		xfer->body_cap = cap;
	}
	memcpy(xfer->resp.body + xfer->resp.body_len, ptr, len);
	xfer->resp.body_len += len;
	return len;
}

/*
 * rds_header_callback
 *		Records the response headers we use: Retry-After, X-Request-Id and,
 *		for IAM, X-Subject-Token.  A status line starts a new response
 *		(interim 1xx answers), forgetting what an earlier one said.
 */
size_t
rds_header_callback(char *buffer, size_t size, size_t nitems, void *userdata)
{
	RdsTransfer *xfer = (RdsTransfer *) userdata;
	size_t		len = size * nitems;
	const char *value;
	size_t		vlen;

	if (len >= 5 && memcmp(buffer, "HTTP/", 5) == 0)
	{
		xfer->resp.retry_after[0] = '\0';
		xfer->resp.request_id[0] = '\0';
		if (xfer->resp.subject_token != NULL)
		{
			explicit_bzero(xfer->resp.subject_token, strlen(xfer->resp.subject_token));
			free(xfer->resp.subject_token);
			xfer->resp.subject_token = NULL;
		}
	}
	else if (header_value(buffer, len, "Retry-After", &value, &vlen))
	{
		if (vlen < sizeof(xfer->resp.retry_after))
		{
			memcpy(xfer->resp.retry_after, value, vlen);
			xfer->resp.retry_after[vlen] = '\0';
		}
	}
	else if (header_value(buffer, len, "X-Request-Id", &value, &vlen))
	{
		vlen = Min(vlen, sizeof(xfer->resp.request_id) - 1);
		memcpy(xfer->resp.request_id, value, vlen);
		xfer->resp.request_id[vlen] = '\0';
	}
	else if (xfer->want_subject_token &&
			 header_value(buffer, len, "X-Subject-Token", &value, &vlen))
	{
		char	   *token = malloc(vlen + 1);

		if (token == NULL)
		{
			xfer->resp.out_of_memory = true;
			return 0;
		}
		memcpy(token, value, vlen);
		token[vlen] = '\0';
		if (xfer->resp.subject_token != NULL)
		{
			explicit_bzero(xfer->resp.subject_token, strlen(xfer->resp.subject_token));
			free(xfer->resp.subject_token);
		}
		xfer->resp.subject_token = token;
	}
	return len;
}

/*
 * header_value
 *		If the header line (len bytes, not NUL-terminated) is "name: value"
 *		with name matched case-insensitively, points *value at the value
 *		without surrounding blanks and line end and returns true.
 */
static bool
header_value(const char *line, size_t len, const char *name,
			 const char **value, size_t *vlen)
{
	size_t		nlen = strlen(name);
	const char *v;
	const char *end;

	if (len <= nlen || line[nlen] != ':' ||
		pg_strncasecmp(line, name, nlen) != 0)
		return false;

	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
					   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*value = v;
	*vlen = end - v;
	return true;
}

