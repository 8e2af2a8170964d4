#!/usr/bin/env bash
# `make fuzz`: runs every cargo-fuzz target for FUZZ_SECONDS each (default 60), with a corpus
# seeded from test-vectors/. Works on stable Rust with `-s none` (libFuzzer coverage, no
# sanitizer). Prints one line per target: runs, seconds, and whether it found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
# Seed: whole messages for frame/message_roundtrip, bodies (after the 19-octet header) for
# open/update, taken from every vector's hex line.
python3 - <<'PY'
import pathlib, re
root = pathlib.Path("test-vectors")
out = pathlib.Path("fuzz/corpus")
for t in ["frame", "message_roundtrip", "open", "update"]:
    (out / t).mkdir(parents=True, exist_ok=True)
n = 0
for f in root.rglob("*.vec"):
    for line in f.read_text().splitlines():
        if not line.startswith("hex:"):
            continue
        data = bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", line[4:]))
        n += 1
        (out / "frame" / f"v{n}").write_bytes(data)
        (out / "message_roundtrip" / f"v{n}").write_bytes(data)
        if len(data) > 19 and data[18] == 1:
            (out / "open" / f"v{n}").write_bytes(data[19:])
        if len(data) > 19 and data[18] == 2:
            (out / "update" / f"v{n}").write_bytes(data[19:])
# NLRI decoders: the first byte picks the family. RFC 8955 §4.2.3's first example, and a
# labeled /24 (label 100, bottom of stack).
for t in ["flowspec_nlri", "labeled_nlri"]:
    (out / t).mkdir(parents=True, exist_ok=True)
(out / "flowspec_nlri" / "rfc8955-1").write_bytes(bytes.fromhex("00" "0b0118c00002038106048119"))
(out / "labeled_nlri" / "label-100").write_bytes(bytes.fromhex("00" "30000641c63364"))
(out / "labeled_nlri" / "vpn-rd").write_bytes(bytes.fromhex("02" "70" "0012c1" "0000fde800000001" "c63364"))
# The families of src/wire/nlri: one NLRI each (tests in src/wire/nlri/tests.rs).
seeds = {
    "nlri_rtc": "00" "600000fdfb0002fdfb00000064",
    "nlri_flow_vpn": "00" "100000fde8000000010118c00002038106",
    "nlri_evpn": "00" "02250001c00002020064000000000000000000000000000030001122aabb01200a0a0001027741",
    "nlri_vpls": "00" "00110001c0a8c901007b000500010008029ce1",
    "nlri_mup": "00" "0100031c0000006400000064" "20c0a800010000303909200a000001200a000101",
    "nlri_sr_policy": "00" "600000000100000064c0000209",
    "sid_ls_attributes": "00" "050022000100" "1e0020010db8000100000000000000000000000048000100" "06401810000000",
    "nlri_mvpn": "00" "06160000fde80001869f0000fde8200a63c70120effbffe4",
    "nlri_bgp_ls": "00" "0001001f0200000000000000000100001202000004" "0000fde80203000600000000" "0001",
}
for t, h in seeds.items():
    (out / t).mkdir(parents=True, exist_ok=True)
    (out / t / "seed").write_bytes(bytes.fromhex(h))
for t in ["tunnel_encap", "capture_files"]:
    (out / t).mkdir(parents=True, exist_ok=True)
(out / "tunnel_encap" / "vxlan").write_bytes(bytes.fromhex(
    "00080016060a000000000001c000024d0408030b000000000064"))
for f in (root / "captures").glob("*"):
    if f.suffix == ".mrt":
        (out / "capture_files" / f.name).write_bytes(b"\x00" + f.read_bytes())
    elif f.suffix in (".pcap", ".pcapng"):
        (out / "capture_files" / f.name).write_bytes(b"\x01" + f.read_bytes())
# The session core starts from an empty corpus: its input is a script of steps.
(out / "session_core").mkdir(parents=True, exist_ok=True)
print(f"seeded the corpora from {n} vectors")
PY
cd fuzz
for t in frame open update message_roundtrip flowspec_nlri labeled_nlri tunnel_encap capture_files session_core \
    nlri_rtc nlri_flow_vpn nlri_evpn nlri_vpls nlri_mup nlri_sr_policy nlri_bgp_ls nlri_mvpn sid_ls_attributes; do
    log=$(mktemp)
    if cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$SECONDS_EACH" >"$log" 2>&1; then
        runs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
        echo "fuzz $t: ${SECONDS_EACH} s, ${runs:-?} runs, no crash"
    else
        echo "fuzz $t: FOUND A PROBLEM, see fuzz/artifacts/$t" >&2
        tail -30 "$log" >&2
        exit 1
    fi
    rm -f "$log"
done
