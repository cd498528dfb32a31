# AWQ through two linear layers: the second layer's x / s is folded into the
# first layer's quantized output channels (its dequantization scales)
# instead of an explicit elementwise scale. Checked against the same model
# with the fold blocked (the first layer's output also returned, so it has
# a second use): the two must compute the same second-layer output, with
# one explicit scale fewer; and AWQ must still beat RTN on held-out inputs.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

from harness import Checker, calibrate, linear_layers_module, run_model

QUANT_OPT = os.environ["QUANT_OPT"]
rng = np.random.default_rng(41)
check = Checker()
T, K, H, N = 64, 128, 128, 64
w1 = rng.normal(0, 0.05, (K, H)).astype(np.float32)
w1[:, [9, 33, 100]] *= 30  # salient channels in the second layer's input
w2 = rng.normal(0, 0.05, (H, N)).astype(np.float32)


def module(return_hidden):
    return linear_layers_module([w1, w2], T, ["fc1", "fc2"], return_hidden)


def acts():
    return rng.normal(0, 1, (T, K)).astype(np.float32)


with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)
    open(path("fold.mlir"), "w").write(module(False))
    open(path("blocked.mlir"), "w").write(module(True))
    files = []
    for i in range(4):
        files.append(path(f"x{i}.npy"))
        np.save(files[-1], acts())
    calibrate(path("fold.mlir"), files, path("cal.json"),
              "channel_absmean,hessian")
    held = acts()
    np.save(path("held.npy"), held)
    outs, generics = {}, {}
    for name, method in [("fold", "awq"), ("blocked", "awq"), ("fold", "rtn")]:
        opts = "storage=i4 group-size=32"
        if method == "awq":
            opts += f" method=awq calibration={path('cal.json')}"
        out = path(f"{name}-{method}.mlir")
        subprocess.run([QUANT_OPT, path(f"{name}.mlir"),
                        f"--qopt-weight-ptq={opts}", "-o", out], check=True)
        generics[(name, method)] = open(out).read().count("linalg.generic")
        outs[(name, method)] = run_model(out, path("held.npy"),
                                         path(f"out-{name}-{method}"))

check.checks += 1
if generics[("blocked", "awq")] - generics[("fold", "awq")] != 1:
    check.fail("fold", f"explicit scales: {generics}")
a, b = outs[("fold", "awq")], outs[("blocked", "awq")]
diff = np.max(np.abs(a - b)) / np.max(np.abs(b))
check.checks += 1
if not diff < 1e-5:
    check.fail("folded == explicit", f"relative difference {diff}")
want = (held.astype(np.float64) @ w1) @ w2
err = {m: np.linalg.norm(outs[("fold", m)] - want) / np.linalg.norm(want)
       for m in ["rtn", "awq"]}
print(f"held-out error: RTN {err['rtn']:.4f}, AWQ (folded) {err['awq']:.4f}")
check.checks += 1
if not err["awq"] < err["rtn"]:
    check.fail("AWQ < RTN", str(err))
check.finish()
