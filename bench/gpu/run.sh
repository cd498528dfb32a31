#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU, the CUDA driver and PyTorch (no
# MLIR): checks and times the kernels bench/gpu/build.py built here.
#   bench/gpu/run.sh [KERNELS_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=${1:-build/gpu-bench}
out=${2:-${OUT:-.}}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv || true
# The numerics library's 2:4 mma.sp metadata on the tensor cores.
"$kernels/mma_sp_check" 2>&1 | tee "$out/mma-sp.txt" || true
# The ahead-of-time executable: host code, runtime and kernel together.
"$kernels/e2e/decode" 2>&1 | tee "$out/gpu-e2e.txt" || true
"$kernels/e2e/resident" 2>&1 | tee -a "$out/gpu-e2e.txt" || true
python3 bench/gpu/run.py --kernels "$kernels" --json "$out/gpu-bench.json" \
  2>&1 | tee "$out/gpu-bench.txt"
