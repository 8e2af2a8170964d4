"""What the pcap-to-vectors converters share: BGP messages cut out of a pcap's TCP payloads,
tshark's decoding of the same messages, and helpers to walk tshark's JSON.

Used by pcap-to-vectors.py and families-pcap-to-vectors.py (imported, not run).
"""
import json
import subprocess

TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}
FAMILIES = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast", (1, 2): "ipv4-multicast",
            (2, 2): "ipv6-multicast", (1, 4): "ipv4-labeled-unicast",
            (2, 4): "ipv6-labeled-unicast", (1, 128): "ipv4-mpls-vpn", (2, 128): "ipv6-mpls-vpn",
            (1, 133): "ipv4-flowspec", (2, 133): "ipv6-flowspec"}
ORIGINS = {"0": "igp", "1": "egp", "2": "incomplete"}


def family(afi, safi):
    return FAMILIES.get((int(afi), int(safi)), f"afi{afi}-safi{safi}")


def our_messages(pcap, port):
    """{frame: [(src, dst, bytes)]}: messages completed in each frame, per direction."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-d", f"tcp.port=={port},bgp", "-Y", "tcp.len > 0", "-T", "fields",
         "-e", "frame.number", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
         "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "tcp.payload"],
        capture_output=True, text=True, check=True).stdout
    buffers, frames = {}, {}
    for line in out.splitlines():
        f = line.split("\t")
        frame, src, dst = int(f[0]), f"{f[1] or f[2]}:{f[3]}", f"{f[4] or f[5]}:{f[6]}"
        buf = buffers.setdefault((src, dst), bytearray())
        buf += bytes.fromhex(f[7].replace(":", ""))
        while len(buf) >= 19:
            length = int.from_bytes(buf[16:18], "big")
            if length < 19 or len(buf) < length:
                break
            frames.setdefault(frame, []).append((src, dst, bytes(buf[:length])))
            del buf[:length]
    return frames


def tshark_messages(pcap, port):
    """{frame: [bgp message tree]} as tshark's dissector decoded them."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-d", f"tcp.port=={port},bgp", "-Y", "bgp", "-T", "json", "--no-duplicate-keys",
         "-J", "frame bgp"], capture_output=True, text=True, check=True).stdout
    frames = {}
    for packet in json.loads(out):
        layers = packet["_source"]["layers"]
        frame = int(as_list(layers["frame"])[0]["frame.number"])
        msgs = []
        for layer in as_list(layers["bgp"]):
            # Several messages in one frame: one layer each, or a list under one key.
            if "bgp.type" in layer:
                msgs.extend(split_layer(layer))
            else:
                msgs.extend(v for v in layer.values() if isinstance(v, dict))
        frames[frame] = msgs
    return frames


def split_layer(layer):
    if isinstance(layer.get("bgp.type"), list):
        # --no-duplicate-keys merged sibling messages; tshark does not do that for layers,
        # so treat as undecodable.
        return [None] * len(layer["bgp.type"])
    return [layer]


def as_list(v):
    return v if isinstance(v, list) else [v]


def walk(tree):
    """Yields (key, value, parent dict) in document order, lists expanded."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            for item in as_list(v):
                if isinstance(item, (dict, list)):
                    yield from walk(item)
                else:
                    yield k, item, tree
    elif isinstance(tree, list):
        for item in tree:
            yield from walk(item)


def values(tree, key):
    return [v for k, v, _ in walk(tree) if k == key]


def attributes(msg):
    """The path attribute subtrees, in wire order."""
    pa = msg.get("bgp.update.path_attributes", {})
    out = []
    for d in as_list(pa):
        if isinstance(d, dict):
            out.extend(as_list(d.get("bgp.update.path_attribute", [])))
    return [a for a in out if isinstance(a, dict)]


def ext_community_hex(c):
    t = int(c["bgp.ext_com.type"], 16)
    st = next(int(v, 16) for k, v in c.items() if k.startswith("bgp.ext_com.stype"))
    head = f"{t:02x}{st:02x}"
    if "bgp.ext_com.value_as4" in c:
        return head + f"{int(c['bgp.ext_com.value_as4']):08x}{int(c['bgp.ext_com.value_an2']):04x}"
    if "bgp.ext_com.value_IP4" in c:
        ip = "".join(f"{int(o):02x}" for o in c["bgp.ext_com.value_IP4"].split("."))
        return head + ip + f"{int(c['bgp.ext_com.value_an2']):04x}"
    return head + f"{int(c['bgp.ext_com.value_as2']):04x}{int(c['bgp.ext_com.value_an4']):08x}"


def four_octet_as_sessions(ours):
    """{(src, dst): whether that side's OPEN carries the 4-octet AS capability (65)}."""
    open_as4 = {}
    for frame, msgs in sorted(ours.items()):
        for src, dst, raw in msgs:
            if raw[18] == 1:
                open_as4[(src, dst)] = b"\x41\x04" in raw[29:]
    return open_as4
