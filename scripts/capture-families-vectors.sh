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
# Then the same with GoBGP: A (127.0.6.3, AS 65021, passive) sends B (127.0.6.4, AS 65022)
# routes added with `gobgp global rib add`: labeled unicast with a two-label stack, VPNv4,
# VPNv6, two ADD-PATH paths of one prefix (GoBGP keeps the configured next hops and labels),
# then deletes them. GoBGP 3.10 cannot originate multicast routes from its CLI.
# Next hops and prefixes are from the documentation ranges; nothing leaves loopback.
#
# Usage: scripts/capture-families-vectors.sh [OUTPUT]   (run as root; needs bird2, tshark, python3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/test-vectors/captured/families-peers.vec}
PORT=17995
A=127.0.6.1 B=127.0.6.2
GPORT=17996 GA=127.0.6.3 GB=127.0.6.4 GA_API=17997 GB_API=17998
WORK=$(mktemp -d /tmp/capture-families.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in bird tshark python3 gobgpd gobgp; do
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

# --- GoBGP -> GoBGP -----------------------------------------------------------------------
gobgp_config() { # me peer as peer_as passive
    cat <<CONF
[global.config]
  as = $3
  router-id = "192.0.2.$(( $3 - 65000 + 50 ))"
  port = $GPORT
  local-address-list = ["$1"]
[global.apply-policy.config]
  default-import-policy = "accept-route"
  default-export-policy = "accept-route"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$2"
    peer-as = $4
  [neighbors.transport.config]
    passive-mode = $5
    local-address = "$1"
    remote-port = $GPORT
CONF
    for f in ipv4-unicast ipv4-labelled-unicast l3vpn-ipv4-unicast l3vpn-ipv6-unicast; do
        printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$f"
        if [ "$f" = ipv4-unicast ]; then
            printf '    [neighbors.afi-safis.add-paths.config]\n      send-max = 8\n      receive = true\n'
        fi
    done
}
gob_a() { gobgp -u 127.0.0.1 -p "$GA_API" "$@"; }
gob_b() { gobgp -u 127.0.0.1 -p "$GB_API" "$@"; }
gobgp_config "$GA" "$GB" 65021 65022 true > "$WORK/ga.toml"
gobgp_config "$GB" "$GA" 65022 65021 false > "$WORK/gb.toml"

tshark -q -i lo -f "tcp port $GPORT" -F pcap -w "$WORK/gobgp.pcap" 2>"$WORK/tshark-gobgp.log" &
PIDS+=($!)
GTSHARK=${#PIDS[@]}
wait_until "grep -q Capturing '$WORK/tshark-gobgp.log'" 10
sleep 1
gobgpd -f "$WORK/ga.toml" -t toml --pprof-disable --api-hosts "127.0.0.1:$GA_API" >"$WORK/ga.log" 2>&1 &
PIDS+=($!)
gobgpd -f "$WORK/gb.toml" -t toml --pprof-disable --api-hosts "127.0.0.1:$GB_API" >"$WORK/gb.log" 2>&1 &
PIDS+=($!)
wait_until "gob_a neighbor $GB | grep -qi 'BGP state = established'" 30
gob_a global rib -a ipv4-mpls add 198.51.100.0/24 100/200 nexthop 192.0.2.1
gob_a global rib -a vpnv4 add 203.0.113.0/24 label 300 rd 65000:1 rt 65000:1 nexthop 192.0.2.1
gob_a global rib -a vpnv6 add 2001:db8:1::/48 label 400 rd 192.0.2.1:7 rt 65000:2 nexthop 2001:db8::1
gob_a global rib -a ipv4 add 198.51.100.128/25 nexthop 192.0.2.1 identifier 1
gob_a global rib -a ipv4 add 198.51.100.128/25 nexthop 192.0.2.2 identifier 2
wait_until '[ "$(gob_b global rib -a ipv4 | grep -c 198.51.100.128/25)" = 2 ]' 20
wait_until "gob_b global rib -a vpnv6 | grep -q 2001:db8:1::/48" 20
echo "gobgp: withdrawals" >&2
gob_a global rib -a ipv4-mpls del 198.51.100.0/24 100/200
gob_a global rib -a vpnv4 del 203.0.113.0/24 label 300 rd 65000:1
gob_a global rib -a vpnv6 del 2001:db8:1::/48 label 400 rd 192.0.2.1:7
gob_a global rib -a ipv4 del 198.51.100.128/25 identifier 2
wait_until '[ "$(gob_b global rib -a ipv4 | grep -c 198.51.100.128/25)" = 1 ]' 20
sleep 1
kill "${PIDS[$GTSHARK]}" "${PIDS[$((GTSHARK + 1))]}"
sleep 1
kill -INT "${PIDS[$((GTSHARK - 1))]}"
wait "${PIDS[$((GTSHARK - 1))]}" || true

BIRD_VERSION=$(bird --version 2>&1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
GOBGP_VERSION=$(gobgpd --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
TSHARK_VERSION=$(tshark --version | head -1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
mkdir -p "$(dirname "$OUT")"
{
    cat <<'NOTES'
# UPDATEs of the families beyond unicast sent by BIRD and GoBGP to their own kind.
# BIRD sends its own address as next hop (eBGP next hop self) and so the implicit-null label
# 3 for labeled and VPN routes; it withdraws them with label field 0x000001 (label 0, bottom
# of stack), not RFC 8277's 0x800000. GoBGP withdraws with the announced labels.
# UPDATEs with IPv6 VPN NLRI are left out: tshark 4.0.17 exports only their label stack (no
# RD, no prefix field) and sometimes prints its format string (`Label Stack=%s RD=%u.%u:%u,
# IPv6=%s/%u`) instead, so it gives no independent expectation.
NOTES
    python3 "$ROOT/scripts/families-pcap-to-vectors.py" "$WORK/bgp.pcap" "$PORT" "$A" \
        "BIRD $BIRD_VERSION" "tshark $TSHARK_VERSION"
    python3 "$ROOT/scripts/families-pcap-to-vectors.py" "$WORK/gobgp.pcap" "$GPORT" "$GA" \
        "GoBGP $GOBGP_VERSION" "tshark $TSHARK_VERSION"
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $(grep -c '^name:' "$OUT") vectors to $OUT" >&2
