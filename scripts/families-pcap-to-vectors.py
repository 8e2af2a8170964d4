#!/usr/bin/env python3
"""Turns a pcap of BGP sessions carrying labeled unicast, VPN, multicast and ADD-PATH NLRI into
test vectors (test-vectors/README.md); scripts/capture-families-vectors.sh runs it. Both
converters share scripts/bgp_pcap.py, which reads label stacks, route distinguishers and path ids.

The bytes come from the TCP payloads, split into messages with the BGP length field (several
messages per segment, or one message over several segments). The expect.* lines come from
tshark's BGP dissector (`-T json --no-duplicate-keys`), matched to our messages by frame and
position and checked against our length and type. One vector per distinct message.

Usage: families-pcap-to-vectors.py PCAP PORT ADD_PATH_SENDER PEER_NAME TSHARK_NAME > OUT.vec
ADD_PATH_SENDER: the address whose IPv4 unicast UPDATEs carry path ids (context.add_path).
"""
import sys

from bgp_pcap import print_vectors

pcap, port, add_path_sender, peer, tshark_name = sys.argv[1:6]
print_vectors(pcap, port, "scripts/capture-families-vectors.sh", peer, tshark_name,
              name_prefix=f"{peer.split()[0].lower()}-families",
              update_suffix=lambda e: e.get("mp_reach_family",
                                            e.get("mp_unreach_family", "ipv4-unicast")),
              add_path_sender=add_path_sender)
