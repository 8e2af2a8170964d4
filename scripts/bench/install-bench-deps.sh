#!/usr/bin/env bash
# Installs the Debian packages `make bench` measures against when they are missing: ExaBGP,
# GoBGP (gobgpd and the gobgp CLI), BIRD 2, and GNU time (peak RSS and CPU of each run).
set -euo pipefail
need=()
command -v exabgp >/dev/null 2>&1 || [ -x /usr/sbin/exabgp ] || need+=(exabgp)
{ command -v gobgpd && command -v gobgp; } >/dev/null 2>&1 || need+=(gobgpd)
{ command -v bird || [ -x /usr/sbin/bird ]; } >/dev/null 2>&1 || need+=(bird2)
[ -x /usr/bin/time ] || need+=(time)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
"$(dirname "$0")/../apt-install-missing.sh" ${need[@]+"${need[@]}"}
