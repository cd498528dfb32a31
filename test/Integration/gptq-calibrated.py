# GPTQ in the compiler: instrument a layer, calibrate it on inputs whose
# features are strongly correlated, then quantize with
# method=gptq calibration=FILE. On held-out inputs GPTQ's output error must
# be clearly below RTN's. Bad calibration input fails with a message naming
# the tensor and writes nothing.
# RUN: %python %s

import json
import os
import subprocess
import tempfile

import numpy as np

from harness import Checker, linear_layer_module

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
rng = np.random.default_rng(5)
check = Checker()
T, K, N, SETS = 64, 256, 128, 8

w = rng.normal(0, 0.02, (K, N)).astype(np.float32)
mix = rng.normal(0, 1, (8, K)).astype(np.float32)


def tokens(n):
    return (rng.normal(0, 1, (n, 8)).astype(np.float32) @ mix +
            0.05 * rng.normal(0, 1, (n, K)).astype(np.float32)).astype(np.float32)


def module(name):
    return linear_layer_module(w, T, name)


def quant_opt(*args):
    return subprocess.run([QUANT_OPT, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "layer.mlir")
    with open(src, "w") as f:
        f.write(module("layer0.q_proj"))
    inst = os.path.join(tmp, "inst.mlir")
    r = quant_opt(src, "--qopt-insert-observers=stats=minmax,hessian", "-o", inst)
    assert r.returncode == 0, r.stderr
    files = []
    for i in range(SETS):
        files.append(os.path.join(tmp, f"c{i}.npy"))
        np.save(files[-1], tokens(T))
    cal = os.path.join(tmp, "cal.json")
    subprocess.run([QUANT_RUN, inst, "--input", ",".join(files),
                    "--calibration-out", cal], check=True,
                   stdout=subprocess.DEVNULL)

    held = tokens(T)
    np.save(os.path.join(tmp, "held.npy"), held)
    want = held.astype(np.float64) @ w.astype(np.float64)
    errors = {}
    for method, opts in [("rtn", "storage=i4 group-size=128"),
                         ("gptq", f"storage=i4 group-size=128 method=gptq "
                                  f"calibration={cal}"),
                         ("gptq-act-order", f"storage=i4 group-size=128 "
                                            f"method=gptq act-order=true "
                                            f"calibration={cal}")]:
        out = os.path.join(tmp, method + ".mlir")
        r = quant_opt(src, f"--qopt-weight-ptq={opts}", "-o", out)
        check.checks += 1
        if r.returncode != 0:
            check.fail(method, r.stderr)
            continue
        subprocess.run([QUANT_RUN, out, "--input",
                        os.path.join(tmp, "held.npy"), "--output-dir",
                        os.path.join(tmp, method)], check=True,
                       stdout=subprocess.DEVNULL)
        y = np.load(os.path.join(tmp, method, "result0.npy"))
        errors[method] = float(np.linalg.norm(y - want) / np.linalg.norm(want))
    print({k: f"{v:.4f}" for k, v in errors.items()})
    for m in ["gptq", "gptq-act-order"]:
        ratio = errors.get(m, 1) / errors.get("rtn", 1)
        print(f"{m}/rtn held-out output error: {ratio:.3f}")
        check.checks += 1
        if not ratio < 0.7:
            check.fail(m, f"not clearly better than RTN: {ratio:.3f}")

    # Bad calibration input: a clear message naming the tensor, exit 1,
    # no output file.
    def expect_failure(what, cal_path, src_path, message):
        out = os.path.join(tmp, "bad.mlir")
        if os.path.exists(out):
            os.remove(out)
        r = quant_opt(src_path, "--qopt-weight-ptq=method=gptq "
                      f"calibration={cal_path}", "-o", out)
        check.checks += 1
        if r.returncode != 1 or message not in r.stderr or os.path.exists(out):
            check.fail(what, f"rc {r.returncode}: {r.stderr.strip()[:300]}")

    expect_failure("missing file", os.path.join(tmp, "nope.json"), src,
                   "cannot read calibration file")
    data = json.load(open(cal))
    data["version"] = 7
    bad = os.path.join(tmp, "v7.json")
    json.dump(data, open(bad, "w"))
    expect_failure("wrong version", bad, src, "has version 7")
    other = os.path.join(tmp, "other.mlir")
    with open(other, "w") as f:
        f.write(module("layer9.k_proj"))
    expect_failure("other model", cal, other,
                   "no Hessian for this product's input ('layer9.k_proj.input')")
    nan = tokens(T)
    nan[3, 7] = np.nan
    np.save(files[0], nan)
    subprocess.run([QUANT_RUN, inst, "--input", ",".join(files),
                    "--calibration-out", os.path.join(tmp, "nan.json")],
                   check=True, stdout=subprocess.DEVNULL)
    expect_failure("NaN data", os.path.join(tmp, "nan.json"), src,
                   "calibration Hessian of 'layer0.q_proj.input' has NaN")
check.finish()
