# Static asymmetric (ui8 + zero point) activation quantization from min-max
# calibration, on one-sided (post-ReLU) activations: the scale and zero
# point against the affine formulas, the output against a NumPy emulation
# of the quantized product, and the error against symmetric i8 activations,
# which waste the sign bit on such inputs.
# RUN: %python %s

import os
import re
import subprocess
import tempfile

import numpy as np

import reference as ref
from harness import Checker, calibrate, linear_layer_module, run_model

QUANT_OPT = os.environ["QUANT_OPT"]
rng = np.random.default_rng(5)
check = Checker()
T, K, N = 32, 256, 64
w = rng.normal(0, 0.05, (K, N)).astype(np.float32)


def acts():
    # GELU-like: mostly positive with a small negative tail.
    x = rng.normal(0.5, 1, (T, K)).astype(np.float32)
    return np.where(x > 0, x, 0.05 * x).astype(np.float32)


with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)

    def qopt(*args, ok=True):
        r = subprocess.run([QUANT_OPT, *args], capture_output=True, text=True)
        if ok and r.returncode:
            raise SystemExit(r.stderr)
        return r

    calib = []
    for i in range(4):
        calib.append(path(f"c{i}.npy"))
        np.save(calib[-1], acts())
    held = acts()
    np.save(path("held.npy"), held)
    open(path("m.mlir"), "w").write(linear_layer_module(w, T))
    stats = calibrate(path("m.mlir"), calib, path("cal.json"),
                      "minmax")["fc.input"]

    outs = {}
    for mode in ["i8", "ui8"]:
        qopt(path("m.mlir"), "--qopt-weight-ptq=storage=i8 group-size=0",
             f"--qopt-apply-calibration=calibration={path('cal.json')} "
             f"storage={mode}", "-o", path(f"{mode}.mlir"))
        outs[mode] = run_model(path(f"{mode}.mlir"), path("held.npy"),
                               path("out")).astype(np.float64)
    ir = open(path("ui8.mlir")).read()

    # An unsupported combination is a diagnostic, not a silent fallback.
    r = qopt(path("m.mlir"), "--qopt-weight-ptq=storage=i8 group-size=0",
             f"--qopt-apply-calibration=calibration={path('cal.json')} "
             "storage=ui8 calibrator=entropy", ok=False)
    check.checks += 1
    if r.returncode == 0 or "needs calibrator=minmax" not in r.stderr:
        check.fail("asymmetric + entropy", r.stderr or "accepted")

# Affine parameters over [min(lo, 0), max(hi, 0)] (seed: s = (b - a) / 255,
# z = round(-a / s) clamped to [0, 255]).
a = np.float32(min(stats["min"], 0.0))
b = np.float32(max(stats["max"], 0.0))
sx = np.float32((b - a) / np.float32(255))
zx = int(np.clip(np.rint(-a / sx), 0, 255))
got_s = re.findall(r"arith.constant dense<([-0-9.e+]+)> : tensor<f32>", ir)
got_z = re.findall(r"arith.constant dense<(\d+)> : tensor<ui8>", ir)
check.checks += 1
if len(got_s) != 1 or len(got_z) != 1 or \
        abs(float(got_s[0]) - sx) > 1e-6 * sx or int(got_z[0]) != zx:
    check.fail("scale / zero point", f"got {got_s} {got_z}, want {sx} {zx}")
check.checks += 1
if not re.search(r"qopt.matmul .* input_scale\(%\S+, %\S+\) .*tensor<32x256xui8>",
                 ir):
    check.fail("IR", "no ui8 product with an input zero point")

# NumPy emulation: per-channel symmetric i8 weights (narrow range), ui8
# activation codes, exact integer sums, then the two scales.
sw = (np.max(np.abs(w), axis=0) / np.float32(127)).astype(np.float32)
wq = ref.quantize_int(w.T, sw[:, None], None, "i8", narrow_range=True)
xq = ref.quantize_int(held, sx, np.uint8(zx), "ui8")
acc = (xq.astype(np.int64) - zx) @ wq.astype(np.int64).T
want = acc * sw.astype(np.float64) * np.float64(sx)
err = np.linalg.norm(outs["ui8"] - want) / np.linalg.norm(want)
check.checks += 1
if not err < 1e-5:
    check.fail("emulation", f"relative error {err}")

exact = held.astype(np.float64) @ w.astype(np.float64)
e = {m: np.linalg.norm(y - exact) / np.linalg.norm(exact) for m, y in outs.items()}
print(f"symmetric i8: {e['i8']:.5f}  asymmetric ui8: {e['ui8']:.5f}")
check.checks += 1
if not e["ui8"] < 0.8 * e["i8"]:
    check.fail("asymmetric error", str(e))
check.finish()
