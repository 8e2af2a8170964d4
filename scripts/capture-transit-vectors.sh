#!/bin/bash
# Captures UPDATEs of VPLS and SR Policy as GoBGP encodes them, and of EVPN as FRR encodes them,
# and writes them as test vectors (test-vectors/README.md) to
# test-vectors/captured/families-transit.vec. GoBGP's CLI cannot originate VPLS or SR Policy and
# FRR needs zebra and VXLAN interfaces to originate EVPN, so both re-advertise routes instead:
#
#   bgpinject 127.0.43.20 (AS 65040) --> GoBGP 127.0.43.21 (AS 65041) --\
#                                    --> FRR   127.0.43.23 (AS 65043) ----> GoBGP 127.0.43.22 (AS 65042)
#
# Only the UPDATEs GoBGP and FRR send to the sink (127.0.43.22) become vectors: bytes their own
# encoders wrote. The expected NLRI are written in scripts/transit-vectors.py from the route
# statements given to bgpinject below (never from bgpinject's decoder), matched to each NLRI by
# the fields tshark shows (VE ID, color, MAC, prefix); the other expect.* lines, and a check
# that tshark shows every value given, come from tshark's BGP dissector.
# Next hops and prefixes are from the documentation ranges; nothing leaves loopback.
#
# Usage: scripts/capture-transit-vectors.sh [OUTPUT]
#   (needs a built target/debug/bgpinject, gobgpd, gobgp, FRR's bgpd, tshark, python3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/test-vectors/captured/families-transit.vec}
BIN=${BGPINJECT:-$ROOT/target/debug/bgpinject}
PORT=18460 INJ=127.0.43.20 T=127.0.43.21 S=127.0.43.22 F=127.0.43.23
T_API=18461 S_API=18462
BGPD=/usr/lib/frr/bgpd
WORK=$(mktemp -d /tmp/capture-transit.XXXXXX)
chmod 777 "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in tshark python3 gobgpd gobgp vtysh "$BGPD" "$BIN"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done

wait_until() {
    for _ in $(seq $(($2 * 4))); do
        if eval "$1" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    echo "timed out: $1" >&2
    exit 1
}

afi_safis() {
    for f in "$@"; do
        printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$f"
    done
}
neighbor() { # address as passive
    printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s"\n    peer-as = %s\n' "$1" "$2"
    printf '  [neighbors.transport.config]\n    passive-mode = %s\n    local-address = "%s"\n    remote-port = %s\n' "$3" "$4" "$PORT"
}
global() { # address as export
    printf '[global.config]\n  as = %s\n  router-id = "%s"\n  port = %s\n  local-address-list = ["%s"]\n' "$2" "$1" "$PORT" "$1"
    printf '[global.apply-policy.config]\n  default-import-policy = "accept-route"\n  default-export-policy = "%s"\n' "$3"
}
{
    global "$T" 65041 accept-route
    neighbor "$INJ" 65040 true "$T"; afi_safis l2vpn-vpls ipv4-srpolicy
    neighbor "$S" 65042 false "$T"; afi_safis l2vpn-vpls ipv4-srpolicy
} > "$WORK/t.toml"
{
    global "$S" 65042 reject-route
    neighbor "$T" 65041 true "$S"; afi_safis l2vpn-vpls ipv4-srpolicy
    neighbor "$F" 65043 true "$S"; afi_safis l2vpn-evpn
} > "$WORK/s.toml"
cat > "$WORK/bgpd.conf" <<CONF
frr defaults traditional
hostname frr-transit
log stdout informational
router bgp 65043
 bgp router-id $F
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor $INJ remote-as 65040
 neighbor $INJ disable-connected-check
 neighbor $INJ update-source $F
 neighbor $INJ passive
 neighbor $S remote-as 65042
 neighbor $S disable-connected-check
 neighbor $S update-source $F
 neighbor $S port $PORT
 address-family l2vpn evpn
  neighbor $INJ activate
  neighbor $INJ route-map NONE out
  neighbor $S activate
 exit-address-family
route-map NONE deny 10
CONF

# The routes given to bgpinject: the same values as ROUTES in scripts/transit-vectors.py.
cat > "$WORK/bgpinject.conf" <<CONF
neighbor $T {
    router-id 192.0.2.20;
    local-address $INJ;
    local-as 65040;
    peer-as 65041;
    connect $PORT;
    family { l2vpn vpls; ipv4 sr-policy; }
    announce {
        l2vpn {
            vpls rd 192.0.2.1:123 endpoint 5 base 10702 offset 1 size 8 next-hop 192.0.2.1 extended-community [ target:65019:6 ];
            vpls rd 65000:77 endpoint 9 base 262100 offset 17 size 16 next-hop 192.0.2.1;
        }
        ipv4 {
            sr-policy distinguisher 2 color 100 endpoint 192.0.2.100 next-hop 192.0.2.1 preference 100 priority 7 binding-sid mpls 24000 enlp no-push segment-list weight 1 segment type-a mpls 16001 segment type-a mpls 16002 segment-list weight 2 segment type-a mpls 16003 policy-name "gold";
            sr-policy distinguisher 3 color 200 endpoint 192.0.2.200 next-hop 192.0.2.1 preference 200 srv6-binding-sid 2001:db8:b::1 segment-list weight 5 segment type-b srv6 2001:db8:1::1 segment type-b srv6 2001:db8:2::1;
        }
    }
}
neighbor $F {
    router-id 192.0.2.20;
    local-address $INJ;
    local-as 65040;
    peer-as 65043;
    connect $PORT;
    family { l2vpn evpn; }
    announce {
        l2vpn {
            evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:01 ip 198.51.100.1 label [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 encapsulation:vxlan ];
            evpn mac-ip rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 mac 00:11:22:aa:bb:02 label [ 10100 ] next-hop 192.0.2.2 extended-community [ target:65019:100 encapsulation:vxlan mac-mobility:7 ];
            evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2 next-hop 192.0.2.2 pmsi-tunnel ( ingress-replication 192.0.2.2 vni 10100 ) extended-community [ target:65019:100 encapsulation:vxlan ];
            evpn ip-prefix rd 192.0.2.2:100 esi 00:00:00:00:00:00:00:00:00:00 ethernet-tag 0 prefix 198.51.100.0/24 gateway 0.0.0.0 label [ 10200 ] next-hop 192.0.2.2 extended-community [ target:65019:100 encapsulation:vxlan router-mac:00:11:22:aa:bb:ff ];
        }
    }
}
CONF

tshark -q -i lo -f "tcp port $PORT" -F pcap -w "$WORK/transit.pcap" 2>"$WORK/tshark.log" &
PIDS+=($!)
wait_until "grep -q Capturing '$WORK/tshark.log'" 10
sleep 1
gobgpd -f "$WORK/s.toml" -t toml --pprof-disable --api-hosts "127.0.0.1:$S_API" >"$WORK/s.log" 2>&1 &
PIDS+=($!)
gobgpd -f "$WORK/t.toml" -t toml --pprof-disable --api-hosts "127.0.0.1:$T_API" >"$WORK/t.log" 2>&1 &
PIDS+=($!)
"$BGPD" -Z -S -P 0 -l "$F" -p "$PORT" --vty_socket "$WORK" -i "$WORK/bgpd.pid" -f "$WORK/bgpd.conf" >"$WORK/frr.log" 2>&1 &
PIDS+=($!)
"$BIN" --control "$WORK/ctl.sock" "$WORK/bgpinject.conf" >"$WORK/bgpinject.log" 2>&1 &
PIDS+=($!)
gob_s() { gobgp -u 127.0.0.1 -p "$S_API" "$@"; }
count_vpls() { gob_s neighbor "$T" -j | python3 -c 'import json,sys; v=json.load(sys.stdin); print(sum(a["state"].get("received",0) for a in v["afi_safis"]))'; }
wait_until "[ \"\$(count_vpls)\" = 4 ]" 60
wait_until "[ \"\$(gob_s global rib -a evpn | grep -c '^\*>')\" = 4 ]" 60
sleep 1
echo "withdrawals" >&2
# The control socket withdraws only what it announced: one more route of each transit, from the
# socket, then withdrawn; the file's routes are withdrawn by a reload without them (below).
ctl() { "$BIN" ctl --socket "$WORK/ctl.sock" "$1" >&2; }
ctl "neighbor $T announce vpls rd 65000:78 endpoint 11 base 300000 offset 0 size 4 next-hop 192.0.2.1"
ctl "neighbor $F announce evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb:03 ip 198.51.100.3 label [ 10300 ] next-hop 192.0.2.2 extended-community [ target:65019:100 encapsulation:vxlan ]"
wait_until "[ \"\$(count_vpls)\" = 5 ]" 20
wait_until "[ \"\$(gob_s global rib -a evpn | grep -c '^\*>')\" = 5 ]" 20
ctl "neighbor $T withdraw vpls rd 65000:78 endpoint 11 base 300000 offset 0 size 4"
ctl "neighbor $F withdraw evpn mac-ip rd 192.0.2.2:100 mac 00:11:22:aa:bb:03 ip 198.51.100.3 label [ 10300 ]"
wait_until "[ \"\$(count_vpls)\" = 4 ]" 20
wait_until "[ \"\$(gob_s global rib -a evpn | grep -c '^\*>')\" = 4 ]" 20
# The file without the first VPLS route, the second SR Policy and the IP prefix route:
# withdrawn by the reload.
python3 - "$WORK/bgpinject.conf" <<'PY'
import sys
p = sys.argv[1]
drop = ("endpoint 5 base 10702", "distinguisher 3 color 200", "ip-prefix")
lines = [l for l in open(p) if not any(d in l for d in drop)]
open(p, "w").write("".join(lines))
PY
kill -HUP "${PIDS[4]}"
wait_until "[ \"\$(count_vpls)\" = 2 ]" 20
wait_until "[ \"\$(gob_s global rib -a evpn | grep -c '^\*>')\" = 3 ]" 20
sleep 2
for i in 4 3 2 1; do kill "${PIDS[$i]}" 2>/dev/null || true; done
sleep 1
kill -INT "${PIDS[0]}"
wait "${PIDS[0]}" || true

GOBGP_VERSION=$(gobgpd --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
FRR_VERSION=$("$BGPD" --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
TSHARK_VERSION=$(tshark --version | head -1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/scripts/transit-vectors.py" "$WORK/transit.pcap" "$PORT" "$T" "$F" "$S" \
    "GoBGP $GOBGP_VERSION" "FRR $FRR_VERSION" "tshark $TSHARK_VERSION" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $(grep -c '^name:' "$OUT") vectors to $OUT" >&2
