# The numerics library against independent NumPy references: RTN codes and
# parameters (exact), the |x| histogram (exact), and the percentile, MSE
# and entropy thresholds (the same bin edge, or an exact tie).
# RUN: %python %s

import numpy as np

import numerics_reference as nref
from harness import Checker
from numerics_harness import run

rng = np.random.default_rng(2026)
check = Checker()

# RTN over storage types, group sizes and schemes.
w = rng.normal(0, 0.02, (48, 512)).astype(np.float32)
w[3, 7] = 0.0
w[5] = 0.0  # an all-zero row
for storage, group, asym in [("i4", 128, False), ("i4", 0, False),
                             ("i4", 32, True), ("ui4", 128, True),
                             ("i8", 0, False), ("ui8", 64, True)]:
    flags = ["--storage", storage, "--group", str(group)]
    if asym:
        flags.append("--asymmetric")
    got = run("rtn", {"w": w}, *flags)
    q, s, z = nref.rtn(w, storage, group, symmetric=not asym, narrow=not asym)
    name = f"rtn {storage} g{group} {'asym' if asym else 'sym'}"
    check.equal(f"{name} scales", got["scales"], s)
    check.equal(f"{name} zeros", got["zeros"], z)
    check.equal(f"{name} codes", got["codes"].astype(np.int32), q)

# Calibrators on heavy-tailed data.
x = rng.standard_t(4, 100000).astype(np.float32) * 3
x[:3] = [np.nan, np.inf, -np.inf]
counts, r, amax = nref.abs_histogram(x)
for method, flags in [("percentile", ["--percentile", "99.9"]),
                      ("mse", ["--storage", "i8", "--full-range"]),
                      ("entropy", [])]:
    got = run("calibrate", {"x": x}, "--method", method, *flags)
    check.equal(f"{method} histogram", got["histogram"].astype(np.int64),
                counts)
    check.equal(f"{method} range", got["range"], np.array(r, np.float32))
    t = float(got["result"][0])
    width = float(r) / len(counts)
    if method == "percentile":
        want = nref.percentile_threshold(counts, r, amax, 99.9)
        check.equal("percentile threshold", got["result"],
                    np.array([want], np.float32))
    elif method == "mse":
        errors, _ = nref.mse_errors(counts, r, "i8", False)
        best = min(errors.values())
        c = int(round(t / width))
        check.checks += 1
        if not (c in errors and errors[c] <= best * (1 + 1e-9)):
            check.fail("mse threshold", f"{t} (edge {c}) is not optimal: "
                       f"{errors.get(c)} vs {best}")
    else:
        kl = nref.entropy_kl(counts)
        best = min(kl.values())
        i = int(round(t / width))
        check.checks += 1
        if not (i in kl and kl[i] <= best + 1e-12):
            check.fail("entropy threshold", f"{t} (bin {i}) KL {kl.get(i)} "
                       f"vs best {best}")

got = run("calibrate", {"x": x}, "--method", "minmax")
finite = x[np.isfinite(x)]
check.equal("minmax", got["result"],
            np.array([finite.min(), finite.max()], np.float32))

# SmoothQuant factors.
a = np.abs(rng.normal(0, 1, 64)).astype(np.float32) * 10
b = np.abs(rng.normal(0, 1, 64)).astype(np.float32)
a[0] = 0
for alpha in [0.5, 0.75]:
    got = run("smoothquant", {"act-max": a, "w-max": b}, "--alpha", str(alpha))
    want = nref.smoothquant(a, b, alpha)
    check.checks += 1
    if not np.allclose(got["factors"], want, rtol=2e-6, atol=0):
        check.fail(f"smoothquant alpha={alpha}",
                   f"max rel diff {np.max(np.abs(got['factors'] / want - 1))}")

# 2:4 selection and compression, by magnitude and by Wanda score.
w24 = rng.normal(0, 1, (16, 64)).astype(np.float32)
w24[0, :4] = [0.0, -1.25, 0.0, 0.50]  # the seed's group
norms = np.abs(rng.normal(0, 1, 64)).astype(np.float32)
for name, arrays in [("magnitude", {"w": w24}),
                     ("wanda", {"w": w24, "norms": norms})]:
    got = run("sparse24", arrays)
    vals, pos, meta = nref.sparse24(w24, norms if name == "wanda" else None)
    check.equal(f"sparse24 {name} values", got["values"], vals)
    check.equal(f"sparse24 {name} positions", got["positions"], pos)
    check.equal(f"sparse24 {name} metadata", got["metadata"], meta)
# The mma.sp metadata operands, read back the way each instruction reads
# them, for every selector: the 2:4-masked matrix must come back. 256 x 512
# covers every lane, selector and position pair many times (the
# thread-by-thread reader is slow in Python; the C++ side is linear).
w_mma = rng.normal(0, 1, (256, 512)).astype(np.float32)
got = run("sparse24", {"w": w_mma})
vals, pos, _ = nref.sparse24(w_mma)
dense = np.zeros_like(w_mma)
np.put_along_axis(dense.reshape(256, 128, 4),
                  pos.reshape(256, 128, 2).astype(np.int64),
                  vals.reshape(256, 128, 2), axis=2)
for shape, (k, selectors, bits) in nref.SPARSE_MMA.items():
    regs = got[f"mma_sp_{shape}"]
    check.equal(f"mma.sp {shape} operand shape", np.array(regs.shape),
                np.array([256 // 16, 512 // k, 32]))
    for sel in range(selectors):
        check.equal(f"mma.sp {shape} selector {sel}",
                    nref.mma_sp_operand_a(got["values"], regs, k, bits, sel),
                    dense)
seed = run("sparse24", {"w": w24})
check.equal("seed group values", seed["values"][0, :2],
            np.array([-1.25, 0.5], np.float32))
check.equal("seed group positions", seed["positions"][0, :2],
            np.array([1, 3], np.uint8))

check.finish()
