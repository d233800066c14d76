#!/usr/bin/env bash
# Accuracy of a StableSyncNet checkpoint (the original's eval/eval_syncnet_acc.sh).
# Usage: eval/eval_syncnet_acc.sh --fileslist FILE [--checkpoint checkpoints/stable_syncnet.pt] [...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec ./latentsync eval syncnet-acc --config syncnet_16_pixel_attn "$@"
