#!/usr/bin/env bash
# Set up and run every check CI runs: formatting, clippy (warnings are errors), the whole test suite, and the
# aarch64 cross build of the kiosk binaries (time and `file` printed; fails unless `file` says ARM aarch64).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

start_test_pg
echo "==> PostgreSQL for the cloud tests: $JACHAI_TEST_PG_URL"
setup_schemathesis
setup_moto

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> building the daemons the end-to-end tests start (jachai-cloud, jachai-sync)"
cargo build --locked -p jachai-cloud -p jachai-edge-sync --bins
echo "==> cargo test"
cargo test --workspace --locked
echo "==> cross build for the Pi (aarch64; see docs/cross-build.md): jachai-kiosk, jachai-sync"
bash scripts/cross.sh aarch64 --profile cross-check
