#!/usr/bin/env python3
"""Weight-only PTQ of a model file with quant-opt, run on the CPU, with the
storage report and the output error against the unquantized model.

    python3 examples/run_ptq.py examples/mlp.mlir --storage i4 --group-size 128
"""

import argparse
import os
import subprocess
import tempfile

import numpy as np


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    bin_dir = os.path.join(here, "..", "build", "bin")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--storage", default="i4")
    p.add_argument("--group-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bin", default=bin_dir, help="folder of quant-opt, quant-run")
    args = p.parse_args()
    quant_opt = os.path.join(args.bin, "quant-opt")
    quant_run = os.path.join(args.bin, "quant-run")

    with tempfile.TemporaryDirectory() as tmp:
        quantized = os.path.join(tmp, "quantized.mlir")
        report = os.path.join(tmp, "report.txt")
        subprocess.run([quant_opt, args.model,
                        f"--qopt-weight-ptq=storage={args.storage} "
                        f"group-size={args.group_size}",
                        f"--qopt-storage-report=file={report}",
                        "-o", quantized], check=True)
        # The input shape is the first argument of @main.
        head = open(args.model).read(1 << 16)
        dims = head.split("@main(%x0: tensor<", 1)[1].split("xf32>", 1)[0]
        shape = [int(d) for d in dims.split("x")]
        x = np.random.default_rng(args.seed).normal(0, 1, shape).astype(np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)
        results = {}
        for name, path in [("f32", args.model), ("quantized", quantized)]:
            out = os.path.join(tmp, name)
            subprocess.run([quant_run, path, "--input", os.path.join(tmp, "x.npy"),
                            "--output-dir", out], check=True,
                           stdout=subprocess.DEVNULL)
            results[name] = np.load(os.path.join(out, "result0.npy"))
        print(open(report).read(), end="")
        ratio = os.path.getsize(args.model) / os.path.getsize(quantized)
    f, q = results["f32"], results["quantized"]
    err = np.linalg.norm(q - f) / np.linalg.norm(f)
    print(f"\n{args.storage} group-size {args.group_size}: the .mlir file is "
          f"{ratio:.1f}x smaller; relative output error against the f32 model "
          f"on a random input {list(x.shape)}: {err:.2%}")


if __name__ == "__main__":
    main()
