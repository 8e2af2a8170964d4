#!/usr/bin/env python3
"""Turns the capture of scripts/capture-evpn-mup-vectors.sh into test vectors.

The bytes are the TCP payloads split into BGP messages (scripts/bgp_pcap.py). The expected NLRI
(`expect.mp_reach_nlri`, `expect.mp_unreach_nlri`) are written below from the values given to
`gobgp global rib add` and `gobgp vrf add` in the capture script, in bgpinject's configuration
words, route by route in the order they were added: each UPDATE of the capture carries one
NLRI, so the n-th UPDATE of a family is the n-th route of that family. The other expect.* lines
come from tshark's BGP dissector, and the MACs, addresses and prefixes given to GoBGP must
also appear in tshark's decoding of the UPDATE that carries them (`tokens`).

Usage: evpn-mup-vectors.py PCAP PORT ADDRESS_A ADDRESS_B PEER_NAME TSHARK_NAME > OUT.vec
"""
import struct
import sys

import bgp_pcap
from bgp_pcap import expect, four_octet_as_sessions, our_messages, tshark_messages, walk

bgp_pcap.FAMILIES.update({
    (25, 70): "l2vpn-evpn", (1, 132): "ipv4-rtc", (1, 134): "ipv4-flowspec-vpn",
    (2, 134): "ipv6-flowspec-vpn", (1, 85): "ipv4-mup", (2, 85): "ipv6-mup",
})

Z = "00:00:00:00:00:00:00:00:00:00"
RD = "192.0.2.2:100"
# GoBGP writes an EVPN label as the whole 24-bit field (the VXLAN VNI form, RFC 8365), not
# as an MPLS label with the bottom-of-stack bit: bgpinject shows such fields as `raw-label`.
NH = "192.0.2.2"
# (family, NLRI in bgpinject's words, strings tshark must show, next hop given to GoBGP)
ANNOUNCED = [
    ("l2vpn-evpn", f"evpn ethernet-ad rd {RD} esi 00:11:22:33:44:55:66:77:88:99 "
                   "ethernet-tag 100 raw-label [ 1001 ]", [], NH),
    ("l2vpn-evpn", f"evpn mac-ip rd {RD} esi {Z} ethernet-tag 0 mac 00:11:22:aa:bb:01 "
                   "ip 198.51.100.1 raw-label [ 10100 ]", ["00:11:22:aa:bb:01", "198.51.100.1"], NH),
    ("l2vpn-evpn", f"evpn mac-ip rd {RD} esi {Z} ethernet-tag 0 mac 00:11:22:aa:bb:02 "
                   "raw-label [ 10100 20100 ]", ["00:11:22:aa:bb:02"], NH),
    # ESI type 5 (AS-based): AS 65019 (0xfdfb), local discriminator 7, reserved octet.
    ("l2vpn-evpn", "evpn mac-ip rd 65019:3 esi 05:00:00:fd:fb:00:00:00:07:00 ethernet-tag 5 "
                   "mac 00:11:22:aa:bb:03 ip 2001:db8::3 raw-label [ 10300 ]",
     ["00:11:22:aa:bb:03", "2001:db8::3"], NH),
    ("l2vpn-evpn", f"evpn multicast rd {RD} ethernet-tag 0 ip 192.0.2.2", ["192.0.2.2"], NH),
    # ESI type 1 (LACP): system MAC, port key 300 (0x012c), reserved octet.
    ("l2vpn-evpn", f"evpn ethernet-segment rd {RD} esi 01:00:11:22:33:44:55:01:2c:00 "
                   "ip 192.0.2.2", ["192.0.2.2"], NH),
    ("l2vpn-evpn", f"evpn ip-prefix rd {RD} esi {Z} ethernet-tag 0 prefix 198.51.100.0/24 "
                   "gateway 0.0.0.0 raw-label [ 10200 ]", ["198.51.100.0"], NH),
    ("l2vpn-evpn", f"evpn ip-prefix rd {RD} esi {Z} ethernet-tag 0 prefix 2001:db8:20::/48 "
                   "gateway 2001:db8::1 raw-label [ 10201 ]", ["2001:db8:20::"], NH),
    ("ipv4-flowspec-vpn", "flow-vpn rd 65000:1 match { destination 192.0.2.0/24; "
                          "protocol =tcp; destination-port =80; }", [], ""),
    ("ipv6-flowspec-vpn", "flow-vpn rd 65000:2 match { destination 2001:db8:1::/48/0; }", [], ""),
    ("ipv4-mup", "mup-isd 198.51.100.0/24 rd 100:100", [], "2001:db8::1"),
    ("ipv4-mup", "mup-dsd 192.0.2.21 rd 100:100", [], "2001:db8::1"),
    ("ipv4-mup", "mup-t1st 203.0.113.1/32 rd 100:100 teid 12345 qfi 9 endpoint 192.0.2.21", [],
     "192.0.2.10"),
    ("ipv4-mup", "mup-t2st 192.0.2.21 rd 100:100 teid 12345/32", [], "192.0.2.10"),
    ("ipv6-mup", "mup-t1st 2001:db8:10::1/128 rd 100:100 teid 12345 qfi 9 endpoint 2001:db8::10",
     [], "2001:db8::2"),
]
WITHDRAWN = [ANNOUNCED[1], ANNOUNCED[6], ANNOUNCED[8], ANNOUNCED[12]]
# B's VRFs, one route target each, origin B's AS.
RTC = [("ipv4-rtc", f"rtc origin 65032 route-target target:{rt}", [], None)
       for rt in ("65019:100", "65000:1", "65000:2", "10:10")]


def ext_community_hex(c):
    """bgp_pcap's reading of tshark's extended community fields, plus the kinds these
    families carry: encapsulation (tunnel type), EVPN ES-import and router's MAC, traffic
    rate, and those tshark shows as a raw value (default gateway, MUP)."""
    t = int(c["bgp.ext_com.type"], 16)
    st = next(int(v, 16) for k, v in c.items() if k.startswith("bgp.ext_com.stype"))
    head = f"{t:02x}{st:02x}"
    if "bgp.ext_com.tunnel_type" in c:
        return head + f"00000000{int(c['bgp.ext_com.tunnel_type']):04x}"
    for key in ("bgp.ext_com_evpn.esi.rt", "bgp.ext_com_evpn.esi.router_mac"):
        if key in c:
            return head + c[key].replace(":", "")
    if "bgp.ext_com_flow.rate_limit" in c:
        rate = struct.pack(">f", float(c["bgp.ext_com_flow.rate_limit"])).hex()
        return head + f"{int(c['bgp.ext_com.value_as2']):04x}" + rate
    if "bgp.ext_com.value_raw" in c:
        return head + f"{int(c['bgp.ext_com.value_raw'], 16):012x}"
    return ORIGINAL_EXT_COMMUNITY_HEX(c)


ORIGINAL_EXT_COMMUNITY_HEX = bgp_pcap.ext_community_hex
bgp_pcap.ext_community_hex = ext_community_hex


def tshark_strings(msg):
    return [str(v) for _, v, _ in walk(msg) if isinstance(v, str)]


def main():
    pcap, port, addr_a, addr_b, peer, tshark_name = sys.argv[1:7]
    ours, theirs = our_messages(pcap, port), tshark_messages(pcap, port)
    open_as4 = four_octet_as_sessions(ours)
    queues = {(addr_a, "mp_reach_nlri"): list(ANNOUNCED),
              (addr_a, "mp_unreach_nlri"): list(WITHDRAWN),
              (addr_b, "mp_reach_nlri"): list(RTC)}
    seen, count, failures = set(), {}, []
    print(f"# Captured by scripts/capture-evpn-mup-vectors.sh: {peer} <-> {peer} on loopback.\n"
          f"# expect.mp_reach_nlri / expect.mp_unreach_nlri: the values given to GoBGP "
          f"(scripts/evpn-mup-vectors.py);\n# the other expect.* lines: {tshark_name}'s BGP "
          f"dissector (MUP next hops, which it does not show: as given). Generated file: do not edit.\n")
    for frame, msgs in sorted(ours.items()):
        decoded = theirs.get(frame, [])
        for i, (src, dst, raw) in enumerate(msgs):
            if raw[18] != 2 or raw in seen:
                continue
            msg = decoded[i] if i < len(decoded) else None
            if msg is None or int(msg["bgp.length"]) != len(raw):
                failures.append(f"frame {frame}: tshark's decoding does not line up")
                continue
            sender = src.rsplit(":", 1)[0]
            as4 = open_as4.get((src, dst), True) and open_as4.get((dst, src), True)
            e = expect(msg, as4)
            seen.add(raw)
            # bgp_pcap reads an MP_UNREACH_NLRI with no prefix it knows as End-of-RIB: one
            # longer than AFI and SAFI withdraws NLRI of these families.
            for a in bgp_pcap.attributes(msg):
                if int(a["bgp.update.path_attribute.type_code"]) == 15 \
                        and int(a["bgp.update.path_attribute.length"]) > 3 and "eor" in e:
                    e["mp_unreach_family"] = e.pop("eor")
                    e["mp_unreach_nlri"] = ""
            kind = "eor-" + e["eor"] if "eor" in e else None
            for key in ("mp_reach_nlri", "mp_unreach_nlri"):
                if key not in e:
                    continue
                fam = e[key.replace("nlri", "family")]
                queue = queues.get((sender, key))
                if not queue:
                    failures.append(f"frame {frame}: unexpected {key} of {fam} from {sender}")
                    continue
                want_fam, text, tokens, next_hop = queue.pop(0)
                # tshark 4.0 shows no next hop for MUP: the one given to GoBGP stands in;
                # where tshark shows one, it must be the one given.
                if key == "mp_reach_nlri" and next_hop is not None:
                    if e.get("mp_reach_next_hop") not in ("", next_hop):
                        failures.append(f"frame {frame}: next hop {e['mp_reach_next_hop']} "
                                        f"where {next_hop} was given")
                    e["mp_reach_next_hop"] = next_hop
                if want_fam != fam:
                    failures.append(f"frame {frame}: {fam} where {want_fam} `{text}` was due")
                strings = tshark_strings(msg)
                for t in tokens:
                    if not any(t in s for s in strings):
                        failures.append(f"frame {frame}: tshark does not show `{t}` of `{text}`")
                e[key] = text
                kind = ("update-announce-" if key == "mp_reach_nlri" else "update-withdraw-") + fam
            if kind is None:
                continue
            count[kind] = count.get(kind, 0) + 1
            h = raw.hex()
            print(f"name: gobgp-{kind}-{count[kind]}")
            print(f"source: {peer} {src} -> {peer} {dst}, loopback, frame {frame}, tshark capture "
                  f"(scripts/capture-evpn-mup-vectors.sh); NLRI as given to GoBGP, other "
                  f"expect.* from {tshark_name} BGP dissector")
            print("hex: " + h[:32] + " " + h[32:36] + " " + h[36:38] + " " + h[38:])
            for k, v in e.items():
                print(f"expect.{k}: {v}")
            print()
    for (sender, key), left in queues.items():
        for fam, text, _, _ in left:
            failures.append(f"no UPDATE from {sender} carried {key} {fam} `{text}`")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


main()
