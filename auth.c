/*-------------------------------------------------------------------------
 *
 * auth.c
 *		  Authentication of rds_task_fdw requests: the IAM token of password
 *		  authentication (request body, expiry, renewal) and AK/SK request
 *		  signing ("SDK-HMAC-SHA256"), plus the URI encoding both the signer
 *		  and the query builder use.
 *
 * The HTTP exchange that fetches a token is the client's (client.c); this
 * file only says what to send, what the answer means and when a token must
 * be renewed.  Of the transport (http.c) it uses only the header list
 * (rds_slist_append); it calls neither back into the client nor anything
 * else of the transport.
 * rds_task_fdw_sign() exposes the signer to SQL for tests.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <time.h>

#include <curl/curl.h>

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "rds_http.h"

#define RDS_SIGN_ALGORITHM	"SDK-HMAC-SHA256"

/* hex SHA-256 of an empty body: every request we sign is a GET */
#define RDS_EMPTY_BODY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* renew a token this long before it expires (at most; see need_token) */
#define RDS_TOKEN_RENEW_MARGIN	((int64) 5 * 60 * USECS_PER_SEC)

/*
 * The IAM token of one connection.  Lives in the connection's memory
 * context; the token text is wiped when replaced or dropped.
 */
struct RdsAuthState
{
	MemoryContext cxt;
	char	   *token;			/* NULL when none */
	uint64		generation;		/* bumped for every new token */
	TimestampTz obtained_at;
	TimestampTz expires_at;
	bool		expiry_known;	/* false: renewed only after a 401 */
};

/* one header taking part in a signature */
typedef struct RdsSignHeader
{
	char	   *name;			/* lower case */
	char	   *value;			/* trimmed */
} RdsSignHeader;

/* one decoded query parameter */
typedef struct RdsQueryPair
{
	char	   *key;
	size_t		keylen;
	char	   *value;
	size_t		valuelen;
} RdsQueryPair;

static void wipe_string(char *s);
static void hex_encode_lower(const uint8 *data, size_t len, char *out);
static void sha256_hex(const char *data, size_t len, char *out);
static void hmac_sha256_hex(const char *key, const char *data, size_t len,
							char *out);
static char *percent_decode(const char *s, size_t len, size_t *outlen);
static RdsQueryPair *parse_query(const char *query, int *npairs);
static int	compare_bytes(const char *a, size_t alen, const char *b,
						  size_t blen);
static int	compare_query_pairs(const void *a, const void *b);
static int	compare_sign_headers(const void *a, const void *b);
static void canonical_uri(StringInfo buf, const char *path);
static void canonical_query(StringInfo buf, const char *query);
static char *trim_copy(const char *s, size_t len);
static void format_sdk_date(char *buf, size_t size);
static void aksk_sign(const char *method, const char *path, const char *query,
					  RdsSignHeader *headers, int nheaders,
					  const char *access_key, const char *secret_key,
					  StringInfo canonical_request, StringInfo string_to_sign,
					  StringInfo authorization);

PG_FUNCTION_INFO_V1(rds_task_fdw_sign);
PG_FUNCTION_INFO_V1(rds_task_fdw_sign_server);


/* ------------------------------------------------------------------------
 * IAM token
 * ------------------------------------------------------------------------
 */

/*
 * rds_auth_create
 *		A token state without a token, allocated in cxt.
 */
RdsAuthState *
rds_auth_create(MemoryContext cxt)
{
	RdsAuthState *state;

	state = MemoryContextAllocZero(cxt, sizeof(RdsAuthState));
	state->cxt = cxt;
	return state;
}

/*
 * rds_auth_clear
 *		Wipes and drops the token.  Never throws: called while dropping a
 *		connection.
 */
void
rds_auth_clear(RdsAuthState *state)
{
	if (state == NULL || state->token == NULL)
		return;
	wipe_string(state->token);
	pfree(state->token);
	state->token = NULL;
}

/*
 * rds_auth_need_token
 *		True when there is no token, or it expires within the renewal margin:
 *		min(5 minutes, a tenth of its lifetime).
 */
bool
rds_auth_need_token(RdsAuthState *state)
{
	int64		lifetime;
	int64		margin;

	if (state->token == NULL)
		return true;
	if (!state->expiry_known)
		return false;

	lifetime = state->expires_at - state->obtained_at;
	margin = Min(RDS_TOKEN_RENEW_MARGIN, lifetime / 10);
	return GetCurrentTimestamp() >= state->expires_at - margin;
}

/*
 * rds_auth_iam_body
 *		The JSON body of the IAM password-authentication request, palloc'd.
 *		It holds the password: the caller wipes it (explicit_bzero) before
 *		freeing.  The buffer is sized up front so that no copy of the password
 *		is left behind in a reallocated chunk.
 */
char *
rds_auth_iam_body(const RdsOptions *opts)
{
	StringInfoData buf;
	const char *user = opts->user_name ? opts->user_name : "";
	const char *password = opts->password ? opts->password : "";
	const char *domain = opts->domain_name ? opts->domain_name : "";
	const char *project = opts->project_id ? opts->project_id : "";

	initStringInfo(&buf);
	/* escape_json writes at most 6 bytes per input byte */
	enlargeStringInfo(&buf, 256 + 6 * (strlen(user) + strlen(password) +
									   strlen(domain) + strlen(project)));

	appendStringInfoString(&buf,
						   "{\"auth\":{\"identity\":{\"methods\":[\"password\"],"
						   "\"password\":{\"user\":{\"name\":");
	escape_json(&buf, user);
	appendStringInfoString(&buf, ",\"password\":");
	escape_json(&buf, password);
	appendStringInfoString(&buf, ",\"domain\":{\"name\":");
	escape_json(&buf, domain);
	appendStringInfoString(&buf, "}}}},\"scope\":{\"project\":{\"id\":");
	escape_json(&buf, project);
	appendStringInfoString(&buf, "}}}}");

	return buf.data;
}

/*
 * rds_auth_set_token
 *		Stores a token fetched from IAM, replacing (and wiping) the previous
 *		one.  Its expiry comes from the IAM response body; when the body does
 *		not tell (or the clocks disagree so much that the token looks expired
 *		already), the token is kept until the API rejects it with a 401.
 */
void
rds_auth_set_token(RdsAuthState *state, const char *token,
				   const char *body, size_t len)
{
	TimestampTz expires_at;
	TimestampTz now = GetCurrentTimestamp();
	char	   *copy;

	copy = MemoryContextStrdup(state->cxt, token);
	rds_auth_clear(state);
	state->token = copy;
	state->generation++;
	state->obtained_at = now;

	if (body != NULL && rds_decode_token_expiry(body, len, &expires_at) &&
		expires_at > now)
	{
		state->expires_at = expires_at;
		state->expiry_known = true;
	}
	else
		state->expiry_known = false;
}

/*
 * rds_auth_forget_token
 *		Drops the token after the API rejected it, unless a newer token than
 *		the rejected one (generation) was fetched meanwhile.
 */
void
rds_auth_forget_token(RdsAuthState *state, uint64 generation)
{
	if (state->generation == generation)
		rds_auth_clear(state);
}

/*
 * rds_auth_add_headers
 *		Appends the authentication headers of one request to *headers:
 *		X-Auth-Token for token and password authentication (the token must be
 *		present: client.c fetches it first), or the AK/SK signature headers.
 *		host is the Host header value (host[:port]), path the full path on the
 *		wire and query the exact query string on the wire.
 *
 *		Returns the generation of the IAM token used (0 when none), so that a
 *		401 can tell whether that token is still current.  Throws on failure;
 *		lines already appended belong to *headers.
 */
uint64
rds_auth_add_headers(const RdsOptions *opts, RdsAuthState *state,
					 const char *host, const char *method,
					 const char *path, const char *query,
					 struct curl_slist **headers)
{
	StringInfoData line;
	uint64		generation = 0;

	initStringInfo(&line);

	switch (opts->auth_method)
	{
		case RDS_AUTH_NONE:
			break;

		case RDS_AUTH_TOKEN:
		case RDS_AUTH_PASSWORD:
			{
				const char *token;

				if (opts->auth_method == RDS_AUTH_TOKEN)
					token = opts->auth_token;
				else
				{
					token = state->token;
					generation = state->generation;
				}
				if (token == NULL)
					elog(ERROR, "no IAM token available");

				appendStringInfo(&line, "X-Auth-Token: %s", token);
				rds_slist_append(headers, line.data);
				break;
			}

		case RDS_AUTH_AKSK:
			{
				RdsSignHeader sh[4];
				int			nsh = 0;
				char		date[32];
				StringInfoData creq;
				StringInfoData sts;
				StringInfoData authz;

				if (opts->access_key == NULL || opts->secret_key == NULL ||
					opts->project_id == NULL)
					elog(ERROR, "incomplete AK/SK credentials");
				format_sdk_date(date, sizeof(date));

				sh[nsh].name = "host";
				sh[nsh++].value = (char *) host;
				sh[nsh].name = "x-project-id";
				sh[nsh++].value = opts->project_id;
				sh[nsh].name = "x-sdk-date";
				sh[nsh++].value = date;
				if (opts->security_token != NULL)
				{
					sh[nsh].name = "x-security-token";
					sh[nsh++].value = opts->security_token;
				}

				initStringInfo(&creq);
				initStringInfo(&sts);
				initStringInfo(&authz);
				aksk_sign(method, path, query, sh, nsh,
						  opts->access_key, opts->secret_key,
						  &creq, &sts, &authz);

				/* send the signed Host value itself, not curl's idea of it */
				appendStringInfo(&line, "Host: %s", host);
				rds_slist_append(headers, line.data);
				resetStringInfo(&line);
				appendStringInfo(&line, "X-Project-Id: %s", opts->project_id);
				rds_slist_append(headers, line.data);
				resetStringInfo(&line);
				appendStringInfo(&line, "X-Sdk-Date: %s", date);
				rds_slist_append(headers, line.data);
				if (opts->security_token != NULL)
				{
					resetStringInfo(&line);
					appendStringInfo(&line, "X-Security-Token: %s",
									 opts->security_token);
					rds_slist_append(headers, line.data);
					wipe_string(line.data);
				}
				resetStringInfo(&line);
				appendStringInfo(&line, "Authorization: %s", authz.data);
				rds_slist_append(headers, line.data);

				wipe_string(authz.data);
				pfree(creq.data);
				pfree(sts.data);
				pfree(authz.data);
				break;
			}
	}

	wipe_string(line.data);
	pfree(line.data);
	return generation;
}


/* ------------------------------------------------------------------------
 * URI encoding and query strings
 * ------------------------------------------------------------------------
 */

/*
 * rds_uri_encode
 *		Appends len bytes of s percent-encoded the way the signature wants
 *		it: only A-Za-z0-9-_.~ stay as they are, every other byte becomes %XX
 *		with uppercase hex (so a space is %20, never +).
 */
void
rds_uri_encode(StringInfo buf, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~')
			appendStringInfoChar(buf, (char) c);
		else
		{
			appendStringInfoChar(buf, '%');
			appendStringInfoChar(buf, hex[c >> 4]);
			appendStringInfoChar(buf, hex[c & 0x0F]);
		}
	}
}

/*
 * rds_normalize_query
 *		The query string as it goes on the wire, palloc'd: the caller's
 *		parameters in the caller's order, each key and value decoded and
 *		re-encoded with rds_uri_encode, joined by '&' ("k" becomes "k=").
 *		For a string built with rds_append_query_param this is the identity;
 *		in any case the wire form is exactly what the signature covers.
 */
char *
rds_normalize_query(const char *query)
{
	StringInfoData buf;
	RdsQueryPair *pairs;
	int			npairs;
	int			i;

	initStringInfo(&buf);
	pairs = parse_query(query, &npairs);
	for (i = 0; i < npairs; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, '&');
		rds_uri_encode(&buf, pairs[i].key, pairs[i].keylen);
		appendStringInfoChar(&buf, '=');
		rds_uri_encode(&buf, pairs[i].value, pairs[i].valuelen);
	}
	return buf.data;
}

/*
 * rds_split_url
 *		Splits an http(s) URL into the Host header value (host, plus :port
 *		when the port is not the scheme's default), the path as written (""
 *		for none) and the raw query ("" for none), all palloc'd.  Throws
 *		ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE for a URL libcurl cannot parse.
 */
void
rds_split_url(const char *url, char **host, char **path, char **query)
{
	CURLU	   *u;
	CURLUcode	rc;
	char	   *part = NULL;
	char	   *h;

	u = curl_url();
	if (u == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (rc != CURLUE_OK)
	{
		curl_url_cleanup(u);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid URL \"%s\": %s", url, curl_url_strerror(rc))));
	}

	rc = curl_url_get(u, CURLUPART_HOST, &part, 0);
	if (rc != CURLUE_OK)
	{
		curl_url_cleanup(u);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid URL \"%s\": %s", url, curl_url_strerror(rc))));
	}
	h = pstrdup(part);
	curl_free(part);
	part = NULL;

	if (curl_url_get(u, CURLUPART_PORT, &part, CURLU_NO_DEFAULT_PORT) ==
		CURLUE_OK)
	{
		h = psprintf("%s:%s", h, part);
		curl_free(part);
		part = NULL;
	}
	*host = h;

	if (curl_url_get(u, CURLUPART_PATH, &part, 0) == CURLUE_OK)
	{
		*path = pstrdup(strcmp(part, "/") == 0 ? "" : part);
		curl_free(part);
		part = NULL;
	}
	else
		*path = pstrdup("");

	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK)
	{
		*query = pstrdup(part);
		curl_free(part);
	}
	else
		*query = pstrdup("");

	curl_url_cleanup(u);
}


/* ------------------------------------------------------------------------
 * AK/SK signing
 * ------------------------------------------------------------------------
 */

/*
 * aksk_sign
 *		Computes the canonical request, the string to sign and the
 *		Authorization header value of one request (API.md, "AK/SK signing").
 *		path is the wire path, query the wire query; headers are the signed
 *		headers (names lower case, values trimmed), in any order (sorted here,
 *		in place), and must include x-sdk-date.  Results are appended to the
 *		three buffers.  Throws on a crypto failure.
 */
static void
aksk_sign(const char *method, const char *path, const char *query,
		  RdsSignHeader *headers, int nheaders,
		  const char *access_key, const char *secret_key,
		  StringInfo canonical_request, StringInfo string_to_sign,
		  StringInfo authorization)
{
	StringInfoData signed_names;
	const char *date = NULL;
	char		hash[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	char		signature[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	int			i;

	qsort(headers, nheaders, sizeof(RdsSignHeader), compare_sign_headers);

	initStringInfo(&signed_names);
	for (i = 0; i < nheaders; i++)
	{
		if (i > 0)
			appendStringInfoChar(&signed_names, ';');
		appendStringInfoString(&signed_names, headers[i].name);
		if (strcmp(headers[i].name, "x-sdk-date") == 0)
			date = headers[i].value;
	}
	if (date == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the signed headers must include X-Sdk-Date")));

	/* method, URI, query, headers (then an empty line), names, body hash */
	appendStringInfo(canonical_request, "%s\n", method);
	canonical_uri(canonical_request, path);
	appendStringInfoChar(canonical_request, '\n');
	canonical_query(canonical_request, query);
	appendStringInfoChar(canonical_request, '\n');
	for (i = 0; i < nheaders; i++)
		appendStringInfo(canonical_request, "%s:%s\n",
						 headers[i].name, headers[i].value);
	appendStringInfo(canonical_request, "\n%s\n%s",
					 signed_names.data, RDS_EMPTY_BODY_SHA256);

	sha256_hex(canonical_request->data, canonical_request->len, hash);
	appendStringInfo(string_to_sign, "%s\n%s\n%s",
					 RDS_SIGN_ALGORITHM, date, hash);

	hmac_sha256_hex(secret_key, string_to_sign->data, string_to_sign->len,
					signature);
	appendStringInfo(authorization,
					 "%s Access=%s, SignedHeaders=%s, Signature=%s",
					 RDS_SIGN_ALGORITHM, access_key, signed_names.data,
					 signature);

	explicit_bzero(signature, sizeof(signature));
	pfree(signed_names.data);
}

/*
 * canonical_uri
 *		Appends the signing form of a wire path: each segment decoded and
 *		re-encoded, and a '/' appended unless the path ends in one.
 */
static void
canonical_uri(StringInfo buf, const char *path)
{
	const char *p = path;

	if (*p == '\0')
	{
		appendStringInfoChar(buf, '/');
		return;
	}

	for (;;)
	{
		const char *slash = strchr(p, '/');
		size_t		seglen = slash ? (size_t) (slash - p) : strlen(p);
		size_t		declen;
		char	   *seg = percent_decode(p, seglen, &declen);

		rds_uri_encode(buf, seg, declen);
		pfree(seg);
		if (slash == NULL)
			break;
		appendStringInfoChar(buf, '/');
		p = slash + 1;
	}

	if (buf->data[buf->len - 1] != '/')
		appendStringInfoChar(buf, '/');
}

/*
 * canonical_query
 *		Appends the signing form of a wire query: parameters decoded, sorted
 *		byte-wise by key and then by value, re-encoded, joined by '&'.
 */
static void
canonical_query(StringInfo buf, const char *query)
{
	RdsQueryPair *pairs;
	int			npairs;
	int			i;

	pairs = parse_query(query, &npairs);
	if (npairs > 1)
		qsort(pairs, npairs, sizeof(RdsQueryPair), compare_query_pairs);
	for (i = 0; i < npairs; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, '&');
		rds_uri_encode(buf, pairs[i].key, pairs[i].keylen);
		appendStringInfoChar(buf, '=');
		rds_uri_encode(buf, pairs[i].value, pairs[i].valuelen);
	}
}

/*
 * parse_query
 *		Splits a raw query string at '&' and each part at its first '=',
 *		percent-decoding both sides ('+' stays a plus sign).  Empty parts are
 *		skipped.  Returns a palloc'd array (NULL when empty).
 */
static RdsQueryPair *
parse_query(const char *query, int *npairs)
{
	RdsQueryPair *pairs = NULL;
	int			n = 0;
	int			max = 0;
	const char *p = query ? query : "";

	while (*p != '\0')
	{
		const char *amp = strchr(p, '&');
		size_t		partlen = amp ? (size_t) (amp - p) : strlen(p);

		if (partlen > 0)
		{
			const char *eq = memchr(p, '=', partlen);
			size_t		keylen = eq ? (size_t) (eq - p) : partlen;

			if (n == max)
			{
				max = max ? max * 2 : 8;
				pairs = pairs ? repalloc(pairs, max * sizeof(RdsQueryPair)) :
					palloc(max * sizeof(RdsQueryPair));
			}
			pairs[n].key = percent_decode(p, keylen, &pairs[n].keylen);
			if (eq)
				pairs[n].value = percent_decode(eq + 1, partlen - keylen - 1,
												&pairs[n].valuelen);
			else
				pairs[n].value = percent_decode("", 0, &pairs[n].valuelen);
			n++;
		}
		if (amp == NULL)
			break;
		p = amp + 1;
	}

	*npairs = n;
	return pairs;
}

/* memcmp order of two byte strings, the shorter first on a tie */
static int
compare_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int			cmp = memcmp(a, b, Min(alen, blen));

	if (cmp != 0)
		return cmp;
	return (alen > blen) - (alen < blen);
}

static int
compare_query_pairs(const void *a, const void *b)
{
	const RdsQueryPair *pa = a;
	const RdsQueryPair *pb = b;
	int			cmp;

	cmp = compare_bytes(pa->key, pa->keylen, pb->key, pb->keylen);
	if (cmp != 0)
		return cmp;
	return compare_bytes(pa->value, pa->valuelen, pb->value, pb->valuelen);
}

static int
compare_sign_headers(const void *a, const void *b)
{
	return strcmp(((const RdsSignHeader *) a)->name,
				  ((const RdsSignHeader *) b)->name);
}

/*
 * percent_decode
 *		Decodes %XX escapes in len bytes of s; a '%' not followed by two hex
 *		digits is kept as it is.  Returns a palloc'd, NUL-terminated copy and
 *		its length (which may include NUL bytes from %00).
 */
static char *
percent_decode(const char *s, size_t len, size_t *outlen)
{
	char	   *out = palloc(len + 1);
	size_t		i;
	size_t		o = 0;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '%' && i + 2 < len &&
			isxdigit((unsigned char) s[i + 1]) &&
			isxdigit((unsigned char) s[i + 2]))
		{
			char		hexbuf[3] = {s[i + 1], s[i + 2], '\0'};

			out[o++] = (char) strtol(hexbuf, NULL, 16);
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}


/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/* Overwrites a NUL-terminated string that held a secret. */
static void
wipe_string(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
}

static void
hex_encode_lower(const uint8 *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = hex[data[i] >> 4];
		out[2 * i + 1] = hex[data[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

/* Lower-case hex SHA-256 of data into out (65 bytes). */
static void
sha256_hex(const char *data, size_t len, char *out)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		char	   *err = pstrdup(pg_cryptohash_error(ctx));

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256: %s", err)));
	}
	pg_cryptohash_free(ctx);
	hex_encode_lower(digest, sizeof(digest), out);
}

/* Lower-case hex HMAC-SHA256 of data with key into out (65 bytes). */
static void
hmac_sha256_hex(const char *key, const char *data, size_t len, char *out)
{
	pg_hmac_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_hmac_init(ctx, (const uint8 *) key, strlen(key)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
	{
		char	   *err = pstrdup(pg_hmac_error(ctx));

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC-SHA256: %s", err)));
	}
	pg_hmac_free(ctx);
	hex_encode_lower(digest, sizeof(digest), out);
	explicit_bzero(digest, sizeof(digest));
}

/* A palloc'd copy of len bytes of s without leading/trailing blanks. */
static char *
trim_copy(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char) *s))
	{
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	return pnstrdup(s, len);
}

/* The current UTC time in X-Sdk-Date form, YYYYMMDDThhmmssZ. */
static void
format_sdk_date(char *buf, size_t size)
{
	time_t		now = time(NULL);
	struct tm	tm;

	if (gmtime_r(&now, &tm) == NULL ||
		strftime(buf, size, "%Y%m%dT%H%M%SZ", &tm) == 0)
		elog(ERROR, "could not format the current time");
}


/* ------------------------------------------------------------------------
 * SQL interface
 * ------------------------------------------------------------------------
 */

/*
 * rds_task_fdw_sign(method text, url text, headers text[],
 *					 access_key text, secret_key text,
 *					 OUT canonical_request text, OUT string_to_sign text,
 *					 OUT authorization text)
 *
 * Signs a request with the same code as real requests, for tests.  Each
 * header item is "Name: value"; all given headers are signed.  Host is
 * taken from the URL (host, and :port unless default) unless given, and
 * X-Sdk-Date is the current time unless given.  Only the 1.0 and 1.1 SQL
 * scripts declare this form: the secret key is an argument, so it shows in
 * pg_stat_activity and the statement log; 1.2 drops it for the form below.
 */
static Datum sign_to_record(FunctionCallInfo fcinfo, char *method, char *url,
							ArrayType *harr, const char *access_key,
							char *secret_key);

Datum
rds_task_fdw_sign(PG_FUNCTION_ARGS)
{
	return sign_to_record(fcinfo,
						  text_to_cstring(PG_GETARG_TEXT_PP(0)),
						  text_to_cstring(PG_GETARG_TEXT_PP(1)),
						  PG_GETARG_ARRAYTYPE_P(2),
						  text_to_cstring(PG_GETARG_TEXT_PP(3)),
						  text_to_cstring(PG_GETARG_TEXT_PP(4)));
}

/*
 * rds_task_fdw_sign(server name, method text, url text, headers text[],
 *					 OUT canonical_request text, OUT string_to_sign text,
 *					 OUT authorization text)
 *
 * As above, with the access key and secret key of the caller's user mapping
 * for the server, so that no key appears in the statement (1.2 on).
 * Throws if that mapping does not use AK/SK.
 */
Datum
rds_task_fdw_sign_server(PG_FUNCTION_ARGS)
{
	ForeignServer *server = GetForeignServerByName(NameStr(*PG_GETARG_NAME(0)),
												   false);
	RdsOptions *opts = rds_get_server_options(server->serverid, GetUserId());

	if (opts->auth_method != RDS_AUTH_AKSK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("the user mapping for the current user on server \"%s\" has no access_key and secret_key",
						server->servername)));
	return sign_to_record(fcinfo,
						  text_to_cstring(PG_GETARG_TEXT_PP(1)),
						  text_to_cstring(PG_GETARG_TEXT_PP(2)),
						  PG_GETARG_ARRAYTYPE_P(3),
						  opts->access_key, opts->secret_key);
}

/* The work of both signers; wipes secret_key. */
static Datum
sign_to_record(FunctionCallInfo fcinfo, char *method, char *url,
			   ArrayType *harr, const char *access_key, char *secret_key)
{
	TupleDesc	tupdesc;
	Datum	   *items;
	bool	   *nulls;
	int			nitems;
	RdsSignHeader *headers;
	int			nheaders = 0;
	bool		have_host = false;
	bool		have_date = false;
	char	   *host;
	char	   *path;
	char	   *query;
	char		date[32];
	StringInfoData creq;
	StringInfoData sts;
	StringInfoData authz;
	Datum		values[3];
	bool		isnull[3] = {false, false, false};
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function returning record called in context that cannot accept type record")));
	tupdesc = BlessTupleDesc(tupdesc);

	rds_split_url(url, &host, &path, &query);

	deconstruct_array(harr, TEXTOID, -1, false, TYPALIGN_INT,
					  &items, &nulls, &nitems);
	headers = palloc((nitems + 2) * sizeof(RdsSignHeader));
	for (i = 0; i < nitems; i++)
	{
		char	   *item;
		char	   *colon;
		char	   *c;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("header items must not be null")));
		item = TextDatumGetCString(items[i]);
		colon = strchr(item, ':');
		if (colon == NULL || colon == item)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid header item \"%s\"", item),
					 errhint("Header items have the form \"Name: value\".")));

		headers[nheaders].name = trim_copy(item, colon - item);
		for (c = headers[nheaders].name; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
		headers[nheaders].value = trim_copy(colon + 1, strlen(colon + 1));
		if (strcmp(headers[nheaders].name, "host") == 0)
			have_host = true;
		if (strcmp(headers[nheaders].name, "x-sdk-date") == 0)
			have_date = true;
		nheaders++;
	}
	if (!have_host)
	{
		headers[nheaders].name = "host";
		headers[nheaders++].value = host;
	}
	if (!have_date)
	{
		format_sdk_date(date, sizeof(date));
		headers[nheaders].name = "x-sdk-date";
		headers[nheaders++].value = date;
	}

	initStringInfo(&creq);
	initStringInfo(&sts);
	initStringInfo(&authz);
	aksk_sign(method, path, query, headers, nheaders, access_key, secret_key,
			  &creq, &sts, &authz);
	wipe_string(secret_key);

	values[0] = CStringGetTextDatum(creq.data);
	values[1] = CStringGetTextDatum(sts.data);
	values[2] = CStringGetTextDatum(authz.data);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values,
													  isnull)));
}
