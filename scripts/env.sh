# Shared by scripts/run.sh and scripts/test.sh: environment and Debian packages. Sourced, not run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jachai-target}"
export JACHAI_SHARED_DATA="${JACHAI_SHARED_DATA:-$repo/../shared/data}"
export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages the project needs; installed only when missing (apt-get update first, as on a bare machine).
need_debs() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# pkg-config for -sys crates; ca-certificates so cargo reaches crates.io on a bare machine.
# OCR: libtesseract with Bengali (fast + script model) and English data; clang for tesseract-sys'
# bindgen. Fonts: Bengali and Latin faces the synthetic GD generator renders with.
need_debs pkg-config ca-certificates \
    tesseract-ocr tesseract-ocr-ben tesseract-ocr-eng tesseract-ocr-script-beng \
    libtesseract-dev libleptonica-dev libclang-dev clang \
    fonts-noto-core fonts-lohit-beng-bengali fonts-dejavu-core
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"

if [ ! -d "$JACHAI_SHARED_DATA" ]; then
    echo "warning: shared test data not found at $JACHAI_SHARED_DATA (set JACHAI_SHARED_DATA)" >&2
fi
cd "$repo"
