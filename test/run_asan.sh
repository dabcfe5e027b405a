#!/usr/bin/env bash
# test/run_asan.sh: the pg_regress suites against an AddressSanitizer +
# UndefinedBehaviorSanitizer build of the extension.
#
# What it does, and why this way (Debian 12, PostgreSQL 15, gcc 12; the
# PostgreSQL version is the machine's, test/lib.sh pg_version):
#
#  - Builds a copy of the working tree (so the developer's object files are
#    not touched) with PGXS and COPT="-fsanitize=address,undefined
#    -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g",
#    with_llvm=no (no JIT bitcode).  gcc's runtimes (libasan.so.8,
#    libubsan.so.1) come with gcc itself, so nothing extra is installed.
#  - Installs it with DESTDIR into a private installation tree: a copy of
#    the postgres binary plus symlinks to every other file of the system
#    installation.  PostgreSQL finds $libdir and its share directory
#    relative to its own executable, so that server loads the sanitized
#    rds_task_fdw.so while the system installation, and anyone else's test
#    run, keeps the normal build.  (That is why there is no "reinstall the
#    normal build" step: the normal build is never replaced.)
#  - initdb's a throwaway cluster and starts that postmaster as "postgres"
#    with LD_PRELOAD=libasan.so.8 (the ASan runtime must be loaded before
#    anything else; the postmaster itself is not instrumented) plus a
#    three-line shim defining swift_demangle.  Without the shim the
#    postmaster hangs before main(): the runtime initializes lazily on the
#    first malloc, which comes from a library constructor holding a glibc
#    lock (libp11-kit's newlocale, libgpg-error's bindtextdomain); its
#    dlsym(RTLD_DEFAULT, "swift_demangle") fails, dlerror() translates the
#    message through gettext, and gettext takes the same lock again.  When
#    the symbol exists, dlerror() has nothing to translate.
#    ASAN_OPTIONS: detect_leaks=0 (PostgreSQL keeps memory on purpose until
#    exit), abort_on_error=1, log_path=<work>/sanitizer/asan;
#    UBSAN_OPTIONS: print_stacktrace=1, halt_on_error=1,
#    log_path=<work>/sanitizer/ubsan.  jit=off.
#  - Builds bench/idset_micro (the duplicate filter's check against a
#    reference set, which compiles idset.c into itself) the same way.
#  - Starts the API simulator as test/run_tests.sh does and runs
#    "make installcheck" (the extension's, then bench/idset_micro's) with
#    the same environment (RDS_SIM_HTTP,
#    RDS_SIM_HTTPS, RDS_SIM_CA, RDS_SIM_OTHER_CA, RDS_TEST_DATA).
#  - Prints every sanitizer report and exits non-zero if there is any, or if
#    a suite fails.  The last line is "asan: N suites ok, M failed, R reports".
#
# Valgrind (test/run_valgrind.sh was the alternative) is not used: the
# postmaster and every backend under valgrind --trace-children=yes make the
# suites take many times longer, and its timings upset the suites' timeouts.
#
# Run as root (or with sudo).  KEEP=1 keeps the work directory.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh

bash test/install_deps.sh || { echo "asan: 0 suites ok, 1 failed, 0 reports"; exit 1; }

pgc=$(pg_config_path)
bindir=$($pgc --bindir)
pkglibdir=$($pgc --pkglibdir)
sharedir=$($pgc --sharedir)

libasan=$(gcc -print-file-name=libasan.so)
libasan=$(readlink -f "$libasan")
[ -f "$libasan" ] || { echo "libasan.so not found (gcc's libasan8)"; exit 1; }

work=$(mktemp -d /tmp/rds_task_fdw_asan.XXXXXX)
chmod 755 "$work"
pgpid=""
cleanup() {
  if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then
    runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" stop -m immediate >/dev/null 2>&1 ||
      kill "$pgpid" 2>/dev/null
  fi
  stop_sim
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() { echo "$1"; echo "asan: 0 suites ok, 1 failed, 0 reports"; exit 1; }

echo "== build (ASan + UBSan) in $work/src"
mkdir -p "$work/src"
tar -C "$root" --exclude=./.git --exclude=./fuzz --exclude=./results \
  --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./tmp_check \
  --exclude=./log --exclude=regression.diffs --exclude=regression.out \
  -cf - . | tar -C "$work/src" -xf -
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
(cd "$work/src" && make -s with_llvm=no PG_CONFIG="$pgc" COPT="$san" >"$work/build.log" 2>&1 &&
   make -s with_llvm=no PG_CONFIG="$pgc" COPT="$san" install DESTDIR="$work/inst" >>"$work/build.log" 2>&1 &&
   cd bench/idset_micro &&
   make -s with_llvm=no PG_CONFIG="$pgc" COPT="$san" >>"$work/build.log" 2>&1 &&
   make -s with_llvm=no PG_CONFIG="$pgc" COPT="$san" install DESTDIR="$work/inst" >>"$work/build.log" 2>&1) ||
  { cat "$work/build.log"; fail "build failed"; }
grep -v '^$' "$work/build.log" || true
# (not "ldd | grep -q": with pipefail, grep's early exit fails the pipe)
ldd "$work/inst$pkglibdir/rds_task_fdw.so" >"$work/ldd.out" 2>&1
grep -qE 'libasan' "$work/ldd.out" || fail "rds_task_fdw.so is not linked with libasan"

echo "== private installation tree"
inst="$work/inst"
mkdir -p "$inst$bindir" "$inst$pkglibdir" "$inst$sharedir/extension"
cp "$bindir/postgres" "$inst$bindir/postgres"
link_missing() {		# link_missing FROMDIR TODIR
  local f
  for f in "$1"/*; do
    [ -e "$2/$(basename "$f")" ] || ln -s "$f" "$2/"
  done
}
link_missing "$pkglibdir" "$inst$pkglibdir"
link_missing "$sharedir" "$inst$sharedir"
link_missing "$sharedir/extension" "$inst$sharedir/extension"
chmod -R a+rX "$inst"

# see the header: keeps the ASan runtime's lazy start from deadlocking
cat >"$work/asan_shim.c" <<'EOF'
char *swift_demangle(const char *m, unsigned long l, char *o, unsigned long *ol, unsigned f);
char *swift_demangle(const char *m, unsigned long l, char *o, unsigned long *ol, unsigned f)
{ (void) m; (void) l; (void) o; (void) ol; (void) f; return 0; }
EOF
gcc -shared -fPIC -O2 -o "$work/asan_shim.so" "$work/asan_shim.c" || fail "shim build failed"
chmod 755 "$work/asan_shim.so"

echo "== cluster"
mkdir -p "$work/data" "$work/sock" "$work/sanitizer"
chown postgres: "$work/data" "$work/sock" "$work/sanitizer"
runuser -u postgres -- "$bindir/initdb" -D "$work/data" -A trust -U postgres \
  --no-sync >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log"; fail "initdb failed"; }
port=$(free_port)
cat >>"$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$work/sock'
jit = off
fsync = off
log_min_messages = warning
EOF
runuser -u postgres -- env LD_PRELOAD="$libasan $work/asan_shim.so" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$work/sanitizer/asan:detect_odr_violation=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$work/sanitizer/ubsan" \
  "$inst$bindir/postgres" -D "$work/data" >"$work/server.log" 2>&1 &
for _ in $(seq 1 100); do
  [ -S "$work/sock/.s.PGSQL.$port" ] && break
  sleep 0.2
done
[ -S "$work/sock/.s.PGSQL.$port" ] || { cat "$work/server.log"; fail "the server did not start"; }
pgpid=$(head -n 1 "$work/data/postmaster.pid")
grep -q "$libasan" "/proc/$pgpid/maps" || fail "the postmaster has no ASan runtime loaded"

# self-test: a module whose _PG_init overflows a heap block must leave a
# report, else the sanitizer setup is broken and "0 reports" means nothing
echo "== sanitizer self-test"
cat >"$work/asan_selftest.c" <<'EOF'
#include "postgres.h"
#include "fmgr.h"
PG_MODULE_MAGIC;
void _PG_init(void);
void
_PG_init(void)
{
	char	   *volatile p = malloc(8);

	p[8] = 1;					/* heap-buffer-overflow, on purpose */
	free(p);
}
EOF
gcc -shared -fPIC -g -fsanitize=address -fno-omit-frame-pointer \
  -I"$($pgc --includedir-server)" -o "$work/asan_selftest.so" "$work/asan_selftest.c" ||
  fail "self-test build failed"
chmod 755 "$work/asan_selftest.so"
psql -X -h "$work/sock" -p "$port" -U postgres -d postgres \
  -c "LOAD '$work/asan_selftest.so'" >"$work/selftest.out" 2>&1
for _ in $(seq 1 100); do
  runuser -u postgres -- "$bindir/pg_isready" -q -h "$work/sock" -p "$port" && break
  sleep 0.2
done
mkdir -p "$work/selftest"
found=""
for f in "$work"/sanitizer/*; do
  [ -f "$f" ] || continue
  if grep -q 'heap-buffer-overflow' "$f" && grep -q 'asan_selftest' "$f"; then
    found=$f
    mv "$f" "$work/selftest/"
  fi
done
[ -n "$found" ] || { cat "$work/selftest.out"; ls -l "$work/sanitizer"; fail "the self-test left no ASan report"; }
selftest_pid=${found##*.}
echo "ok: $(basename "$found") reports the deliberate overflow"

echo "== simulator"
start_sim "$work" --tasks 2500 --seed 42 \
  --project 0123456789abcdef0123456789abcdef --project fedcba9876543210fedcba9876543210 \
  --token test-token-0001 --user alice:alice-S3cret-pw:OTC-DOMAIN-1 \
  --aksk AKTESTEXAMPLE000001:SKtestExampleSecretKey0000000000000001 \
  --aksk AKTEMPEXAMPLE000002:SKtempExampleSecretKey0000000000000002:temp-security-token-0002 ||
  fail "the simulator did not start"
export RDS_TEST_DATA="$work/src/test/data"
chmod -R a+rX "$work/src/test/data"

echo "== pg_regress"
(cd "$work/src" && PGHOST="$work/sock" PGPORT="$port" PGUSER=postgres \
   make with_llvm=no PG_CONFIG="$pgc" installcheck) >"$work/regress.out" 2>&1
rc=$?
# the duplicate filter's check against a reference set (bench/idset_micro)
(cd "$work/src/bench/idset_micro" && PGHOST="$work/sock" PGPORT="$port" PGUSER=postgres \
   make with_llvm=no PG_CONFIG="$pgc" installcheck) >>"$work/regress.out" 2>&1 || rc=1
regress_results "$work/regress.out" asan >"$work/regress.res"
sed '$d' "$work/regress.res"
read -r ok bad < <(tail -n 1 "$work/regress.res")
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
  bad=1
  tail -n 30 "$work/regress.out"
fi
if [ "$bad" -gt 0 ]; then
  for d in "$work/src/regression.diffs" "$work/src/bench/idset_micro/regression.diffs"; do
    [ -f "$d" ] && head -n 200 "$d"
  done
fi

# stop the server so that every backend has exited and flushed its reports
runuser -u postgres -- "$bindir/pg_ctl" -D "$work/data" stop -m fast >/dev/null 2>&1
pgpid=""

echo "== sanitizer reports"
reports=0
for f in "$work"/sanitizer/*; do
  [ -s "$f" ] || continue
  reports=$((reports + 1))
  echo "---- $(basename "$f")"
  head -n 80 "$f"
done
# reports that went to stderr instead of a log file
if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$work/server.log"; then
  reports=$((reports + 1))
  echo "---- server.log"
  grep -B2 -A40 -E 'ERROR: AddressSanitizer|runtime error:' "$work/server.log" | head -n 80
fi
# a backend that died without a report (e.g. a plain SIGSEGV) counts too
crashed=$(grep -E 'terminated by signal|was terminated' "$work/server.log" |
  grep -v "(PID $selftest_pid)" || true)
if [ -n "$crashed" ]; then
  reports=$((reports + 1))
  echo "---- crashed backends (server.log)"
  echo "$crashed" | head -n 10
fi
[ "$reports" -eq 0 ] && echo "none"

echo "asan: $ok suites ok, $bad failed, $reports reports"
[ "$reports" -eq 0 ] && [ "$bad" -eq 0 ]
