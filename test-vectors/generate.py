#!/usr/bin/env python3
"""Writes test-vectors/handmade/*.vec and test-vectors/malformed/*.vec.

The bytes are built field by field here (so every length is computed, never typed), and
the expectations are written by hand from the RFCs, independently of the Rust decoder.
`python3 test-vectors/generate.py` rewrites the files; `--pcap FILE` also writes every
message into a pcap (one TCP segment per message, port 179) for tshark to cross-check.
"""

import ipaddress
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = b"\xff" * 16

# ---------------------------------------------------------------- message builders


def msg(kind, body, length=None):
    if length is None:
        length = 19 + len(body)
    return MARKER + struct.pack("!HB", length, kind) + body


def keepalive():
    return msg(4, b"")


def cap(code, value=b""):
    return bytes([code, len(value)]) + value


def cap_mp(afi, safi):
    return cap(1, struct.pack("!HBB", afi, 0, safi))


def cap_as4(asn):
    return cap(65, struct.pack("!I", asn))


def param(ptype, value):
    return bytes([ptype, len(value)]) + value


def open_msg(asn=65001, hold=90, rid="192.0.2.1", caps=(), params=None, version=4):
    """OPEN with all capabilities in one optional parameter (or the given raw params)."""
    if params is None:
        c = b"".join(caps)
        params = param(2, c) if c else b""
    body = struct.pack("!BHH", version, asn, hold) + ipaddress.IPv4Address(rid).packed
    body += bytes([len(params)]) + params
    return msg(1, body)


def open_ext(caps, asn=65001, hold=90, rid="192.0.2.1"):
    """OPEN with RFC 9072 extended optional parameters (one capabilities parameter)."""
    c = b"".join(caps)
    params = bytes([2]) + struct.pack("!H", len(c)) + c
    body = struct.pack("!BHH", 4, asn, hold) + ipaddress.IPv4Address(rid).packed
    body += bytes([255, 255]) + struct.pack("!H", len(params)) + params
    return msg(1, body)


def pfx(text):
    net = ipaddress.ip_network(text)
    n = (net.prefixlen + 7) // 8
    return bytes([net.prefixlen]) + net.network_address.packed[:n]


def pfxs(*texts):
    return b"".join(pfx(t) for t in texts)


def attr(flags, code, value, extended=None):
    if extended is None:
        extended = len(value) > 255
    if extended:
        return bytes([flags | 0x10, code]) + struct.pack("!H", len(value)) + value
    return bytes([flags & ~0x10, code, len(value)]) + value


def origin(v=0):
    return attr(0x40, 1, bytes([v]))


def seg(kind, asns, four=True):
    fmt = "!I" if four else "!H"
    return bytes([kind, len(asns)]) + b"".join(struct.pack(fmt, a) for a in asns)


def as_path(*segments):
    return attr(0x40, 2, b"".join(segments))


def seq(*asns, four=True):
    return seg(2, list(asns), four)


def next_hop(a):
    return attr(0x40, 3, ipaddress.IPv4Address(a).packed)


def med(v):
    return attr(0x80, 4, struct.pack("!I", v))


def local_pref(v):
    return attr(0x40, 5, struct.pack("!I", v))


def communities(*pairs):
    return attr(0xC0, 8, b"".join(struct.pack("!HH", h, l) for h, l in pairs))


def large(*triples):
    return attr(0xC0, 32, b"".join(struct.pack("!III", *t) for t in triples))


def ext(*hexes):
    return attr(0xC0, 16, b"".join(bytes.fromhex(h) for h in hexes))


def ip(a):
    return ipaddress.ip_address(a).packed


def mp_reach(afi, safi, nh, nlri, flags=0x80):
    return attr(flags, 14, struct.pack("!HBB", afi, safi, len(nh)) + nh + b"\x00" + nlri)


def mp_unreach(afi, safi, nlri, flags=0x80):
    return attr(flags, 15, struct.pack("!HB", afi, safi) + nlri)


def update(withdrawn=b"", attrs=b"", nlri=b"", wlen=None, alen=None):
    wl = len(withdrawn) if wlen is None else wlen
    al = len(attrs) if alen is None else alen
    return msg(2, struct.pack("!H", wl) + withdrawn + struct.pack("!H", al) + attrs + nlri)


def notification(code, sub, data=b""):
    return msg(3, bytes([code, sub]) + data)


def shutdown_text(text):
    b = text.encode()
    return bytes([len(b)]) + b


def route_refresh(afi, safi, subtype=0):
    return msg(5, struct.pack("!HBB", afi, subtype, safi))


def base_attrs(path=None, nh="192.0.2.1"):
    """ORIGIN igp, AS_PATH 65001, NEXT_HOP: the usual mandatory trio."""
    a = origin(0) + as_path(seq(65001) if path is None else path)
    if nh:
        a += next_hop(nh)
    return a


BASE = {"origin": "igp", "as_path": "65001", "next_hop": "192.0.2.1"}

# ---------------------------------------------------------------- vector files

FILES = {}


def vec(file, name, data, source, expect, context=None, comment=None, directory="handmade"):
    FILES.setdefault((directory, file), []).append(
        (name, data, source, expect, context or {}, comment)
    )


def bad(file, name, data, source, error, expect=None, context=None, comment=None):
    e = dict(expect or {})
    e["error"] = error
    vec(file, name, data, source, e, context, comment, directory="malformed")


def fmt_hex(data):
    head, rest = data[:16], data[16:]
    out = head.hex() + " " + rest[:3].hex()
    body = rest[3:]
    if body:
        out += " " + " ".join(body[i : i + 16].hex() for i in range(0, len(body), 16))
    return out


def write_files():
    for (directory, file), vectors in sorted(FILES.items()):
        path = os.path.join(HERE, directory, file)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("# Generated by test-vectors/generate.py: edit that, not this file.\n")
            for name, data, source, expect, context, comment in vectors:
                f.write("\n")
                if comment:
                    for line in comment.splitlines():
                        f.write(f"# {line}\n")
                f.write(f"name: {name}\nsource: {source}\nhex: {fmt_hex(data)}\n")
                for k, v in context.items():
                    f.write(f"context.{k}: {v}\n")
                for k, v in expect.items():
                    f.write(f"expect.{k}: {v}\n".replace(": \n", ":\n"))


def write_pcap(path):
    """One TCP segment per message from 192.0.2.2 to 192.0.2.1:179."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))  # raw IPv4
        i = 0
        for (directory, file), vectors in sorted(FILES.items()):
            for name, data, *_rest in vectors:
                i += 1
                # A TCP connection of its own per message, so one bad length cannot
                # desynchronise tshark for the next.
                tcp = struct.pack("!HHIIBBHHH", 10000 + i, 179, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
                total = 20 + len(tcp) + len(data)
                iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, i & 0xFFFF, 0, 64, 6, 0,
                                  ip("192.0.2.2"), ip("192.0.2.1"))
                pkt = iph + tcp + data
                f.write(struct.pack("<IIII", i, 0, len(pkt), len(pkt)) + pkt)


def build():
    H = "hand-made"

    # ------------------------------------------------------------ KEEPALIVE
    vec("keepalive.vec", "keepalive", keepalive(), f"{H} (RFC 4271 §4.4)", {"type": "KEEPALIVE"})

    # ------------------------------------------------------------ OPEN
    src = f"{H} (RFC 4271 §4.2)"
    vec("open.vec", "open-no-parameters", open_msg(caps=()), src,
        {"type": "OPEN", "version": "4", "asn": "65001", "hold_time": "90",
         "router_id": "192.0.2.1", "capabilities": "", "families": ""})
    vec("open.vec", "open-hold-time-zero", open_msg(hold=0, caps=[cap_mp(1, 1)]), src,
        {"type": "OPEN", "hold_time": "0", "capabilities": "1", "families": "ipv4-unicast"})
    vec("open.vec", "open-hold-time-three", open_msg(hold=3, caps=[cap_mp(1, 1)]), src,
        {"type": "OPEN", "hold_time": "3"})
    vec("open.vec", "open-hold-time-max", open_msg(hold=65535, rid="255.255.255.255",
        caps=[cap_mp(1, 1)]), src,
        {"type": "OPEN", "hold_time": "65535", "router_id": "255.255.255.255"})
    vec("open.vec", "open-as-trans-with-as4", open_msg(asn=23456, caps=[cap_mp(1, 1),
        cap_as4(4200000000)]), f"{H} (RFC 6793 §4.1)",
        {"type": "OPEN", "asn": "23456", "as4": "4200000000", "capabilities": "1 65"})
    vec("open.vec", "open-bird-like", open_msg(asn=65000, hold=240, rid="10.0.0.1", caps=[
        cap_mp(1, 1), cap_mp(2, 1), cap(2), cap(6), cap(64, struct.pack("!H", 120)),
        cap_as4(65000), cap(69, struct.pack("!HBB", 1, 1, 3)), cap(70), cap(71),
        cap(73, shutdown_text("r1") + shutdown_text("example.net"))]),
        f"{H} (RFC 5492 §4)",
        {"type": "OPEN", "asn": "65000", "hold_time": "240", "router_id": "10.0.0.1",
         "capabilities": "1 1 2 6 64 65 69 70 71 73", "as4": "65000",
         "families": "ipv4-unicast ipv6-unicast"})
    vec("open.vec", "open-one-parameter-per-capability",
        open_msg(params=param(2, cap_mp(1, 1)) + param(2, cap(2)) + param(2, cap_as4(65001))),
        f"{H} (RFC 5492 §4)",
        {"type": "OPEN", "capabilities": "1 2 65", "as4": "65001", "families": "ipv4-unicast"},
        comment="Several capabilities optional parameters (Quagga/FRR style): the decoder\n"
                "keeps the layout (Open::parameter_layout) so it re-encodes byte for byte.")
    vec("open.vec", "open-empty-capabilities-parameter", open_msg(params=param(2, b"")),
        f"{H} (RFC 5492 §4)", {"type": "OPEN", "capabilities": ""},
        comment="An empty capabilities parameter carries nothing, but its layout is kept.")
    # RFC 9072: capabilities longer than 255 octets need the extended form.
    long_caps = [cap_mp(1, 1), cap(73, shutdown_text("h" * 180) + shutdown_text("d" * 60)),
                 cap_as4(65001)]
    vec("open.vec", "open-rfc9072-extended-parameters", open_ext(long_caps),
        f"{H} (RFC 9072 §2)",
        {"type": "OPEN", "capabilities": "1 73 65", "as4": "65001", "families": "ipv4-unicast"})
    vec("open.vec", "open-rfc9072-extended-form-short", open_ext([cap_mp(1, 1), cap(2)]),
        f"{H} (RFC 9072 §2)", {"type": "OPEN", "capabilities": "1 2"},
        comment="RFC 9072 allows the extended form for short parameters; the decoder\n"
                "remembers it (Open::extended_parameters).")
    many = [cap(200 + (i % 50), bytes([i]) * 3) for i in range(60)]
    vec("open.vec", "open-rfc9072-sixty-unknown-capabilities", open_ext(many),
        f"{H} (RFC 9072 §2)",
        {"type": "OPEN", "capabilities": " ".join(str(200 + i % 50) for i in range(60))})

    # ------------------------------------------------------------ capabilities
    src = f"{H} (RFC 4760 §8)"
    fams = [(1, 1, "ipv4-unicast"), (2, 1, "ipv6-unicast"), (1, 2, "ipv4-multicast"),
            (2, 2, "ipv6-multicast"), (1, 4, "ipv4-labeled-unicast"),
            (1, 128, "ipv4-mpls-vpn"), (2, 128, "ipv6-mpls-vpn"), (1, 133, "ipv4-flowspec"),
            (2, 133, "ipv6-flowspec"), (1, 134, "ipv4-flowspec-vpn"),
            (2, 134, "ipv6-flowspec-vpn"), (25, 70, "l2vpn-evpn"), (25, 65, "l2vpn-vpls"),
            (1, 132, "ipv4-rtc"), (1, 85, "ipv4-mup"), (2, 85, "ipv6-mup"),
            (1, 73, "ipv4-srpolicy"), (2, 73, "ipv6-srpolicy"), (16388, 71, "bgp-ls"),
            (16388, 72, "bgp-ls-vpn"), (25, 99, "afi-25-safi-99")]
    for afi, safi, name in fams:
        vec("capabilities.vec", f"cap-multiprotocol-{name}", open_msg(caps=[cap_mp(afi, safi)]),
            src, {"type": "OPEN", "capabilities": "1", "families": name})
    vec("capabilities.vec", "cap-multiprotocol-all", open_msg(
        caps=[cap_mp(a, s) for a, s, _ in fams]), src,
        {"type": "OPEN", "capabilities": " ".join("1" for _ in fams),
         "families": " ".join(n for _, _, n in fams)})
    vec("capabilities.vec", "cap-route-refresh", open_msg(caps=[cap(2)]),
        f"{H} (RFC 2918 §2)", {"type": "OPEN", "capabilities": "2"})
    vec("capabilities.vec", "cap-route-refresh-cisco", open_msg(caps=[cap(128), cap(2)]),
        f"{H} (RFC 2918 §2, pre-standard code 128)", {"type": "OPEN", "capabilities": "128 2"})
    vec("capabilities.vec", "cap-extended-next-hop", open_msg(caps=[cap_mp(1, 1), cap(5,
        struct.pack("!HHH", 1, 1, 2) + struct.pack("!HHH", 1, 128, 2))]),
        f"{H} (RFC 8950 §3)", {"type": "OPEN", "capabilities": "1 5"})
    vec("capabilities.vec", "cap-extended-message", open_msg(caps=[cap(6)]),
        f"{H} (RFC 8654 §3)", {"type": "OPEN", "capabilities": "6"})
    vec("capabilities.vec", "cap-graceful-restart-empty", open_msg(caps=[cap(64,
        struct.pack("!H", 120))]), f"{H} (RFC 4724 §3)", {"type": "OPEN", "capabilities": "64"})
    vec("capabilities.vec", "cap-graceful-restart-families", open_msg(caps=[cap(64,
        struct.pack("!H", 0x8000 | 0x4000 | 300) + struct.pack("!HBB", 1, 1, 0x80)
        + struct.pack("!HBB", 2, 1, 0))]), f"{H} (RFC 4724 §3, RFC 8538 N bit)",
        {"type": "OPEN", "capabilities": "64"})
    vec("capabilities.vec", "cap-four-octet-as", open_msg(asn=23456, caps=[cap_as4(131072)]),
        f"{H} (RFC 6793 §3)", {"type": "OPEN", "capabilities": "65", "as4": "131072"})
    vec("capabilities.vec", "cap-four-octet-as-small", open_msg(asn=65001,
        caps=[cap_as4(65001)]), f"{H} (RFC 6793 §3)", {"type": "OPEN", "as4": "65001"})
    vec("capabilities.vec", "cap-add-path", open_msg(caps=[cap(69, struct.pack("!HBB", 1, 1, 1)
        + struct.pack("!HBB", 2, 1, 2) + struct.pack("!HBB", 1, 2, 3))]),
        f"{H} (RFC 7911 §4)", {"type": "OPEN", "capabilities": "69"})
    vec("capabilities.vec", "cap-enhanced-route-refresh", open_msg(caps=[cap(2), cap(70)]),
        f"{H} (RFC 7313 §3)", {"type": "OPEN", "capabilities": "2 70"})
    vec("capabilities.vec", "cap-long-lived-graceful-restart", open_msg(caps=[cap(71,
        struct.pack("!HBB", 1, 1, 0x80) + (3600).to_bytes(3, "big")
        + struct.pack("!HBB", 2, 1, 0) + (16777215).to_bytes(3, "big"))]),
        f"{H} (RFC 9494 §3)", {"type": "OPEN", "capabilities": "71"})
    vec("capabilities.vec", "cap-long-lived-graceful-restart-empty", open_msg(caps=[cap(64,
        struct.pack("!H", 0)), cap(71)]), f"{H} (RFC 9494 §3)",
        {"type": "OPEN", "capabilities": "64 71"})
    vec("capabilities.vec", "cap-fqdn", open_msg(caps=[cap(73, shutdown_text("router1")
        + shutdown_text("example.com"))]),
        f"{H} (draft-walton-bgp-hostname-capability §3)",
        {"type": "OPEN", "capabilities": "73"})
    vec("capabilities.vec", "cap-fqdn-empty-domain", open_msg(caps=[cap(73,
        shutdown_text("r2") + shutdown_text(""))]),
        f"{H} (draft-walton-bgp-hostname-capability §3)", {"type": "OPEN",
                                                           "capabilities": "73"})
    vec("capabilities.vec", "cap-software-version", open_msg(caps=[cap(75,
        shutdown_text("bgpinject/0.1.0"))]),
        f"{H} (draft-abraitis-bgp-version-capability §3)",
        {"type": "OPEN", "capabilities": "75"})
    vec("capabilities.vec", "cap-unknown", open_msg(caps=[cap(200, b"\x01\x02\x03")]),
        f"{H} (RFC 5492 §3: unknown capabilities are ignored)",
        {"type": "OPEN", "capabilities": "200"})
    vec("capabilities.vec", "cap-unknown-empty", open_msg(caps=[cap(239)]),
        f"{H} (RFC 5492 §3)", {"type": "OPEN", "capabilities": "239"})
    # A capability we know with the wrong length or content: OPEN Message Error, unspecific
    # subcode (RFC 4271 §6.2 has none for it; BIRD and FRR send 2/0), or Bad Peer AS for AS 0
    # (RFC 7607 §2).
    for name, c, why, error in [
        ("multiprotocol-length-3", cap(1, b"\x00\x01\x01"), "RFC 4760 §8", "2/0"),
        ("as4-length-2", cap(65, b"\xfd\xe9"), "RFC 6793 §3", "2/0"),
        ("as4-zero", cap(65, bytes(4)), "RFC 7607 §2", "2/2"),
        ("route-refresh-with-value", cap(2, b"\x00"), "RFC 2918 §3", "2/0"),
        ("enhanced-route-refresh-with-value", cap(70, b"\x00"), "RFC 7313 §3", "2/0"),
        ("extended-message-with-value", cap(6, b"\x00"), "RFC 8654 §3", "2/0"),
        ("graceful-restart-length-3", cap(64, b"\x00\x78\x00"), "RFC 4724 §3", "2/0"),
        ("add-path-length-3", cap(69, b"\x00\x01\x01"), "RFC 7911 §4", "2/0"),
        ("extended-next-hop-length-5", cap(5, b"\x00\x01\x00\x01\x00"), "RFC 8950 §3",
         "2/0"),
        ("llgr-length-6", cap(71, bytes(6)), "RFC 9494 §3", "2/0"),
        ("fqdn-overrun", cap(73, b"\x09ab\x00"), "draft-walton-bgp-hostname-capability §3",
         "2/0"),
    ]:
        bad("open.vec", f"open-capability-{name}", open_msg(caps=[c]), f"{H} ({why})",
            f"session-reset {error}")
    vec("capabilities.vec", "cap-role", open_msg(caps=[cap(9, b"\x03")]),
        f"{H} (RFC 9234 §4.1, kept raw)", {"type": "OPEN", "capabilities": "9"})

    # ------------------------------------------------------------ UPDATE, IPv4
    src = f"{H} (RFC 4271 §4.3)"
    for v, name in [(0, "igp"), (1, "egp"), (2, "incomplete")]:
        vec("update-ipv4.vec", f"update-origin-{name}", update(
            attrs=origin(v) + as_path(seq(65001)) + next_hop("192.0.2.1"),
            nlri=pfx("198.51.100.0/24")), src,
            {"type": "UPDATE", "origin": name, "nlri": "198.51.100.0/24", "withdrawn": ""})
    vec("update-ipv4.vec", "update-withdraw-one", update(withdrawn=pfx("198.51.100.0/24")),
        src, {"type": "UPDATE", "withdrawn": "198.51.100.0/24", "nlri": "", "attributes": ""})
    vec("update-ipv4.vec", "update-withdraw-many", update(withdrawn=pfxs(
        "10.0.0.0/8", "172.16.0.0/12", "192.168.1.0/24", "203.0.113.128/25")), src,
        {"type": "UPDATE",
         "withdrawn": "10.0.0.0/8 172.16.0.0/12 192.168.1.0/24 203.0.113.128/25"})
    vec("update-ipv4.vec", "update-withdraw-and-announce", update(
        withdrawn=pfx("10.1.0.0/16"), attrs=base_attrs(), nlri=pfx("10.2.0.0/16")), src,
        dict(type="UPDATE", withdrawn="10.1.0.0/16", nlri="10.2.0.0/16", **BASE))
    for p in ["0.0.0.0/0", "128.0.0.0/1", "10.0.0.0/8", "10.128.0.0/9", "100.64.0.0/10",
              "172.16.0.0/17", "198.51.100.0/23", "203.0.113.128/25", "192.0.2.1/32",
              "192.0.2.252/30"]:
        vec("update-ipv4.vec", f"update-prefix-{p.replace('/', '-len-')}", update(
            attrs=base_attrs(), nlri=pfx(p)), src,
            dict(type="UPDATE", nlri=p, **BASE))
    many = [f"10.{i}.{j}.0/24" for i in range(4) for j in range(50)]
    vec("update-ipv4.vec", "update-two-hundred-prefixes", update(attrs=base_attrs(),
        nlri=pfxs(*many)), src, dict(type="UPDATE", nlri=" ".join(many), **BASE))
    vec("update-ipv4.vec", "update-med", update(attrs=base_attrs() + med(50),
        nlri=pfx("198.51.100.0/24")), src, dict(type="UPDATE", med="50", **BASE))
    vec("update-ipv4.vec", "update-med-max", update(attrs=base_attrs() + med(4294967295),
        nlri=pfx("198.51.100.0/24")), src, {"type": "UPDATE", "med": "4294967295"})
    vec("update-ipv4.vec", "update-local-pref", update(attrs=origin(0) + as_path()
        + next_hop("10.0.0.1") + local_pref(200), nlri=pfx("198.51.100.0/24")), src,
        {"type": "UPDATE", "local_pref": "200", "as_path": "", "next_hop": "10.0.0.1"})
    vec("update-ipv4.vec", "update-med-and-local-pref", update(attrs=origin(2) + as_path()
        + next_hop("10.0.0.1") + med(0) + local_pref(0), nlri=pfx("198.51.100.0/24")), src,
        {"type": "UPDATE", "med": "0", "local_pref": "0", "origin": "incomplete"})

    # ------------------------------------------------------------ attributes
    vec("attributes.vec", "attr-community-one", update(attrs=base_attrs()
        + communities((65001, 100)), nlri=pfx("198.51.100.0/24")), f"{H} (RFC 1997)",
        dict(type="UPDATE", communities="65001:100", **BASE))
    vec("attributes.vec", "attr-community-many", update(attrs=base_attrs() + communities(
        (65001, 100), (0, 0), (65535, 65535), (1, 2)), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 1997)", {"type": "UPDATE", "communities": "65001:100 0:0 65535:65535 1:2"})
    vec("attributes.vec", "attr-community-well-known", update(attrs=base_attrs() + communities(
        (65535, 65281), (65535, 65282), (65535, 65283), (65535, 0), (65535, 666)),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 1997, RFC 8326, RFC 7999)",
        {"type": "UPDATE",
         "communities": "65535:65281 65535:65282 65535:65283 65535:0 65535:666"})
    vec("attributes.vec", "attr-large-community-one", update(attrs=base_attrs()
        + large((65001, 1, 2)), nlri=pfx("198.51.100.0/24")), f"{H} (RFC 8092 §3)",
        {"type": "UPDATE", "large_communities": "65001:1:2"})
    vec("attributes.vec", "attr-large-community-many", update(attrs=base_attrs() + large(
        (4200000000, 0, 4294967295), (65001, 100, 200), (0, 0, 0)),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 8092 §3)",
        {"type": "UPDATE", "large_communities": "4200000000:0:4294967295 65001:100:200 0:0:0"})
    ecs = ["0002fde800000064", "0102c000020100c8", "0202000100000064", "0003fde800000001",
           "8006000000000000", "4300000000000001",
           # origin IPv4 and AS4 forms, FlowSpec actions, redirect-to-nexthop, redirect-to-IP,
           # link bandwidth, encapsulation (VXLAN), color, EVPN MAC mobility and router MAC.
           "0103c00002010001", "0203fa56ea000001", "80060000477a0000", "8007000000000003",
           "8008fde80000029a", "8108c0000201029a", "8208fa56ea000007", "800900000000002e",
           "0800000000000000", "010cc00002010001", "4004fde84e6e6b28", "030c000000000008",
           "030b000000000064", "0600010000000005", "0603020000000001"]
    for e in ecs:
        vec("attributes.vec", f"attr-ext-community-{e}", update(attrs=base_attrs() + ext(e),
            nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4360 §4, RFC 5668, RFC 8955 §7)",
            {"type": "UPDATE", "ext_communities": e})
    vec("attributes.vec", "attr-ext-community-many", update(attrs=base_attrs() + ext(*ecs),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4360 §4)",
        {"type": "UPDATE", "ext_communities": " ".join(ecs)})
    vec("attributes.vec", "attr-atomic-aggregate", update(attrs=base_attrs()
        + attr(0x40, 6, b""), nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4271 §5.1.6)",
        {"type": "UPDATE", "atomic_aggregate": "true"})
    vec("attributes.vec", "attr-aggregator-4-octet", update(attrs=base_attrs()
        + attr(0xC0, 7, struct.pack("!I", 4200000000) + ip("192.0.2.9")),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 6793 §3)",
        {"type": "UPDATE", "aggregator": "4200000000:192.0.2.9"})
    vec("attributes.vec", "attr-aggregator-2-octet", update(attrs=origin(0)
        + as_path(seq(65001, four=False)) + next_hop("192.0.2.1")
        + attr(0xC0, 7, struct.pack("!H", 65001) + ip("192.0.2.9")),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4271 §5.1.7)",
        {"type": "UPDATE", "aggregator": "65001:192.0.2.9", "as_path": "65001"},
        context={"four_octet_as": "false"})
    vec("attributes.vec", "attr-atomic-aggregate-and-aggregator", update(attrs=base_attrs()
        + attr(0x40, 6, b"") + attr(0xC0, 7, struct.pack("!I", 65001) + ip("10.0.0.1")),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4271 §9.2.2.2)",
        {"type": "UPDATE", "atomic_aggregate": "true", "aggregator": "65001:10.0.0.1"})
    vec("attributes.vec", "attr-originator-id-cluster-list", update(attrs=origin(0)
        + as_path() + next_hop("10.0.0.1") + local_pref(100) + attr(0x80, 9, ip("10.0.0.9"))
        + attr(0x80, 10, ip("10.0.0.254") + ip("10.0.1.254")),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4456 §8)",
        {"type": "UPDATE", "originator_id": "10.0.0.9", "cluster_list": "10.0.0.254 10.0.1.254",
         "attributes": "1 2 3 5 9 10"})
    vec("attributes.vec", "attr-as4-path-and-as4-aggregator", update(attrs=origin(0)
        + as_path(seq(65001, 23456, 23456, four=False))
        + next_hop("192.0.2.1")
        + attr(0xC0, 7, struct.pack("!H", 23456) + ip("192.0.2.9"))
        + attr(0xC0, 17, seq(65001, 4200000000, 4200000001))
        + attr(0xC0, 18, struct.pack("!I", 4200000001) + ip("192.0.2.9")),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 6793 §4.2.2)",
        {"type": "UPDATE", "as_path": "65001 23456 23456", "aggregator": "23456:192.0.2.9",
         "as4_path": "65001 4200000000 4200000001", "as4_aggregator": "4200000001:192.0.2.9"},
        context={"four_octet_as": "false"})
    vec("attributes.vec", "attr-unknown-optional-transitive-kept", update(attrs=base_attrs()
        + attr(0xC0, 99, b"\xde\xad\xbe\xef"), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 4271 §5: unrecognized optional transitive is passed on)",
        {"type": "UPDATE", "attributes": "1 2 3 99"})
    vec("attributes.vec", "attr-unknown-optional-transitive-partial", update(
        attrs=base_attrs() + attr(0xE0, 100, b"\x01"), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 4271 §4.3: partial bit)", {"type": "UPDATE", "attributes": "1 2 3 100"})
    vec("attributes.vec", "attr-unknown-optional-non-transitive", update(attrs=base_attrs()
        + attr(0x80, 101, b""), nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4271 §5)",
        {"type": "UPDATE", "attributes": "1 2 3 101"})
    # RFC 9012 §3.1: a VXLAN tunnel TLV with a tunnel egress endpoint sub-TLV (reserved,
    # AFI 1, address) and a color sub-TLV (§3.4.2).
    tunnel = struct.pack("!HH", 8, 22) + bytes([6, 10]) + bytes(4) + b"\x00\x01" \
        + ip("192.0.2.77") + bytes([4, 8, 0x03, 0x0b, 0, 0, 0, 0, 0, 100])
    vec("attributes.vec", "attr-tunnel-encapsulation-vxlan", update(attrs=base_attrs()
        + attr(0xC0, 23, tunnel), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 9012 §2, §3.1, §3.4.2)", {"type": "UPDATE", "attributes": "1 2 3 23",
        "tunnel_encapsulation": "vxlan { endpoint 192.0.2.77; color 100; }"})
    # RFC 9012 §13: a sub-TLV that overruns its tunnel TLV makes that TLV disregarded; the
    # attribute and the other TLVs stay.
    tunnel = struct.pack("!HH", 7, 2) + bytes([6, 9]) + struct.pack("!HH", 2, 0)
    vec("attributes.vec", "attr-tunnel-encapsulation-tlv-disregarded", update(
        attrs=base_attrs() + attr(0xC0, 23, tunnel), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 9012 §13)", {"type": "UPDATE", "attributes": "1 2 3 23",
        "tunnel_encapsulation": "ip-in-ip disregarded gre { }"})
    vec("attributes.vec", "attr-extended-length-long-value", update(attrs=base_attrs()
        + communities(*[(65001, i) for i in range(70)]), nlri=pfx("198.51.100.0/24")),
        f"{H} (RFC 4271 §4.3: extended length for values over 255 octets)",
        {"type": "UPDATE", "communities": " ".join(f"65001:{i}" for i in range(70))})
    vec("attributes.vec", "attr-extended-length-short-value", update(attrs=origin(0)
        + attr(0x40, 2, seq(65001), extended=True) + next_hop("192.0.2.1"),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 4271 §4.3)",
        dict(type="UPDATE", **BASE),
        comment="Extended-length flag on a 6-octet AS_PATH: legal; the decoder remembers it\n"
                "(Update::long_lengths) so the re-encoding is byte-exact.")
    vec("attributes.vec", "attr-everything", update(attrs=origin(1)
        + as_path(seq(65001, 65002), seg(1, [65010, 65011]))
        + next_hop("203.0.113.1") + med(10) + local_pref(300) + attr(0x40, 6, b"")
        + attr(0xC0, 7, struct.pack("!I", 65002) + ip("203.0.113.2"))
        + communities((65001, 1)) + attr(0x80, 9, ip("10.9.9.9"))
        + attr(0x80, 10, ip("10.9.9.1")) + ext("0002fde800000064")
        + large((65001, 2, 3)), nlri=pfxs("198.51.100.0/24", "203.0.113.0/24")),
        f"{H} (RFC 4271 §5)",
        {"type": "UPDATE", "origin": "egp", "as_path": "65001 65002 {65010 65011}",
         "next_hop": "203.0.113.1", "med": "10", "local_pref": "300",
         "atomic_aggregate": "true", "aggregator": "65002:203.0.113.2",
         "communities": "65001:1", "originator_id": "10.9.9.9", "cluster_list": "10.9.9.1",
         "ext_communities": "0002fde800000064", "large_communities": "65001:2:3",
         "nlri": "198.51.100.0/24 203.0.113.0/24", "attributes": "1 2 3 4 5 6 7 8 9 10 16 32"})

    # ------------------------------------------------------------ AS_PATH
    src = f"{H} (RFC 4271 §4.3, RFC 5065 §3)"
    paths = [
        ("empty", b"", ""),
        ("one", seq(65001), "65001"),
        ("sequence", seq(65001, 65002, 65003), "65001 65002 65003"),
        ("four-octet", seq(4200000000, 131072, 1), "4200000000 131072 1"),
        ("prepend", seq(65001, 65001, 65001), "65001 65001 65001"),
        ("set", seg(1, [65010, 65011]), "{65010 65011}"),
        ("sequence-then-set", seq(65001) + seg(1, [65010, 65011, 65012]),
         "65001 {65010 65011 65012}"),
        ("confed-sequence", seg(3, [64512, 64513]) + seq(65001), "(64512 64513) 65001"),
        ("confed-set", seg(4, [64512, 64513]) + seq(65001), "[64512 64513] 65001"),
        ("all-segment-types", seg(3, [64512]) + seg(4, [64513, 64514]) + seq(65001)
         + seg(1, [65002]), "(64512) [64513 64514] 65001 {65002}"),
        ("255-asns", seq(*range(1, 256)), " ".join(str(i) for i in range(1, 256))),
        ("two-full-segments", seq(*range(1, 256)) + seq(*range(1000, 1100)),
         " ".join(str(i) for i in range(1, 256)) + " "
         + " ".join(str(i) for i in range(1000, 1100))),
    ]
    for name, value, text in paths:
        vec("aspath.vec", f"as-path-{name}", update(attrs=origin(0) + attr(0x40, 2, value)
            + next_hop("192.0.2.1"), nlri=pfx("198.51.100.0/24")), src,
            {"type": "UPDATE", "as_path": text})
    for name, segs, text in [
        ("one", seq(65001, four=False), "65001"),
        ("sequence", seq(65001, 65002, 23456, four=False), "65001 65002 23456"),
        ("set", seq(1, four=False) + seg(1, [2, 3], four=False), "1 {2 3}"),
        ("confed", seg(3, [64512], four=False) + seg(4, [64513], four=False)
         + seq(65001, four=False), "(64512) [64513] 65001"),
    ]:
        vec("aspath.vec", f"as-path-2-octet-{name}", update(attrs=origin(0)
            + attr(0x40, 2, segs) + next_hop("192.0.2.1"), nlri=pfx("198.51.100.0/24")),
            f"{H} (RFC 4271 §4.3, 2-octet ASNs)", {"type": "UPDATE", "as_path": text},
            context={"four_octet_as": "false"})
    vec("aspath.vec", "as4-path-with-set", update(attrs=origin(0)
        + attr(0x40, 2, seq(23456, four=False) + seg(1, [23456, 65002], four=False))
        + next_hop("192.0.2.1") + attr(0xC0, 17, seq(4200000000) + seg(1, [4200000001, 65002])),
        nlri=pfx("198.51.100.0/24")), f"{H} (RFC 6793 §4.2.3)",
        {"type": "UPDATE", "as_path": "23456 {23456 65002}",
         "as4_path": "4200000000 {4200000001 65002}"},
        context={"four_octet_as": "false"})

    # ------------------------------------------------------------ multiprotocol
    src = f"{H} (RFC 4760 §3)"
    v6nh = ip("2001:db8::1")
    ll = ip("fe80::1")
    mp_base = origin(0) + as_path(seq(65001))
    vec("multiprotocol.vec", "mp-reach-ipv6-unicast", update(attrs=mp_base + mp_reach(2, 1,
        v6nh, pfx("2001:db8:1::/48"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-unicast", "mp_reach_next_hop": "2001:db8::1",
         "mp_reach_nlri": "2001:db8:1::/48", "nlri": "", "origin": "igp", "as_path": "65001"})
    vec("multiprotocol.vec", "mp-reach-ipv6-link-local-next-hop", update(attrs=mp_base
        + mp_reach(2, 1, v6nh + ll, pfxs("2001:db8:1::/48", "2001:db8:2::/64"))),
        f"{H} (RFC 2545 §3: 32-octet next hop)",
        {"type": "UPDATE", "mp_reach_family": "ipv6-unicast",
         "mp_reach_next_hop": "2001:db8::1 fe80::1",
         "mp_reach_nlri": "2001:db8:1::/48 2001:db8:2::/64"})
    vec("multiprotocol.vec", "mp-reach-ipv6-prefix-lengths", update(attrs=mp_base + mp_reach(
        2, 1, v6nh, pfxs("::/0", "2000::/3", "2001:db8::/32", "2001:db8:0:1::/64",
                         "2001:db8::1/128", "2001:db8:8000::/33"))), src,
        {"type": "UPDATE", "mp_reach_nlri":
         "::/0 2000::/3 2001:db8::/32 2001:db8:0:1::/64 2001:db8::1/128 2001:db8:8000::/33"})
    vec("multiprotocol.vec", "mp-reach-ipv6-multicast", update(attrs=mp_base + mp_reach(2, 2,
        v6nh, pfx("ff00::/8"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-multicast", "mp_reach_nlri": "ff00::/8"})
    vec("multiprotocol.vec", "mp-reach-ipv4-multicast", update(attrs=mp_base + mp_reach(1, 2,
        ip("192.0.2.1"), pfxs("232.0.0.0/8", "198.51.100.0/24"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv4-multicast",
         "mp_reach_next_hop": "192.0.2.1", "mp_reach_nlri": "232.0.0.0/8 198.51.100.0/24"})
    vec("multiprotocol.vec", "mp-reach-ipv4-unicast", update(attrs=mp_base + mp_reach(1, 1,
        ip("192.0.2.1"), pfx("198.51.100.0/24"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv4-unicast", "mp_reach_next_hop": "192.0.2.1",
         "mp_reach_nlri": "198.51.100.0/24", "nlri": ""})
    vec("multiprotocol.vec", "mp-reach-ipv4-over-ipv6-next-hop", update(attrs=mp_base
        + mp_reach(1, 1, v6nh, pfx("198.51.100.0/24"))), f"{H} (RFC 8950 §4)",
        {"type": "UPDATE", "mp_reach_family": "ipv4-unicast",
         "mp_reach_next_hop": "2001:db8::1", "mp_reach_nlri": "198.51.100.0/24"})
    vec("multiprotocol.vec", "mp-reach-ipv6-with-communities", update(attrs=mp_base + med(5)
        + communities((65001, 7)) + mp_reach(2, 1, v6nh, pfx("2001:db8:ff::/48"))), src,
        {"type": "UPDATE", "med": "5", "communities": "65001:7",
         "mp_reach_nlri": "2001:db8:ff::/48", "attributes": "1 2 4 8 14"})
    vec("multiprotocol.vec", "mp-reach-ipv6-no-nlri", update(attrs=mp_base + mp_reach(2, 1,
        v6nh, b"")), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-unicast", "mp_reach_nlri": ""})
    flow = bytes([5, 1, 24, 198, 51, 100])  # destination 198.51.100.0/24
    vec("multiprotocol.vec", "mp-reach-ipv4-flowspec", update(attrs=mp_base
        + ext("8006000000000000") + mp_reach(1, 133, b"", flow)),
        f"{H} (RFC 8955 §4)",
        {"type": "UPDATE", "mp_reach_family": "ipv4-flowspec", "mp_reach_next_hop": "",
         "mp_reach_nlri": "match { destination 198.51.100.0/24; }",
         "ext_communities": "8006000000000000"})
    vpn_nh = bytes(8) + ip("192.0.2.1")
    vpn_nlri = bytes([24 + 64 + 24]) + b"\x00\x3e\x81" + bytes([0, 0, 0xfd, 0xe8, 0, 0, 0, 1]) \
        + bytes([198, 51, 100])
    vec("multiprotocol.vec", "mp-reach-ipv4-mpls-vpn-raw", update(attrs=mp_base
        + ext("0002fde800000001") + mp_reach(1, 128, vpn_nh, vpn_nlri)),
        f"{H} (RFC 4364 §4.3.4)",
        {"type": "UPDATE", "mp_reach_family": "ipv4-mpls-vpn",
         "mp_reach_next_hop": "192.0.2.1", "mp_reach_nlri": "65000:1/198.51.100.0/24#1000"})
    vec("multiprotocol.vec", "mp-unreach-ipv6-unicast", update(attrs=mp_unreach(2, 1,
        pfxs("2001:db8:1::/48", "2001:db8:2::/48"))), f"{H} (RFC 4760 §4)",
        {"type": "UPDATE", "mp_unreach_family": "ipv6-unicast",
         "mp_unreach_nlri": "2001:db8:1::/48 2001:db8:2::/48", "attributes": "15"})
    vec("multiprotocol.vec", "mp-unreach-ipv4-multicast", update(attrs=mp_unreach(1, 2,
        pfx("232.1.0.0/16"))), f"{H} (RFC 4760 §4)",
        {"type": "UPDATE", "mp_unreach_family": "ipv4-multicast",
         "mp_unreach_nlri": "232.1.0.0/16"})
    vec("multiprotocol.vec", "mp-unreach-ipv6-multicast", update(attrs=mp_unreach(2, 2,
        pfx("ff0e::/16"))), f"{H} (RFC 4760 §4)",
        {"type": "UPDATE", "mp_unreach_family": "ipv6-multicast", "mp_unreach_nlri": "ff0e::/16"})
    vec("multiprotocol.vec", "mp-unreach-ipv4-unicast", update(attrs=mp_unreach(1, 1,
        pfx("198.51.100.0/24"))), f"{H} (RFC 4760 §4)",
        {"type": "UPDATE", "mp_unreach_family": "ipv4-unicast",
         "mp_unreach_nlri": "198.51.100.0/24"})
    vec("multiprotocol.vec", "mp-unreach-and-reach-ipv6", update(attrs=mp_unreach(2, 1,
        pfx("2001:db8:9::/48")) + mp_base + mp_reach(2, 1, v6nh, pfx("2001:db8:a::/48")))
        , src, {"type": "UPDATE", "mp_unreach_nlri": "2001:db8:9::/48",
                "mp_reach_nlri": "2001:db8:a::/48", "attributes": "15 1 2 14"})

    # ------------------------------------------------------------ families of src/wire/nlri
    # NLRI written octet by octet from the RFCs and drafts; expectations in the
    # configuration's words (docs/families.md), written by hand from the same values.
    src = f"{H} (RFC 9830 §2.1, §2.4)"
    fam_base = origin(0) + as_path(seq(65001))
    nh4 = ip("192.0.2.1")
    srp4 = bytes.fromhex("60" "00000001" "00000064" "c0000209")
    # SR Policy tunnel (15): preference 100, binding SID label 24000, priority 10, a segment
    # list of weight 10 with labels 16001 and 16002 (label << 12 in 4 octets).
    sr_tunnel = bytes.fromhex(
        "000f0030" "0c0600000000006" "4" "0d06000005dc0000" "0f020a00"
        "80001900" "0906" "0000" "0000000a" "01060000" "03e81000" "01060000" "03e82000")
    vec("families-nlri.vec", "sr-policy-ipv4-with-tunnel", update(attrs=fam_base + mp_reach(
        1, 73, nh4, srp4) + attr(0xC0, 23, sr_tunnel) + ext("030b000000000064")), src,
        {"type": "UPDATE", "mp_reach_family": "ipv4-srpolicy", "mp_reach_next_hop": "192.0.2.1",
         "mp_reach_nlri": "sr-policy distinguisher 1 color 100 endpoint 192.0.2.9",
         "tunnel_encapsulation": "sr-policy { preference 100; binding-sid 24000; priority 10; "
                                 "segment-list [ weight 10 label 16001 label 16002 ]; }",
         "ext_communities": "030b000000000064"})
    srp6 = bytes.fromhex("c0" "00000002" "000000c8" "20010db8000000000000000000000001")
    vec("families-nlri.vec", "sr-policy-ipv6", update(attrs=fam_base + mp_reach(
        2, 73, ip("2001:db8::fe"), srp6)), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-srpolicy",
         "mp_reach_nlri": "sr-policy distinguisher 2 color 200 endpoint 2001:db8::1"})
    vec("families-nlri.vec", "sr-policy-ipv4-withdraw", update(attrs=mp_unreach(1, 73, srp4)),
        src, {"type": "UPDATE", "mp_unreach_family": "ipv4-srpolicy",
              "mp_unreach_nlri": "sr-policy distinguisher 1 color 100 endpoint 192.0.2.9"})

    src = f"{H} (RFC 9552 §5.2)"
    # Node: IS-IS level 2, local node AS 65000 and IS-IS system ID 0000.0000.0001. Link:
    # OSPFv2, router IDs 192.0.2.1 and .2, interface 198.51.100.1, neighbor 198.51.100.2.
    # IPv4 prefix: direct, local node AS 65000, reachability 198.51.100.0/24.
    ls_node = bytes.fromhex("0001001f" "02" "0000000000000000" "01000012"
                            "020000040000fde8" "02030006000000000001")
    ls_link = bytes.fromhex("00020031" "03" "0000000000000000" "01000008" "02030004c0000201"
                            "01010008" "02030004c0000202" "01030004c6336401" "01040004c6336402")
    ls_prefix = bytes.fromhex("0003001d" "04" "0000000000000000" "01000008"
                              "020000040000fde8" "0109000418c63364")
    vec("families-nlri.vec", "bgp-ls-node-link-prefix", update(attrs=fam_base + mp_reach(
        16388, 71, nh4, ls_node + ls_link + ls_prefix)), src,
        {"type": "UPDATE", "mp_reach_family": "bgp-ls", "mp_reach_next_hop": "192.0.2.1",
         "mp_reach_nlri":
             "bgp-ls node protocol isis-l2 identifier 0 local-node [ autonomous-system 65000 "
             "igp-router-id 0000.0000.0001 ]; bgp-ls link protocol ospfv2 identifier 0 "
             "local-node [ igp-router-id 192.0.2.1 ] remote-node [ igp-router-id 192.0.2.2 ] "
             "ipv4-interface-address 198.51.100.1 ipv4-neighbor-address 198.51.100.2; "
             "bgp-ls ipv4-prefix protocol direct identifier 0 local-node [ autonomous-system "
             "65000 ] ip-reachability 198.51.100.0/24"})
    ls_vpn = bytes.fromhex("00030025" "0000fde800000001" "04" "0000000000000000" "01000008"
                           "020000040000fde8" "0109000418c63364")
    vec("families-nlri.vec", "bgp-ls-vpn-prefix", update(attrs=fam_base + mp_reach(
        16388, 72, bytes(8) + nh4, ls_vpn)), src,
        {"type": "UPDATE", "mp_reach_family": "bgp-ls-vpn", "mp_reach_next_hop": "192.0.2.1",
         "mp_reach_nlri": "bgp-ls ipv4-prefix rd 65000:1 protocol direct identifier 0 "
                          "local-node [ autonomous-system 65000 ] ip-reachability "
                          "198.51.100.0/24"})

    src = f"{H} (RFC 4684 §4)"
    vec("families-nlri.vec", "rtc-wildcard-and-prefix", update(attrs=fam_base + mp_reach(
        1, 132, nh4, bytes.fromhex("00" "40" "0000fdfb" "0002fdfb"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv4-rtc", "mp_reach_nlri":
         "rtc wildcard; rtc origin 65019 route-target-prefix 0x0002fdfb/64"})

    src = f"{H} (RFC 7432 §7.1, RFC 9251 route type 6 kept raw)"
    vec("families-nlri.vec", "evpn-ethernet-ad-and-unknown-type", update(attrs=fam_base + mp_reach(
        25, 70, nh4, bytes.fromhex(
            "0119" "0001c00002020064" "00112233445566778899" "00000064" "003e91"
            "0602" "abcd"))), src,
        {"type": "UPDATE", "mp_reach_family": "l2vpn-evpn", "mp_reach_nlri":
         "evpn ethernet-ad rd 192.0.2.2:100 esi 00:11:22:33:44:55:66:77:88:99 ethernet-tag 100 "
         "label [ 1001 ]; evpn route-type 6 0xabcd"})

    src = f"{H} (draft-mpmz-bess-mup-safi-03 §3.1.3, §3.1.1)"
    vec("families-nlri.vec", "mup-t1st-with-source", update(attrs=fam_base + mp_reach(
        1, 85, nh4, bytes.fromhex("0100031c" "0000006400000064" "20c0a80001" "00003039" "09"
                                  "20c0000215" "20c0000216"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv4-mup", "mp_reach_nlri":
         "mup-t1st 192.168.0.1/32 rd 100:100 teid 12345 qfi 9 endpoint 192.0.2.21 "
         "source 192.0.2.22"})
    vec("families-nlri.vec", "mup-isd-ipv6", update(attrs=fam_base + mp_reach(
        2, 85, ip("2001:db8::fe"), bytes.fromhex("0100010f" "0000006400000064" "30"
                                                 "20010db80001"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-mup", "mp_reach_nlri":
         "mup-isd 2001:db8:1::/48 rd 100:100"})

    # ------------------------------------------------------------ End-of-RIB
    src = f"{H} (RFC 4724 §2)"
    vec("end-of-rib.vec", "eor-ipv4-unicast", update(), src,
        {"type": "UPDATE", "eor": "ipv4-unicast", "withdrawn": "", "nlri": ""})
    for afi, safi, name in fams[1:]:
        vec("end-of-rib.vec", f"eor-{name}", update(attrs=mp_unreach(afi, safi, b"")), src,
            {"type": "UPDATE", "eor": name, "mp_unreach_family": name})

    # ------------------------------------------------------------ NOTIFICATION
    src = f"{H} (RFC 4271 §4.5)"
    notes = [
        (1, 1, b"", "header-connection-not-synchronized"),
        (1, 2, struct.pack("!H", 5000), "header-bad-message-length"),
        (1, 3, b"\x07", "header-bad-message-type"),
        (2, 0, b"", "open-unspecific"),
        (2, 1, b"\x00\x04", "open-unsupported-version"),
        (2, 2, b"", "open-bad-peer-as"),
        (2, 3, b"", "open-bad-bgp-identifier"),
        (2, 4, b"", "open-unsupported-optional-parameter"),
        (2, 6, b"", "open-unacceptable-hold-time"),
        (2, 7, cap(69, struct.pack("!HBB", 1, 1, 1)), "open-unsupported-capability"),
        (2, 8, b"", "open-role-mismatch"),
        (3, 1, b"", "update-malformed-attribute-list"),
        (3, 2, attr(0x40, 99, b"\x01"), "update-unrecognized-well-known"),
        (3, 3, b"\x01", "update-missing-well-known"),
        (3, 4, origin(0), "update-attribute-flags"),
        (3, 5, attr(0x40, 3, b"\x01\x02"), "update-attribute-length"),
        (3, 6, attr(0x40, 1, b"\x05"), "update-invalid-origin"),
        (3, 8, next_hop("0.0.0.0"), "update-invalid-next-hop"),
        (3, 9, b"", "update-optional-attribute-error"),
        (3, 10, b"", "update-invalid-network-field"),
        (3, 11, b"", "update-malformed-as-path"),
        (4, 0, b"", "hold-timer-expired"),
        (5, 0, b"", "fsm-unspecific"),
        (5, 1, b"", "fsm-open-sent"),
        (5, 2, b"", "fsm-open-confirm"),
        (5, 3, b"", "fsm-established"),
        (6, 1, struct.pack("!HBI", 1, 1, 1000), "cease-maximum-prefixes"),
        (6, 3, b"", "cease-peer-deconfigured"),
        (6, 5, b"", "cease-connection-rejected"),
        (6, 6, b"", "cease-other-configuration-change"),
        (6, 7, b"", "cease-connection-collision"),
        (6, 8, b"", "cease-out-of-resources"),
        (6, 9, bytes([6, 2]), "cease-hard-reset"),
        (6, 10, b"", "cease-bfd-down"),
        (7, 1, b"", "route-refresh-invalid-length"),
        (9, 9, b"\x01\x02", "unknown-code"),
    ]
    for code, sub, data, name in notes:
        e = {"type": "NOTIFICATION", "code": str(code), "subcode": str(sub)}
        if data:
            e["data"] = data.hex()
        vec("notification.vec", f"notification-{name}", notification(code, sub, data), src, e)
    for sub, text, name in [(2, "maintenance until 18:00 UTC", "shutdown-text"),
                            (4, "config change", "reset-text"),
                            (2, "", "shutdown-empty-text"),
                            (2, "Wartung für 2 Stunden ✓", "shutdown-utf8"),
                            (2, "x" * 255, "shutdown-255-octets")]:
        vec("notification.vec", f"notification-cease-{name}", notification(6, sub,
            shutdown_text(text)), f"{H} (RFC 9003 §2)",
            {"type": "NOTIFICATION", "code": "6", "subcode": str(sub), "shutdown": text})
    vec("notification.vec", "notification-cease-shutdown-no-text", notification(6, 2),
        f"{H} (RFC 4486 §4)", {"type": "NOTIFICATION", "code": "6", "subcode": "2"})

    # ------------------------------------------------------------ ROUTE-REFRESH
    for afi, safi, sub, name, why in [
            (1, 1, 0, "ipv4-unicast", "RFC 2918 §3"), (2, 1, 0, "ipv6-unicast", "RFC 2918 §3"),
            (1, 133, 0, "ipv4-flowspec", "RFC 2918 §3"),
            (1, 1, 1, "ipv4-unicast", "RFC 7313 §4 BoRR"),
            (1, 1, 2, "ipv4-unicast", "RFC 7313 §4 EoRR"),
            (2, 1, 1, "ipv6-unicast", "RFC 7313 §4 BoRR"),
            (2, 1, 2, "ipv6-unicast", "RFC 7313 §4 EoRR")]:
        vec("route-refresh.vec", f"route-refresh-{name}-subtype-{sub}",
            route_refresh(afi, safi, sub), f"{H} ({why})",
            {"type": "ROUTE-REFRESH", "family": name, "subtype": str(sub)})

    # ============================================================ malformed
    u = f"{H} (RFC 7606 §"
    good_nlri = pfx("198.51.100.0/24")

    # ---- header (RFC 4271 §6.1)
    src = f"{H} (RFC 4271 §6.1)"
    bad("header.vec", "bad-marker", b"\xff" * 15 + b"\xfe" + struct.pack("!HB", 19, 4), src,
        "session-reset 1/1")
    bad("header.vec", "bad-marker-zeros", bytes(16) + struct.pack("!HB", 19, 4), src,
        "session-reset 1/1")
    bad("header.vec", "length-18", msg(4, b"", length=18), src, "session-reset 1/2",
        {"type": "KEEPALIVE"})
    bad("header.vec", "length-0", msg(2, b"", length=0), src, "session-reset 1/2")
    bad("header.vec", "length-4097", msg(2, bytes(4078)), src, "session-reset 1/2",
        {"type": "UPDATE"})
    bad("header.vec", "length-65535-header-only", msg(2, b"", length=65535), src,
        "session-reset 1/2")
    bad("header.vec", "type-0", msg(0, b""), src, "session-reset 1/3")
    bad("header.vec", "type-6", msg(6, b""), src, "session-reset 1/3")
    bad("header.vec", "type-255", msg(255, b"\x00"), src, "session-reset 1/3")
    bad("header.vec", "keepalive-length-20", msg(4, b"\x00"), src, "session-reset 1/2")
    bad("header.vec", "open-length-28", msg(1, bytes(9)), src, "session-reset 1/2")
    bad("header.vec", "update-length-22", msg(2, b"\x00\x00\x00"), src, "session-reset 1/2")
    bad("header.vec", "notification-length-20", msg(3, b"\x06"), src, "session-reset 1/2")
    bad("header.vec", "route-refresh-length-22", msg(5, b"\x00\x01\x00"), src,
        "session-reset 1/2")
    bad("header.vec", "route-refresh-length-24", msg(5, b"\x00\x01\x01\x01\x00"),
        f"{H} (RFC 7313 §5)", "session-reset 7/1")
    bad("header.vec", "length-beyond-bytes", msg(4, b"", length=19)[:18], src,
        "session-reset 1/2")
    bad("header.vec", "open-over-4096-with-extended-message", msg(1, bytes(4100)),
        f"{H} (RFC 8654 §4: OPEN never exceeds 4096)", "session-reset 1/2",
        context={"extended_message": "true"})

    # ---- OPEN (RFC 4271 §6.2, RFC 9072)
    src = f"{H} (RFC 4271 §6.2)"
    bad("open.vec", "open-version-3", open_msg(version=3), src, "session-reset 2/1",
        {"type": "OPEN"})
    bad("open.vec", "open-version-5", open_msg(version=5), src, "session-reset 2/1")
    bad("open.vec", "open-hold-time-1", open_msg(hold=1), src, "session-reset 2/6")
    bad("open.vec", "open-hold-time-2", open_msg(hold=2), src, "session-reset 2/6")
    bad("open.vec", "open-router-id-zero", open_msg(rid="0.0.0.0"), src, "session-reset 2/3")
    o = open_msg(caps=[cap_mp(1, 1)])
    bad("open.vec", "open-truncated-parameters", o[:-3] + b"", src, "session-reset 1/2",
        comment="Bytes cut off after the header was written: the length says more is coming.")
    trunc = msg(1, o[19:-3])  # length matches the bytes, parameters cut
    bad("open.vec", "open-parameter-length-beyond-message", trunc,
        f"{H} (RFC 4271 §6.2; CVE-2022-40302 class)", "session-reset 2/0")
    body = struct.pack("!BHH", 4, 65001, 90) + ip("192.0.2.1") + bytes([4]) \
        + bytes([2, 8]) + cap(2) + cap(70)  # param says 8, only 4 follow
    bad("open.vec", "open-parameter-overruns-parameters", msg(1, body),
        f"{H} (RFC 4271 §6.2; CVE-2022-40302 class)", "session-reset 2/0")
    body = struct.pack("!BHH", 4, 65001, 90) + ip("192.0.2.1") + bytes([4]) \
        + bytes([2, 2]) + bytes([65, 4])  # capability says 4 octets, none follow
    bad("open.vec", "open-capability-overruns-parameter", msg(1, body),
        f"{H} (RFC 5492 §4)", "session-reset 2/0")
    body = struct.pack("!BHH", 4, 65001, 90) + ip("192.0.2.1") + bytes([0]) + cap(2)
    bad("open.vec", "open-bytes-after-parameters", msg(1, body), src, "session-reset 2/0")
    body = struct.pack("!BHH", 4, 65001, 90) + ip("192.0.2.1") + bytes([3]) + bytes([2, 1])
    bad("open.vec", "open-parameter-header-truncated", msg(1, body), src, "session-reset 2/0")
    base = struct.pack("!BHH", 4, 65001, 90) + ip("192.0.2.1")
    bad("open.vec", "open-rfc9072-length-overrun", msg(1, base + bytes([255, 255])
        + struct.pack("!H", 100) + bytes([2]) + struct.pack("!H", 2) + cap(2)),
        f"{H} (RFC 9072 §2; CVE-2022-40318 class)", "session-reset 2/0")
    bad("open.vec", "open-rfc9072-truncated-length", msg(1, base + bytes([255, 255, 0])),
        f"{H} (RFC 9072 §2; CVE-2022-43681 class)", "session-reset 2/0")
    bad("open.vec", "open-rfc9072-no-length", msg(1, base + bytes([255, 255])),
        f"{H} (RFC 9072 §2; CVE-2022-43681 class)", "session-reset 2/0")
    bad("open.vec", "open-rfc9072-parameter-overrun", msg(1, base + bytes([255, 255])
        + struct.pack("!H", 5) + bytes([2]) + struct.pack("!H", 40) + cap(2)),
        f"{H} (RFC 9072 §2; CVE-2022-40318 class)", "session-reset 2/0")
    bad("open.vec", "open-rfc9072-parameter-header-truncated", msg(1, base + bytes([255, 255])
        + struct.pack("!H", 2) + bytes([2, 0])),
        f"{H} (RFC 9072 §2; CVE-2022-43681 class)", "session-reset 2/0")
    bad("open.vec", "open-unsupported-parameter-authentication", open_msg(
        params=param(1, b"\x00")), f"{H} (RFC 4271 §6.2, RFC 5492 §5)", "session-reset 2/4")
    bad("open.vec", "open-unsupported-parameter-after-capabilities", open_msg(
        params=param(2, cap(2)) + param(77, b"")), f"{H} (RFC 4271 §6.2)",
        "session-reset 2/4")

    # ---- UPDATE structure (RFC 4271 §6.3, RFC 7606 §4, §5)
    bad("update.vec", "update-withdrawn-length-overrun", update(withdrawn=pfx("10.0.0.0/8"),
        wlen=200), f"{H} (RFC 4271 §6.3)", "session-reset 3/1")
    bad("update.vec", "update-total-attribute-length-overrun", update(attrs=base_attrs(),
        alen=300), f"{H} (RFC 4271 §6.3, RFC 7606 §4)", "session-reset 3/1")
    bad("update.vec", "update-attribute-overruns-section", update(attrs=origin(0)
        + as_path(seq(65001)) + bytes([0x40, 3, 10]) + ip("192.0.2.1"), nlri=good_nlri),
        u + "4)", "treat-as-withdraw", {"nlri": "198.51.100.0/24"})
    bad("update.vec", "update-attribute-header-leftover", update(attrs=base_attrs()
        + b"\x40", nlri=good_nlri), u + "4)", "treat-as-withdraw")
    bad("update.vec", "update-attribute-extended-length-leftover", update(attrs=base_attrs()
        + b"\x50\x02\x00", nlri=good_nlri), u + "4)", "treat-as-withdraw")
    bad("update.vec", "update-prefix-length-33-in-nlri", update(attrs=base_attrs(),
        nlri=bytes([33, 10, 0, 0, 0, 0])), f"{H} (RFC 4271 §6.3, RFC 7606 §5.3)",
        "session-reset 3/10")
    bad("update.vec", "update-prefix-length-33-in-withdrawn", update(
        withdrawn=bytes([33, 10, 0, 0, 0, 0])), f"{H} (RFC 4271 §6.3, RFC 7606 §5.3)",
        "session-reset 3/10")
    bad("update.vec", "update-nlri-prefix-truncated", update(attrs=base_attrs(),
        nlri=bytes([24, 198, 51])), f"{H} (RFC 7606 §5.3)", "session-reset 3/10")
    bad("update.vec", "update-withdrawn-prefix-truncated", update(
        withdrawn=bytes([16, 10])), f"{H} (RFC 7606 §5.3)", "session-reset 3/10")
    bad("update.vec", "update-unrecognized-well-known", update(attrs=base_attrs()
        + attr(0x40, 99, b"\x01"), nlri=good_nlri), f"{H} (RFC 4271 §6.3)",
        "session-reset 3/2")
    bad("update.vec", "update-duplicate-mp-reach", update(attrs=mp_base
        + mp_reach(2, 1, v6nh, pfx("2001:db8::/32")) + mp_reach(2, 1, v6nh, pfx("2001:db9::/32"))),
        u + "3 (g))", "session-reset 3/1")
    bad("update.vec", "update-duplicate-mp-unreach", update(attrs=mp_unreach(2, 1,
        pfx("2001:db8::/32")) + mp_unreach(2, 1, pfx("2001:db9::/32"))), u + "3 (g))",
        "session-reset 3/1")
    bad("update.vec", "update-duplicate-med", update(attrs=base_attrs() + med(1) + med(2),
        nlri=good_nlri), u + "3 (g))", "attribute-discard",
        {"med": "1", "attributes": "1 2 3 4"})
    bad("update.vec", "update-duplicate-unknown-optional", update(attrs=base_attrs()
        + attr(0xC0, 99, b"\x01") + attr(0xC0, 99, b"\x02"), nlri=good_nlri), u + "3 (g))",
        "attribute-discard", {"attributes": "1 2 3 99"})
    bad("update.vec", "update-missing-origin", update(attrs=as_path(seq(65001))
        + next_hop("192.0.2.1"), nlri=good_nlri), u + "3 (d))", "treat-as-withdraw")
    bad("update.vec", "update-missing-as-path", update(attrs=origin(0)
        + next_hop("192.0.2.1"), nlri=good_nlri), u + "3 (d))", "treat-as-withdraw")
    bad("update.vec", "update-missing-next-hop", update(attrs=origin(0)
        + as_path(seq(65001)), nlri=good_nlri), u + "3 (d))", "treat-as-withdraw")
    bad("update.vec", "update-mp-reach-missing-origin", update(attrs=as_path(seq(65001))
        + mp_reach(2, 1, v6nh, pfx("2001:db8::/32"))), u + "3 (d))", "treat-as-withdraw")
    bad("update.vec", "update-no-attributes-with-nlri", update(nlri=good_nlri),
        u + "3 (d))", "treat-as-withdraw")
    # Not errors: the CVE classes where a reset was the bug.
    vec("update.vec", "update-mp-unreach-only-no-mandatory", update(attrs=mp_unreach(2, 1,
        pfx("2001:db8::/32"))), f"{H} (RFC 7606 §3 (d); CVE-2023-47234 class: valid)",
        {"type": "UPDATE", "mp_unreach_nlri": "2001:db8::/32"}, directory="malformed")
    vec("update.vec", "update-mp-unreach-empty-only", update(attrs=mp_unreach(1, 133, b"")),
        f"{H} (RFC 4724 §2; CVE-2023-47234 class: valid)",
        {"type": "UPDATE", "eor": "ipv4-flowspec"}, directory="malformed")
    # RFC 8955 §4.2 and RFC 7606 §5.4: a FlowSpec NLRI that does not decode is
    # treat-as-withdraw, the session stays up.
    fs = u + "5.4, RFC 8955 §4.2: "
    for name, nlri, why in [
        ("flowspec-length-overruns-attribute", bytes([9, 1, 24, 198, 51, 100]),
         "NLRI length 9, 5 octets left"),
        ("flowspec-component-type-0", bytes([7, 1, 24, 198, 51, 100, 0, 0x81]),
         "component type 0"),
        ("flowspec-no-end-of-list", bytes([8, 1, 24, 198, 51, 100, 3, 0x01, 6]),
         "protocol operator list without the end-of-list bit"),
        ("flowspec-component-order", bytes([9, 3, 0x81, 6, 1, 24, 198, 51, 100]),
         "protocol before destination"),
        ("flowspec-ipv4-flow-label", bytes([9, 1, 24, 198, 51, 100, 13, 0x81, 1]),
         "flow label (RFC 8956, IPv6 only) in an IPv4 rule"),
    ]:
        bad("update.vec", f"update-{name}", update(attrs=mp_base + mp_reach(1, 133, b"", nlri)),
            fs + why + ")", "treat-as-withdraw")
    bad("update.vec", "update-short-tunnel-encapsulation", update(attrs=base_attrs()
        + attr(0xC0, 23, b"\x00\x01"), nlri=good_nlri),
        f"{H} (RFC 9012 §13, CVE-2023-38802 class: attribute-discard, no reset)",
        "attribute-discard", {"type": "UPDATE", "attributes": "1 2 3",
                              "nlri": "198.51.100.0/24"})
    bad("update.vec", "update-tunnel-encapsulation-tlv-overrun", update(attrs=base_attrs()
        + attr(0xC0, 23, struct.pack("!HH", 8, 40) + bytes(6)), nlri=good_nlri),
        f"{H} (RFC 9012 §13: a TLV longer than the attribute: attribute-discard)",
        "attribute-discard", {"type": "UPDATE", "attributes": "1 2 3",
                              "nlri": "198.51.100.0/24"})
    vec("update.vec", "update-withdraw-with-attributes-no-nlri", update(
        withdrawn=pfx("10.0.0.0/8"), attrs=med(5)),
        f"{H} (RFC 4271 §4.3: attributes without NLRI are not an error)",
        {"type": "UPDATE", "withdrawn": "10.0.0.0/8", "med": "5"}, directory="malformed")

    # ---- attributes (RFC 7606 §7)
    def with_attr(extra, base_a=None):
        return update(attrs=(base_attrs() if base_a is None else base_a) + extra,
                      nlri=good_nlri)
    src7 = u + "7."
    bad("attributes.vec", "origin-optional-flag", update(attrs=attr(0xC0, 1, b"\x00")
        + as_path(seq(65001)) + next_hop("192.0.2.1"), nlri=good_nlri), u + "3 (c))",
        "treat-as-withdraw")
    bad("attributes.vec", "origin-value-5", update(attrs=attr(0x40, 1, b"\x05")
        + as_path(seq(65001)) + next_hop("192.0.2.1"), nlri=good_nlri), src7 + "1)",
        "treat-as-withdraw")
    bad("attributes.vec", "origin-length-2", update(attrs=attr(0x40, 1, b"\x00\x00")
        + as_path(seq(65001)) + next_hop("192.0.2.1"), nlri=good_nlri), src7 + "1)",
        "treat-as-withdraw")
    bad("attributes.vec", "origin-length-0", update(attrs=attr(0x40, 1, b"")
        + as_path(seq(65001)) + next_hop("192.0.2.1"), nlri=good_nlri), src7 + "1)",
        "treat-as-withdraw")
    for name, value in [("segment-count-0", bytes([2, 0])),
                        ("segment-overrun", bytes([2, 3]) + struct.pack("!II", 1, 2)),
                        ("segment-type-5", bytes([5, 1]) + struct.pack("!I", 1)),
                        ("segment-type-0", bytes([0, 1]) + struct.pack("!I", 1)),
                        ("trailing-octet", seq(65001) + b"\x02")]:
        bad("attributes.vec", f"as-path-{name}", update(attrs=origin(0)
            + attr(0x40, 2, value) + next_hop("192.0.2.1"), nlri=good_nlri), src7 + "2)",
            "treat-as-withdraw")
    bad("attributes.vec", "as-path-2-octet-odd-length", update(attrs=origin(0)
        + attr(0x40, 2, bytes([2, 2, 0, 1, 0])) + next_hop("192.0.2.1"), nlri=good_nlri),
        src7 + "2)", "treat-as-withdraw", context={"four_octet_as": "false"})
    bad("attributes.vec", "next-hop-length-5", update(attrs=origin(0) + as_path(seq(65001))
        + attr(0x40, 3, b"\xc0\x00\x02\x01\x00"), nlri=good_nlri), src7 + "3)",
        "treat-as-withdraw")
    bad("attributes.vec", "next-hop-optional-flag", update(attrs=origin(0)
        + as_path(seq(65001)) + attr(0x80, 3, ip("192.0.2.1")), nlri=good_nlri),
        u + "3 (c))", "treat-as-withdraw")
    bad("attributes.vec", "med-length-3", with_attr(attr(0x80, 4, b"\x00\x00\x01")),
        src7 + "4)", "treat-as-withdraw")
    bad("attributes.vec", "med-transitive-flag", with_attr(attr(0x40, 4, bytes(4))),
        u + "3 (c))", "treat-as-withdraw")
    bad("attributes.vec", "local-pref-length-5", with_attr(attr(0x40, 5, bytes(5))),
        src7 + "5)", "treat-as-withdraw")
    bad("attributes.vec", "atomic-aggregate-length-1", with_attr(attr(0x40, 6, b"\x00")),
        src7 + "6)", "attribute-discard", {"attributes": "1 2 3"})
    bad("attributes.vec", "atomic-aggregate-optional-flag", with_attr(attr(0xC0, 6, b"")),
        src7 + "6)", "attribute-discard")
    bad("attributes.vec", "aggregator-length-5", with_attr(attr(0xC0, 7, bytes(5))),
        src7 + "7)", "attribute-discard", {"attributes": "1 2 3", "nlri": "198.51.100.0/24"})
    bad("attributes.vec", "aggregator-length-6-in-4-octet-session", with_attr(
        attr(0xC0, 7, bytes(6))), src7 + "7)", "attribute-discard")
    bad("attributes.vec", "communities-length-3", with_attr(attr(0xC0, 8, bytes(3))),
        src7 + "8)", "treat-as-withdraw")
    bad("attributes.vec", "communities-length-0", with_attr(attr(0xC0, 8, b"")),
        src7 + "8)", "treat-as-withdraw")
    bad("attributes.vec", "originator-id-length-3", with_attr(attr(0x80, 9, bytes(3))),
        src7 + "9)", "treat-as-withdraw")
    bad("attributes.vec", "cluster-list-length-5", with_attr(attr(0x80, 10, bytes(5))),
        src7 + "10)", "treat-as-withdraw")
    bad("attributes.vec", "ext-communities-length-7", with_attr(attr(0xC0, 16, bytes(7))),
        src7 + "14)", "treat-as-withdraw")
    bad("attributes.vec", "large-communities-length-8", with_attr(attr(0xC0, 32, bytes(8))),
        f"{H} (RFC 8092 §6)", "treat-as-withdraw")
    bad("attributes.vec", "as4-path-malformed", with_attr(attr(0xC0, 17, bytes([2, 2, 0]))),
        f"{H} (RFC 6793 §6)", "attribute-discard")
    bad("attributes.vec", "as4-aggregator-length-7", with_attr(attr(0xC0, 18, bytes(7))),
        f"{H} (RFC 6793 §6)", "attribute-discard")
    bad("attributes.vec", "ipv6-ext-communities-length-19", with_attr(attr(0xC0, 25, bytes(19))),
        f"{H} (RFC 5701, RFC 7606 §7.14)", "treat-as-withdraw")
    bad("attributes.vec", "aigp-metric-tlv-length-10",
        with_attr(attr(0x80, 26, b"\x01\x00\x0a" + bytes(7))),
        f"{H} (RFC 7311 §3.1)", "attribute-discard")
    bad("attributes.vec", "otc-length-3", with_attr(attr(0xC0, 35, bytes(3))),
        f"{H} (RFC 9234 §5)", "treat-as-withdraw")
    bad("attributes.vec", "discard-and-withdraw-strongest-wins", with_attr(
        attr(0x40, 6, b"\x00") + attr(0x80, 4, b"\x00")), u + "3 (h))",
        "treat-as-withdraw")
    bad("attributes.vec", "mp-reach-next-hop-length-5", update(attrs=mp_base
        + mp_reach(2, 1, bytes(5), pfx("2001:db8::/32"))), src7 + "11)", "session-reset 3/9")
    bad("attributes.vec", "mp-reach-next-hop-overrun", update(attrs=mp_base
        + attr(0x80, 14, struct.pack("!HBB", 2, 1, 16) + bytes(4))), src7 + "11)",
        "session-reset 3/9")
    bad("attributes.vec", "mp-reach-length-2", update(attrs=mp_base
        + attr(0x80, 14, b"\x00\x02")), src7 + "11)", "session-reset 3/9")
    bad("attributes.vec", "mp-reach-ipv6-prefix-length-129", update(attrs=mp_base
        + mp_reach(2, 1, v6nh, bytes([129]) + bytes(17))), f"{H} (RFC 4760 §7, RFC 7606 §5.3)",
        "session-reset 3/9")
    bad("attributes.vec", "mp-reach-ipv4-prefix-length-33", update(attrs=mp_base
        + mp_reach(1, 1, ip("192.0.2.1"), bytes([33]) + bytes(5))),
        f"{H} (RFC 4760 §7, RFC 7606 §5.3)", "session-reset 3/9")
    bad("attributes.vec", "mp-unreach-ipv6-prefix-length-129", update(attrs=mp_unreach(2, 1,
        bytes([129]) + bytes(17))), f"{H} (RFC 4760 §7, RFC 7606 §5.3)", "session-reset 3/9")
    bad("attributes.vec", "mp-unreach-prefix-truncated", update(attrs=mp_unreach(2, 1,
        bytes([64, 0x20, 0x01]))), f"{H} (RFC 4760 §7, RFC 7606 §5.3)", "session-reset 3/9")

def newer_attributes():
    H = "hand-made"
    """RFC 5701, RFC 7311, RFC 9234 attributes, and the RFC 6793 AS4_PATH merge."""
    nlri = pfx("198.51.100.0/24")
    v6ec = bytes.fromhex("0002") + ip("2001:db8::1") + bytes.fromhex("0064")
    vec("attributes.vec", "attr-ipv6-extended-community",
        update(attrs=base_attrs() + attr(0xC0, 25, v6ec), nlri=nlri),
        f"{H} (RFC 5701 §2)", dict(type="UPDATE", **BASE, ipv6_ext_communities=v6ec.hex()))
    metric = b"\x01\x00\x0b" + struct.pack("!Q", 1000)
    vec("attributes.vec", "attr-aigp-metric",
        update(attrs=base_attrs() + attr(0x80, 26, metric), nlri=nlri),
        f"{H} (RFC 7311 §3)", dict(type="UPDATE", **BASE, aigp="1:00000000000003e8"))
    vec("attributes.vec", "attr-otc",
        update(attrs=base_attrs() + attr(0xC0, 35, struct.pack("!I", 65010)), nlri=nlri),
        f"{H} (RFC 9234 §5)", dict(type="UPDATE", **BASE, otc="65010"))
    # A 2-octet session: AS_PATH 65010 23456 65000, AS4_PATH 4200000001 65000.
    two = origin(0) + attr(0x40, 2, seg(2, [65010, 23456, 65000], four=False)) \
        + next_hop("192.0.2.1") + attr(0xC0, 17, seg(2, [4200000001, 65000]))
    vec("attributes.vec", "attr-as4-path-merge", update(attrs=two, nlri=nlri),
        f"{H} (RFC 6793 §4.2.3)",
        dict(type="UPDATE", as_path="65010 23456 65000", as4_path="4200000001 65000",
             as_path_effective="65010 4200000001 65000"),
        context={"four_octet_as": "false"})


def add_path():
    """RFC 7911: a 4-octet path identifier before each NLRI of a family where ADD-PATH was
    negotiated (the receiver said receive, the sender send), as `context.add_path` says."""
    H = "hand-made"
    src = f"{H} (RFC 7911 §3)"

    def pid(n):
        return struct.pack("!I", n)

    v4 = {"context": {"add_path": "ipv4-unicast"}}
    v6 = {"context": {"add_path": "ipv6-unicast"}}
    vec("add-path.vec", "add-path-ipv4-two-paths-classic-nlri",
        update(attrs=base_attrs(), nlri=pid(1) + pfx("198.51.100.0/24")
               + pid(2) + pfx("198.51.100.0/24")), src,
        dict(type="UPDATE", **BASE, withdrawn="", nlri="1@198.51.100.0/24 2@198.51.100.0/24"),
        **v4)
    vec("add-path.vec", "add-path-ipv4-classic-withdrawn",
        update(withdrawn=pid(7) + pfx("203.0.113.0/24") + pid(0) + pfx("192.0.2.128/25")),
        src, {"type": "UPDATE", "withdrawn": "7@203.0.113.0/24 0@192.0.2.128/25",
              "nlri": "", "attributes": ""}, **v4)
    vec("add-path.vec", "add-path-ipv4-path-id-max",
        update(attrs=base_attrs(), nlri=pid(0xFFFFFFFF) + pfx("198.51.100.7/32")), src,
        dict(type="UPDATE", **BASE, nlri="4294967295@198.51.100.7/32"), **v4)
    mp_base = origin(0) + as_path(seq(65001))
    nh6 = ip("2001:db8::1")
    vec("add-path.vec", "add-path-ipv6-mp-reach-two-paths",
        update(attrs=mp_base + mp_reach(2, 1, nh6, pid(10) + pfx("2001:db8:1::/48")
                                        + pid(11) + pfx("2001:db8:1::/48"))), src,
        {"type": "UPDATE", "mp_reach_family": "ipv6-unicast", "mp_reach_next_hop": "2001:db8::1",
         "mp_reach_nlri": "10@2001:db8:1::/48 11@2001:db8:1::/48"}, **v6)
    vec("add-path.vec", "add-path-ipv6-mp-unreach",
        update(attrs=mp_unreach(2, 1, pid(11) + pfx("2001:db8:1::/48"))), src,
        {"type": "UPDATE", "mp_unreach_family": "ipv6-unicast",
         "mp_unreach_nlri": "11@2001:db8:1::/48", "attributes": "15"}, **v6)
    vec("add-path.vec", "add-path-ipv4-unicast-in-mp-reach",
        update(attrs=mp_base + mp_reach(1, 1, ip("192.0.2.3"), pid(0) + pfx("198.51.100.128/25"))),
        f"{src}; as bgpinject sends a route without path-information on an ADD-PATH session",
        {"type": "UPDATE", "nlri": "", "mp_reach_family": "ipv4-unicast",
         "mp_reach_next_hop": "192.0.2.3", "mp_reach_nlri": "0@198.51.100.128/25"}, **v4)
    # Labels 100 (label << 4 | bottom of stack) and, for VPN, label 300 and RD 65000:1.
    labeled = pid(3) + bytes([24 + 24]) + bytes.fromhex("000641") + bytes([198, 51, 100])
    vec("add-path.vec", "add-path-ipv4-labeled-unicast",
        update(attrs=mp_base + mp_reach(1, 4, ip("192.0.2.1"), labeled)),
        f"{H} (RFC 7911 §3, RFC 8277 §2)",
        {"type": "UPDATE", "mp_reach_family": "ipv4-labeled-unicast",
         "mp_reach_next_hop": "192.0.2.1", "mp_reach_nlri": "3@198.51.100.0/24#100"},
        context={"add_path": "ipv4-labeled-unicast"})
    vpn = pid(4) + bytes([24 + 64 + 24]) + bytes.fromhex("0012c1") \
        + bytes([0, 0, 0xfd, 0xe8, 0, 0, 0, 1]) + bytes([203, 0, 113])
    vec("add-path.vec", "add-path-ipv4-mpls-vpn",
        update(attrs=mp_base + ext("0002fde800000001")
               + mp_reach(1, 128, bytes(8) + ip("192.0.2.1"), vpn)),
        f"{H} (RFC 7911 §3, RFC 4364 §4.3.4)",
        {"type": "UPDATE", "mp_reach_family": "ipv4-mpls-vpn", "mp_reach_next_hop": "192.0.2.1",
         "mp_reach_nlri": "4@65000:1/203.0.113.0/24#300", "ext_communities": "0002fde800000001"},
        context={"add_path": "ipv4-mpls-vpn"})
    vec("add-path.vec", "add-path-two-families",
        update(attrs=base_attrs() + mp_reach(2, 1, nh6, pid(5) + pfx("2001:db8:2::/48")),
               nlri=pid(6) + pfx("198.51.100.0/24")), src,
        dict(type="UPDATE", **BASE, nlri="6@198.51.100.0/24", mp_reach_family="ipv6-unicast",
             mp_reach_nlri="5@2001:db8:2::/48"),
        context={"add_path": "ipv4-unicast ipv6-unicast"})
    vec("add-path.vec", "add-path-other-family-only",
        update(attrs=base_attrs(), nlri=pfx("198.51.100.0/24")),
        f"{src}: identifiers only in the families negotiated",
        dict(type="UPDATE", **BASE, nlri="198.51.100.0/24"), **v6)
    bad("add-path.vec", "add-path-classic-nlri-truncated-path-id",
        update(attrs=base_attrs(), nlri=pid(1)[:3]), f"{src}, RFC 4271 §6.3",
        "session-reset 3/10", {"type": "UPDATE"}, **v4)
    bad("add-path.vec", "add-path-mp-reach-truncated-path-id",
        update(attrs=mp_base + mp_reach(2, 1, nh6, pid(10) + pfx("2001:db8:1::/48") + pid(11)[:2])),
        f"{src}, RFC 7606 §5.3", "session-reset 3/9", {"type": "UPDATE"}, **v6)


if __name__ == "__main__":
    build()
    newer_attributes()
    add_path()
    write_files()
    if len(sys.argv) == 3 and sys.argv[1] == "--pcap":
        write_pcap(sys.argv[2])
    for (directory, file), vectors in sorted(FILES.items()):
        print(f"{directory}/{file}: {len(vectors)}")
