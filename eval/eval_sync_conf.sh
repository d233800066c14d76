#!/usr/bin/env bash
# SyncNet confidence of a lip-synced video (the original's eval/eval_sync_conf.sh).
# Extra arguments are passed on, e.g. --dir FOLDER, --aux-dir DIR, --report-dir DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "$#" -eq 0 ]; then
    set -- --video "video_out.mp4"
fi
exec ./latentsync eval sync "$@"
