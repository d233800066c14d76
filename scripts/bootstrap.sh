#!/usr/bin/env bash
# Creates or updates the project's virtualenv; sourced by ./latentsync and ./test.sh.
# Re-running is cheap: nothing is installed unless pyproject.toml or this file changed.
set -euo pipefail

LS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LS_VENV="${LATENTSYNC_VENV:-$LS_ROOT/.venv}"
# "enhance" (spandrel) is opt-in: spandrel imports torchvision, which would replace the CPU torch with a
# CUDA build of several GB. LATENTSYNC_EXTRAS=app,data,train,enhance,dev with a CUDA torch adds it.
LS_EXTRAS="${LATENTSYNC_EXTRAS:-app,data,train,dev}"
# A CPU build by default; GPU users install their CUDA torch into the venv first (see README).
LS_TORCH_SPEC="${LATENTSYNC_TORCH_SPEC:-torch==2.13.0}"
LS_WHISPER_SPEC="${LATENTSYNC_WHISPER_SPEC:-openai-whisper==20250625}"

# The torch + torchvision pair for a venv with the "enhance" extra (test.sh's .venv-enhance): PyPI has
# no torchvision for the CPU torch above. On x86-64 the pair is a CUDA build (~5.5 GB, runs on CPU too).
ls_enhance_torch_spec() {
  if [ -n "${LATENTSYNC_ENHANCE_TORCH_SPEC:-}" ]; then
    echo "$LATENTSYNC_ENHANCE_TORCH_SPEC"
  elif [ "$(uname -m)" = aarch64 ]; then
    echo "torch==2.9.1 torchvision==0.24.1"
  else
    echo "torch==2.14.1 torchvision==0.29.1"
  fi
}

ls_log() { echo "[bootstrap] $*" >&2; }

ls_pick_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python3.10; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  ls_log "Python 3.10 or newer is required; set PYTHON=/path/to/python3"; return 1
}

ls_stamp() {
  cat "$LS_ROOT/pyproject.toml" "$LS_ROOT/scripts/bootstrap.sh" "$LS_ROOT/scripts/requirements.py" | sha256sum | cut -d' ' -f1
  echo "$LS_EXTRAS $LS_TORCH_SPEC $LS_WHISPER_SPEC"
}

ls_bootstrap() {
  local py stamp_file want
  stamp_file="$LS_VENV/.latentsync-bootstrap"
  want="$(ls_stamp)"
  if [ -x "$LS_VENV/bin/python" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$LS_VENV/bin/python" ]; then
    py="$(ls_pick_python)"
    ls_log "creating $LS_VENV with $py"
    "$py" -m venv "$LS_VENV"
  fi
  local pip=("$LS_VENV/bin/python" -m pip --disable-pip-version-check -q)
  ls_log "installing dependencies (first run takes a few minutes)"
  "${pip[@]}" install --upgrade pip >/dev/null
  if ! "$LS_VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
    ls_log "installing $LS_TORCH_SPEC"
    local torch_specs
    read -ra torch_specs <<< "$LS_TORCH_SPEC"  # e.g. "torch==2.14.1 torchvision==0.29.1"
    "${pip[@]}" install "${torch_specs[@]}"
  fi
  # openai-whisper's metadata pulls triton (GPU kernels, hundreds of MB, unused on CPU; CUDA torch
  # brings its own): install every other requirement of pyproject.toml, then whisper with --no-deps
  # (its imports are listed in pyproject.toml too).
  "${pip[@]}" install --no-deps -e "$LS_ROOT"
  "$LS_VENV/bin/python" "$LS_ROOT/scripts/requirements.py" "$LS_EXTRAS" --exclude openai-whisper \
    > "$LS_VENV/.latentsync-requirements.txt"
  "${pip[@]}" install -r "$LS_VENV/.latentsync-requirements.txt"
  "${pip[@]}" install --no-deps "$LS_WHISPER_SPEC"
  # mediapipe, insightface and scenedetect each want a different OpenCV wheel and all write
  # cv2/; reinstalling the contrib build last makes it the one that wins.
  local cv_version
  cv_version="$("$LS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("opencv-contrib-python"))')"
  "${pip[@]}" install --force-reinstall --no-deps "opencv-contrib-python==$cv_version"
  "$LS_VENV/bin/python" -c 'import cv2, torch, whisper, av, diffusers' \
    || { ls_log "the environment does not import; delete $LS_VENV and retry"; return 1; }
  echo "$want" > "$stamp_file"
  ls_log "ready: $LS_VENV"
}
