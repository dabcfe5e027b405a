#!/usr/bin/env bash
# test/test_deb.sh: build the Debian package the way a DBA installs the
# extension, install it, use it, remove it.  Run from anywhere, as root (or
# with sudo available).  Ends with "deb: OK" or "deb: FAILED: <reason>" and
# exits non-zero on failure.
#
#  1. installs the build dependencies (apt-get, only what is missing);
#  2. checks that debian/changelog and META.json carry the version of
#     rds_task_fdw.control's default_version (1.1 -> 1.1.0);
#  3. copies the tree (git ls-files: tracked and untracked-but-not-ignored
#     files) to a scratch directory and runs `dpkg-buildpackage -us -uc -b`
#     there, so the work tree is untouched;
#  4. checks the package's file list: the module, the control file and every
#     script of the Makefile's DATA, nothing from test/, bench/, t/, ...;
#     runs lintian when it is installed (its tags are shown, not fatal);
#  5. installs the .deb with `dpkg -i`.  NOTE: this overwrites the files a
#     `make install` of the development tree put under /usr/lib/postgresql/N
#     and /usr/share/postgresql/N/extension; fine on a test machine, and
#     step 8 puts the development build back;
#  6. starts the API simulator (test/lib.sh start_sim, 200 tasks) and, in a
#     throwaway cluster (pg_virtualenv -t -v N), runs CREATE EXTENSION, a
#     server and user mapping for the simulator, IMPORT FOREIGN SCHEMA and
#     SELECT count(id) FROM rds_tasks, which must be 200;
#  7. removes the package (dpkg -r) and checks its files are gone;
#  8. always, also after a failure: `make install` from the real tree, so
#     the machine is left with the development build that the other tests
#     run against.
#
# KEEP=1 keeps the scratch directory (build log, .deb files) and prints it.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh

PGV=$(pg_version) || exit 1
PGC=$(pg_config_path)
PKG="postgresql-$PGV-rds-task-fdw"
PROJECT_ID=0123456789abcdef0123456789abcdef
TOKEN=test-token-0001
NTASKS=200

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

work=$(mktemp -d /tmp/rds_task_fdw_deb.XXXXXX)
chmod 755 "$work"
deb_installed=0

# fail REASON: stop; the cleanup (EXIT trap) restores the machine and prints
# "deb: FAILED: REASON" as the last line.
reason=""
fail() {
  reason="$*"
  exit 1
}

# restore: `make install` from the real tree (the development build).
restored=0
restore() {
  restored=1
  echo "== make install from $root (the development build)"
  make -s -C "$root" PG_CONFIG="$PGC" >"$work/make.log" 2>&1 &&
    $SUDO make -s -C "$root" PG_CONFIG="$PGC" install >>"$work/make.log" 2>&1 \
    || { tail -n 20 "$work/make.log"; return 1; }
}

cleanup() {
  local rc=$?
  stop_sim
  if [ "$deb_installed" -eq 1 ]; then
    echo "== removing $PKG (cleanup)"
    $SUDO dpkg -r "$PKG" >/dev/null 2>&1 || true
  fi
  if [ "$restored" -eq 0 ] && ! restore; then
    echo "make install from the work tree failed: no rds_task_fdw is installed now" >&2
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
  if [ "$rc" -eq 0 ]; then
    echo "deb: OK"
  else
    echo "deb: FAILED: ${reason:-interrupted (exit $rc)}"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mk_var VAR: the value of a variable of the top-level Makefile (PGXS
# included), e.g. DATA; the Makefile decides what is installed.
mk_var() {
  make -s --no-print-directory -C "$root" --eval="print-var-$1: ; @echo \$($1)" "print-var-$1"
}

echo "== build dependencies"
bash test/install_deps.sh debhelper dpkg-dev fakeroot postgresql-server-dev-all \
  || fail "installing build dependencies"
dpkg-checkbuilddeps debian/control || fail "build dependencies missing (dpkg-checkbuilddeps)"

echo "== versions"
default_version=$(sed -nE "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'([^']+)'.*/\1/p" rds_task_fdw.control)
[ -n "$default_version" ] || fail "no default_version in rds_task_fdw.control"
case "$default_version" in
  *.*.*) want="$default_version" ;;
  *) want="$default_version.0" ;;
esac
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version) || fail "debian/changelog unreadable"
echo "default_version $default_version, debian/changelog $deb_version"
[ "${deb_version%-*}" = "$want" ] \
  || fail "debian/changelog is at $deb_version, rds_task_fdw.control's default_version is $default_version: add an entry for $want to debian/changelog"
python3 - "$want" <<'EOF' || fail "META.json does not match default_version (see above)"
import json, os, sys
want = sys.argv[1]
m = json.load(open("META.json"))
errs = []
if m.get("version") != want:
    errs.append("META.json version %r, expected %r" % (m.get("version"), want))
p = m.get("provides", {}).get("rds_task_fdw", {})
if p.get("version") != want:
    errs.append("META.json provides.rds_task_fdw.version %r, expected %r" % (p.get("version"), want))
for k in ("file", "docfile"):
    if not os.path.isfile(p.get(k, "")):
        errs.append("META.json provides.rds_task_fdw.%s %r does not exist" % (k, p.get(k)))
for e in errs:
    print(e, file=sys.stderr)
sys.exit(1 if errs else 0)
EOF
# debian/control is generated for Debian 12's PostgreSQL; on a machine that
# supports those versions it must be up to date, elsewhere (Debian 13, sid)
# the scratch copy gets one for the machine's versions, as a rebuild there
# would.
control_versions=$(sed -nE 's/^Package: postgresql-([0-9]+)-rds-task-fdw$/\1/p' debian/control | sort -n | tr '\n' ' ')
machine_versions=$(pg_buildext supported-versions debian 2>/dev/null | sort -n | tr '\n' ' ')
echo "debian/control for PostgreSQL ${control_versions:-none}; this machine builds for ${machine_versions:-none}"
[ -n "$machine_versions" ] || fail "pg_buildext supported-versions: no version this machine can build for"
update_control=0
if [ "$control_versions" = "$machine_versions" ]; then
  pg_buildext checkcontrol >/dev/null || fail "debian/control is out of date: run 'pg_buildext updatecontrol'"
else
  update_control=1
fi

echo "== dpkg-buildpackage in a scratch copy"
src="$work/rds-task-fdw-$want"
mkdir -p "$src"
# tracked files plus new ones not yet committed (not the ignored build
# products); a file that vanished meanwhile (a compiler's temporary) is
# skipped.  Without git (a copy of the tree in a root filesystem), every
# file but build products.
source_files() {
  if git rev-parse --git-dir >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . -type f ! -path './.git/*' ! -name '*.o' ! -name '*.so' ! -name '*.bc' \
      ! -path './results/*' ! -path './tmp_check/*' ! -path './log/*' ! -path './fuzz/out/*' \
      ! -name regression.diffs ! -name regression.out -printf '%P\0'
  fi
}
source_files | while IFS= read -r -d '' f; do
  case "$f" in *.tmp) continue ;; esac
  [ -f "$f" ] || continue
  mkdir -p "$src/$(dirname "$f")"
  cp -p "$f" "$src/$f"
done
[ -f "$src/debian/rules" ] || fail "debian/rules missing in the scratch copy"
if [ "$update_control" -eq 1 ]; then
  (cd "$src" && pg_buildext updatecontrol) >/dev/null || fail "pg_buildext updatecontrol"
fi
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  fail "dpkg-buildpackage (log above)"
fi
grep -E '^dpkg-deb: building package' "$work/build.log"
deb=$(ls "$work/${PKG}_${want}"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no ${PKG}_${want}_*.deb built"

echo "== package contents"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' >"$work/files"
cat "$work/files"
want_files=("/usr/lib/postgresql/$PGV/lib/rds_task_fdw.so"
            "/usr/share/postgresql/$PGV/extension/rds_task_fdw.control")
data=$(mk_var DATA) || fail "cannot read DATA from the Makefile"
[ -n "$data" ] || fail "the Makefile's DATA is empty"
for f in $data; do want_files+=("/usr/share/postgresql/$PGV/extension/$(basename "$f")"); done
for f in "${want_files[@]}"; do
  grep -qxF "$f" "$work/files" || fail "$f is not in the package"
done
stray=$(grep -vE "^/usr/lib/postgresql/$PGV/lib/|^/usr/share/postgresql/$PGV/extension/rds_task_fdw[.-]|^/usr/share/doc/$PKG/" "$work/files")
[ -z "$stray" ] || fail "unexpected files in the package: $(echo $stray)"
! grep -qE '/(test|bench|t|fuzz|demo|sql|expected)/' "$work/files" || fail "test files in the package"
dpkg-deb -f "$deb" Package Version Depends

if command -v lintian >/dev/null; then
  echo "== lintian"
  lintian --fail-on none "$work"/rds-task-fdw_"$want"_*.changes 2>&1 | grep -v 'running with root privileges' || true
else
  echo "== lintian not installed: skipped"
fi

echo "== dpkg -i $(basename "$deb")"
deb_installed=1
if ! $SUDO dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
  # dependencies the machine lacks: let apt bring them, then configure
  cat "$work/dpkg-i.log"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -f -y -qq >/dev/null 2>&1 || true
fi
dpkg-query -W -f='${Status} ${Version}\n' "$PKG" 2>/dev/null | grep -q "^install ok installed $want\$" \
  || fail "$PKG $want is not installed after dpkg -i"
for f in "${want_files[@]}"; do
  [ -f "$f" ] || fail "$f missing after dpkg -i"
  dpkg -S "$f" 2>/dev/null | grep -q "^$PKG:" || fail "$f is not owned by $PKG"
done
$SUDO dpkg --verify "$PKG" || fail "dpkg --verify $PKG: installed files differ from the package"
echo "installed: ${want_files[*]}"

echo "== CREATE EXTENSION and a query against the simulator"
start_sim "$work/sim" --tasks "$NTASKS" --token "$TOKEN" || fail "the simulator did not start"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/test.sql" <<'EOF'
\set ON_ERROR_STOP 1
CREATE EXTENSION rds_task_fdw;
SELECT 'extversion ' || extversion FROM pg_extension WHERE extname = 'rds_task_fdw';
SELECT 'library ' || rds_task_fdw_version();
CREATE SERVER sim FOREIGN DATA WRAPPER rds_task_fdw
  OPTIONS (endpoint :'endpoint', project_id :'project_id');
CREATE USER MAPPING FOR CURRENT_USER SERVER sim OPTIONS (auth_token :'token');
IMPORT FOREIGN SCHEMA otc FROM SERVER sim INTO public;
SELECT 'count ' || count(id) FROM rds_tasks;
EOF
pg_virtualenv -t -v "$PGV" -o "port=$port" \
  psql -X -At -v endpoint="$RDS_SIM_HTTP" -v project_id="$PROJECT_ID" -v token="$TOKEN" \
       -f "$work/test.sql" >"$work/psql.out" 2>&1
rc=$?
cat "$work/psql.out"
[ "$rc" -eq 0 ] || fail "psql under pg_virtualenv exited $rc"
grep -qxF "extversion $default_version" "$work/psql.out" \
  || fail "CREATE EXTENSION did not install version $default_version"
count=$(sed -n 's/^count //p' "$work/psql.out")
[ "$count" = "$NTASKS" ] || fail "SELECT count(id) FROM rds_tasks returned '${count}', expected $NTASKS"
echo "SELECT count(id) FROM rds_tasks = $count"
stop_sim

echo "== dpkg -r $PKG"
$SUDO dpkg -r "$PKG" >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; fail "dpkg -r $PKG"; }
deb_installed=0
for f in "${want_files[@]}"; do
  [ ! -e "$f" ] || fail "$f still there after dpkg -r"
done

restore || fail "make install from the work tree ($root) after dpkg -r"
exit 0
