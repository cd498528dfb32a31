# qopt.matmul with quantized activations (W8A8 integer, asymmetric ui8
# activations with a zero point, FP8 x FP8; per-tensor and per-row input
# scales) through quant-run, against NumPy:
# Y = sx * sum_k (qx - zx) * sw * qw, with integer products summed exactly.
# RUN: %python %s

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker, Module, tensor_type

rng = np.random.default_rng(13)
M, K, N = 6, 128, 16
m = Module()
cases = []


def case(name, xq, x_elem, wq, w_elem, sw, sx, want, zx=None):
    xa, wa = m.arg(xq, x_elem), m.arg(wq, w_elem)
    swa, sxa = m.arg(sw, "f32"), m.arg(sx, "f32")
    inputs, types = sxa, tensor_type(sx.shape, "f32")
    if zx is not None:
        inputs += ", " + m.arg(zx, x_elem)
        types += ", " + tensor_type(zx.shape, x_elem)
    yt = tensor_type((M, N), "f32")
    y = m.op(f"qopt.matmul {xa}, {wa}, {swa} input_scale({inputs}) "
             f"{{acc_type = f32}} : ({tensor_type(xq.shape, x_elem)}, "
             f"{tensor_type(wq.shape, w_elem)}, {tensor_type(sw.shape, 'f32')}, "
             f"{types}) -> {yt}", yt)
    cases.append((name, m.result(y, yt), want))


xq = rng.integers(-127, 128, (M, K)).astype(np.int8)
xa0, sa0 = m.arg(xq, "i8"), m.arg(np.array(0.02, np.float32), "f32")
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

# Asymmetric ui8 activations (full 0..255 range, so a code minus its zero
# point spans -255..255 and must not wrap in 8 bits), per-tensor and
# per-row zero points, per-channel and grouped weight scales.
xu = rng.integers(0, 256, (M, K)).astype(np.uint8)
for name, sx, zx, s in [
        ("per-tensor", np.array(0.02, np.float32), np.array(128, np.uint8), sw),
        ("per-row", rng.uniform(0.01, 0.03, (M, 1)).astype(np.float32),
         rng.integers(0, 256, (M, 1)).astype(np.uint8), sw),
        ("groups", np.array(0.05, np.float32), np.array(3, np.uint8), swg)]:
    centred = xu.astype(np.int64) - zx.astype(np.int64)
    want = np.zeros((M, N))
    group = K // s.shape[1]
    for g in range(s.shape[1]):
        sl = slice(group * g, group * (g + 1))
        want += (centred[:, sl] @ wq[:, sl].astype(np.int64).T) * \
            s[:, g].astype(np.float64)
    want *= sx.astype(np.float64).reshape(-1, 1) if sx.ndim else float(sx)
    case(f"ui8 zero point {name}", xu, "ui8", wq, "i8", s, sx, want, zx)

# Asymmetric i8 activations: a signed zero point is sign-extended.
zi = np.array([[-100], [-1], [0], [5], [77], [-128]], np.int8)
centred = xq.astype(np.int64) - zi.astype(np.int64)
sxr = rng.uniform(0.01, 0.03, (M, 1)).astype(np.float32)
case("i8 zero point per-row", xq, "i8", wq, "i8", sw, sxr,
     (centred @ wq.astype(np.int64).T) * sw.T.astype(np.float64) *
     sxr.astype(np.float64), zi)

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

# Mixed FP8: E5M2 activations (range) with E4M3FN weights (precision).
x52 = ref.quantize_fp8(xf, 1.0, "f8E5M2")
x52v = x52.view(ml_dtypes.float8_e5m2).astype(np.float64)
case("fp8 e5m2 x e4m3", x52, "f8E5M2", wc, "f8E4M3FN", sw8, sx8,
     (x52v @ wv.T) * sw8.T.astype(np.float64) * 0.5)

# Activations that arrive as codes: a float product of dequantized ui8
# codes, and a requantization (dequantize, then quantize with another
# scale) into a W8A8 product. Canonicalization makes both read the original
# codes, so the result is the exact sum over them, with no second rounding.
zr = rng.integers(0, 256, (M, 1)).astype(np.uint8)
sr = rng.uniform(0.01, 0.03, (M, 1)).astype(np.float32)
qa, sa, za = m.arg(xu, "ui8"), m.arg(sr, "f32"), m.arg(zr, "ui8")
wa, swa = m.arg(wq, "i8"), m.arg(sw, "f32")
xt, yt = tensor_type((M, K), "f32"), tensor_type((M, N), "f32")
rt, st = tensor_type((M, 1), "f32"), tensor_type((M, 1), "ui8")
wts = f"{tensor_type(wq.shape, 'i8')}, {tensor_type(sw.shape, 'f32')}"
xd = m.op(f"qopt.dequantize {qa}, {sa}, {za} : ({tensor_type((M, K), 'ui8')}, "
          f"{rt}, {st}) -> {xt}", xt)
y = m.op(f"qopt.matmul {xd}, {wa}, {swa} {{acc_type = f32}} : ({xt}, {wts}) "
         f"-> {yt}", yt)
exact_u = (xu.astype(np.int64) - zr.astype(np.int64)) @ wq.astype(np.int64).T
cases.append(("dequantized ui8 codes", m.result(y, yt),
              exact_u * sw.T.astype(np.float64) * sr.astype(np.float64)))
s2 = m.arg(np.array(0.037, np.float32), "f32")
st2 = tensor_type((), "f32")
xd2 = m.op(f"qopt.dequantize {xa0}, {sa0} : ({tensor_type((M, K), 'i8')}, "
           f"{st2}) -> {xt}", xt)
rq = m.op(f"qopt.quantize {xd2}, {s2} {{narrow_range}} : ({xt}, {st2}) -> "
          f"{tensor_type((M, K), 'i8')}", tensor_type((M, K), "i8"))
y2 = m.op(f"qopt.matmul {rq}, {wa}, {swa} input_scale({s2}) {{acc_type = f32}} "
          f": ({tensor_type((M, K), 'i8')}, {wts}, {st2}) -> {yt}", yt)
cases.append(("requantization folded", m.result(y2, yt),
              exact * sw.T.astype(np.float64) * 0.02))

results = m.run()
check = Checker()
for name, index, want in cases:
    got = results[index].astype(np.float64)
    check.checks += 1
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    if not err < 2e-6:
        check.fail(name, f"relative error {err}")
check.finish()
