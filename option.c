/*-------------------------------------------------------------------------
 *
 * option.c
 *		  The options of rds_task_fdw: one table saying where each option is
 *		  allowed and how its value is checked, the validator that applies it
 *		  when options are set, and the resolution table > server > user
 *		  mapping into an RdsOptions for a scan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "rds_task_fdw.h"

/* Where an option may appear: a bit per catalog. */
#define OPT_SERVER		0x01
#define OPT_MAPPING		0x02
#define OPT_TABLE		0x04
#define OPT_COLUMN		0x08

typedef enum RdsOptionKind
{
	OK_URL,						/* endpoint, auth_url */
	OK_PROXY,					/* proxy: http(s)://host[:port] */
	OK_PROJECT,					/* project_id: a path segment */
	OK_IDENT,					/* region: letters, digits, "-", "_", "." */
	OK_INT,						/* integer in [min, max] */
	OK_BOOL,					/* true | false (and what parse_bool takes) */
	OK_PATH,					/* absolute file path */
	OK_RESOURCE,				/* tasks | actions */
	OK_TEXT						/* any non-empty string */
} RdsOptionKind;

typedef struct RdsOptionDef
{
	const char *name;
	int			where;
	RdsOptionKind kind;
	int			min;
	int			max;
	bool		secret;			/* accepted only in user mappings */
	bool		superuser_only; /* a non-superuser may only keep its value */
} RdsOptionDef;

static const RdsOptionDef rds_option_defs[] = {
	{"endpoint", OPT_SERVER, OK_URL},
	{"project_id", OPT_SERVER, OK_PROJECT},
	{"region", OPT_SERVER, OK_IDENT},
	{"auth_url", OPT_SERVER, OK_URL},
	{"ca_file", OPT_SERVER, OK_PATH, 0, 0, false, true},
	{"proxy", OPT_SERVER, OK_PROXY, 0, 0, false, true},
	{"connect_timeout", OPT_SERVER, OK_INT, 1, 3600},
	{"request_timeout", OPT_SERVER, OK_INT, 1, 86400},
	{"max_retries", OPT_SERVER, OK_INT, 0, 10},
	{"max_concurrent_requests", OPT_SERVER, OK_INT, 0, 1024},
	{"parallel_requests", OPT_SERVER | OPT_TABLE, OK_INT, 1, 32},
	{"page_size", OPT_SERVER | OPT_TABLE, OK_INT, 1, RDS_MAX_PAGE_SIZE},
	{"cache_ttl", OPT_SERVER | OPT_TABLE, OK_INT, 0, RDS_CACHE_TTL_MAX},
	{"use_remote_estimate", OPT_SERVER | OPT_TABLE, OK_BOOL},
	{"analyze_sample_pages", OPT_SERVER | OPT_TABLE, OK_INT, 1, 1000},
	{"resource", OPT_TABLE, OK_RESOURCE},
	{"auth_token", OPT_MAPPING, OK_TEXT, 0, 0, true},
	{"user_name", OPT_MAPPING, OK_TEXT},
	{"password", OPT_MAPPING, OK_TEXT, 0, 0, true},
	{"domain_name", OPT_MAPPING, OK_TEXT},
	{"access_key", OPT_MAPPING, OK_TEXT},
	{"secret_key", OPT_MAPPING, OK_TEXT, 0, 0, true},
	{"security_token", OPT_MAPPING, OK_TEXT, 0, 0, true},
	{"column_name", OPT_COLUMN, OK_TEXT},
	{NULL}
};

/* Defaults, as README.md's options table gives them. */
#define DEFAULT_CONNECT_TIMEOUT		10
#define DEFAULT_REQUEST_TIMEOUT		60
#define DEFAULT_MAX_RETRIES			3
#define DEFAULT_PARALLEL_REQUESTS	4
#define DEFAULT_PAGE_SIZE			RDS_MAX_PAGE_SIZE
#define DEFAULT_CACHE_TTL			0
#define DEFAULT_ANALYZE_SAMPLE_PAGES	20

/*
 * The longest project_id accepted.  Real ones are 32 hex digits (SPEC.md's
 * example); API.md states no format, so the check is for what makes a safe
 * path segment and header value, with room to spare.
 */
#define MAX_PROJECT_ID_LEN			64

/*
 * rds_task_fdw.allowed_hosts: host patterns a non-superuser's endpoint and
 * auth_url may name.  The default covers the public API domains of Open
 * Telekom Cloud (also the Swiss *.sc.otc.t-systems.com) and Huawei Cloud.
 */
#define DEFAULT_ALLOWED_HOSTS \
	"*.otc.t-systems.com, *.myhuaweicloud.com, *.huaweicloud.com"

static char *rds_allowed_hosts = NULL;

extern PGDLLEXPORT void _PG_init(void);

/* The parts of an http(s) URL that the options care about. */
typedef struct RdsUrl
{
	char	   *scheme;
	char	   *host;			/* without brackets for IPv6 */
	char	   *port;			/* NULL when absent */
	char	   *path;			/* "" when absent, never ends in '/' */
} RdsUrl;

PG_FUNCTION_INFO_V1(rds_task_fdw_validator);

static int
catalog_bit(Oid catalog)
{
	switch (catalog)
	{
		case ForeignServerRelationId:
			return OPT_SERVER;
		case UserMappingRelationId:
			return OPT_MAPPING;
		case ForeignTableRelationId:
			return OPT_TABLE;
		case AttributeRelationId:
			return OPT_COLUMN;
		default:
			return 0;			/* the wrapper itself takes no options */
	}
}

static const char *
catalog_noun(int bit)
{
	switch (bit)
	{
		case OPT_SERVER:
			return "a server";
		case OPT_MAPPING:
			return "a user mapping";
		case OPT_TABLE:
			return "a foreign table";
		case OPT_COLUMN:
			return "a column";
		default:
			return "the foreign-data wrapper";
	}
}

static const RdsOptionDef *
find_option(const char *name)
{
	const RdsOptionDef *def;

	for (def = rds_option_defs; def->name; def++)
		if (strcmp(def->name, name) == 0)
			return def;
	return NULL;
}

/* "a, b, c" of the options valid where 'bit' says, for a hint. */
static char *
valid_option_list(int bit)
{
	StringInfoData buf;
	const RdsOptionDef *def;

	initStringInfo(&buf);
	for (def = rds_option_defs; def->name; def++)
	{
		if (!(def->where & bit))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, def->name);
	}
	return buf.data;
}

/*
 * Split an http(s) URL.  Returns NULL on success, else a reason.  No
 * userinfo, query or fragment is accepted: a server option is readable by
 * anyone with USAGE, so credentials in a URL would leak.
 */
static const char *
parse_url(const char *url, RdsUrl *out)
{
	const char *p;
	const char *hostend;
	const char *authend;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "https://", 8) == 0)
	{
		out->scheme = "https";
		p = url + 8;
	}
	else if (strncmp(url, "http://", 7) == 0)
	{
		out->scheme = "http";
		p = url + 7;
	}
	else
		return "the URL must start with https:// (or http:// for a loopback host)";

	authend = p + strcspn(p, "/?#");
	if (*authend == '?' || *authend == '#' || strchr(authend, '?') || strchr(authend, '#'))
		return "the URL must not contain a query or a fragment";
	if (memchr(p, '@', authend - p))
		return "the URL must not contain user information";

	if (*p == '[')
	{
		hostend = memchr(p, ']', authend - p);
		if (hostend == NULL)
			return "unterminated IPv6 address";
		out->host = pnstrdup(p + 1, hostend - p - 1);
		hostend++;
	}
	else
	{
		hostend = p + strcspn(p, ":/");
		if (hostend > authend)
			hostend = authend;
		out->host = pnstrdup(p, hostend - p);
	}
	if (out->host[0] == '\0')
		return "the URL has no host";
	if (strspn(out->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:") !=
		strlen(out->host))
		return "the host name contains invalid characters";

	if (hostend < authend)
	{
		char	   *end;
		long		port;

		if (*hostend != ':' || hostend + 1 == authend)
			return "invalid port";
		out->port = pnstrdup(hostend + 1, authend - hostend - 1);
		errno = 0;
		port = strtol(out->port, &end, 10);
		if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
			return "invalid port";
	}

	out->path = pstrdup(authend);
	while (strlen(out->path) > 0 && out->path[strlen(out->path) - 1] == '/')
		out->path[strlen(out->path) - 1] = '\0';
	return NULL;
}

/*
 * Is host a loopback name or address: localhost and its subdomains (RFC
 * 6761; libcurl resolves them to loopback itself), 127.0.0.0/8 or ::1?
 */
static bool
is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t		len = strlen(host);

	if (pg_strcasecmp(host, "localhost") == 0 ||
		(len > 10 && pg_strcasecmp(host + len - 10, ".localhost") == 0))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static bool
is_ip_address(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	return inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

/*
 * Why the path of a URL (parse_url's, without the trailing '/') cannot be
 * used, or NULL.  Only unreserved characters and '/', and no "." or ".."
 * segment: libcurl would remove those, and AK/SK would sign a path that is
 * not the one sent.
 */
static const char *
path_problem(const char *path)
{
	const char *seg = path;

	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/") !=
		strlen(path))
		return "the URL path may contain only letters, digits, \"-\", \".\", \"_\", \"~\" and \"/\"";
	while (*seg)
	{
		size_t		len;

		seg += strspn(seg, "/");
		len = strcspn(seg, "/");
		if ((len == 1 && seg[0] == '.') ||
			(len == 2 && seg[0] == '.' && seg[1] == '.'))
			return "the URL path must not contain \".\" or \"..\" segments";
		seg += len;
	}
	return NULL;
}

/* Does value contain a control character (a byte below 0x20, or 0x7f)? */
static bool
has_control_chars(const char *value)
{
	const unsigned char *p;

	for (p = (const unsigned char *) value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/*
 * Is name a DNS host name (or, with wildcard, "*." and one): labels of
 * letters, digits and "-", none empty?
 */
static bool
is_host_name(const char *name, bool wildcard)
{
	const char *p = name;
	size_t		label = 0;

	if (wildcard && strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0')
		return false;
	for (; *p; p++)
	{
		if (*p == '.')
		{
			if (label == 0)
				return false;
			label = 0;
		}
		else if (isalnum((unsigned char) *p) || *p == '-')
			label++;
		else
			return false;
	}
	return label > 0;
}

/*
 * One entry of rds_task_fdw.allowed_hosts, split: "*.otc.t-systems.com",
 * "rds.example.org:8443", "192.0.2.1", "[2001:db8::1]:443".
 */
typedef struct RdsHostPattern
{
	char	   *host;			/* lower case, no brackets, "*." kept */
	int			port;			/* 0 = the standard port only */
} RdsHostPattern;

/*
 * Parse the allowed_hosts list (entries separated by commas or white
 * space).  Returns NULL and a List of RdsHostPattern in *patterns, or the
 * reason the list is invalid.  Allocates in CurrentMemoryContext; never
 * throws, so that the GUC check hook can use it.
 */
static const char *
parse_allowed_hosts(const char *list, List **patterns)
{
	const char *p = list;

	*patterns = NIL;
	for (;;)
	{
		const char *start;
		const char *hostend;
		size_t		len;
		char	   *entry;
		RdsHostPattern *pat;
		char	   *c;

		while (*p == ',' || isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			return NULL;
		start = p;
		while (*p && *p != ',' && !isspace((unsigned char) *p))
			p++;
		len = p - start;
		entry = pnstrdup(start, len);
		pat = palloc0(sizeof(RdsHostPattern));
		if (strstr(entry, "://") != NULL)
			return psprintf("\"%s\" is a URL, not a host", entry);

		if (entry[0] == '[')
		{
			hostend = strchr(entry, ']');
			if (hostend == NULL)
				return psprintf("unterminated IPv6 address in \"%s\"", entry);
			pat->host = pnstrdup(entry + 1, hostend - entry - 1);
			hostend++;
			if (!is_ip_address(pat->host) || strchr(pat->host, ':') == NULL)
				return psprintf("\"%s\" is not an IPv6 address", entry);
		}
		else
		{
			hostend = entry + strcspn(entry, ":");
			pat->host = pnstrdup(entry, hostend - entry);
			if (!is_ip_address(pat->host) && !is_host_name(pat->host, true))
				return psprintf("\"%s\" is not a host name, a \"*.\" pattern or an IP address",
								entry);
		}
		if (*hostend == ':')
		{
			char	   *end;
			long		port;

			errno = 0;
			port = strtol(hostend + 1, &end, 10);
			if (errno != 0 || end == hostend + 1 || *end != '\0' ||
				port < 1 || port > 65535)
				return psprintf("invalid port in \"%s\"", entry);
			pat->port = (int) port;
		}
		else if (*hostend != '\0')
			return psprintf("unexpected text after the host in \"%s\"", entry);

		for (c = pat->host; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
		*patterns = lappend(*patterns, pat);
	}
}

/* Do two IP literals name the same address? */
static bool
same_ip_address(const char *a, const char *b)
{
	unsigned char ba[sizeof(struct in6_addr)];
	unsigned char bb[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, ba) == 1)
		return inet_pton(AF_INET, b, bb) == 1 && memcmp(ba, bb, 4) == 0;
	if (inet_pton(AF_INET6, a, ba) == 1)
		return inet_pton(AF_INET6, b, bb) == 1 &&
			memcmp(ba, bb, sizeof(struct in6_addr)) == 0;
	return false;
}

/*
 * Does the host of url (parsed) match pattern pat?  Host names compare
 * without regard to case; "*." stands for one or more labels; an IP literal
 * matches only the same address listed as such.
 */
static bool
host_matches(const RdsUrl *url, const RdsHostPattern *pat)
{
	if (is_ip_address(url->host) || is_ip_address(pat->host))
		return is_ip_address(url->host) && is_ip_address(pat->host) &&
			same_ip_address(url->host, pat->host);
	if (!is_host_name(url->host, false))
		return false;
	if (strncmp(pat->host, "*.", 2) == 0)
	{
		size_t		hlen = strlen(url->host);
		size_t		slen = strlen(pat->host + 1);	/* ".suffix" */

		return hlen > slen &&
			pg_strcasecmp(url->host + hlen - slen, pat->host + 1) == 0;
	}
	return pg_strcasecmp(url->host, pat->host) == 0;
}

/* Is url's port the one pat allows: its own, else the standard 443? */
static bool
port_matches(const RdsUrl *url, const RdsHostPattern *pat)
{
	long		port = url->port ? strtol(url->port, NULL, 10) : 443;

	return port == (pat->port ? pat->port : 443);
}

/*
 * May a non-superuser's requests go to url?  Only https://, to a host
 * matching rds_task_fdw.allowed_hosts, on the standard port (or the one the
 * pattern names).  Returns NULL if so, else the reason.
 */
static const char *
url_denied_reason(const char *url)
{
	RdsUrl		parsed;
	List	   *patterns;
	ListCell   *lc;
	bool		host_ok = false;

	if (parse_url(url, &parsed) != NULL)
		return "The URL is invalid";
	if (path_problem(parsed.path) != NULL)
		return "The URL path has characters or \".\"/\"..\" segments that are not allowed";
	if (strcmp(parsed.scheme, "https") != 0)
		return "A non-superuser may use only https://";
	if (parse_allowed_hosts(rds_allowed_hosts ? rds_allowed_hosts : "",
							&patterns) != NULL)
		return "The setting rds_task_fdw.allowed_hosts is invalid";
	foreach(lc, patterns)
	{
		RdsHostPattern *pat = (RdsHostPattern *) lfirst(lc);

		if (host_matches(&parsed, pat))
		{
			if (port_matches(&parsed, pat))
				return NULL;
			host_ok = true;
		}
	}
	if (host_ok)
		return "A non-superuser may use only the standard port 443 (or a host:port listed in rds_task_fdw.allowed_hosts)";
	return "The host does not match rds_task_fdw.allowed_hosts";
}

/*
 * The hint for a URL that url_denied_reason refused: the rule, and for an
 * https:// URL the recipe a superuser follows to allow its host (and port).
 * Palloc'd; never throws for a bad URL.
 */
static char *
allowed_hosts_hint(const char *url)
{
	const char *now = rds_allowed_hosts ? rds_allowed_hosts : "";
	RdsUrl		parsed;
	StringInfoData buf;
	StringInfoData list;
	List	   *patterns;

	initStringInfo(&buf);
	appendStringInfo(&buf, "A non-superuser may name only https:// URLs whose host matches rds_task_fdw.allowed_hosts (now \"%s\"), on port 443 unless the matching entry names another as host:port.",
					 now);
	if (parse_url(url, &parsed) != NULL || strcmp(parsed.scheme, "https") != 0 ||
		path_problem(parsed.path) != NULL)
		return buf.data;
	initStringInfo(&list);
	appendStringInfo(&list, "%s%s", now, now[0] ? ", " : "");
	if (strchr(parsed.host, ':') != NULL)
		appendStringInfo(&list, "[%s]", parsed.host);
	else
		appendStringInfoString(&list, parsed.host);
	if (parsed.port != NULL && strtol(parsed.port, NULL, 10) != 443)
		appendStringInfo(&list, ":%s", parsed.port);
	/* only a recipe that the setting's check accepts and that works */
	if (parse_allowed_hosts(list.data, &patterns) == NULL &&
		host_matches(&parsed, llast(patterns)) &&
		port_matches(&parsed, llast(patterns)))
		appendStringInfo(&buf, "  A superuser allows this host with: LOAD 'rds_task_fdw'; ALTER SYSTEM SET rds_task_fdw.allowed_hosts = '%s'; SELECT pg_reload_conf();",
						 list.data);
	return buf.data;
}

static bool
check_allowed_hosts(char **newval, void **extra, GucSource source)
{
	List	   *patterns;
	const char *why = parse_allowed_hosts(*newval ? *newval : "", &patterns);

	if (why != NULL)
	{
		GUC_check_errdetail("%s", why);
		GUC_check_errhint("List host names, \"*.\" domain patterns or IP addresses, each optionally with \":port\", separated by commas.");
		return false;
	}
	return true;
}

/*
 * Module load: the settings rds_task_fdw.allowed_hosts and (cache.c's)
 * rds_task_fdw.cache_size.  (The module has no other global state to set up.)
 */
void
_PG_init(void)
{
	DefineCustomStringVariable("rds_task_fdw.allowed_hosts",
							   "Hosts a non-superuser's endpoint and auth_url may name.",
							   "Comma-separated host names, \"*.domain\" patterns or IP addresses, "
							   "each optionally with \":port\" (else only port 443).  "
							   "Non-superusers may use only https://.",
							   &rds_allowed_hosts,
							   DEFAULT_ALLOWED_HOSTS,
							   PGC_SUSET,
							   0,
							   check_allowed_hosts,
							   NULL,
							   NULL);
	rds_cache_define_settings();
	rds_stats_define_settings();
	MarkGUCPrefixReserved("rds_task_fdw");
}

/*
 * Does a server of this wrapper (validator OID) that the current user owns
 * already carry option name with this value?  The validator sees only the
 * new option list, not which server it is for; an ALTER SERVER that keeps a
 * value finds it here in the server's stored options, while a value a
 * non-superuser invents finds no match.
 */
static bool
owned_server_has_value(Oid validator, const char *name, const char *value)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;
	Oid			userid = GetUserId();

	rel = table_open(ForeignServerRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (!found && HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_foreign_server srv = (Form_pg_foreign_server) GETSTRUCT(tuple);
		Datum		datum;
		bool		isnull;
		ListCell   *lc;

		if (!has_privs_of_role(userid, srv->srvowner) ||
			GetForeignDataWrapper(srv->srvfdw)->fdwvalidator != validator)
			continue;
		datum = heap_getattr(tuple, Anum_pg_foreign_server_srvoptions,
							 RelationGetDescr(rel), &isnull);
		if (isnull)
			continue;
		foreach(lc, untransformRelOptions(datum))
		{
			DefElem    *d = (DefElem *) lfirst(lc);

			if (strcmp(d->defname, name) == 0 &&
				strcmp(defGetString(d), value) == 0)
				found = true;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Check one option value; throws with a hint on a bad one. */
static void
validate_value(const RdsOptionDef *def, const char *value)
{
	switch (def->kind)
	{
		case OK_URL:
			{
				RdsUrl		url;
				const char *why = parse_url(value, &url);

				if (why == NULL)
					why = path_problem(url.path);
				if (why)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
							 errdetail("%s.", why),
							 errhint("Give a URL like https://rds.eu-de.otc.t-systems.com.")));
				if (strcmp(url.scheme, "http") == 0 && !is_loopback_host(url.host))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": plain http is allowed only to a loopback host",
									def->name),
							 errhint("Use https://.")));
				break;
			}
		case OK_PROXY:
			{
				RdsUrl		url;
				const char *why = parse_url(value, &url);

				if (strncmp(value, "http://", 7) != 0 &&
					strncmp(value, "https://", 8) != 0)
					why = "a proxy URL starts with http:// or https://";
				else if (why == NULL && url.path[0] != '\0')
					why = "a proxy URL has no path";
				if (why)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
							 errdetail("%s.", why),
							 errhint("Give http://host:port or https://host:port, without user name or password.")));
				break;
			}
		case OK_PROJECT:
			if (value[0] == '\0' || strlen(value) > MAX_PROJECT_ID_LEN ||
				strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
						 errhint("A project ID has 1 to %d letters, digits, \"-\" or \"_\" (usually 32 hexadecimal digits).",
								 MAX_PROJECT_ID_LEN)));
			break;
		case OK_IDENT:
			if (value[0] == '\0' ||
				strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
						 errhint("Only letters, digits, \"-\", \"_\" and \".\" are allowed.")));
			break;
		case OK_INT:
			{
				char	   *end;
				long		v;

				errno = 0;
				v = strtol(value, &end, 10);
				if (errno != 0 || end == value || *end != '\0' ||
					v < def->min || v > def->max)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
							 errhint("Valid values are integers from %d to %d.", def->min, def->max)));
				break;
			}
		case OK_BOOL:
			{
				bool		b;

				if (!parse_bool(value, &b))
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
							 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
							 errhint("Valid values are true and false.")));
				break;
			}
		case OK_PATH:
			if (!is_absolute_path(value))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
						 errhint("Give an absolute path.")));
			break;
		case OK_RESOURCE:
			if (strcmp(value, "tasks") != 0 && strcmp(value, "actions") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", def->name, value),
						 errhint("Valid values are \"tasks\" and \"actions\".")));
			break;
		case OK_TEXT:
			if (value[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
						 errmsg("option \"%s\" must not be empty", def->name)));
			break;
	}
}

/*
 * Which authentication method a set of user mapping options names:
 * RDS_AUTH_NONE for none at all (pg_dump writes mappings without options,
 * so they must be accepted; a scan through one fails), else exactly one,
 * complete.  Throws on two methods or half of one.
 */
static RdsAuthMethod
auth_method_of(bool token, bool user, bool password, bool domain,
			   bool ak, bool sk, bool st)
{
	int			methods = (token ? 1 : 0) +
		((user || password || domain) ? 1 : 0) +
		((ak || sk || st) ? 1 : 0);

	if (methods == 0)
		return RDS_AUTH_NONE;
	if (methods > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("a user mapping for rds_task_fdw must name at most one way to authenticate"),
				 errhint("Give auth_token; or user_name, password and domain_name; or access_key and secret_key (and security_token for temporary keys).")));
	if (token)
		return RDS_AUTH_TOKEN;
	if (user || password || domain)
	{
		if (!(user && password && domain))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("password authentication needs user_name, password and domain_name")));
		return RDS_AUTH_PASSWORD;
	}
	if (!(ak && sk))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("AK/SK authentication needs access_key and secret_key")));
	return RDS_AUTH_AKSK;
}

/*
 * The validator: every option of a CREATE or ALTER of a server, user
 * mapping, foreign table or column passes here, as the complete list.
 */
Datum
rds_task_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	int			bit = catalog_bit(PG_GETARG_OID(1));
	bool		seen_endpoint = false,
				seen_project = false;
	bool		token = false,
				user = false,
				password = false,
				domain = false,
				ak = false,
				sk = false,
				st = false;
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);
		const RdsOptionDef *def = find_option(d->defname);

		if (def == NULL || !(def->where & bit))
		{
			if (def && def->secret)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						 errmsg("option \"%s\" is accepted only in a user mapping", d->defname),
						 errhint("Secrets belong in CREATE USER MAPPING ... OPTIONS (...).")));
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for %s", d->defname, catalog_noun(bit)),
					 bit == 0 ?
					 errhint("The foreign-data wrapper rds_task_fdw takes no options.") :
					 errhint("Valid options in this context are: %s.", valid_option_list(bit))));
		}

		if (has_control_chars(defGetString(d)))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\": control characters are not allowed",
							def->name),
					 errhint("Remove line breaks, tabs and other control characters from the value.")));

		validate_value(def, defGetString(d));

		/*
		 * A non-superuser may keep, but not choose, the value of a
		 * superuser-only option, or an endpoint or auth_url outside the
		 * allowed hosts (a server a superuser made and handed over): the
		 * value must be one a server they own already has.  Requests are
		 * checked again when they are made (rds_check_connection_allowed).
		 */
		if (!superuser() && (def->superuser_only || def->kind == OK_URL))
		{
			const char *value = defGetString(d);
			const char *why = def->superuser_only ? NULL :
				url_denied_reason(value);

			if ((def->superuser_only || why != NULL) &&
				!owned_server_has_value(fcinfo->flinfo->fn_oid,
										def->name, value))
			{
				if (def->superuser_only)
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("only a superuser may set option \"%s\"", def->name),
							 errdetail("A non-superuser may only keep the value a superuser set.")));
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("only a superuser may set option \"%s\" to \"%s\"",
								def->name, value),
						 errdetail("%s.", why),
						 errhint("%s", allowed_hosts_hint(value))));
			}
		}

		if (strcmp(def->name, "endpoint") == 0)
			seen_endpoint = true;
		else if (strcmp(def->name, "project_id") == 0)
			seen_project = true;
		else if (strcmp(def->name, "auth_token") == 0)
			token = true;
		else if (strcmp(def->name, "user_name") == 0)
			user = true;
		else if (strcmp(def->name, "password") == 0)
			password = true;
		else if (strcmp(def->name, "domain_name") == 0)
			domain = true;
		else if (strcmp(def->name, "access_key") == 0)
			ak = true;
		else if (strcmp(def->name, "secret_key") == 0)
			sk = true;
		else if (strcmp(def->name, "security_token") == 0)
			st = true;
	}

	if (bit == OPT_SERVER && (!seen_endpoint || !seen_project))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("a server for rds_task_fdw needs the options \"endpoint\" and \"project_id\""),
				 errhint("For example: OPTIONS (endpoint 'https://rds.eu-de.otc.t-systems.com', project_id '...').")));
	if (bit == OPT_MAPPING)
		(void) auth_method_of(token, user, password, domain, ak, sk, st);

	PG_RETURN_VOID();
}

static int
int_value(DefElem *d)
{
	return (int) strtol(defGetString(d), NULL, 10);
}

/* Apply the options that a server or a table may carry. */
static void
apply_options(RdsOptions *opts, List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);
		const char *n = d->defname;

		/* stored before 1.2 refused them: never let one reach a request */
		if (has_control_chars(defGetString(d)))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"%s\": control characters are not allowed",
							n),
					 errhint("Set the option again without them.")));

		if (strcmp(n, "endpoint") == 0)
			opts->endpoint = pstrdup(defGetString(d));
		else if (strcmp(n, "project_id") == 0)
			opts->project_id = pstrdup(defGetString(d));
		else if (strcmp(n, "region") == 0)
			opts->region = pstrdup(defGetString(d));
		else if (strcmp(n, "auth_url") == 0)
			opts->auth_url = pstrdup(defGetString(d));
		else if (strcmp(n, "ca_file") == 0)
			opts->ca_file = pstrdup(defGetString(d));
		else if (strcmp(n, "proxy") == 0)
			opts->proxy = pstrdup(defGetString(d));
		else if (strcmp(n, "connect_timeout") == 0)
			opts->connect_timeout = int_value(d);
		else if (strcmp(n, "request_timeout") == 0)
			opts->request_timeout = int_value(d);
		else if (strcmp(n, "max_retries") == 0)
			opts->max_retries = int_value(d);
		else if (strcmp(n, "max_concurrent_requests") == 0)
			opts->max_concurrent_requests = int_value(d);
		else if (strcmp(n, "parallel_requests") == 0)
			opts->parallel_requests = int_value(d);
		else if (strcmp(n, "page_size") == 0)
			opts->page_size = int_value(d);
		else if (strcmp(n, "cache_ttl") == 0)
			opts->cache_ttl = int_value(d);
		else if (strcmp(n, "use_remote_estimate") == 0)
			opts->use_remote_estimate = defGetBoolean(d);
		else if (strcmp(n, "analyze_sample_pages") == 0)
			opts->analyze_sample_pages = int_value(d);
		else if (strcmp(n, "resource") == 0)
			opts->resource = strcmp(defGetString(d), "actions") == 0 ?
				RDS_RESOURCE_ACTIONS : RDS_RESOURCE_TASKS;
		else if (strcmp(n, "auth_token") == 0)
			opts->auth_token = pstrdup(defGetString(d));
		else if (strcmp(n, "user_name") == 0)
			opts->user_name = pstrdup(defGetString(d));
		else if (strcmp(n, "password") == 0)
			opts->password = pstrdup(defGetString(d));
		else if (strcmp(n, "domain_name") == 0)
			opts->domain_name = pstrdup(defGetString(d));
		else if (strcmp(n, "access_key") == 0)
			opts->access_key = pstrdup(defGetString(d));
		else if (strcmp(n, "secret_key") == 0)
			opts->secret_key = pstrdup(defGetString(d));
		else if (strcmp(n, "security_token") == 0)
			opts->security_token = pstrdup(defGetString(d));
	}
}

/*
 * Fill what the options left unset: region from the endpoint's second host
 * label, auth_url from the endpoint with "rds" replaced by "iam".
 */
static void
fill_defaults(RdsOptions *opts)
{
	RdsUrl		url;

	if (opts->endpoint == NULL || opts->project_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("server has no \"endpoint\" or \"project_id\"")));
	if (parse_url(opts->endpoint, &url) != NULL)
		elog(ERROR, "invalid endpoint stored in server options");

	/* canonical endpoint: no trailing slash */
	while (strlen(opts->endpoint) > 0 &&
		   opts->endpoint[strlen(opts->endpoint) - 1] == '/')
		opts->endpoint[strlen(opts->endpoint) - 1] = '\0';

	if (opts->region == NULL && !is_ip_address(url.host))
	{
		const char *dot = strchr(url.host, '.');

		if (dot && dot[1] != '\0')
			opts->region = pnstrdup(dot + 1, strcspn(dot + 1, "."));
	}

	if (opts->auth_url == NULL)
	{
		StringInfoData buf;
		bool		ipv6 = strchr(url.host, ':') != NULL;

		initStringInfo(&buf);
		appendStringInfo(&buf, "%s://", url.scheme);
		if (strncmp(url.host, "rds.", 4) == 0)
			appendStringInfo(&buf, "iam.%s", url.host + 4);
		else
			appendStringInfo(&buf, ipv6 ? "[%s]" : "%s", url.host);
		if (url.port)
			appendStringInfo(&buf, ":%s", url.port);
		appendStringInfoString(&buf, "/v3");
		opts->auth_url = buf.data;
	}
	else
	{
		while (strlen(opts->auth_url) > 0 &&
			   opts->auth_url[strlen(opts->auth_url) - 1] == '/')
			opts->auth_url[strlen(opts->auth_url) - 1] = '\0';
	}

	if (opts->auth_token)
		opts->auth_method = RDS_AUTH_TOKEN;
	else if (opts->user_name)
		opts->auth_method = RDS_AUTH_PASSWORD;
	else if (opts->access_key)
		opts->auth_method = RDS_AUTH_AKSK;
	else
		opts->auth_method = RDS_AUTH_NONE;
}

static RdsOptions *
new_options(void)
{
	RdsOptions *opts = palloc0(sizeof(RdsOptions));

	opts->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	opts->request_timeout = DEFAULT_REQUEST_TIMEOUT;
	opts->max_retries = DEFAULT_MAX_RETRIES;
	opts->parallel_requests = DEFAULT_PARALLEL_REQUESTS;
	opts->page_size = DEFAULT_PAGE_SIZE;
	opts->cache_ttl = DEFAULT_CACHE_TTL;
	opts->analyze_sample_pages = DEFAULT_ANALYZE_SAMPLE_PAGES;
	opts->resource = RDS_RESOURCE_TASKS;
	return opts;
}

/*
 * The effective options of a server for a user, with the user mapping
 * (throws if there is none).  Palloc'd in CurrentMemoryContext.
 */
RdsOptions *
rds_get_server_options(Oid serverid, Oid userid)
{
	RdsOptions *opts = new_options();
	ForeignServer *server = GetForeignServer(serverid);
	UserMapping *um = GetUserMapping(userid, serverid);

	opts->serverid = serverid;
	opts->server_name = pstrdup(server->servername);
	opts->umid = um->umid;
	opts->userid = userid;
	apply_options(opts, server->options);
	apply_options(opts, um->options);
	fill_defaults(opts);
	return opts;
}

/*
 * The effective options of a foreign table for a user: the table's own
 * options override the server's.
 */
RdsOptions *
rds_get_options(Oid foreigntableid, Oid userid)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	RdsOptions *opts = rds_get_server_options(table->serverid, userid);

	apply_options(opts, table->options);
	return opts;
}

/*
 * rds_check_connection_allowed
 *		Throws unless requests may be made with opts: the user mapping must
 *		name a way to authenticate, and when the mapping's user is not a
 *		superuser, the endpoint (and, for password authentication, the IAM
 *		URL, also the one derived from the endpoint) must pass the rule for
 *		non-superusers, whoever set them.  This closes the routes around the
 *		validator: a server made by a superuser and handed over, settings
 *		changed since, options stored by an older version.  Called each time
 *		a connection is handed out.
 */
void
rds_check_connection_allowed(const RdsOptions *opts)
{
	if (opts->auth_method == RDS_AUTH_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("the user mapping for user \"%s\" on server \"%s\" names no way to authenticate",
						GetUserNameFromId(opts->userid, true) ?
						GetUserNameFromId(opts->userid, true) : "?",
						GetForeignServer(opts->serverid)->servername),
				 errhint("Set auth_token; or user_name, password and domain_name; or access_key and secret_key (and security_token for temporary keys) with ALTER USER MAPPING ... OPTIONS (ADD ...).")));

	if (!superuser_arg(opts->userid))
	{
		const char *what[2] = {"endpoint", "auth_url"};
		const char *url[2] = {opts->endpoint,
		opts->auth_method == RDS_AUTH_PASSWORD ? opts->auth_url : NULL};
		int			i;

		for (i = 0; i < 2; i++)
		{
			const char *why = url[i] ? url_denied_reason(url[i]) : NULL;

			/* the URL is not in the message: the detail says what is wrong */

			if (why != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("the %s of server \"%s\" may not be used by non-superuser \"%s\"",
								what[i],
								GetForeignServer(opts->serverid)->servername,
								GetUserNameFromId(opts->userid, true) ?
								GetUserNameFromId(opts->userid, true) : "?"),
						 errdetail("%s.", why),
						 errhint("%s", allowed_hosts_hint(url[i]))));
		}
	}
}

/*
 * The task field a column reads: its column_name option or its name.
 */
const char *
rds_column_field_name(Oid foreigntableid, AttrNumber attnum)
{
	List	   *options = GetForeignColumnOptions(foreigntableid, attnum);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);

		if (strcmp(d->defname, "column_name") == 0)
			return defGetString(d);
	}
	return get_attname(foreigntableid, attnum, false);
}
