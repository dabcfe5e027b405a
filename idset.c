/*-------------------------------------------------------------------------
 *
 * idset.c
 *		  The duplicate filter of a scan: an exact set of the task ids (or
 *		  action names) already returned.
 *
 * A task id in the API's format, exactly 32 lowercase hex digits, is 128
 * bits.  It is first passed through a keyed bijection of 128 bits (a
 * three-round Feistel network over its two 64-bit halves, round keys drawn
 * at random for each set), so that ids sharing long prefixes, or chosen by
 * a server to collide, spread like random values.  The permuted value
 * (hi, lo) is kept in a bucketized cuckoo table of 8-slot buckets: its
 * first bucket is hi mod nbuckets, its second that plus an offset hashed
 * from the other bits, and a slot stores only lo, the quotient
 * hi / nbuckets and one bit saying which of its two buckets holds it.  From
 * a slot and its bucket the permuted value, hence the id, is recovered
 * exactly: a key is reported as seen only if the same bytes were added (no
 * fingerprint, nothing probabilistic).  A slot is 14 bytes in a table of
 * at least 2^17 buckets (the quotient then fits 47 bits), 15 or 16 in a
 * smaller one.  The table is sized from the number of rows the scan expects
 * (total_count of the first page) at a load of 24/25, or 2^17 buckets when
 * that costs fewer bytes: a million ids take 14,680,064 bytes of slots and
 * 262,144 of metas, 14.9 per id.  A bucket's meta (16 bits) holds how many
 * slots it uses and a 12-bit Bloom filter of the values it has held: a
 * lookup reads a bucket's slots only when the filter lets the value
 * through (it decides whether to look, never the answer), so a new id is
 * often placed without reading a slot, and no slot needs an "empty" value:
 * pages of a large table the ids never reach are not touched.  An
 * insertion into two full buckets moves a resident to its other bucket (one
 * that has room if any, else a bounded random walk); the table grows by half
 * when more ids arrive than the hint allows (above a load of 49/50) or a
 * walk gives up, and is rebuilt from the slots (old and new table exist
 * together only then).
 *
 * Every other key, of any length, goes to a second table (simplehash) whose
 * strings live in a bump arena.
 *
 * All memory is allocated in the context given at creation; resetting or
 * deleting that context frees the set.  Errors: out of memory only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"

#include "rds_task_fdw.h"

/* slots per bucket */
#define IDSET_BUCKET		8
/* load at which a table sized from the hint ends up: 24/25 */
#define IDSET_FILL_NUM		24
#define IDSET_FILL_DEN		25
/* load above which the table grows: 49/50 */
#define IDSET_GROW_NUM		49
#define IDSET_GROW_DEN		50
/*
 * The hint is trusted up to this many ids (61 MB of slots); beyond, the
 * table grows as ids arrive, so that a wrong total_count costs no memory.
 */
#define IDSET_MAX_HINT		((int64) 1 << 22)
#define IDSET_MIN_BUCKETS	16
/* the fewest buckets whose slots are 14 bytes (2^17) */
#define IDSET_NARROW_BUCKETS	131072
/* moves of one insertion before the table grows instead */
#define IDSET_MAX_KICKS		500
/* a bucket's meta: the slots it uses in the low bits, a Bloom filter above */
#define IDSET_COUNT_MASK	0x000f
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

/*
 * The cuckoo table of the 32-hex ids.  A slot is width bytes: lo in the
 * first 8 (little-endian), then the tag, quotient << 1 | (in its second
 * bucket), in the other width - 8.  The slots of a bucket are filled in
 * order and none is ever emptied; its meta (16 bits, apart from the slots)
 * holds how many it uses and a 12-bit Bloom filter of the values it has
 * held, which answers most lookups of a new id without reading the slots.
 */
typedef struct RdsIdTable
{
	char	   *slots;			/* nbuckets * IDSET_BUCKET slots */
	uint16	   *meta;			/* per bucket: slots used, Bloom filter */
	uint32		nbuckets;
	uint32		width;			/* bytes of a slot: 14, 15 or 16 */
	uint32		shift;			/* 64 - the bits of the tag */
	uint64		salt;			/* of the second buckets */
} RdsIdTable;

struct RdsIdSet
{
	MemoryContext cxt;

	/* 32-hex ids */
	RdsIdTable	tab;
	uint32		nids;
	uint32		grow_at;		/* nids beyond which the table grows */
	uint64		key[3];			/* round keys: ids chosen to collide can't be */
	uint64		walk;			/* state of the walk's choices (xorshift) */
	uint64		kicks;			/* residents moved, for tests */
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
	set->key[0] = pg_prng_uint64(&pg_global_prng_state);
	set->key[1] = pg_prng_uint64(&pg_global_prng_state);
	set->key[2] = pg_prng_uint64(&pg_global_prng_state);
	set->walk = pg_prng_uint64(&pg_global_prng_state) | 1;
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

/* A 64-bit finalizer (MurmurHash3's fmix64), a bijection. */
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
 * The set's keyed bijection of an id's two words: three Feistel rounds, so
 * that every bit of hi and lo depends on every bit of the id.
 */
static inline void
permute(const RdsIdSet *set, uint64 a, uint64 b, uint64 *hi, uint64 *lo)
{
	a ^= mix64(b ^ set->key[0]);
	b ^= mix64(a ^ set->key[1]);
	a ^= mix64(b ^ set->key[2]);
	*hi = a;
	*lo = b;
}

static inline uint64
load_le64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	return v;
}

static inline void
store_le64(char *p, uint64 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

static inline char *
slot_at(const RdsIdTable *tab, uint32 bucket, int s)
{
	return tab->slots + ((Size) bucket * IDSET_BUCKET + s) * tab->width;
}

static inline uint64
slot_tag(const RdsIdTable *tab, const char *slot)
{
	return load_le64(slot + tab->width - 8) >> tab->shift;
}

/* Write a slot: the tag first, as its word overlaps lo's when width < 16. */
static inline void
slot_put(const RdsIdTable *tab, char *slot, uint64 tag, uint64 lo)
{
	store_le64(slot + tab->width - 8, tag << tab->shift);
	store_le64(slot, lo);
}

/*
 * The offset from a value's first bucket to its second, 1 to nbuckets-1:
 * from all the bits a slot stores and the table's salt, so that values
 * differing in any of them get unrelated second buckets.
 */
static inline uint32
alt_offset(const RdsIdTable *tab, uint64 tag, uint64 lo)
{
	uint64		h = (lo ^ ((tag >> 1) * UINT64CONST(0x9e3779b97f4a7c15)) ^ tab->salt) *
		UINT64CONST(0xd6e8feb86659fd93);

	return 1 + (uint32) (((h >> 32) * (uint64) (tab->nbuckets - 1)) >> 32);
}

/* The other bucket of a slot's value, and the tag it has there. */
static inline uint32
other_bucket(const RdsIdTable *tab, uint32 bucket, uint64 *tag, uint64 lo)
{
	uint32		off = alt_offset(tab, *tag, lo);

	if (*tag & 1)
	{
		*tag &= ~UINT64CONST(1);
		return bucket >= off ? bucket - off : bucket + tab->nbuckets - off;
	}
	*tag |= 1;
	return bucket + off >= tab->nbuckets ? bucket + off - tab->nbuckets : bucket + off;
}

/* The Bloom filter bit of a value: one of the meta's top 12 bits. */
static inline uint16
bloom_bit(uint64 lo)
{
	return (uint16) (0x10 << ((((lo >> 32) & 0xffff) * 12) >> 16));
}

/*
 * Whether bucket holds (tag, lo); *avail is its first empty slot, or
 * IDSET_BUCKET if it is full.  Reads the slots only if the Bloom filter
 * lets the value through.
 */
static inline bool
bucket_find(const RdsIdTable *tab, uint32 bucket, uint64 tag, uint64 lo, int *avail)
{
	uint16		meta = tab->meta[bucket];
	int			n = meta & IDSET_COUNT_MASK;
	const char *slot;
	int			s;

	*avail = n;
	if (!(meta & bloom_bit(lo)))
		return false;
	slot = slot_at(tab, bucket, 0);
	for (s = 0; s < n; s++, slot += tab->width)
	{
		if (slot_tag(tab, slot) == tag && load_le64(slot) == lo)
			return true;
	}
	return false;
}

/* The first empty slot of bucket, or IDSET_BUCKET. */
static inline int
bucket_free(const RdsIdTable *tab, uint32 bucket)
{
	return tab->meta[bucket] & IDSET_COUNT_MASK;
}

/* Put (tag, lo) in slot s of bucket, its first empty one or a used one. */
static inline void
bucket_put(RdsIdTable *tab, uint32 bucket, int s, uint64 tag, uint64 lo)
{
	slot_put(tab, slot_at(tab, bucket, s), tag, lo);
	tab->meta[bucket] |= bloom_bit(lo);
	if (s == (tab->meta[bucket] & IDSET_COUNT_MASK))
		tab->meta[bucket]++;
}

/* The permuted value held by a slot of bucket. */
static inline void
slot_value(const RdsIdTable *tab, uint32 bucket, const char *slot,
		   uint64 *hi, uint64 *lo)
{
	uint64		tag = slot_tag(tab, slot);
	uint64		l = load_le64(slot);
	uint32		first = bucket;

	if (tag & 1)
		first = other_bucket(tab, bucket, &tag, l);
	*hi = (tag >> 1) * tab->nbuckets + first;
	*lo = l;
}

#if defined(__GNUC__) || defined(__clang__)
#define idset_prefetch(p)	__builtin_prefetch(p)
#else
#define idset_prefetch(p)	((void) 0)
#endif

/* Ask for all the cache lines of a bucket. */
static inline void
bucket_prefetch(const RdsIdTable *tab, uint32 bucket)
{
	const char *p = slot_at(tab, bucket, 0);
	const char *end = p + IDSET_BUCKET * tab->width - 1;

	for (; p <= end; p += 64)
		idset_prefetch(p);
	idset_prefetch(end);
}

/*
 * Put (tag, lo) into the full bucket, if one of its residents can move to
 * its other bucket, which has room: the other buckets of all residents are
 * fetched at once, so this costs about one memory access.
 */
static bool
bucket_shift(RdsIdTable *tab, uint32 bucket, uint64 tag, uint64 lo)
{
	uint32		other[IDSET_BUCKET];
	uint64		otag[IDSET_BUCKET];
	uint64		olo[IDSET_BUCKET];
	int			s;

	for (s = 0; s < IDSET_BUCKET; s++)
	{
		const char *slot = slot_at(tab, bucket, s);

		otag[s] = slot_tag(tab, slot);
		olo[s] = load_le64(slot);
		other[s] = other_bucket(tab, bucket, &otag[s], olo[s]);
		bucket_prefetch(tab, other[s]);
	}
	for (s = 0; s < IDSET_BUCKET; s++)
	{
		int			avail = bucket_free(tab, other[s]);

		if (avail < IDSET_BUCKET)
		{
			bucket_put(tab, other[s], avail, otag[s], olo[s]);
			bucket_put(tab, bucket, s, tag, lo);
			return true;
		}
	}
	return false;
}

/*
 * Put a permuted value known to be absent into the table.  If its two
 * buckets are full, residents move to their other bucket: one of either
 * bucket's if it can, else a random walk of at most IDSET_MAX_KICKS steps,
 * each trying the same first.  If the walk gives up, false, and *hi, *lo is
 * the value left without a slot (maybe another one than was passed in).
 */
static bool
table_place(RdsIdSet *set, RdsIdTable *tab, uint64 *hi, uint64 *lo)
{
	uint64		q = *hi / tab->nbuckets;
	uint32		bucket = (uint32) (*hi - q * tab->nbuckets);
	uint64		tag = q << 1;
	uint64		l = *lo;
	uint64		tag2 = tag;
	uint32		b2 = other_bucket(tab, bucket, &tag2, l);
	int			s;
	int			s2;
	int			kicks;

	bucket_prefetch(tab, b2);
	s = bucket_free(tab, bucket);
	s2 = bucket_free(tab, b2);
	if (s <= s2 && s < IDSET_BUCKET)
	{
		bucket_put(tab, bucket, s, tag, l);	/* the emptier one */
		return true;
	}
	if (s2 < IDSET_BUCKET)
	{
		bucket_put(tab, b2, s2, tag2, l);
		return true;
	}
	if (bucket_shift(tab, bucket, tag, l) || bucket_shift(tab, b2, tag2, l))
		return true;

	/* evict a random resident of the second bucket, and so on */
	bucket = b2;
	tag = tag2;
	for (kicks = 0; kicks < IDSET_MAX_KICKS; kicks++)
	{
		char	   *slot;
		uint64		vtag;
		uint64		vlo;

		set->walk ^= set->walk << 13;
		set->walk ^= set->walk >> 7;
		set->walk ^= set->walk << 17;
		s = (int) ((set->walk >> 32) % IDSET_BUCKET);
		slot = slot_at(tab, bucket, s);
		vtag = slot_tag(tab, slot);
		vlo = load_le64(slot);
		bucket_put(tab, bucket, s, tag, l);
		set->kicks++;

		tag = vtag;
		l = vlo;
		bucket = other_bucket(tab, bucket, &tag, l);
		s = bucket_free(tab, bucket);
		if (s < IDSET_BUCKET)
		{
			bucket_put(tab, bucket, s, tag, l);
			return true;
		}
		if (bucket_shift(tab, bucket, tag, l))
			return true;
	}
	/* the value in hand has no slot: give it back */
	q = tag >> 1;
	if (tag & 1)
		bucket = other_bucket(tab, bucket, &tag, l);
	*hi = q * tab->nbuckets + bucket;
	*lo = l;
	return false;
}

/* Buckets for n ids at the hint's load. */
static uint32
buckets_for(int64 n)
{
	int64		buckets;

	buckets = (n * IDSET_FILL_DEN + (int64) IDSET_FILL_NUM * IDSET_BUCKET - 1) /
		((int64) IDSET_FILL_NUM * IDSET_BUCKET);
	buckets = Max(buckets, IDSET_MIN_BUCKETS);
	/* fewer buckets of 15-byte slots can take more bytes than these */
	if (buckets < IDSET_NARROW_BUCKETS && buckets * 15 > IDSET_NARROW_BUCKETS * 14)
		buckets = IDSET_NARROW_BUCKETS;
	if (buckets > (int64) (PG_UINT32_MAX / IDSET_BUCKET) / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many task ids for the duplicate filter")));
	return (uint32) buckets;
}

/* An empty table of nbuckets buckets in cxt; the slots are not touched. */
static void
table_init(RdsIdTable *tab, MemoryContext cxt, uint32 nbuckets)
{
	uint64		maxq = PG_UINT64_MAX / nbuckets;
	uint32		width;

	/* the narrowest slot that holds a tag, at most 2 maxq + 1 */
	for (width = 14; width < 16; width++)
	{
		if (maxq < (UINT64CONST(1) << (8 * (width - 8) - 1)))
			break;
	}
	tab->nbuckets = nbuckets;
	tab->salt = pg_prng_uint64(&pg_global_prng_state);
	tab->width = width;
	tab->shift = 8 * (16 - width);
	tab->slots = MemoryContextAllocExtended(cxt,
											(Size) nbuckets * IDSET_BUCKET * width,
											MCXT_ALLOC_HUGE);
	tab->meta = MemoryContextAllocExtended(cxt, (Size) nbuckets * sizeof(uint16),
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

static Size
table_bytes(const RdsIdTable *tab)
{
	if (tab->nbuckets == 0)
		return 0;
	return (Size) tab->nbuckets * IDSET_BUCKET * tab->width +
		(Size) tab->nbuckets * sizeof(uint16);
}

/*
 * Move the ids into a table of at least nbuckets buckets, plus one value
 * (extra, if not NULL: hi, lo) that has no slot yet.  Should a walk give up
 * (as good as never below the grow load), a larger table is tried.
 */
static void
resize(RdsIdSet *set, uint32 nbuckets, const uint64 *extra)
{
	RdsIdTable	old = set->tab;
	RdsIdTable	tab;

	for (;;)
	{
		bool		ok = true;
		uint32		b;

		table_init(&tab, set->cxt, nbuckets);
		for (b = 0; ok && b < old.nbuckets; b++)
		{
			const char *slot = slot_at(&old, b, 0);
			int			n = bucket_free(&old, b);
			int			s;

			for (s = 0; ok && s < n; s++, slot += old.width)
			{
				uint64		hi,
							lo;

				slot_value(&old, b, slot, &hi, &lo);
				ok = table_place(set, &tab, &hi, &lo);
			}
		}
		if (ok && extra)
		{
			uint64		hi = extra[0];
			uint64		lo = extra[1];

			ok = table_place(set, &tab, &hi, &lo);
		}
		if (ok)
			break;
		pfree(tab.slots);
		pfree(tab.meta);
		nbuckets = buckets_for((int64) nbuckets * IDSET_BUCKET * 5 / 4);
	}
	set->tab = tab;
	set->grow_at = (uint32) ((uint64) nbuckets * IDSET_BUCKET * IDSET_GROW_NUM / IDSET_GROW_DEN);
	if (old.slots)
	{
		pfree(old.slots);
		pfree(old.meta);
	}
}

/* Buckets for a table half as large again, in ids and in buckets. */
static uint32
grown_buckets(const RdsIdSet *set)
{
	return Max(buckets_for((int64) set->nids + set->nids / 2 + 1),
			   buckets_for((int64) set->tab.nbuckets * IDSET_BUCKET * IDSET_FILL_NUM / IDSET_FILL_DEN * 3 / 2));
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
	want = buckets_for(Max(set->expected, (int64) set->nids));
	if (want > set->tab.nbuckets)
		resize(set, want, NULL);
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
				b;

	if (parse_hex_id(key, &a, &b))
	{
		RdsIdTable *tab = &set->tab;
		uint64		hi,
					lo,
					q,
					tag;
		uint32		b1,
					b2;
		int			free1,
					free2;

		if (tab->nbuckets == 0)
			resize(set, buckets_for(0), NULL);
		permute(set, a, b, &hi, &lo);
		q = hi / tab->nbuckets;
		b1 = (uint32) (hi - q * tab->nbuckets);
		tag = q << 1;
		b2 = other_bucket(tab, b1, &tag, lo);
		if (tab->meta[b1] & bloom_bit(lo))
			bucket_prefetch(tab, b1);
		if (tab->meta[b2] & bloom_bit(lo))
			bucket_prefetch(tab, b2);
		if (bucket_find(tab, b1, q << 1, lo, &free1) ||
			bucket_find(tab, b2, tag, lo, &free2))
			return true;

		if (set->nids >= set->grow_at)
		{
			/* more ids than hinted: grow by half, placing this one too */
			uint64		extra[2] = {hi, lo};

			resize(set, grown_buckets(set), extra);
		}
		else if (free1 <= free2 && free1 < IDSET_BUCKET)
			bucket_put(tab, b1, free1, q << 1, lo);	/* the emptier one */
		else if (free2 < IDSET_BUCKET)
			bucket_put(tab, b2, free2, tag, lo);
		else if (!table_place(set, tab, &hi, &lo))
		{
			/* the walk gave up: grow by half, placing what it left out */
			uint64		extra[2] = {hi, lo};

			resize(set, grown_buckets(set), extra);
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

/* Bytes the set allocated: its slots and metas, arena and header. */
Size
rds_idset_bytes(const RdsIdSet *set)
{
	Size		bytes = sizeof(RdsIdSet);

	bytes += table_bytes(&set->tab);
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
							 set->tab.nbuckets * IDSET_BUCKET)));
}
