#!/usr/bin/env python3
"""Decodes every valid vector whose family ExaBGP 4.2 decodes by field (EVPN, VPLS, FlowSpec
VPN) with `exabgp --decode`, an independent decoder, and compares its JSON field by field
with `bgpinject decode --json` of the same bytes: route type, name, octets, RD, ESI, Ethernet
tag, MAC, IP,
labels (ExaBGP's [label, raw] pairs against our `label` and `raw-label`), prefix length and
gateway of EVPN; RD, VE ID, label base, offset and size of VPLS; RD, destination and source
prefixes of FlowSpec VPN. Prints each disagreement and exits 1 when there is one.

Usage: python3 test-vectors/exabgp_check.py [--bgpinject target/debug/bgpinject]
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent
FAMILIES = {"l2vpn-evpn", "l2vpn-vpls", "ipv4-flowspec-vpn", "ipv6-flowspec-vpn"}
# ExaBGP needs a neighbor with the families to decode them.
CONF = """neighbor 127.0.0.1 {
    router-id 192.0.2.1; local-address 127.0.0.1; local-as 65000; peer-as 65000;
    family { l2vpn evpn; l2vpn vpls; ipv4 flow-vpn; ipv6 flow-vpn; }
}
"""

# Where ExaBGP 4.2 is known to read differently, with why; these are reported, not failed.
KNOWN = {
    ("gobgp-update-announce-l2vpn-evpn-3", "labels"):
        "ExaBGP 4.2 stops the label stack at the first field with bit 0 set (MPLS bottom of "
        "stack), and GoBGP's first 24-bit field 10100 has it: the second label (20100) is "
        "left out",
}


def vectors():
    for path in sorted(ROOT.rglob("*.vec")):
        name, fields = None, {}
        for line in path.read_text().splitlines() + [""]:
            if not line.strip():
                if name and "hex" in fields and "expect.error" not in fields:
                    fam = fields.get("expect.mp_reach_family") or fields.get(
                        "expect.mp_unreach_family")
                    if fam in FAMILIES and (fields.get("expect.mp_reach_nlri")
                                            or fields.get("expect.mp_unreach_nlri")):
                        yield name, re.sub(r"[^0-9a-fA-F]", "", fields["hex"])
                name, fields = None, {}
                continue
            if line.startswith("#") or ":" not in line:
                continue
            k, v = line.split(":", 1)
            if k == "name":
                name = v.strip()
            fields[k] = v.strip()


def exabgp(hexes):
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "decode.conf")
        with open(conf, "w") as f:
            f.write(CONF)
        args = ["exabgp"]
        for h in hexes:
            args += ["--decode", h]
        env = dict(os.environ, **{"exabgp.log.destination": "stdout"})
        out = subprocess.run(args + [conf], capture_output=True, text=True, env=env,
                             timeout=300).stdout
    found = [json.loads(line.split("update json ", 1)[1]) for line in out.splitlines()
             if "update json " in line]
    return [j["neighbor"]["message"]["update"] for j in found]


def ours(binary, hexes):
    out = subprocess.run([binary, "decode", "--json"], input="\n".join(hexes) + "\n",
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def exa_nlri(update):
    """(announce or withdraw, family, nlri object) in order."""
    for verb in ("announce", "withdraw"):
        for family, v in update.get(verb, {}).items():
            groups = v.values() if isinstance(v, dict) else [v]
            for group in groups:
                for n in group:
                    yield family, n


def our_nlri(decoded):
    for a in decoded.get("attributes", []):
        if a["type"] in ("MP_REACH_NLRI", "MP_UNREACH_NLRI") and isinstance(
                a["value"].get("nlri"), list):
            for n in a["value"]["nlri"]:
                yield a["value"]["family"], n


def zero_esi(e):
    return "-" if e == "00:00:00:00:00:00:00:00:00:00" else e


def views(family, exa, mine):
    """Pairs of (what, ExaBGP's value, ours)."""
    if family == "l2vpn-evpn":
        yield "route type", exa["code"], mine["code"]
        if "name" in exa:
            yield "name", exa["name"], mine["name"]
        yield "raw", exa["raw"].lower(), mine["raw"]
        yield "rd", exa.get("rd"), mine.get("rd")
        if "esi" in exa:
            yield "esi", exa["esi"].lower(), zero_esi(mine.get("esi", "-"))
        if "ethernet-tag" in exa:
            yield "ethernet tag", exa["ethernet-tag"], mine.get("ethernet-tag")
        if "mac" in exa:
            yield "mac", exa["mac"].lower(), mine.get("mac")
        if "ip" in exa:
            yield "ip", exa["ip"], mine.get("ip")
        if "iplen" in exa:
            yield "iplen", exa["iplen"], mine.get("iplen")
        if "gateway" in exa:
            yield "gateway", exa["gateway"], mine.get("gateway")
        if "label" in exa:
            # ExaBGP writes [label, raw] pairs, or [label] alone for a label field of 0
            # (FRR's EVPN routes without a VNI label): the raw value is compared where given.
            want = [list(e) for e in exa["label"]]
            pairs = list(zip(mine.get("label", []), mine.get("raw-label", [])))
            have = [[l, r][:len(w)] for w, (l, r) in zip(want, pairs)] + [
                [l, r] for l, r in pairs[len(want):]]
            yield "labels", want, have
    elif family == "l2vpn-vpls":
        for k in ("rd", "endpoint", "base", "offset", "size"):
            yield k, exa.get(k), mine.get(k)
    else:
        yield "rd", exa.get("rd"), mine.get("rd")
        for exa_key, ty in (("destination-ipv4", 1), ("source-ipv4", 2),
                            ("destination-ipv6", 1), ("source-ipv6", 2)):
            if exa_key in exa:
                prefixes = [c["prefix"] for c in mine["components"] if c["type"] == ty]
                want = [p.split("/")[0] + "/" + p.split("/")[1] for p in exa[exa_key]]
                yield exa_key, want, prefixes


def main():
    binary = "target/debug/bgpinject"
    if "--bgpinject" in sys.argv:
        binary = sys.argv[sys.argv.index("--bgpinject") + 1]
    items = list(vectors())
    hexes = [h for _, h in items]
    exa = exabgp(hexes)
    mine = ours(binary, hexes)
    if len(exa) != len(items) or len(mine) != len(items):
        print(f"ExaBGP decoded {len(exa)}, bgpinject {len(mine)} of {len(items)} vectors")
        sys.exit(1)
    compared, disagree = 0, 0
    for (name, _), e, m in zip(items, exa, mine):
        theirs, our = list(exa_nlri(e)), list(our_nlri(m))
        if len(theirs) != len(our):
            print(f"{name}: ExaBGP shows {len(theirs)} NLRI, bgpinject {len(our)}")
            disagree += 1
            continue
        for (_, t), (family, o) in zip(theirs, our):
            for what, want, have in views(family, t, o):
                compared += 1
                if want != have:
                    if (name, what) in KNOWN:
                        print(f"known: {name}: {what}: {KNOWN[(name, what)]}")
                        continue
                    disagree += 1
                    print(f"{name}: {what}:\n  exabgp    {want}\n  bgpinject {have}")
    print(f"{len(items)} vectors, {compared} fields compared with ExaBGP, {disagree} disagree")
    sys.exit(1 if disagree else 0)


main()
