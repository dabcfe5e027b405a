#!/usr/bin/env bash
# test/install_deps.sh [EXTRA_PACKAGE...]: install what building, testing
# and the demo need on Debian 12 (PostgreSQL 15 server and client are
# assumed present; they are installed too if missing), plus any packages
# named as arguments (test/run_fuzz.sh and test/run_asan.sh ask for clang).
# Installs only what is missing.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

pkgs=(postgresql-15 postgresql-client-15 postgresql-common
      postgresql-server-dev-15 libcurl4-openssl-dev libjson-c-dev
      pkg-config make gcc python3 curl openssl ca-certificates
      libipc-run-perl python3-psycopg2 "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
