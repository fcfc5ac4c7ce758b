#!/usr/bin/env bash
# schemathesis (from PyPI) against the OpenAPI document the cloud serves: starts the real service (HTTP on
# port 0, a private Mosquitto, SQLite) through cloud/tests/schemathesis.rs, logs in as an admin and lets
# schemathesis generate requests for every operation; any 5xx fails the run.
#   bash scripts/schemathesis.sh            (JACHAI_SCHEMATHESIS_EXAMPLES=60 per operation by default)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
setup_schemathesis
cd "$repo"
cargo test -p jachai-cloud --test schemathesis -- --nocapture
