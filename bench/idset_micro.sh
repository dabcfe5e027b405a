#!/usr/bin/env bash
# bench/idset_micro.sh: the duplicate filter alone, in a throwaway cluster:
# ns per added id (new, then every one again as a duplicate) and bytes, for
# idset.c (32-hex ids, and 60-byte ids in its string table) against the
# dynahash with 40-byte keys it replaced.  Builds bench/idset_micro (a
# separate module, installed next to the extension).  Run as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/bench/idset_micro"
. "$root/test/lib.sh"
pgc=$(pg_config_path)
make -s PG_CONFIG="$pgc" clean >/dev/null
make -s PG_CONFIG="$pgc"
make -s PG_CONFIG="$pgc" install >/dev/null
cd "$root"
pg_virtualenv -t -v "$(pg_version)" -o "port=$(free_port)" psql -X -q -A -t -v ON_ERROR_STOP=1 <<'SQL'
CREATE FUNCTION idset_micro(int, text) RETURNS text AS 'idset_micro' LANGUAGE C STRICT;
SELECT idset_micro(n, k) FROM (VALUES (100000), (1000000)) s(n),
  (VALUES ('htab40'), ('idset'), ('htab40'), ('idset'), ('idset_long')) t(k);
SQL
