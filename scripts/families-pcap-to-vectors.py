#!/usr/bin/env python3
"""Turns a pcap of BGP sessions carrying labeled unicast, VPN, multicast and ADD-PATH NLRI into
test vectors (test-vectors/README.md); scripts/capture-families-vectors.sh runs it. A variant
of pcap-to-vectors.py that also reads tshark's label stacks, route distinguishers and path ids.

The bytes come from the TCP payloads, split into messages with the BGP length field (several
messages per segment, or one message over several segments). The expect.* lines come from
tshark's BGP dissector (`-T json --no-duplicate-keys`), matched to our messages by frame and
position and checked against our length and type. One vector per distinct message.

Usage: families-pcap-to-vectors.py PCAP PORT ADD_PATH_SENDER PEER_NAME TSHARK_NAME > OUT.vec
ADD_PATH_SENDER: the address whose IPv4 unicast UPDATEs carry path ids (context.add_path).
"""
import sys

from bgp_pcap import (ORIGINS, TYPES, as_list, attributes, ext_community_hex, family,
                      four_octet_as_sessions, our_messages, tshark_messages, values, walk)

pcap, port, add_path_sender, peer, tshark_name = sys.argv[1:6]

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


def main():
    ours, theirs = our_messages(pcap, port), tshark_messages(pcap, port)
    # Sessions without 4-octet AS: both OPENs must carry capability 65.
    open_as4 = four_octet_as_sessions(ours)
    seen, count = set(), {}
    print(f"# Captured by scripts/capture-families-vectors.sh: {peer} <-> {peer} on loopback, "
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
                kind += "-" + e.get("mp_reach_family", e.get("mp_unreach_family", "ipv4-unicast"))
            count[kind] = count.get(kind, 0) + 1
            h = raw.hex()
            print(f"name: {peer.split()[0].lower()}-families-{kind}-{count[kind]}")
            print(f"source: {peer} {src} -> {peer} {dst}, loopback, frame {frame}, "
                  f"tshark capture (scripts/capture-families-vectors.sh); expect.* from {tshark_name} "
                  f"BGP dissector")
            if not as4:
                print("context.four_octet_as: false")
            if src.rsplit(":", 1)[0] == add_path_sender and raw[18] == 2:
                print("context.add_path: ipv4-unicast")
            print("hex: " + h[:32] + " " + h[32:36] + " " + h[36:38] + " " + h[38:])
            for k, v in e.items():
                print(f"expect.{k}: {v}")
            print()


main()
