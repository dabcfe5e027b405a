#!/usr/bin/env bash
# test/run_fuzz.sh [SECONDS]: build the libFuzzer target for decode.c
# (fuzz/, ASan + UBSan + LeakSanitizer) and fuzz it for SECONDS (default
# 30) starting from the seed corpus fuzz/corpus with the dictionary
# fuzz/json.dict.
#
# The clang version is RDS_CLANG_VERSION, else the one Debian's "clang"
# package stands for (14 on Debian 12); the PostgreSQL version is the
# machine's (test/lib.sh pg_version, RDS_PG_VERSION).  Installs what is
# missing (clang-N, libclang-rt-N-dev for libFuzzer and the sanitizer
# runtimes, llvm-N for the bitcode tools) through test/install_deps.sh.  New corpus units go to fuzz/out/corpus (kept
# between runs, not committed); crash, leak, timeout and out-of-memory
# inputs go to fuzz/out/artifacts/.  Reproduce one with
#   fuzz/out/fuzz_decode fuzz/out/artifacts/crash-...
# (FUZZ_DECODE_VERBOSE=1 prints what each entry point decoded).
#
# Environment: FUZZ_FORK=N runs N fuzzing processes (libFuzzer -fork=N)
# instead of one.
#
# Exits non-zero on any crash, leak, timeout or out-of-memory; the last
# line is "fuzz: N runs, M crashes".
set -uo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

. test/lib.sh
cv=$(clang_version) || { echo "fuzz: 0 runs, 1 crashes (no clang version)"; exit 1; }
bash test/install_deps.sh "clang-$cv" "libclang-rt-$cv-dev" "llvm-$cv" ||
  { echo "fuzz: 0 runs, 1 crashes (dependencies missing)"; exit 1; }

out="$root/fuzz/out"
echo "== build"
if ! make -s -C fuzz LLVM_SUFFIX="-$cv" PG_CONFIG="$(pg_config_path)" >"$out.build.log" 2>&1; then
  cat "$out.build.log"
  echo "fuzz: 0 runs, 1 crashes (build failed)"
  exit 1
fi
rm -f "$out.build.log"

mkdir -p "$out/corpus" "$out/artifacts"
rm -f "$out/artifacts/"*
log="$out/fuzz.log"

echo "== fuzz for ${seconds}s"
args=(-dict=fuzz/json.dict -max_total_time="$seconds" -rss_limit_mb=2048
      -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/")
if [ "${FUZZ_FORK:-0}" -gt 1 ]; then
  args+=(-fork="$FUZZ_FORK")
fi
# the first directory receives new units; fuzz/corpus is only read
"$out/fuzz_decode" "${args[@]}" "$out/corpus" fuzz/corpus >"$log" 2>&1
rc=$?

# the last status line: "#N  ...  cov: C ft: F corp: U/S ... exec/s: E ..."
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
runs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#')
units=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
runs=${runs:-0}
if [ -n "$units" ] && [ "$units" -gt "$runs" ]; then runs=$units; fi
echo "${last:-no status line}"
grep -E '^stat::' "$log" || true

crashes=$(find "$out/artifacts" -type f | wc -l)
if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
  crashes=1
fi
if [ "$crashes" -gt 0 ]; then
  echo "== findings"
  grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|contract violation|last ERROR|SUMMARY' "$log" | head -n 20
  grep -A 40 -E '^==[0-9]+==ERROR' "$log" | head -n 60
  ls -l "$out/artifacts"
fi
echo "fuzz: $runs runs, $crashes crashes"
[ "$crashes" -eq 0 ]
