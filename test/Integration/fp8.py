# FP8 (E4M3FN, E5M2) quantize / dequantize through quant-run against
# ml_dtypes: dequantize on all 256 codes, quantize bit for bit on random
# inputs with exact ties, subnormals, out-of-range values, infinities, NaN.
# RUN: %python %s

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker, Module, bf16_round, tensor_type

rng = np.random.default_rng(8)
m = Module()
checks = []  # (name, result index, expected)


def quantize(x, x_elem, scale, storage):
    xa, sa = m.arg(x, x_elem), m.arg(scale, "f32")
    qt = tensor_type(x.shape, storage)
    q = m.op(f"qopt.quantize {xa}, {sa} : ({tensor_type(x.shape, x_elem)}, "
             f"{tensor_type(scale.shape, 'f32')}) -> {qt}", qt)
    return q, qt


def dequantize(q, qt, shape, scale, out_elem):
    sa = m.arg(scale, "f32")
    dt = tensor_type(shape, out_elem)
    return m.op(f"qopt.dequantize {q}, {sa} : ({qt}, "
                f"{tensor_type(scale.shape, 'f32')}) -> {dt}", dt), dt


def interesting_values(storage, n):
    """Random values plus every tie between neighbouring FP8 values,
    subnormals, the saturation boundary, infinities and NaN."""
    dtype, fmax = ref.FP8_STORAGE[storage]
    codes = np.arange(256, dtype=np.uint8).view(dtype).astype(np.float32)
    finite = np.sort(codes[np.isfinite(codes)])
    finite = np.unique(finite)
    ties = (finite[:-1] + finite[1:]) / 2  # exact in f32
    near_ties = np.concatenate([np.nextafter(ties, np.inf),
                                np.nextafter(ties, -np.inf)])
    smallest = float(finite[finite > 0][0])
    subnormal = rng.uniform(-8 * smallest, 8 * smallest, 200)
    wide = rng.normal(0, fmax / 4, n)
    tiny = rng.normal(0, smallest, 50) * 1e-3  # round to +-0
    specials = [np.inf, -np.inf, np.nan, -np.nan, fmax, -fmax, fmax * 1.02,
                fmax * 1.1, 1e38, -1e38, 0.0, -0.0]
    return np.concatenate([ties, near_ties, subnormal, wide, tiny, specials,
                           finite]).astype(np.float32)


for storage, (dtype, fmax) in ref.FP8_STORAGE.items():
    # Dequantize every code, unit and per-channel scales.
    codes = np.arange(256, dtype=np.uint8)
    for name, scale in [("unit", np.array(1.0, np.float32)),
                        ("per-channel", np.exp(rng.uniform(-3, 3, (4, 1)))
                         .astype(np.float32))]:
        data = np.tile(codes, (4, 1)) if scale.ndim else codes
        ca = m.arg(data, storage)
        ct = tensor_type(data.shape, storage)
        d, dt = dequantize(ca, ct, data.shape, scale, "f32")
        checks.append((f"{storage}/dequantize-all-codes/{name}",
                       m.result(d, dt),
                       ref.dequantize_fp8(data, scale, storage)))

    # Quantize with a unit scale: exactly ml_dtypes after clipping.
    x = interesting_values(storage, 4000)
    q, qt = quantize(x, "f32", np.array(1.0, np.float32), storage)
    checks.append((f"{storage}/quantize/unit-scale", m.result(q, qt),
                   ref.quantize_fp8(x, 1.0, storage)))

    # Per-row scales s = amax / fmax (the usual FP8 recipe) and per-block.
    w = rng.normal(0, 3, (16, 128)).astype(np.float32)
    w[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    s_row = (np.nanmax(np.abs(np.where(np.isfinite(w), w, 0)), axis=1,
                       keepdims=True) / fmax).astype(np.float32)
    s_blk = np.exp(rng.uniform(-8, -2, (4, 2))).astype(np.float32)
    for name, scale in [("per-row", s_row), ("block-4x64", s_blk)]:
        q, qt = quantize(w, "f32", scale, storage)
        want = ref.quantize_fp8(w, scale, storage)
        checks.append((f"{storage}/quantize/{name}", m.result(q, qt), want))
        d, dt = dequantize(q, qt, w.shape, scale, "f32")
        checks.append((f"{storage}/dequantize/{name}", m.result(d, dt),
                       ref.dequantize_fp8(want, scale, storage)))

    # f16 / bf16 inputs, f16 / bf16 outputs.
    x16 = rng.normal(0, fmax / 8, (8, 64)).astype(np.float16)
    scale = np.array(0.5, np.float32)
    q, qt = quantize(x16, "f16", scale, storage)
    want = ref.quantize_fp8(x16.astype(np.float32), scale, storage)
    checks.append((f"{storage}/quantize/f16-input", m.result(q, qt), want))
    d, dt = dequantize(q, qt, x16.shape, scale, "f16")
    checks.append((f"{storage}/dequantize/f16-output", m.result(d, dt),
                   ref.dequantize_fp8(want, scale, storage, np.float16)))
    xb = rng.normal(0, fmax / 8, (8, 64)).astype(np.float32)
    q, qt = quantize(xb, "bf16", scale, storage)
    want = ref.quantize_fp8(bf16_round(xb), scale, storage)
    checks.append((f"{storage}/quantize/bf16-input", m.result(q, qt), want))
    d, dt = dequantize(q, qt, xb.shape, scale, "bf16")
    checks.append((f"{storage}/dequantize/bf16-output", m.result(d, dt),
                   ref.dequantize_fp8(want, scale, storage, ml_dtypes.bfloat16)
                   .astype(np.float32)))

results = m.run()
check = Checker()
for name, index, want in checks:
    check.equal(name, results[index], want)
check.finish()
