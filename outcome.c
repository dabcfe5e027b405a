/*-------------------------------------------------------------------------
 *
 * outcome.c
 *		  What a failed exchange with the API means: whether it is retried
 *		  and after how long (backoff, Retry-After), its SQLSTATE, and the
 *		  error the query gets, in words that name the server and the fix.
 *
 * The one place that maps HTTP statuses and transport failures to errors.
 * Remote text is made printable and shown in DETAIL; a body that is not
 * an API error envelope is never echoed (it may hold a secret), and no
 * credential is ever part of a message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "mb/pg_wchar.h"

#include "rds_compat.h"
#include "rds_http.h"

/*
 * Exponential backoff with "equal jitter": before retry n + 1 (n = 0, 1, ...)
 * the wait is d/2 + random(0, d/2), d = min(cap, base * 2^n).  A 429 is a
 * throttle, whose limits here are per minute: its base makes the first wait
 * at least 1 s.  5xx, timeouts and broken connections are hiccups: a shorter
 * base.  The wait never exceeds request_timeout; statement_timeout and query
 * cancel end any wait (rds_transport_sleep serves interrupts).
 */
#define RDS_BACKOFF_THROTTLE_BASE_MS	2000
#define RDS_BACKOFF_BASE_MS		500
#define RDS_BACKOFF_CAP_MS		30000

/* a Retry-After is honoured up to this long */
#define RDS_RETRY_AFTER_MAX_MS	60000

/* bytes of remote error code/message text shown */
#define RDS_REMOTE_TEXT_MAX		500

static int	outcome_sqlstate(const RdsTransfer *xfer);
static char *failure_hint(RdsConn *conn, const RdsTransfer *xfer, bool iam);
static char *printable_text(const char *data, size_t len, size_t max);
static char *error_summary(RdsRequest *req, const char *user, long status,
						   const char *failure, const char *error_code,
						   const char *error_msg);

/*
 * rds_is_transient
 *		Whether a failed exchange may be retried: HTTP 429, 500, 502, 503,
 *		504, timeouts and dropped or refused connections.  A failed name
 *		lookup is not: it will not resolve on the next try either.
 */
bool
rds_is_transient(const RdsTransfer *xfer)
{
	const RdsResponse *resp = rds_transfer_response(xfer);

	if (resp->too_large || resp->out_of_memory)
		return false;
	if (resp->failed)
		return rds_transfer_retryable(xfer);

	switch (resp->status)
	{
		case 429:
		case 500:
		case 502:
		case 503:
		case 504:
			return true;
		default:
			return false;
	}
}

/*
 * rds_retry_delay_ms
 *		The wait before retry number req->retries + 1 after req's failed
 *		current attempt: the server's Retry-After (delta-seconds or an HTTP
 *		date, capped at RDS_RETRY_AFTER_MAX_MS) if it sent a usable one,
 *		else the exponential backoff with jitter described at
 *		RDS_BACKOFF_THROTTLE_BASE_MS, never longer than the connection's
 *		request_timeout.  Never throws.
 */
long
rds_retry_delay_ms(const RdsRequest *req)
{
	const RdsResponse *resp = rds_transfer_response(req->xfer);
	const char *ra = resp->retry_after;
	int			retries = req->retries;
	long		base;
	long		d;
	long		delay;

	if (ra[0] != '\0')
	{
		long		ms = -1;

		if (strspn(ra, "0123456789") == strlen(ra))
		{
			if (strlen(ra) <= 6)
				ms = atol(ra) * 1000;
			else
				ms = RDS_RETRY_AFTER_MAX_MS;
		}
		else
		{
			time_t		when = rds_http_date(ra);

			if (when != (time_t) -1)
			{
				time_t		now = time(NULL);

				if (when <= now)
					ms = 0;
				else if (when - now > RDS_RETRY_AFTER_MAX_MS / 1000)
					ms = RDS_RETRY_AFTER_MAX_MS;
				else
					ms = (long) (when - now) * 1000;
			}
		}
		if (ms >= 0)
			return Min(ms, RDS_RETRY_AFTER_MAX_MS);
	}

	base = (!resp->failed && resp->status == 429) ?
		RDS_BACKOFF_THROTTLE_BASE_MS : RDS_BACKOFF_BASE_MS;
	d = (retries >= 16) ? RDS_BACKOFF_CAP_MS :
		Min(base << retries, RDS_BACKOFF_CAP_MS);
	delay = d / 2 + (long) (rds_random_fraction() * (d / 2));

	return Min(delay, (long) req->conn->opts.request_timeout * 1000);
}

/*
 * rds_retry_reason
 *		Why a failed exchange is retried, for the request log (palloc'd):
 *		"HTTP 429, Retry-After: 2", "HTTP 503", "timeout" or "connection
 *		failure: ...".  Never throws but out of memory.
 */
const char *
rds_retry_reason(const RdsTransfer *xfer)
{
	const RdsResponse *resp = rds_transfer_response(xfer);

	if (resp->failed)
	{
		if (rds_transfer_failure_kind(xfer) == RDS_FAILURE_TIMEOUT)
			return "timeout";
		return psprintf("connection failure: %s", rds_transfer_failure(xfer));
	}
	if (resp->retry_after[0] != '\0')
		return psprintf("HTTP %ld, Retry-After: %s", resp->status,
						printable_text(resp->retry_after,
									   strlen(resp->retry_after), 64));
	return psprintf("HTTP %ld", resp->status);
}

/*
 * outcome_sqlstate
 *		The SQLSTATE of a failed exchange: the one place that maps HTTP
 *		statuses and transport failures to error codes.
 */
static int
outcome_sqlstate(const RdsTransfer *xfer)
{
	const RdsResponse *resp = rds_transfer_response(xfer);

	if (resp->too_large)
		return ERRCODE_FDW_REPLY_HANDLE;
	if (resp->out_of_memory)
		return ERRCODE_OUT_OF_MEMORY;
	if (resp->failed)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;

	if (resp->status == 401 || resp->status == 403)
		return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
	if (resp->status == 404)
		return ERRCODE_FDW_TABLE_NOT_FOUND;
	if (resp->status == 429 || resp->status >= 500)
		return ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
	if (resp->status >= 300)
		return ERRCODE_FDW_ERROR;	/* other 4xx, and redirects not followed */
	return ERRCODE_FDW_REPLY_HANDLE;	/* a success status we do not expect */
}

/*
 * rds_failure_of
 *		The error for the failed current attempt of req (palloc'd), which
 *		the caller throws with rds_failure_throw once it released req; also
 *		the server's last error in its statistics.  Message: the status or libcurl's error, the API's
 *		error_code and error_msg, the method and path; detail: the query
 *		string, the request ID, the number of attempts and (for a body that
 *		is not an error envelope) its content type and length, never its
 *		bytes; a hint for the mistakes a setting fixes (a 404: project_id and
 *		endpoint; a timeout: request_timeout and max_retries; TLS
 *		verification: ca_file and the CA store in use); a context line naming
 *		the foreign server.  Remote text is made printable; no credential is
 *		ever part of it.
 */
RdsFailure *
rds_failure_of(RdsRequest *req)
{
	RdsConn    *conn = req->conn;
	RdsTransfer *xfer = req->xfer;
	const RdsResponse *resp = rds_transfer_response(xfer);
	int			sqlstate = outcome_sqlstate(xfer);
	bool		no_fd = (rds_transfer_no_fd(xfer) != 0);
	bool		iam = (req->kind == RDS_REQUEST_IAM);
	const char *user = (conn->opts.user_name ? conn->opts.user_name : "");
	char	   *error_code = NULL;
	char	   *error_msg = NULL;
	char	   *request_id = NULL;
	char	   *excerpt = NULL;
	char	   *failure = NULL;
	char	   *libcurl_text = NULL;
	StringInfoData detail;
	long		status = resp->status;
	int			attempts = req->attempts;
	char	   *server = pstrdup(conn->opts.server_name ?
								 conn->opts.server_name : "?");
	RdsFailure *f;

	/* everything needed from the transfer, copied: the caller releases it */
	if (resp->too_large)
		failure = psprintf("response body exceeds %d bytes",
						   RDS_MAX_RESPONSE_SIZE);
	else if (resp->out_of_memory)
		failure = pstrdup("out of memory while receiving the response");
	else if (resp->failed)
	{
		failure = pstrdup(rds_transfer_failure(xfer));
		libcurl_text = rds_transfer_failure_detail(xfer);
	}
	else if (resp->body_len > 0)
	{
		if (rds_decode_error(resp->body, resp->body_len,
							 &error_code, &error_msg, &request_id))
		{
			if (error_code != NULL)
				error_code = printable_text(error_code, strlen(error_code),
											RDS_REMOTE_TEXT_MAX);
			if (error_msg != NULL)
				error_msg = printable_text(error_msg, strlen(error_msg),
										   RDS_REMOTE_TEXT_MAX);
			if (request_id != NULL)
				request_id = printable_text(request_id, strlen(request_id),
											RDS_REMOTE_TEXT_MAX);
		}
		else					/* not the API's: never echoed, it may be secret */
			excerpt = psprintf("%s, %zu bytes",
							   resp->content_type[0] ? resp->content_type :
							   "no content type", resp->body_len);
	}
	if (request_id == NULL && resp->request_id[0] != '\0')
		request_id = printable_text(resp->request_id,
									strlen(resp->request_id),
									RDS_REMOTE_TEXT_MAX);

	initStringInfo(&detail);
	if (!iam && req->query[0] != '\0')
		appendStringInfo(&detail, "Query string: %s.", req->query);
	if (iam && error_code != NULL)
		appendStringInfo(&detail, "%sIAM error code: %s.",
						 detail.len ? " " : "", error_code);
	if (request_id != NULL)
		appendStringInfo(&detail, "%sRequest ID: %s.",
						 detail.len ? " " : "", request_id);
	if (attempts > 1)
		appendStringInfo(&detail, "%sGave up after %d attempts.",
						 detail.len ? " " : "", attempts);
	if (excerpt != NULL)
		appendStringInfo(&detail, "%sThe response is not an API error (%s).",
						 detail.len ? " " : "", excerpt);
	if (libcurl_text != NULL)
		appendStringInfo(&detail, "%sTransport: %s.",
						 detail.len ? " " : "", libcurl_text);

	f = palloc0(sizeof(RdsFailure));
	f->sqlstate = sqlstate;
	f->detail = detail.len ? detail.data : NULL;
	f->hint = no_fd ? "Raise max_files_per_process, or lower parallel_requests." :
		failure_hint(conn, xfer, iam);
	f->server = server;

	/* one message: the error's, and the server's last error in its stats */
	f->message = error_summary(req, user, status, failure, error_code, error_msg);
	rds_stats_error(conn->opts.serverid, server, f->message);
	return f;
}

/*
 * rds_failure_throw
 *		Throws the error rds_failure_of described.
 */
void
rds_failure_throw(const RdsFailure *f)
{
	ereport(ERROR,
			(errcode(f->sqlstate),
			 errmsg("%s", f->message),
			 f->detail ? errdetail_internal("%s", f->detail) : 0,
			 f->hint ? errhint("%s", f->hint) : 0,
			 errcontext("foreign server \"%s\"", f->server)));
	pg_unreachable();
}

/*
 * error_summary
 *		The message of the error rds_failure_of describes for req, also the
 *		server's last error in its statistics (palloc'd): the status or
 *		failure, the API's error_code and error_msg (already printable),
 *		method and path, or for IAM the user.
 */
static char *
error_summary(RdsRequest *req, const char *user, long status,
			  const char *failure, const char *error_code,
			  const char *error_msg)
{
	if (req->kind == RDS_REQUEST_IAM)
	{
		if (failure != NULL)
			return psprintf("could not obtain an IAM token for user \"%s\": %s",
							user, failure);
		return psprintf("could not obtain an IAM token for user \"%s\": HTTP %ld%s%s",
						user, status, error_msg ? " " : "",
						error_msg ? error_msg : "");
	}
	if (failure != NULL)
		return psprintf("RDS API request %s %s failed: %s",
						req->method, req->path, failure);
	if (error_code != NULL || error_msg != NULL)
		return psprintf("RDS API request %s %s failed: HTTP %ld %s: %s",
						req->method, req->path, status,
						error_code ? error_code : "",
						error_msg ? error_msg : "");
	return psprintf("RDS API request %s %s failed: HTTP %ld",
					req->method, req->path, status);
}

/*
 * failure_hint
 *		The advice for the failed current attempt of a request on conn (iam:
 *		the IAM token request), palloc'd, or NULL if there is none: the
 *		options that fix a 404, a timeout, a certificate that does not
 *		verify or an unreadable CA file.  Names no secret.
 */
static char *
failure_hint(RdsConn *conn, const RdsTransfer *xfer, bool iam)
{
	const RdsResponse *resp = rds_transfer_response(xfer);
	const RdsOptions *o = &conn->opts;
	const char *ca;

	if (!resp->failed)
	{
		if (resp->status != 404)
			return NULL;
		if (iam)
			return psprintf("Check the server's auth_url (now \"%s\"): IAM does not know the path.",
							o->auth_url ? o->auth_url : "");
		return psprintf("Check the server's project_id (now \"%s\") and endpoint (now \"%s\"): the API answers 404 for a project that its region does not know and for a path it does not serve.",
						o->project_id ? o->project_id : "",
						o->endpoint ? o->endpoint : "");
	}

	switch (rds_transfer_failure_kind(xfer))
	{
		case RDS_FAILURE_TIMEOUT:
			return psprintf("The server's request_timeout is %d s (connect_timeout %d s) for each attempt and max_retries is %d: raise request_timeout if the API is slow to answer, lower max_retries to give up sooner.",
							o->request_timeout, o->connect_timeout,
							o->max_retries);
		case RDS_FAILURE_TLS_VERIFY:
			if (o->ca_file != NULL)
				return psprintf("The certificate was checked against the server's ca_file \"%s\": that file must hold the CA that signed the certificate, and the certificate must name the host.",
								o->ca_file);
			ca = rds_transfer_ca_file(xfer);
			return psprintf("The certificate was checked against the system's CA store (%s%s%s): for a certificate signed by another CA, a superuser sets the server option ca_file to a PEM file holding that CA.  The certificate must also name the host.",
							ca ? "\"" : "", ca ? ca : "libcurl's default",
							ca ? "\"" : "");
		case RDS_FAILURE_CA_FILE:
			return psprintf("The server's ca_file \"%s\" must be a PEM file that the database server's operating system user can read.",
							o->ca_file ? o->ca_file : "");
		case RDS_FAILURE_OTHER:
			break;
	}
	return NULL;
}

/*
 * printable_text
 *		A palloc'd copy of at most about max bytes of remote text, safe for a
 *		message: valid UTF-8 kept when the database encoding is UTF-8 (else
 *		non-ASCII bytes become '?'), line breaks and tabs become spaces,
 *		other control bytes and invalid sequences '?', trailing blanks are
 *		dropped; "..." marks a cut.
 */
static char *
printable_text(const char *data, size_t len, size_t max)
{
	StringInfoData buf;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len && (size_t) buf.len < max)
	{
		unsigned char c = (unsigned char) data[i];

		if (c < 0x80)
		{
			if (c == '\n' || c == '\r' || c == '\t')
				appendStringInfoChar(&buf, ' ');
			else if (c < 0x20 || c == 0x7F)
				appendStringInfoChar(&buf, '?');
			else
				appendStringInfoChar(&buf, (char) c);
			i++;
		}
		else
		{
			int			l = pg_utf_mblen((const unsigned char *) data + i);

			if (utf8 && i + l <= len &&
				pg_utf8_islegal((const unsigned char *) data + i, l))
			{
				appendBinaryStringInfo(&buf, data + i, l);
				i += l;
			}
			else
			{
				appendStringInfoChar(&buf, '?');
				i++;
			}
		}
	}
	while (buf.len > 0 && buf.data[buf.len - 1] == ' ')
		buf.data[--buf.len] = '\0';
	if (i < len)
		appendStringInfoString(&buf, "...");
	return buf.data;
}


