#!/usr/bin/env python3
"""Cross-checks the expectations of valid vectors against tshark's BGP dissector.

python3 test-vectors/tshark_check.py [FILE.vec...]   (default: handmade/ and malformed/)
Writes every vector without expect.error into a pcap (a TCP connection per message, port
179), asks tshark for the fields below and compares them with the expect.* lines.
Prints one line per disagreement and a summary.
"""

import glob
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = {"1": "OPEN", "2": "UPDATE", "3": "NOTIFICATION", "4": "KEEPALIVE", "5": "ROUTE-REFRESH"}
FIELDS = [
    "bgp.type", "bgp.open.version", "bgp.open.myas", "bgp.open.holdtime",
    "bgp.open.identifier", "bgp.cap.type", "bgp.cap.4as", "bgp.withdrawn_prefix",
    "bgp.nlri_prefix", "bgp.update.path_attribute.origin",
    "bgp.update.path_attribute.next_hop", "bgp.update.path_attribute.multi_exit_disc",
    "bgp.update.path_attribute.local_pref", "bgp.update.path_attribute.community_as",
    "bgp.update.path_attribute.community_value", "bgp.update.path_attribute.aggregator_as",
    "bgp.update.path_attribute.aggregator_origin", "bgp.mp_reach_nlri_ipv4_prefix",
    "bgp.mp_reach_nlri_ipv6_prefix", "bgp.mp_unreach_nlri_ipv4_prefix",
    "bgp.mp_unreach_nlri_ipv6_prefix", "bgp.notify.major_error", "bgp.notify.minor_error",
    "bgp.notify.minor_error_open", "bgp.notify.minor_error_update",
    "bgp.notify.minor_error_cease", "bgp.notify.minor_error_state",
    "bgp.route_refresh.subtype", "bgp.originating_as",
]

# Where tshark 4.0 is known to see it differently, and why (checked by hand).
KNOWN = {
    ("attr-community-many", "communities"):
        "tshark reports 0:0 and 65535:65535 (reserved ranges) in community_wellknown",
    ("attr-community-well-known", "communities"): "same: 65535:x are in community_wellknown",
    ("mp-reach-ipv6-prefix-lengths", "mp_reach_nlri"):
        "::/0 first makes tshark's ADD-PATH heuristic misread the NLRI (agrees without it)",
    ("open-rfc9072-extended-parameters", "capabilities"):
        "tshark 4.0 does not decode RFC 9072 extended optional parameters",
    ("open-rfc9072-extended-form-short", "capabilities"): "same",
    ("open-rfc9072-sixty-unknown-capabilities", "capabilities"): "same",
    ("update-short-tunnel-encapsulation", "nlri"):
        "tshark stops dissecting at the malformed tunnel-encapsulation attribute",
}


def parse(path):
    out, cur = [], {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("#"):
            continue
        if not line:
            if cur:
                out.append(cur)
            cur = {}
            continue
        k, _, v = line.partition(":")
        cur[k.strip()] = v.strip()
    if cur:
        out.append(cur)
    return out


def addresses(prefixes):
    return [p.split("/")[0] for p in prefixes.split()]


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(HERE, "handmade", "*.vec"))
                                   + glob.glob(os.path.join(HERE, "malformed", "*.vec")))
    vectors = [v for f in files for v in parse(f) if "expect.error" not in v]
    with tempfile.NamedTemporaryFile(suffix=".pcap", delete=False) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, v in enumerate(vectors, 1):
            data = bytes.fromhex(v["hex"].replace(" ", "").replace(":", ""))
            tcp = struct.pack("!HHIIBBHHH", 10000 + i, 179, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), i, 0, 64, 6, 0,
                              bytes([192, 0, 2, 2]), bytes([192, 0, 2, 1]))
            pkt = iph + tcp + data
            f.write(struct.pack("<IIII", i, 0, len(pkt), len(pkt)) + pkt)
        pcap = f.name
    cmd = ["tshark", "-r", pcap, "-o", "tcp.desegment_tcp_streams:TRUE", "-T", "fields",
           "-E", "separator=\t", "-E", "aggregator=,", "-E", "occurrence=a"]
    for fld in FIELDS:
        cmd += ["-e", fld]
    rows = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
    os.unlink(pcap)
    checked = mismatches = 0
    for v, row in zip(vectors, rows):
        t = dict(zip(FIELDS, [c.split(",") if c else [] for c in row.split("\t")]))
        e = {k[7:]: val for k, val in v.items() if k.startswith("expect.")}
        got = {"type": " ".join(TYPES.get(x, x) for x in t["bgp.type"])}
        one = lambda k: " ".join(t[k])  # noqa: E731
        got["version"] = one("bgp.open.version")
        got["asn"] = one("bgp.open.myas")
        got["hold_time"] = one("bgp.open.holdtime")
        got["router_id"] = one("bgp.open.identifier")
        got["capabilities"] = one("bgp.cap.type")
        got["as4"] = one("bgp.cap.4as")
        got["withdrawn"] = one("bgp.withdrawn_prefix")
        got["nlri"] = one("bgp.nlri_prefix")
        got["origin"] = {"0": "igp", "1": "egp", "2": "incomplete"}.get(
            one("bgp.update.path_attribute.origin"), "")
        got["next_hop"] = one("bgp.update.path_attribute.next_hop")
        got["med"] = one("bgp.update.path_attribute.multi_exit_disc")
        got["local_pref"] = one("bgp.update.path_attribute.local_pref")
        got["communities"] = " ".join(f"{a}:{b}" for a, b in zip(
            t["bgp.update.path_attribute.community_as"],
            t["bgp.update.path_attribute.community_value"]))
        if t["bgp.update.path_attribute.aggregator_as"]:
            got["aggregator"] = (t["bgp.update.path_attribute.aggregator_as"][0] + ":"
                                 + t["bgp.update.path_attribute.aggregator_origin"][0])
        got["mp_reach_nlri"] = one("bgp.mp_reach_nlri_ipv4_prefix") + one(
            "bgp.mp_reach_nlri_ipv6_prefix")
        got["mp_unreach_nlri"] = one("bgp.mp_unreach_nlri_ipv4_prefix") + one(
            "bgp.mp_unreach_nlri_ipv6_prefix")
        got["code"] = one("bgp.notify.major_error")
        got["subcode"] = " ".join(t["bgp.notify.minor_error"] + t["bgp.notify.minor_error_open"]
                                  + t["bgp.notify.minor_error_update"]
                                  + t["bgp.notify.minor_error_cease"]
                                  + t["bgp.notify.minor_error_state"])
        got["subtype"] = one("bgp.route_refresh.subtype")
        for key, want in e.items():
            if key not in got or (key == "subcode" and not got[key]):
                continue
            have = got[key]
            if key in ("nlri", "withdrawn", "mp_reach_nlri", "mp_unreach_nlri"):
                if want.startswith("0x"):
                    continue
                want = " ".join(addresses(want))
            if key == "asn" and have == "" or key == "as4" and have == "":
                continue
            checked += 1
            if have != want and (v["name"], key) in KNOWN:
                print(f"known: {v['name']}: {key}: {KNOWN[(v['name'], key)]}")
            elif have != want:
                mismatches += 1
                print(f"{v['name']}: {key}: vector `{want}`, tshark `{have}`")
    print(f"{len(vectors)} vectors, {checked} values compared, {mismatches} disagree")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
