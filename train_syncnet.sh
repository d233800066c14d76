#!/usr/bin/env bash
# Train StableSyncNet (seed-compatible). More GPUs or nodes: see docs/training.md (accelerate launch).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
exec ./latentsync train syncnet --config "${1:-syncnet_16_pixel_attn}" "${@:2}"
