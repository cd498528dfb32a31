# Dynamic per-token activation quantization (no calibration): W8A8 and
# FP8 x FP8 with scales computed at run time per row, against NumPy
# computing the same per-row scales, codes and integer sums.
# RUN: %python %s

import os
import subprocess
import tempfile

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(8)
check = Checker()
T, K, N = 12, 128, 32
w_nk = rng.normal(0, 0.05, (N, K)).astype(np.float32)
x = rng.normal(0, 1, (T, K)).astype(np.float32)
x[:, 5] *= 30
x[3] = 0.0  # an all-zero token gets scale 1

MODULE = (f"#a = affine_map<(m, n, k) -> (m, k)>\n#b = affine_map<(m, n, k) -> (n, k)>\n"
          f"#c = affine_map<(m, n, k) -> (m, n)>\n"
          f"func.func @main(%x: tensor<{T}x{K}xf32>) -> tensor<{T}x{N}xf32> {{\n"
          f"  %w = arith.constant dense<\"0x{w_nk.tobytes().hex().upper()}\"> : tensor<{N}x{K}xf32>\n"
          f"  %z = arith.constant 0.0 : f32\n"
          f"  %e = tensor.empty() : tensor<{T}x{N}xf32>\n"
          f"  %i = linalg.fill ins(%z : f32) outs(%e : tensor<{T}x{N}xf32>) -> tensor<{T}x{N}xf32>\n"
          f"  %y = linalg.matmul indexing_maps = [#a, #b, #c] ins(%x, %w : tensor<{T}x{K}xf32>, tensor<{N}x{K}xf32>) "
          f"outs(%i : tensor<{T}x{N}xf32>) -> tensor<{T}x{N}xf32>\n"
          f"  return %y : tensor<{T}x{N}xf32>\n}}\n")

with tempfile.TemporaryDirectory() as tmp:
    open(os.path.join(tmp, "m.mlir"), "w").write(MODULE)
    np.save(os.path.join(tmp, "x.npy"), x)
    outs = {}
    for storage in ["i8", "f8E4M3FN"]:
        q = os.path.join(tmp, f"{storage}.mlir")
        subprocess.run([QUANT_OPT, os.path.join(tmp, "m.mlir"),
                        f"--qopt-weight-ptq=storage={storage} group-size=0",
                        "--qopt-dynamic-quant", "-o", q], check=True)
        ir = open(q).read()
        check.checks += 1
        if "input_scale(" not in ir:
            check.fail(storage, "no quantized activations")
        subprocess.run([QUANT_RUN, q, "--input", os.path.join(tmp, "x.npy"),
                        "--output-dir", os.path.join(tmp, storage)],
                       check=True, stdout=subprocess.DEVNULL)
        outs[storage] = np.load(os.path.join(tmp, storage, "result0.npy"))

# NumPy: per-channel weight scales, per-row activation scales.
amax_x = np.abs(x).max(axis=1, keepdims=True)
for storage, qmax in [("i8", 127.0), ("f8E4M3FN", 448.0)]:
    sw = (np.abs(w_nk).max(axis=1, keepdims=True) / np.float32(qmax)).astype(np.float32)
    sx = np.where(amax_x > 0, amax_x / np.float32(qmax), 1).astype(np.float32)
    if storage == "i8":
        qw = ref.quantize_int(w_nk, sw, None, "i8", True).astype(np.int64)
        qx = ref.quantize_int(x, sx, None, "i8", True).astype(np.int64)
        want = (qx @ qw.T) * sw.T.astype(np.float64) * sx.astype(np.float64)
    else:
        qw = ref.quantize_fp8(w_nk, sw, storage).view(ml_dtypes.float8_e4m3fn)
        qx = ref.quantize_fp8(x, sx, storage).view(ml_dtypes.float8_e4m3fn)
        want = (qx.astype(np.float64) @ qw.astype(np.float64).T) * \
            sw.T.astype(np.float64) * sx.astype(np.float64)
    err = np.max(np.abs(outs[storage] - want)) / np.max(np.abs(want))
    check.checks += 1
    if not err < 2e-6:
        check.fail(storage, f"differs from NumPy: {err}")
    exact = x.astype(np.float64) @ w_nk.astype(np.float64).T
    print(f"{storage} dynamic: relative error against f32 "
          f"{np.linalg.norm(outs[storage] - exact) / np.linalg.norm(exact):.2%}")
    check.checks += 1
    if not np.all(outs[storage][3] == 0):
        check.fail(storage, "the all-zero token")
check.finish()
