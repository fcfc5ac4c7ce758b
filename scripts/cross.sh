#!/usr/bin/env bash
# Cross-builds the kiosk's binaries (jachai-kiosk, jachai-sync) for a Raspberry Pi with no container: Debian's
# cross gcc as the linker and a sysroot of the target's Debian packages (libtesseract, fontconfig, libinput,
# ...) unpacked under ~/.cache by a private apt that leaves the host's dpkg and its amd64 -dev packages alone.
# Prints the build time and `file` of each binary; fails when `file` does not name the target architecture.
#
#   bash scripts/cross.sh aarch64|armv7 [--release | --profile NAME] [cargo build args...]
#
# See docs/cross-build.md (steps, packages, timings) and docs/decisions/0050-cross-builds.md (why this path).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/debs.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jachai-target}"
export PATH="$HOME/.cargo/bin:$PATH"

usage() {
    echo "usage: $0 aarch64|armv7 [--release | --profile NAME] [cargo build args...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
case "$1" in
    aarch64) triple=aarch64-unknown-linux-gnu debarch=arm64 gnu=aarch64-linux-gnu want="ARM aarch64" ;;
    armv7) triple=armv7-unknown-linux-gnueabihf debarch=armhf gnu=arm-linux-gnueabihf want="ARM, EABI5" ;;
    *) usage ;;
esac
shift
# The folder cargo puts the binaries in: debug, release, or the name given to --profile.
profile=debug
prev=
for a in "$@"; do
    case "$a" in
        --release) profile=release ;;
        --profile=*) profile=${a#--profile=} ;;
    esac
    if [ "$prev" = "--profile" ]; then profile=$a; fi
    prev=$a
done
[ "$profile" = dev ] && profile=debug

# The target's libraries, as Debian packages of the target architecture; apt adds what they depend on.
# libtesseract + leptonica: verify's OCR (tesseract-sys: pkg-config and bindgen on the C++ headers);
# fontconfig: Slint's font lookup; libinput, libudev, xkbcommon: Slint's linuxkms backend (touch, keys);
# libc6-dev + libstdc++-12-dev: the C library and C++ headers every C, C++ and bindgen step compiles against.
# ring and the bundled SQLite are C compiled by cc; v4l2's bindgen reads linux-libc-dev (pulled in by libc6-dev).
target_debs=(libtesseract-dev libleptonica-dev libfontconfig-dev libinput-dev libudev-dev libxkbcommon-dev
    libc6-dev libstdc++-12-dev)

# On the host: the cross gcc (linker, C compiler for cc), pkg-config, clang for bindgen, `file`.
need_debs "gcc-$gnu" pkg-config clang libclang-dev file ca-certificates debian-archive-keyring
if command -v rustup >/dev/null && ! grep -qx "$triple" <<<"$(rustup target list --installed)"; then
    echo "==> rustup target add $triple"
    rustup target add "$triple"
fi

# The sysroot: apt with its own state, cache and sources (Debian $suite for $debarch; the Pi runs Debian 12 or
# Raspberry Pi OS 12, whatever the host runs) resolves target_debs against an empty system, downloads them and
# `dpkg-deb -x` unpacks them. Rebuilt only when the list, suite or mirror changes; delete the folder to
# refresh it. No root needed for this part.
suite="${JACHAI_CROSS_SUITE:-bookworm}"
mirror="${JACHAI_CROSS_MIRROR:-http://deb.debian.org/debian}"
security="${JACHAI_CROSS_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
base="${JACHAI_SYSROOT_DIR:-$HOME/.cache/jachai-sysroot}"
sysroot="$base/$debarch"
mkdir -p "$base"
exec 9>"$base/$debarch.lock"
flock 9
stamp="$sysroot/.jachai-sysroot"
want_stamp="$suite $mirror $security: ${target_debs[*]}"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want_stamp" ]; then
    started=$EPOCHREALTIME
    echo "==> sysroot for $debarch ($suite) in $sysroot: ${target_debs[*]}"
    apt_dir="$base/$debarch.apt"
    rm -rf "$sysroot" "$apt_dir"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
    : >"$apt_dir/status"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    {
        echo "deb [arch=$debarch signed-by=$keyring] $mirror $suite main"
        echo "deb [arch=$debarch signed-by=$keyring] $mirror $suite-updates main"
        echo "deb [arch=$debarch signed-by=$keyring] $security $suite-security main"
    } >"$apt_dir/sources.list"
    apt_opts=(-o "APT::Architecture=$debarch" -o "APT::Architectures=$debarch"
        -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
        -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
        -o "Dir::Cache=$apt_dir/cache" -o "Dir::Cache::archives=$apt_dir/cache/archives"
        -o APT::Install-Recommends=false -o APT::Sandbox::User="$(id -un)")
    apt-get "${apt_opts[@]}" update -qq
    apt-get "${apt_opts[@]}" install -y -qq --download-only "${target_debs[@]}" >/dev/null
    mkdir -p "$sysroot"
    for deb in "$apt_dir"/cache/archives/*.deb; do
        dpkg-deb -x "$deb" "$sysroot"
    done
    # Absolute symlinks (libfoo.so -> /lib/...) would point into the host: make them relative, inside.
    find "$sysroot" -type l -lname '/*' -print0 | while IFS= read -r -d '' link; do
        ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$(readlink "$link")")" "$link"
    done
    rm -rf "$apt_dir/cache"
    echo "$want_stamp" >"$stamp"
    echo "==> sysroot ready: $(du -sh "$sysroot" | cut -f1), $(awk "BEGIN{printf \"%.0f\", $EPOCHREALTIME - $started}") s"
fi
flock -u 9

# Target-scoped settings only (cargo and the -sys crates read them for $triple), so host builds and build
# scripts in the same target directory are untouched and keep their cache.
t=${triple//-/_}
T=${t^^}
export "CARGO_TARGET_${T}_LINKER=$gnu-gcc"
export "CARGO_TARGET_${T}_RUSTFLAGS=-C link-arg=--sysroot=$sysroot -C link-arg=-Wl,-rpath-link,$sysroot/lib/$gnu:$sysroot/usr/lib/$gnu"
export "CC_$t=$gnu-gcc" "CFLAGS_$t=--sysroot=$sysroot" "CXXFLAGS_$t=--sysroot=$sysroot"
export "PKG_CONFIG_SYSROOT_DIR_$t=$sysroot" "PKG_CONFIG_PATH_$t="
export "PKG_CONFIG_LIBDIR_$t=$sysroot/usr/lib/$gnu/pkgconfig:$sysroot/usr/share/pkgconfig"
export "BINDGEN_EXTRA_CLANG_ARGS_$t=--sysroot=$sysroot"

echo "==> cargo build --target $triple ($profile): jachai-kiosk, jachai-sync"
started=$EPOCHREALTIME
(cd "$repo" && cargo build --locked --target "$triple" -p jachai-kiosk -p jachai-edge-sync \
    --bin jachai-kiosk --bin jachai-sync "$@")
echo "==> cross build time ($triple, $profile): $(awk "BEGIN{printf \"%.0f\", $EPOCHREALTIME - $started}") s"

status=0
for bin in jachai-kiosk jachai-sync; do
    line=$(file -L "$CARGO_TARGET_DIR/$triple/$profile/$bin")
    echo "$line"
    if [[ "$line" != *"$want"* ]]; then
        echo "error: $bin is not an $want binary" >&2
        status=1
    fi
done
exit $status
