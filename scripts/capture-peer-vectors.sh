#!/bin/bash
# Captures real BGP messages sent by FRR, GoBGP and ExaBGP to each other on loopback and writes
# them as test vectors (test-vectors/README.md) to test-vectors/captured/{frr,gobgp,exabgp}.vec.
#
# Sessions (all eBGP, IPv4 transport, IPv4 and IPv6 unicast):
#   ExaBGP 127.0.2.2 AS 65002 -> FRR    127.0.2.1:12791 AS 65001
#   GoBGP  127.0.2.3 AS 65003 -> FRR    127.0.2.1:12791
#   ExaBGP 127.0.2.4 AS 65004 -> GoBGP  127.0.2.3:12792 AS 65003
# Graceful restart is on everywhere so that FRR and GoBGP send End-of-RIB markers.
# Each sends routes with varied attributes, withdraws some, asks for a ROUTE-REFRESH, and the
# sessions end with a Cease NOTIFICATION (administrative shutdown).
# Needs root (tshark on lo, FRR/GoBGP/ExaBGP installed with apt-get when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test-vectors/captured
FRR_IP=127.0.2.1 EXA1_IP=127.0.2.2 GOBGP_IP=127.0.2.3 EXA2_IP=127.0.2.4
FRR_PORT=12791 GOBGP_PORT=12792 GOBGP_API=12793

need() { # binary package
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
            --no-install-recommends "$2" || {
            apt-get -o DPkg::Lock::Timeout=600 update
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
                --no-install-recommends "$2"
        }
    }
}
need /usr/lib/frr/bgpd frr
need gobgpd gobgpd
need exabgp exabgp
need tshark tshark

WORK=$(mktemp -d /tmp/capture-peer-vectors.XXXXXX)
chmod 777 "$WORK"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Polls "$@" once a second, at most $1 times.
retry() {
    local n=$1
    shift
    for _ in $(seq "$n"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "timed out waiting for: $*" >&2
    return 1
}

exa() { echo "$*" >>"$WORK/exabgp/commands"; }
vty() { vtysh --vty_socket "$WORK/frr" -d bgpd "$@"; }
gob() { gobgp -u 127.0.0.1 -p "$GOBGP_API" "$@"; }

# --- FRR: receives from ExaBGP and GoBGP, announces its own networks to both ----------------
mkdir -p "$WORK/frr" && chmod 777 "$WORK/frr"
cat >"$WORK/frr/bgpd.conf" <<CONF
frr defaults traditional
hostname frr-capture
log stdout informational
router bgp 65001
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 bgp graceful-restart
 neighbor $EXA1_IP remote-as 65002
 neighbor $EXA1_IP disable-connected-check
 neighbor $EXA1_IP passive
 neighbor $GOBGP_IP remote-as 65003
 neighbor $GOBGP_IP disable-connected-check
 neighbor $GOBGP_IP passive
 address-family ipv4 unicast
  network 203.0.113.0/26 route-map ATTR4
  network 203.0.113.64/26
  network 198.51.100.192/26 route-map WITHDRAWN
  aggregate-address 203.0.113.0/24
  neighbor $EXA1_IP activate
  neighbor $EXA1_IP route-map NH out
  neighbor $GOBGP_IP activate
  neighbor $GOBGP_IP route-map NH out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:f00::/48 route-map ATTR6
  network 2001:db8:f01::/48
  neighbor $EXA1_IP activate
  neighbor $EXA1_IP route-map NH out
  neighbor $GOBGP_IP activate
  neighbor $GOBGP_IP route-map NH out
 exit-address-family
route-map ATTR4 permit 10
 set origin egp
 set metric 20
 set community 65001:100 65001:200
 set large-community 65001:1:1 4200000001:2:2
 set extcommunity rt 65001:5
 set extcommunity soo 65001:6
 set as-path prepend 4200000001
route-map ATTR6 permit 10
 set origin incomplete
 set metric 60
 set community 65001:600
 set large-community 65001:6:6
route-map WITHDRAWN permit 10
 set community 65001:999
route-map NH permit 10
 set ip next-hop 192.0.2.1
 set ipv6 next-hop global 2001:db8::f
CONF

# --- GoBGP: session to FRR and from ExaBGP. FRR resets a session on a 127.x next hop (martian),
# so the export policy rewrites next hops into the documentation ranges.
mkdir -p "$WORK/gobgp"
cat >"$WORK/gobgp/gobgpd.toml" <<CONF
[global.config]
  as = 65003
  router-id = "192.0.2.3"
  port = $GOBGP_PORT
  local-address-list = ["$GOBGP_IP"]
[global.apply-policy.config]
  export-policy-list = ["documentation-next-hop"]
  default-export-policy = "accept-route"
[[defined-sets.prefix-sets]]
  prefix-set-name = "any4"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "0.0.0.0/0"
    masklength-range = "0..32"
[[defined-sets.prefix-sets]]
  prefix-set-name = "any6"
  [[defined-sets.prefix-sets.prefix-list]]
    ip-prefix = "::/0"
    masklength-range = "0..128"
[[policy-definitions]]
  name = "documentation-next-hop"
  [[policy-definitions.statements]]
    name = "v4"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "any4"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "192.0.2.3"
  [[policy-definitions.statements]]
    name = "v6"
    [policy-definitions.statements.conditions.match-prefix-set]
      prefix-set = "any6"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "2001:db8::3"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$FRR_IP"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "$GOBGP_IP"
    remote-port = $FRR_PORT
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$EXA2_IP"
    peer-as = 65004
  [neighbors.transport.config]
    local-address = "$GOBGP_IP"
    passive-mode = true
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true
CONF

# --- ExaBGP: two neighbors, static routes, then API commands from a script ------------------
mkdir -p "$WORK/exabgp"
FULL="origin egp med 50 community [ 65000:1 no-export ] extended-community [ target:65000:1 origin:65000:2 ] large-community [ 65000:1:2 4200000001:3:4 ] atomic-aggregate aggregator ( 65002:192.0.2.2 )"
# ExaBGP reads API commands from this process's stdout; this script appends them to a file.
: >"$WORK/exabgp/commands"
printf '#!/bin/sh\nexec tail -n +1 -f %s\n' "$WORK/exabgp/commands" >"$WORK/exabgp/api.sh"
chmod 755 "$WORK/exabgp/api.sh"
# ExaBGP closes a graceful-restart session silently on teardown: only the session to GoBGP
# (which needs it to send End-of-RIB) has it, so the one to FRR ends with a NOTIFICATION.
exa_neighbor() { # peer local as peer-as port capabilities
    cat <<CONF
neighbor $1 {
  router-id 192.0.2.$(echo "$2" | cut -d. -f4);
  local-address $2;
  local-as $3;
  peer-as $4;
  connect $5;
  family { ipv4 unicast; ipv6 unicast; }
  capability { route-refresh enable; $6 }
  adj-rib-out true;
  api { processes [ commands ]; }
  static {
    route 198.51.100.0/24 next-hop 192.0.2.10 as-path [ $3 4200000001 ] $FULL;
    route 198.51.100.128/26 next-hop 192.0.2.11;
    route 198.51.100.160/27 next-hop 192.0.2.11;
    route 203.0.113.128/25 next-hop 192.0.2.12 origin incomplete as-path [ $3 65100 65200 ] community [ 65000:3 no-advertise no-peer ];
    route 2001:db8:100::/48 next-hop 2001:db8::1 as-path [ $3 4200000001 ] $FULL;
    route 2001:db8:200::/64 next-hop 2001:db8::2 origin incomplete;
  }
}
CONF
}
{
    echo "process commands { run $WORK/exabgp/api.sh; encoder text; }"
    exa_neighbor $FRR_IP $EXA1_IP 65002 65001 $FRR_PORT ""
    exa_neighbor $GOBGP_IP $EXA2_IP 65004 65003 $GOBGP_PORT "graceful-restart 120;"
} >"$WORK/exabgp/exabgp.conf"

# --- Run ------------------------------------------------------------------------------------
PCAP=$WORK/capture.pcap
tshark -q -i lo -f "tcp port $FRR_PORT or tcp port $GOBGP_PORT" -F pcap -w "$PCAP" \
    >"$WORK/tshark.log" 2>&1 &
PIDS+=($!)
retry 10 grep -q "Capturing on" "$WORK/tshark.log"
sleep 1

/usr/lib/frr/bgpd -Z -S -P 0 -l $FRR_IP -p $FRR_PORT --vty_socket "$WORK/frr" \
    -i "$WORK/frr/bgpd.pid" -f "$WORK/frr/bgpd.conf" >"$WORK/frr/bgpd.log" 2>&1 &
PIDS+=($!)
gobgpd -f "$WORK/gobgp/gobgpd.toml" -t toml --api-hosts "127.0.0.1:$GOBGP_API" \
    --pprof-disable >"$WORK/gobgp/gobgpd.log" 2>&1 &
PIDS+=($!)
retry 10 vty -c "show bgp summary"
retry 10 gob global
env exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.tcp.bind= \
    exabgp.api.cli=false exabgp.log.destination=stdout \
    exabgp "$WORK/exabgp/exabgp.conf" >"$WORK/exabgp/exabgp.log" 2>&1 &
PIDS+=($!)

established_frr() { vty -c "show bgp neighbors $1 json" | grep -q '"bgpState":"Established"'; }
established_gobgp() { gob neighbor "$1" -j | grep -q '"session_state":6'; }
retry 30 established_frr $EXA1_IP
retry 30 established_frr $GOBGP_IP
retry 30 established_gobgp $EXA2_IP

gob global rib add -a ipv4 198.51.100.64/26 nexthop 192.0.2.30 origin egp aspath 65003,4200000001 \
    med 30 community 65003:1,no-export large-community 65003:1:2 aggregator 65003:192.0.2.3
gob global rib add -a ipv4 192.0.2.128/25 nexthop 192.0.2.31 origin incomplete
gob global rib add -a ipv6 2001:db8:300::/48 nexthop 2001:db8::30 origin igp med 7 \
    community 65003:6 large-community 4200000001:0:1
gob global rib add -a ipv6 2001:db8:301::/56 nexthop 2001:db8::31
sleep 3
for n in $FRR_IP $GOBGP_IP; do
    exa "neighbor $n announce route 198.51.100.96/27 next-hop 192.0.2.20 as-path [ 65010 ] med 5"
    exa "neighbor $n announce route 2001:db8:96::/48 next-hop 2001:db8::20 origin egp"
done
sleep 3
# ROUTE-REFRESH from each, withdrawals from each.
vty -c "clear bgp ipv4 unicast $EXA1_IP soft in" -c "clear bgp ipv6 unicast $GOBGP_IP soft in"
gob neighbor $EXA2_IP softresetin -a ipv4
gob neighbor $FRR_IP softresetin -a ipv6
for n in $FRR_IP $GOBGP_IP; do
    exa "neighbor $n announce route-refresh ipv4 unicast"
    exa "neighbor $n announce route-refresh ipv6 unicast"
done
sleep 3
for n in $FRR_IP $GOBGP_IP; do
    exa "neighbor $n withdraw route 198.51.100.96/27 next-hop 192.0.2.20"
    exa "neighbor $n withdraw route 2001:db8:96::/48 next-hop 2001:db8::20"
done
vty -c "configure terminal" -c "router bgp 65001" -c "address-family ipv4 unicast" \
    -c "no network 198.51.100.192/26"
gob global rib del -a ipv4 192.0.2.128/25
gob global rib del -a ipv6 2001:db8:301::/56
sleep 4
# NOTIFICATION Cease/administrative shutdown from each.
vty -c "configure terminal" -c "router bgp 65001" -c "neighbor $GOBGP_IP shutdown"
gob neighbor $EXA2_IP disable
exa "neighbor $FRR_IP teardown 2"
sleep 3
kill "${PIDS[0]}"
wait "${PIDS[0]}" || true

VERSIONS="frr=FRR $(vty -c 'show version' | sed -n 's/^FRRouting \([^ ]*\).*/\1/p')"
VERSIONS+="|gobgp=GoBGP $(gobgpd --version | awk '{print $NF}')"
VERSIONS+="|exabgp=ExaBGP $(exabgp --version 2>&1 | sed -n 's/^ExaBGP : //p')"
VERSIONS+="|tshark=TShark $(tshark --version | head -1 | awk '{print $3}')"

mkdir -p "$OUT"
python3 "$ROOT/scripts/pcap_to_vectors.py" "$PCAP" "$OUT" "$VERSIONS" \
    "$FRR_IP=frr" "$EXA1_IP=exabgp" "$GOBGP_IP=gobgp" "$EXA2_IP=exabgp"
