"""Independent NumPy / ml_dtypes references for quant-opt's numerics.

Straightforward transcriptions of the seed's formulas; nothing here calls
quant-opt. Arithmetic is float32, like the compiled code, so results are
compared exactly (integer codes, FP8 bits) or to the last bit (floats).
"""

import ml_dtypes
import numpy as np

# storage name -> (numpy dtype of codes, qmin, qmax, signed)
INT_STORAGE = {
    "i8": (np.int8, -128, 127, True),
    "i4": (np.int8, -8, 7, True),
    "ui8": (np.uint8, 0, 255, False),
    "ui4": (np.uint8, 0, 15, False),
}

FP8_STORAGE = {
    "f8E4M3FN": (ml_dtypes.float8_e4m3fn, 448.0),
    "f8E5M2": (ml_dtypes.float8_e5m2, 57344.0),
}


def code_range(storage, narrow_range=False):
    _, qmin, qmax, signed = INT_STORAGE[storage]
    if narrow_range:
        assert signed
        qmin = -qmax
    return qmin, qmax


def expand_blocks(params, data_shape):
    """Broadcasts a scale / zero-point tensor over the data: each entry
    covers a block of data_shape / params.shape elements."""
    params = np.asarray(params)
    if params.ndim == 0:
        return np.broadcast_to(params, data_shape)
    assert params.ndim == len(data_shape)
    out = params
    for axis, (d, p) in enumerate(zip(data_shape, params.shape)):
        assert d % p == 0, (data_shape, params.shape)
        out = np.repeat(out, d // p, axis=axis)
    return out


def quantize_int(x, scale, zero_point, storage, narrow_range=False,
                 compute=np.float32):
    """q = clip(round_half_even(x / s) + z, qmin, qmax), NaN -> z, with the
    division in `compute` precision (float64 for f64 inputs)."""
    dtype, _, _, _ = INT_STORAGE[storage]
    qmin, qmax = code_range(storage, narrow_range)
    s = expand_blocks(np.asarray(scale, np.float32), x.shape).astype(compute)
    z = np.zeros(x.shape, compute) if zero_point is None else \
        expand_blocks(np.asarray(zero_point), x.shape).astype(compute)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x.astype(compute) / s
    r = np.rint(v) + z  # np.rint rounds half to even
    r = np.clip(r, qmin, qmax)
    r = np.where(np.isnan(r), z, r)
    return r.astype(np.int32).astype(dtype)


def dequantize_int(q, scale, zero_point, out_dtype=np.float32):
    """x' = s * (q - z), computed in float32 and rounded once."""
    s = expand_blocks(np.asarray(scale, np.float32), q.shape)
    z = 0 if zero_point is None else \
        expand_blocks(np.asarray(zero_point), q.shape).astype(np.int32)
    diff = (q.astype(np.int32) - z).astype(np.float32)
    return (s * diff).astype(out_dtype)


def quantize_fp8(x, scale, storage):
    """fp8(x / s): clip to the finite range, then round to nearest even
    (ml_dtypes). Returns the raw uint8 codes."""
    dtype, fmax = FP8_STORAGE[storage]
    s = expand_blocks(np.asarray(scale, np.float32), x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = x.astype(np.float32) / s
    v = np.clip(v, -fmax, fmax)  # NaN stays NaN
    return v.astype(dtype).view(np.uint8)


def dequantize_fp8(codes, scale, storage, out_dtype=np.float32):
    dtype, _ = FP8_STORAGE[storage]
    s = expand_blocks(np.asarray(scale, np.float32), codes.shape)
    return (s * codes.view(dtype).astype(np.float32)).astype(out_dtype)


def pack_i4(codes):
    """Element 2k in the low nibble, 2k+1 in the high nibble (seed's
    pack_i4)."""
    c = codes.astype(np.int16) & 0x0F
    return (c[..., 0::2] | (c[..., 1::2] << 4)).astype(np.uint8).view(np.int8)


def unpack_i4(packed, signed=True):
    b = packed.view(np.uint8).astype(np.int16)
    lo, hi = b & 0x0F, (b >> 4) & 0x0F
    out = np.stack([lo, hi], axis=-1).reshape(*packed.shape[:-1], -1)
    if signed:
        return np.where(out >= 8, out - 16, out).astype(np.int8)
    return out.astype(np.uint8)
