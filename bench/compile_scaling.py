#!/usr/bin/env python3
"""Time and peak memory of `quant-opt --qopt-weight-ptq --qopt-cpu-pipeline`
on generated models, and how both grow with layers and hidden size.

    python3 bench/compile_scaling.py [--bin build/bin] [--quick]

Each model comes from examples/gen_model.py (q, k, v, o and an MLP of 4x
hidden per layer, f32 weights as hex constants). Reported: parameters,
input file size, wall time and peak resident memory of quant-opt (from
/usr/bin/time), and the ratio of peak memory to the f32 weight bytes.
Results: docs/perf/cpu.md.
"""

import argparse
import os
import subprocess
import sys
import tempfile


def measure(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    seconds, kbytes = out.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kbytes) * 1024


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=os.path.join(here, "..", "build", "bin"))
    p.add_argument("--quick", action="store_true", help="skip hidden 4096")
    args = p.parse_args()
    gen = os.path.join(here, "..", "examples", "gen_model.py")
    quant_opt = os.path.join(args.bin, "quant-opt")
    configs = [(1024, 1), (1024, 2), (1024, 4), (1024, 8),
               (512, 1), (2048, 1)] + ([] if args.quick else [(4096, 1)])
    print(f"{'hidden':>6} {'layers':>6} {'params':>12} {'file MB':>8} "
          f"{'time s':>7} {'peak MB':>8} {'peak / f32 weights':>18}")
    for hidden, layers in configs:
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "m.mlir")
            subprocess.run([sys.executable, gen, "--hidden", str(hidden),
                            "--layers", str(layers), "--tokens", "1",
                            "-o", model], check=True)
            params = layers * 12 * hidden * hidden
            seconds, peak = measure([
                quant_opt, model, "--qopt-weight-ptq=storage=i4 group-size=128",
                "--qopt-cpu-pipeline", "-o", os.path.join(tmp, "out.mlir")])
            size = os.path.getsize(model)
        print(f"{hidden:>6} {layers:>6} {params:>12} {size / 1e6:>8.0f} "
              f"{seconds:>7.2f} {peak / 1e6:>8.0f} {peak / (4 * params):>18.2f}",
              flush=True)


if __name__ == "__main__":
    main()
