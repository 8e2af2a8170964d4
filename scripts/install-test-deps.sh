#!/usr/bin/env bash
# Installs the Debian packages `make test` needs when they are missing (we run as root in CI).
# The test harness checks again and fails (never skips) when a peer cannot be started.
set -euo pipefail
need=()
command -v bird >/dev/null 2>&1 || [ -x /usr/sbin/bird ] || need+=(bird2)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
# The interop matrix (tests/interop_matrix.rs): FRR's bgpd is not on PATH, OpenBGPD's bgpd
# shares FRR's name, so each package is recognised by a binary only it ships.
[ -x /usr/lib/frr/bgpd ] || need+=(frr)
command -v gobgpd >/dev/null 2>&1 || need+=(gobgpd)
command -v bgpctl >/dev/null 2>&1 || [ -x /usr/sbin/bgpctl ] || need+=(openbgpd)
command -v exabgp >/dev/null 2>&1 || [ -x /usr/sbin/exabgp ] || need+=(exabgp)
# The aarch64 static binary runs under qemu user emulation (tests/static_binary.rs).
command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 \
    || need+=(qemu-user-static)
# ExaBGP's example configurations (tests/exabgp_examples.rs) come with the exabgp package.
# systemd-analyze verifies conf/bgpinject.service (tests/install.rs).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# The man pages are checked with `man --warnings -l` (make lint-man, tests/man_pages.rs).
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v groff >/dev/null 2>&1 || need+=(groff-base)
# The metrics text is checked with promtool (tests/metrics.rs), shipped by prometheus.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
"$(dirname "$0")/apt-install-missing.sh" ${need[@]+"${need[@]}"}
