#!/usr/bin/env bash
# test/run_tests.sh: the whole test suite from a fresh clone.
#
#   bash test/run_tests.sh [--pg VERSION] [--stages LIST] [--label NAME]
#
# Installs missing packages, builds (-Werror) and installs the extension for
# the machine's PostgreSQL (test/lib.sh pg_version; --pg or RDS_PG_VERSION
# choose another installed one), starts the API simulator (HTTP and HTTPS),
# and runs the stages of LIST (comma-separated; default all, in this order):
#
#   build         the warnings-clean build and install
#   sim           the simulator's self-tests
#   regress       every pg_regress suite in a throwaway cluster (pg_virtualenv),
#                 and the duplicate filter's check against a reference set
#                 (bench/idset_micro, a separate module the build stage makes)
#   differential  random queries, FDW against a local copy
#   drivers       pgJDBC and psqlODBC (pyodbc) against the FDW: rows and the
#                 requests the simulator logged (test/drivers/run.sh)
#   bi            the SQL Grafana (dashboards/grafana), Superset and Metabase
#                 generate: rows against a local copy, and each panel's
#                 requests against its hand-written form's (test/bi_panels.py)
#   tap           the TAP tests in t/ (each with its own cluster and simulator)
#   asan          the pg_regress suites against an ASan + UBSan build
#   fuzz          a short libFuzzer run of the response decoder
#   deb           the Debian package: build, install, query, remove
#   matrix        regress, differential, tap and deb again on other PostgreSQL
#                 versions, each in a Debian root filesystem (test/rootfs.sh):
#                 RDS_MATRIX, default "bookworm:15 trixie:17 sid:18" less the
#                 machine's own version (so "trixie:17 sid:18" on Debian 12);
#                 RDS_MATRIX="" skips it
#
# Each result line is prefixed with the label (default pgVERSION), and the
# run ends with one line per version and the total "N passed, M failed".
# Run as root (or with sudo available).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh

stages="build,sim,regress,differential,drivers,bi,tap,asan,fuzz,deb,matrix"
label=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) export RDS_PG_VERSION="$2"; shift 2 ;;
    --stages) stages="$2"; shift 2 ;;
    --label) label="$2"; shift 2 ;;
    *) echo "usage: $0 [--pg VERSION] [--stages LIST] [--label NAME]" >&2; exit 2 ;;
  esac
done
want() { case ",$stages," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

bash test/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }
pgv=$(pg_version) || { echo "0 passed, 1 failed"; exit 1; }
label="${label:-pg$pgv}"
pgc=$(pg_config_path)

work=$(mktemp -d /tmp/rds_task_fdw_test.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

passed=0
failed=0
summary=()      # one "label: N passed, M failed" line per version

# count OK BAD: add a stage's results
count() {
  passed=$((passed + $1)); failed=$((failed + $2))
}

# run_tap_tests DIR: every t/*.pl with prove, as the user "postgres" when run
# as root (initdb refuses root), from a copy of t/ and test/ in DIR that user
# owns.  Each assertion counts; a file that fails or dies without a failed
# assertion counts as one failure.  RDS_LOAD_DURATION (30) is t/005's run.
run_tap_tests() {
  local dir="$1" f name rc ok bad
  local pgbin; pgbin="$($pgc --bindir)"
  local pgxs; pgxs="$(dirname "$($pgc --pgxs)")/.."
  local as=()
  mkdir -p "$dir/tree"
  cp -r t test "$dir/tree/"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  for f in t/*.pl; do
    name=$(basename "$f" .pl)
    (cd "$dir/tree" && "${as[@]}" env PATH="$pgbin:$PATH" TESTDIR="$dir" \
       PG_REGRESS="$pgxs/test/regress/pg_regress" \
       RDS_LOAD_DURATION="${RDS_LOAD_DURATION:-30}" \
       prove -v -I "$pgxs/test/perl" -I t "t/$name.pl") >"$dir/$name.out" 2>&1
    rc=$?
    ok=$(grep -cE '^ok [0-9]+' "$dir/$name.out")
    bad=$(grep -cE '^not ok [0-9]+' "$dir/$name.out")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    printf '%s t/%-20s %3d passed, %d failed\n' "$label" "$name.pl" "$ok" "$bad"
    grep -E '^# (load: |cancel latencies|federation: |[0-9]+ scans|(contexts|VmRSS|VmHWM|RssAnon|fds): )' \
      "$dir/$name.out" | sed 's/^# /    /'
    if [ "$bad" -gt 0 ]; then
      grep -E '^not ok|^#' "$dir/$name.out" | head -n 60
      tail -n 20 "$dir/$name.out"
      tail -n 80 "$dir/tmp_check/log/regress_log_$name" 2>/dev/null
    fi
    count "$ok" "$bad"
  done
}

# run_matrix: the matrix stage (see the header)
run_matrix() {
  local entry suite ver dir log t0 t1 line ok bad
  local base="${RDS_ROOTFS_DIR:-/var/tmp/rds_rootfs}"
  for entry in $matrix; do
    suite="${entry%%:*}"; ver="${entry##*:}"
    dir="$base/$suite-$ver"
    log="$work/matrix-$suite-$ver.log"
    t0=$(date +%s)
    echo "== pg$ver: Debian $suite root filesystem ($dir)"
    if ! bash test/rootfs.sh build "$suite" "$ver" "$dir" >"$log" 2>&1; then
      tail -n 30 "$log"
      echo "pg$ver: the root filesystem could not be built"
      count 0 1; summary+=("pg$ver: 0 passed, 1 failed (no root filesystem)")
      continue
    fi
    # a clean copy of the tree: the host's build products stay out
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    tar -C "$root" --exclude=./.git --exclude=./results --exclude=./tmp_check \
      --exclude=./log --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
      --exclude=./fuzz/out --exclude=regression.diffs --exclude=regression.out \
      -cf - . | tar -C "$dir/src" -xf -
    bash test/rootfs.sh run "$dir" bash -c "cd /src && RDS_LOAD_DURATION=${RDS_LOAD_DURATION:-30} \
      bash test/run_tests.sh --pg $ver --stages build,regress,differential,tap,deb --label pg$ver" \
      >>"$log" 2>&1
    t1=$(date +%s)
    # the results and what the inner run printed about failures
    sed -n '/^== build$/,$p' "$log" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
      tail -n 40 "$log"
      line="0 passed, 1 failed"
    fi
    ok=${line%% passed*}; bad=${line#*, }; bad=${bad%% failed*}
    count "$ok" "$bad"
    summary+=("pg$ver: $ok passed, $bad failed (Debian $suite, $((t1 - t0)) s)")
  done
}

t_start=$(date +%s)
host_passed=0
host_failed=0

if want build; then
  echo "== build"
  echo "$label: PostgreSQL $($pgc --version | awk '{print $2}'), $(gcc --version | head -n 1)," \
    "libcurl $(curl-config --version | awk '{print $2}'), json-c $(pkg-config --modversion json-c)"
  if build_and_install && build_idset_check; then
    echo "$label build ... ok"
    count 1 0
  else
    echo "$label build ... FAILED"
    count 0 1
    echo "$passed passed, $failed failed"; exit 1
  fi
fi

if want sim; then
  echo "== simulator self-tests"
  python3 test/test_sim.py >"$work/sim_tests.out" 2>&1
  rc=$?
  tail -n 5 "$work/sim_tests.out"
  n=$(grep -Eo '^Ran [0-9]+ test' "$work/sim_tests.out" | grep -Eo '[0-9]+' || echo 0)
  nf=$(grep -Eo '(failures|errors)=[0-9]+' "$work/sim_tests.out" | awk -F= '{s += $2} END {print s + 0}')
  if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; fi
  count $((n - nf)) "$nf"
fi

if want regress || want differential || want drivers || want bi; then
  start_sim "$work" --tasks 2500 --seed 42 \
    --project 0123456789abcdef0123456789abcdef --project fedcba9876543210fedcba9876543210 \
    --token test-token-0001 --user alice:alice-S3cret-pw:OTC-DOMAIN-1 \
    --aksk AKTESTEXAMPLE000001:SKtestExampleSecretKey0000000000000001 \
    --aksk AKTEMPEXAMPLE000002:SKtempExampleSecretKey0000000000000002:temp-security-token-0002 || {
    echo "$passed passed, $((failed + 1)) failed"; exit 1; }
  export RDS_TEST_DATA="$root/test/data"
  chmod -R a+rX "$root/test/data"
fi

if want regress; then
  echo "== pg_regress"
  # the extension's suites, then the duplicate filter's check (its module
  # is built and installed by the build stage, or here if that did not run)
  want build || build_idset_check >"$work/idset_build.out" 2>&1 || cat "$work/idset_build.out"
  pg_virtualenv -t -v "$pgv" -o "port=$(free_port)" bash -c \
    "make installcheck PG_CONFIG='$pgc'; rc=\$?; make -C bench/idset_micro installcheck PG_CONFIG='$pgc' || rc=1; exit \$rc" \
    >"$work/regress.out" 2>&1
  rc=$?
  regress_results "$work/regress.out" "$label" >"$work/regress.res"
  sed '$d' "$work/regress.res"
  read -r ok bad < <(tail -n 1 "$work/regress.res")
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
    bad=1
    tail -n 30 "$work/regress.out"
  fi
  if [ "$bad" -gt 0 ]; then
    for d in regression.diffs bench/idset_micro/regression.diffs; do
      [ -f "$d" ] && head -n 300 "$d"
    done
  fi
  count "$ok" "$bad"
fi

# Random queries through the FDW and over a local copy, compared row for
# row; the seed is printed (replay: DIFF_SEEDS=<seed>).
if want differential; then
  echo "== differential"
  pg_virtualenv -t -v "$pgv" -o "port=$(free_port)" \
    bash test/run_differential.sh >"$work/differential.out" 2>&1
  rc=$?
  grep -E '^differential: ' "$work/differential.out" | sed "s/^/$label /"
  if [ "$rc" -eq 0 ]; then
    echo "$label differential ... ok"
    count 1 0
  else
    echo "$label differential ... FAILED"
    count 0 1
    grep -E -A 40 '^DIFFERENCE' "$work/differential.out" | head -n 200
    grep -q '^DIFFERENCE' "$work/differential.out" || tail -n 30 "$work/differential.out"
  fi
fi

# Real clients: a Java program over pgJDBC, a Python one over psqlODBC.
if want drivers; then
  echo "== drivers"
  pg_virtualenv -t -v "$pgv" -o "port=$(free_port)" bash test/drivers/run.sh \
    >"$work/drivers.out" 2>&1
  rc=$?
  grep -E '^not ok|^drivers: ' "$work/drivers.out" | sed "s/^/$label /"
  ok=$(grep -cE '^ok [0-9]+' "$work/drivers.out")
  bad=$(grep -cE '^not ok' "$work/drivers.out")
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; tail -n 30 "$work/drivers.out"; fi
  count "$ok" "$bad"
fi

# The panels of BI tools: rows, and requests against the hand-written form.
if want bi; then
  echo "== BI panels"
  pg_virtualenv -t -v "$pgv" -o "port=$(free_port)" /usr/bin/python3 test/bi_panels.py \
    >"$work/bi.out" 2>&1
  rc=$?
  grep -E '^not ok|^# bi: |^bi: ' "$work/bi.out" | sed "s/^/$label /"
  ok=$(grep -cE '^ok [0-9]+' "$work/bi.out")
  bad=$(grep -cE '^not ok' "$work/bi.out")
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; tail -n 30 "$work/bi.out"; fi
  count "$ok" "$bad"
fi
stop_sim

if want tap; then
  echo "== TAP tests"
  run_tap_tests "$work/tap"
fi

# The pg_regress suites again, with the extension built with ASan and UBSan.
if want asan; then
  echo "== sanitizers"
  bash test/run_asan.sh >"$work/asan.out" 2>&1
  rc=$?
  grep -E '^asan: ' "$work/asan.out" | sed "s/^/$label /" || tail -n 30 "$work/asan.out"
  ok=$(grep -Eo '^asan: [0-9]+ suites ok' "$work/asan.out" | grep -Eo '[0-9]+' || echo 0)
  if [ "$rc" -eq 0 ]; then
    count "$ok" 0
  else
    count "$ok" 1
    tail -n 60 "$work/asan.out"
  fi
fi

# A short run of the response decoder's fuzz target over its corpus.
if want fuzz; then
  echo "== fuzz"
  bash test/run_fuzz.sh "${RDS_FUZZ_SECONDS:-30}" >"$work/fuzz.out" 2>&1
  rc=$?
  grep -E '^fuzz: ' "$work/fuzz.out" | sed "s/^/$label /" || tail -n 30 "$work/fuzz.out"
  if [ "$rc" -eq 0 ]; then count 1 0; else count 0 1; tail -n 40 "$work/fuzz.out"; fi
fi

# The Debian package: build, install, query, remove (reinstalls the build).
if want deb; then
  echo "== debian package"
  bash test/test_deb.sh >"$work/deb.out" 2>&1
  rc=$?
  grep -E '^deb: ' "$work/deb.out" | sed "s/^/$label /" || tail -n 30 "$work/deb.out"
  if [ "$rc" -eq 0 ]; then count 1 0; else count 0 1; tail -n 40 "$work/deb.out"; fi
fi

host_passed=$passed
host_failed=$failed
summary=("$label: $host_passed passed, $host_failed failed ($(($(date +%s) - t_start)) s)")

matrix="${RDS_MATRIX-$(for e in bookworm:15 trixie:17 sid:18; do
                         [ "${e##*:}" = "$pgv" ] || echo "$e"; done)}"
if want matrix && [ -n "$matrix" ]; then
  t_matrix=$(date +%s)
  run_matrix
  summary+=("matrix: $(($(date +%s) - t_matrix)) s")
fi

printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
