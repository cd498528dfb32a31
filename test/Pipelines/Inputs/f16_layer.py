"""Writes an f16 linear layer y = x W (x: 1 x 512, W: 512 x 256, normal
random weights, seed 0) as a linalg.matmul from zeros, the way frontends
export nn.Linear, for the weight-PTQ pipeline tests."""

import numpy as np

K, N = 512, 256
w = np.random.default_rng(0).normal(0, 0.02, (K, N)).astype(np.float16)
print(f"""func.func @layer(%x: tensor<1x{K}xf16>) -> tensor<1x{N}xf16> {{
  %w = arith.constant dense<"0x{w.tobytes().hex().upper()}"> : tensor<{K}x{N}xf16>
  %c0 = arith.constant 0.0 : f16
  %e = tensor.empty() : tensor<1x{N}xf16>
  %z = linalg.fill ins(%c0 : f16) outs(%e : tensor<1x{N}xf16>) -> tensor<1x{N}xf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x{K}xf16>, tensor<{K}x{N}xf16>)
                     outs(%z : tensor<1x{N}xf16>) -> tensor<1x{N}xf16>
  return %y : tensor<1x{N}xf16>
}}""")
