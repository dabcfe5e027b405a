#!/usr/bin/env bash
# test/rootfs.sh: Debian root filesystems for testing on other PostgreSQL
# versions (Debian 13 with PostgreSQL 17, sid with 18, ...).
#
#   test/rootfs.sh build SUITE PGVERSION DIR
#       Makes DIR a Debian SUITE root filesystem (mmdebstrap --variant=minbase,
#       from the mirror the machine's own apt sources name) holding the
#       PostgreSQL PGVERSION server and everything test/install_deps.sh
#       installs.  A DIR already built for the same suite, version and
#       package list is kept as it is (DIR/.rds_rootfs records them).
#   test/rootfs.sh run DIR COMMAND [ARG...]
#       Runs COMMAND inside DIR as root, in a mount namespace of its own
#       (unshare -m), with /proc, /sys, /dev, /dev/pts (a new instance) and
#       /dev/shm mounted, and always unmounted again, also when COMMAND
#       fails or is interrupted.  The exit status is COMMAND's.
#
# Run as root.  Nothing here names a mirror: it is read from
# /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list at run time.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

die() { echo "rootfs: $*" >&2; exit 1; }

# mirror: the first Debian archive URI of the machine's apt sources
mirror() {
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null |
          awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  fi
  [ -n "$uri" ] || die "no Debian mirror found in the apt sources"
  echo "$uri"
}

cmd_build() {
  local suite="$1" pgv="$2" dir="$3" pkgs stamp
  command -v mmdebstrap >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null; }
  pkgs=$(RDS_PG_VERSION="$pgv" bash "$here/install_deps.sh" --list | tr '\n' ',' | sed 's/,$//')
  stamp="$suite $pgv $pkgs"
  if [ -f "$dir/.rds_rootfs" ] && [ "$(cat "$dir/.rds_rootfs")" = "$stamp" ]; then
    echo "rootfs: $dir is up to date ($suite, PostgreSQL $pgv)"
    return 0
  fi
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  echo "rootfs: building $dir ($suite, PostgreSQL $pgv)"
  # the mirror is a frozen snapshot: its Release files may have expired
  mmdebstrap --variant=minbase --quiet \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --include="$pkgs" "$suite" "$dir" "$(mirror)"
  echo "$stamp" >"$dir/.rds_rootfs"
}

cmd_run() {
  local dir="$1"; shift
  [ -f "$dir/.rds_rootfs" ] || die "$dir is not a root filesystem made by test/rootfs.sh build"
  # A private mount namespace: whatever happens, no mount outlives it.
  exec unshare -m --propagation private -- bash -c '
    set -u
    dir="$1"; shift
    cleanup() {
      for m in dev/shm dev/pts dev sys proc; do
        mountpoint -q "$dir/$m" && umount -l "$dir/$m"
      done
    }
    trap cleanup EXIT
    trap "exit 130" INT TERM
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys" && mount --make-rslave "$dir/sys"
    mount --bind /dev "$dir/dev"
    mkdir -p "$dir/dev/pts" "$dir/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$dir/dev/pts"
    mount -t tmpfs -o mode=1777 shm "$dir/dev/shm"
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    chroot "$dir" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 CI="${CI:-}" "$@"
  ' rootfs-run "$dir" "$@"
}

[ "$(id -u)" -eq 0 ] || die "run as root"
case "${1:-}" in
  build) [ $# -eq 4 ] || die "usage: $0 build SUITE PGVERSION DIR"; shift; cmd_build "$@" ;;
  run)   [ $# -ge 3 ] || die "usage: $0 run DIR COMMAND [ARG...]"; shift; cmd_run "$@" ;;
  *)     die "usage: $0 build SUITE PGVERSION DIR | run DIR COMMAND [ARG...]" ;;
esac
