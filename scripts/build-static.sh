#!/usr/bin/env bash
# `make static`: fully static, stripped release binaries for x86_64 and aarch64 Linux (musl),
# in dist/. rust-lld links both, so no cross C toolchain is needed. Fails when a binary is not
# static or is larger than MAX_BYTES.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=${DIST:-dist}
MAX_BYTES=${MAX_BYTES:-5242880}   # 5 MiB (4 MiB until role/OTC, LLGR, created neighbors and the keyword audit; 3 MiB before BFD, metrics and the new NLRI codecs)
TARGETS=${TARGETS:-"x86_64-unknown-linux-musl aarch64-unknown-linux-musl"}
mkdir -p "$DIST"
installed=$(rustup target list --installed 2>/dev/null || true)
for target in $TARGETS; do
    if ! grep -qx "$target" <<<"$installed"; then
        rustup target add "$target"
    fi
done
for target in $TARGETS; do
    arch=${target%%-*}
    var=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_LINKER
    env "$var=rust-lld" RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo build --release --locked --target "$target"
    out="$DIST/bgpinject-linux-$arch"
    cp "target/$target/release/bgpinject" "$out"
    size=$(stat -c %s "$out")
    # A static executable has no program interpreter (PT_INTERP) and needs no shared library.
    if LC_ALL=C readelf -lW "$out" | grep -q INTERP || LC_ALL=C readelf -dW "$out" | grep -q NEEDED; then
        echo "$out: not static" >&2
        exit 1
    fi
    if [ "$size" -gt "$MAX_BYTES" ]; then
        echo "$out: $size bytes, more than $MAX_BYTES" >&2
        exit 1
    fi
    echo "$out: static, stripped, $size bytes"
done
(cd "$DIST" && sha256sum bgpinject-linux-* > SHA256SUMS)
