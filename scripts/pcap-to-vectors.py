#!/usr/bin/env python3
"""Turns a pcap of BGP sessions on one TCP port into test vectors (test-vectors/README.md).

The bytes come from the TCP payloads, split into messages with the BGP length field (several
messages per segment, or one message over several segments). The expect.* lines come from
tshark's BGP dissector (`-T json --no-duplicate-keys`), matched to our messages by frame and
position and checked against our length and type. One vector per distinct message.

Usage: pcap-to-vectors.py PCAP PORT PEER_NAME TSHARK_NAME > OUT.vec
"""
import sys

from bgp_pcap import print_vectors

pcap, port, peer, tshark_name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
print_vectors(pcap, port, "scripts/capture-vectors.sh", peer, tshark_name, name_prefix="bird",
              update_suffix=lambda e: "ipv6" if "mp_reach_family" in e
              or "mp_unreach_family" in e else "ipv4")
