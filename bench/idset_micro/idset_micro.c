/*-------------------------------------------------------------------------
 *
 * idset_micro.c
 *		  A micro-benchmark of the duplicate filter (bench/idset_micro.sh):
 *		  idset.c against the dynahash with 40-byte keys it replaced.
 *
 * idset_micro(n, kind) makes n distinct random 32-hex ids (or 60-byte ones
 * with kind 'idset_long'), then times adding them all (new keys) and adding
 * them all again (every key a duplicate); returns ns per add of each round
 * and the bytes of the structure.  kind: 'idset', 'idset_long', 'htab40'.
 *
 *-------------------------------------------------------------------------
 */
#include "../../idset.c"

#include "common/pg_prng.h"
#include "fmgr.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(idset_micro);

Datum
idset_micro(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		is_long = strcmp(kind, "idset_long") == 0;
	bool		htab = strcmp(kind, "htab40") == 0;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "micro",
											  ALLOCSET_DEFAULT_SIZES);
	char	  **keys = palloc(sizeof(char *) * n);
	RdsIdSet   *set = NULL;
	HTAB	   *tab = NULL;
	double		ns[2];
	int			round;
	int			i;
	int64		dups = 0;

	for (i = 0; i < n; i++)
	{
		uint64		a = pg_prng_uint64(&pg_global_prng_state);
		uint64		b = pg_prng_uint64(&pg_global_prng_state);

		keys[i] = is_long ?
			psprintf("%016llx%016llx-%016llx%011llx", (unsigned long long) a,
					 (unsigned long long) b, (unsigned long long) a,
					 (unsigned long long) (b >> 20)) :
			psprintf("%016llx%016llx", (unsigned long long) a, (unsigned long long) b);
	}
	if (htab)
	{
		HASHCTL		ctl;

		ctl.keysize = 40;
		ctl.entrysize = 40;
		ctl.hcxt = cxt;
		tab = hash_create("micro", 1024, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	else
	{
		set = rds_idset_create(cxt);
		rds_idset_expect(set, n);	/* the first page's total_count */
	}
	for (round = 0; round < 2; round++)
	{
		instr_time	t0,
					t1;

		INSTR_TIME_SET_CURRENT(t0);
		for (i = 0; i < n; i++)
		{
			bool		found;

			if (htab)
				(void) hash_search(tab, keys[i], HASH_ENTER, &found);
			else
				found = rds_idset_add(set, keys[i]);
			dups += found;
		}
		INSTR_TIME_SET_CURRENT(t1);
		INSTR_TIME_SUBTRACT(t1, t0);
		ns[round] = INSTR_TIME_GET_DOUBLE(t1) * 1e9 / n;
	}
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s n=%d: %.1f ns/new key, %.1f ns/duplicate, %zu bytes (%.1f per key), duplicates found %lld",
											  kind, n, ns[0], ns[1],
											  MemoryContextMemAllocated(cxt, true),
											  (double) MemoryContextMemAllocated(cxt, true) / n,
											  (long long) dups)));
}
