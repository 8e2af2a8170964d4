#!/usr/bin/env bash
# `make demo`: one bgpinject announces conf/demo.conf over a real BGP session on loopback to
# a second bgpinject that listens on a non-privileged port and logs what it receives.
# No router, no root. Everything stops by itself within about 20 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/bgpinject}
work=$(mktemp -d)
recv_pid= send_pid=
cleanup() {
    [ -n "$send_pid" ] && kill "$send_pid" 2>/dev/null || true
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== configuration (conf/demo.conf) checked by bgpinject --check:"
"$BIN" --check conf/demo.conf
echo
echo "== starting the receiver (conf/demo-receiver.conf: passive, 127.0.0.1 port 1790)"
"$BIN" --control off --log-level debug conf/demo-receiver.conf 2>"$work/receiver.log" &
recv_pid=$!
sleep 0.5
echo "== starting the injector (conf/demo.conf: connects from 127.0.0.2)"
"$BIN" --control off conf/demo.conf 2>"$work/injector.log" &
send_pid=$!

# Wait (bounded) for the End-of-RIB of the last family.
for _ in $(seq 1 100); do
    grep -q 'end-of-rib ipv6 unicast' "$work/receiver.log" && break
    sleep 0.1
done
echo
echo "== the injector says:"
sed 's/^[^ ]* //' "$work/injector.log"
echo
echo "== the receiver got these UPDATEs over BGP:"
grep 'received UPDATE' "$work/receiver.log" | sed 's/^.*received UPDATE /  /'
count=$(grep -c 'received UPDATE' "$work/receiver.log" || true)

echo
echo "== stopping the injector (SIGTERM: it sends Cease / Administrative Shutdown)"
kill -TERM "$send_pid"; wait "$send_pid" || true; send_pid=
sleep 0.3
grep -E 'session down' "$work/receiver.log" | sed 's/^[^ ]* /  receiver: /' | tail -1
kill -TERM "$recv_pid"; wait "$recv_pid" || true; recv_pid=

if grep -q 'end-of-rib ipv6 unicast' "$work/receiver.log"; then
    echo
    echo "demo: OK, $count UPDATEs received (4 routes and 2 End-of-RIB markers)"
else
    echo "demo: FAILED, the receiver did not get the full table; its log:" >&2
    cat "$work/receiver.log" >&2
    exit 1
fi
