#!/bin/bash
# Captures real BGP messages between two private BIRD 2 daemons on loopback and writes them as
# test vectors (test-vectors/README.md) to test-vectors/captured/bird.vec, with the expect.* lines
# taken from tshark's BGP dissector.
#
# A (the announcer, passive) exports static routes with many attribute sets to B (active) over
# three sessions with different capability sets: 127.0.0.41<->127.0.0.42 (IPv4+IPv6, graceful
# restart), 127.0.0.43<->127.0.0.44 (IPv4 only, no 4-octet AS on B, extended messages), and
# ::1 (IPv6 only). Then A is reconfigured (withdrawals, changed attributes), B asks for a route
# refresh (`reload in`), A disables one session (NOTIFICATION Cease), and both stop.
#
# Usage: scripts/capture-vectors.sh [OUTPUT]     (run as root; needs bird2, tshark, python3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/test-vectors/captured/bird.vec}
PORT=17990
WORK=$(mktemp -d /tmp/capture-vectors.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

for pkg in bird2:bird tshark:tshark python3:python3; do
    command -v "${pkg#*:}" >/dev/null || \
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${pkg%%:*}"
done

# Waits (at most $2 seconds) until `$1` succeeds.
wait_until() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if eval "$1" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "timeout waiting for: $1" >&2
    return 1
}

# The announcer's config; $1 = phase (1: initial routes, 2: some withdrawn, one changed).
a_config() {
    local phase=$1
    cat <<CONF
log "$WORK/a.log" all;
router id 192.0.2.41;
protocol device {}
protocol static s4 {
    ipv4;
    route 198.51.100.0/24 blackhole;
    route 198.51.100.128/25 blackhole;
    route 203.0.113.0/24 blackhole;
    route 203.0.113.64/26 blackhole;
    route 192.0.2.128/25 blackhole;
$( [ "$phase" = 1 ] && echo "    route 192.0.2.0/26 blackhole; route 192.0.2.64/27 blackhole;" )
}
protocol static s6 {
    ipv6;
    route 2001:db8:1::/48 blackhole;
    route 2001:db8:2::/48 blackhole;
    route 2001:db8:3::/64 blackhole;
$( [ "$phase" = 1 ] && echo "    route 2001:db8:4::/56 blackhole; route 2001:db8:5::/64 blackhole;" )
}
filter attrs {
    if net.type = NET_IP4 then bgp_next_hop = 192.0.2.1; else bgp_next_hop = 2001:db8::1;
    if net = 198.51.100.0/24 then { bgp_med = $( [ "$phase" = 1 ] && echo 50 || echo 60 ); bgp_community.add((65000,100)); bgp_community.add((65535,65281)); }
    if net = 198.51.100.128/25 then { bgp_large_community.add((65000,1,2)); bgp_large_community.add((4200000000,3,4)); }
    if net = 203.0.113.0/24 then { bgp_ext_community.add((rt, 65000, 1)); bgp_ext_community.add((ro, 192.0.2.1, 7)); bgp_ext_community.add((rt, 4200000000, 9)); }
    if net = 203.0.113.64/26 then { bgp_origin = ORIGIN_EGP; bgp_path.prepend(65010); bgp_path.prepend(65010); bgp_path.prepend(65011); }
    if net = 192.0.2.128/25 then { bgp_origin = ORIGIN_INCOMPLETE; bgp_med = 0; bgp_path.prepend(4200000000); bgp_local_pref = 300; bgp_next_hop = 192.0.2.2; }
    if net = 192.0.2.0/26 then { bgp_community.add((65000,1)); bgp_community.add((65000,2)); bgp_community.add((65535,65282)); bgp_med = 1000; }
    if net = 2001:db8:1::/48 then { bgp_med = 10; bgp_community.add((65000,6)); }
    if net = 2001:db8:2::/48 then { bgp_large_community.add((65000,6,6)); bgp_next_hop = 2001:db8::2; }
    if net = 2001:db8:3::/64 then { bgp_ext_community.add((rt, 65000, 6)); bgp_origin = ORIGIN_EGP; }
    if net = 2001:db8:4::/56 then { bgp_path.prepend(64512); bgp_path.prepend(64513); bgp_med = 99; }
    accept;
}
protocol bgp a_main {
    local 127.0.0.41 port $PORT as 65000; neighbor 127.0.0.42 port $PORT as 65001;
    strict bind on; multihop; passive on; graceful restart on; allow bgp_local_pref on; hold time 60;
    ipv4 { import all; export filter attrs; };
    ipv6 { import all; export filter attrs; };
}
protocol bgp a_small {
    local 127.0.0.43 port $PORT as 65000; neighbor 127.0.0.44 port $PORT as 65002;
    strict bind on; multihop; passive on; hold time 240;
    ipv4 { import all; export filter attrs; };
}
protocol bgp a_six {
    local ::1 port $PORT as 65000; neighbor ::1 port $((PORT + 1)) as 65003;
    strict bind on; multihop; passive on; long lived graceful restart on;
    ipv6 { import all; export filter attrs; };
}
CONF
}

b_config() {
    cat <<CONF
log "$WORK/b.log" all;
router id 192.0.2.42;
protocol device {}
protocol bgp b_main {
    local 127.0.0.42 port $PORT as 65001; neighbor 127.0.0.41 port $PORT as 65000;
    strict bind on; multihop; graceful restart on; allow bgp_local_pref on;
    ipv4 { import all; export none; add paths rx; };
    ipv6 { import all; export none; };
}
protocol bgp b_small {
    local 127.0.0.44 port $PORT as 65002; neighbor 127.0.0.43 port $PORT as 65000;
    strict bind on; multihop; enable as4 off; enable extended messages on; hold time 30;
    ipv4 { import all; export none; extended next hop on; };
}
protocol bgp b_six {
    local ::1 port $((PORT + 1)) as 65003; neighbor ::1 port $PORT as 65000;
    strict bind on; multihop; enable route refresh off; graceful restart off; long lived graceful restart off;
    ipv6 { import all; export none; };
}
CONF
}

birdc_a() { birdc -s "$WORK/a.ctl" "$@"; }
birdc_b() { birdc -s "$WORK/b.ctl" "$@"; }
established() { birdc -s "$WORK/$1.ctl" show protocols "$2" | grep -q Established; }
count_routes() { birdc_b show route count | awk '/^Total:/ {print $2}'; }

a_config 1 > "$WORK/a.conf"
b_config > "$WORK/b.conf"
bird -p -c "$WORK/a.conf"
bird -p -c "$WORK/b.conf"

tshark -q -i lo -f "tcp port $PORT" -F pcap -w "$WORK/bgp.pcap" 2>"$WORK/tshark.log" &
PIDS+=($!)
wait_until "grep -q Capturing '$WORK/tshark.log'" 10
sleep 1

bird -f -c "$WORK/a.conf" -s "$WORK/a.ctl" -P "$WORK/a.pid" 2>>"$WORK/a.stderr" &
PIDS+=($!)
wait_until "birdc_a show status" 10
bird -f -c "$WORK/b.conf" -s "$WORK/b.ctl" -P "$WORK/b.pid" 2>>"$WORK/b.stderr" &
PIDS+=($!)
wait_until "birdc_b show status" 10
for p in b_main b_small b_six; do wait_until "established b $p" 30; done
# 7 IPv4 routes on two sessions, 5 IPv6 routes on two sessions; phase 2 keeps 5 and 3.
wait_until '[ "$(count_routes)" = 24 ]' 20
sleep 1

echo "phase 2: withdrawals and a changed MED" >&2
a_config 2 > "$WORK/a.conf"
birdc_a configure
wait_until '[ "$(count_routes)" = 16 ]' 20
sleep 1

echo "phase 3: route refresh" >&2
birdc_b reload in b_main
birdc_b reload in b_small
sleep 2

echo "phase 4: NOTIFICATION (disable)" >&2
birdc_a disable a_small
sleep 1
birdc_b down
birdc_a down
sleep 2
kill -INT "${PIDS[0]}"
wait "${PIDS[0]}" || true

BIRD_VERSION=$(bird --version 2>&1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
TSHARK_VERSION=$(tshark --version | head -1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/scripts/pcap-to-vectors.py" "$WORK/bgp.pcap" "$PORT" \
    "BIRD $BIRD_VERSION" "tshark $TSHARK_VERSION" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $(grep -c '^name:' "$OUT") vectors to $OUT" >&2
