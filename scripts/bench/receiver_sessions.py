#!/usr/bin/env python3
"""The receiver's own bound for the neighbors1000 row of scale.py: how long
bgp-count-receiver takes for 1,000 sessions (NEIGHBORS) fed a pre-encoded stream (OPEN,
KEEPALIVE, 100,000 /32 in extended-message UPDATEs, End-of-RIB) by one Python process,
on the receiver addresses scale.py uses (127.0.1.1 to 127.0.4.250, port BENCH_PORT).
Needs target/release/bgp-count-receiver. Run under the bench lock:
    BENCH_PORT=19000 flock /tmp/bgpinject-bench.lock python3 scripts/bench/receiver_sessions.py
"""
import json, os, socket, struct, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BENCH_PORT", "17900")
import scale  # noqa: E402 (after the path)
PORT = scale.PORT
N, S = 100_000, int(os.environ.get("NEIGHBORS", "1000"))
def msg(t, body): return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), t) + body
caps = bytes([1, 4, 0, 1, 0, 1]) + bytes([65, 4]) + struct.pack("!I", 65001) + bytes([6, 0])
params = bytes([2, len(caps)]) + caps
open_ = msg(1, struct.pack("!BHH4sB", 4, 65001, 90, socket.inet_aton("192.0.2.1"), len(params)) + params)
keep = msg(4, b"")
attrs = bytes([0x40, 1, 1, 0]) + bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", 65001) + bytes([0x40, 3, 4]) + socket.inet_aton("192.0.2.1")
per = (65535 - 19 - 4 - len(attrs)) // 5
stream = bytearray()
for start in range(0, N, per):
    nlri = b"".join(bytes([32]) + struct.pack("!I", (10 << 24) + i) for i in range(start, min(N, start + per)))
    stream += msg(2, struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri)
stream += msg(2, b"\x00\x00\x00\x00")
stream = bytes(stream)
rec = scale.CountingReceiver(); rec.start("ipv4", S)
t0 = time.time()
socks = []
for k in range(S):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.connect((scale.peer_address(k, S), PORT))
    s.sendall(open_ + keep); socks.append(s)
t_conn = time.time()
for s in socks:
    s.sendall(stream)
t_sent = time.time()
arr = rec.wait(N * S, t0 + 120)
r = json.load(open(rec.out)); rec.close()
est = sorted(x["established_at"] for x in r["sessions"])
print(f"{S} sessions x {N} routes ({len(stream)} octets each): connected+OPEN {t_conn - t0:.3f} s, "
      f"all written {t_sent - t0:.3f} s, last established {est[-1] - t0:.3f} s, last End-of-RIB {scale.fmt(arr.done_at - t0 if arr.done_at else None, '%.3f')} s, got {arr.received}")
for s in socks: s.close()
