#!/usr/bin/env python3
"""All-MiniLM-L6-v2 through quant-opt, next to torchao and ONNX Runtime.

Imports the real sentence-embedding model with torch-mlir, calibrates on a
fixed set of sentences, quantizes it with each scheme, runs it on the CPU
and prints, for held-out sentences, the cosine similarity of the
embeddings to the FP32 PyTorch model — with the same model quantized by
torchao and by ONNX Runtime's quantizers, measured in the same run.

    PYTHONPATH=build/python_packages python3 examples/minilm_accuracy.py

The table in docs/perf/accuracy.md comes from this script's default run.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

import quant_opt as qo
from quant_opt import baselines
from quant_opt.models import load_minilm, sample_sentences, tokenize

SCHEMES = ["w8a16", "w8a8", "w8a8-dynamic", "w8a8-static-smoothquant",
           "w8a8-static", "fp8-dynamic", "w4a16-g128", "w4a16-g128-gptq",
           "w4a16-g128-awq"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", type=int, default=256,
                        help="calibration sentences")
    parser.add_argument("--held-out", type=int, default=128,
                        help="evaluation sentences")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=32,
                        help="tokens per sentence (padded / truncated)")
    parser.add_argument("--schemes", default=",".join(SCHEMES))
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(2)

    model, tokenizer = load_minilm()
    calibration_text = sample_sentences(args.calibration, seed=1)
    held_text = sample_sentences(args.held_out, seed=2)
    calib = tokenize(tokenizer, calibration_text, args.batch, args.length)
    held = tokenize(tokenizer, held_text, args.batch, args.length)
    rows = len(held_text)

    with torch.no_grad():
        reference = np.concatenate([
            model(torch.from_numpy(i), torch.from_numpy(m)).numpy()
            for i, m in held])[:rows]

    def score(run):
        out = np.concatenate([np.asarray(run(i, m)) for i, m in held])[:rows]
        cos = baselines.cosine(out, reference)
        return float(cos.mean()), float(cos.min())

    results = []
    start = time.time()
    fp32 = qo.from_torch(model, tuple(torch.from_numpy(a) for a in calib[0]),
                         strip_prefix="bert.")
    print(f"imported in {time.time() - start:.1f}s: "
          f"{len(fp32.storage_report())} linear layers", file=sys.stderr)
    start = time.time()
    results.append(("quant-opt fp32", "32/32", *score(qo.compile(fp32))))
    calibration = qo.calibrate(fp32, calib)
    print(f"calibrated on {len(calibration_text)} sentences in "
          f"{time.time() - start:.1f}s", file=sys.stderr)
    for scheme in args.schemes.split(","):
        start = time.time()
        quantized = qo.quantize(fp32, scheme, calibration=calibration)
        bits = qo.SCHEMES[scheme].weights.split()[0].split("=")[1]
        report = qo.report(quantized)
        label = f"{bits} W, {report.total_bytes / 2**20:.2f} MiB"
        results.append((f"quant-opt {scheme}", label,
                        *score(qo.compile(quantized))))
        print(f"{scheme}: {time.time() - start:.1f}s", file=sys.stderr)

    if not args.no_baselines:
        example = tuple(torch.from_numpy(a) for a in calib[0])

        def torch_runner(module):
            def run(ids, mask):
                with torch.no_grad():
                    return module(torch.from_numpy(ids),
                                  torch.from_numpy(mask)).numpy()
            return run

        with tempfile.TemporaryDirectory() as tmp:
            candidates = [
                ("torchao int8 dynamic (W8A8)", "i8 W, i8 A",
                 lambda: torch_runner(baselines.torchao_int8_dynamic(model))),
                ("torchao int4 weight-only g128", "i4 W",
                 lambda: torch_runner(
                     baselines.torchao_int4_weight_only(model, 128))),
                ("ORT dynamic int8 (W8A8)", "i8 W, ui8 A",
                 lambda: baselines.ort_dynamic_int8(
                     model, example, os.path.join(tmp, "dyn"))),
                ("ORT static QDQ W8A8 (minmax)", "i8 W, i8 A",
                 lambda: baselines.ort_static_w8a8(
                     model, example, calib, os.path.join(tmp, "static"))),
                ("ORT MatMulNBits int4 g128", "i4 W",
                 lambda: baselines.ort_int4_weight_only(
                     model, example, os.path.join(tmp, "int4"), 128)),
            ]
            for name, bits, make in candidates:
                try:
                    results.append((name, bits, *score(make())))
                except baselines.BaselineUnavailable as e:
                    print(f"{name}: unavailable: {e}", file=sys.stderr)

    print(f"\nall-MiniLM-L6-v2, {rows} held-out sentences "
          f"({args.length} tokens), calibration {len(calibration_text)}")
    print(f"| {'method':<36} | {'storage':<22} | {'mean cos':>9} | "
          f"{'min cos':>8} |")
    print(f"|{'-' * 38}|{'-' * 24}|{'-' * 11}|{'-' * 10}|")
    for name, bits, mean, low in results:
        print(f"| {name:<36} | {bits:<22} | {mean:>9.5f} | {low:>8.5f} |")
    return results


if __name__ == "__main__":
    main()
