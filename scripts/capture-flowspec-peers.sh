#!/bin/bash
# Captures FlowSpec UPDATEs originated by real BIRD, GoBGP and ExaBGP and writes them as test
# vectors (test-vectors/captured/flowspec-{bird,gobgp,exabgp}.vec), with expectations computed
# from the bytes by scripts/flowspec-vectors.py (not by bgpinject's decoder).
#
# All three send IPv4 and IPv6 FlowSpec rules with actions to one FRR (127.0.17.1:17950,
# AS 65001), which validates them as a strict receiver:
#   BIRD   127.0.17.3 AS 65003   GoBGP 127.0.17.4 AS 65004   ExaBGP 127.0.17.5 AS 65005
# FRR 8.4 cannot originate FlowSpec; it re-advertises the rules of GoBGP and ExaBGP to BIRD,
# which gives the FRR-sent vectors.
# Needs root (tshark on lo; missing packages installed with apt-get).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/test-vectors/captured
FRR_IP=127.0.17.1 BIRD_IP=127.0.17.3 GOBGP_IP=127.0.17.4 EXA_IP=127.0.17.5
PORT=17950 GOBGP_API=17951

need() { # binary package
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || {
        apt-get -o DPkg::Lock::Timeout=600 update
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
            --no-install-recommends "$2"
    }
}
need /usr/lib/frr/bgpd frr
need bird bird2
need gobgpd gobgpd
need exabgp exabgp
need tshark tshark

WORK=$(mktemp -d /tmp/capture-flowspec-peers.XXXXXX)
chmod 777 "$WORK"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ -n "${KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

retry() { # attempts command...
    local n=$1
    shift
    for _ in $(seq "$n"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "timed out waiting for: $*" >&2
    return 1
}
vty() { vtysh --vty_socket "$WORK/frr" -d bgpd "$@"; }
gob() { gobgp -u 127.0.0.1 -p "$GOBGP_API" "$@"; }

# --- FRR: receives FlowSpec from the three, sends nothing --------------------------------------
mkdir -p "$WORK/frr" && chmod 777 "$WORK/frr"
{
    echo "frr defaults traditional"
    echo "hostname frr-flowspec"
    echo "router bgp 65001"
    echo " bgp router-id 192.0.2.1"
    echo " no bgp ebgp-requires-policy"
    echo " no bgp default ipv4-unicast"
    for n in "$BIRD_IP 65003" "$GOBGP_IP 65004" "$EXA_IP 65005"; do
        set -- $n
        echo " neighbor $1 remote-as $2"
        echo " neighbor $1 disable-connected-check"
        echo " neighbor $1 passive"
    done
    for af in ipv4 ipv6; do
        echo " address-family $af flowspec"
        for ip in $BIRD_IP $GOBGP_IP $EXA_IP; do
            echo "  neighbor $ip activate"
        done
        # FRR re-advertises to BIRD (which imports nothing) what GoBGP and ExaBGP send:
        # the FRR-sent FlowSpec vectors. The others get nothing back.
        echo "  neighbor $GOBGP_IP route-map NOTHING out"
        echo "  neighbor $EXA_IP route-map NOTHING out"
        echo " exit-address-family"
    done
    echo "route-map NOTHING deny 10"
} >"$WORK/frr/bgpd.conf"

# --- BIRD: static flow4/flow6 routes ---------------------------------------------------------
mkdir -p "$WORK/bird"
cat >"$WORK/bird/bird.conf" <<CONF
log "$WORK/bird/bird.log" all;
router id 192.0.2.3;
protocol device {}
flow4 table flowtab4;
flow6 table flowtab6;
protocol static flows4 {
  flow4 { table flowtab4; };
  route flow4 { dst 192.0.2.0/24; proto 6; dport 80, 443; } { bgp_ext_community.add((generic, 0x80060000, 0x0)); };
  route flow4 { dst 198.51.100.0/24; src 203.0.113.0/24; proto 17; sport 53; length > 1000; } { bgp_ext_community.add((generic, 0x80060000, 0x49742400)); };
  route flow4 { dst 192.0.2.64/26; icmp type 8; icmp code 0; } { bgp_ext_community.add((generic, 0x8008fde8, 0x29a)); };
  route flow4 { dst 192.0.2.128/25; tcp flags 0x2/0x12; dscp 46; fragment is_fragment; } { bgp_ext_community.add((generic, 0x80090000, 0xa)); bgp_ext_community.add((generic, 0x80070000, 0x2)); };
  route flow4 { dst 198.51.100.128/25; port 1024..2048; } { bgp_ext_community.add((generic, 0x8108c000, 0x201029a)); };
}
protocol static flows6 {
  flow6 { table flowtab6; };
  route flow6 { dst 2001:db8:1::/48; next header 6; dport 22; } { bgp_ext_community.add((generic, 0x80060000, 0x0)); };
  route flow6 { dst 2001:db8:2::/48; src 2001:db8:ffff::/48; label 12345; length > 512; } { bgp_ext_community.add((generic, 0x80090000, 0x2e)); };
}
protocol bgp frr {
  local $BIRD_IP as 65003;
  neighbor $FRR_IP port $PORT as 65001;
  strict bind on;
  multihop;
  flow4 { table flowtab4; import none; export all; };
  flow6 { table flowtab6; import none; export all; };
}
CONF

# --- GoBGP: rules added over its API ----------------------------------------------------------
mkdir -p "$WORK/gobgp"
cat >"$WORK/gobgp/gobgpd.toml" <<CONF
[global.config]
  as = 65004
  router-id = "192.0.2.4"
  port = -1
  local-address-list = ["$GOBGP_IP"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$FRR_IP"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "$GOBGP_IP"
    remote-port = $PORT
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
CONF

# --- ExaBGP: flow routes in its configuration -------------------------------------------------
mkdir -p "$WORK/exabgp"
cat >"$WORK/exabgp/exabgp.conf" <<CONF
neighbor $FRR_IP {
  router-id 192.0.2.5;
  local-address $EXA_IP;
  local-as 65005;
  peer-as 65001;
  connect $PORT;
  family { ipv4 flow; ipv6 flow; }
  flow {
    route tcp-syn {
      match { destination 192.0.2.0/24; protocol tcp; tcp-flags [ syn ]; destination-port [ =80 =8080 ]; }
      then { rate-limit 9600; }
    }
    route udp-range {
      match { source 10.0.0.0/8; protocol udp; source-port >=1024&<=65535; packet-length [ >100&<200 =1500 ]; }
      then { discard; }
    }
    route frag {
      match { destination 198.51.100.1/32; fragment [ is-fragment dont-fragment ]; dscp 10; }
      then { redirect 65005:100; mark 18; }
    }
    route icmp {
      match { destination 203.0.113.0/24; protocol icmp; icmp-type [ echo-request echo-reply ]; icmp-code 0; }
      then { action sample-terminal; }
    }
    route v6 {
      match { destination 2001:db8:5::/48/0; next-header tcp; port 179; }
      then { discard; }
    }
  }
}
CONF

# --- Run ----------------------------------------------------------------------------------------
PCAP=$WORK/capture.pcap
tshark -q -i lo -f "tcp port $PORT" -F pcap -w "$PCAP" >"$WORK/tshark.log" 2>&1 &
PIDS+=($!)
retry 10 grep -q "Capturing on" "$WORK/tshark.log"
sleep 2

/usr/lib/frr/bgpd -Z -S -P 0 -l $FRR_IP -p $PORT --vty_socket "$WORK/frr" \
    -i "$WORK/frr/bgpd.pid" -f "$WORK/frr/bgpd.conf" >"$WORK/frr/bgpd.log" 2>&1 &
PIDS+=($!)
retry 10 vty -c "show bgp summary"
bird -f -c "$WORK/bird/bird.conf" -s "$WORK/bird/bird.ctl" -P "$WORK/bird/bird.pid" \
    >"$WORK/bird/stderr" 2>&1 &
PIDS+=($!)
gobgpd -f "$WORK/gobgp/gobgpd.toml" -t toml --api-hosts "127.0.0.1:$GOBGP_API" \
    --pprof-disable >"$WORK/gobgp/gobgpd.log" 2>&1 &
PIDS+=($!)
env exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.tcp.bind= \
    exabgp.api.cli=false exabgp.log.destination=stdout \
    exabgp "$WORK/exabgp/exabgp.conf" >"$WORK/exabgp/exabgp.log" 2>&1 &
PIDS+=($!)
retry 10 gob global
gob global rib -a ipv4-flowspec add match destination 192.0.2.0/25 protocol tcp \
    destination-port '>=1024&<=2048' then discard
gob global rib -a ipv4-flowspec add match source 203.0.113.0/24 protocol udp \
    packet-length '>=64&<=128' then rate-limit 1000
gob global rib -a ipv4-flowspec add match destination 198.51.100.0/24 tcp-flags '=S' \
    then redirect 65004:7
gob global rib -a ipv4-flowspec add match destination 198.51.100.64/26 dscp 46 \
    then mark 10
gob global rib -a ipv6-flowspec add match destination 2001:db8:4::/48 protocol udp \
    destination-port 53 then discard

established() { vty -c "show bgp neighbors $1 json" | grep -q '"bgpState":"Established"'; }
for ip in $BIRD_IP $GOBGP_IP $EXA_IP; do retry 40 established $ip; done
sleep 5
# Withdrawals: GoBGP deletes a rule, BIRD loses its IPv6 static protocol.
gob global rib -a ipv4-flowspec del match destination 198.51.100.64/26 dscp 46 then mark 10
birdc -s "$WORK/bird/bird.ctl" disable flows6
sleep 4
vty -c "show bgp ipv4 flowspec" -c "show bgp ipv6 flowspec" >"$WORK/frr-received.txt" || true
kill "${PIDS[0]}"
wait "${PIDS[0]}" || true

mkdir -p "$OUT"
TS="tshark capture (scripts/capture-flowspec-peers.sh)"
python3 "$ROOT/scripts/flowspec-vectors.py" capture "$PCAP" $BIRD_IP \
    "BIRD $(bird --version 2>&1 | awk '{print $3}'), $BIRD_IP, $TS" bird \
    >"$OUT/flowspec-bird.vec"
python3 "$ROOT/scripts/flowspec-vectors.py" capture "$PCAP" $GOBGP_IP \
    "GoBGP $(gobgpd --version | awk '{print $NF}'), $GOBGP_IP, $TS" gobgp \
    >"$OUT/flowspec-gobgp.vec"
python3 "$ROOT/scripts/flowspec-vectors.py" capture "$PCAP" $EXA_IP \
    "ExaBGP $(exabgp --version 2>&1 | sed -n 's/^ExaBGP : //p'), $EXA_IP, $TS" exabgp \
    >"$OUT/flowspec-exabgp.vec"
python3 "$ROOT/scripts/flowspec-vectors.py" capture "$PCAP" $FRR_IP \
    "FRR $(vty -c 'show version' | sed -n 's/^FRRouting \([^ ]*\).*/\1/p'), $FRR_IP (re-advertising), $TS" frr \
    >"$OUT/flowspec-frr.vec"
grep -c '^name:' "$OUT"/flowspec-{bird,gobgp,exabgp,frr}.vec
echo "FRR received:" >&2; cat "$WORK/frr-received.txt" >&2
