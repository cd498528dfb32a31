# Integer quantize / dequantize through quant-run against NumPy, for every
# integer storage type, granularity, zero-point choice and input precision.
# RUN: %python %s

import itertools

import numpy as np

import reference as ref
from harness import Checker, Module, bf16_round, tensor_type

rng = np.random.default_rng(20261126)

# data shape -> scale shapes covering each granularity
GRANULARITIES = {
    (8, 256): {
        "per-tensor": (),
        "per-tensor-ones": (1, 1),
        "per-channel": (8, 1),
        "per-column": (1, 256),
        "per-group-128": (8, 2),
        "per-group-32": (8, 8),
        "block-4x64": (2, 4),
    },
    (64,): {"per-tensor": (), "per-group-16": (4,)},
    (2, 4, 32): {"block-2x1x4": (2, 1, 4)},
}


def make_data(shape, scale_max):
    """Gaussian data reaching past the code range, with special values."""
    x = rng.normal(0.0, 1.0, shape).astype(np.float32)
    x *= np.float32(scale_max * 60)
    flat = x.reshape(-1)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e30]
    flat[:len(specials)] = specials
    return x


def make_scale(shape):
    return np.exp(rng.uniform(-6, 0, shape)).astype(np.float32)


def make_zero_point(storage, shape, narrow):
    qmin, qmax = ref.code_range(storage, narrow)
    dtype = ref.INT_STORAGE[storage][0]
    return rng.integers(qmin // 2, qmax // 2 + 1, shape).astype(dtype)


m = Module()
cases = []  # (name, q index, d index, expected q, expected d)


def add_case(name, x, x_elem, scale, zp, storage, narrow, compute=np.float32,
             d_elem="f32"):
    xa = m.arg(x, x_elem)
    sa = m.arg(scale, "f32")
    operands = [xa, sa]
    types = [tensor_type(x.shape, x_elem), tensor_type(scale.shape, "f32")]
    if zp is not None:
        operands.append(m.arg(zp, storage))
        types.append(tensor_type(zp.shape, storage))
    attr = " {narrow_range}" if narrow else ""
    qtype = tensor_type(x.shape, storage)
    q = m.op(f"qopt.quantize {', '.join(operands)}{attr} : "
             f"({', '.join(types)}) -> {qtype}", qtype)
    dtype_ = tensor_type(x.shape, d_elem)
    dtypes = [qtype] + types[1:]
    d = m.op(f"qopt.dequantize {', '.join([q] + operands[1:])} : "
             f"({', '.join(dtypes)}) -> {dtype_}", dtype_)
    x_ref = bf16_round(x) if x_elem == "bf16" else x
    want_q = ref.quantize_int(x_ref, scale, zp, storage, narrow, compute)
    if d_elem == "bf16":
        import ml_dtypes
        want_d = ref.dequantize_int(want_q, scale, zp, ml_dtypes.bfloat16)
        want_d = want_d.astype(np.float32)
    else:
        want_d = ref.dequantize_int(
            want_q, scale, zp, {"f32": np.float32, "f16": np.float16}[d_elem])
    cases.append((name, m.result(q, qtype), m.result(d, dtype_), want_q, want_d))


for storage, (shape, grans), scheme in itertools.product(
        ref.INT_STORAGE, GRANULARITIES.items(), ["sym", "narrow", "asym"]):
    signed = ref.INT_STORAGE[storage][3]
    if scheme == "narrow" and not signed:
        continue
    if scheme == "sym" and not signed:
        scheme = "zero-point-0"  # unsigned without zero point: codes >= 0
    for gran, sshape in grans.items():
        scale = make_scale(sshape)
        x = make_data(shape, float(scale.max()))
        zp = make_zero_point(storage, sshape, False) if scheme == "asym" else None
        add_case(f"{storage}/{scheme}/{gran}{shape}", x, "f32", scale, zp,
                 storage, scheme == "narrow")

# Exact ties: power-of-two scales make x / s exactly k + 0.5, which must
# round to the even neighbour.
for storage in ref.INT_STORAGE:
    scale = np.array(0.25, np.float32)
    k = np.arange(-20, 20, dtype=np.float32)
    x = ((k + 0.5) * scale).astype(np.float32)
    add_case(f"{storage}/ties", x, "f32", scale, None, storage, False)

# Zero and non-finite scales have a defined result (docs/Numerics.md).
x = np.array([1.5, -2.0, 0.0, np.nan, 3.0, -0.0], np.float32)
for s in [0.0, np.inf, np.nan]:
    zp = np.array(3, np.int8)
    add_case(f"i8/scale={s}", x, "f32", np.array(s, np.float32), zp, "i8",
             False)

# Other input and output precisions.
scale = make_scale((8, 2))
x = make_data((8, 256), float(scale.max()))
add_case("i4/f16-input", x.astype(np.float16), "f16", scale, None, "i4", True)
add_case("i8/bf16-input", x, "bf16", scale, None, "i8", False)
add_case("i8/f64-input", x.astype(np.float64), "f64", scale, None, "i8", False,
         compute=np.float64)
add_case("ui8/f16-output", x, "f32", scale,
         make_zero_point("ui8", (8, 2), False), "ui8", False, d_elem="f16")
add_case("i4/bf16-output", x, "f32", scale, None, "i4", True, d_elem="bf16")

results = m.run()
check = Checker()
for name, qi, di, want_q, want_d in cases:
    check.equal(f"{name} quantize", results[qi], want_q)
    check.equal(f"{name} dequantize", results[di], want_d)
print(f"{len(cases)} cases")
check.finish()
