# SmoothQuant through two linear layers: the 1/s of the second layer's
# input is folded into the first layer's output channels (its weight
# columns) instead of an explicit elementwise scale. The model's output must
# not change, only the first layer's input keeps an explicit scale, and
# recalibrating must show the second layer's input channel maxima divided
# by NumPy's s, exactly as with an explicit scale.
# RUN: %python %s

import json
import os
import subprocess
import tempfile

import numpy as np

import numerics_reference as nref
from harness import Checker

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(31)
check = Checker()
T, K, H, N = 16, 64, 96, 32
w1 = rng.normal(0, 0.05, (K, H)).astype(np.float32)
w1[:, [5, 60, 71]] *= 40  # outlier channels in the second layer's input
w2 = rng.normal(0, 0.05, (H, N)).astype(np.float32)


def const(w):
    return (f"arith.constant dense<\"0x{w.tobytes().hex().upper()}\"> : "
            f"tensor<{w.shape[0]}x{w.shape[1]}xf32>")


def layer(name, x, w, rows, k, n):
    t = f"tensor<{rows}x{n}xf32>"
    return (f"  %{name}_w = {const(w)}\n"
            f"  %{name}_e = tensor.empty() : {t}\n"
            f"  %{name}_i = linalg.fill ins(%zero : f32) outs(%{name}_e : {t}) -> {t}\n"
            f"  %{name} = linalg.matmul ins({x}, %{name}_w : tensor<{rows}x{k}xf32>, "
            f"tensor<{k}x{n}xf32>) outs(%{name}_i : {t}) -> {t} loc(\"{name}\")\n")


MODULE = (f"func.func @main(%x: tensor<{T}x{K}xf32>) -> tensor<{T}x{N}xf32> {{\n"
          f"  %zero = arith.constant 0.0 : f32\n"
          + layer("fc1", "%x", w1, T, K, H) + layer("fc2", "%fc1", w2, T, H, N) +
          f"  return %fc2 : tensor<{T}x{N}xf32>\n}}\n")


def acts():
    return rng.normal(0, 1, (T, K)).astype(np.float32)


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


def calibrate(model, files, out):
    run([QUANT_OPT, model, "--qopt-insert-observers=stats=channel_absmax",
         "-o", model + ".inst.mlir"])
    run([QUANT_RUN, model + ".inst.mlir", "--input", ",".join(files),
         "--calibration-out", out])
    return {k: np.array(v["channel_absmax"], np.float32)
            for k, v in json.load(open(out))["observers"].items()}


with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)
    open(path("m.mlir"), "w").write(MODULE)
    files = []
    for i in range(4):
        files.append(path(f"x{i}.npy"))
        np.save(files[-1], acts())
    before = calibrate(path("m.mlir"), files, path("cal.json"))
    run([QUANT_OPT, path("m.mlir"),
         f"--qopt-smooth-quant=alpha=0.5 calibration={path('cal.json')}",
         "--mlir-print-debuginfo", "-o", path("smooth.mlir")])
    ir = open(path("smooth.mlir")).read()
    check.checks += 1
    if ir.count("linalg.generic") != 1:
        check.fail("fold", f"{ir.count('linalg.generic')} explicit scales, "
                   "want 1 (the first layer's input only)")

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
    after = calibrate(path("smooth.mlir"), files, path("cal2.json"))

s2 = nref.smoothquant(before["fc2.input"], np.abs(w2).max(axis=1), 0.5)
check.checks += 1
if not np.allclose(after["fc2.input"], before["fc2.input"] / s2, rtol=1e-4):
    check.fail("second layer maxima", "not max|X_j| / s_j")
ratio = lambda m: m.max() / np.median(m)
print(f"fc2 input channel max / median: {ratio(before['fc2.input']):.1f} -> "
      f"{ratio(after['fc2.input']):.1f}")
check.finish()
