"""What the pcap-to-vectors converters share: BGP messages cut out of a pcap's TCP payloads,
tshark's decoding of the same messages, helpers to walk tshark's JSON, the expect.* lines of a
message (with label stacks, route distinguishers and path ids where there are), and the loop
that prints the vectors.

Used by pcap-to-vectors.py and families-pcap-to-vectors.py (imported, not run).
"""
import json
import subprocess
import sys

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


class Undecoded(Exception):
    """tshark did not decode an NLRI (its own format string left in the output)."""


def labels(p):
    stack = as_list(p.get("bgp.label_stack", []))
    if any("%" in s for s in stack):
        raise Undecoded(stack)
    out = []
    for s in stack:
        # "100 (bottom)", or "100,200 (bottom)" for a stack.
        out.extend(s.replace("(bottom)", "").replace("(withdrawn)", "").replace(",", " ").split())
    return out


def prefixes(tree, key):
    """PREFIX, ID@PREFIX, [RD/]PREFIX#LABEL,...: the prefix length without labels and RD."""
    out = []
    for k, v, p in walk(tree):
        if k != key:
            continue
        length = int(p["bgp.prefix_length"])
        ls = labels(p)
        length -= 24 * len(ls) + (64 if "bgp.rd" in p else 0)
        s = f"{v}/{length}"
        if "bgp.rd" in p:
            s = f"{p['bgp.rd']}/{s}"
        if ls:
            s += "#" + ",".join("withdrawn" if l == "524288" else l for l in ls)
        if "bgp.nlri_path_id" in p:
            s = f"{p['bgp.nlri_path_id']}@{s}"
        out.append(s)
    for k, v, _ in walk(tree):
        if k == "bgp.label_stack" and "%" in str(v):
            raise Undecoded(v)
    return out


MP = {14: "mp_reach_nlri", 15: "mp_unreach_nlri"}


def expect_update(msg, as4):
    e = {}
    withdrawn = prefixes(msg, "bgp.withdrawn_prefix")
    nlri = prefixes(msg, "bgp.nlri_prefix")
    attrs = attributes(msg)
    if withdrawn:
        e["withdrawn"] = " ".join(withdrawn)
    if nlri:
        e["nlri"] = " ".join(nlri)
    if not attrs and not withdrawn and not nlri:
        e["eor"] = "ipv4-unicast"
    for a in attrs:
        code = int(a["bgp.update.path_attribute.type_code"])
        if code == 1:
            e["origin"] = ORIGINS[a["bgp.update.path_attribute.origin"]]
        elif code == 2:
            key = "bgp.update.path_attribute.as_path_segment.as4" if as4 else \
                "bgp.update.path_attribute.as_path_segment.as2"
            segs = []
            for _, _, seg in ((k, v, p) for k, v, p in walk(a)
                              if k == "bgp.update.path_attribute.as_path_segment.type"):
                asns = " ".join(as_list(seg.get(key, [])))
                segs.append(asns if seg["bgp.update.path_attribute.as_path_segment.type"] == "2"
                            else "{" + asns + "}")
            e["as_path"] = " ".join(s for s in segs if s)
        elif code == 3:
            e["next_hop"] = a["bgp.update.path_attribute.next_hop"]
        elif code == 4:
            e["med"] = a["bgp.update.path_attribute.multi_exit_disc"]
        elif code == 5:
            e["local_pref"] = a["bgp.update.path_attribute.local_pref"]
        elif code == 6:
            e["atomic_aggregate"] = "true"
        elif code == 8:
            out = []
            for k, v, p in walk(a):
                if k == "bgp.update.path_attribute.community_as":
                    out.append(f"{v}:{p['bgp.update.path_attribute.community_value']}")
                elif k == "bgp.update.path_attribute.community_wellknown":
                    w = int(v, 16)
                    out.append(f"{w >> 16}:{w & 0xffff}")
            e["communities"] = " ".join(out)
        elif code == 16:
            out = [ext_community_hex(p) for k, _, p in walk(a) if k == "bgp.ext_com.type"]
            e["ext_communities"] = " ".join(out)
        elif code == 32:
            out = [f"{v}:{p['bgp.large_communities.ldp1']}:{p['bgp.large_communities.ldp2']}"
                   for k, v, p in walk(a) if k == "bgp.large_communities.ga"]
            e["large_communities"] = " ".join(out)
        elif code in (14, 15) and a.get(f"bgp.update.path_attribute.{MP[code]}.afi") == "2" \
                and a.get(f"bgp.update.path_attribute.{MP[code]}.safi") == "128" \
                and (code == 14 or int(a["bgp.update.path_attribute.length"]) > 3):
            # tshark 4.0.17 exports only the label stack of an IPv6 VPN NLRI (no RD, no
            # prefix field), and sometimes prints its format string instead of the text.
            raise Undecoded("IPv6 VPN NLRI: no RD or prefix fields")
        elif code == 14:
            fam = family(a["bgp.update.path_attribute.mp_reach_nlri.afi"],
                         a["bgp.update.path_attribute.mp_reach_nlri.safi"])
            e["mp_reach_family"] = fam
            hops = [v for k, v, _ in walk(a)
                    if k.startswith("bgp.update.path_attribute.mp_reach_nlri.next_hop.")
                    and not k.endswith(".rd")]
            e["mp_reach_next_hop"] = " ".join(hops)
            e["mp_reach_nlri"] = " ".join(prefixes(a, "bgp.mp_reach_nlri_ipv6_prefix")
                                          + prefixes(a, "bgp.mp_reach_nlri_ipv4_prefix"))
        elif code == 15:
            fam = family(a["bgp.update.path_attribute.mp_unreach_nlri.afi"],
                         a["bgp.update.path_attribute.mp_unreach_nlri.safi"])
            gone = prefixes(a, "bgp.mp_unreach_nlri_ipv6_prefix") + \
                prefixes(a, "bgp.mp_unreach_nlri_ipv4_prefix")
            if gone or len(attrs) > 1:
                e["mp_unreach_family"] = fam
                e["mp_unreach_nlri"] = " ".join(gone)
            else:
                e["eor"] = fam
    return e


def expect(msg, as4):
    t = int(msg["bgp.type"])
    e = {"type": TYPES.get(t, str(t))}
    if t == 1:
        e["version"] = msg["bgp.open.version"]
        e["asn"] = msg["bgp.open.myas"]
        e["hold_time"] = msg["bgp.open.holdtime"]
        e["router_id"] = msg["bgp.open.identifier"]
        e["capabilities"] = " ".join(values(msg, "bgp.cap.type"))
        if values(msg, "bgp.cap.4as"):
            e["as4"] = values(msg, "bgp.cap.4as")[0]
        fams = [family(a, s) for a, s in zip(values(msg, "bgp.cap.mp.afi"),
                                             values(msg, "bgp.cap.mp.safi"))]
        if fams:
            e["families"] = " ".join(fams)
    elif t == 2:
        e.update(expect_update(msg, as4))
    elif t == 3:
        e["code"] = msg["bgp.notify.major_error"]
        e["subcode"] = next(v for k, v in msg.items() if k.startswith("bgp.notify.minor_error"))
    elif t == 5:
        e["family"] = family(msg["bgp.route_refresh.afi"], msg["bgp.route_refresh.safi"])
    return e


def print_vectors(pcap, port, capture_script, peer, tshark_name, name_prefix, update_suffix,
                  add_path_sender=None):
    """Prints one vector per distinct message of the capture: `name_prefix`-KIND-N, with KIND
    ending in `update_suffix(expectations)` for UPDATEs; `add_path_sender` is the address
    whose UPDATEs carry path ids (context.add_path), if any."""
    ours, theirs = our_messages(pcap, port), tshark_messages(pcap, port)
    # Sessions without 4-octet AS: both OPENs must carry capability 65.
    open_as4 = four_octet_as_sessions(ours)
    seen, count = set(), {}
    print(f"# Captured by {capture_script}: {peer} <-> {peer} on loopback, "
          f"expectations from {tshark_name}'s BGP dissector. Generated file: do not edit.\n")
    for frame, msgs in sorted(ours.items()):
        decoded = theirs.get(frame, [])
        for i, (src, dst, raw) in enumerate(msgs):
            if raw in seen:
                continue
            msg = decoded[i] if i < len(decoded) else None
            if msg is None or int(msg["bgp.length"]) != len(raw) or int(msg["bgp.type"]) != raw[18]:
                print(f"frame {frame}: tshark's decoding does not line up; skipped", file=sys.stderr)
                continue
            as4 = open_as4.get((src, dst), True) and open_as4.get((dst, src), True)
            try:
                e = expect(msg, as4)
            except Undecoded as err:
                print(f"frame {frame}: tshark does not decode an NLRI ({err}); skipped",
                      file=sys.stderr)
                continue
            except (KeyError, StopIteration, ValueError) as err:
                print(f"frame {frame}: cannot read tshark's decoding ({err!r}); skipped",
                      file=sys.stderr)
                continue
            seen.add(raw)
            kind = e["type"].lower()
            if "eor" in e:
                kind = "eor-" + e["eor"]
            elif e["type"] == "UPDATE":
                kind = "update-" + ("withdraw" if ("withdrawn" in e or "mp_unreach_nlri" in e)
                                    and "nlri" not in e and "mp_reach_nlri" not in e else "announce")
                kind += "-" + update_suffix(e)
            count[kind] = count.get(kind, 0) + 1
            h = raw.hex()
            print(f"name: {name_prefix}-{kind}-{count[kind]}")
            print(f"source: {peer} {src} -> {peer} {dst}, loopback, frame {frame}, "
                  f"tshark capture ({capture_script}); expect.* from {tshark_name} "
                  f"BGP dissector")
            if not as4:
                print("context.four_octet_as: false")
            if add_path_sender and src.rsplit(":", 1)[0] == add_path_sender and raw[18] == 2:
                print("context.add_path: ipv4-unicast")
            print("hex: " + h[:32] + " " + h[32:36] + " " + h[36:38] + " " + h[38:])
            for k, v in e.items():
                print(f"expect.{k}: {v}")
            print()
