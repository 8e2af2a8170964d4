#!/usr/bin/env bash
# Installs the Debian packages `make test` needs when they are missing (we run as root in CI).
# The test harness checks again and fails (never skips) when a peer cannot be started.
set -euo pipefail
need=()
command -v bird >/dev/null 2>&1 || [ -x /usr/sbin/bird ] || need+=(bird2)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" \
        || { apt-get -o DPkg::Lock::Timeout=600 update \
             && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}"; }
fi
