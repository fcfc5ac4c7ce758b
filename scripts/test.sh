#!/usr/bin/env bash
# Set up and run every check CI runs: formatting, clippy (warnings are errors), the whole test suite, and the
# aarch64 cross build of the kiosk binaries (time and `file` printed; fails unless `file` says ARM aarch64).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# Disk: a cold run writes tens of GB into $CARGO_TARGET_DIR. Incremental caches would nearly double what the
# workspace's own crates take and buy nothing on a fresh CI clone, so the test run builds without them.
export CARGO_INCREMENTAL=0
# Each step is printed with the minutes and seconds since the start, so a slow CI run shows where time went.
step() { echo "==> [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }
disk_report() {
    echo "==> disk: $CARGO_TARGET_DIR holds $(du -sh "$CARGO_TARGET_DIR" 2>/dev/null | cut -f1); $(df -h --output=avail "$CARGO_TARGET_DIR" | tail -n 1 | tr -d ' ') free"
}
mkdir -p "$CARGO_TARGET_DIR"
# A target folder reused from run to run keeps every artifact it ever built (old dependency versions, old
# profiles), so CI's cache grows until the disk is full. A cold run writes 11 GB (aarch64 build included);
# JACHAI_TEST_DISK_GB (default 20) must be free before it starts: below that, incremental caches go first,
# then the whole target folder (this run is then a cold build).
free_gb() { echo $(($(df --output=avail -k "$CARGO_TARGET_DIR" | tail -n 1) / 1024 / 1024)); }
need_gb="${JACHAI_TEST_DISK_GB:-20}"
if [ "$(free_gb)" -lt "$need_gb" ]; then
    echo "==> $(free_gb) GB free, under $need_gb GB: removing incremental caches under $CARGO_TARGET_DIR"
    find "$CARGO_TARGET_DIR" -maxdepth 3 -type d -name incremental -prune -exec rm -rf {} +
fi
if [ "$(free_gb)" -lt "$need_gb" ]; then
    echo "==> $(free_gb) GB free, still under $need_gb GB: emptying $CARGO_TARGET_DIR (a cold build follows)"
    find "$CARGO_TARGET_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
disk_report

start_test_pg
echo "==> PostgreSQL for the cloud tests: $JACHAI_TEST_PG_URL"
setup_schemathesis
setup_moto

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The daemons the end-to-end tests start (jachai-cloud, jachai-sync) are built by this same command: cargo
# builds a package's binaries for its integration tests, with the features the tests resolve (a separate
# `cargo build -p …` would resolve them differently and compile a second set of dependencies).
step "cargo test"
cargo test --workspace --locked
step "cross build for the Pi (aarch64; see docs/cross-build.md): jachai-kiosk, jachai-sync"
bash scripts/cross.sh aarch64 --profile cross-check
disk_report
step "done"
