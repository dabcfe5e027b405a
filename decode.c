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
 * A page is decoded in one walk over json-c's tree into an image: one flat
 * block holding every task's fields in slots indexed by their position in
 * rds_task_fields (reading a field is an array access, not a look-up by
 * name) and the strings themselves.  The tree is released as soon as the
 * image is made.  The image has no pointers, so it is also what the shared
 * cache stores: a page served from the cache is not decoded again.
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
#include "utils/memutils.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "rds_compat.h"
#include "rds_task_fdw.h"

/* Nesting deeper than this is not a task list; refuse it early. */
#define RDS_JSON_MAX_DEPTH 32

/*
 * The fields of a task object, in the order of the table IMPORT FOREIGN
 * SCHEMA creates and of RdsTaskFieldNo: the one list of them, for decoding
 * (here), conversion (convert.c), the query parameters (deparse.c) and
 * IMPORT (rds_task_fdw.c).
 */
const RdsTaskField rds_task_fields[] = {
	{"id", "text", true},
	{"name", "text", true},
	{"instance_id", "text", true},
	{"instance_name", "text", false},
	{"instance_status", "text", false},
	{"order_id", "text", true},
	{"process", "integer", false},
	{"fail_reason", "text", false},
	{"create_time", "timestamptz", false},
	{"end_time", "timestamptz", false},
	{"status", "text", true},
	{NULL, NULL, false}
};

StaticAssertDecl(lengthof(rds_task_fields) == RDS_NTASK_FIELDS + 1,
				 "rds_task_fields and RdsTaskFieldNo disagree");

/* What one field of one task holds */
typedef enum SlotState
{
	SLOT_NONE = 0,				/* missing, null or "" */
	SLOT_STRING,				/* a non-empty string without \u0000 */
	SLOT_NUL,					/* a string containing \u0000 */
	SLOT_OTHER					/* another JSON type (type says which) */
} SlotState;

/* One string of a page image: a task field, a task's raw JSON, an action */
typedef struct RdsSlot
{
	uint32		off;			/* SLOT_STRING: offset in the image */
	uint32		len;			/* SLOT_STRING: its length (a NUL follows) */
	uint8		state;			/* SlotState */
	uint8		type;			/* SLOT_OTHER: enum json_type */
} RdsSlot;

/* "RDP" and the layout's version: an image of another layout is no image */
#define RDS_IMAGE_MAGIC		0x52445002
/* flags: the image holds each task's raw JSON */
#define RDS_IMAGE_RAW		0x0001

/*
 * A decoded page as one flat block, what the shared cache stores: the
 * header, the slots (ntasks * RDS_NTASK_FIELDS field slots; with
 * RDS_IMAGE_RAW one raw-JSON slot per task; one slot per action), then the
 * strings, each followed by a NUL.  No pointer inside: it can be copied
 * between backends as it is.
 */
typedef struct RdsPageImage
{
	uint32		magic;			/* RDS_IMAGE_MAGIC */
	uint32		size;			/* bytes of the image */
	int64		total_count;	/* -1 when absent */
	int32		ntasks;
	int32		nactions;
	uint32		flags;			/* RDS_IMAGE_RAW */
	uint32		nslots;
	RdsSlot		slots[FLEXIBLE_ARRAY_MEMBER];
} RdsPageImage;

struct RdsPage
{
	const RdsPageImage *img;
	const RdsSlot *raw;			/* with RDS_IMAGE_RAW: ntasks slots, else NULL */
	const RdsSlot *actions;		/* nactions slots */
	const char *desc;			/* request description for messages */
	const char *server;			/* foreign server's name, for messages */
};

/* Why a body is not a page of the API's (page_image's verdict) */
typedef enum PageFault
{
	FAULT_NONE = 0,
	FAULT_JSON,					/* not JSON: why says how */
	FAULT_NOT_OBJECT,			/* the body is no JSON object */
	FAULT_NO_TASKS,				/* "tasks" missing or not an array */
	FAULT_TASK,					/* element index of "tasks" is no object */
	FAULT_TOTAL_COUNT			/* "total_count" is no non-negative integer */
} PageFault;

typedef struct PageVerdict
{
	PageFault	fault;
	const char *why;			/* FAULT_JSON */
	int			index;			/* FAULT_TASK */
} PageVerdict;

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

/* Skip JSON whitespace. */
static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The value of a hex digit (either case), or -1. */
static inline int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Bytes a JSON string cannot hold as they are: controls, '"' and '\\'. */
static const bool string_special[256] = {
	[0x00] = true, [0x01] = true, [0x02] = true, [0x03] = true,
	[0x04] = true, [0x05] = true, [0x06] = true, [0x07] = true,
	[0x08] = true, [0x09] = true, [0x0a] = true, [0x0b] = true,
	[0x0c] = true, [0x0d] = true, [0x0e] = true, [0x0f] = true,
	[0x10] = true, [0x11] = true, [0x12] = true, [0x13] = true,
	[0x14] = true, [0x15] = true, [0x16] = true, [0x17] = true,
	[0x18] = true, [0x19] = true, [0x1a] = true, [0x1b] = true,
	[0x1c] = true, [0x1d] = true, [0x1e] = true, [0x1f] = true,
	['"'] = true, ['\\'] = true
};

/*
 * p just past a string's opening quote: the position after its closing
 * quote, or NULL if the string is not plain (a control character, a bad
 * escape, \u0000 or a \u surrogate, which PostgreSQL's parser judges).
 */
/*
 * Whether any of the 8 bytes of w is special (string_special): a byte
 * equal to '"' or '\\', or below 0x20.  Each test is exact (true only if
 * such a byte is there).
 */
static inline bool
word_has_special(uint64 w)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		quote = w ^ (ones * '"');
	uint64		backslash = w ^ (ones * '\\');

	return ((((quote - ones) & ~quote) |
			 ((backslash - ones) & ~backslash) |
			 ((w - ones * 0x20) & ~w)) & highs) != 0;
}

static const char *
scan_plain_string(const char *p, const char *end)
{
	while (p < end)
	{
		unsigned char c;

		/* plain bytes 8 at a time, then one at a time up to the special one */
		while (end - p >= 8)
		{
			uint64		w;

			memcpy(&w, p, 8);
			if (word_has_special(w))
				break;
			p += 8;
		}
		if (p >= end)
			return NULL;
		while (!string_special[(unsigned char) *p])
		{
			if (++p >= end)
				return NULL;
		}
		c = (unsigned char) *p;
		if (c == '"')
			return p + 1;
		if (c != '\\')
			return NULL;		/* a control character */
		if (p + 1 >= end)
			return NULL;
		c = (unsigned char) p[1];
		if (c == 'u')
		{
			int			v = 0;
			int			k;

			if (p + 6 > end)
				return NULL;
			for (k = 2; k < 6; k++)
			{
				int			d = hex_digit(p[k]);

				if (d < 0)
					return NULL;
				v = (v << 4) | d;
			}
			if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
				return NULL;
			p += 6;
		}
		else if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
			p += 2;
		else
			return NULL;
	}
	return NULL;
}

/* Skip digits. */
static inline const char *
skip_digit_run(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/*
 * A JSON number at p (RFC 8259's grammar): the position after it, or NULL.
 */
static const char *
scan_number(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '-')
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	p = (*p == '0') ? p + 1 : skip_digit_run(p, end);
	if (p < end && *p == '.')
	{
		q = skip_digit_run(p + 1, end);
		if (q == p + 1)
			return NULL;
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		q = skip_digit_run(p, end);
		if (q == p)
			return NULL;
		p = q;
	}
	return p;
}

/*
 * A scalar value at p (string, number, true, false, null): the position
 * after it, or NULL.
 */
static const char *
scan_scalar(const char *p, const char *end)
{
	if (*p == '"')
		return scan_plain_string(p + 1, end);
	if (*p == '-' || (*p >= '0' && *p <= '9'))
		return scan_number(p, end);
	if (end - p >= 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0))
		return p + 4;
	if (end - p >= 5 && memcmp(p, "false", 5) == 0)
		return p + 5;
	return NULL;
}

/* An object's key and its colon at p: the position after the colon, or NULL. */
static const char *
scan_key(const char *p, const char *end)
{
	p = skip_ws(p, end);
	if (p >= end || *p != '"' || (p = scan_plain_string(p + 1, end)) == NULL)
		return NULL;
	p = skip_ws(p, end);
	return (p < end && *p == ':') ? p + 1 : NULL;
}

/*
 * Is body plain JSON, which PostgreSQL's parser accepts for certain?  RFC
 * 8259's grammar, nesting within RDS_JSON_MAX_DEPTH, strings without
 * \u0000 or \u surrogates.  One pass, no allocation.  False means "not
 * known": PostgreSQL's parser decides.  (This is a subset of what
 * pg_parse_json accepts; the API's pages are in it.)
 */
static bool
is_plain_json(const char *p, size_t len)
{
	const char *end = p + len;
	char		stack[RDS_JSON_MAX_DEPTH];
	int			depth = 0;

	for (;;)
	{
		/* a value is expected */
		p = skip_ws(p, end);
		if (p >= end)
			return false;
		if (*p == '{' || *p == '[')
		{
			char		close = (*p == '{') ? '}' : ']';

			if (depth == RDS_JSON_MAX_DEPTH)
				return false;
			p = skip_ws(p + 1, end);
			if (p < end && *p == close)
				p++;
			else
			{
				stack[depth++] = close;
				if (close == '}' && (p = scan_key(p, end)) == NULL)
					return false;
				continue;
			}
		}
		else if ((p = scan_scalar(p, end)) == NULL)
			return false;

		/* a value ended: close containers, or go on after a comma */
		for (;;)
		{
			p = skip_ws(p, end);
			if (depth == 0)
				return p == end;
			if (p >= end)
				return false;
			if (*p == stack[depth - 1])
			{
				depth--;
				p++;
				continue;
			}
			if (*p != ',')
				return false;
			p++;
			if (stack[depth - 1] == '}' && (p = scan_key(p, end)) == NULL)
				return false;
			break;
		}
	}
}

/*
 * Parse a whole body into a json-c tree, or return NULL and set *why.
 * The caller owns the tree (json_object_put).  *plain (if not NULL) says
 * whether is_plain_json passed the body: then no string in it holds
 * \u0000.
 */
static struct json_object *
parse_body(const char *body, size_t len, const char **why, bool *plain)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	JsonLexContext lexbuf;
	JsonLexContext *lex;

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

	/*
	 * A new tokener for each body: json_tokener_reset leaves a lone high
	 * surrogate's state behind (json-c 0.16), so a reused one decodes the
	 * same string differently after such a body.  malloc'd by json-c;
	 * nothing may throw while it or a partial tree is held.
	 */
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
	 * jsonb_in then refuse; json-c 0.18 runs without it.  PostgreSQL's own
	 * parser has the last word, asked only when is_plain_json cannot vouch
	 * for the body (what it passes, pg_parse_json accepts).  Neither can
	 * throw here: without de-escaping pg_parse_json allocates nothing, and
	 * json-c has already bounded the nesting.
	 */
	if (plain)
		*plain = false;
	if (root != NULL && is_plain_json(body, len))
	{
		if (plain)
			*plain = true;
	}
	else if (root != NULL && pg_parse_json(lex, &nullSemAction) != JSON_SUCCESS)
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
 * rds_task_field_no
 *		The position of a task field in rds_task_fields, or -1.
 */
int
rds_task_field_no(const char *name)
{
	int			f;

	for (f = 0; f < RDS_NTASK_FIELDS; f++)
		if (name[0] == rds_task_fields[f].name[0] &&
			strcmp(name, rds_task_fields[f].name) == 0)
			return f;
	return -1;
}

/*
 * The field number of a member name, trying first the field that had this
 * position in the task before (the API writes every task's members in the
 * same order), then the table.  guess is updated.
 */
static inline int
member_field_no(const char *key, int8 *guess)
{
	int			f = *guess;

	if (f >= 0)
	{
		/* inline: the names are short, and a call costs more than this */
		const char *k = key;
		const char *name = rds_task_fields[f].name;

		while (*name != '\0' && *k == *name)
			k++, name++;
		if (*k == '\0' && *name == '\0')
			return f;
	}
	f = rds_task_field_no(key);
	*guess = (int8) f;
	return f;
}

/*
 * Where the strings of an image being built go: the image, and the offset
 * of its free space.
 */
typedef struct ImageWriter
{
	RdsPageImage *img;
	uint32		used;
	uint32		cap;			/* bytes allocated */
} ImageWriter;

/* Copy s (len bytes, then a NUL) into the image and point slot at it. */
static inline void
put_string(ImageWriter *w, RdsSlot *slot, const char *s, size_t len)
{
	if (len >= w->cap - w->used)	/* page_image's bound rules this out */
		elog(ERROR, "page image overflow");
	memcpy((char *) w->img + w->used, s, len);
	((char *) w->img)[w->used + len] = '\0';
	slot->state = SLOT_STRING;
	slot->off = w->used;
	slot->len = (uint32) len;
	w->used += (uint32) len + 1;
}

/*
 * One walk over a task object's members into its slots (zeroed by the
 * caller).  Members that are no task field are skipped.  no_nul: the body
 * holds no \u0000, so no string needs its length checked.  order: the
 * field numbers of the previous task's members by position (-1: none),
 * RDS_NTASK_FIELDS + 1 of them.
 */
static void
fill_slots(ImageWriter *w, RdsSlot *slots, struct json_object *task,
		   bool no_nul, int8 *order)
{
	int			k = 0;

	json_object_object_foreach(task, key, val)
	{
		int			f;
		RdsSlot    *slot;

		f = member_field_no(key, &order[Min(k, RDS_NTASK_FIELDS)]);
		k++;
		if (f < 0 || val == NULL)
			continue;			/* not a task field, or null */
		slot = &slots[f];
		if (!json_object_is_type(val, json_type_string))
		{
			slot->state = SLOT_OTHER;
			slot->type = (uint8) json_object_get_type(val);
		}
		else
		{
			const char *s = json_object_get_string(val);
			int			len = json_object_get_string_len(val);

			if (!no_nul && strlen(s) != (size_t) len)
				slot->state = SLOT_NUL;
			else if (len > 0)
				put_string(w, slot, s, len);
		}
	}
}

/* total_count of a page's root: *tc (-1 if absent); false if malformed */
static bool
read_total_count(struct json_object *root, int64 *tc)
{
	struct json_object *val;

	*tc = -1;
	if (!json_object_object_get_ex(root, "total_count", &val) ||
		json_object_is_type(val, json_type_null))
		return true;
	if (json_object_is_type(val, json_type_int))
	{
		errno = 0;
		*tc = json_object_get_int64(val);
		if (errno != 0)
			*tc = -1;
	}
	else if (json_object_is_type(val, json_type_string))
	{
		const char *s = json_object_get_string(val);
		char	   *end;

		errno = 0;
		*tc = strtoll(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0')
			*tc = -1;
	}
	return *tc >= 0;
}

/*
 * The image of a page's json-c tree (body_len: the length of the body it
 * came from), palloc'd; NULL with v->fault set when the tree is not a page
 * of the API's.  plain: the body holds no \u0000.  want_raw: keep each
 * task's raw JSON too.  Throws only if out of memory; the caller owns and
 * releases the tree.
 */
static RdsPageImage *
page_image(struct json_object *root, size_t body_len, bool plain,
		   bool want_raw, PageVerdict *v)
{
	struct json_object *tasks;
	struct json_object *actions = NULL;
	const char **raw = NULL;
	size_t	   *raw_len = NULL;
	size_t		bound;
	int64		total;
	int			n;
	int			nactions;
	int			nslots;
	int			i;
	int8		order[RDS_NTASK_FIELDS + 1];
	ImageWriter w;
	RdsSlot    *slot;

	if (!json_object_is_type(root, json_type_object))
	{
		v->fault = FAULT_NOT_OBJECT;
		return NULL;
	}
	if (!json_object_object_get_ex(root, "tasks", &tasks) ||
		!json_object_is_type(tasks, json_type_array))
	{
		v->fault = FAULT_NO_TASKS;
		return NULL;
	}
	n = (int) json_object_array_length(tasks);
	for (i = 0; i < n; i++)
	{
		if (!json_object_is_type(json_object_array_get_idx(tasks, i),
								 json_type_object))
		{
			v->fault = FAULT_TASK;
			v->index = i;
			return NULL;
		}
	}
	if (!read_total_count(root, &total))
	{
		v->fault = FAULT_TOTAL_COUNT;
		return NULL;
	}
	if (json_object_object_get_ex(root, "actions", &actions) &&
		json_object_is_type(actions, json_type_array))
		nactions = (int) json_object_array_length(actions);
	else
	{
		actions = NULL;
		nactions = 0;
	}

	/*
	 * The strings kept are decoded from string tokens of the body, none
	 * twice, each one shorter than its token with the quotes: the body's
	 * length bounds them with their NULs.  Raw JSON is json-c's printing of
	 * each task, measured first.
	 */
	nslots = n * RDS_NTASK_FIELDS + (want_raw ? n : 0) + nactions;
	bound = offsetof(RdsPageImage, slots) + sizeof(RdsSlot) * (Size) nslots +
		body_len + 1;
	if (want_raw)
	{
		raw = palloc(sizeof(char *) * Max(n, 1));
		raw_len = palloc(sizeof(size_t) * Max(n, 1));
		for (i = 0; i < n; i++)
		{
			raw[i] = json_object_to_json_string_length(json_object_array_get_idx(tasks, i),
													   JSON_C_TO_STRING_PLAIN |
													   JSON_C_TO_STRING_NOSLASHESCAPE,
													   &raw_len[i]);
			if (raw[i] == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
			bound += raw_len[i] + 1;
		}
	}
	if (bound >= MaxAllocSize)
	{
		v->fault = FAULT_JSON;
		v->why = "body too large";
		return NULL;
	}

	w.img = palloc(bound);
	w.cap = (uint32) bound;
	w.used = offsetof(RdsPageImage, slots) + sizeof(RdsSlot) * (Size) nslots;
	memset(w.img, 0, w.used);
	w.img->magic = RDS_IMAGE_MAGIC;
	w.img->total_count = total;
	w.img->ntasks = n;
	w.img->nactions = nactions;
	w.img->flags = want_raw ? RDS_IMAGE_RAW : 0;
	w.img->nslots = nslots;

	memset(order, -1, sizeof(order));
	slot = w.img->slots;
	for (i = 0; i < n; i++, slot += RDS_NTASK_FIELDS)
		fill_slots(&w, slot, json_object_array_get_idx(tasks, i), plain, order);
	for (i = 0; want_raw && i < n; i++, slot++)
		put_string(&w, slot, raw[i], raw_len[i]);
	for (i = 0; i < nactions; i++, slot++)
	{
		struct json_object *a = json_object_array_get_idx(actions, i);
		const char *s;
		int			len;

		if (a == NULL || !json_object_is_type(a, json_type_string))
			continue;
		s = json_object_get_string(a);
		len = json_object_get_string_len(a);
		if (len > 0 && strlen(s) == (size_t) len)
			put_string(&w, slot, s, len);
	}
	w.img->size = w.used;
	if (raw)
	{
		pfree(raw);
		pfree(raw_len);
	}
	return w.img;
}

/*
 * The image of a task-list page's body, palloc'd in CurrentMemoryContext,
 * or NULL with *v saying why the body is not one.  json-c's tree lives only
 * while the image is made.  Throws only if out of memory.
 */
static RdsPageImage *
decode_image(const char *body, size_t len, bool want_raw, PageVerdict *v)
{
	struct json_object *volatile root;
	RdsPageImage *volatile img = NULL;
	bool		plain;

	memset(v, 0, sizeof(PageVerdict));
	root = parse_body(body, len, &v->why, &plain);
	if (root == NULL)
	{
		v->fault = FAULT_JSON;
		return NULL;
	}
	PG_TRY();
	{
		img = page_image(root, len, plain, want_raw, v);
	}
	PG_FINALLY();
	{
		json_object_put(root);
	}
	PG_END_TRY();
	return img;
}

/*
 * rds_page_encode
 *		The image of a task-list page's body, as the shared cache stores it
 *		(with each task's raw JSON if want_raw), palloc'd in
 *		CurrentMemoryContext; *size gets its length.  NULL when the body is
 *		not a page of the API's (rds_page_parse then says why).  Throws only
 *		if out of memory.
 */
char *
rds_page_encode(const char *body, size_t len, bool want_raw, size_t *size)
{
	PageVerdict v;
	RdsPageImage *img = decode_image(body, len, want_raw, &v);

	*size = img ? img->size : 0;
	return (char *) img;
}

/* The page of an image, whose bytes it keeps (not copied). */
static RdsPage *
page_of_image(const RdsPageImage *img, const char *request_desc,
			  const char *server)
{
	RdsPage    *page = palloc(sizeof(RdsPage));
	const RdsSlot *after = img->slots + (Size) img->ntasks * RDS_NTASK_FIELDS;

	page->img = img;
	page->raw = (img->flags & RDS_IMAGE_RAW) ? after : NULL;
	page->actions = after + ((img->flags & RDS_IMAGE_RAW) ? img->ntasks : 0);
	page->desc = pstrdup(request_desc);
	page->server = pstrdup(server ? server : "?");
	return page;
}

/*
 * Decode one task-list page from foreign server server (want_raw: keep
 * each task's raw JSON for rds_page_task_json).  Throws ERROR (naming
 * request_desc, with a context line naming the server) when the body is
 * not JSON or not the expected envelope.  The result belongs to
 * CurrentMemoryContext; the body is not referenced afterwards.
 */
RdsPage *
rds_page_parse(const char *body, size_t len, bool want_raw,
			   const char *request_desc, const char *server)
{
	PageVerdict v;
	RdsPageImage *img = decode_image(body, len, want_raw, &v);
	const char *srv = server ? server : "?";

	if (v.fault == FAULT_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("invalid JSON in the response to %s: %s",
						request_desc, v.why),
				 errdetail_internal("The body (%zu bytes) is not shown: it is not the API's.",
									len),
				 errcontext("foreign server \"%s\"", srv)));
	if (v.fault != FAULT_NONE)
	{
		const char *what;

		if (v.fault == FAULT_NOT_OBJECT)
			what = "the body is not a JSON object";
		else if (v.fault == FAULT_NO_TASKS)
			what = "\"tasks\" is missing or not an array";
		else if (v.fault == FAULT_TASK)
			what = psprintf("element %d of \"tasks\" is not an object", v.index);
		else
			what = "\"total_count\" is not a non-negative integer";
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("unexpected response to %s: %s", request_desc, what),
				 errcontext("foreign server \"%s\"", srv)));
	}
	return page_of_image(img, request_desc, server);
}

/* Is slot a valid string slot of an image of size bytes? */
static inline bool
slot_ok(const char *base, uint32 strings, uint32 size, const RdsSlot *slot)
{
	if (slot->state != SLOT_STRING)
		return slot->state <= SLOT_OTHER;
	return slot->off >= strings && slot->off < size &&
		slot->len < size - slot->off && base[slot->off + slot->len] == '\0';
}

/*
 * rds_page_image_ok
 *		Whether bytes (size of them, MAXALIGNed) look like a page image of
 *		this build's layout: its header only.  A shared cache entry that
 *		does not (one written by another version) is no answer.
 */
bool
rds_page_image_ok(const char *bytes, size_t size)
{
	const RdsPageImage *img = (const RdsPageImage *) bytes;

	return size >= offsetof(RdsPageImage, slots) &&
		img->magic == RDS_IMAGE_MAGIC && img->size == size;
}

/*
 * rds_page_from_image
 *		The page of an image made by rds_page_encode (want_raw: the image
 *		must hold raw JSON), whose bytes (MAXALIGNed) it keeps, for messages
 *		naming request_desc and server.  Every slot is checked against the
 *		image's bounds: an image that fails is an internal ERROR (the
 *		shared cache's copy is damaged).
 */
RdsPage *
rds_page_from_image(const char *bytes, size_t size, bool want_raw,
					const char *request_desc, const char *server)
{
	const RdsPageImage *img = (const RdsPageImage *) bytes;
	uint32		strings;
	uint32		i;

	if (!rds_page_image_ok(bytes, size) || img->ntasks < 0 ||
		img->nactions < 0 || img->total_count < -1 ||
		(want_raw && !(img->flags & RDS_IMAGE_RAW)) ||
		(uint64) img->nslots != (uint64) img->ntasks * RDS_NTASK_FIELDS +
		((img->flags & RDS_IMAGE_RAW) ? (uint64) img->ntasks : 0) +
		(uint64) img->nactions ||
		img->nslots > (size - offsetof(RdsPageImage, slots)) / sizeof(RdsSlot))
		goto damaged;
	strings = offsetof(RdsPageImage, slots) + sizeof(RdsSlot) * img->nslots;
	for (i = 0; i < img->nslots; i++)
		if (!slot_ok(bytes, strings, img->size, &img->slots[i]))
			goto damaged;
	return page_of_image(img, request_desc, server);

damaged:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("unexpected response to %s: the entry is damaged",
					request_desc),
			 errhint("Run SELECT rds_task_fdw_cache_clear()."),
			 errcontext("foreign server \"%s\"", server ? server : "?")));
	return NULL;				/* keep the compiler quiet */
}

int
rds_page_ntasks(RdsPage *page)
{
	return page->img->ntasks;
}

/* total_count of the page, or -1 when the response had none. */
int64
rds_page_total_count(RdsPage *page)
{
	return page->img->total_count;
}

/*
 * rds_page_task_value
 *		The value of field number field (RdsTaskFieldNo) of task i as a C
 *		string, or NULL when the field is missing, null or "".  *len (if
 *		not NULL) gets its length.  The API sends every task field as a
 *		string; any other JSON type, or a string containing \u0000 (which
 *		no text value can hold), is an ERROR naming the request.  The string
 *		lives as long as the page.
 */
const char *
rds_page_task_value(RdsPage *page, int i, int field, int *len)
{
	const RdsSlot *slot;

	Assert(i >= 0 && i < page->img->ntasks);
	Assert(field >= 0 && field < RDS_NTASK_FIELDS);
	slot = &page->img->slots[(Size) i * RDS_NTASK_FIELDS + field];
	if (likely(slot->state == SLOT_STRING))
	{
		if (len)
			*len = (int) slot->len;
		return (const char *) page->img + slot->off;
	}
	if (slot->state == SLOT_OTHER)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("unexpected response to %s: field \"%s\" of a task is a JSON %s, not a string",
						page->desc, rds_task_fields[field].name,
						json_type_to_name((enum json_type) slot->type)),
				 errcontext("foreign server \"%s\"", page->server)));
	if (slot->state == SLOT_NUL)
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unexpected response to %s: field \"%s\" of a task contains \\u0000",
						page->desc, rds_task_fields[field].name),
				 errcontext("foreign server \"%s\"", page->server)));
	return NULL;
}

/*
 * The value of the task field named field of task i, as
 * rds_page_task_value; NULL for a name that is no task field.
 */
const char *
rds_page_task_field(RdsPage *page, int i, const char *field)
{
	int			f = rds_task_field_no(field);

	return (f < 0) ? NULL : rds_page_task_value(page, i, f, NULL);
}

/*
 * Task i as compact JSON text (json-c's printing), living as long as the
 * page; *len gets its length.  Only a page decoded with want_raw has it.
 */
const char *
rds_page_task_json(RdsPage *page, int i, int *len)
{
	const RdsSlot *slot;

	if (page->raw == NULL)
		elog(ERROR, "page of %s was decoded without raw JSON", page->desc);
	Assert(i >= 0 && i < page->img->ntasks);
	slot = &page->raw[i];
	*len = (int) slot->len;
	return (const char *) page->img + slot->off;
}

int
rds_page_nactions(RdsPage *page)
{
	return page->img->nactions;
}

/*
 * Action i as a string, or NULL for an element that is not a non-empty
 * string without \u0000.
 */
const char *
rds_page_action(RdsPage *page, int i)
{
	const RdsSlot *slot = &page->actions[i];

	Assert(i >= 0 && i < page->img->nactions);
	return (slot->state == SLOT_STRING) ? (const char *) page->img + slot->off : NULL;
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
	root = parse_body(body, len, &why, NULL);
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

	root = parse_body(body, len, &why, NULL);
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
