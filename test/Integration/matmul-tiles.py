# Weight-only qopt.matmul on the CPU (convert-qopt-matmul-to-loops) at the
# edges of its tiles, 4 rows of X by 4 output channels: row counts and
# channel counts that are not multiples of 4 (remainder rows, remainder
# channels), a dynamic row count, every weight format (INT8, packed INT4
# signed and with zero points, FP8 E4M3FN and E5M2), per-channel and grouped
# scales, f32 / f16 / bf16 activations and an f16 result; against NumPy's
# product of the dequantized weight in float64, under the bound of f32 sums
# (2 K 2^-24 of the magnitudes) plus the result type's rounding.
# RUN: %python %s

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker, Module, bf16_round, tensor_type

rng = np.random.default_rng(29)
m = Module()
cases = []
K = 96


def weights(fmt, n, group):
    """(weight operand, its element type, extra attributes, scale, zero
    point operand or None, the dequantized weight [n, K] in float64)."""
    scale = rng.uniform(0.002, 0.02, (n, K // group)).astype(np.float32)
    expand = np.repeat(scale.astype(np.float64), group, axis=1)
    if fmt in ("f8E4M3FN", "f8E5M2"):
        codes = ref.quantize_fp8(rng.normal(0, 8, (n, K)).astype(np.float32),
                                 1.0, fmt)
        dtype = ml_dtypes.float8_e4m3fn if fmt == "f8E4M3FN" \
            else ml_dtypes.float8_e5m2
        return (codes, fmt, "", scale, None,
                codes.view(dtype).astype(np.float64) * expand)
    if fmt == "i8":
        codes = rng.integers(-127, 128, (n, K)).astype(np.int8)
        return codes, "i8", "", scale, None, codes * expand
    if fmt == "i4":
        codes = rng.integers(-8, 8, (n, K))
        return (ref.pack_i4(codes), "i8", ", packed = i4", scale, None,
                codes * expand)
    # ui4 codes with ui4 zero points, one a group.
    codes = rng.integers(0, 16, (n, K))
    zero = rng.integers(0, 16, (n, K // group)).astype(np.uint8)
    centred = codes - np.repeat(zero.astype(np.int64), group, axis=1)
    return (ref.pack_i4(codes), "i8", ", packed = ui4", scale, zero,
            centred * expand)


def case(fmt, rows, n, group, act="f32", out="f32", dynamic=False):
    w, w_elem, attrs, s, z, deq = weights(fmt, n, group)
    x = rng.normal(0, 1, (rows, K)).astype(np.float32)
    if act == "f16":
        x = x.astype(np.float16)
    xv = bf16_round(x) if act == "bf16" else x
    xa = m.arg(x, act)
    xt = tensor_type((rows, K), act)
    if dynamic:  # quant-run passes static shapes: cast the rows away
        xt = tensor_type(("?", K), act)
        xa = m.op(f"tensor.cast {xa} : {tensor_type((rows, K), act)} to {xt}",
                  xt)
    operands = [xa, m.arg(w, w_elem), m.arg(s, "f32")]
    types = [xt, tensor_type(w.shape, w_elem), tensor_type(s.shape, "f32")]
    if z is not None:
        operands.append(m.arg(z, "ui4"))
        types.append(tensor_type(z.shape, "ui4"))
    yt = tensor_type((rows, n), out)
    y = m.op(f"qopt.matmul {', '.join(operands)} {{acc_type = f32{attrs}}} "
             f": ({', '.join(types)}) -> "
             f"{tensor_type(('?', n), out) if dynamic else yt}", yt)
    if dynamic:
        y = m.op(f"tensor.cast {y} : {tensor_type(('?', n), out)} to {yt}", yt)
    xd = xv.astype(np.float64)
    want = xd @ deq.T
    tol = 2 * K * 2.0 ** -24 * (np.abs(xd) @ np.abs(deq).T) + 1e-30
    if out == "f16":
        tol += 2.0 ** -11 * np.abs(want)
    name = f"{fmt} g{group} {rows}x{n} {act}->{out}" + \
        (" dynamic rows" if dynamic else "")
    cases.append((name, m.result(y, yt), want, tol))


for fmt in ["i8", "i4", "ui4", "f8E4M3FN", "f8E5M2"]:
    for rows, n in [(4, 8), (5, 6), (7, 13), (9, 18)]:
        case(fmt, rows, n, K if fmt == "i8" else 32)
case("i4", 6, 10, 96)                      # per channel, packed
case("i8", 8, 7, 32)                       # groups, INT8
case("i4", 5, 9, 32, act="f16", out="f16")
case("ui4", 4, 5, 32, act="bf16")
case("i4", 11, 14, 32, dynamic=True)
case("f8E4M3FN", 6, 6, 96, dynamic=True)

check = Checker()
results = m.run()
for name, index, want, tol in cases:
    got = results[index].astype(np.float64)
    check.checks += 1
    if got.shape != want.shape:
        check.fail(name, f"shape {got.shape}, want {want.shape}")
        continue
    err = np.abs(got - want)
    if not (err <= tol).all():
        i = np.unravel_index(np.argmax(err / tol), err.shape)
        check.fail(name, f"{int((err > tol).sum())} of {err.size} outside "
                         f"the bound; worst at {i}: {got[i]!r} for "
                         f"{want[i]!r} (bound {tol[i]:.3g})")
check.finish()
