# A real-model-shaped layer: hidden 4096 (q, k, v, o and a 4096-wide MLP,
# 100 M parameters, an 800 MB .mlir file) goes through qopt-weight-ptq and
# runs with quant-run; its output matches a NumPy evaluation of the same
# generated model to the error INT4 g128 is expected to have.
# RUN: %python %s %S/../../examples/gen_model.py

import os
import subprocess
import sys
import tempfile

import numpy as np

from harness import Checker

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
gen = sys.argv[1]
H, T = 4096, 1
check = Checker()


def relu(v):
    return np.maximum(v, 0)


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "model.mlir")
    weights = os.path.join(tmp, "weights.npz")
    subprocess.run([sys.executable, gen, "--hidden", str(H), "--layers", "1",
                    "--mlp-ratio", "1", "--tokens", str(T), "-o", model,
                    "--weights-npz", weights], check=True)
    quantized = os.path.join(tmp, "q.mlir")
    subprocess.run([QUANT_OPT, model, "--qopt-weight-ptq", "-o", quantized],
                   check=True)
    os.remove(model)
    x = np.random.default_rng(9).normal(0, 1, (T, H)).astype(np.float32)
    np.save(os.path.join(tmp, "x.npy"), x)
    subprocess.run([QUANT_RUN, quantized, "--input", os.path.join(tmp, "x.npy"),
                    "--output-dir", os.path.join(tmp, "out")], check=True,
                   stdout=subprocess.DEVNULL)
    y = np.load(os.path.join(tmp, "out", "result0.npy"))
    w = dict(np.load(weights))

# The generated model in NumPy (float64), layer 0.
x64 = x.astype(np.float64)
p = {k.split(".", 1)[1]: v.astype(np.float64) for k, v in w.items()}
a = relu(x64 @ p["q_proj"]) + x64 @ p["k_proj"] + x64 @ p["v_proj"]
h = x64 + a @ p["o_proj"]
want = h + relu(h @ p["mlp.up_proj"]) @ p["mlp.down_proj"]
err = float(np.linalg.norm(y - want) / np.linalg.norm(want))
print(f"hidden {H}: relative error of the INT4 g128 model against f32: "
      f"{err:.2%}")
check.checks += 1
if not (y.shape == (T, H) and np.all(np.isfinite(y))):
    check.fail("output", f"shape {y.shape} or non-finite values")
check.checks += 1
if not 0.03 < err < 0.3:
    check.fail("error magnitude", f"{err:.2%}")
check.finish()
