#!/usr/bin/env bash
# Train the UNet (seed-compatible). More GPUs or nodes: see docs/training.md (accelerate launch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec ./latentsync train unet --config "${1:-stage1_512}" "${@:2}"
