# qopt.matmul with quantized activations (W8A8 integer and FP8 x FP8,
# per-tensor and per-row input scales) through quant-run, against NumPy:
# Y = sx * sum_k qx * sw * qw, with integer products summed exactly.
# RUN: %python %s

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker, Module, tensor_type

rng = np.random.default_rng(13)
M, K, N = 6, 128, 16
m = Module()
cases = []


def case(name, xq, x_elem, wq, w_elem, sw, sx, want):
    xa, wa = m.arg(xq, x_elem), m.arg(wq, w_elem)
    swa, sxa = m.arg(sw, "f32"), m.arg(sx, "f32")
    yt = tensor_type((M, N), "f32")
    y = m.op(f"qopt.matmul {xa}, {wa}, {swa} input_scale({sxa}) "
             f"{{acc_type = f32}} : ({tensor_type(xq.shape, x_elem)}, "
             f"{tensor_type(wq.shape, w_elem)}, {tensor_type(sw.shape, 'f32')}, "
             f"{tensor_type(sx.shape, 'f32')}) -> {yt}", yt)
    cases.append((name, m.result(y, yt), want))


xq = rng.integers(-127, 128, (M, K)).astype(np.int8)
wq = rng.integers(-127, 128, (N, K)).astype(np.int8)
sw = rng.uniform(0.001, 0.01, (N, 1)).astype(np.float32)
exact = xq.astype(np.int64) @ wq.astype(np.int64).T  # exact integer sums
for name, sx in [("per-tensor", np.array(0.02, np.float32)),
                 ("per-row", rng.uniform(0.01, 0.03, (M, 1)).astype(np.float32))]:
    want = (exact * sw.T.astype(np.float64)) * sx.astype(np.float64)
    case(f"w8a8 {name}", xq, "i8", wq, "i8", sw, sx, want)

# Groups of 32 along K: each group's integer sum is scaled by its own sw.
swg = rng.uniform(0.001, 0.01, (N, K // 32)).astype(np.float32)
sx = np.array(0.05, np.float32)
want = np.zeros((M, N))
for g in range(K // 32):
    sl = slice(32 * g, 32 * (g + 1))
    want += (xq[:, sl].astype(np.int64) @ wq[:, sl].astype(np.int64).T) * \
        swg[:, g].astype(np.float64)
case("w8a8 groups", xq, "i8", wq, "i8", swg, sx, want * 0.05)

# FP8 x FP8 (E4M3FN): codes as raw bytes, decoded exactly.
xf = rng.normal(0, 100, (M, K)).astype(np.float32)
wf = rng.normal(0, 100, (N, K)).astype(np.float32)
xc = ref.quantize_fp8(xf, 1.0, "f8E4M3FN")
wc = ref.quantize_fp8(wf, 1.0, "f8E4M3FN")
xv = xc.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
wv = wc.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
sx8 = np.array(0.5, np.float32)
sw8 = rng.uniform(0.001, 0.01, (N, 1)).astype(np.float32)
case("fp8 x fp8", xc, "f8E4M3FN", wc, "f8E4M3FN", sw8, sx8,
     (xv @ wv.T) * sw8.T.astype(np.float64) * 0.5)

results = m.run()
check = Checker()
for name, index, want in cases:
    got = results[index].astype(np.float64)
    check.checks += 1
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    if not err < 2e-6:
        check.fail(name, f"relative error {err}")
check.finish()
