# Weight-only PTQ end to end: qopt-weight-ptq quantizes a constant weight
# and fuses it into qopt.matmul; quant-run runs it. For every storage type
# and granularity the codes and scales in the IR must equal an independent
# NumPy RTN, and the output must equal X . dequant(Q, S)^T computed in
# float64 to float32 tolerance. The error against the unquantized product
# is printed and must have the expected order of magnitude.
# RUN: %python %s

import os
import re
import subprocess
import tempfile

import ml_dtypes
import numpy as np

import reference as ref
from harness import Checker

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(44)
check = Checker()

M, K, N = 6, 256, 64  # M = 6: one tile of 4 rows and 2 single rows


def module(w, vector):
    hexdata = w.tobytes().hex().upper()
    xt = f"tensor<{K}xf32>" if vector else f"tensor<{M}x{K}xf32>"
    yt = f"tensor<{N}xf32>" if vector else f"tensor<{M}x{N}xf32>"
    if vector:  # matvec: the weight is A [N, K]
        wt = f"tensor<{N}x{K}xf32>"
        body = (f"  %y = linalg.matvec ins(%w, %x : {wt}, {xt}) outs(%i : {yt}) -> {yt}\n")
    else:       # matmul: the weight is B [K, N]
        wt = f"tensor<{K}x{N}xf32>"
        body = (f"  %y = linalg.matmul ins(%x, %w : {xt}, {wt}) outs(%i : {yt}) -> {yt}\n")
    return (f"func.func @main(%x: {xt}) -> {yt} {{\n"
            f"  %w = arith.constant dense<\"0x{hexdata}\"> : {wt}\n"
            f"  %z = arith.constant 0.0 : f32\n"
            f"  %e = tensor.empty() : {yt}\n"
            f"  %i = linalg.fill ins(%z : f32) outs(%e : {yt}) -> {yt}\n"
            + body + f"  return %y : {yt}\n}}\n")


def constants(ir):
    """name -> (shape, element type, raw bytes) of every hex constant."""
    out = {}
    for m in re.finditer(r'(%\w+) = arith\.constant dense<"0x([0-9A-F]+)"> : '
                         r'tensor<([0-9x]+)x(\w+)>', ir):
        shape = tuple(int(d) for d in m.group(3).split("x"))
        out[m.group(1)] = (shape, m.group(4), bytes.fromhex(m.group(2)))
    return out


# One weight and input for every case, so that errors compare fairly.
W_NK = rng.normal(0, 0.02, (N, K)).astype(np.float32)
X = rng.normal(0, 1, (M, K)).astype(np.float32)


def run_case(storage, group, vector):
    w_nk = W_NK
    w = w_nk if vector else np.ascontiguousarray(w_nk.T)
    x = X[0] if vector else X
    name = f"{storage} g{group} {'matvec' if vector else 'matmul'}"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "model.mlir")
        with open(src, "w") as f:
            f.write(module(w, vector))
        ir = subprocess.run(
            [QUANT_OPT, src, f"--qopt-weight-ptq=storage={storage} "
             f"group-size={group}",
             "--mlir-print-elementsattrs-with-hex-if-larger=1"],
            check=True, capture_output=True, text=True).stdout
        mm = re.search(r"qopt\.matmul %\w+, (%\w+), (%\w+)(?:, (%\w+))?", ir)
        check.checks += 1
        if not mm:
            check.fail(name, "no qopt.matmul after qopt-weight-ptq")
            return None
        cst = constants(ir)
        path = os.path.join(tmp, "ptq.mlir")
        with open(path, "w") as f:
            f.write(ir)
        np.save(os.path.join(tmp, "x.npy"), x)
        subprocess.run([QUANT_RUN, path, "--input", os.path.join(tmp, "x.npy"),
                        "--output-dir", os.path.join(tmp, "out")],
                       check=True, capture_output=True)
        y = np.load(os.path.join(tmp, "out", "result0.npy"))

    # Independent reference: per-group parameters from min / max.
    g = K if group == 0 else group
    blocks = w_nk.reshape(N, K // g, g)
    if storage in ref.FP8_STORAGE:
        s = (np.abs(blocks).max(axis=2) / np.float32(ref.FP8_STORAGE[storage][1])
             ).astype(np.float32)
        q = ref.quantize_fp8(w_nk, s, storage)
        deq = ref.dequantize_fp8(q, s, storage)
        zp = None
    elif storage == "ui4":  # asymmetric
        lo = np.minimum(blocks.min(axis=2), 0)
        hi = np.maximum(blocks.max(axis=2), 0)
        s = ((hi - lo) / np.float32(15)).astype(np.float32)
        zp = np.clip(np.rint(-lo / s), 0, 15).astype(np.uint8)
        q = ref.quantize_int(w_nk, s, zp, "ui4")
        deq = ref.dequantize_int(q, s, zp)
    else:
        qmax = ref.code_range(storage, True)[1]
        s = (np.abs(blocks).max(axis=2) / np.float32(qmax)).astype(np.float32)
        q = ref.quantize_int(w_nk, s, None, storage, narrow_range=True)
        deq = ref.dequantize_int(q, s, None)
        zp = None

    # Codes and scales in the IR.
    wshape, wtype, wbytes = cst[mm.group(1)]
    codes = np.frombuffer(wbytes, np.uint8).reshape(wshape)
    if storage in ("i4", "ui4"):
        codes = ref.unpack_i4(codes.view(np.int8), signed=storage == "i4")
    want_codes = q.view(np.uint8) if storage in ref.FP8_STORAGE else q
    check.equal(f"{name} codes", codes.astype(want_codes.dtype).reshape(
        want_codes.shape), want_codes)
    sshape, _, sbytes = cst[mm.group(2)]
    check.equal(f"{name} scales",
                np.frombuffer(sbytes, np.float32).reshape(s.shape), s)

    want = x.astype(np.float64) @ deq.astype(np.float64).T
    tol = 1e-5 * np.max(np.abs(x.astype(np.float64)) @ np.abs(deq.T))
    check.checks += 1
    err = np.max(np.abs(y - want))
    if not err <= tol:
        check.fail(name, f"output differs from X . dequant(Q, S): {err} > {tol}")
    exact = x.astype(np.float64) @ w_nk.astype(np.float64).T
    rel = float(np.linalg.norm(y - exact) / np.linalg.norm(exact))
    print(f"{name}: relative error against f32 weights {rel:.2%}")
    return rel


errors = {}
for storage in ["i8", "i4", "ui4", "f8E4M3FN", "f8E5M2"]:
    for group in [0, 128, 32]:
        errors[(storage, group)] = run_case(storage, group, vector=False)
run_case("i4", 128, vector=True)

# Expected magnitudes for Gaussian weights.
expect = {("i8", 0): (0.001, 0.02), ("i4", 128): (0.03, 0.2),
          ("f8E4M3FN", 0): (0.005, 0.06)}
for key, (lo, hi) in expect.items():
    check.checks += 1
    if errors[key] is None or not lo < errors[key] < hi:
        check.fail(f"{key} error magnitude", f"{errors[key]} not in ({lo}, {hi})")
check.checks += 1
if not errors[("i4", 32)] < errors[("i4", 128)] < errors[("i4", 0)]:
    check.fail("i4 granularity", "smaller groups must give smaller errors")
check.finish()
