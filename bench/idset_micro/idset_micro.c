/*-------------------------------------------------------------------------
 *
 * idset_micro.c
 *		  A micro-benchmark of the duplicate filter (bench/idset_micro.sh):
 *		  idset.c against the dynahash with 40-byte keys it replaced; and
 *		  its correctness check against a reference (idset_check, the
 *		  pg_regress suite of this directory, run by test/run_tests.sh).
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
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
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

/*
 * idset_check(seed): idset.c against a trivially correct reference (a
 * dynahash keyed by the whole string), over the cases below; one line per
 * case, and an ERROR at the first difference.  Deterministic for a seed:
 * the keys come from it, while the set draws its own round keys.
 */
typedef struct CheckRun
{
	const char *name;
	MemoryContext cxt;
	RdsIdSet   *set;
	HTAB	   *ref;
	int64		adds;
	int64		dups;
	int64		ids;			/* distinct 32-hex keys in the reference */
	int64		others;
	bool		no_grow;		/* only a walk that gives up grows the table */
	bool		random_counts;	/* the counts depend on the set's keys */
	int			walk_growths;
} CheckRun;

#define CHECK_KEYLEN 128

static bool
is_hex_id(const char *k)
{
	int			i;

	for (i = 0; i < 32; i++)
		if (!((k[i] >= '0' && k[i] <= '9') || (k[i] >= 'a' && k[i] <= 'f')))
			return false;
	return k[32] == '\0';
}

static void
check_begin(CheckRun *run, const char *name)
{
	HASHCTL		ctl;

	memset(run, 0, sizeof(*run));
	run->name = name;
	run->cxt = AllocSetContextCreate(CurrentMemoryContext, "idset_check",
									 ALLOCSET_DEFAULT_SIZES);
	run->set = rds_idset_create(run->cxt);
	ctl.keysize = CHECK_KEYLEN;
	ctl.entrysize = CHECK_KEYLEN;
	ctl.hcxt = run->cxt;
	run->ref = hash_create("idset_check", 1024, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/* Add key to both; ERROR if they disagree. */
static void
check_add(CheckRun *run, const char *key)
{
	bool		want;
	bool		got;
	uint32		nbuckets = run->set->tab.nbuckets;

	if (strlen(key) >= CHECK_KEYLEN)
		elog(ERROR, "idset_check: key too long for the reference");
	(void) hash_search(run->ref, key, HASH_ENTER, &want);
	got = rds_idset_add(run->set, key);
	if (got != want)
		elog(ERROR, "idset_check %s: add #" INT64_FORMAT " of \"%s\": set says %s, reference says %s",
			 run->name, run->adds, key, got ? "seen" : "new", want ? "seen" : "new");
	run->adds++;
	run->dups += want;
	if (!want)
	{
		if (is_hex_id(key))
			run->ids++;
		else
			run->others++;
	}
	if (run->no_grow)
	{
		if (nbuckets != 0 && run->set->tab.nbuckets != nbuckets)
			run->walk_growths++;
		run->set->grow_at = PG_UINT32_MAX;
	}
}

/*
 * The table's own invariants: every slot's value sits in one of its two
 * buckets with the right tag and in its Bloom filter, one slot per id.
 */
static void
check_table(CheckRun *run)
{
	RdsIdTable *tab = &run->set->tab;
	int64		used = 0;
	uint32		b;

	for (b = 0; b < tab->nbuckets; b++)
	{
		int			n = tab->meta[b] & IDSET_COUNT_MASK;
		int			s;

		if (n > IDSET_BUCKET)
			elog(ERROR, "idset_check %s: bucket %u uses %d slots", run->name, b, n);
		for (s = 0; s < n; s++)
		{
			const char *slot = slot_at(tab, b, s);
			uint64		tag = slot_tag(tab, slot);
			uint64		hi,
						lo,
						q;
			uint32		first,
						second;
			uint64		t2;

			used++;
			slot_value(tab, b, slot, &hi, &lo);
			if (!(tab->meta[b] & bloom_bit(lo)))
				elog(ERROR, "idset_check %s: bucket %u's Bloom filter misses a value it holds", run->name, b);
			q = hi / tab->nbuckets;
			first = (uint32) (hi % tab->nbuckets);
			t2 = q << 1;
			second = other_bucket(tab, first, &t2, lo);
			if (!((b == first && tag == q << 1) || (b == second && tag == t2)))
				elog(ERROR, "idset_check %s: bucket %u holds a value of buckets %u/%u", run->name, b, first, second);
		}
	}
	if (used != run->ids || run->set->nids != run->ids)
		elog(ERROR, "idset_check %s: " INT64_FORMAT " slots used, %u ids counted, " INT64_FORMAT " in the reference",
			 run->name, used, run->set->nids, run->ids);
}

/* Every key again (all duplicates), the counts and the invariants. */
static char *
check_end(CheckRun *run)
{
	HASH_SEQ_STATUS hs;
	char	   *key;
	int64		ids,
				others;
	int64		again = 0;
	char	   *line;

	check_table(run);
	hash_seq_init(&hs, run->ref);
	while ((key = hash_seq_search(&hs)) != NULL)
	{
		if (!rds_idset_add(run->set, key))
			elog(ERROR, "idset_check %s: \"%s\" was added but is not seen", run->name, key);
		again++;
	}
	rds_idset_counts(run->set, &ids, &others);
	if (ids != run->ids || others != run->others || again != ids + others)
		elog(ERROR, "idset_check %s: counts " INT64_FORMAT "/" INT64_FORMAT ", reference " INT64_FORMAT "/" INT64_FORMAT,
			 run->name, ids, others, run->ids, run->others);
	if (rds_idset_bytes(run->set) < table_bytes(&run->set->tab) ||
		rds_idset_bytes(run->set) > MemoryContextMemAllocated(run->cxt, true))
		elog(ERROR, "idset_check %s: %zu bytes reported, %zu allocated", run->name,
			 rds_idset_bytes(run->set), MemoryContextMemAllocated(run->cxt, true));
	check_table(run);
	if (run->random_counts)
		line = psprintf("%s: " INT64_FORMAT " adds: ok", run->name, run->adds);
	else
		line = psprintf("%s: " INT64_FORMAT " adds, " INT64_FORMAT " duplicates, " INT64_FORMAT " ids, " INT64_FORMAT " other keys%s: ok",
						run->name, run->adds, run->dups, run->ids, run->others,
						run->no_grow ? (run->walk_growths > 0 ? ", grown after a walk gave up" : ", NO WALK GAVE UP") : "");
	MemoryContextDelete(run->cxt);
	return line;
}

static char *
random_id(pg_prng_state *rng)
{
	return psprintf("%016llx%016llx",
					(unsigned long long) pg_prng_uint64(rng),
					(unsigned long long) pg_prng_uint64(rng));
}

/*
 * n adds of new keys made by make(i), each followed with probability 1/3
 * by a key added before (any earlier one, or the one just added) and with
 * probability 1/10 by an earlier key with one digit changed.
 */
static void
check_stream(CheckRun *run, pg_prng_state *rng, int n, char *(*make) (pg_prng_state *, int))
{
	char	  **keys = palloc(sizeof(char *) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		keys[i] = make(rng, i);
		check_add(run, keys[i]);
		if (pg_prng_uint32(rng) % 3 == 0)
			check_add(run, keys[pg_prng_uint32(rng) % (i + 1)]);
		if (pg_prng_uint32(rng) % 3 == 0)
			check_add(run, keys[i]);
		if (pg_prng_uint32(rng) % 10 == 0)
		{
			char	   *k = pstrdup(keys[pg_prng_uint32(rng) % (i + 1)]);
			size_t		len = strlen(k);

			if (len > 0)
			{
				size_t		at = pg_prng_uint32(rng) % len;

				k[at] = "0123456789abcdef"[(strchr("0123456789abcdef", k[at]) ?
											 strchr("0123456789abcdef", k[at]) - "0123456789abcdef" + 1 : 0) % 16];
				check_add(run, k);
			}
		}
	}
}

static char *
make_random(pg_prng_state *rng, int i)
{
	return random_id(rng);
}

/* UUIDHexGenerator-like: a shared 16-digit prefix, then a counter */
static char *
make_prefix(pg_prng_state *rng, int i)
{
	return psprintf("ff8080828a1b2c3d%016llx", (unsigned long long) i);
}

/* the counter in the high half, a shared suffix */
static char *
make_suffix(pg_prng_state *rng, int i)
{
	return psprintf("%016llx0000000000000001", (unsigned long long) i << 8);
}

/* any key at all: mostly ids, often other keys next to their id */
static char *
make_mixed(pg_prng_state *rng, int i)
{
	char	   *id = random_id(rng);

	switch (pg_prng_uint32(rng) % 8)
	{
		case 0:
			{
				char	   *up = pstrdup(id);
				int			j;

				for (j = 0; up[j]; j++)
					up[j] = pg_toupper((unsigned char) up[j]);
				return up;		/* not an id: uppercase */
			}
		case 1:
			id[31] = '\0';
			return id;			/* 31 digits */
		case 2:
			return psprintf("%s0", id);		/* 33 digits */
		case 3:
			return psprintf("action-%d", i % 5000);
		case 4:
			return pg_prng_uint32(rng) % 2 ? pstrdup("") : psprintf("%s ", id);
		case 5:
			id[7] = 'g';
			return id;
		default:
			return id;
	}
}

/* The id whose permuted value in set is (hi, lo): permute() backwards. */
static char *
unpermuted_id(const RdsIdSet *set, uint64 hi, uint64 lo)
{
	uint64		a = hi;
	uint64		b = lo;

	a ^= mix64(b ^ set->key[2]);
	b ^= mix64(a ^ set->key[1]);
	a ^= mix64(b ^ set->key[0]);
	return psprintf("%016llx%016llx", (unsigned long long) a, (unsigned long long) b);
}

/*
 * Near collisions: n random ids, then for ids among them, ids whose
 * permuted values differ from theirs in one part only: the quotient by one
 * (same bucket), the first bucket moved to the second with the same
 * quotient and lo (differs only in the bucket bit), one bit of hi or lo.
 * The table is sized from the hint, so that the buckets stay put.
 */
static void
check_near(CheckRun *run, pg_prng_state *rng, int n)
{
	char	  **keys = palloc(sizeof(char *) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		keys[i] = random_id(rng);
		check_add(run, keys[i]);
	}
	for (i = 0; i < n; i++)
	{
		RdsIdTable *tab = &run->set->tab;
		uint64		a,
					b,
					hi,
					lo,
					q,
					tag;
		uint32		first,
					second;
		uint64		variant[8][2];
		int			v;

		if (!parse_hex_id(keys[pg_prng_uint32(rng) % n], &a, &b))
			elog(ERROR, "idset_check: not an id");
		permute(run->set, a, b, &hi, &lo);
		q = hi / tab->nbuckets;
		first = (uint32) (hi % tab->nbuckets);
		tag = q << 1;
		second = other_bucket(tab, first, &tag, lo);
		variant[0][0] = hi + tab->nbuckets;
		variant[1][0] = hi - tab->nbuckets;
		variant[2][0] = q * tab->nbuckets + second;
		variant[3][0] = hi ^ 1;
		variant[4][0] = hi ^ (UINT64CONST(1) << 63);
		variant[5][0] = hi ^ (UINT64CONST(1) << (pg_prng_uint32(rng) % 64));
		for (v = 0; v < 6; v++)
			variant[v][1] = lo;
		variant[6][0] = hi;
		variant[6][1] = lo ^ 1;
		variant[7][0] = hi;
		variant[7][1] = lo ^ (UINT64CONST(1) << (pg_prng_uint32(rng) % 64));
		for (v = 0; v < 8; v++)
		{
			char	   *k = unpermuted_id(run->set, variant[v][0], variant[v][1]);

			check_add(run, k);
			check_add(run, k);
		}
	}
}

PG_FUNCTION_INFO_V1(idset_check);

Datum
idset_check(PG_FUNCTION_ARGS)
{
	int32		seed = PG_GETARG_INT32(0);
	pg_prng_state rng;
	CheckRun	run;
	List	   *lines = NIL;
	StringInfoData out;
	ListCell   *lc;
	int			i;

	pg_prng_seed(&rng, (uint64) seed);

	/* random ids, the hint right: 14-byte slots */
	check_begin(&run, "random, hinted");
	rds_idset_expect(run.set, 1000000);
	check_stream(&run, &rng, 900000, make_random);
	if (run.set->tab.width != 14)
		elog(ERROR, "idset_check: slots of %u bytes, not 14", run.set->tab.width);
	lines = lappend(lines, check_end(&run));

	/* values that differ from stored ones in one part only */
	check_begin(&run, "near collisions, hinted");
	run.random_counts = true;	/* two variants can be the same value */
	rds_idset_expect(run.set, 200000);
	check_near(&run, &rng, 20000);
	lines = lappend(lines, check_end(&run));

	/* structured ids, no hint */
	check_begin(&run, "shared prefix, no hint");
	check_stream(&run, &rng, 200000, make_prefix);
	lines = lappend(lines, check_end(&run));
	check_begin(&run, "shared suffix, no hint");
	check_stream(&run, &rng, 200000, make_suffix);
	lines = lappend(lines, check_end(&run));

	/* far beyond the hint, and hints that come in pieces mid-stream */
	check_begin(&run, "3000 times the hint");
	rds_idset_expect(run.set, 100);
	check_stream(&run, &rng, 300000, make_random);
	lines = lappend(lines, check_end(&run));
	check_begin(&run, "hints mid-stream");
	rds_idset_expect(run.set, 1000);
	check_stream(&run, &rng, 5000, make_prefix);
	rds_idset_expect(run.set, 50000);
	check_stream(&run, &rng, 60000, make_random);
	rds_idset_expect(run.set, 1000000);
	check_stream(&run, &rng, 1000, make_suffix);
	lines = lappend(lines, check_end(&run));

	/* other keys mixed in */
	check_begin(&run, "mixed keys");
	check_stream(&run, &rng, 100000, make_mixed);
	lines = lappend(lines, check_end(&run));

	/* tables filled until a walk gives up, at several sizes */
	for (i = 0; i < 3; i++)
	{
		check_begin(&run, psprintf("filled to the last slot, hint %d", 1000 * (i + 1) * (i + 1)));
		run.no_grow = true;
		rds_idset_expect(run.set, 1000 * (i + 1) * (i + 1));
		check_stream(&run, &rng, 20000, i == 1 ? make_prefix : make_random);
		lines = lappend(lines, check_end(&run));
	}

	initStringInfo(&out);
	foreach(lc, lines)
		appendStringInfo(&out, "%s\n", (char *) lfirst(lc));
	PG_RETURN_TEXT_P(cstring_to_text(out.data));
}
