#!/usr/bin/env bash
# test/install_deps.sh [--list] [EXTRA_PACKAGE...]: install what building,
# testing and the demo need on Debian (12 with PostgreSQL 15, 13 with 17,
# sid with 18), plus any packages named as arguments (test/run_fuzz.sh and
# test/run_asan.sh ask for clang).  Installs only what is missing.
#
# The PostgreSQL version is the machine's (test/lib.sh pg_version:
# RDS_PG_VERSION, else the newest server installed, else the one Debian's
# "postgresql" package stands for).  --list prints the package names
# instead of installing them (test/rootfs.sh builds root filesystems with it).
set -euo pipefail

. "$(dirname "$0")/lib.sh"

list=0
if [ "${1:-}" = "--list" ]; then list=1; shift; fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

pgv=$(pg_version)
pkgs=("postgresql-$pgv" "postgresql-client-$pgv" postgresql-common
      "postgresql-server-dev-$pgv" libcurl4-openssl-dev libjson-c-dev
      pkg-config make gcc python3 curl openssl ca-certificates
      libipc-run-perl python3-psycopg2 pgbouncer "$@")
if [ "$list" -eq 1 ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
