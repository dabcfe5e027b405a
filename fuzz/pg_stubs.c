/*-------------------------------------------------------------------------
 *
 * pg_stubs.c
 *		  Just enough of the PostgreSQL backend to run decode.c outside a
 *		  server: palloc and friends, one fake memory context whose reset
 *		  runs the registered callbacks, ereport as siglongjmp to the
 *		  innermost PG_TRY, pg_any_to_server for a UTF8 database, and the
 *		  time zone corner of the backend (session_timezone is UTC, zone
 *		  names are looked up in the system tzdata, the Default abbreviation
 *		  set is loaded) that the real datetime.c/timestamp.c code, linked
 *		  from the server's bitcode, needs.
 *
 * Allocations are malloc'd one by one (so ASan sees every chunk's bounds)
 * and chained on one list; stub_context_reset() frees them all.  A harness
 * can make the Nth allocation fail with "out of memory" to check that
 * nothing leaks when the decoder is interrupted by an ERROR.
 *
 * StringInfo, snprintf, strtoint, the UTF-8 verifier and the JSON
 * validator come from the real libpgcommon/libpgport.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tzparser.h"

#include "pg_stubs.h"

/* ---- memory ---- */

#define STUB_CHUNK_MAGIC 0x5354554243484b31ULL	/* "STUBCHK1" */

typedef struct StubChunk
{
	struct StubChunk *prev;
	struct StubChunk *next;
	Size		size;
	uint64		magic;
} StubChunk;					/* 32 bytes: keeps the payload MAXALIGNed */

static StubChunk chunk_list = {&chunk_list, &chunk_list, 0, 0};
static MemoryContextData stub_context;
static long alloc_count;		/* allocations since the last reset */
static long alloc_fail_at;		/* make allocation number N fail, 0 = never */

MemoryContext CurrentMemoryContext = &stub_context;
MemoryContext TopMemoryContext = &stub_context;
MemoryContext ErrorContext = &stub_context;

static void *
stub_alloc(Size size, bool zero)
{
	StubChunk  *c;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	alloc_count++;
	if (alloc_fail_at > 0 && alloc_count == alloc_fail_at)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu in memory context \"%s\".",
						   size, "stub")));
	c = malloc(sizeof(StubChunk) + (size ? size : 1));
	if (c == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (zero)
		memset(c + 1, 0, size);
	c->size = size;
	c->magic = STUB_CHUNK_MAGIC;
	c->next = chunk_list.next;
	c->prev = &chunk_list;
	chunk_list.next->prev = c;
	chunk_list.next = c;
	stub_context.isReset = false;
	return c + 1;
}

static StubChunk *
chunk_of(void *pointer)
{
	StubChunk  *c = ((StubChunk *) pointer) - 1;

	if (pointer == NULL || c->magic != STUB_CHUNK_MAGIC)
	{
		fprintf(stderr, "pg_stubs: pfree/repalloc of a pointer palloc did not return: %p\n",
				pointer);
		abort();
	}
	return c;
}

void *
palloc(Size size)
{
	return stub_alloc(size, false);
}

void *
palloc0(Size size)
{
	return stub_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return stub_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return stub_alloc(size, false);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return stub_alloc(size, true);
}

void
pfree(void *pointer)
{
	StubChunk  *c = chunk_of(pointer);

	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->magic = 0;
	free(c);
}

void *
repalloc(void *pointer, Size size)
{
	StubChunk  *c = chunk_of(pointer);
	void	   *n;

	if (!AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	n = stub_alloc(size, false);
	memcpy(n, pointer, Min(size, c->size));
	pfree(pointer);
	return n;
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	Size		len = strlen(string) + 1;
	char	   *n = stub_alloc(len, false);

	memcpy(n, string, len);
	return n;
}

char *
pstrdup(const char *in)
{
	return MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *n;

	len = strnlen(in, len);
	n = stub_alloc(len + 1, false);
	memcpy(n, in, len);
	n[len] = '\0';
	return n;
}

void
MemoryContextRegisterResetCallback(MemoryContext context,
								   MemoryContextCallback *cb)
{
	if (context != &stub_context)
	{
		fprintf(stderr, "pg_stubs: callback registered on an unknown context\n");
		abort();
	}
	cb->next = context->reset_cbs;
	context->reset_cbs = cb;
	context->isReset = false;
}

/*
 * Reset the one context: run the reset callbacks newest first (as
 * MemoryContextCallResetCallbacks does), then free every chunk.  Also
 * clears the allocation counter and any pending failure.
 */
void
stub_context_reset(void)
{
	MemoryContextCallback *cb;

	while ((cb = stub_context.reset_cbs) != NULL)
	{
		stub_context.reset_cbs = cb->next;
		cb->func(cb->arg);
	}
	while (chunk_list.next != &chunk_list)
		pfree(chunk_list.next + 1);
	stub_context.isReset = true;
	alloc_count = 0;
	alloc_fail_at = 0;
}

long
stub_alloc_count(void)
{
	return alloc_count;
}

void
stub_alloc_fail_at(long n)
{
	alloc_fail_at = n;
	alloc_count = 0;
}

long
stub_live_chunks(void)
{
	long		n = 0;
	StubChunk  *c;

	for (c = chunk_list.next; c != &chunk_list; c = c->next)
		n++;
	return n;
}

/* ---- errors ---- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

static StubError cur_error;

const StubError *
stub_last_error(void)
{
	return &cur_error;
}

bool
errstart(int elevel, const char *domain)
{
	/* a nested ereport (while formatting one) simply replaces the first */
	memset(&cur_error, 0, sizeof(cur_error));
	cur_error.elevel = elevel;
	cur_error.sqlerrcode = (elevel >= ERROR) ? ERRCODE_INTERNAL_ERROR :
		(elevel == WARNING) ? ERRCODE_WARNING : ERRCODE_SUCCESSFUL_COMPLETION;
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	ErrorContextCallback *ecxt;

	cur_error.filename = filename;
	cur_error.lineno = lineno;
	cur_error.funcname = funcname;
	for (ecxt = error_context_stack; ecxt != NULL; ecxt = ecxt->previous)
		ecxt->callback(ecxt->arg);

	if (cur_error.elevel < ERROR)
		return;
	cur_error.active = true;
	if (cur_error.elevel >= FATAL || PG_exception_stack == NULL)
	{
		fprintf(stderr, "pg_stubs: uncaught %s at %s:%d (%s): %s\n",
				cur_error.elevel >= FATAL ? "FATAL" : "ERROR",
				filename, lineno, funcname ? funcname : "?",
				cur_error.message);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "pg_stubs: re-throw without a PG_TRY: %s\n",
				cur_error.message);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

void
FlushErrorState(void)
{
	cur_error.active = false;
}

int
geterrcode(void)
{
	return cur_error.sqlerrcode;
}

int
errcode(int sqlerrcode)
{
	cur_error.sqlerrcode = sqlerrcode;
	return 0;
}

#define STUB_FORMAT(field) \
	do { \
		va_list		args; \
		va_start(args, fmt); \
		vsnprintf(cur_error.field, sizeof(cur_error.field), fmt, args); \
		va_end(args); \
	} while (0)

int
errmsg(const char *fmt,...)
{
	STUB_FORMAT(message);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	STUB_FORMAT(message);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	STUB_FORMAT(detail);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	STUB_FORMAT(detail);
	return 0;
}

/* context lines (the foreign server's name) are not checked: dropped */
int
set_errcontext_domain(const char *domain)
{
	return 0;
}

int
errcontext_msg(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	STUB_FORMAT(hint);
	return 0;
}

/* ---- encoding: a UTF8 or a LATIN1 database ---- */

static int	database_encoding = PG_UTF8;

void
stub_set_database_encoding(int encoding)
{
	if (encoding != PG_UTF8 && encoding != PG_LATIN1)
		abort();
	database_encoding = encoding;
}

int
GetDatabaseEncoding(void)
{
	return database_encoding;
}

/*
 * As the backend's pg_any_to_server for UTF-8 (or SQL_ASCII) input: in a
 * UTF8 database the text is verified and returned as is; in a LATIN1
 * database it is verified and converted as utf8_to_iso8859_1 does, with
 * an ERROR for a character LATIN1 lacks.
 */
char *
pg_any_to_server(const char *s, int len, int encoding)
{
	const unsigned char *p;
	char	   *result,
			   *q;

	if (len <= 0)
		return unconstify(char *, s);
	if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
	{
		fprintf(stderr, "pg_stubs: conversion from encoding %d not stubbed\n",
				encoding);
		abort();
	}
	if (encoding == PG_SQL_ASCII && database_encoding == PG_UTF8)
	{
		(void) pg_verify_mbstr(PG_UTF8, s, len, false);
		return unconstify(char *, s);
	}
	(void) pg_verify_mbstr(encoding == PG_SQL_ASCII ? PG_SQL_ASCII : PG_UTF8,
						   s, len, false);
	if (database_encoding == PG_UTF8)
		return unconstify(char *, s);

	/* UTF8 -> LATIN1 */
	p = (const unsigned char *) s;
	result = q = palloc(len + 1);
	while (len > 0)
	{
		int			l = pg_utf_mblen(p);
		pg_wchar	c = utf8_to_unicode(p);

		if (c > 0xFF)
			ereport(ERROR,
					(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
					 errmsg("character with byte sequence 0x%02x 0x%02x in encoding \"%s\" has no equivalent in encoding \"%s\"",
							p[0], p[1], "UTF8", "LATIN1")));
		*q++ = (char) c;
		p += l;
		len -= l;
	}
	*q = '\0';
	/* as the backend: no copy when nothing changed */
	if (strcmp(result, s) == 0)
	{
		pfree(result);
		return unconstify(char *, s);
	}
	return result;
}

/* As the backend's pg_verify_mbstr. */
bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	int			ok = pg_encoding_verifymbstr(encoding, mbstr, len);

	if (ok == len)
		return true;
	if (noError)
		return false;
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("invalid byte sequence for encoding \"%s\": 0x%02x",
					pg_encoding_to_char(encoding), (unsigned char) mbstr[ok])));
	return false;
}

/*
 * The backend's json_errdetail (common/jsonapi.c built for the server)
 * words each parse error; the frontend libpgcommon has no such function
 * before 17.  This one names the error number and the offending token.
 */
#if PG_VERSION_NUM < 170000
char *
json_errdetail(JsonParseErrorType error, JsonLexContext *lex)
{
	int			toklen = 0;

	if (lex->token_start != NULL && lex->token_terminator != NULL)
		toklen = (int) (lex->token_terminator - lex->token_start);
	return psprintf("JSON parse error %d at token \"%.*s\".",
					(int) error, toklen, lex->token_start ? lex->token_start : "");
}
#endif

/* ---- time zones ---- */

#if PG_VERSION_NUM >= 160000
/*
 * 16's ConvertTimeZoneAbbrevs allocates the abbreviation table with
 * guc_malloc: it lives as long as the process, as in the backend.
 */
void *
guc_malloc(int elevel, size_t size)
{
	return malloc(size);
}
#endif

/*
 * session_timezone is UTC.  Zone names are checked against the system
 * tzdata directory (the Debian server is built --with-system-tzdata) the way
 * the backend finds them, case-insensitively; a zone that exists behaves as
 * UTC here, one that does not makes pg_tzset return NULL as in the backend.
 * POSIX-style zone specifications ("EST5EDT") are not recognized here.
 */
#ifndef STUB_TZDIR
#define STUB_TZDIR "/usr/share/zoneinfo"
#endif

struct pg_tz
{
	char		name[8];
};

static pg_tz utc_tz = {"UTC"};

pg_tz	   *session_timezone = &utc_tz;
int			DateOrder = DATEORDER_MDY;	/* DateStyle = 'ISO, MDY' */

/* Does TZDIR/name exist as a regular file, matching names case-insensitively? */
static bool
zone_file_exists(const char *name)
{
	char		path[MAXPGPATH];
	const char *p = name;
	size_t		plen;

	strlcpy(path, STUB_TZDIR, sizeof(path));
	plen = strlen(path);
	while (*p)
	{
		char		comp[256];
		size_t		clen = strcspn(p, "/");
		DIR		   *dir;
		struct dirent *de;
		bool		found = false;

		if (clen == 0 || clen >= sizeof(comp))
			return false;
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		p += clen;
		if (*p == '/')
			p++;
		dir = opendir(path);
		if (dir == NULL)
			return false;
		while ((de = readdir(dir)) != NULL)
		{
			if (de->d_name[0] == '.')
				continue;
			if (pg_strcasecmp(de->d_name, comp) == 0)
			{
				if (plen + 1 + strlen(de->d_name) + 1 > sizeof(path))
					break;
				path[plen++] = '/';
				strcpy(path + plen, de->d_name);
				plen += strlen(de->d_name);
				found = true;
				break;
			}
		}
		closedir(dir);
		if (!found)
			return false;
	}
	{
		struct stat st;

		return stat(path, &st) == 0 && S_ISREG(st.st_mode);
	}
}

pg_tz *
pg_tzset(const char *tzname)
{
	if (strlen(tzname) > TZ_STRLEN_MAX)
		return NULL;
	if (pg_strcasecmp(tzname, "UTC") == 0 || pg_strcasecmp(tzname, "GMT") == 0)
		return &utc_tz;
	if (zone_file_exists(tzname))
		return &utc_tz;			/* every known zone behaves as UTC here */
	return NULL;
}

static int
tzentry_cmp(const void *a, const void *b)
{
	return strcmp(((const tzEntry *) a)->abbrev, ((const tzEntry *) b)->abbrev);
}

/*
 * Load a timezonesets file (the backend loads "Default" at start through
 * the timezone_abbreviations GUC) and install it with the real
 * ConvertTimeZoneAbbrevs/InstallTimeZoneAbbrevs.  @INCLUDE and @OVERRIDE
 * lines are ignored.  Returns the number of abbreviations, -1 on failure.
 */
int
stub_load_timezone_abbrevs(const char *filename)
{
	FILE	   *f = fopen(filename, "r");
	char		line[1024];
	tzEntry    *entries = NULL;
	int			n = 0,
				cap = 0,
				lineno = 0,
				i;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *abbrev,
				   *value,
				   *dst,
				   *c,
				   *save;

		lineno++;
		if ((c = strchr(line, '#')) != NULL)
			*c = '\0';
		abbrev = strtok_r(line, " \t\r\n", &save);
		if (abbrev == NULL || abbrev[0] == '@')
			continue;
		value = strtok_r(NULL, " \t\r\n", &save);
		if (value == NULL)
			continue;
		dst = strtok_r(NULL, " \t\r\n", &save);
		if (n == cap)
		{
			cap = cap ? cap * 2 : 256;
			entries = realloc(entries, cap * sizeof(tzEntry));
			if (entries == NULL)
				abort();
		}
		memset(&entries[n], 0, sizeof(tzEntry));
		entries[n].abbrev = strdup(abbrev);
		for (c = entries[n].abbrev; *c; c++)
			*c = pg_tolower((unsigned char) *c);
		if (isdigit((unsigned char) value[0]) || value[0] == '-' || value[0] == '+')
			entries[n].offset = (int) strtol(value, NULL, 10);
		else
			entries[n].zone = strdup(value);
		entries[n].is_dst = (dst != NULL && strcmp(dst, "D") == 0);
		entries[n].lineno = lineno;
		entries[n].filename = "Default";
		n++;
	}
	fclose(f);
	qsort(entries, n, sizeof(tzEntry), tzentry_cmp);
	InstallTimeZoneAbbrevs(ConvertTimeZoneAbbrevs(entries, n));
	for (i = 0; i < n; i++)
	{
		free(entries[i].abbrev);
		free(entries[i].zone);
	}
	free(entries);
	return n;
}

int
pg_next_dst_boundary(const pg_time_t *timep, long int *before_gmtoff,
					 int *before_isdst, pg_time_t *boundary,
					 long int *after_gmtoff, int *after_isdst,
					 const pg_tz *tz)
{
	*before_gmtoff = 0;
	*before_isdst = 0;
	return 0;					/* no DST transitions */
}

bool
pg_interpret_timezone_abbrev(const char *abbrev, const pg_time_t *timep,
							 long int *gmtoff, int *isdst, const pg_tz *tz)
{
	return false;
}

struct pg_tm *
pg_localtime(const pg_time_t *timep, const pg_tz *tz)
{
	static struct pg_tm result;
	struct tm	tm;
	time_t		t = (time_t) *timep;

	if (gmtime_r(&t, &tm) == NULL)
		return NULL;
	result.tm_sec = tm.tm_sec;
	result.tm_min = tm.tm_min;
	result.tm_hour = tm.tm_hour;
	result.tm_mday = tm.tm_mday;
	result.tm_mon = tm.tm_mon;
	result.tm_year = tm.tm_year;
	result.tm_wday = tm.tm_wday;
	result.tm_yday = tm.tm_yday;
	result.tm_isdst = 0;
	result.tm_gmtoff = 0;
	result.tm_zone = "UTC";
	return &result;
}

/* "now" is fixed so that every run decodes the same input the same way. */
TimestampTz
GetCurrentTransactionStartTimestamp(void)
{
	/* 2024-01-01 00:00:00+00 in microseconds since 2000-01-01 */
	return INT64CONST(757382400000000);
}
