#!/usr/bin/env bash
# Install the .deb packages on a clean Debian 12 root (a debootstrap chroot), bring the services up with
# their units' start commands, check `jachai-kiosk doctor`, purge, and check nothing is left behind;
# lintian on both packages. Needs root.
#   bash scripts/deb-test.sh [DEB_DIR]     (default out/deb, as scripts/package.sh writes)
# The base root is debootstrapped once into ~/.cache/jachai-debroot/base and copied for every run.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$repo"
debs="${1:-$repo/out/deb}"
kiosk_deb=$(find "$debs" -maxdepth 1 -name "jachai-kiosk_*_amd64.deb" | sort -V | tail -n 1)
cloud_deb=$(find "$debs" -maxdepth 1 -name "jachai-cloud_*_amd64.deb" | sort -V | tail -n 1)
if [ -z "$kiosk_deb" ] || [ -z "$cloud_deb" ]; then
    echo "error: no packages in $debs (bash scripts/package.sh)" >&2
    exit 1
fi
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (chroot, mounts)" >&2; exit 1; }
need_debs debootstrap lintian util-linux iproute2

cache="$HOME/.cache/jachai-debroot"
base="$cache/base"
root="$cache/run"
mkdir -p "$cache"
if [ ! -x "$base/usr/bin/apt-get" ]; then
    echo "==> debootstrap bookworm (minbase) into $base"
    rm -rf "$base"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$base" http://deb.debian.org/debian >"$cache/debootstrap.log"
fi

mounts=()
cleanup() {
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$root"
cp -a "$base" "$root"
for m in proc sys dev dev/pts; do
    mount --bind "/$m" "$root/$m"
    mounts+=("$root/$m")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What an installed Debian system has and debootstrap leaves out.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# Everything on the root before, less what apt and dpkg keep about themselves and the backups the shadow
# tools leave of the user and group files (/etc/shadow- …; the users themselves are checked below).
snapshot() {
    (cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./tmp \
        -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log \
        -o -path ./etc/ld.so.cache -o -path ./var/lib/systemd/deb-systemd-helper-enabled \
        -o -path ./var/lib/systemd/deb-systemd-helper-masked -o -path './etc/*-' \) -prune -o -print | sort)
}
in_root apt-get update -qq
# The test itself logs in and asks for a token with curl (not part of what the packages bring).
in_root apt-get install -y -qq curl >/dev/null
snapshot >"$cache/before.txt"

echo "==> dpkg -i (with apt resolving the dependencies)"
cp "$kiosk_deb" "$cloud_deb" "$root/tmp/"
in_root apt-get install -y -qq "/tmp/$(basename "$cloud_deb")" "/tmp/$(basename "$kiosk_deb")" >"$cache/install.log" 2>&1 ||
    { tail -n 40 "$cache/install.log"; exit 1; }
in_root dpkg-query -W jachai-kiosk jachai-cloud mosquitto tesseract-ocr-ben tesseract-ocr-eng

echo "==> services up in a private network namespace, started as their units start them"
mkdir -p "$root/srv/jachai-demo"
cp "$JACHAI_SHARED_DATA/pngsuite/basn2c08.png" "$root/srv/jachai-demo/page.png"
cp "$repo/scripts/deb-services.sh" "$root/tmp/deb-services.sh"
# The namespace's loopback is brought up with the host's `ip` (the minimal root has none). A private PID
# namespace too: when the script ends, whatever it started ends with it.
# shellcheck disable=SC2016 # $1 is expanded by the inner sh
unshare --net --pid --fork -- sh -c 'ip link set lo up && exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 bash /tmp/deb-services.sh' sh "$root"

echo "==> purge"
in_root apt-get purge -y -qq jachai-kiosk jachai-cloud >"$cache/purge.log" 2>&1 || { tail -n 40 "$cache/purge.log"; exit 1; }
in_root apt-get autoremove --purge -y -qq >>"$cache/purge.log" 2>&1
rm -rf "$root/srv/jachai-demo" "$root/tmp/"*
snapshot >"$cache/after.txt"
if ! diff -u "$cache/before.txt" "$cache/after.txt" >"$cache/left.diff"; then
    echo "FAIL: purge left these behind (or removed them):" >&2
    cat "$cache/left.diff" >&2
    exit 1
fi
for who in jachai jachai-broker; do
    if in_root getent passwd "$who" >/dev/null || in_root getent group "$who" >/dev/null; then
        echo "FAIL: user or group $who is still there after purge" >&2
        exit 1
    fi
done
echo "ok: purge left nothing behind ($(wc -l <"$cache/before.txt") paths compared)"

echo "==> lintian"
lintian --fail-on error --suppress-tags-from-file /dev/null "$kiosk_deb" "$cloud_deb" | tee "$cache/lintian.txt"
echo "lintian: $(grep -c '^E:' "$cache/lintian.txt" || true) errors, $(grep -c '^W:' "$cache/lintian.txt" || true) warnings"
echo "deb-test: all checks passed"
