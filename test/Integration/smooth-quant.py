# SmoothQuant from a calibration file: qopt-smooth-quant scales the weight's
# input channels by s = max|X_j|^a / max|W_j|^(1-a) and the activation by
# 1/s. The product's output must not change; recalibrating the smoothed
# model must show channel maxima max|X_j| / s_j (NumPy's s), far flatter.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

import numerics_reference as nref
from harness import Checker, calibrate, linear_layer_module, run_model

QUANT_OPT = os.environ["QUANT_OPT"]
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
    act_max = np.array(calibrate(path("m.mlir"), files, path("cal.json"),
                                 "channel_absmax")["fc.input"]["channel_absmax"],
                       np.float32)
    run([QUANT_OPT, path("m.mlir"),
         f"--qopt-smooth-quant=alpha=0.5 calibration={path('cal.json')}",
         "--mlir-print-debuginfo",  # keep the layer name "fc" in the file
         "-o", path("smooth.mlir")])

    held = acts()
    np.save(path("held.npy"), held)
    outs = {name: run_model(path(f"{name}.mlir"), path("held.npy"), path(name))
            for name in ["m", "smooth"]}
    check.checks += 1
    diff = np.max(np.abs(outs["smooth"] - outs["m"])) / np.max(np.abs(outs["m"]))
    if not diff < 1e-5:
        check.fail("output preserved", f"relative difference {diff}")

    # Recalibrate the smoothed model: its product now reads x / s.
    smoothed = np.array(calibrate(path("smooth.mlir"), files, path("cal2.json"),
                                  "channel_absmax")["fc.input"]["channel_absmax"],
                        np.float32)

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
