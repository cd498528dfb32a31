#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU, the CUDA driver and PyTorch (no
# MLIR): checks and times the kernels bench/gpu/build.py built here.
#   bench/gpu/run.sh [KERNELS_DIR] [OUT_DIR]
# ORDER (default table,families): which parts run, in that order; see the
# end of this file.
# PYTHON (default python3), RUN_PY (default bench/gpu/run.py) and
# ROW_TIMEOUT (seconds, default 60) are for
# test/Integration/GPU/bench_run_cpu.test, which runs this script on the
# CPU through bench/gpu/cpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=${1:-build/gpu-bench}
out=${2:-${OUT:-.}}
python=${PYTHON:-python3}
run_py=${RUN_PY:-bench/gpu/run.py}
row_timeout=${ROW_TIMEOUT:-60}
# ORDER=families,table runs the families first: for a device call too
# short for both.
IFS=, read -ra parts <<< "${ORDER:-table,families}"
for part in "${parts[@]}"; do
  case $part in
    table|families) ;;
    *) echo "run.sh: unknown part '$part' in ORDER (table, families)" >&2
       exit 2 ;;
  esac
done
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv || true
# The numerics library's 2:4 mma.sp metadata on the tensor cores.
"$kernels/mma_sp_check" 2>&1 | tee "$out/mma-sp.txt" || true
# The ahead-of-time executable: host code, runtime and kernel together.
"$kernels/e2e/decode" 2>&1 | tee "$out/gpu-e2e.txt" || true
"$kernels/e2e/resident" 2>&1 | tee -a "$out/gpu-e2e.txt" || true
"$kernels/e2e/w8a8" 2>&1 | tee -a "$out/gpu-e2e.txt" || true
status=0
# The table (the default kernels, and the 8-bit GEMM on mma.sync) and the
# sweeps.
# Unbuffered (-u): what a run printed survives a timeout.
table() {
  "$python" -u "$run_py" --kernels "$kernels" --skip 'table-wgmma*' \
    --json "$out/gpu-bench.json" 2>&1 | tee "$out/gpu-bench.txt" || status=1
}

# The wgmma GEMM's variants, a process for each family (the W8A8
# target's first), each under a timeout and a watchdog: a row that
# takes more than ROW_TIMEOUT seconds (one that hangs: a row takes
# seconds) ends its process there, naming the row ("(row: KERNEL ..."
# then "Timeout"), and the next family still runs. Once a family, such a
# process is followed by one for the rows it did not reach (the rows it
# ran and the hung one skipped: gpu-bench-NAME-rest.txt). Each process
# times its own cuBLAS baselines.
#   family NAME TABLE_GLOBS TIMEOUT -> gpu-bench-NAME[-rest].txt/.json
family() {
  local name=$1 globs=$2 limit=$3 glob found= list log skip=
  IFS=, read -ra list <<< "$globs"
  for glob in "${list[@]}"; do
    if compgen -G "$kernels/$glob" > /dev/null; then found=1; fi
  done
  [ -n "$found" ] || return 0
  local rc
  for log in "gpu-bench-$name" "gpu-bench-$name-rest"; do
    if timeout -k 30 "$limit" "$python" -u "$run_py" --kernels "$kernels" \
         --tables "$globs" --no-sweeps --row-timeout "$row_timeout" \
         --skip-kernels "$skip" --json "$out/$log.json" \
         2>&1 | tee "$out/$log.txt"; then
      return 0
    fi
    rc=${PIPESTATUS[0]}
    status=1
    # A hang: the watchdog's "Timeout", or the family's own timeout (124,
    # 137) ending a row the watchdog had not yet given up on.
    if ! grep -q '^Timeout' "$out/$log.txt" && [ "$rc" != 124 ] &&
       [ "$rc" != 137 ]; then
      return 0
    fi
    skip=$(sed -n 's/^(row: \([^ ]*\) .*/\1/p' "$out/$log.txt" | paste -sd,)
  done
}
families() {
  family wgmma-tma 'table-wgmma-tma-n*' 150
  family wgmma-persistent 'table-wgmma-tma-persistent-*' 120
  family wgmma-cluster 'table-wgmma-tma-cluster-*' 180
  family wgmma 'table-wgmma-n*' 150
}
for part in "${parts[@]}"; do
  "$part"
done
exit $status
