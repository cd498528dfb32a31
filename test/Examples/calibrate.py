# The calibration example runs end to end on the built tools and keeps its
# headline orderings: GPTQ below RTN, SmoothQuant + W8A8 and asymmetric
# activations below plain W8A8, every row with a finite error.
# RUN: %python %s %S/../../examples/calibrate.py

import os
import re
import subprocess
import sys

from harness import Checker

check = Checker()
bindir = os.path.dirname(os.environ["QUANT_OPT"])
r = subprocess.run([sys.executable, sys.argv[1], "--bin", bindir, "--hidden",
                    "128", "--sets", "8"], capture_output=True, text=True)
check.checks += 1
if r.returncode != 0:
    check.fail("example", r.stderr)
    check.finish()
print(r.stdout)
rows = {m.group(1).strip(): float(m.group(2)) for m in
        re.finditer(r"^(\S.*?)\s+([0-9.]+)%\s+[0-9.]+$", r.stdout, re.M)}
want = ["RTN", "GPTQ", "GPTQ act-order", "AWQ", "INT8 per-channel RTN",
        "W8A8 (static minmax)", "W8A8 asymmetric ui8", "SmoothQuant + W8A8",
        "W8A8 dynamic per-token"]
check.checks += 1
if sorted(rows) != sorted(want):
    check.fail("rows", f"got {sorted(rows)}")
else:
    for better, worse in [("GPTQ", "RTN"),
                          ("SmoothQuant + W8A8", "W8A8 (static minmax)"),
                          ("W8A8 asymmetric ui8", "W8A8 (static minmax)")]:
        check.checks += 1
        if not rows[better] < rows[worse]:
            check.fail(f"{better} < {worse}", f"{rows[better]} vs {rows[worse]}")
check.finish()
