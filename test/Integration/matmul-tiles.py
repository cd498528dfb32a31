# Weight-only qopt.matmul on the CPU (convert-qopt-matmul-to-loops) at the
# edges of its tiles, 4 rows of X by 4 output channels: row counts and
# channel counts that are not multiples of 4 (remainder rows, remainder
# channels), a dynamic row count, every weight format (INT8, UINT8 with
# zero points, packed INT4 signed and with zero points, i4 / ui4 unpacked
# (a code a byte), FP8 E4M3FN and E5M2 with every finite code and the E5M2
# infinities and NaNs), per-channel and grouped scales (the scalar and the
# vector loops), f32 / f16 / bf16 / f64 activations and an f16 result, and
# quantized activations (W8A8 with per-row zero points and grouped weight
# scales, FP8 x FP8); against NumPy in float64, under the bound of f32 sums
# (2 K 2^-24 of the magnitudes; integer sums are exact) plus the result
# type's rounding.
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
    if fmt.startswith("f8"):
        base = fmt.split(" ")[0]
        dtype = ml_dtypes.float8_e4m3fn if base == "f8E4M3FN" \
            else ml_dtypes.float8_e5m2
        if fmt.endswith(" all"):  # every finite code, subnormals included
            every = np.arange(256, dtype=np.uint8)
            finite = every[np.isfinite(every.view(dtype).astype(np.float32))]
            codes = rng.permutation(np.resize(finite, n * K)).reshape(n, K)
        else:
            codes = ref.quantize_fp8(
                rng.normal(0, 8, (n, K)).astype(np.float32), 1.0, base)
        return (codes, base, "", scale, None,
                codes.view(dtype).astype(np.float64) * expand)
    if fmt == "i8":
        codes = rng.integers(-127, 128, (n, K)).astype(np.int8)
        return codes, "i8", "", scale, None, codes * expand
    if fmt in ("i4 unpacked", "ui4 unpacked"):  # a code a byte
        lo, hi = (-8, 8) if fmt == "i4 unpacked" else (0, 16)
        codes = rng.integers(lo, hi, (n, K))
        elem = fmt.split(" ")[0]
        zero = None
        centred = codes.astype(np.int64)
        if elem == "ui4":
            zero = rng.integers(0, 16, (n, K // group)).astype(np.uint8)
            centred = codes - np.repeat(zero.astype(np.int64), group, axis=1)
        return (codes.astype(np.int8 if elem == "i4" else np.uint8), elem, "",
                scale, zero, centred * expand)
    if fmt == "ui8":  # codes and zero points over the whole byte range
        codes = rng.integers(0, 256, (n, K)).astype(np.uint8)
        zero = rng.integers(0, 256, (n, K // group)).astype(np.uint8)
        centred = codes.astype(np.int64) - np.repeat(zero.astype(np.int64),
                                                     group, axis=1)
        return codes, "ui8", "", scale, zero, centred * expand
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


def runtime_rows(name, shape, element, rows):
    """`name` (static `shape`) as tensor<?x...>, its row count read at run
    time from an input (quant-run passes static shapes, and a tensor.cast
    to ? folds back to the static size, so the lowering would never see a
    dynamic count)."""
    count = m.arg(np.array([rows], np.int32), "i32")
    c0 = m.op("arith.constant 0 : index", "index")
    v = m.op(f"tensor.extract {count}[{c0}] : tensor<1xi32>", "i32")
    r = m.op(f"arith.index_cast {v} : i32 to index", "index")
    static = tensor_type(shape, element)
    dt = tensor_type(("?",) + tuple(shape[1:]), element)
    sizes = ", ".join([r] + [str(d) for d in shape[1:]])
    zeros = ", ".join("0" for _ in shape)
    ones = ", ".join("1" for _ in shape)
    return m.op(f"tensor.extract_slice {name}[{zeros}] [{sizes}] [{ones}] : "
                f"{static} to {dt}", dt), dt


def case(fmt, rows, n, group, act="f32", out="f32", dynamic=False):
    w, w_elem, attrs, s, z, deq = weights(fmt, n, group)
    x = rng.normal(0, 1, (rows, K)).astype(np.float32)
    if act in ("f16", "f64"):
        x = x.astype(np.float16 if act == "f16" else np.float64)
    xv = bf16_round(x) if act == "bf16" else x
    xa = m.arg(x, act)
    xt = tensor_type((rows, K), act)
    if dynamic:
        xa, xt = runtime_rows(xa, (rows, K), act, rows)
    operands = [xa, m.arg(w, w_elem), m.arg(s, "f32")]
    types = [xt, tensor_type(w.shape, w_elem), tensor_type(s.shape, "f32")]
    if z is not None:
        z_elem = "ui8" if w_elem == "ui8" else "ui4"  # ui4: packed or not
        operands.append(m.arg(z, z_elem))
        types.append(tensor_type(z.shape, z_elem))
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
for rows, n in [(1, 5), (6, 9)]:
    case("ui8", rows, n, 32)               # groups: vector loops
    case("ui8", rows, n, 96)               # per channel: scalar loops
    for fmt in ["i4 unpacked", "ui4 unpacked"]:
        case(fmt, rows, n, 32)             # scalar loops (a code a byte)
    for fmt in ["f8E4M3FN all", "f8E5M2 all"]:
        case(fmt, rows, n, 96)             # vector loops, one group
        case(fmt, rows, n, 32)
case("i4", 5, 9, 32, act="f16", out="f16")
case("ui4", 4, 5, 32, act="bf16")
case("i4", 11, 14, 32, dynamic=True)
case("f8E4M3FN", 6, 6, 96, dynamic=True)
case("f8E4M3FN", 5, 6, 96, act="f64")      # f64 activations: scalar loops
case("i8", 5, 6, 32, act="f64")



def quantized_case(kind, rows, n, dynamic=False):
    """W8A8 (ui8 codes, per-row zero points, scales in groups of 32) or
    FP8 E4M3 activations with E5M2 weights, per-row input scales."""
    sx = rng.uniform(0.01, 0.03, (rows, 1)).astype(np.float32)
    if kind == "w8a8":
        x = rng.integers(0, 256, (rows, K)).astype(np.uint8)
        zx = rng.integers(0, 256, (rows, 1)).astype(np.uint8)
        w = rng.integers(-127, 128, (n, K)).astype(np.int8)
        sw = rng.uniform(0.001, 0.01, (n, K // 32)).astype(np.float32)
        x_elem, w_elem = "ui8", "i8"
        xv = x.astype(np.float64) - zx.astype(np.float64)
        wv = w.astype(np.float64)
    else:
        x = ref.quantize_fp8(rng.normal(0, 50, (rows, K)).astype(np.float32),
                             1.0, "f8E4M3FN")
        w = ref.quantize_fp8(rng.normal(0, 50, (n, K)).astype(np.float32),
                             1.0, "f8E5M2")
        zx = None
        sw = rng.uniform(0.001, 0.01, (n, 1)).astype(np.float32)
        x_elem, w_elem = "f8E4M3FN", "f8E5M2"
        xv = x.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
        wv = w.view(ml_dtypes.float8_e5m2).astype(np.float64)
    group = K // sw.shape[1]
    rows_t = "?" if dynamic else rows

    def operand(array, elem, per_row):
        name, t = m.arg(array, elem), tensor_type(array.shape, elem)
        if dynamic and per_row:
            name, t = runtime_rows(name, array.shape, elem, rows)
        return name, t

    xa, xt = operand(x, x_elem, True)
    wa, sa = m.arg(w, w_elem), m.arg(sw, "f32")
    inputs = [operand(sx, "f32", True)]
    if zx is not None:
        inputs.append(operand(zx, x_elem, True))
    yt = tensor_type((rows, n), "f32")
    dyt = tensor_type((rows_t, n), "f32")
    y = m.op(f"qopt.matmul {xa}, {wa}, {sa} input_scale("
             f"{', '.join(i for i, _ in inputs)}) {{acc_type = f32}} : "
             f"({xt}, {tensor_type(w.shape, w_elem)}, "
             f"{tensor_type(sw.shape, 'f32')}, "
             f"{', '.join(t for _, t in inputs)}) -> {dyt}", dyt)
    if dynamic:
        y = m.op(f"tensor.cast {y} : {dyt} to {yt}", yt)
    # Each group's sum (exact for integers; f32 sums of exact FP8 products)
    # times its scale, the groups added and times sx: a few f32 roundings.
    want, mag = np.zeros((rows, n)), np.zeros((rows, n))
    for g in range(sw.shape[1]):
        sl = slice(group * g, group * (g + 1))
        sg = sw[:, g].astype(np.float64)
        want += (xv[:, sl] @ wv[:, sl].T) * sg
        mag += (np.abs(xv[:, sl]) @ np.abs(wv[:, sl]).T) * sg
    sums = 0 if kind == "w8a8" else 2 * group * 2.0 ** -24
    scale = sx.astype(np.float64)
    tol = ((sw.shape[1] + 3) * 2.0 ** -24 + sums) * mag * scale + 1e-30
    name = f"{kind} {rows}x{n}" + (" dynamic rows" if dynamic else "")
    cases.append((name, m.result(y, yt), want * scale, tol))


for rows, n in [(7, 13), (9, 6), (4, 3), (5, 1), (2, 7)]:
    quantized_case("w8a8", rows, n)
quantized_case("w8a8", 6, 10, dynamic=True)
for rows, n in [(6, 10), (3, 5)]:
    quantized_case("fp8", rows, n)
quantized_case("fp8", 5, 6, dynamic=True)



def w8a8_product(x, zx, w, sw, sx, acc):
    """qopt.matmul of ui8 codes `x` (zero points `zx`, scales `sx` a row)
    and i8 weights `w` (scales `sw`), f32 result: (name, type)."""
    yt = tensor_type((x.shape[0], w.shape[0]), "f32")
    operands = [(x, "ui8"), (w, "i8"), (sw, "f32"), (sx, "f32"), (zx, "ui8")]
    a = [m.arg(v, e) for v, e in operands]
    types = ", ".join(tensor_type(v.shape, e) for v, e in operands)
    return m.op(f"qopt.matmul {a[0]}, {a[1]}, {a[2]} input_scale({a[3]}, "
                f"{a[4]}) {{acc_type = {acc}}} : ({types}) -> {yt}", yt), yt


def w8a8_long_k(k):
    """W8A8 per channel at a long K, codes at the ends of their ranges: the
    vector loops' f32 lanes stay exact integers up to K = 8224 (514 products
    of at most 255 * 128 a lane); K = 8240 takes the scalar i32 loops."""
    rows, n = 5, 4
    x = rng.integers(0, 256, (rows, k)).astype(np.uint8)
    zx = np.full((rows, 1), 255, np.uint8)          # x - zx in [-255, 0]
    w = rng.integers(-128, -100, (n, k)).astype(np.int8)
    sw = rng.uniform(0.001, 0.01, (n, 1)).astype(np.float32)
    sx = rng.uniform(0.01, 0.03, (rows, 1)).astype(np.float32)
    y, yt = w8a8_product(x, zx, w, sw, sx, "f32")
    sums = (x.astype(np.int64) - 255) @ w.astype(np.int64).T  # exact
    want = sums * sw.astype(np.float64).T * sx.astype(np.float64)
    # The exact sum rounded to f32, then two f32 products.
    tol = 4 * 2.0 ** -24 * np.abs(want)
    cases.append((f"w8a8 K={k} extreme codes", m.result(y, yt), want, tol))


w8a8_long_k(8192)
w8a8_long_k(8240)


def w8a8_f16_accumulator(rows):
    """W8A8 with acc_type = f16: group sums of codes far above f16's range
    (64 products of 255 * 128 = 2.1e6), scaled into it. The sum is scaled
    in f32 before it meets the f16 accumulator (it was inf)."""
    k, n = 64, 4
    x = np.zeros((rows, k), np.uint8)                 # x - zx = -255
    zx = np.full((rows, 1), 255, np.uint8)
    w = np.full((n, k), -128, np.int8)
    sw = np.full((n, 2), 1e-4, np.float32)            # groups of 32
    sx = np.full((rows, 1), 1e-2, np.float32)
    y, yt = w8a8_product(x, zx, w, sw, sx, "f16")
    want = np.full((rows, n), 64 * 255 * 128 * 1e-4 * 1e-2)   # 20.9
    # f16 sums of two groups and the f16 rounding of each scaled group.
    tol = 4 * 2.0 ** -11 * np.abs(want)
    cases.append((f"w8a8 f16 accumulator {rows} rows", m.result(y, yt),
                  want, tol))


w8a8_f16_accumulator(3)   # scalar loops
w8a8_f16_accumulator(5)   # vector loops


def special_case(fmt, group, rows_codes):
    """Non-finite FP8 weight codes (E5M2 infinities, NaNs): each channel's
    result is the IEEE sum, +-inf or NaN, through the decode of the loops."""
    dtype = ml_dtypes.float8_e4m3fn if fmt == "f8E4M3FN" \
        else ml_dtypes.float8_e5m2
    n = len(rows_codes)
    codes = np.full((n, K), 0x38, np.uint8)  # 1.0 (E4M3) / 0.5 (E5M2)
    for j, specials in enumerate(rows_codes):
        codes[j, 5:5 + len(specials)] = specials
    scale = np.full((n, K // group), 0.5, np.float32)
    x = rng.uniform(0.5, 1.0, (2, K)).astype(np.float32)
    yt = tensor_type((2, n), "f32")
    y = m.op(f"qopt.matmul {m.arg(x, 'f32')}, {m.arg(codes, fmt)}, "
             f"{m.arg(scale, 'f32')} {{acc_type = f32}} : "
             f"({tensor_type(x.shape, 'f32')}, {tensor_type(codes.shape, fmt)}, "
             f"{tensor_type(scale.shape, 'f32')}) -> {yt}", yt)
    with np.errstate(invalid="ignore"):
        want = x.astype(np.float64) @ (
            codes.view(dtype).astype(np.float64) * 0.5).T
    specials_cases.append((f"{fmt} g{group} special codes",
                           m.result(y, yt), want))


specials_cases = []
for group in [96, 32]:
    # +inf; -inf; NaN; +inf and -inf (NaN); a negative NaN.
    special_case("f8E5M2", group, [[0x7C], [0xFC], [0x7E], [0x7C, 0xFC],
                                   [0xFF]])
    # E4M3FN has no infinity: S.1111.111 is NaN, S.1111.110 is +-448.
    special_case("f8E4M3FN", group, [[0x7F], [0xFF], [0x7E], [0xFE]])

check = Checker()
results = m.run()
for name, index, want in specials_cases:
    got = results[index].astype(np.float64)
    check.checks += 1
    finite = np.isfinite(want)
    same_specials = (np.array_equal(np.isnan(got), np.isnan(want)) and
                     np.array_equal(got[np.isinf(want)], want[np.isinf(want)]))
    # Finite results: two f32 roundings a product, f32 sums.
    tol = 4 * K * 2.0 ** -24 * np.abs(want[finite]) + 1e-30
    if not same_specials or not (np.abs(got[finite] - want[finite])
                                 <= tol).all():
        check.fail(name, f"got {got.tolist()}, want {want.tolist()}")
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
