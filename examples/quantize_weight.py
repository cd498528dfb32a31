#!/usr/bin/env python3
"""Quantizes one random linear-layer weight three ways with quant-opt and
reports storage and error.

    python3 examples/quantize_weight.py [--quant-run build/bin/quant-run]

The scales come from NumPy here (s = max|w| / qmax per group); the codes,
the packing and the dequantization are computed by the compiled qopt ops.
"""

import argparse
import os
import subprocess
import tempfile

import numpy as np

ROWS, COLS, GROUP = 256, 1024, 128

MODULE = f"""
func.func @main(%w: tensor<{ROWS}x{COLS}xf32>,
                %s4: tensor<{ROWS}x{COLS // GROUP}xf32>,
                %s8: tensor<{ROWS}x1xf32>,
                %sf: tensor<{ROWS}x1xf32>)
    -> (tensor<{ROWS}x{COLS // 2}xi8>, tensor<{ROWS}x{COLS}xf32>,
        tensor<{ROWS}x{COLS}xi8>, tensor<{ROWS}x{COLS}xf32>,
        tensor<{ROWS}x{COLS}xf8E4M3FN>, tensor<{ROWS}x{COLS}xf32>) {{
  // INT4, groups of {GROUP} along each row, narrow range [-7, 7], packed.
  %q4 = qopt.quantize %w, %s4 {{narrow_range}} : (tensor<{ROWS}x{COLS}xf32>, tensor<{ROWS}x{COLS // GROUP}xf32>) -> tensor<{ROWS}x{COLS}xi4>
  %p4 = qopt.pack %q4 : tensor<{ROWS}x{COLS}xi4> -> tensor<{ROWS}x{COLS // 2}xi8>
  %u4 = qopt.unpack %p4 : tensor<{ROWS}x{COLS // 2}xi8> -> tensor<{ROWS}x{COLS}xi4>
  %d4 = qopt.dequantize %u4, %s4 : (tensor<{ROWS}x{COLS}xi4>, tensor<{ROWS}x{COLS // GROUP}xf32>) -> tensor<{ROWS}x{COLS}xf32>
  // INT8, one scale per output channel (row).
  %q8 = qopt.quantize %w, %s8 {{narrow_range}} : (tensor<{ROWS}x{COLS}xf32>, tensor<{ROWS}x1xf32>) -> tensor<{ROWS}x{COLS}xi8>
  %d8 = qopt.dequantize %q8, %s8 : (tensor<{ROWS}x{COLS}xi8>, tensor<{ROWS}x1xf32>) -> tensor<{ROWS}x{COLS}xf32>
  // FP8 E4M3FN, one scale per row (s = amax / 448).
  %qf = qopt.quantize %w, %sf : (tensor<{ROWS}x{COLS}xf32>, tensor<{ROWS}x1xf32>) -> tensor<{ROWS}x{COLS}xf8E4M3FN>
  %df = qopt.dequantize %qf, %sf : (tensor<{ROWS}x{COLS}xf8E4M3FN>, tensor<{ROWS}x1xf32>) -> tensor<{ROWS}x{COLS}xf32>
  return %p4, %d4, %q8, %d8, %qf, %df : tensor<{ROWS}x{COLS // 2}xi8>, tensor<{ROWS}x{COLS}xf32>, tensor<{ROWS}x{COLS}xi8>, tensor<{ROWS}x{COLS}xf32>, tensor<{ROWS}x{COLS}xf8E4M3FN>, tensor<{ROWS}x{COLS}xf32>
}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--quant-run", default=os.path.join(
        here, "..", "build", "bin", "quant-run"))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    w = rng.normal(0.0, 0.02, (ROWS, COLS)).astype(np.float32)
    amax_g = np.abs(w.reshape(ROWS, COLS // GROUP, GROUP)).max(axis=2)
    amax_r = np.abs(w).max(axis=1, keepdims=True)
    s4 = (amax_g / 7).astype(np.float32)
    s8 = (amax_r / 127).astype(np.float32)
    sf = (amax_r / 448).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "weight.mlir")
        with open(path, "w") as f:
            f.write(MODULE)
        inputs = []
        for name, array in [("w", w), ("s4", s4), ("s8", s8), ("sf", sf)]:
            np.save(os.path.join(tmp, name + ".npy"), array)
            inputs += ["--input", os.path.join(tmp, name + ".npy")]
        out = os.path.join(tmp, "out")
        subprocess.run([args.quant_run, path, *inputs, "--output-dir", out],
                       check=True, stdout=subprocess.DEVNULL)
        r = [np.load(os.path.join(out, f"result{i}.npy")) for i in range(6)]
    packed, d4, q8, d8, qf, df = r

    print(f"weight {ROWS}x{COLS}, N(0, 0.02), f32: {w.nbytes} bytes")
    print(f"first packed INT4 bytes of row 0: "
          f"{' '.join(f'0x{b:02x}' for b in packed[0, :8].view(np.uint8))}")
    print(f"first INT8 codes of row 0:        {q8[0, :8].tolist()}")
    print()
    fp16_scale = 2  # bytes per scale as stored for deployment (fp16)
    rows = [
        ("INT4 g128 (packed)", packed.nbytes, s4.size * fp16_scale, d4),
        ("INT8 per-channel", q8.nbytes, s8.size * fp16_scale, d8),
        ("FP8 E4M3 per-row", qf.nbytes, sf.size * fp16_scale, df),
    ]
    print(f"{'scheme':<20} {'code bytes':>10} {'scale bytes':>11} "
          f"{'bytes/param':>11} {'rel. error':>10}")
    for name, codes, scales, deq in rows:
        err = np.linalg.norm(deq - w) / np.linalg.norm(w)
        print(f"{name:<20} {codes:>10} {scales:>11} "
              f"{(codes + scales) / w.size:>11.6f} {err:>10.2%}")


if __name__ == "__main__":
    main()
