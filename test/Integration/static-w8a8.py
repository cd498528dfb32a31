# Static activation quantization from calibrated ranges: W8A8 (i8 x i8 with
# per-tensor activation scales) and FP8 x FP8, with each calibrator; and
# SmoothQuant + W8A8 against plain W8A8 on activations with outlier
# channels. Prints the errors and fails if SmoothQuant does not help.
# RUN: %python %s

import os
import subprocess
import tempfile

import numpy as np

from harness import Checker, linear_layer_module

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(77)
check = Checker()
T, K, N = 32, 128, 64
w = rng.normal(0, 0.05, (K, N)).astype(np.float32)


def acts():
    x = rng.normal(0, 1, (T, K)).astype(np.float32)
    x[:, [7, 50, 99]] *= 60
    return x


MODULE = linear_layer_module(w, T)

with tempfile.TemporaryDirectory() as tmp:
    def path(name):
        return os.path.join(tmp, name)

    def qopt(*args):
        r = subprocess.run([QUANT_OPT, *args, "--mlir-print-debuginfo"],
                           capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(r.stderr)

    calib = []
    for i in range(8):
        calib.append(path(f"c{i}.npy"))
        np.save(calib[-1], acts())
    held = acts()
    np.save(path("held.npy"), held)
    want = held.astype(np.float64) @ w.astype(np.float64)

    def calibrate(model, out):
        qopt(model, "--qopt-insert-observers=stats=minmax,histogram,"
             "channel_absmax", "-o", path("inst.mlir"))
        subprocess.run([QUANT_RUN, path("inst.mlir"), "--input",
                        ",".join(calib), "--calibration-out", out],
                       check=True, stdout=subprocess.DEVNULL)

    def error(model):
        subprocess.run([QUANT_RUN, model, "--input", path("held.npy"),
                        "--output-dir", path("out")], check=True,
                       stdout=subprocess.DEVNULL)
        y = np.load(path("out/result0.npy"))
        return float(np.linalg.norm(y - want) / np.linalg.norm(want))

    open(path("m.mlir"), "w").write(MODULE)
    calibrate(path("m.mlir"), path("cal.json"))
    errors = {}
    for storage in ["i8", "f8E4M3FN"]:
        for calibrator in ["minmax", "percentile", "mse", "entropy"]:
            out = path(f"{storage}-{calibrator}.mlir")
            qopt(path("m.mlir"), f"--qopt-weight-ptq=storage={storage} group-size=0",
                 f"--qopt-apply-calibration=calibration={path('cal.json')} "
                 f"calibrator={calibrator}", "-o", out)
            ir = open(out).read()
            check.checks += 1
            if "input_scale(" not in ir or "qopt.quantize" not in ir:
                check.fail(f"{storage} {calibrator}", "activations not quantized")
            errors[(storage, calibrator)] = error(out)

    # SmoothQuant, recalibrate (activation ranges change), then W8A8.
    qopt(path("m.mlir"), f"--qopt-smooth-quant=alpha=0.5 calibration={path('cal.json')}",
         "-o", path("smooth.mlir"))
    calibrate(path("smooth.mlir"), path("cal2.json"))
    qopt(path("smooth.mlir"), "--qopt-weight-ptq=storage=i8 group-size=0",
         f"--qopt-apply-calibration=calibration={path('cal2.json')}",
         "-o", path("sq.mlir"))
    errors[("smoothquant+i8", "minmax")] = error(path("sq.mlir"))

for (storage, calibrator), e in errors.items():
    print(f"{storage:>15} {calibrator:>10}: {e:.4f}")
ratio = errors[("smoothquant+i8", "minmax")] / errors[("i8", "minmax")]
print(f"SmoothQuant + W8A8 / W8A8 output error: {ratio:.3f}")
check.checks += 1
if not ratio < 0.7:
    check.fail("SmoothQuant + W8A8", f"ratio {ratio:.3f}")
check.checks += 1
if not errors[("i8", "minmax")] < 0.2 or not errors[("f8E4M3FN", "minmax")] < 0.1:
    check.fail("error magnitude", str(errors))
check.finish()
