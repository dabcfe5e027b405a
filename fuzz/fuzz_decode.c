/*-------------------------------------------------------------------------
 *
 * fuzz_decode.c
 *		  libFuzzer target for decode.c, the json-c response decoder.
 *
 * Each input is taken as a response body and fed to rds_page_parse (then
 * every accessor on every task: all fields, the raw JSON, the actions,
 * total_count), to rds_decode_error and to rds_decode_token_expiry.  A page
 * that decodes is also taken through its image, as the shared cache stores
 * it (rds_page_encode, rds_page_from_image): the page read
 * back must be the same, field by field.  The input is also read as an
 * image itself: rds_page_from_image must refuse it or return a page whose
 * every accessor is safe.  The fake memory context is reset after each
 * input; LeakSanitizer then sees any json-c object the decoder failed to
 * release.
 *
 * Each entry point is also re-run with allocation 1, 2, ... failing (an
 * ERROR "out of memory" from palloc), to check that an ERROR at any point
 * leaks nothing.
 *
 * Contract violations abort() so that libFuzzer records them as crashes:
 * an ERROR with an unexpected SQLSTATE, an ERROR from a function that
 * returns false instead of throwing, an empty or non-UTF-8 string, raw task
 * JSON that PostgreSQL's own JSON parser rejects, an out-of-range
 * timestamp.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/timestamp.h"

#include "rds_task_fdw.h"
#include "pg_stubs.h"

#define DESC "GET /v3/{project_id}/tasklist (fuzz)"

/* a body cut off after a high surrogate's escape */
#define POISON "{\"tasks\":[{\"name\":\"x\\ud800"

/* The documented task fields, plus names a column option could give. */
static const char *const task_fields[] = {
	"id", "name", "instance_id", "instance_name", "instance_status",
	"order_id", "process", "fail_reason", "create_time", "end_time",
	"status", "", "tasks", "total_count", "no_such_field"
};

/* Most allocations re-run with a failure, per entry point. */
#define MAX_FAIL_POINTS 8

/* Field strings kept to re-read at the end: they must live as the page. */
#define MAX_KEPT 512

static bool in_injection;		/* an allocation failure is armed */
static bool verbose;			/* FUZZ_DECODE_VERBOSE=1: print what decodes */

/* The five-character SQLSTATE of an errcode, as elog.c's unpack_sql_state. */
static const char *
sqlstate(int code)
{
	static char buf[6];
	int			i;

	for (i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

static void
violation(const char *what, const char *detail)
{
	const StubError *e = stub_last_error();

	fprintf(stderr, "fuzz_decode: contract violation: %s%s%s\n", what,
			detail ? ": " : "", detail ? detail : "");
	if (e->active)
		fprintf(stderr, "  last ERROR (SQLSTATE %s) at %s:%d: %s\n  detail: %s\n",
				sqlstate(e->sqlerrcode),
				e->filename ? e->filename : "?", e->lineno, e->message,
				e->detail);
	abort();
}

/*
 * After a caught ERROR: the SQLSTATE must be one of the allowed ones (or
 * out of memory while a failure is armed).  Clears the error.
 */
static void
caught(const char *where, int allowed1, int allowed2)
{
	const StubError *e = stub_last_error();
	int			code = e->sqlerrcode;

	if (!e->active)
		violation(where, "longjmp without an ERROR");
	if (!((allowed1 != 0 && code == allowed1) ||
		  (allowed2 != 0 && code == allowed2) ||
		  (in_injection && code == ERRCODE_OUT_OF_MEMORY)))
		violation(where, "ERROR with an unexpected SQLSTATE");
	if (e->message[0] == '\0')
		violation(where, "ERROR without a message");
	FlushErrorState();
}

/* NULL, or a non-empty string valid in the database encoding. */
static void
check_string(const char *where, const char *s, bool null_ok, bool empty_ok)
{
	size_t		len;

	if (s == NULL)
	{
		if (!null_ok)
			violation(where, "NULL string");
		return;
	}
	len = strlen(s);
	if (len == 0 && !empty_ok)
		violation(where, "empty string (should be NULL)");
	if (len > INT_MAX ||
		pg_encoding_verifymbstr(GetDatabaseEncoding(), s, (int) len) != (int) len)
		violation(where, "not valid in the database encoding");
}

/*
 * PostgreSQL's JSON parser over len bytes of text (17 fills a caller's
 * lexer context).
 */
static JsonParseErrorType
parse_as_postgres_len(const char *text, size_t len, bool need_escapes)
{
	char	   *json = unconstify(char *, text);
	JsonParseErrorType rc;
#if PG_VERSION_NUM >= 170000
	JsonLexContext lex;

	makeJsonLexContextCstringLen(&lex, json, len, PG_UTF8, need_escapes);
	rc = pg_parse_json(&lex, &nullSemAction);
	freeJsonLexContext(&lex);
#else
	rc = pg_parse_json(makeJsonLexContextCstringLen(json, (int) len,
													 PG_UTF8, need_escapes),
					   &nullSemAction);
#endif
	return rc;
}

static JsonParseErrorType
parse_as_postgres(const char *json, bool need_escapes)
{
	return parse_as_postgres_len(json, strlen(json), need_escapes);
}

/* The raw task JSON must be an object that PostgreSQL's json type accepts. */
static void
check_task_json(const char *json)
{
	JsonParseErrorType rc;

	check_string("rds_page_task_json", json, false, false);
	if (json[0] != '{')
		violation("rds_page_task_json", "not a JSON object");
	/* as jsonb_in, which de-escapes; \u0000 is its one extra refusal */
	rc = parse_as_postgres(json, true);
	if (rc == JSON_UNICODE_CODE_POINT_ZERO)
		rc = parse_as_postgres(json, false);	/* as json_in */
	if (rc != JSON_SUCCESS)
	{
		fprintf(stderr, "task json: %s\n", json);
		violation("rds_page_task_json", "PostgreSQL's JSON parser rejects it");
	}
}

/* Every accessor on every task of a decoded page (raw: and its JSON). */
static void
walk_page(RdsPage *page, bool raw)
{
	const char *kept[MAX_KEPT];
	volatile int nkept = 0;		/* changed inside PG_TRY */
	volatile int i;
	int			ntasks;
	int			nactions;
	int64		total;

	total = rds_page_total_count(page);
	if (total < -1)
		violation("rds_page_total_count", "below -1");

	ntasks = rds_page_ntasks(page);
	if (ntasks < 0)
		violation("rds_page_ntasks", "negative");
	for (i = 0; i < ntasks; i++)
	{
		volatile int f;

		for (f = 0; f < lengthof(task_fields); f++)
		{
			PG_TRY();
			{
				const char *v = rds_page_task_field(page, i, task_fields[f]);

				check_string("rds_page_task_field", v, true, false);
				if (v != NULL && nkept < MAX_KEPT)
					kept[nkept++] = v;
			}
			PG_CATCH();
			{
				caught("rds_page_task_field", ERRCODE_FDW_INVALID_DATA_TYPE,
					   ERRCODE_UNTRANSLATABLE_CHARACTER);
			}
			PG_END_TRY();
		}

		if (raw)
		{
			int			len;
			const char *json = rds_page_task_json(page, i, &len);

			if (strlen(json) != (size_t) len)
				violation("rds_page_task_json", "length");
			check_task_json(json);
		}
	}

	nactions = rds_page_nactions(page);
	if (nactions < 0)
		violation("rds_page_nactions", "negative");
	for (i = 0; i < nactions; i++)
	{
		const char *a = rds_page_action(page, i);

		check_string("rds_page_action", a, true, false);
		if (a != NULL && nkept < MAX_KEPT)
			kept[nkept++] = a;
	}

	/* Strings returned earlier are still readable (ASan checks). */
	for (i = 0; i < nkept; i++)
		check_string("kept field", kept[i], false, false);
	if (rds_page_ntasks(page) != ntasks)
		violation("rds_page_ntasks", "changed while walking");
}

/* One task field of a page: its string, or "<error>" if reading throws. */
static const char *
field_or_error(RdsPage *page, int i, int f)
{
	const char *volatile v = NULL;

	PG_TRY();
	{
		v = rds_page_task_value(page, i, f, NULL);
	}
	PG_CATCH();
	{
		FlushErrorState();
		v = "<error>";
	}
	PG_END_TRY();
	return v;
}

/* a and b hold the same tasks, fields, actions and total_count (raw: and JSON) */
static void
same_pages(const char *what, RdsPage *a, RdsPage *b, bool raw)
{
	int			i;
	int			f;

	if (rds_page_ntasks(a) != rds_page_ntasks(b) ||
		rds_page_total_count(a) != rds_page_total_count(b) ||
		rds_page_nactions(a) != rds_page_nactions(b))
		violation(what, "counts differ");
	for (i = 0; i < rds_page_ntasks(a); i++)
	{
		for (f = 0; f < RDS_NTASK_FIELDS; f++)
		{
			const char *x = field_or_error(a, i, f);
			const char *y = field_or_error(b, i, f);

			if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
				violation(what, "a task field differs");
		}
		if (raw)
		{
			int			lx,
						ly;
			const char *x = rds_page_task_json(a, i, &lx);
			const char *y = rds_page_task_json(b, i, &ly);

			if (lx != ly || memcmp(x, y, lx) != 0)
				violation(what, "raw JSON differs");
		}
	}
	for (i = 0; i < rds_page_nactions(a); i++)
	{
		const char *x = rds_page_action(a, i);
		const char *y = rds_page_action(b, i);

		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			violation(what, "an action differs");
	}
}

/* bytes copied to a MAXALIGNed block, as the shared cache hands them back */
static char *
aligned_copy(const char *bytes, size_t len)
{
	char	   *copy = palloc(len + 1);

	memcpy(copy, bytes, len);
	copy[len] = '\0';
	return copy;
}

/*
 * The page through its images, as the gate stores them (rds_page_encode,
 * with raw JSON and without), read back with rds_page_from_image.
 */
static void
check_images(RdsPage *page, const char *body, size_t len)
{
	size_t		size;
	char	   *enc;

	enc = rds_page_encode(body, len, true, &size);
	if (enc == NULL)
		violation("rds_page_encode", "refuses a body rds_page_parse took");
	same_pages("rds_page_from_image",
			   page, rds_page_from_image(aligned_copy(enc, size), size, true,
										 DESC, "fuzz"), true);

	/*
	 * Decoding does not depend on what was decoded before: a body cut off
	 * inside a surrogate pair's escape comes first (json-c 0.16 keeps its
	 * state in a reused tokener).
	 */
	if (rds_page_encode(POISON, strlen(POISON), false, &size) != NULL)
		violation("rds_page_encode", "took a cut-off body");
	enc = rds_page_encode(body, len, false, &size);
	if (enc == NULL)
		violation("rds_page_encode", "refuses a body rds_page_parse took");
	same_pages("rds_page_encode",
			   page, rds_page_from_image(enc, size, false, DESC, "fuzz"), false);
}

/* The input read as an image: refused, or a page that walks safely. */
static void
run_image(const char *body, size_t len)
{
	PG_TRY();
	{
		RdsPage    *page = rds_page_from_image(aligned_copy(body, len), len,
											   false, DESC, "fuzz");

		walk_page(page, false);
	}
	PG_CATCH();
	{
		caught("rds_page_from_image", ERRCODE_DATA_CORRUPTED, 0);
	}
	PG_END_TRY();
}

/* rds_page_parse and, if it succeeds, the walk. */
static void
run_page(const char *body, size_t len, bool walk)
{
	PG_TRY();
	{
		RdsPage    *page = rds_page_parse(body, len, true, DESC, "fuzz");

		if (page == NULL)
			violation("rds_page_parse", "returned NULL");
		if (verbose && walk)
			fprintf(stderr, "  page: %d tasks, %d actions, total_count " INT64_FORMAT "\n",
					rds_page_ntasks(page), rds_page_nactions(page),
					rds_page_total_count(page));
		if (walk)
		{
			/* a body accepted is one json_in accepts (decode.c's promise) */
			if (parse_as_postgres_len(body, len, false) != JSON_SUCCESS)
				violation("rds_page_parse", "PostgreSQL's JSON parser rejects the body");
			walk_page(page, true);
			check_images(page, body, len);
		}
	}
	PG_CATCH();
	{
		if (verbose && walk)
			fprintf(stderr, "  page: ERROR %s\n", stub_last_error()->message);
		caught("rds_page_parse", ERRCODE_FDW_REPLY_HANDLE, 0);
	}
	PG_END_TRY();
}

static void
run_error(const char *body, size_t len)
{
	PG_TRY();
	{
		char	   *code = (char *) 0x1;
		char	   *msg = (char *) 0x1;
		char	   *rid = (char *) 0x1;
		bool		found;

		found = rds_decode_error(body, len, &code, &msg, &rid);
		if (verbose && !in_injection)
			fprintf(stderr, "  error: %s code=%s msg=%s request_id=%s\n",
					found ? "found" : "none", code ? code : "NULL",
					msg ? msg : "NULL", rid ? rid : "NULL");
		check_string("rds_decode_error code", code, true, true);
		check_string("rds_decode_error msg", msg, true, true);
		check_string("rds_decode_error request_id", rid, true, true);
		if (found && code == NULL && msg == NULL)
			violation("rds_decode_error", "found, but neither code nor message");
		if (!found && (code != NULL || msg != NULL))
			violation("rds_decode_error", "not found, but a code or message");
	}
	PG_CATCH();
	{
		/* documented as returning false, never throwing */
		caught("rds_decode_error", 0, 0);
	}
	PG_END_TRY();
}

static void
run_token(const char *body, size_t len)
{
	PG_TRY();
	{
		TimestampTz ts = 0;
		bool		ok = rds_decode_token_expiry(body, len, &ts);

		if (verbose && !in_injection)
			fprintf(stderr, "  token: %s " INT64_FORMAT " (Unix %.6f)\n",
					ok ? "expires" : "none", ts,
					ok ? (ts / 1e6) + 946684800.0 : 0.0);
		if (ok && !IS_VALID_TIMESTAMP(ts))
			violation("rds_decode_token_expiry", "timestamp out of range");
	}
	PG_CATCH();
	{
		/* documented as returning false, never throwing */
		caught("rds_decode_token_expiry", 0, 0);
	}
	PG_END_TRY();
}

typedef void (*entry_fn) (const char *body, size_t len);

static void
run_page_only(const char *body, size_t len)
{
	run_page(body, len, false);
}

/*
 * Run fn normally to count its allocations, then once with each of the
 * first allocations failing.  The context is reset after each run.
 */
static void
with_failures(entry_fn fn, const char *body, size_t len)
{
	long		n,
				k;

	stub_alloc_fail_at(0);
	fn(body, len);
	n = stub_alloc_count();
	stub_context_reset();

	for (k = 1; k <= n && k <= MAX_FAIL_POINTS; k++)
	{
		stub_alloc_fail_at(k);
		in_injection = true;
		fn(body, len);
		in_injection = false;
		stub_context_reset();
	}
}

#ifndef PG_SHAREDIR
#define PG_SHAREDIR "/usr/share/postgresql/15"
#endif

/* As the backend at start: timezone_abbreviations = 'Default'. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (stub_load_timezone_abbrevs(PG_SHAREDIR "/timezonesets/Default") <= 0)
	{
		fprintf(stderr, "fuzz_decode: cannot load %s/timezonesets/Default\n",
				PG_SHAREDIR);
		exit(1);
	}
	verbose = getenv("FUZZ_DECODE_VERBOSE") != NULL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data;

	/* the full walk, without failures */
	run_page(body, size, true);
	stub_context_reset();
	if (stub_live_chunks() != 0)
		violation("reset", "chunks left");

	with_failures(run_page_only, body, size);
	with_failures(run_image, body, size);
	with_failures(run_error, body, size);
	/* the error envelope again, decoded for a LATIN1 database */
	stub_set_database_encoding(PG_LATIN1);
	run_error(body, size);
	stub_context_reset();
	stub_set_database_encoding(PG_UTF8);
	with_failures(run_token, body, size);
	return 0;
}
