# Calibration statistics: instrument a two-layer model with
# qopt-insert-observers, run it on several input sets with quant-run
# --calibration-out, and compare the file with NumPy over the same inputs:
# min / max and the |x| histogram exactly, per-channel statistics and
# X^T X to float tolerance.
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
rng = np.random.default_rng(17)
check = Checker()
T, K, N, SETS = 8, 32, 16, 4

wa = rng.normal(0, 0.3, (K, N)).astype(np.float32)
wb = rng.normal(0, 0.3, (N, K)).astype(np.float32)


def const(w):
    return (f'arith.constant dense<"0x{w.tobytes().hex().upper()}"> : '
            f"tensor<{w.shape[0]}x{w.shape[1]}xf32>")


MODULE = f"""
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%x: tensor<{T}x{K}xf32>) -> tensor<{T}x{K}xf32> {{
  %zero = arith.constant 0.0 : f32
  %wa = {const(wa)}
  %wb = {const(wb)}
  %e1 = tensor.empty() : tensor<{T}x{N}xf32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<{T}x{N}xf32>) -> tensor<{T}x{N}xf32>
  %h = linalg.matmul ins(%x, %wa : tensor<{T}x{K}xf32>, tensor<{K}x{N}xf32>) outs(%i1 : tensor<{T}x{N}xf32>) -> tensor<{T}x{N}xf32> loc("fc1")
  %r = linalg.generic {{indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}} ins(%h : tensor<{T}x{N}xf32>) outs(%e1 : tensor<{T}x{N}xf32>) {{
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  }} -> tensor<{T}x{N}xf32>
  %e2 = tensor.empty() : tensor<{T}x{K}xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<{T}x{K}xf32>) -> tensor<{T}x{K}xf32>
  %y = linalg.matmul ins(%r, %wb : tensor<{T}x{N}xf32>, tensor<{N}x{K}xf32>) outs(%i2 : tensor<{T}x{K}xf32>) -> tensor<{T}x{K}xf32> loc("fc2")
  return %y : tensor<{T}x{K}xf32>
}}
"""

xs = [rng.standard_t(3, (T, K)).astype(np.float32) for _ in range(SETS)]
xs[1][0, 0] = np.float32(np.nan)  # non-finite values are not binned
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "model.mlir")
    with open(src, "w") as f:
        f.write(MODULE)
    inst = os.path.join(tmp, "inst.mlir")
    subprocess.run([QUANT_OPT, src, "--qopt-insert-observers=stats=minmax,"
                    "histogram,channel_absmax,channel_absmean,hessian",
                    "-o", inst], check=True)
    files = []
    for i, x in enumerate(xs):
        files.append(os.path.join(tmp, f"x{i}.npy"))
        np.save(files[-1], x)
    cal = os.path.join(tmp, "cal.json")
    subprocess.run([QUANT_RUN, inst, "--input", ",".join(files),
                    "--calibration-out", cal], check=True,
                   stdout=subprocess.DEVNULL)
    data = json.load(open(cal))
    # The same sets as one .npz archive give the same file.
    npz = os.path.join(tmp, "sets.npz")
    np.savez(npz, *xs)
    cal_npz = os.path.join(tmp, "cal-npz.json")
    subprocess.run([QUANT_RUN, inst, "--input", npz, "--calibration-out",
                    cal_npz], check=True, stdout=subprocess.DEVNULL)
    npz_data = json.load(open(cal_npz))
    check.checks += 1
    if any(npz_data["observers"][n][k] != data["observers"][n][k]
           for n in data["observers"] for k in ["count", "min", "max",
                                                "histogram", "calls"]):
        check.fail(".npz input sets", "statistics differ from the .npy run")
    np.savez_compressed(os.path.join(tmp, "z.npz"), xs[0])
    bad = subprocess.run([QUANT_RUN, inst, "--input", os.path.join(tmp, "z.npz")],
                         capture_output=True, text=True)
    check.checks += 1
    if bad.returncode != 1 or "np.savez_compressed" not in bad.stderr:
        check.fail("compressed .npz", bad.stderr)
    xtx = {name: np.load(os.path.join(tmp, o["hessian"]["xtx_file"]))
           for name, o in data["observers"].items()}
    # Merging: two runs over sets 0-1 and 2-3 equal one run over all four.
    a_json = os.path.join(tmp, "a.json")
    b_json = os.path.join(tmp, "b.json")
    subprocess.run([QUANT_RUN, inst, "--input", ",".join(files[:2]),
                    "--calibration-out", a_json], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([QUANT_RUN, inst, "--input", ",".join(files[2:]),
                    "--calibration-in", a_json, "--calibration-out", b_json],
                   check=True, stdout=subprocess.DEVNULL)
    merged = json.load(open(b_json))
    merged_xtx = {name: np.load(os.path.join(tmp, o["hessian"]["xtx_file"]))
                  for name, o in merged["observers"].items()}
    def refuse(what, data, message):
        """--calibration-in with `data` (a dict written to a file, or None
        for a missing file) must fail with `message`."""
        cal_in = os.path.join(tmp, f"{what.replace(' ', '-')}.json")
        if data is not None:
            json.dump(data, open(cal_in, "w"))
        r = subprocess.run([QUANT_RUN, inst, "--input", files[0],
                            "--calibration-in", cal_in,
                            "--calibration-out", b_json],
                           capture_output=True, text=True)
        check.checks += 1
        if r.returncode != 1 or message not in r.stderr:
            check.fail(what, r.stderr)

    refuse("missing --calibration-in", None, "cannot read")
    # Statistics of another model are refused.
    renamed = json.load(open(a_json))
    renamed["observers"]["fc9.input"] = renamed["observers"].pop("fc1.input")
    refuse("statistics of another model", renamed,
           "'fc9.input' is not in this module")
    # Statistics of another width under the same name are refused when
    # written (per-channel statistics can't mix widths).
    narrow = json.load(open(a_json))
    entry = narrow["observers"]["fc1.input"]
    entry.pop("hessian")
    entry["channels"] = 2
    for key in ["channel_absmax", "channel_abssum", "channel_absmean"]:
        entry[key] = entry[key][:2]
    refuse("channel width mismatch", narrow, "last dimension differs (2 and 32)")
    # Inconsistent files are refused on reading.
    broken = json.load(open(a_json))
    broken["observers"]["fc1.input"]["channel_absmax"] = [1.0]
    refuse("inconsistent file", broken, "bad channel_absmax")
    # Without observers, --calibration-out is an error, not an empty file.
    bad = subprocess.run([QUANT_RUN, src, "--input", files[0],
                          "--calibration-out", cal],
                         capture_output=True, text=True)
    check.checks += 1
    if bad.returncode != 1 or "no qopt.observe ops" not in bad.stderr:
        check.fail("no observers", bad.stderr)

check.checks += 1
if data.get("format") != "quant-opt-calibration" or data.get("version") != 1:
    check.fail("header", str(data.get("format")))


def compare(name, acts, exact):
    o = data["observers"][name]
    a = np.concatenate(acts)
    finite = a[np.isfinite(a)]
    tol = dict(rtol=0, atol=0) if exact else dict(rtol=1e-5, atol=1e-6)
    for key, want in [("min", finite.min()), ("max", finite.max())]:
        check.checks += 1
        if not np.isclose(o[key], float(want), **tol):
            check.fail(f"{name} {key}", f"{o[key]} vs {want}")
    check.checks += 1
    if o["count"] != finite.size or o["calls"] != SETS or o["rows"] != a.shape[0]:
        check.fail(f"{name} counts", f"{o['count']} {o['calls']} {o['rows']}")
    counts, r, amax = nref.abs_histogram(a)
    h = o["histogram"]
    check.checks += 1
    if exact and (h["range"] != float(r) or h["counts"] != counts.tolist()):
        check.fail(f"{name} histogram", f"range {h['range']} vs {r}")
    absval = np.where(np.isfinite(a), np.abs(a), 0).astype(np.float64)
    check.checks += 1
    if not np.allclose(o["channel_absmax"], absval.max(0), **tol):
        check.fail(f"{name} channel_absmax", "differs")
    check.checks += 1
    if not np.allclose(o["channel_absmean"], absval.sum(0) / a.shape[0],
                       rtol=1e-5, atol=1e-6):
        check.fail(f"{name} channel_absmean", "differs")
    a64 = a.astype(np.float64)
    want = a64.T @ a64
    check.checks += 1
    # A NaN input poisons the same entries of X^T X in both.
    if not np.allclose(xtx[name], want, rtol=1e-4, atol=1e-3, equal_nan=True):
        check.fail(f"{name} X^T X", f"max diff {np.max(np.abs(xtx[name] - want))}")
    check.checks += 1
    if o["hessian"]["tokens"] != a.shape[0]:
        check.fail(f"{name} tokens", str(o["hessian"]["tokens"]))


compare("fc1.input", xs, exact=True)
# fc2's input went through a product: the same values to float tolerance.
hidden = [np.where(np.isnan(x @ wa), np.nan, np.maximum(x @ wa, 0))
          for x in xs]
compare("fc2.input", hidden, exact=False)
# The merged file equals the single run.
for name, o in data["observers"].items():
    m = merged["observers"][name]
    for key in ["calls", "count", "min", "max", "channels", "rows",
                "channel_absmax", "histogram"]:
        check.checks += 1
        if m[key] != o[key]:
            check.fail(f"merged {name} {key}", f"{m[key]} vs {o[key]}")
    check.checks += 1
    if not np.allclose(m["channel_abssum"], o["channel_abssum"], rtol=1e-12):
        check.fail(f"merged {name} channel_abssum", "differs")
    check.checks += 1
    if not np.allclose(merged_xtx[name], xtx[name], rtol=1e-5, atol=1e-4,
                       equal_nan=True):
        check.fail(f"merged {name} X^T X", "differs")
print(sorted(data["observers"]))
check.finish()
