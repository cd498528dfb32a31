# AWQ in the compiler: calibrate a layer whose inputs have a few outlier
# channels (stats=channel_absmean,hessian), quantize with method=awq: the
# weight becomes RTN(W * s) and the product reads x / s. On held-out
# inputs the output error must be clearly below RTN's.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

from harness import Checker, linear_layer_module

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(31)
check = Checker()
T, K, N = 64, 256, 128

w = rng.normal(0, 0.02, (K, N)).astype(np.float32)


def acts():
    x = rng.normal(0, 1, (T, K)).astype(np.float32)
    x[:, [5, 90, 200]] *= 40
    return x


MODULE = linear_layer_module(w, T)

with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)
    open(path("m.mlir"), "w").write(MODULE)
    subprocess.run([QUANT_OPT, path("m.mlir"),
                    "--qopt-insert-observers=stats=channel_absmean,hessian",
                    "-o", path("inst.mlir")], check=True)
    files = []
    for i in range(8):
        files.append(path(f"c{i}.npy"))
        np.save(files[-1], acts())
    subprocess.run([QUANT_RUN, path("inst.mlir"), "--input", ",".join(files),
                    "--calibration-out", path("cal.json")], check=True,
                   stdout=subprocess.DEVNULL)
    held = acts()
    np.save(path("held.npy"), held)
    want = held.astype(np.float64) @ w.astype(np.float64)
    errors = {}
    for method in ["rtn", "awq"]:
        opts = "storage=i4 group-size=128"
        if method == "awq":
            opts += f" method=awq calibration={path('cal.json')}"
        r = subprocess.run([QUANT_OPT, path("m.mlir"), f"--qopt-weight-ptq={opts}",
                            "-o", path(f"{method}.mlir")],
                           capture_output=True, text=True)
        check.checks += 1
        if r.returncode != 0:
            check.fail(method, r.stderr)
            continue
        ir = open(path(f"{method}.mlir")).read()
        check.checks += 1
        if (method == "awq") != ("linalg.generic" in ir):
            check.fail(method, "the activation scale x / s is missing or extra")
        subprocess.run([QUANT_RUN, path(f"{method}.mlir"), "--input",
                        path("held.npy"), "--output-dir", path(method)],
                       check=True, stdout=subprocess.DEVNULL)
        y = np.load(path(f"{method}/result0.npy"))
        errors[method] = float(np.linalg.norm(y - want) / np.linalg.norm(want))
    # AWQ without channel_absmean in the file is a clear error.
    subprocess.run([QUANT_OPT, path("m.mlir"),
                    "--qopt-insert-observers=stats=hessian", "-o",
                    path("inst2.mlir")], check=True)
    subprocess.run([QUANT_RUN, path("inst2.mlir"), "--input", files[0],
                    "--calibration-out", path("cal2.json")], check=True,
                   stdout=subprocess.DEVNULL)
    r = subprocess.run([QUANT_OPT, path("m.mlir"), "--qopt-weight-ptq=method=awq "
                        f"calibration={path('cal2.json')}", "-o", path("x.mlir")],
                       capture_output=True, text=True)
    check.checks += 1
    if r.returncode != 1 or "no channel_absmean for this product's input ('fc.input')" not in r.stderr:
        check.fail("missing channel_absmean", r.stderr)

ratio = errors.get("awq", 1) / errors.get("rtn", 1)
print(f"held-out output error: RTN {errors.get('rtn', 0):.4f}, AWQ "
      f"{errors.get('awq', 0):.4f} (AWQ/RTN {ratio:.3f})")
check.checks += 1
if not ratio < 0.8:
    check.fail("AWQ vs RTN", f"{ratio:.3f}")
check.finish()
