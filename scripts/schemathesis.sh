#!/usr/bin/env bash
# schemathesis (from PyPI) against the OpenAPI document the cloud serves: starts the real service (HTTP on
# port 0, a private Mosquitto, SQLite) through cloud/tests/schemathesis.rs, logs in as an admin and lets
# schemathesis generate requests for every operation; any 5xx fails the run.
#   bash scripts/schemathesis.sh            (JACHAI_SCHEMATHESIS_EXAMPLES=60 per operation by default)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
need_debs python3-venv
venv="${JACHAI_SCHEMATHESIS_VENV:-$HOME/.cache/jachai-schemathesis}"
if [ ! -x "$venv/bin/st" ]; then
    echo "==> installing schemathesis into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
echo "==> $("$venv/bin/st" --version)"
cd "$repo"
JACHAI_SCHEMATHESIS="$venv/bin/st" cargo test -p jachai-cloud --test schemathesis -- --nocapture
