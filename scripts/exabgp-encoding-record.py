#!/usr/bin/env python3
"""Record the UPDATEs an ExaBGP release sends for one configuration.

Usage: exabgp-encoding-record.py EXABGP_SRC CONF PORT [ASN]

EXABGP_SRC is the directory holding ExaBGP's `exabgp` package (a source distribution's `src/`
or `lib/`), run with this machine's python3. CONF is a configuration whose neighbor is
127.0.0.1 with local-address 127.0.0.1 (ExaBGP's own encoding tests are written that way).
ExaBGP is told to connect to 127.0.0.1:PORT, where this script answers as the peer: it mirrors
ExaBGP's OPEN (ADD-PATH send and receive swapped, so ExaBGP sends what it was configured to
send), then prints each UPDATE ExaBGP sends as `1:raw:MARKER:LENGTH:TYPE:BODY`, the layout of
ExaBGP's qa/ files, until nothing comes for 3 s (at most 30 s in all).

Used once to write test-vectors/exabgp-encoding/*/NAME.msg; not run by the tests.
"""

import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time


def read_msg(sock, deadline):
    buf = b""
    while len(buf) < 19:
        sock.settimeout(max(0.1, deadline - time.time()))
        chunk = sock.recv(19 - len(buf))
        if not chunk:
            return None
        buf += chunk
    length = struct.unpack("!H", buf[16:18])[0]
    if length < 19 or length > 65535:
        raise ValueError("bad length")
    while len(buf) < length:
        sock.settimeout(max(0.1, deadline - time.time()))
        chunk = sock.recv(length - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def mirror_open(msg, peer_as):
    """ExaBGP's OPEN with our AS and router id, ADD-PATH directions swapped."""
    body = msg[19:]
    version, _asn, hold, _rid, optlen = struct.unpack("!BHH4sB", body[:10])
    # RFC 9072: a long capability list goes in the extended form (0xFF, then 16-bit lengths).
    extended = optlen == 255 and len(body) > 13 and body[10] == 255
    if extended:
        optlen = struct.unpack("!H", body[11:13])[0]
        opts = body[13 : 13 + optlen]
    else:
        opts = body[10 : 10 + optlen]
    out = b""
    i = 0
    while i + 2 <= len(opts):
        if extended:
            ptype, plen = opts[i], struct.unpack("!H", opts[i + 1 : i + 3])[0]
            param = opts[i + 3 : i + 3 + plen]
            i += 3 + plen
        else:
            ptype, plen = opts[i], opts[i + 1]
            param = opts[i + 2 : i + 2 + plen]
            i += 2 + plen
        if ptype != 2:
            continue
        caps = b""
        j = 0
        while j + 2 <= len(param):
            code, clen = param[j], param[j + 1]
            value = bytearray(param[j + 2 : j + 2 + clen])
            j += 2 + clen
            if code == 65:
                value = bytearray(struct.pack("!L", peer_as))
            if code == 69:
                for k in range(3, len(value), 4):
                    value[k] = {1: 2, 2: 1}.get(value[k], value[k])
            caps += bytes([code, clen]) + bytes(value)
        # One capability per parameter keeps every parameter short (RFC 5492 allows either).
        j = 0
        while j + 2 <= len(caps):
            clen = caps[j + 1]
            out += bytes([2, clen + 2]) + caps[j : j + 2 + clen]
            j += 2 + clen
    two = peer_as if peer_as < 65536 else 23456
    if len(out) > 255:
        long = b""
        j = 0
        while j + 2 <= len(out):
            plen = out[j + 1]
            long += bytes([2]) + struct.pack("!H", plen) + out[j + 2 : j + 2 + plen]
            j += 2 + plen
        out = bytes([255]) + struct.pack("!H", len(long)) + long
        optlen = 255
    else:
        optlen = len(out)
    body = struct.pack("!BHH4sB", version, two, hold, bytes([10, 99, 99, 99]), optlen) + out
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 1) + body


def main():
    src, conf, port = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
    text = open(conf).read()
    m = re.search(r"peer-as\s+(\d+)", text)
    peer_as = int(sys.argv[4]) if len(sys.argv) > 4 else int(m.group(1)) if m else 1
    # The neighbor's address: 127.0.0.1, or ::1 (conf-ipself6).
    v6 = re.search(r"neighbor\s+::1\b", text) is not None
    lsock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::1" if v6 else "127.0.0.1", port))
    lsock.listen(1)
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": src,
            "exabgp_tcp_port": str(port),
            "exabgp_tcp_bind": "",
            "exabgp_log_destination": "stderr",
            "exabgp_daemon_drop": "false",
            "exabgp_tcp_once": "true",
        }
    )
    # ExaBGP's log goes to a file, so a chatty run cannot fill a pipe and stall.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exabgp", conf],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        lsock.settimeout(20)
        try:
            sock, _ = lsock.accept()
        except socket.timeout:
            log.seek(0)
            sys.stderr.write(log.read()[-2000:].decode(errors="replace"))
            raise SystemExit("ExaBGP did not connect")
        end = time.time() + 30
        opened = read_msg(sock, end)
        if opened is None or opened[18] != 1:
            raise SystemExit("no OPEN from ExaBGP")
        sock.sendall(mirror_open(opened, peer_as))
        sock.sendall(b"\xff" * 16 + struct.pack("!HB", 19, 4))
        while time.time() < end:
            try:
                msg = read_msg(sock, min(end, time.time() + 3))
            except socket.timeout:
                break
            if msg is None:
                break
            if msg[18] == 2:
                h = msg.hex().upper()
                print(f"1:raw:{h[:32]}:{h[32:36]}:{h[36:38]}:{h[38:]}")
            elif msg[18] == 3:
                print(f"# NOTIFICATION {msg.hex().upper()}", file=sys.stderr)
                break
        sock.close()
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        lsock.close()


if __name__ == "__main__":
    main()
