#!/usr/bin/env bash
# Installs the Debian packages named as arguments, non-interactively, refreshing the package
# lists only when the first try fails. Nothing to do without arguments. Used by
# scripts/install-test-deps.sh and scripts/bench/install-bench-deps.sh (we run as root in CI).
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "installing: $*"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" \
    || { apt-get -o DPkg::Lock::Timeout=600 update \
         && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"; }
