"""FlowSpec NLRI (RFC 8955, RFC 8956) as the words of bgpinject's `match { }` block.

An independent reading of the bytes for test-vector expectations: written from the RFCs
and the configuration's syntax (README "FlowSpec"), not from bgpinject's decoder.
A rule is `match { KEYWORD VALUES; ... }`; several rules are space separated.
"""
import ipaddress

PROTOCOLS = {1: "icmp", 2: "igmp", 6: "tcp", 8: "egp", 17: "udp", 46: "rsvp", 47: "gre",
             50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp",
             132: "sctp"}
ICMP_TYPES = {0: "echo-reply", 3: "unreachable", 4: "source-quench", 5: "redirect",
              8: "echo-request", 9: "router-advertisement", 10: "router-solicit",
              11: "time-exceeded", 12: "parameter-problem", 13: "timestamp",
              14: "timestamp-reply"}
TCP_FLAGS = {0x01: "fin", 0x02: "syn", 0x04: "rst", 0x08: "push", 0x10: "ack", 0x20: "urgent",
             0x40: "ece", 0x80: "cwr"}
FRAGMENTS = {0x01: "dont-fragment", 0x02: "is-fragment", 0x04: "first-fragment",
             0x08: "last-fragment"}
# type: (IPv4 keyword, IPv6 keyword, kind, value names)
COMPONENTS = {
    1: ("destination", "destination", "prefix", None),
    2: ("source", "source", "prefix", None),
    3: ("protocol", "next-header", "numeric", PROTOCOLS),
    4: ("port", "port", "numeric", {}),
    5: ("destination-port", "destination-port", "numeric", {}),
    6: ("source-port", "source-port", "numeric", {}),
    7: ("icmp-type", "icmp-type", "numeric", ICMP_TYPES),
    8: ("icmp-code", "icmp-code", "numeric", {}),
    9: ("tcp-flags", "tcp-flags", "bitmask", TCP_FLAGS),
    10: ("packet-length", "packet-length", "numeric", {}),
    11: ("dscp", "traffic-class", "numeric", {}),
    12: ("fragment", "fragment", "bitmask", FRAGMENTS),
    13: (None, "flow-label", "numeric", {}),
}
COMPARISONS = {1: "=", 2: ">", 3: ">=", 4: "<", 5: "<=", 6: "!=", 7: "true", 0: "false"}


class Malformed(Exception):
    pass


def _prefix(b, i, ipv6):
    if i >= len(b):
        raise Malformed("truncated prefix")
    length = b[i]
    i += 1
    offset = 0
    if ipv6:
        offset = b[i]
        i += 1
        n = (length - offset + 7) // 8
        pattern = int.from_bytes(b[i:i + n].ljust(16, b"\0"), "big") >> offset
        mask = ((1 << 128) - 1) ^ ((1 << (128 - length)) - 1)
        addr = ipaddress.IPv6Address(pattern & mask)
        text = f"{addr}/{length}/{offset}"
    else:
        n = (length + 7) // 8
        bits = int.from_bytes(b[i:i + n].ljust(4, b"\0"), "big")
        addr = ipaddress.IPv4Address(bits & (((1 << 32) - 1) ^ ((1 << (32 - length)) - 1)))
        text = f"{addr}/{length}"
    if len(b) < i + n:
        raise Malformed("truncated prefix")
    return text, i + n


def _operators(b, i, kind, names):
    items = []
    while True:
        if i >= len(b):
            raise Malformed("operator list without end-of-list")
        op = b[i]
        n = 1 << ((op >> 4) & 3)
        value = int.from_bytes(b[i + 1:i + 1 + n], "big")
        if len(b) < i + 1 + n:
            raise Malformed("truncated value")
        i += 1 + n
        if kind == "numeric":
            cmp = COMPARISONS[op & 7]
            word = cmp if cmp in ("true", "false") else cmp + names.get(value, str(value))
        else:
            word = {0: "", 1: "=", 2: "!", 3: "!="}[op & 3] + names.get(value, f"0x{value:x}")
        items.append((bool(op & 0x40), word))
        if op & 0x80:
            break
    text = ""
    for k, (and_, word) in enumerate(items):
        text += ("&" if and_ else " ") + word if k else word
    if sum(1 for a, _ in items if not a) > 1:
        text = f"[ {text} ]"
    return text, i


def rule_text(b, ipv6):
    """The `KEYWORD VALUES;` statements of one rule's components (no length)."""
    i, parts = 0, []
    while i < len(b):
        t = b[i]
        if t not in COMPONENTS or (t == 13 and not ipv6):
            raise Malformed(f"component type {t}")
        v4, v6, kind, names = COMPONENTS[t]
        if kind == "prefix":
            text, i = _prefix(b, i + 1, ipv6)
        else:
            text, i = _operators(b, i + 1, kind, names)
        parts.append(f"{v6 if ipv6 else v4} {text};")
    return " ".join(parts)


def nlri_text(b, ipv6):
    """`match { ... }` for each rule of an MP_REACH/MP_UNREACH NLRI field."""
    i, rules = 0, []
    while i < len(b):
        n = b[i]
        if n >= 0xF0:
            n = ((n & 0x0F) << 8) | b[i + 1]
            i += 2
        else:
            i += 1
        if len(b) < i + n:
            raise Malformed("NLRI length overruns the attribute")
        rules.append(f"match {{ {rule_text(b[i:i + n], ipv6)} }}")
        i += n
    return " ".join(rules)
