#!/bin/sh
# Installs the Debian packages cdp needs to build, test and benchmark, if any
# is missing.  Idempotent, and quiet when everything is there.
#   scripts/install-deps.sh          build and test dependencies
#   scripts/install-deps.sh --bench  also the peer tools of the benchmarks
set -eu
packages="make gcc pkg-config libcsv-dev libjansson-dev liblmdb-dev libxxhash-dev \
libsodium-dev libzstd-dev libutf8proc-dev jq lmdb-utils valgrind"
case "${1:-}" in
--bench) packages="$packages miller sqlite3 time" ;;
esac
missing=
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
