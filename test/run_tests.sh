#!/usr/bin/env bash
# test/run_tests.sh: the whole test suite from a fresh clone.
#
# Installs missing packages, builds and installs the extension, starts the
# API simulator (HTTP and HTTPS), runs the simulator's self-tests and every
# pg_regress suite in a throwaway cluster (pg_virtualenv), and ends with
# the line "N passed, M failed".  Run as root (or with sudo available).
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

pg_virtualenv -v 15 make installcheck >"$work/regress.out" 2>&1
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
