/*-------------------------------------------------------------------------
 *
 * pg_stubs.h
 *		  The harness side of pg_stubs.c: reset the fake memory context,
 *		  inject allocation failures, look at the last ereport.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_STUBS_H
#define PG_STUBS_H

typedef struct StubError
{
	bool		active;			/* thrown and not yet flushed */
	int			elevel;
	int			sqlerrcode;
	const char *filename;
	int			lineno;
	const char *funcname;
	char		message[1024];
	char		detail[1024];
	char		hint[1024];
} StubError;

/* Run the context's reset callbacks, free every palloc'd chunk. */
extern void stub_context_reset(void);

/* Allocations since the last reset or stub_alloc_fail_at(). */
extern long stub_alloc_count(void);

/* Restart the count; allocation number n fails with ERROR (0 = none). */
extern void stub_alloc_fail_at(long n);

/* palloc'd chunks not yet freed. */
extern long stub_live_chunks(void);

/* Install the abbreviations of a timezonesets file; count, or -1. */
extern int	stub_load_timezone_abbrevs(const char *filename);

/* The database encoding pg_any_to_server converts to: PG_UTF8 or PG_LATIN1. */
extern void stub_set_database_encoding(int encoding);

/* The last ereport, whatever its level. */
extern const StubError *stub_last_error(void);

#endif							/* PG_STUBS_H */
