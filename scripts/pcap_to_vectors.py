#!/usr/bin/env python3
"""Turns a tshark capture of BGP sessions into test vectors (test-vectors/README.md).

usage: pcap_to_vectors.py CAPTURE OUT_DIR VERSIONS ADDRESS=NAME...

VERSIONS is `name=Software version|...|tshark=TShark version`; each ADDRESS=NAME says which
implementation sent from ADDRESS. Writes OUT_DIR/NAME.vec with one vector per distinct message
sent by NAME. The bytes come from tshark's `bgp_raw` (one BGP message each, even when several
share a TCP segment); the `expect.*` lines come from tshark's BGP dissector, never from our code.
"""

import json
import subprocess
import sys
from collections import OrderedDict

TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}
FAMILIES = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast", (1, 133): "ipv4-flowspec",
            (2, 133): "ipv6-flowspec", (1, 2): "ipv4-multicast", (2, 2): "ipv6-multicast"}
ORIGINS = {0: "igp", 1: "egp", 2: "incomplete"}


class Obj:
    """A JSON object with its keys in order, duplicates kept (tshark repeats keys)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def all(self, key):
        return [v for k, v in self.pairs if k == key]

    def get(self, key, default=None):
        vals = self.all(key)
        return vals[0] if vals else default

    def children(self):
        return [(k, v) for k, v in self.pairs if isinstance(v, Obj)]


def walk(obj):
    """Every (key, value) below obj, depth first, in document order."""
    for k, v in obj.pairs:
        yield k, v
        if isinstance(v, Obj):
            yield from walk(v)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, Obj):
                    yield from walk(x)


def values(obj, key):
    return [v for k, v in walk(obj) if k == key]


def prefixes(obj):
    """Child objects named like a prefix (`198.51.100.0/24`), in wire order."""
    if not isinstance(obj, Obj):
        return []
    return [k for k, v in obj.children() if "/" in k and not k.startswith("bgp.")]


def family(afi, safi):
    return FAMILIES.get((int(afi), int(safi)))


def raw_hex(v):
    return v[0] if isinstance(v, list) else v



def decode_open(m):
    e = OrderedDict()
    e["version"] = m.get("bgp.open.version")
    e["asn"] = m.get("bgp.open.myas")
    e["hold_time"] = m.get("bgp.open.holdtime")
    e["router_id"] = m.get("bgp.open.identifier")
    caps = values(m, "bgp.cap")
    e["capabilities"] = " ".join(c.get("bgp.cap.type") for c in caps)
    fams = []
    for c in caps:
        if c.get("bgp.cap.type") == "1":
            fams.append(family(c.get("bgp.cap.mp.afi"), c.get("bgp.cap.mp.safi")))
        if c.get("bgp.cap.type") == "65":
            e["as4"] = c.get("bgp.cap.4as")
    if fams and None not in fams:
        e["families"] = " ".join(fams)
    return e


def as_path(attr):
    out = []
    for seg in attr.all("bgp.update.path_attribute.as_path_segment"):
        kind = seg.get("bgp.update.path_attribute.as_path_segment.type")
        asns = seg.all("bgp.update.path_attribute.as_path_segment.as4") or seg.all(
            "bgp.update.path_attribute.as_path_segment.as2")
        if kind == "2":
            out.extend(asns)
        else:
            left, right = {"1": "{}", "3": "()", "4": "[]"}[kind]
            out.append(left + " ".join(asns) + right)
    return " ".join(out)


def decode_update(m):
    e = OrderedDict()
    withdrawn = prefixes(m.get("bgp.update.withdrawn_routes"))
    nlri = prefixes(m.get("bgp.update.nlri"))
    attrs_obj = m.get("bgp.update.path_attributes")
    attrs = attrs_obj.all("bgp.update.path_attribute") if isinstance(attrs_obj, Obj) else []
    if not withdrawn and not nlri and not attrs:
        e["eor"] = "ipv4-unicast"
        return e
    if withdrawn:
        e["withdrawn"] = " ".join(withdrawn)
    if nlri:
        e["nlri"] = " ".join(nlri)
    p = "bgp.update.path_attribute."
    for a in attrs:
        code = int(a.get(p + "type_code"))
        if code == 1:
            e["origin"] = ORIGINS[int(a.get(p + "origin"))]
        elif code == 2:
            e["as_path"] = as_path(a)
        elif code == 3:
            e["next_hop"] = a.get(p + "next_hop")
        elif code == 4:
            e["med"] = a.get(p + "multi_exit_disc")
        elif code == 5:
            e["local_pref"] = a.get(p + "local_pref")
        elif code == 6:
            e["atomic_aggregate"] = "true"
        elif code == 7:
            e["aggregator"] = "%s:%s" % (a.get(p + "aggregator_as"), a.get(p + "aggregator_origin"))
        elif code == 8:
            comms = []
            for k, v in walk(a):
                if k == p + "community":
                    comms.append("%s:%s" % (v.get(p + "community_as"), v.get(p + "community_value")))
                elif k == p + "community_wellknown":
                    n = int(v, 16)
                    comms.append("%d:%d" % (n >> 16, n & 0xFFFF))
            e["communities"] = " ".join(comms)
        elif code == 14:
            r = p + "mp_reach_nlri."
            fam = family(a.get(r + "afi"), a.get(r + "safi"))
            if fam is None:
                continue
            e["mp_reach_family"] = fam
            tree = a.get(r + "next_hop_tree")
            hops = [v for k, v in tree.pairs if not k.endswith("_raw")] if isinstance(tree, Obj) else []
            if hops:
                e["mp_reach_next_hop"] = " ".join(hops)
            reach = [prefixes(v) for v in a.all(p + "mp_reach_nlri") if isinstance(v, Obj)]
            e["mp_reach_nlri"] = " ".join(x for xs in reach for x in xs)
        elif code == 15:
            u = p + "mp_unreach_nlri."
            fam = family(a.get(u + "afi"), a.get(u + "safi"))
            if fam is None:
                continue
            unreach = [prefixes(v) for v in a.all(p + "mp_unreach_nlri") if isinstance(v, Obj)]
            flat = [x for xs in unreach for x in xs]
            if not flat and len(attrs) == 1 and not withdrawn and not nlri:
                return OrderedDict([("eor", fam)])
            e["mp_unreach_family"] = fam
            e["mp_unreach_nlri"] = " ".join(flat)
        elif code == 16:
            e["ext_communities"] = " ".join(
                raw_hex(v) for v in values(a, "bgp.ext_community_raw"))
        elif code == 32:
            e["large_communities"] = " ".join(
                "%s:%s:%s" % (v.get("bgp.large_communities.ga"), v.get("bgp.large_communities.ldp1"),
                              v.get("bgp.large_communities.ldp2"))
                for v in large_objects(a))
    return e


def large_objects(a):
    """tshark 4.0 writes each large community as `bgp.large_communities` with a subtree."""
    out = []
    for k, v in walk(a):
        if k == "bgp.large_communities_tree" and isinstance(v, Obj):
            out.append(v)
    return out


def decode_notification(m):
    e = OrderedDict()
    e["code"] = m.get("bgp.notify.major_error")
    for k, v in m.pairs:
        if k.startswith("bgp.notify.minor_error") and not k.endswith("_raw"):
            e["subcode"] = v
    return e


def decode_route_refresh(m):
    fam = family(m.get("bgp.route_refresh.afi"), m.get("bgp.route_refresh.safi"))
    return OrderedDict([("family", fam)]) if fam else OrderedDict()


def name_of(kind, e):
    if kind == "UPDATE":
        if "eor" in e:
            return "eor-" + e["eor"]
        fams = []
        if "nlri" in e or "withdrawn" in e:
            fams.append("ipv4")
        for k in ("mp_reach_family", "mp_unreach_family"):
            if k in e:
                fams.append(e[k].split("-")[0])
        verb = "withdraw" if ("withdrawn" in e or "mp_unreach_nlri" in e) and not (
            "nlri" in e or "mp_reach_nlri" in e) else "update"
        return "%s-%s" % (verb, "-".join(sorted(set(fams))) or "attributes")
    if kind == "NOTIFICATION":
        return "notification-%s-%s" % (e.get("code"), e.get("subcode"))
    if kind == "ROUTE-REFRESH":
        return "route-refresh-" + e.get("family", "unknown")
    return kind.lower()


def main():
    pcap, out_dir, versions = sys.argv[1:4]
    senders = dict(arg.split("=", 1) for arg in sys.argv[4:])
    version = dict(v.split("=", 1) for v in versions.split("|"))
    ports = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.dstport", "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0"],
        capture_output=True, text=True, check=True).stdout.split()
    decode_as = []
    for port in sorted(set(ports)):
        decode_as += ["-d", "tcp.port==%s,bgp" % port]
    dump = subprocess.run(["tshark", "-r", pcap, "-x", "-T", "json", "-J", "ip bgp", "-Y", "bgp"] + decode_as,
                          capture_output=True, text=True, check=True).stdout
    frames = json.loads(dump, object_pairs_hook=Obj)
    vectors = {name: OrderedDict() for name in set(senders.values())}
    for frame in frames:
        layers = frame.get("_source").get("layers")
        src = layers.get("ip").get("ip.src")
        dst = layers.get("ip").get("ip.dst")
        sender = senders.get(src)
        if sender is None:
            continue
        receiver = senders.get(dst, dst)
        for msg, raw in zip(layers.all("bgp"), layers.all("bgp_raw")):
            hexs = raw_hex(raw)
            data = bytes.fromhex(hexs)
            if data[:16] != b"\xff" * 16 or int.from_bytes(data[16:18], "big") != len(data):
                continue
            kind = TYPES.get(int(msg.get("bgp.type")))
            if kind is None or hexs in vectors[sender]:
                continue
            decoder = {"OPEN": decode_open, "UPDATE": decode_update,
                       "NOTIFICATION": decode_notification, "ROUTE-REFRESH": decode_route_refresh}
            e = decoder[kind](msg) if kind in decoder else OrderedDict()
            vectors[sender][hexs] = (kind, e, src, dst, receiver)
    for sender, msgs in sorted(vectors.items()):
        seen = {}
        lines = ["# Captured by scripts/capture-peer-vectors.sh: messages sent by %s." % version[sender],
                 "# expect.* lines are tshark's decoding, not bgpinject's.", ""]
        # Sorted by kind then bytes, so that a new capture of the same messages gives the same file.
        rank = ["OPEN", "KEEPALIVE", "UPDATE", "ROUTE-REFRESH", "NOTIFICATION"]
        ordered = sorted(msgs.items(), key=lambda m: (rank.index(m[1][0]), name_of(m[1][0], m[1][1]), m[0]))
        for hexs, (kind, e, src, dst, receiver) in ordered:
            base = "%s-%s" % (sender, name_of(kind, e))
            seen[base] = seen.get(base, 0) + 1
            lines.append("name: %s-%d" % (base, seen[base]))
            lines.append("source: %s -> %s, %s -> %s, tshark capture (scripts/capture-peer-vectors.sh); "
                         "expect.* from %s BGP dissector" % (
                             version[sender], version.get(receiver, receiver), src, dst, version["tshark"]))
            spaced = " ".join(hexs[i:i + 32] for i in range(0, len(hexs), 32))
            lines.append("hex: " + spaced)
            lines.append("expect.type: " + kind)
            for k, v in e.items():
                if v is not None and v != "":
                    lines.append("expect.%s: %s" % (k, v))
            lines.append("")
        path = "%s/%s.vec" % (out_dir, sender)
        with open(path, "w") as f:
            f.write("\n".join(lines))
        print("%s: %d vectors" % (path, len(msgs)))


if __name__ == "__main__":
    main()
