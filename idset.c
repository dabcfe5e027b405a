/*-------------------------------------------------------------------------
 *
 * idset.c
 *		  The duplicate filter of a scan: an exact set of the task ids (or
 *		  action names) already returned.
 *
 * A task id in the API's format, exactly 32 lowercase hex digits, is kept
 * as its 16 raw bytes in an open-addressing table (linear probing) of
 * 16-byte slots with an occupancy bitmap beside it: every 16-byte value is
 * a valid id, so no slot value can mean "empty".  The table is sized from
 * the number of rows the scan expects (total_count of the first page) at a
 * load of 7/8 and grows by half only when more keys arrive than that hint
 * allows (above a load of 11/12).  Every other key, of any length, goes to a
 * second table (simplehash) whose strings live in a bump arena.  Both are
 * exact: a key is reported as seen only if the same bytes were added.
 *
 * All memory is allocated in the context given at creation; resetting or
 * deleting that context frees the set.  Errors: out of memory only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "utils/memutils.h"

#include "rds_task_fdw.h"

/* load at which a table sized from the hint ends up: 7/8 */
#define IDSET_FILL_NUM		7
#define IDSET_FILL_DEN		8
/*
 * The hint is trusted up to this many ids (77 MB of slots); beyond, the
 * table grows as ids arrive, so that a wrong total_count costs no memory.
 */
#define IDSET_MAX_HINT		((int64) 1 << 22)
#define IDSET_MIN_SLOTS		64
/* the bytes of one arena block for the other keys */
#define IDSET_ARENA_BLOCK	8192

/* A key that is not a 32-hex id: its string lives in the arena. */
typedef struct RdsOtherKey
{
	const char *key;
	uint32		hash;
	char		status;			/* simplehash's */
} RdsOtherKey;

#define SH_PREFIX			otherkeys
#define SH_ELEMENT_TYPE		RdsOtherKey
#define SH_KEY_TYPE			const char *
#define SH_KEY				key
#define SH_HASH_KEY(tb, k)	hash_bytes((const unsigned char *) (k), (int) strlen(k))
#define SH_EQUAL(tb, a, b)	(strcmp((a), (b)) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct RdsIdSet
{
	MemoryContext cxt;

	/* 32-hex ids: slot i is words[2i], words[2i+1]; used bit i says taken */
	uint64	   *words;
	uint64	   *used;
	uint32		nslots;
	uint32		nids;
	uint32		grow_at;		/* nids beyond which the table grows */
	uint64		seed;			/* of the hash: ids chosen to collide can't be */
	int64		expected;		/* sum of the hints */

	/* every other key */
	otherkeys_hash *others;
	char	   *arena;			/* free space of the current block */
	Size		arena_left;
	Size		arena_bytes;	/* all blocks */
};

/* Creates an empty set in cxt. */
RdsIdSet *
rds_idset_create(MemoryContext cxt)
{
	RdsIdSet   *set = MemoryContextAllocZero(cxt, sizeof(RdsIdSet));

	set->cxt = cxt;
	set->seed = pg_prng_uint64(&pg_global_prng_state);
	return set;
}

/*
 * The value of each byte as a lowercase hex digit, 0x10 for every other
 * byte (the terminator included).
 */
static const uint8 hex_value[256] = {
#define X16 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, \
	0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10
	X16, X16, X16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	X16,
	0x10, 10, 11, 12, 13, 14, 15, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10,
	X16,
	X16, X16, X16, X16, X16, X16, X16, X16
#undef X16
};

/*
 * If key is exactly 32 lowercase hex digits, its 16 bytes as two words;
 * lowercase only, so that the mapping is one to one.  Reads no byte past
 * the first that is no such digit (the terminator of a shorter key).
 */
static inline bool
parse_hex_id(const char *key, uint64 *a, uint64 *b)
{
	const unsigned char *k = (const unsigned char *) key;
	uint64		w[2] = {0, 0};
	int			i;

	for (i = 0; i < 32; i++)
	{
		uint8		d = hex_value[k[i]];

		if (unlikely(d & 0x10))
			return false;
		w[i >> 4] = (w[i >> 4] << 4) | d;
	}
	if (k[32] != '\0')
		return false;
	*a = w[0];
	*b = w[1];
	return true;
}

/* A 64-bit finalizer (MurmurHash3's fmix64). */
static inline uint64
mix64(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/*
 * The hash of an id's two words under the set's seed: a server cannot
 * choose ids that pile up in one run of slots.
 */
static inline uint64
hash_id(const RdsIdSet *set, uint64 a, uint64 b)
{
	return mix64(mix64(a ^ set->seed) ^ (b * UINT64CONST(0x9e3779b97f4a7c15)));
}

/* The home slot of a hash: its top 32 bits scaled to the table size. */
static inline uint32
home_slot(uint64 h, uint32 nslots)
{
	return (uint32) (((h >> 32) * (uint64) nslots) >> 32);
}

/* Slots for n ids at the hint's load. */
static uint32
slots_for(int64 n)
{
	int64		slots = n * IDSET_FILL_DEN / IDSET_FILL_NUM + 1;

	slots = Max(slots, IDSET_MIN_SLOTS);
	if (slots > (int64) PG_UINT32_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many task ids for the duplicate filter")));
	return (uint32) slots;
}

/* Put an id known to be absent into the table, which has room. */
static inline void
place_id(RdsIdSet *set, uint64 a, uint64 b, uint64 h)
{
	uint32		i = home_slot(h, set->nslots);

	while (set->used[i >> 6] & (UINT64CONST(1) << (i & 63)))
	{
		if (++i == set->nslots)
			i = 0;
	}
	set->used[i >> 6] |= UINT64CONST(1) << (i & 63);
	set->words[2 * i] = a;
	set->words[2 * i + 1] = b;
}

/*
 * Move the ids into a table of nslots slots.  The slots are not zeroed (the
 * bitmap says which are taken), so pages of a large table the ids never
 * reach are not touched.
 */
static void
resize(RdsIdSet *set, uint32 nslots)
{
	uint64	   *old_words = set->words;
	uint64	   *old_used = set->used;
	uint32		old_nslots = set->nslots;
	uint32		i;

	set->words = MemoryContextAllocExtended(set->cxt,
											(Size) nslots * 2 * sizeof(uint64),
											MCXT_ALLOC_HUGE);
	set->used = MemoryContextAllocExtended(set->cxt,
										   (Size) (nslots + 63) / 64 * sizeof(uint64),
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	set->nslots = nslots;
	set->grow_at = (uint32) ((uint64) nslots * 11 / 12);

	for (i = 0; i < old_nslots; i++)
	{
		if (old_used[i >> 6] & (UINT64CONST(1) << (i & 63)))
		{
			uint64		a = old_words[2 * i];
			uint64		b = old_words[2 * i + 1];

			place_id(set, a, b, hash_id(set, a, b));
		}
	}
	if (old_words)
	{
		pfree(old_words);
		pfree(old_used);
	}
}

/*
 * The scan expects about n more distinct ids (a page's total_count): make
 * room for them now, so that the table need not grow while rows arrive.
 * The hint is a promise of nothing; more ids than hinted still fit.
 */
void
rds_idset_expect(RdsIdSet *set, int64 n)
{
	uint32		want;

	if (n <= 0)
		return;
	set->expected = Min(set->expected + n, IDSET_MAX_HINT);
	want = slots_for(Max(set->expected, (int64) set->nids));
	if (want > set->nslots)
		resize(set, want);
}

/* Copy a string into the arena. */
static const char *
arena_strdup(RdsIdSet *set, const char *s)
{
	Size		len = strlen(s) + 1;
	char	   *copy;

	if (len > set->arena_left)
	{
		Size		block = Max(len, IDSET_ARENA_BLOCK);

		set->arena = MemoryContextAllocExtended(set->cxt, block, MCXT_ALLOC_HUGE);
		set->arena_left = block;
		set->arena_bytes += block;
	}
	copy = set->arena;
	memcpy(copy, s, len);
	set->arena += len;
	set->arena_left -= len;
	return copy;
}

/*
 * Add key to the set; true if it was there already.  Any length and any
 * bytes; the caller's string is copied (or converted) and may go away.
 */
bool
rds_idset_add(RdsIdSet *set, const char *key)
{
	uint64		a,
				b,
				h;
	uint32		i;

	if (parse_hex_id(key, &a, &b))
	{
		if (set->nslots == 0)
			resize(set, slots_for(IDSET_MIN_SLOTS));
		h = hash_id(set, a, b);
		i = home_slot(h, set->nslots);
		for (;;)
		{
			if (!(set->used[i >> 6] & (UINT64CONST(1) << (i & 63))))
				break;
			if (set->words[2 * i] == a && set->words[2 * i + 1] == b)
				return true;
			if (++i == set->nslots)
				i = 0;
		}
		if (set->nids >= set->grow_at)
		{
			/* more ids than hinted: grow by half, then place */
			resize(set, slots_for((int64) set->nids + set->nids / 2 + 1));
			place_id(set, a, b, h);
		}
		else
		{
			set->used[i >> 6] |= UINT64CONST(1) << (i & 63);
			set->words[2 * i] = a;
			set->words[2 * i + 1] = b;
		}
		set->nids++;
		return false;
	}
	else
	{
		RdsOtherKey *entry;
		bool		found;

		if (set->others == NULL)
			set->others = otherkeys_create(set->cxt, 64, NULL);
		entry = otherkeys_insert(set->others, key, &found);
		if (!found)
			entry->key = arena_strdup(set, key);
		return found;
	}
}

/* Keys in the set: 32-hex ids and others. */
void
rds_idset_counts(const RdsIdSet *set, int64 *ids, int64 *others)
{
	*ids = set->nids;
	*others = set->others ? (int64) set->others->members : 0;
}

/* Bytes the set allocated: its tables, bitmap, arena and header. */
Size
rds_idset_bytes(const RdsIdSet *set)
{
	Size		bytes = sizeof(RdsIdSet);

	bytes += (Size) set->nslots * 2 * sizeof(uint64);
	bytes += (Size) (set->nslots + 63) / 64 * sizeof(uint64);
	if (set->others)
		bytes += sizeof(otherkeys_hash) +
			(Size) set->others->size * sizeof(RdsOtherKey);
	bytes += set->arena_bytes;
	return bytes;
}

/* A DEBUG1 line on what the set holds, for benchmarks and tests. */
void
rds_idset_report(const RdsIdSet *set, const char *relname)
{
	int64		ids;
	int64		others;

	rds_idset_counts(set, &ids, &others);
	ereport(DEBUG1,
			(errmsg_internal("rds_task_fdw: duplicate filter of \"%s\": " INT64_FORMAT " ids, " INT64_FORMAT " other keys, %zu bytes, %u slots",
							 relname, ids, others, rds_idset_bytes(set),
							 set->nslots)));
}
