#!/bin/bash
# Captures UPDATEs of the families beyond unicast sent by a real BIRD 2 to another BIRD 2 on
# loopback and writes them as test vectors (test-vectors/README.md) to
# test-vectors/captured/families-peers.vec, the expect.* lines from tshark's BGP dissector
# (scripts/families-pcap-to-vectors.py).
#
# A (127.0.6.1, AS 65011, passive) exports static routes to B (127.0.6.2, AS 65012) in:
#   labeled unicast (ipv4 mpls, SAFI 4), VPNv4 / VPNv6 (vpn4 mpls / vpn6 mpls, SAFI 128, RD
#   types 0 and 1, route targets), IPv4 / IPv6 multicast (SAFI 2), and IPv4 unicast with
#   ADD-PATH (A `add paths tx`, B `add paths rx`: two paths of one prefix).
# Then A withdraws some of them (reconfigure), so the MP_UNREACH forms are captured too.
# Next hops and prefixes are from the documentation ranges; nothing leaves loopback.
#
# Usage: scripts/capture-families-vectors.sh [OUTPUT]   (run as root; needs bird2, tshark, python3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/test-vectors/captured/families-peers.vec}
PORT=17995
A=127.0.6.1 B=127.0.6.2
WORK=$(mktemp -d /tmp/capture-families.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in bird tshark python3; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

# Runs "$1" until it succeeds, at most $2 seconds.
wait_until() {
    for _ in $(seq $(($2 * 4))); do
        if eval "$1" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    echo "timed out: $1" >&2
    exit 1
}

TABLES='ipv4 table lab4;
vpn4 table vpntab4;
vpn6 table vpntab6;
ipv4 table mc4;
ipv6 table mc6;'

# A's configuration; phase 2 drops some routes so that A withdraws them.
a_config() {
    local phase=$1
    cat <<CONF
log "$WORK/a.log" all;
router id 192.0.2.61;
protocol device {}
$TABLES
protocol static s_uni { ipv4; route 198.51.100.0/25 via 192.0.2.1%lo onlink; route 198.51.100.128/25 via 192.0.2.2%lo onlink; }
protocol static s_lab { ipv4 { table lab4; };
    route 203.0.113.0/24 via 192.0.2.1%lo onlink mpls 100/200;
$( [ "$phase" = 1 ] && echo "    route 203.0.113.0/25 via 192.0.2.1%lo onlink mpls 101;" )
}
protocol static s_vpn4 { vpn4 { table vpntab4; };
    route 65000:1 203.0.113.128/25 via 192.0.2.1%lo onlink mpls 300;
$( [ "$phase" = 1 ] && echo "    route 192.0.2.1:7 198.51.100.0/24 via 192.0.2.1%lo onlink mpls 301;" )
}
protocol static s_vpn6 { vpn6 { table vpntab6; };
    route 65000:2 2001:db8:1::/48 via 2001:db8::1%lo onlink mpls 400;
$( [ "$phase" = 1 ] && echo "    route 4200000001:3 2001:db8:3::/48 via 2001:db8::1%lo onlink mpls 401;" )
}
protocol static s_mc4 { ipv4 { table mc4; };
    route 192.0.2.0/26 via 192.0.2.1%lo onlink;
$( [ "$phase" = 1 ] && echo "    route 192.0.2.64/26 via 192.0.2.1%lo onlink;" )
}
protocol static s_mc6 { ipv6 { table mc6; };
    route 2001:db8:2::/48 via 2001:db8::2%lo onlink;
$( [ "$phase" = 1 ] && echo "    route 2001:db8:4::/48 via 2001:db8::2%lo onlink;" )
}
$( [ "$phase" = 1 ] && echo "protocol static s_uni2 { ipv4; route 198.51.100.128/25 via 192.0.2.3%lo onlink; }" )
filter rt1 { bgp_ext_community.add((rt, 65000, 1)); accept; }
protocol bgp a_fam {
    local $A port $PORT as 65011;
    neighbor $B port $PORT as 65012;
    strict bind on;
    passive on;
    multihop;
    ipv4 { add paths tx; import none; next hop keep; export all; };
    ipv4 mpls { table lab4; import none; next hop keep; export all; };
    vpn4 mpls { table vpntab4; import none; next hop keep; export filter rt1; };
    vpn6 mpls { table vpntab6; next hop address 2001:db8::fe; import none; next hop keep; export filter rt1; };
    ipv4 multicast { table mc4; import none; next hop keep; export all; };
    ipv6 multicast { table mc6; next hop address 2001:db8::fe; import none; next hop keep; export all; };
}
CONF
}

b_config() {
    cat <<CONF
log "$WORK/b.log" all;
router id 192.0.2.62;
protocol device {}
$TABLES
protocol bgp b_fam {
    local $B port $PORT as 65012;
    neighbor $A port $PORT as 65011;
    strict bind on;
    multihop;
    ipv4 { add paths rx; import all; export none; };
    ipv4 mpls { table lab4; import all; export none; };
    vpn4 mpls { table vpntab4; import all; export none; };
    vpn6 mpls { table vpntab6; next hop address 2001:db8::fe; import all; export none; };
    ipv4 multicast { table mc4; import all; export none; };
    ipv6 multicast { table mc6; next hop address 2001:db8::fe; import all; export none; };
}
CONF
}

birdc_a() { birdc -s "$WORK/a.ctl" "$@"; }
birdc_b() { birdc -s "$WORK/b.ctl" "$@"; }
count_routes() { birdc_b show route count table all | awk '/^Total:/ {s += $2} END {print s}'; }

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
wait_until "birdc_b show protocols b_fam | grep -q Established" 30
wait_until '[ "$(count_routes)" = 13 ]' 20
sleep 1

echo "phase 2: withdrawals" >&2
a_config 2 > "$WORK/a.conf"
birdc_a configure
wait_until '[ "$(count_routes)" = 7 ]' 20
sleep 1
birdc_b down
birdc_a down
sleep 2
kill -INT "${PIDS[0]}"
wait "${PIDS[0]}" || true

BIRD_VERSION=$(bird --version 2>&1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
TSHARK_VERSION=$(tshark --version | head -1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/scripts/families-pcap-to-vectors.py" "$WORK/bgp.pcap" "$PORT" "$A" \
    "BIRD $BIRD_VERSION" "tshark $TSHARK_VERSION" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $(grep -c '^name:' "$OUT") vectors to $OUT" >&2
