#!/usr/bin/env python3
"""Compile time and run time of all-MiniLM-L6-v2 on the CPU.

    PYTHONPATH=build/python_packages python3 bench/minilm_cpu.py

The model is imported with quant_opt.from_torch for batches of 16 x 32
tokens. Each row lowers it with qopt-cpu-pipeline and JIT-compiles it at an
LLVM opt level; "compile" is lowering plus JIT plus the first call (which
finishes code generation), "run" the median of later calls on the same
batch. The baseline row lowers the float model with
cpu-float-contractions=false: upstream elementwise fusion and
convert-linalg-to-loops order for the float products, the pipeline before
qopt-order-contractions-for-cpu and qopt-fuse-elementwise-for-cpu. Results:
docs/perf/cpu.md.
"""

import statistics
import time

import numpy as np

import quant_opt as qo
from quant_opt.models import load_minilm, sample_sentences, tokenize


def measure(model, pipeline_options, opt_level, batch, runs):
    start = time.perf_counter()
    lowered = model.transform(f"qopt-cpu-pipeline{{{pipeline_options}}}")
    run = lowered.compile("main", opt_level)
    run(*batch)
    compile_s = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run(*batch)
        times.append(time.perf_counter() - start)
    return compile_s, statistics.median(times)


def main():
    model, tokenizer = load_minilm()
    batch = tokenize(tokenizer, sample_sentences(16, seed=3), 16, 32)[0]
    fp32 = qo.from_torch(model, batch, strip_prefix="bert.")
    w8a16 = qo.quantize(fp32, "w8a16")
    rows = [
        ("f32", "baseline: cpu-float-contractions=false", fp32,
         "cpu-float-contractions=false", 3, 3),
        ("f32", "qopt-cpu-pipeline", fp32, "", 3, 5),
        ("f32", "qopt-cpu-pipeline", fp32, "", 2, 5),
        ("w8a16", "qopt-cpu-pipeline", w8a16, "", 3, 5),
        ("w8a16", "qopt-cpu-pipeline", w8a16, "", 2, 5),
    ]
    print("| weights | lowering | LLVM -O | compile + first call | run (median) |")
    print("|---|---|---|---|---|")
    for weights, label, module, options, level, runs in rows:
        compile_s, run_s = measure(module, options, level, batch, runs)
        print(f"| {weights} | {label} | {level} | {compile_s:.1f} s | "
              f"{run_s:.3f} s |", flush=True)


if __name__ == "__main__":
    main()
