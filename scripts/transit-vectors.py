#!/usr/bin/env python3
"""Turns the capture of scripts/capture-transit-vectors.sh into test vectors.

Only the UPDATEs GoBGP (VPLS, SR Policy) and FRR (EVPN) send to the sink become vectors. Each
NLRI is matched to one route of ROUTES below by the fields tshark's dissector shows for it
(every `id` field must equal the value written here from the route statement given to
bgpinject); announcements must also show every `announce` field (labels, tunnel encapsulation
sub-TLVs, PMSI tunnel). `expect.mp_reach_nlri` / `expect.mp_unreach_nlri` and
`expect.tunnel_encapsulation` are then written from the same statements, in bgpinject's words;
the other expect.* lines come from tshark (scripts/bgp_pcap.py). Nothing here reads
bgpinject's decoder.

Usage: transit-vectors.py PCAP PORT GOBGP FRR SINK GOBGP_NAME FRR_NAME TSHARK_NAME > OUT.vec
"""
import sys

import bgp_pcap
from bgp_pcap import expect, four_octet_as_sessions, our_messages, tshark_messages, values

bgp_pcap.FAMILIES.update({(25, 70): "l2vpn-evpn", (25, 65): "l2vpn-vpls", (1, 73): "ipv4-srpolicy"})


def ext_community_hex(c):
    """bgp_pcap's reading of tshark's extended community fields, plus the kinds EVPN carries:
    encapsulation (tunnel type), router's MAC, MAC mobility (flags, reserved, sequence)."""
    t = int(c["bgp.ext_com.type"], 16)
    st = next(int(v, 16) for k, v in c.items() if k.startswith("bgp.ext_com.stype"))
    head = f"{t:02x}{st:02x}"
    if "bgp.ext_com.tunnel_type" in c:
        return head + f"00000000{int(c['bgp.ext_com.tunnel_type']):04x}"
    if "bgp.ext_com_evpn.esi.router_mac" in c:
        return head + c["bgp.ext_com_evpn.esi.router_mac"].replace(":", "")
    if "bgp.ext_com_evpn.mmac.seq" in c:
        flags = int(c["bgp.ext_com_evpn.mmac.flags"], 16)
        return head + f"{flags:02x}00{int(c['bgp.ext_com_evpn.mmac.seq']):08x}"
    return ORIGINAL_EXT_COMMUNITY_HEX(c)


ORIGINAL_EXT_COMMUNITY_HEX = bgp_pcap.ext_community_hex
bgp_pcap.ext_community_hex = ext_community_hex


def octets(n, width):
    """An integer as tshark prints a fixed-width byte field: `00:00:00:64`."""
    return ":".join(f"{b:02x}" for b in n.to_bytes(width, "big"))


def ipv6_octets(text):
    import ipaddress
    return ":".join(f"{b:02x}" for b in ipaddress.IPv6Address(text).packed)


def rd_type1(ip, n):
    """RFC 4364 §4.2 type 1: IPv4 administrator, 2-octet assigned number."""
    return octets(1, 2) + ":" + ":".join(f"{int(o):02x}" for o in ip.split(".")) + ":" + octets(n, 2)


def label_field(label):
    """An MPLS label in a 3-octet field with the bottom-of-stack bit (RFC 3032), as tshark shows
    an EVPN type 5 label (`vni`)."""
    return str(label << 4 | 1)


SRV6_BSID = "00:00:" + ipv6_octets("2001:db8:b::1")  # flags, reserved, SID (RFC 9830 §2.4.3)
SEG = "bgp.update.encaps_tunnel_tlv_subtlv.segment_list"
T = "bgp.update.encaps_tunnel_tlv_subtlv."
EVPN_RD = rd_type1("192.0.2.2", 100)
ZERO_ESI = "00:00:00:00:00:00:00:00:00:00"

# (sender, family, NLRI text, id fields, announce-only fields, tunnel encapsulation text,
#  withdrawal text when the sender writes the NLRI differently in a withdrawal)
ROUTES = [
    ("gobgp", "l2vpn-vpls", "vpls rd 192.0.2.1:123 endpoint 5 base 10702 offset 1 size 8",
     {"bgp.vplsad.rd": ["192.0.2.1:123"], "bgp.vplsbgp.ce_id": ["5"]},
     {"bgp.vplsbgp.labelblock.offset": ["1"], "bgp.vplsbgp.labelblock.size": ["8"],
      "bgp.vplsbgp.labelblock.base": ["10702 (bottom)"]}, None, None),
    ("gobgp", "l2vpn-vpls", "vpls rd 65000:77 endpoint 9 base 262100 offset 17 size 16",
     {"bgp.vplsad.rd": ["65000:77"], "bgp.vplsbgp.ce_id": ["9"]},
     {"bgp.vplsbgp.labelblock.offset": ["17"], "bgp.vplsbgp.labelblock.size": ["16"],
      "bgp.vplsbgp.labelblock.base": ["262100 (bottom)"]}, None, None),
    ("gobgp", "l2vpn-vpls", "vpls rd 65000:78 endpoint 11 base 300000 offset 0 size 4",
     {"bgp.vplsad.rd": ["65000:78"], "bgp.vplsbgp.ce_id": ["11"]},
     {"bgp.vplsbgp.labelblock.offset": ["0"], "bgp.vplsbgp.labelblock.size": ["4"],
      "bgp.vplsbgp.labelblock.base": ["300000 (bottom)"]}, None, None),
    ("gobgp", "ipv4-srpolicy", "sr-policy distinguisher 2 color 100 endpoint 192.0.2.100",
     {"bgp.sr_policy_nlri_distinguisher": [octets(2, 4)],
      "bgp.sr_policy_nlri_policy_color": [octets(100, 4)],
      "bgp.sr_policy_nlri_endpoint_ipv4": ["192.0.2.100"]},
     {T + "pref.preference": [octets(100, 4)], T + "priority.priority": ["7"],
      # An MPLS binding SID is a label stack entry: the label in the top 20 bits.
      T + "binding_sid.sid": [octets(24000 << 12, 4)], T + "enlp.preference": ["4"],
      SEG + ".subtlv.data": [octets(1, 6), octets(2, 6)],
      SEG + "_subtlv.mpls_label": [f"0x{n:06x}" for n in (16001, 16002, 16003)],
      # Sub-TLVs in RFC 9830 §2.4's order; tshark 4.0 shows the policy name (130) raw: a
      # reserved octet, then the name.
      "bgp.update.encaps_tunnel_subtlv_type": ["12", "15", "13", "14", "128", "128", "130"],
      T + "value": ["00:" + ":".join(f"{b:02x}" for b in b"gold")]},
     "sr-policy { preference 100; priority 7; binding-sid 24000; enlp 4; segment-list [ weight 1 "
     "label 16001 label 16002 ]; segment-list [ weight 2 label 16003 ]; policy-name \"gold\"; }",
     None),
    ("gobgp", "ipv4-srpolicy", "sr-policy distinguisher 3 color 200 endpoint 192.0.2.200",
     {"bgp.sr_policy_nlri_distinguisher": [octets(3, 4)],
      "bgp.sr_policy_nlri_policy_color": [octets(200, 4)],
      "bgp.sr_policy_nlri_endpoint_ipv4": ["192.0.2.200"]},
     {T + "pref.preference": [octets(200, 4)], T + "value": [SRV6_BSID],
      SEG + ".subtlv.data": [octets(5, 6), "00:00:" + ipv6_octets("2001:db8:1::1"),
                             "00:00:" + ipv6_octets("2001:db8:2::1")]},
     "sr-policy { preference 200; srv6-binding-sid 2001:db8:b::1; segment-list [ weight 5 "
     "srv6 2001:db8:1::1 srv6 2001:db8:2::1 ]; }", None),
    ("frr", "l2vpn-evpn", f"evpn mac-ip rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 "
     "mac 00:11:22:aa:bb:01 ip 198.51.100.1 label [ 10100 ]",
     {"bgp.evpn.nlri.rt": ["2"], "bgp.evpn.nlri.rd": [EVPN_RD],
      "bgp.evpn.nlri.mac_addr": ["00:11:22:aa:bb:01"], "bgp.evpn.nlri.ip.addr": ["198.51.100.1"]},
     {"bgp.evpn.nlri.mpls_ls1": ["10100"], "bgp.evpn.nlri.esi": [ZERO_ESI]}, None, None),
    ("frr", "l2vpn-evpn", f"evpn mac-ip rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 "
     "mac 00:11:22:aa:bb:02 label [ 10100 ]",
     {"bgp.evpn.nlri.rt": ["2"], "bgp.evpn.nlri.mac_addr": ["00:11:22:aa:bb:02"],
      "bgp.evpn.nlri.ip.addr": []},
     # Without an IP address tshark shows the label field whole (`vni`).
     {"bgp.evpn.nlri.vni": [label_field(10100)]}, None, None),
    ("frr", "l2vpn-evpn", "evpn multicast rd 192.0.2.2:100 ethernet-tag 0 ip 192.0.2.2",
     {"bgp.evpn.nlri.rt": ["3"], "bgp.evpn.nlri.rd": [EVPN_RD],
      "bgp.evpn.nlri.ip.addr": ["192.0.2.2"]},
     # RFC 6514 §5, RFC 8365 §5.1.3: ingress replication (6) to the endpoint, the VNI whole.
     {"bgp.update.path_attribute.pmsi.tunnel.type": ["6"], "bgp.evpn.nlri.vni": ["10100"],
      "bgp.update.path_attribute.pmsi.ingress_rep_ip": ["192.0.2.2"]}, None, None),
    ("frr", "l2vpn-evpn", f"evpn ip-prefix rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 "
     "prefix 198.51.100.0/24 gateway 0.0.0.0 label [ 10200 ]",
     {"bgp.evpn.nlri.rt": ["5"], "bgp.evpn.nlri.prefix_len": ["24"],
      "bgp.evpn.nlri.ip.addr": ["198.51.100.0"]},
     {"bgp.evpn.nlri.ipv4.gtw_addr": ["0.0.0.0"], "bgp.evpn.nlri.vni": [label_field(10200)]},
     None,
     # FRR withdraws with a zero label field (RFC 7432 §7: ignored in a withdrawal).
     f"evpn ip-prefix rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 prefix 198.51.100.0/24 "
     "gateway 0.0.0.0 raw-label [ 0 ]"),
    ("frr", "l2vpn-evpn", f"evpn mac-ip rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 "
     "mac 00:11:22:aa:bb:03 ip 198.51.100.3 label [ 10300 ]",
     {"bgp.evpn.nlri.rt": ["2"], "bgp.evpn.nlri.mac_addr": ["00:11:22:aa:bb:03"]},
     {"bgp.evpn.nlri.mpls_ls1": ["10300"]}, None,
     f"evpn mac-ip rd 192.0.2.2:100 esi {ZERO_ESI} ethernet-tag 0 mac 00:11:22:aa:bb:03 "
     "ip 198.51.100.3 raw-label [ 0 ]"),
]
# What the capture script withdraws: the two routes of the control socket, then by a reload
# the first VPLS route, the second SR Policy and the IP prefix route.
WITHDRAWN = {2, 9, 0, 4, 8}


def main():
    pcap, port, gobgp, frr, sink, gobgp_name, frr_name, tshark_name = sys.argv[1:9]
    senders = {gobgp: ("gobgp", gobgp_name), frr: ("frr", frr_name)}
    ours, theirs = our_messages(pcap, port), tshark_messages(pcap, port)
    open_as4 = four_octet_as_sessions(ours)
    announced, withdrawn, failures, count, seen = set(), set(), [], {}, set()
    print(f"# Captured by scripts/capture-transit-vectors.sh: bgpinject -> {gobgp_name} "
          f"(VPLS, SR Policy) and -> {frr_name} (EVPN),\n# which re-advertise to a third "
          f"speaker; these are the UPDATEs {gobgp_name} and {frr_name} wrote.\n"
          f"# expect.mp_reach_nlri / mp_unreach_nlri / tunnel_encapsulation: the route "
          f"statements given to bgpinject (scripts/transit-vectors.py),\n# each NLRI matched "
          f"by the fields {tshark_name} shows; the other expect.* lines: {tshark_name}'s BGP "
          f"dissector. Generated file: do not edit.\n")
    for frame, msgs in sorted(ours.items()):
        decoded = theirs.get(frame, [])
        for i, (src, dst, raw) in enumerate(msgs):
            sender = src.rsplit(":", 1)[0]
            if raw[18] != 2 or sender not in senders or not dst.startswith(sink + ":"):
                continue
            if raw in seen:
                continue
            msg = decoded[i] if i < len(decoded) else None
            if msg is None or int(msg["bgp.length"]) != len(raw):
                failures.append(f"frame {frame}: tshark's decoding does not line up")
                continue
            who, peer = senders[sender]
            as4 = open_as4.get((src, dst), True) and open_as4.get((dst, src), True)
            e = expect(msg, as4)
            seen.add(raw)
            # tshark 4.0 shows no address for an SR Policy next hop, only the field with its
            # length octet: read the IPv4 address from that.
            nh = values(msg, "bgp.update.path_attribute.mp_reach_nlri.next_hop")
            if e.get("mp_reach_next_hop") == "" and nh and nh[0].startswith("04:"):
                e["mp_reach_next_hop"] = ".".join(str(int(o, 16)) for o in nh[0].split(":")[1:5])
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
                reach = key == "mp_reach_nlri"
                match = [n for n, r in enumerate(ROUTES) if r[0] == who and r[1] == fam
                         and all(values(msg, k) == v for k, v in r[3].items())]
                if len(match) != 1:
                    failures.append(f"frame {frame}: {len(match)} routes match the {fam} NLRI")
                    continue
                n = match[0]
                _, _, text, _, on_announce, encap, withdrawal = ROUTES[n]
                if reach:
                    for k, v in on_announce.items():
                        if values(msg, k) != v:
                            failures.append(f"frame {frame}: tshark shows {k} "
                                            f"{values(msg, k)} for `{text}`, {v} was given")
                    if encap is not None:
                        e["tunnel_encapsulation"] = encap
                    announced.add(n)
                else:
                    withdrawn.add(n)
                e[key] = text if reach or withdrawal is None else withdrawal
                kind = ("update-announce-" if reach else "update-withdraw-") + fam
            if kind is None:
                continue
            name = f"{who}-transit-{kind}"
            count[name] = count.get(name, 0) + 1
            h = raw.hex()
            print(f"name: {name}-{count[name]}")
            print(f"source: {peer} {src} -> {dst}, loopback, frame {frame}, tshark capture "
                  f"(scripts/capture-transit-vectors.sh); NLRI as given to bgpinject, other "
                  f"expect.* from {tshark_name} BGP dissector")
            print("hex: " + h[:32] + " " + h[32:36] + " " + h[36:38] + " " + h[38:])
            for k, v in e.items():
                print(f"expect.{k}: {v}")
            print()
    for n, r in enumerate(ROUTES):
        if n not in announced:
            failures.append(f"never announced: `{r[2]}`")
    if withdrawn != WITHDRAWN:
        failures.append(f"withdrawn {sorted(withdrawn)}, expected {sorted(WITHDRAWN)}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


main()
