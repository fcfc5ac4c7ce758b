#!/usr/bin/env bash
# Create models/.venv with the pinned training dependencies of the cheque fraud and AI-image models.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv models/.venv
models/.venv/bin/pip install --quiet --upgrade pip
models/.venv/bin/pip install --quiet -r models/requirements-cheque-fraud.txt
echo "models/.venv ready"
