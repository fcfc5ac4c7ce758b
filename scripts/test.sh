#!/usr/bin/env bash
# Set up and run every check CI runs: formatting, clippy (warnings are errors), the whole test suite, and the
# aarch64 cross build of the kiosk binaries (time and `file` printed; fails unless `file` says ARM aarch64).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Disk: a cold run writes tens of GB into $CARGO_TARGET_DIR. Incremental caches would nearly double what the
# workspace's own crates take and buy nothing on a fresh CI clone, so the test run builds without them.
export CARGO_INCREMENTAL=0
disk_report() {
    echo "==> disk: $CARGO_TARGET_DIR holds $(du -sh "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1); $(df -h --output=avail "$CARGO_TARGET_DIR" | tail -n 1 | tr -d ' ') free"
}
mkdir -p "$CARGO_TARGET_DIR"
# Incremental caches left by earlier interactive builds are the first thing to go when space is short.
if [ "$(df --output=avail -k "$CARGO_TARGET_DIR" | tail -n 1)" -lt $((40 * 1024 * 1024)) ]; then
    echo "==> under 40 GB free: removing incremental caches under $CARGO_TARGET_DIR"
    find "$CARGO_TARGET_DIR" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} +
fi
disk_report

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
disk_report
