#!/usr/bin/env bash
# Seed-compatible entry point: raw videos -> training clips (see `./latentsync preprocess --help`).
# Usage: ./data_processing_pipeline.sh INPUT_DIR [extra `latentsync preprocess` options]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
INPUT_DIR="${1:?usage: $0 INPUT_DIR [options]}"
shift
exec ./latentsync preprocess \
    --input-dir "$INPUT_DIR" \
    --resolution 256 \
    --sync-conf-threshold 3 \
    "$@"
