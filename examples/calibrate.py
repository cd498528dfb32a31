#!/usr/bin/env python3
"""Calibration end to end: generate a model and calibration data, instrument
it, calibrate on the CPU, quantize the weights to INT4 g128 with RTN, GPTQ
and AWQ, and the whole layer to W8A8 with and without SmoothQuant; run each
on held-out inputs and print the output error against the unquantized
model next to the storage.

    python3 examples/calibrate.py [--hidden 256] [--layers 2]

The inputs are made the way real activations look to these methods:
strongly correlated features (a low-rank signal plus noise) and a few
outlier channels.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--tokens", type=int, default=32)
    p.add_argument("--sets", type=int, default=16, help="calibration sets")
    p.add_argument("--bin", default=os.path.join(here, "..", "build", "bin"))
    args = p.parse_args()
    quant_opt = os.path.join(args.bin, "quant-opt")
    quant_run = os.path.join(args.bin, "quant-run")
    rng = np.random.default_rng(0)
    h, t = args.hidden, args.tokens
    mix = rng.normal(0, 1, (16, h)).astype(np.float32)
    outliers = rng.choice(h, 4, replace=False)

    def inputs():
        x = (rng.normal(0, 1, (t, 16)).astype(np.float32) @ mix / 4 +
             0.1 * rng.normal(0, 1, (t, h)).astype(np.float32))
        x[:, outliers] *= 20
        return x.astype(np.float32)

    def run(*cmd):
        r = subprocess.run(list(cmd), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        return r

    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)
        run(sys.executable, os.path.join(here, "gen_model.py"), "--hidden",
            str(h), "--layers", str(args.layers), "--tokens", str(t), "-o",
            path("model.mlir"))
        calib = []
        for i in range(args.sets):
            calib.append(path(f"calib{i}.npy"))
            np.save(calib[-1], inputs())
        held = []
        for i in range(4):
            held.append(path(f"held{i}.npy"))
            np.save(held[-1], inputs())

        print(f"model: hidden {h}, {args.layers} layers; calibration: "
              f"{args.sets} x {t} tokens; held-out: 4 x {t} tokens")
        run(quant_opt, path("model.mlir"), "--qopt-insert-observers=stats="
            "minmax,histogram,channel_absmax,channel_absmean,hessian",
            "-o", path("inst.mlir"))
        run(quant_run, path("inst.mlir"), "--input", ",".join(calib),
            "--calibration-out", path("cal.json"))
        observers = json.load(open(path("cal.json")))["observers"]
        print(f"calibrated {len(observers)} observers into cal.json")

        def outputs(model):
            run(quant_run, model, "--input", ",".join(held), "--output-dir",
                path("out"))
            return [np.load(path(f"out/set{i}/result0.npy"))
                    for i in range(len(held))]

        reference = outputs(path("model.mlir"))
        # SmoothQuant changes the activations: calibrate the smoothed model.
        run(quant_opt, path("model.mlir"), f"--qopt-smooth-quant=alpha=0.5 "
            f"calibration={path('cal.json')}", "--mlir-print-debuginfo", "-o",
            path("smooth.mlir"))
        run(quant_opt, path("smooth.mlir"), "--qopt-insert-observers="
            "stats=minmax", "-o", path("inst2.mlir"))
        run(quant_run, path("inst2.mlir"), "--input", ",".join(calib),
            "--calibration-out", path("cal2.json"))
        variants = [
            ("RTN", "storage=i4 group-size=128"),
            ("GPTQ", f"storage=i4 group-size=128 method=gptq "
                     f"calibration={path('cal.json')}"),
            ("GPTQ act-order", f"storage=i4 group-size=128 method=gptq "
                               f"act-order=true calibration={path('cal.json')}"),
            ("AWQ", f"storage=i4 group-size=128 method=awq "
                    f"calibration={path('cal.json')}"),
            ("INT8 per-channel RTN", "storage=i8 group-size=0"),
            ("W8A8 (static minmax)", "storage=i8 group-size=0",
             f"--qopt-apply-calibration=calibration={path('cal.json')}"),
            ("W8A8 asymmetric ui8", "storage=i8 group-size=0",
             f"--qopt-apply-calibration=calibration={path('cal.json')} "
             "storage=ui8"),
            ("SmoothQuant + W8A8", "storage=i8 group-size=0",
             f"--qopt-apply-calibration=calibration={path('cal2.json')}",
             path("smooth.mlir")),
            ("W8A8 dynamic per-token", "storage=i8 group-size=0",
             "--qopt-dynamic-quant"),
        ]
        print(f"\n{'method':<22} {'rel. output error':>18} {'bytes/param':>12}")
        for name, options, *extra in variants:
            report = path("report.txt")
            passes = extra[:1]
            model = extra[1] if len(extra) > 1 else path("model.mlir")
            run(quant_opt, model, f"--qopt-weight-ptq={options}",
                f"--qopt-storage-report=file={report}", *passes,
                "-o", path("q.mlir"))
            out = outputs(path("q.mlir"))
            err = np.sqrt(sum(np.sum((o - r) ** 2) for o, r in zip(out, reference)) /
                          sum(np.sum(r ** 2) for r in reference))
            total = [l for l in open(report) if l.startswith("total ")][0]
            bpp = total.split()[-1]
            print(f"{name:<22} {err:>17.2%} {bpp:>12}")


if __name__ == "__main__":
    main()
