# test/lib.sh: shell helpers shared by the test runner, the demo and the
# benchmarks.  Source it; it defines functions only.

# debian_major PACKAGE: the major version Debian's unversioned PACKAGE
# stands for ("postgresql" -> 15 and "clang" -> 14 on Debian 12)
debian_major() {
  local v
  v=$(apt-cache depends "$1" 2>/dev/null | sed -nE "s/^ *Depends: $1-([0-9]+)\$/\\1/p" | head -n 1)
  if [ -z "$v" ] && [ "$(id -u)" -eq 0 ]; then
    # a new machine or root filesystem may have no package lists yet
    apt-get update -qq >/dev/null 2>&1
    v=$(apt-cache depends "$1" 2>/dev/null | sed -nE "s/^ *Depends: $1-([0-9]+)\$/\\1/p" | head -n 1)
  fi
  echo "$v"
}

# pg_version: the PostgreSQL major version the scripts build and test for:
# RDS_PG_VERSION when set, else the newest server installed, else the one
# Debian's "postgresql" package stands for (a machine with no server yet).
pg_version() {
  local v="${RDS_PG_VERSION:-}"
  [ -n "$v" ] || v=$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null |
                     sed -E 's|^/usr/lib/postgresql/([0-9]+)/.*|\1|' | sort -n | tail -n 1)
  [ -n "$v" ] || v=$(debian_major postgresql)
  [ -n "$v" ] || { echo "no PostgreSQL version found (set RDS_PG_VERSION)" >&2; return 1; }
  echo "$v"
}

# pg_config_path: pg_config of that version
pg_config_path() {
  echo "/usr/lib/postgresql/$(pg_version)/bin/pg_config"
}

# clang_version: the clang major version for the sanitizer and fuzz builds:
# RDS_CLANG_VERSION when set, else the one Debian's "clang" package stands for.
clang_version() {
  local v="${RDS_CLANG_VERSION:-$(debian_major clang)}"
  [ -n "$v" ] || { echo "no clang version found (set RDS_CLANG_VERSION)" >&2; return 1; }
  echo "$v"
}

# build_and_install [DIR]: compile warnings-clean (-Werror) and install
# the extension (or the module in DIR) for pg_version.
build_and_install() {
  local sudo="" pgc dir="${1:-.}"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  pgc=$(pg_config_path)
  make -s -C "$dir" clean PG_CONFIG="$pgc" >/dev/null
  make -s -C "$dir" PG_CONFIG="$pgc" RDS_WERROR=1 2>&1 | { grep -v '^$' || true; }
  [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
  $sudo make -s -C "$dir" install PG_CONFIG="$pgc" >/dev/null
}

# build_idset_check: build_and_install of bench/idset_micro, the module
# whose pg_regress suite checks the duplicate filter (idset.c) against a
# reference set.
build_idset_check() {
  build_and_install "$(dirname "${BASH_SOURCE[0]}")/../bench/idset_micro"
}

# start_sim WORKDIR [simulator options...]: start the simulator over HTTP
# and HTTPS (a throwaway CA in WORKDIR/ca), wait until it listens, and
# export RDS_SIM_HTTP, RDS_SIM_HTTPS, RDS_SIM_CA, RDS_SIM_PID.
start_sim() {
  local work="$1"; shift
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  mkdir -p "$work/ca"
  chmod 755 "$work" "$work/ca"
  bash "$root/test/gen_ca.sh" "$work/ca" >/dev/null 2>&1
  chmod 644 "$work/ca/"*.crt
  rm -f "$work/sim.json"
  python3 "$root/test/rds_sim.py" --bind 127.0.0.1 --http-port 0 --https-port 0 \
    --tls-cert "$work/ca/server.crt" --tls-key "$work/ca/server.key" \
    --ready-file "$work/sim.json" --log-file "$work/sim.log" "$@" \
    >"$work/sim.out" 2>&1 &
  RDS_SIM_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$work/sim.json" ] && break
    kill -0 "$RDS_SIM_PID" 2>/dev/null || { cat "$work/sim.out" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$work/sim.json" ] || { echo "simulator did not start" >&2; cat "$work/sim.out" >&2; return 1; }
  local http https
  http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$work/sim.json")
  https=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$work/sim.json")
  export RDS_SIM_HTTP="http://127.0.0.1:$http"
  export RDS_SIM_HTTPS="https://127.0.0.1:$https"
  export RDS_SIM_CA="$work/ca/ca.crt"
  export RDS_SIM_OTHER_CA="$work/ca/other-ca.crt"
  export RDS_SIM_PID
}

# free_port: a TCP port nobody listens on, for a throwaway cluster
# (pg_virtualenv -t keeps its cluster out of /etc/postgresql, so a cluster
# left over by an interrupted run cannot block the next one).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_sim() {
  [ -n "${RDS_SIM_PID:-}" ] && kill "$RDS_SIM_PID" 2>/dev/null && wait "$RDS_SIM_PID" 2>/dev/null
  RDS_SIM_PID=""
}

# regress_results FILE LABEL: the suites of a pg_regress run (FILE: its
# output), one "LABEL test NAME ... ok|FAILED" line each, then a last line
# "OK BAD".  Reads both output formats: "test name ... ok" (15) and the
# TAP-like "ok 1 - name" / "not ok 1 - name" (16 on).
regress_results() {
  awk -v label="$2" '
    /^(test )? *[a-z_0-9]+ +\.\.\. +(ok|FAILED|failed)/ {
      line = $0; sub(/^test +/, "", line); sub(/^ +/, "", line)
      split(line, f, / +/); name = f[1]
      st = (line ~ /\.\.\. +ok/) ? "ok" : "FAILED"
    }
    /^(not )?ok [0-9]+ +[-+] +[a-z_0-9]+/ {
      line = $0; st = ($1 == "not") ? "FAILED" : "ok"
      sub(/^(not )?ok [0-9]+ +[-+] +/, "", line); split(line, f, / +/); name = f[1]
    }
    st != "" {
      printf "%s test %s ... %s\n", label, name, st
      if (st == "ok") ok++; else bad++
      st = ""
    }
    END { printf "%d %d\n", ok, bad }' "$1"
}
