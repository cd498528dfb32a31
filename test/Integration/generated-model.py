# A generated transformer-shaped model (hidden 1024, MLP 4096, 2 layers,
# 25 M parameters) through qopt-weight-ptq and quant-run: the storage report
# has the exact byte counts of the seed's formula, the file shrinks about
# 8x, and the output error against the f32 model is that of INT4 g128.
# RUN: %python %s %S/../../examples/gen_model.py

import os
import re
import subprocess
import sys
import tempfile

import numpy as np

from harness import Checker

QUANT_OPT = os.environ["QUANT_OPT"]
QUANT_RUN = os.environ["QUANT_RUN"]
gen = sys.argv[1]
check = Checker()
H, LAYERS, T = 1024, 2, 4

with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "model.mlir")
    subprocess.run([sys.executable, gen, "--hidden", str(H), "--layers",
                    str(LAYERS), "--tokens", str(T), "-o", model], check=True)
    report = os.path.join(tmp, "report.txt")
    quantized = os.path.join(tmp, "q.mlir")
    subprocess.run([QUANT_OPT, model, "--qopt-weight-ptq=storage=i4 group-size=128",
                    f"--qopt-storage-report=file={report}", "-o", quantized],
                   check=True)
    x = np.random.default_rng(3).normal(0, 1, (T, H)).astype(np.float32)
    np.save(os.path.join(tmp, "x.npy"), x)
    outs = {}
    for name, path in [("f32", model), ("int4", quantized)]:
        subprocess.run([QUANT_RUN, path, "--input", os.path.join(tmp, "x.npy"),
                        "--output-dir", os.path.join(tmp, name)],
                       check=True, stdout=subprocess.DEVNULL)
        outs[name] = np.load(os.path.join(tmp, name, "result0.npy"))
    size_ratio = os.path.getsize(model) / os.path.getsize(quantized)
    text = open(report).read()
    print(text)

params = LAYERS * (4 * H * H + 2 * H * 4 * H)
rows = [l for l in text.splitlines() if l.startswith("layer")]
check.checks += 1
if len(rows) != LAYERS * 6:
    check.fail("report rows", f"{len(rows)} rows, expected {LAYERS * 6}")
check.checks += 1
if not any(r.startswith("layer1.mlp.down_proj") and "group 128" in r
           for r in rows):
    check.fail("report names", "layer1.mlp.down_proj with group 128 missing")
total = re.search(r"^total\s+(\d+) params\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)",
                  text, re.M)
codes, scales = params // 2, params // 128 * 4  # 4-bit codes, f32 scales
check.checks += 1
if not total or [int(total.group(i)) for i in (1, 2, 3, 4)] != \
        [params, codes, scales, 0]:
    check.fail("report totals", f"{total and total.groups()} vs "
               f"{(params, codes, scales, 0)}")
check.checks += 1
if not total or float(total.group(5)) != 0.5 + 4 / 128:
    check.fail("bytes per parameter", total and total.group(5))

err = float(np.linalg.norm(outs["int4"] - outs["f32"]) /
            np.linalg.norm(outs["f32"]))
print(f"file {size_ratio:.1f}x smaller; output error against f32 {err:.2%}")
check.checks += 1
if not 6.5 < size_ratio < 8.5:
    check.fail("file size", f"{size_ratio:.2f}x")
check.checks += 1
if not 0.03 < err < 0.4:
    check.fail("output error", f"{err:.2%}")
check.finish()
