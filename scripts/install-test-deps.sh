#!/usr/bin/env bash
# Installs the Debian packages `make test` needs when they are missing (we run as root in CI).
# The test harness checks again and fails (never skips) when a peer cannot be started.
set -euo pipefail
need=()
command -v bird >/dev/null 2>&1 || [ -x /usr/sbin/bird ] || need+=(bird2)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
# The aarch64 static binary runs under qemu user emulation (tests/static_binary.rs).
command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 \
    || need+=(qemu-user-static)
# ExaBGP's example configurations (tests/exabgp_examples.rs).
[ -d /usr/share/doc/exabgp/examples ] || need+=(exabgp)
# systemd-analyze verifies conf/bgpinject.service (tests/install.rs).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" \
        || { apt-get -o DPkg::Lock::Timeout=600 update \
             && apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}"; }
fi
