#!/usr/bin/env bash
# Set up and run every check CI runs: formatting, clippy (warnings are errors), the whole test suite.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

start_test_pg
echo "==> PostgreSQL for the cloud tests: $JACHAI_TEST_PG_URL"
setup_schemathesis

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> building the daemons the end-to-end tests start (jachai-cloud, jachai-sync)"
cargo build --locked -p jachai-cloud -p jachai-edge-sync --bins
echo "==> cargo test"
cargo test --workspace --locked
