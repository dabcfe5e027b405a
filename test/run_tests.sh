#!/usr/bin/env bash
# test/run_tests.sh: the whole test suite from a fresh clone.
#
# Installs missing packages, builds and installs the extension, starts the
# API simulator (HTTP and HTTPS), runs the simulator's self-tests, every
# pg_regress suite in a throwaway cluster (pg_virtualenv) and the TAP tests
# in t/ (each with its own cluster and simulator), and ends with the line
# "N passed, M failed".  Run as root (or with sudo available).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. test/lib.sh

bash test/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d /tmp/rds_task_fdw_test.XXXXXX)
chmod 755 "$work"
trap 'stop_sim; rm -rf "$work"' EXIT

passed=0
failed=0

# run_tap_tests DIR: every t/*.pl with prove, as the user "postgres" when run
# as root (initdb refuses root), from a copy of t/ and test/ in DIR that user
# owns.  Each assertion counts; a file that fails or dies without a failed
# assertion counts as one failure.  RDS_LOAD_DURATION (30) is t/005's run.
run_tap_tests() {
  local dir="$1" f name rc ok bad
  local pgbin; pgbin="$(pg_config_15 --bindir)"
  local pgxs; pgxs="$(dirname "$(pg_config_15 --pgxs)")/.."
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
    printf 't/%-20s %3d passed, %d failed\n' "$name.pl" "$ok" "$bad"
    grep -E '^# (load: |cancel latencies|[0-9]+ scans|(contexts|VmRSS|VmHWM|RssAnon|fds): )' \
      "$dir/$name.out" | sed 's/^# /    /'
    if [ "$bad" -gt 0 ]; then
      grep -E '^not ok|^#' "$dir/$name.out" | head -n 60
      tail -n 20 "$dir/$name.out"
      tail -n 80 "$dir/tmp_check/log/regress_log_$name" 2>/dev/null
    fi
    passed=$((passed + ok)); failed=$((failed + bad))
  done
}

# pg_config_15: PostgreSQL 15's pg_config (the one pg_virtualenv -v 15 uses)
pg_config_15() {
  if [ -x /usr/lib/postgresql/15/bin/pg_config ]; then
    /usr/lib/postgresql/15/bin/pg_config "$@"
  else
    pg_config "$@"
  fi
}

echo "== build"
if build_and_install; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "build failed"; echo "$passed passed, $failed failed"; exit 1
fi

echo "== simulator self-tests"
python3 test/test_sim.py >"$work/sim_tests.out" 2>&1
rc=$?
tail -n 5 "$work/sim_tests.out"
n=$(grep -Eo '^Ran [0-9]+ test' "$work/sim_tests.out" | grep -Eo '[0-9]+' || echo 0)
nf=$(grep -Eo '(failures|errors)=[0-9]+' "$work/sim_tests.out" | awk -F= '{s += $2} END {print s + 0}')
if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then nf=1; fi
passed=$((passed + n - nf)); failed=$((failed + nf))

echo "== pg_regress"
start_sim "$work" --tasks 2500 --seed 42 \
  --project 0123456789abcdef0123456789abcdef --project fedcba9876543210fedcba9876543210 \
  --token test-token-0001 --user alice:alice-S3cret-pw:OTC-DOMAIN-1 \
  --aksk AKTESTEXAMPLE000001:SKtestExampleSecretKey0000000000000001 \
  --aksk AKTEMPEXAMPLE000002:SKtempExampleSecretKey0000000000000002:temp-security-token-0002 || {
  echo "$passed passed, $((failed + 1)) failed"; exit 1; }
export RDS_TEST_DATA="$root/test/data"
chmod -R a+rX "$root/test/data"

pg_virtualenv -t -v 15 -o "port=$(free_port)" make installcheck >"$work/regress.out" 2>&1
rc=$?
cat "$work/regress.out" | grep -E '^(test | +[a-z_]+ +\.\.\.)|\.\.\. (ok|FAILED|failed)' || true
ok=$(grep -cE '\.\.\. +ok' "$work/regress.out")
bad=$(grep -cE '\.\.\. +(FAILED|failed)' "$work/regress.out")
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
  bad=1
  tail -n 30 "$work/regress.out"
fi
if [ "$bad" -gt 0 ] && [ -f regression.diffs ]; then
  head -n 300 regression.diffs
fi
passed=$((passed + ok)); failed=$((failed + bad))

# Random queries through the FDW and over a local copy, compared row for
# row; the seed is printed (replay: DIFF_SEEDS=<seed>).
echo "== differential"
pg_virtualenv -t -v 15 -o "port=$(free_port)" \
  bash test/run_differential.sh >"$work/differential.out" 2>&1
rc=$?
grep -E '^differential: ' "$work/differential.out"
if [ "$rc" -eq 0 ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  grep -E -A 40 '^DIFFERENCE' "$work/differential.out" | head -n 200
  grep -q '^DIFFERENCE' "$work/differential.out" || tail -n 30 "$work/differential.out"
fi

echo "== TAP tests"
run_tap_tests "$work/tap"

# The pg_regress suites again, with the extension built with ASan and UBSan.
echo "== sanitizers"
bash test/run_asan.sh >"$work/asan.out" 2>&1
rc=$?
grep -E '^asan: ' "$work/asan.out" || tail -n 30 "$work/asan.out"
ok=$(grep -Eo '^asan: [0-9]+ suites ok' "$work/asan.out" | grep -Eo '[0-9]+' || echo 0)
if [ "$rc" -eq 0 ]; then
  passed=$((passed + ok))
else
  failed=$((failed + 1)); passed=$((passed + ok))
  tail -n 60 "$work/asan.out"
fi

# A short run of the response decoder's fuzz target over its corpus.
echo "== fuzz"
bash test/run_fuzz.sh "${RDS_FUZZ_SECONDS:-30}" >"$work/fuzz.out" 2>&1
rc=$?
grep -E '^fuzz: ' "$work/fuzz.out" || tail -n 30 "$work/fuzz.out"
if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); tail -n 40 "$work/fuzz.out"; fi

# The Debian package: build, install, query, remove (reinstalls the build).
echo "== debian package"
bash test/test_deb.sh >"$work/deb.out" 2>&1
rc=$?
grep -E '^deb: ' "$work/deb.out" || tail -n 30 "$work/deb.out"
if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); tail -n 40 "$work/deb.out"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
