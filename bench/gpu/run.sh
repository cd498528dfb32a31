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
# Unbuffered (-u): what a run printed survives a timeout.
status=0
python3 -u bench/gpu/run.py --kernels "$kernels" --skip 'table-wgmma*,table-gemv8' \
  --json "$out/gpu-bench.json" 2>&1 | tee "$out/gpu-bench.txt" || status=1
# Kernels not yet checked on a device (the wgmma GEMMs, those on TMA last;
# the 8-bit GEMV) in a process of their own, under a timeout: a hang there
# cannot take the table with it. A row that takes more than 60 s (one
# hangs: a row takes seconds) ends the process there, with its name.
if compgen -G "$kernels/table-wgmma*" > /dev/null ||
   [ -d "$kernels/table-gemv8" ]; then
  timeout -k 30 300 python3 -u bench/gpu/run.py --kernels "$kernels" \
    --tables 'table-wgmma*,table-gemv8' --no-sweeps --row-timeout 60 \
    --json "$out/gpu-bench-wgmma.json" \
    2>&1 | tee "$out/gpu-bench-wgmma.txt" || status=1
fi
exit $status
