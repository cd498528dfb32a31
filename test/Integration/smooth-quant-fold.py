# SmoothQuant through two linear layers: the 1/s of the second layer's
# input is folded into the first layer's output channels (its weight
# columns) instead of an explicit elementwise scale. The model's output must
# not change, only the first layer's input keeps an explicit scale, and
# recalibrating must show the second layer's input channel maxima divided
# by NumPy's s, exactly as with an explicit scale.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

import numerics_reference as nref
from harness import Checker, calibrate, linear_layers_module, run_model

QUANT_OPT = os.environ["QUANT_OPT"]
rng = np.random.default_rng(31)
check = Checker()
T, K, H, N = 16, 64, 96, 32
w1 = rng.normal(0, 0.05, (K, H)).astype(np.float32)
w1[:, [5, 60, 71]] *= 40  # outlier channels in the second layer's input
w2 = rng.normal(0, 0.05, (H, N)).astype(np.float32)
MODULE = linear_layers_module([w1, w2], T, ["fc1", "fc2"])


def acts():
    return rng.normal(0, 1, (T, K)).astype(np.float32)


def absmax(observers):
    return {k: np.array(v["channel_absmax"], np.float32)
            for k, v in observers.items()}


with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)
    open(path("m.mlir"), "w").write(MODULE)
    files = []
    for i in range(4):
        files.append(path(f"x{i}.npy"))
        np.save(files[-1], acts())
    before = absmax(calibrate(path("m.mlir"), files, path("cal.json"),
                              "channel_absmax"))
    subprocess.run([QUANT_OPT, path("m.mlir"),
                    f"--qopt-smooth-quant=alpha=0.5 calibration={path('cal.json')}",
                    "--mlir-print-debuginfo", "-o", path("smooth.mlir")],
                   check=True)
    ir = open(path("smooth.mlir")).read()
    check.checks += 1
    if ir.count("linalg.generic") != 1:
        check.fail("fold", f"{ir.count('linalg.generic')} explicit scales, "
                   "want 1 (the first layer's input only)")

    held = acts()
    np.save(path("held.npy"), held)
    outs = {name: run_model(path(f"{name}.mlir"), path("held.npy"), path(name))
            for name in ["m", "smooth"]}
    check.checks += 1
    diff = np.max(np.abs(outs["smooth"] - outs["m"])) / np.max(np.abs(outs["m"]))
    if not diff < 1e-5:
        check.fail("output preserved", f"relative difference {diff}")
    after = absmax(calibrate(path("smooth.mlir"), files, path("cal2.json"),
                             "channel_absmax"))

s2 = nref.smoothquant(before["fc2.input"], np.abs(w2).max(axis=1), 0.5)
check.checks += 1
if not np.allclose(after["fc2.input"], before["fc2.input"] / s2, rtol=1e-4):
    check.fail("second layer maxima", "not max|X_j| / s_j")
ratio = lambda m: m.max() / np.median(m)
print(f"fc2 input channel max / median: {ratio(before['fc2.input']):.1f} -> "
      f"{ratio(after['fc2.input']):.1f}")
check.finish()
