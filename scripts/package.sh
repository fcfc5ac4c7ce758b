#!/usr/bin/env bash
# Build the Debian packages: jachai-kiosk (kiosk app + jachai-sync) and jachai-cloud, release profile,
# with cargo-deb (installed into ~/.cargo/bin when missing). Writes out/deb/*.deb and prints their paths.
#   bash scripts/package.sh [--only kiosk|cloud] [--profile dev]
# `--profile dev` packages the development build the tests use (minutes instead of the release build's
# long link-time optimisation): for checking the packaging itself, not for shipping.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$repo"

only=""
profile=release
while [ $# -gt 0 ]; do
    case "$1" in
    --only) only="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    *) echo "usage: $0 [--only kiosk|cloud] [--profile release|dev]" >&2; exit 2 ;;
    esac
done

need_debs dpkg-dev liblzma-dev
cargo_deb_version=3.8.0
if ! cargo deb --version 2>/dev/null | grep -q "$cargo_deb_version"; then
    echo "==> installing cargo-deb $cargo_deb_version"
    cargo install --locked --quiet cargo-deb --version "$cargo_deb_version"
fi

pflag=(--profile "$profile")
out="$repo/out/deb"
mkdir -p "$out"

# Each binary is built on its own, so Cargo's feature unification does not give the kiosk app the
# sync daemon's dependencies; cargo-deb then only packages (--no-build).
start=$(date +%s)
# Manual pages: each binary prints its own (hidden `man` subcommand, clap_mangen); the packages' assets
# take them from out/man.
bindir="$CARGO_TARGET_DIR/$([ "$profile" = dev ] && echo debug || echo "$profile")"
man="$repo/out/man"
mkdir -p "$man"
manpage() {
    "$bindir/$1" man >"$man/$1.1"
    gzip -9nf "$man/$1.1"
}
if [ "$only" != cloud ]; then
    cargo build --locked "${pflag[@]}" -p jachai-edge-sync --bin jachai-sync
    cargo build --locked "${pflag[@]}" -p jachai-kiosk
    manpage jachai-sync
    manpage jachai-kiosk
    cargo deb --no-build "${pflag[@]}" -p jachai-kiosk -o "$out"
fi
if [ "$only" != kiosk ]; then
    cargo build --locked "${pflag[@]}" -p jachai-cloud
    manpage jachai-cloud
    cargo deb --no-build "${pflag[@]}" -p jachai-cloud -o "$out"
fi
echo "==> packages built in $(( $(date +%s) - start )) s:"
ls -1 "$out"/*.deb
