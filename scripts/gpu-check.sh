#!/usr/bin/env bash
# What a user with an NVIDIA GPU runs after `npm run setup:native -- --gpu`: which backend and
# device run; the digits CNN and a GPT-2-small-shaped forward on the GPU against the CPU path
# (WASM) in the same run; the hooks overhead on the GPU; the logits checked against the CPU path.
# Exit status 1 when they disagree. Without a GPU it runs the same checks on the CPU fallback and
# says so. `--quick`: fewer runs.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  echo "GPU (nvidia-smi): $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
else
  echo "GPU: none visible (no nvidia-smi or no driver): what follows is the CPU fallback"
fi
[ -f dist/scripts/gpu-check.js ] || npm run build
exec node dist/scripts/gpu-check.js "$@"
