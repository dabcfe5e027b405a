#!/usr/bin/env bash
# fuzz/pg_bitcode.sh OUT.o BITCODE_DIR LLVM_SUFFIX CC [CFLAGS...]
#
# Builds the backend's real date/time parsing code (ParseDateTime,
# DecodeDateTime, tm2timestamp and what they call) into one object file,
# for linking with decode.c outside the server.  The code is taken from the
# LLVM bitcode the PostgreSQL package installs for JIT inlining
# (pkglibdir/bitcode/postgres/utils/adt/*.bc), so it is exactly the code
# of the installed server:
#
#   llvm-extract  the needed functions and what they call, with the data
#   opt           internalize everything else, drop what is unused
#   llvm-link     one module
#   sed           mark every defined function sanitize_address (clang adds
#                 that attribute in its front end, so IR would otherwise not
#                 be instrumented by -fsanitize=address)
#   clang -c      compile with the harness's sanitizer/coverage flags
#
# (ConvertTimeZoneAbbrevs and InstallTimeZoneAbbrevs load the installed
# timezonesets/Default abbreviations, as the backend does at start.)
# The remaining undefined symbols (pg_tzset, session_timezone, errstart,
# ...) are provided by fuzz/pg_stubs.c and libpgcommon/libpgport.
set -euo pipefail

out="$1"; bc="$2"; v="$3"; cc="$4"; shift 4
adt="$bc/utils/adt"
for f in datetime timestamp date; do
  [ -r "$adt/$f.bc" ] || {
    echo "pg_bitcode.sh: $adt/$f.bc not found (the postgresql-15 package ships it)" >&2
    exit 1
  }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# extract MODULE "public,symbols" funcs...
extract() {
  local mod="$1" keep="$2"; shift 2
  local args=()
  for fn in "$@"; do args+=(--func="$fn"); done
  "llvm-extract$v" --recursive "${args[@]}" --rglob='.*' "$adt/$mod.bc" -o "$tmp/$mod.x.bc"
  "opt$v" --internalize-public-api-list="$keep" -passes='internalize,globaldce' \
    "$tmp/$mod.x.bc" -o "$tmp/$mod.i.bc"
}

extract datetime "ParseDateTime,DecodeDateTime,date2j,j2date,ConvertTimeZoneAbbrevs,InstallTimeZoneAbbrevs" \
  ParseDateTime DecodeDateTime date2j j2date ConvertTimeZoneAbbrevs InstallTimeZoneAbbrevs
extract timestamp "tm2timestamp,timestamp2tm,dt2time" \
  tm2timestamp timestamp2tm dt2time
extract date "time_overflows" time_overflows

"llvm-link$v" "$tmp/datetime.i.bc" "$tmp/timestamp.i.bc" "$tmp/date.i.bc" -o "$tmp/pgdate.bc"
"llvm-dis$v" "$tmp/pgdate.bc" -o "$tmp/pgdate.ll"

# attribute groups used by function definitions get sanitize_address
groups=$(grep -E '^define ' "$tmp/pgdate.ll" | grep -oE '#[0-9]+ \{$' | grep -oE '[0-9]+' | sort -u | tr '\n' ' ')
for g in $groups; do
  sed -i -E "s/^attributes #$g = \\{ /attributes #$g = { sanitize_address /" "$tmp/pgdate.ll"
done
"llvm-as$v" "$tmp/pgdate.ll" -o "$tmp/pgdate.asan.bc"

# clang warns that IR input ignores some C flags; that is expected
"$cc" "$@" -Wno-unused-command-line-argument -c "$tmp/pgdate.asan.bc" -o "$out"
