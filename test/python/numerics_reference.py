"""Independent NumPy implementations of quant-opt's numerics library.

Written from the papers and the seed, not from the C++ code: RTN with
min-max parameters, the calibrators (power-of-two |x| histogram,
percentile, MSE, TensorRT entropy), GPTQ (Frantar et al., Algorithm 1 with
lazy batch updates), AWQ's scale search (Lin et al.), SmoothQuant's
migration factors (Xiao et al.) and 2:4 selection.
"""

import numpy as np

import reference as ref

F32 = np.float32


# --- parameters and RTN ------------------------------------------------------

def scheme_range(storage, narrow):
    return ref.code_range(storage, narrow)


def params_from_range(lo, hi, storage, symmetric=True, narrow=True):
    """Per-block (scale, zero point) arrays from per-block lo / hi."""
    lo, hi = np.asarray(lo, F32), np.asarray(hi, F32)
    if symmetric:
        qmin, qmax = scheme_range(storage, narrow)
        amax = np.maximum(np.abs(lo), np.abs(hi))
        s = np.where(amax > 0, amax / F32(qmax), F32(1)).astype(F32)
        return s, np.zeros(s.shape, np.int32)
    qmin, qmax = scheme_range(storage, False)
    a, b = np.minimum(lo, F32(0)), np.maximum(hi, F32(0))
    s = ((b - a) / F32(qmax - qmin)).astype(F32)
    ok = b > a
    s = np.where(ok, s, F32(1)).astype(F32)
    z = np.clip(np.rint(F32(qmin) - a / s), qmin, qmax)
    z = np.where(ok, z, np.clip(0, qmin, qmax)).astype(np.int32)
    return s, z


def rtn(w, storage, group, symmetric=True, narrow=True):
    """Row-group RTN of w [N, K]: codes, scales [N, G], zeros [N, G]."""
    n, k = w.shape
    g = k if group == 0 else group
    blocks = w.reshape(n, k // g, g)
    s, z = params_from_range(blocks.min(axis=2), blocks.max(axis=2), storage,
                             symmetric, narrow)
    qmin, qmax = scheme_range(storage, narrow and symmetric)
    sb, zb = np.repeat(s, g, axis=1), np.repeat(z, g, axis=1)
    q = np.clip(np.rint(w / sb) + zb, qmin, qmax).astype(np.int32)
    return q, s, z


def dequant(q, s, z):
    g = q.shape[1] // s.shape[1]
    return (np.repeat(s, g, axis=1) *
            (q - np.repeat(z, g, axis=1)).astype(F32)).astype(F32)


def fake_quant(x, scale, storage, narrow):
    """s * clip(rint(x / s)) elementwise (integer storage)."""
    qmin, qmax = scheme_range(storage, narrow)
    return (scale * np.clip(np.rint(x / scale), qmin, qmax)).astype(F32)


# --- calibration -------------------------------------------------------------

def abs_histogram(x, bins=2048):
    """|x| histogram over [0, R) with R the smallest power of two above
    max|x|; the last bin takes the top edge."""
    x = x[np.isfinite(x)].astype(F32)
    amax = float(np.max(np.abs(x))) if x.size else 0.0
    amax = max(amax, float(np.finfo(F32).tiny))
    r = float(2.0 ** (np.floor(np.log2(amax)) + 1))
    idx = np.floor(np.abs(x) * F32(bins / r)).astype(np.int64)
    counts = np.bincount(np.minimum(idx, bins - 1), minlength=bins)
    return counts.astype(np.int64), F32(r), F32(np.max(np.abs(x)))


def percentile_threshold(counts, r, amax, pct):
    width = F32(r / len(counts))
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, pct / 100.0 * cum[-1]))
    return min(F32((i + 1) * width), amax)


def mse_errors(counts, r, storage, narrow):
    """Quantization error of the bin centres for every candidate edge."""
    n = len(counts)
    width = F32(r / n)
    used = np.nonzero(counts)[0]
    last = used[-1]
    centres = ((used.astype(F32) + F32(0.5)) * width).astype(F32)
    qmax = scheme_range(storage, narrow)[1]
    out = {}
    for c in range(max(1, (last + 1) // 8), last + 2):
        t = F32(c * width)
        s = F32(t / F32(qmax))
        err = centres - fake_quant(centres, s, storage, narrow)
        out[c] = float(np.sum(counts[used] * err.astype(np.float64) ** 2))
    return out, width


def entropy_kl(counts, num_quantized_bins=128):
    """KL divergence for every candidate number of bins i (TensorRT)."""
    n = len(counts)
    bins = counts.astype(np.float64)
    out = {}
    for i in range(num_quantized_bins, n + 1):
        p = bins[:i].copy()
        p[i - 1] += bins[i:].sum()
        nonzero = bins[:i] != 0
        q = np.zeros(i)
        merged = i // num_quantized_bins
        for j in range(num_quantized_bins):
            start = j * merged
            stop = i if j == num_quantized_bins - 1 else start + merged
            cnt = nonzero[start:stop].sum()
            if cnt:
                q[start:stop] = np.where(nonzero[start:stop],
                                         bins[start:stop].sum() / cnt, 0)
        if p.sum() == 0 or q.sum() == 0:
            continue
        p /= p.sum()
        q /= q.sum()
        m = p > 0
        if np.any(q[m] == 0):
            out[i] = np.inf
            continue
        out[i] = float(np.sum(p[m] * np.log(p[m] / q[m])))
    return out


# --- SmoothQuant, 2:4 --------------------------------------------------------

def smoothquant(act_max, w_max, alpha):
    a, w = np.abs(act_max).astype(F32), np.abs(w_max).astype(F32)
    ok = (a > 0) & (w > 0)
    with np.errstate(divide="ignore"):
        s = np.power(a, F32(alpha)) / np.power(w, F32(1 - alpha))
    return np.where(ok, s, F32(1)).astype(F32)


def sparse24(w, norms=None):
    score = np.abs(w) if norms is None else np.abs(w) * norms[None, :]
    n, k = w.shape
    g = score.reshape(n, k // 4, 4)
    # Largest two; a stable sort on -score keeps the lower position on ties.
    order = np.argsort(-g, axis=2, kind="stable")[:, :, :2]
    pos = np.sort(order, axis=2)
    vals = np.take_along_axis(w.reshape(n, k // 4, 4), pos, axis=2)
    pos = pos.reshape(n, k // 2).astype(np.uint8)
    meta = np.zeros((n, k // 16), np.uint16)
    for p in range(k // 2):
        meta[:, p // 8] |= (pos[:, p].astype(np.uint16) << (2 * (p % 8)))
    return vals.reshape(n, k // 2).astype(F32), pos, meta


# The mma.sp shapes with 2:4 sparse A: dense K and the sparsity selectors.
# shape: (dense K of one instruction, sparsity selectors, element bits)
SPARSE_MMA = {"f16_m16n8k16": (16, 4, 16), "f16_m16n8k32": (32, 2, 16),
              "i8_m16n8k32": (32, 2, 8), "i8_m16n8k64": (64, 1, 8)}
# The index pairs mma.sp::ordered_metadata accepts (PTX ISA, "Sparse matrix
# storage"): first index in the low two bits, strictly below the second.
ORDERED_NIBBLES = {0b0100, 0b1000, 0b1001, 0b1100, 0b1101, 0b1110}


def mma_sp_metadata_lanes(k, bits, selector):
    """Which 32-bit halves of which lanes the mma.sp of one shape reads for
    `selector`, as (threadID_in_group, bit offset, row half h, first dense
    column in the K step), 8 chunks of four columns each; measured on an
    H100 (bench/gpu/mma_sp_check --probe), not only taken from the ISA's
    figures. 16-bit types: thread s K/16 + j holds columns 16j.. of row g
    (bits 0-15) and row g+8 (bits 16-31). 8-bit types: thread 2(s K/32 + j)
    + h holds columns 32j.. of row g+8h in all 32 bits."""
    if bits == 16:
        per = k // 16
        return [(selector * per + j, 16 * h + 4 * c, h, 16 * j + 4 * c)
                for j in range(per) for h in range(2) for c in range(4)]
    per = k // 32
    return [(2 * (selector * per + j) + h, 4 * c, h, 32 * j + 4 * c)
            for j in range(per) for h in range(2) for c in range(8)]


def mma_sp_operand_a(values, regs, k, bits, selector):
    """The dense A matrix the mma.sp instructions of one shape see, read
    thread by thread (mma_sp_metadata_lanes): each nibble holds the
    positions of its chunk's two stored values, low index first. The
    stored values are the compressed [16, K/2] tile in row order. Returns
    the dense A; raises on a nibble ordered metadata rejects."""
    rows, half = values.shape
    steps = 2 * half // k
    dense = np.zeros((rows, 2 * half), values.dtype)
    fields = mma_sp_metadata_lanes(k, bits, selector)
    for tile in range(rows // 16):
        for step in range(steps):
            for g in range(8):
                for t, shift, h, first in fields:
                    reg = int(regs[tile, step, 4 * g + t])
                    row = tile * 16 + g + 8 * h
                    nib = (reg >> shift) & 0xF
                    if nib not in ORDERED_NIBBLES:
                        raise ValueError(f"nibble {nib:04b}")
                    col = step * k + first
                    src = col // 2
                    dense[row, col + (nib & 3)] = values[row, src]
                    dense[row, col + (nib >> 2)] = values[row, src + 1]
    return dense


# --- GPTQ and AWQ ------------------------------------------------------------

def gptq(w, x, storage, group, act_order=False, damp=0.01, block=128,
         symmetric=True, narrow=True):
    """GPTQ, Algorithm 1 of Frantar et al. with lazy batch updates, in
    float32. Returns codes, scales, zeros (original column order)."""
    n, k = w.shape
    h = (F32(2.0 / x.shape[0]) * (x.T @ x)).astype(F32)
    W = w.astype(F32).copy()
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    W[:, dead] = 0
    g = k if group == 0 else group
    G = k // g
    scales = np.zeros((n, G), F32)
    zeros = np.zeros((n, G), np.int32)

    def find(cols):
        return params_from_range(cols.min(axis=1), cols.max(axis=1), storage,
                                 symmetric, narrow)

    if group == 0 or act_order:  # parameters fixed up front
        for gi in range(G):
            scales[:, gi], zeros[:, gi] = find(W[:, gi * g:(gi + 1) * g])
    perm = np.arange(k)
    if act_order:
        perm = np.argsort(-np.diag(h), kind="stable")
        W, h = W[:, perm], h[perm][:, perm]
    h[np.diag_indices(k)] += F32(damp * np.mean(np.diag(h)))
    hinv = np.linalg.inv(h.astype(np.float64)).astype(F32)
    u = np.linalg.cholesky(hinv).T.astype(F32)  # hinv = u.T @ u
    qmin, qmax = scheme_range(storage, narrow and symmetric)
    codes = np.zeros((n, k), np.int32)
    for i1 in range(0, k, block):
        i2 = min(i1 + block, k)
        W1 = W[:, i1:i2].copy()
        E1 = np.zeros_like(W1)
        for i in range(i2 - i1):
            col = i1 + i
            if group and not act_order and col % group == 0:
                scales[:, col // g], zeros[:, col // g] = \
                    find(W[:, col:col + g])
            gi = perm[col] // g
            s, z = scales[:, gi], zeros[:, gi]
            q = np.clip(np.rint(W1[:, i] / s) + z, qmin, qmax)
            codes[:, perm[col]] = q
            dq = (s * (q - z).astype(F32)).astype(F32)
            err = (W1[:, i] - dq) / u[col, col]
            W1[:, i:] -= np.outer(err, u[col, col:i2])
            E1[:, i] = err
        W[:, i2:] -= E1 @ u[i1:i2, i2:]
    return codes, scales, zeros


def awq_alpha_errors(w, x, storage, group, grid=20):
    """Output MSE of RTN(W * s) / s for each alpha on the grid."""
    ref_out = x @ w.T
    mean_abs = np.abs(x).mean(axis=0)
    out = []
    for step in range(grid):
        alpha = step / (grid - 1)
        s = np.maximum(mean_abs.astype(F32) ** F32(alpha), F32(1e-4))
        s = s / np.sqrt(s.max() * s.min())
        q, sc, z = rtn(w * s[None, :], storage, group)
        wq = dequant(q, sc, z) / s[None, :]
        out.append((alpha, float(np.mean((x @ wq.T - ref_out) ** 2)), s))
    return out
