# Shared by scripts/run.sh and scripts/test.sh: environment and Debian packages. Sourced, not run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jachai-target}"
# insta finds snapshots from this root at run time, not from the path a reused test binary was
# built under (the shared target dir serves clones at other paths).
export INSTA_WORKSPACE_ROOT="$repo"
export JACHAI_SHARED_DATA="${JACHAI_SHARED_DATA:-$repo/../shared/data}"
export PATH="$HOME/.cargo/bin:$PATH"

# need_debs: Debian packages the project needs, installed only when missing.
source "$repo/scripts/debs.sh"

# pkg-config for -sys crates; ca-certificates so cargo reaches crates.io on a bare machine.
# OCR: libtesseract with Bengali (fast + script model), English and Thai (scam images) data; clang for tesseract-sys'
# bindgen. Fonts: Bengali and Latin faces the synthetic GD generator renders with.
need_debs pkg-config ca-certificates \
    tesseract-ocr tesseract-ocr-ben tesseract-ocr-eng tesseract-ocr-script-beng tesseract-ocr-tha \
    libtesseract-dev libleptonica-dev libclang-dev clang \
    fonts-noto-core fonts-lohit-beng-bengali fonts-dejavu-core
# Sync: the MQTT broker and its command-line clients (tests start private brokers on free ports; the
# package's own system broker on 1883 is never used), PostgreSQL for the cloud's second storage backend,
# systemd for `systemd-analyze verify` on the unit files.
# The kiosk app: Slint's text stack links fontconfig; its linuxkms backend (the Pi's display without X)
# links libinput, libudev and xkbcommon; v4l2-sys bindgen reuses clang from above.
need_debs libfontconfig1-dev libinput-dev libudev-dev libxkbcommon-dev
need_debs mosquitto mosquitto-clients postgresql systemd
# The cloud's HTTP side: wrk for the lookup benchmark; headless Chromium, its WebDriver and Python's
# Selenium for the browser tests of the console and the check pages.
need_debs wrk chromium chromium-driver python3-selenium
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"

# A private PostgreSQL cluster for the cloud's tests: trust auth on 127.0.0.1 only, a fixed non-default
# port, fsync off (throwaway data). Started when not running; exports JACHAI_TEST_PG_URL. As root the
# cluster runs as the `postgres` user (PostgreSQL refuses root) in a directory that user owns.
start_test_pg() {
    local port="${JACHAI_TEST_PG_PORT:-54329}" bindir dir run=()
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bindir" ]; then
        echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
        return 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        dir="${JACHAI_PG_DIR:-/var/lib/postgresql/jachai-pg}"
        install -d -o postgres -g postgres -m 700 "$dir"
        run=(runuser -u postgres --)
    else
        dir="${JACHAI_PG_DIR:-$HOME/.cache/jachai-pg}"
        mkdir -p "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        echo "==> initdb: private PostgreSQL test cluster in $dir"
        "${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    if ! "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        echo "==> starting the PostgreSQL test cluster on 127.0.0.1:$port"
        "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            >/dev/null || { tail -n 20 "$dir/server.log" >&2; return 1; }
    fi
    export JACHAI_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

if [ ! -d "$JACHAI_SHARED_DATA" ]; then
    echo "warning: shared test data not found at $JACHAI_SHARED_DATA (set JACHAI_SHARED_DATA)" >&2
fi
cd "$repo"

# pip_venv VENV EXE PACKAGE…: a virtualenv of Debian's Python at VENV with the PyPI packages installed,
# unless VENV/bin/EXE is already there; prints nothing when it is.
pip_venv() {
    local venv="$1" exe="$2"
    shift 2
    need_debs python3-venv
    if [ ! -x "$venv/bin/$exe" ]; then
        echo "==> installing $* into $venv"
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q "$@"
    fi
}

# moto's S3-compatible server (PyPI: moto with its S3 extra, and flask for the server mode), for the cloud's
# object-store tests (cloud/tests/s3_objects.rs); exports JACHAI_MOTO_SERVER.
setup_moto() {
    local venv="${JACHAI_MOTO_VENV:-$HOME/.cache/jachai-moto}"
    pip_venv "$venv" moto_server 'moto[s3]>=5,<6' flask flask-cors
    export JACHAI_MOTO_SERVER="$venv/bin/moto_server"
}

# schemathesis (PyPI), for the cloud's OpenAPI test (cloud/tests/schemathesis.rs); exports
# JACHAI_SCHEMATHESIS, the path of its `st`.
setup_schemathesis() {
    local venv="${JACHAI_SCHEMATHESIS_VENV:-$HOME/.cache/jachai-schemathesis}"
    pip_venv "$venv" st 'schemathesis>=4,<5'
    export JACHAI_SCHEMATHESIS="$venv/bin/st"
    echo "==> $("$JACHAI_SCHEMATHESIS" --version)"
}
