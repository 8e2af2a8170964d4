#!/bin/bash
# Captures UPDATEs of EVPN, FlowSpec VPN, MUP and route target constraint sent by a real GoBGP
# to another GoBGP on loopback and writes them as test vectors (test-vectors/README.md) to
# test-vectors/captured/families-gobgp.vec. The expected NLRI are written in
# scripts/evpn-mup-vectors.py from the values given to `gobgp global rib add` below (never from
# bgpinject's decoder); the other expect.* lines, and a check that tshark shows the MACs and
# addresses given, come from tshark's BGP dissector.
#
# B (127.0.27.2, AS 65032) first adds four VRFs, one route target each, one at a time: it sends
# A one RTC route per target (RFC 4684), and A then sends B the VPN routes carrying them.
# A (127.0.27.1, AS 65031, passive) then adds the routes below one at a time (each waits
# until B has it, so that each UPDATE carries one NLRI), and deletes four of them.
# Next hops and prefixes are from the documentation ranges; nothing leaves loopback.
#
# Usage: scripts/capture-evpn-mup-vectors.sh [OUTPUT]   (needs gobgpd, gobgp, tshark, python3)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/test-vectors/captured/families-gobgp.vec}
PORT=18041 A=127.0.27.1 B=127.0.27.2 A_API=18042 B_API=18043
WORK=$(mktemp -d /tmp/capture-evpn-mup.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in tshark python3 gobgpd gobgp; do
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

gobgp_config() { # me peer as peer_as passive
    cat <<CONF
[global.config]
  as = $3
  router-id = "192.0.2.$(( $3 - 65000 ))"
  port = $PORT
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
    remote-port = $PORT
CONF
    for f in l2vpn-evpn rtc l3vpn-ipv4-flowspec l3vpn-ipv6-flowspec ipv4-mup ipv6-mup; do
        printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$f"
    done
}
gob_a() { gobgp -u "$A" -p "$A_API" "$@"; }
gob_b() { gobgp -u "$B" -p "$B_API" "$@"; }
gobgp_config "$A" "$B" 65031 65032 true > "$WORK/a.toml"
gobgp_config "$B" "$A" 65032 65031 false > "$WORK/b.toml"

tshark -q -i lo -f "tcp port $PORT" -F pcap -w "$WORK/gobgp.pcap" 2>"$WORK/tshark.log" &
PIDS+=($!)
wait_until "grep -q Capturing '$WORK/tshark.log'" 10
sleep 1
gobgpd -f "$WORK/a.toml" -t toml --pprof-disable --api-hosts "$A:$A_API" >"$WORK/a.log" 2>&1 &
PIDS+=($!)
gobgpd -f "$WORK/b.toml" -t toml --pprof-disable --api-hosts "$B:$B_API" >"$WORK/b.log" 2>&1 &
PIDS+=($!)
wait_until "gob_a neighbor $B | grep -qi 'BGP state = established'" 40
sleep 2

n=0
for rt in 65019:100 65000:1 65000:2 10:10; do
    n=$((n + 1))
    gob_b vrf add "v$n" rd "65032:$n" rt both "$rt"
    wait_until "[ \"\$(gob_a global rib -a rtc | grep -c '^\*>')\" = $n ]" 20
done

# Adds one route on A and waits until B has one more route of that family.
add() { # family args...
    local fam=$1; shift
    local before
    before=$(gob_b global rib -a "$fam" | grep -c '^\*>' || true)
    gob_a global rib -a "$fam" add "$@"
    wait_until "[ \"\$(gob_b global rib -a $fam | grep -c '^\*>')\" = $((before + 1)) ]" 20
}
del() { # family args...
    local fam=$1; shift
    local before
    before=$(gob_b global rib -a "$fam" | grep -c '^\*>' || true)
    gob_a global rib -a "$fam" del "$@"
    wait_until "[ \"\$(gob_b global rib -a $fam | grep -c '^\*>' || true)\" = $((before - 1)) ]" 20
}

# The same routes, in the same order, as ROUTES in scripts/evpn-mup-vectors.py.
add evpn a-d esi ARBITRARY 11:22:33:44:55:66:77:88:99 etag 100 label 1001 rd 192.0.2.2:100 rt 65019:100 nexthop 192.0.2.2
add evpn macadv 00:11:22:aa:bb:01 198.51.100.1 etag 0 label 10100 rd 192.0.2.2:100 rt 65019:100 encap vxlan nexthop 192.0.2.2
add evpn macadv 00:11:22:aa:bb:02 0.0.0.0 etag 0 label 10100,20100 rd 192.0.2.2:100 rt 65019:100 nexthop 192.0.2.2
add evpn macadv 00:11:22:aa:bb:03 2001:db8::3 esi AS 65019 7 etag 5 label 10300 rd 65019:3 rt 65019:100 default-gateway nexthop 192.0.2.2
add evpn multicast 192.0.2.2 etag 0 rd 192.0.2.2:100 rt 65019:100 encap vxlan pmsi ingress-repl 10100 192.0.2.2 nexthop 192.0.2.2
add evpn esi 192.0.2.2 esi LACP 00:11:22:33:44:55 300 rd 192.0.2.2:100 rt 65019:100 nexthop 192.0.2.2
add evpn prefix 198.51.100.0/24 gw 0.0.0.0 etag 0 label 10200 rd 192.0.2.2:100 rt 65019:100 router-mac 00:11:22:aa:bb:ff nexthop 192.0.2.2
add evpn prefix 2001:db8:20::/48 gw 2001:db8::1 etag 0 label 10201 rd 192.0.2.2:100 rt 65019:100 nexthop 192.0.2.2
add ipv4-l3vpn-flowspec rd 65000:1 match destination 192.0.2.0/24 protocol tcp destination-port ==80 then discard rt 65000:1
add ipv6-l3vpn-flowspec rd 65000:2 match destination 2001:db8:1::/48 then rate-limit 1000 rt 65000:2
# GoBGP 3.10 refuses its own ISD route (its extended communities attribute lacks the
# transitive flag, "treated as withdraw"): B never has it, so wait a moment instead.
gob_a global rib -a ipv4-mup add isd 198.51.100.0/24 rd 100:100 prefix 2001:db8:1::/64 locator-node-length 24 function-length 16 behavior ENDM_GTP4E rt 10:10 nexthop 2001:db8::1
sleep 2
add ipv4-mup dsd 192.0.2.21 rd 100:100 prefix 2001:db8:2::/64 locator-node-length 24 function-length 16 behavior ENDM_GTP4E rt 10:10 mup 10:10 nexthop 2001:db8::1
add ipv4-mup t1st 203.0.113.1/32 rd 100:100 rt 10:10 teid 12345 qfi 9 endpoint 192.0.2.21 nexthop 192.0.2.10
add ipv4-mup t2st 192.0.2.21 rd 100:100 rt 10:10 teid 12345 mup 10:10 nexthop 192.0.2.10
add ipv6-mup t1st 2001:db8:10::1/128 rd 100:100 rt 10:10 teid 12345 qfi 9 endpoint 2001:db8::10 nexthop 2001:db8::2
echo "withdrawals" >&2
del evpn macadv 00:11:22:aa:bb:01 198.51.100.1 etag 0 label 10100 rd 192.0.2.2:100
del evpn prefix 198.51.100.0/24 gw 0.0.0.0 etag 0 label 10200 rd 192.0.2.2:100
del ipv4-l3vpn-flowspec rd 65000:1 match destination 192.0.2.0/24 protocol tcp destination-port ==80
del ipv4-mup t1st 203.0.113.1/32 rd 100:100 rt 10:10 teid 12345 qfi 9 endpoint 192.0.2.21
sleep 1
gob_a global rib -a evpn -j > "$WORK/a-evpn.json"
kill "${PIDS[1]}" "${PIDS[2]}"
sleep 1
kill -INT "${PIDS[0]}"
wait "${PIDS[0]}" || true

GOBGP_VERSION=$(gobgpd --version | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
TSHARK_VERSION=$(tshark --version | head -1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/scripts/evpn-mup-vectors.py" "$WORK/gobgp.pcap" "$PORT" "$A" "$B" \
    "GoBGP $GOBGP_VERSION" "tshark $TSHARK_VERSION" > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $(grep -c '^name:' "$OUT") vectors to $OUT" >&2
