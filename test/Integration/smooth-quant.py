# SmoothQuant from a calibration file: qopt-smooth-quant scales the weight's
# input channels by s = max|X_j|^a / max|W_j|^(1-a) and the activation by
# 1/s. The product's output must not change; recalibrating the smoothed
# model must show channel maxima max|X_j| / s_j (NumPy's s), far flatter.
# RUN: %python %s

import json
import os
import subprocess
import tempfile

import numpy as np

import numerics_reference as nref
from harness import Checker, linear_layer_module

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(23)
check = Checker()
T, K, N = 32, 64, 48
OUTLIERS = [3, 17, 40]

w = rng.normal(0, 0.05, (K, N)).astype(np.float32)


def acts():
    x = rng.normal(0, 1, (T, K)).astype(np.float32)
    x[:, OUTLIERS] *= 50
    return x


MODULE = linear_layer_module(w, T)


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)
    open(path("m.mlir"), "w").write(MODULE)
    files = []
    for i in range(4):
        files.append(path(f"x{i}.npy"))
        np.save(files[-1], acts())
    run([QUANT_OPT, path("m.mlir"), "--qopt-insert-observers=stats=channel_absmax",
         "-o", path("inst.mlir")])
    run([QUANT_RUN, path("inst.mlir"), "--input", ",".join(files),
         "--calibration-out", path("cal.json")])
    act_max = np.array(json.load(open(path("cal.json")))["observers"]["fc.input"]
                       ["channel_absmax"], np.float32)
    run([QUANT_OPT, path("m.mlir"),
         f"--qopt-smooth-quant=alpha=0.5 calibration={path('cal.json')}",
         "--mlir-print-debuginfo",  # keep the layer name "fc" in the file
         "-o", path("smooth.mlir")])

    held = acts()
    np.save(path("held.npy"), held)
    outs = {}
    for name in ["m", "smooth"]:
        run([QUANT_RUN, path(f"{name}.mlir"), "--input", path("held.npy"),
             "--output-dir", path(name)])
        outs[name] = np.load(path(f"{name}/result0.npy"))
    check.checks += 1
    diff = np.max(np.abs(outs["smooth"] - outs["m"])) / np.max(np.abs(outs["m"]))
    if not diff < 1e-5:
        check.fail("output preserved", f"relative difference {diff}")

    # Recalibrate the smoothed model: its product now reads x / s.
    run([QUANT_OPT, path("smooth.mlir"),
         "--qopt-insert-observers=stats=channel_absmax", "-o", path("inst2.mlir")])
    run([QUANT_RUN, path("inst2.mlir"), "--input", ",".join(files),
         "--calibration-out", path("cal2.json")])
    smoothed = np.array(json.load(open(path("cal2.json")))["observers"]
                        ["fc.input"]["channel_absmax"], np.float32)

s = nref.smoothquant(act_max, np.abs(w).max(axis=1), 0.5)
check.checks += 1
if not np.allclose(smoothed, act_max / s, rtol=1e-5):
    check.fail("smoothed maxima", f"max rel diff "
               f"{np.max(np.abs(smoothed / (act_max / s) - 1))}")
before = act_max.max() / np.median(act_max)
after = smoothed.max() / np.median(smoothed)
print(f"channel max / median: {before:.1f} before, {after:.1f} after smoothing")
check.checks += 1
if not after < before / 4:
    check.fail("flattening", f"{before:.1f} -> {after:.1f}")
check.finish()
