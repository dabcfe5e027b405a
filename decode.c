/*-------------------------------------------------------------------------
 *
 * decode.c
 *		  The json-c side of rds_task_fdw: response bodies of the task list,
 *		  the API's error envelopes and IAM token bodies, decoded into plain
 *		  C strings for the rest of the extension.
 *
 * This is the only file that includes json-c.  json-c's json_object type
 * clashes with PostgreSQL's json_object() SQL function, so no header that
 * declares the latter (utils/builtins.h, fmgrprotos.h) is included here.
 *
 * A decoded page owns a json-c tree; the tree is released by a reset
 * callback on the memory context the page was decoded in, so an ERROR
 * anywhere later cannot leak it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include <json.h>

#if JSON_C_VERSION_NUM < 0x000f00
#error "rds_task_fdw needs json-c 0.15 or later (json_tokener_get_parse_end)"
#endif

#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

/* Nesting deeper than this is not a task list; refuse it early. */
#define RDS_JSON_MAX_DEPTH 32

struct RdsPage
{
	struct json_object *root;
	struct json_object *tasks;	/* array of objects, never NULL */
	struct json_object *actions;	/* array of strings, or NULL */
	int64		total_count;	/* -1 when absent */
	const char *desc;			/* request description for messages */
	const char *server;			/* foreign server's name, for messages */
	MemoryContextCallback cb;
};

static void
page_release(void *arg)
{
	RdsPage    *page = (RdsPage *) arg;

	if (page->root)
		json_object_put(page->root);
	page->root = NULL;
}

/*
 * The json-c tokener flags: strict JSON.  UTF-8 is not json-c's to check:
 * parse_body has run PostgreSQL's verifier over the whole body first, which
 * is stricter than json-c's JSON_TOKENER_VALIDATE_UTF8.
 *
 * json-c 0.18's strict mode reads string bytes as signed chars and takes
 * every byte above 0x7f for a control character, so it refuses all
 * non-ASCII text (json-c issue 875, fixed in 0.19).  With that version the
 * tokener runs without JSON_TOKENER_STRICT: PostgreSQL's parser, which
 * follows in parse_body, refuses everything strict mode would have, so the
 * bodies accepted are the same on every json-c.  The library is asked at
 * run time, since the one loaded may be newer than the headers.
 */
static int
tokener_flags(void)
{
	int			version = json_c_version_num();

	if (version >= 0x001200 && version < 0x001300)
		return 0;
	return JSON_TOKENER_STRICT;
}

/*
 * Parse a whole body into a json-c tree, or return NULL and set *why.
 * The caller owns the tree (json_object_put).
 */
static struct json_object *
parse_body(const char *body, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	JsonLexContext lexbuf;
	JsonLexContext *lex;
	JsonParseErrorType perr;

	if (len > INT_MAX)
	{
		*why = "body too large";
		return NULL;
	}

	/*
	 * json-c's VALIDATE_UTF8 only checks the byte pattern: it lets overlong
	 * forms, UTF-16 surrogates and code points above U+10FFFF through, and
	 * those strings would reach text values unchecked.  PostgreSQL's own
	 * verifier rejects them (and NUL bytes).  The message is json-c's.
	 */
	if (!pg_verify_mbstr(PG_UTF8, body, (int) len, true))
	{
		*why = "invalid utf-8 string";
		return NULL;
	}

	/* made before json-c holds anything, since palloc can throw */
	lex = rds_make_json_lex(&lexbuf, unconstify(char *, body), (int) len);

	tok = json_tokener_new_ex(RDS_JSON_MAX_DEPTH);
	if (tok == NULL)
	{
		*why = "out of memory";
		rds_free_json_lex(lex);
		return NULL;
	}
	json_tokener_set_flags(tok, tokener_flags());
	root = json_tokener_parse_ex(tok, body, (int) len);
	jerr = json_tokener_get_error(tok);

	if (jerr == json_tokener_continue)
	{
		*why = "unexpected end of input";
		if (root)
			json_object_put(root);
		root = NULL;
	}
	else if (jerr != json_tokener_success)
	{
		*why = json_tokener_error_desc(jerr);
		if (root)
			json_object_put(root);
		root = NULL;
	}
	else
	{
		/* only whitespace may follow the value */
		size_t		pos = json_tokener_get_parse_end(tok);

		while (pos < len && (body[pos] == ' ' || body[pos] == '\t' ||
							 body[pos] == '\n' || body[pos] == '\r'))
			pos++;
		if (pos < len)
		{
			*why = "trailing data after the JSON value";
			json_object_put(root);
			root = NULL;
		}
	}
	json_tokener_free(tok);

	/*
	 * json-c's strict mode still takes some text that is not JSON (numbers
	 * such as "60.") and prints it back as it came, which json_in and
	 * jsonb_in then refuse.  PostgreSQL's own parser has the last word.  It
	 * cannot throw here: without de-escaping it allocates nothing, and
	 * json-c has already bounded the nesting.
	 */
	if (root != NULL &&
		(perr = pg_parse_json(lex, &nullSemAction)) != JSON_SUCCESS)
	{
		json_object_put(root);
		root = NULL;
		/* not json_errdetail(): it quotes the offending token */
		*why = "rejected by PostgreSQL's JSON parser";
	}
	rds_free_json_lex(lex);
	return root;
}

/*
 * Decode one task-list page from foreign server server.  Throws ERROR
 * (naming request_desc, with a context line naming the server) when the body
 * is not JSON or not the expected envelope.  The result and its json-c tree
 * belong to CurrentMemoryContext.
 */
RdsPage *
rds_page_parse(const char *body, size_t len, const char *request_desc,
			   const char *server)
{
	RdsPage    *page;
	struct json_object *root;
	struct json_object *val;
	const char *why = NULL;
	int			i,
				n;

	/* Allocate first: nothing may throw between parsing and registering. */
	page = palloc0(sizeof(RdsPage));
	page->desc = pstrdup(request_desc);
	page->server = pstrdup(server ? server : "?");

	root = parse_body(body, len, &why);
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("invalid JSON in the response to %s: %s",
						request_desc, why),
				 errdetail_internal("The body (%zu bytes) is not shown: it is not the API's.",
									len),
				 errcontext("foreign server \"%s\"", page->server)));

	/* From here on the tree is owned by the page's context callback. */
	page->root = root;
	page->cb.func = page_release;
	page->cb.arg = page;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &page->cb);

	if (!json_object_is_type(root, json_type_object))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: the body is not a JSON object",
						request_desc),
				 errcontext("foreign server \"%s\"", page->server)));

	if (!json_object_object_get_ex(root, "tasks", &val) ||
		!json_object_is_type(val, json_type_array))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: \"tasks\" is missing or not an array",
						request_desc),
				 errcontext("foreign server \"%s\"", page->server)));
	page->tasks = val;

	n = (int) json_object_array_length(page->tasks);
	for (i = 0; i < n; i++)
	{
		if (!json_object_is_type(json_object_array_get_idx(page->tasks, i),
								 json_type_object))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("unexpected response to %s: element %d of \"tasks\" is not an object",
							request_desc, i),
					 errcontext("foreign server \"%s\"", page->server)));
	}

	page->total_count = -1;
	if (json_object_object_get_ex(root, "total_count", &val) &&
		!json_object_is_type(val, json_type_null))
	{
		int64		tc = -1;

		if (json_object_is_type(val, json_type_int))
		{
			errno = 0;
			tc = json_object_get_int64(val);
			if (errno != 0)
				tc = -1;
		}
		else if (json_object_is_type(val, json_type_string))
		{
			const char *s = json_object_get_string(val);
			char	   *end;

			errno = 0;
			tc = strtoll(s, &end, 10);
			if (errno != 0 || end == s || *end != '\0')
				tc = -1;
		}
		if (tc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_REPLY_HANDLE),
					 errmsg("unexpected response to %s: \"total_count\" is not a non-negative integer",
							request_desc),
					 errcontext("foreign server \"%s\"", page->server)));
		page->total_count = tc;
	}

	if (json_object_object_get_ex(root, "actions", &val) &&
		json_object_is_type(val, json_type_array))
		page->actions = val;

	return page;
}

int
rds_page_ntasks(RdsPage *page)
{
	return (int) json_object_array_length(page->tasks);
}

/* total_count of the page, or -1 when the response had none. */
int64
rds_page_total_count(RdsPage *page)
{
	return page->total_count;
}

/*
 * The value of one field of task i as a C string, or NULL when the field is
 * missing, null or "".  The API sends every task field as a string; any
 * other JSON type, or a string containing \u0000 (which no text value can
 * hold), is an ERROR naming the request.  The string lives as long as the
 * page.
 */
const char *
rds_page_task_field(RdsPage *page, int i, const char *field)
{
	struct json_object *task = json_object_array_get_idx(page->tasks, i);
	struct json_object *val;
	const char *s;

	if (!json_object_object_get_ex(task, field, &val) || val == NULL)
		return NULL;
	if (!json_object_is_type(val, json_type_string))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected response to %s: field \"%s\" of a task is a JSON %s, not a string",
						page->desc, field,
						json_type_to_name(json_object_get_type(val))),
				 errcontext("foreign server \"%s\"", page->server)));
	s = json_object_get_string(val);
	if (strlen(s) != (size_t) json_object_get_string_len(val))
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unexpected response to %s: field \"%s\" of a task contains \\u0000",
						page->desc, field),
				 errcontext("foreign server \"%s\"", page->server)));
	return (s[0] == '\0') ? NULL : s;
}

/* Task i as compact JSON text, palloc'd. */
char *
rds_page_task_json(RdsPage *page, int i)
{
	struct json_object *task = json_object_array_get_idx(page->tasks, i);

	return pstrdup(json_object_to_json_string_ext(task,
												  JSON_C_TO_STRING_PLAIN |
												  JSON_C_TO_STRING_NOSLASHESCAPE));
}

int
rds_page_nactions(RdsPage *page)
{
	return page->actions ? (int) json_object_array_length(page->actions) : 0;
}

/*
 * Action i as a string, or NULL for an element that is not a non-empty
 * string without \u0000.
 */
const char *
rds_page_action(RdsPage *page, int i)
{
	struct json_object *val = json_object_array_get_idx(page->actions, i);
	const char *s;

	if (val == NULL || !json_object_is_type(val, json_type_string))
		return NULL;
	s = json_object_get_string(val);
	if (strlen(s) != (size_t) json_object_get_string_len(val))
		return NULL;
	return (s[0] == '\0') ? NULL : s;
}

/* pstrdup of a string member, or NULL. */
static char *
get_string_member(struct json_object *obj, const char *key)
{
	struct json_object *val;

	if (obj && json_object_object_get_ex(obj, key, &val) && val &&
		(json_object_is_type(val, json_type_string) ||
		 json_object_is_type(val, json_type_int)))
		return pstrdup(json_object_get_string(val));
	return NULL;
}

/*
 * Decode an error body: the API's {"error_code", "error_msg", "request_id"}
 * or IAM's {"error": {"code", "message", "title"}}.  Returns false when the
 * body is neither; otherwise the outputs are palloc'd, valid UTF-8 whatever
 * the database encoding (request_id may be NULL).  Does not throw, except
 * out of memory.
 */
bool
rds_decode_error(const char *body, size_t len, char **error_code,
				 char **error_msg, char **request_id)
{
	struct json_object *root;
	struct json_object *inner;
	const char *why;
	bool		found = false;

	*error_code = *error_msg = *request_id = NULL;
	if (body == NULL || len == 0)
		return false;
	root = parse_body(body, len, &why);
	if (root == NULL)
		return false;

	/* pstrdup can throw: the tree must be released on that path too */
	PG_TRY();
	{
		if (json_object_is_type(root, json_type_object))
		{
			*error_code = get_string_member(root, "error_code");
			*error_msg = get_string_member(root, "error_msg");
			*request_id = get_string_member(root, "request_id");
			if (*error_code == NULL && *error_msg == NULL &&
				json_object_object_get_ex(root, "error", &inner) &&
				json_object_is_type(inner, json_type_object))
			{
				*error_code = get_string_member(inner, "title");
				*error_msg = get_string_member(inner, "message");
			}
		}
	}
	PG_FINALLY();
	{
		json_object_put(root);
	}
	PG_END_TRY();
	found = (*error_code != NULL || *error_msg != NULL);

	/*
	 * The strings stay UTF-8 (parse_body verified the body), not converted
	 * to the database encoding: a character that encoding lacks would make
	 * the conversion throw and hide the API's error.  The caller makes them
	 * printable for a message (client.c's printable_text).
	 */
	return found;
}

/* Skip n digits; NULL if there are fewer. */
static const char *
skip_digits(const char *s, int n)
{
	while (n-- > 0)
	{
		if (*s < '0' || *s > '9')
			return NULL;
		s++;
	}
	return s;
}

/*
 * Is str an ISO 8601 date and time: YYYY-MM-DD, 'T' or ' ', hh:mm, optional
 * :ss and fraction, optional zone Z, +hh, +hhmm or +hh:mm?
 */
static bool
is_iso8601_timestamp(const char *s)
{
	if ((s = skip_digits(s, 4)) == NULL || *s++ != '-' ||
		(s = skip_digits(s, 2)) == NULL || *s++ != '-' ||
		(s = skip_digits(s, 2)) == NULL)
		return false;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return false;
	s++;
	if ((s = skip_digits(s, 2)) == NULL || *s++ != ':' ||
		(s = skip_digits(s, 2)) == NULL)
		return false;
	if (*s == ':')
	{
		if ((s = skip_digits(s + 1, 2)) == NULL)
			return false;
		if (*s == '.')
		{
			if ((s = skip_digits(s + 1, 1)) == NULL)
				return false;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-')
	{
		if ((s = skip_digits(s + 1, 2)) == NULL)
			return false;
		if (*s == ':')
			s++;
		if (*s != '\0' && (s = skip_digits(s, 2)) == NULL)
			return false;
	}
	return *s == '\0';
}

/*
 * Parse an ISO 8601 timestamp with zone without throwing; false if invalid.
 *
 * Only the ISO 8601 shape is handed to DecodeDateTime: in PostgreSQL 15 it
 * throws ERROR for an unknown time zone name ("2020-07-15 07:46 foo/bar",
 * "Jul 15 07:46 zz-1 2020") instead of returning an error code.
 */
static bool
parse_timestamptz(const char *str, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz = 0;

	if (strlen(str) >= MAXDATELEN || !is_iso8601_timestamp(str))
		return false;
	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	if (rds_decode_date_time(field, ftype, nf, &dtype, &tm, &fsec, &tz) != 0 ||
		dtype != DTK_DATE)
		return false;
	return tm2timestamp(&tm, fsec, &tz, result) == 0;
}

/*
 * Read token.expires_at from an IAM token body.  Returns false when it is
 * missing or not a timestamp.
 */
bool
rds_decode_token_expiry(const char *body, size_t len, TimestampTz *expires_at)
{
	struct json_object *root;
	struct json_object *token;
	struct json_object *val;
	char		buf[MAXDATELEN];
	bool		have = false;
	const char *why;

	root = parse_body(body, len, &why);
	if (root == NULL)
		return false;

	/* copied without palloc, so that nothing can throw while root is held */
	if (json_object_is_type(root, json_type_object) &&
		json_object_object_get_ex(root, "token", &token) &&
		json_object_object_get_ex(token, "expires_at", &val) &&
		json_object_is_type(val, json_type_string))
	{
		const char *s = json_object_get_string(val);
		size_t		slen = strlen(s);

		/* a longer value is not a timestamp (parse_timestamptz agrees) */
		if (slen < sizeof(buf) &&
			slen == (size_t) json_object_get_string_len(val))
		{
			memcpy(buf, s, slen + 1);
			have = true;
		}
	}
	json_object_put(root);
	if (!have)
		return false;

	return parse_timestamptz(buf, expires_at);
}

const char *
rds_json_c_version(void)
{
	return json_c_version();
}
