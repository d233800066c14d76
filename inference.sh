#!/usr/bin/env bash
# Seed-compatible inference: VIDEO=in.mp4 AUDIO=speech.wav OUTPUT=out.mp4 ./inference.sh [extra flags]
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scripts/bootstrap.sh"
ls_bootstrap
cd "$LS_ROOT"
exec "$LS_VENV/bin/python" -m scripts.inference \
    --unet_config_path "${UNET_CONFIG:-configs/unet/stage2_512.yaml}" \
    --inference_ckpt_path "${CHECKPOINT:-checkpoints/latentsync_unet.pt}" \
    --inference_steps "${STEPS:-20}" \
    --guidance_scale "${GUIDANCE:-1.5}" \
    --enable_deepcache \
    --video_path "${VIDEO:-assets/demo1_video.mp4}" \
    --audio_path "${AUDIO:-assets/demo1_audio.wav}" \
    --video_out_path "${OUTPUT:-video_out.mp4}" \
    "$@"
