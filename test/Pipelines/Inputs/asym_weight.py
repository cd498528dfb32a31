"""Writes an asymmetric-activation W8A8 product whose weight is a non-splat
constant (rows of 2 and of -2, alternating) and whose zero point is a
constant, for gpu-w8a8-asym.mlir."""

N, K = 128, 64
rows = ", ".join("[" + ", ".join([str(2 if r % 2 == 0 else -2)] * K) + "]"
                 for r in range(N))
print(f"""func.func @constant_zero_point(%x: tensor<128x{K}xui8>, %sx: tensor<f32>) -> tensor<128x{N}xf32> {{
  %zx = arith.constant dense<7> : tensor<ui8>
  %w = arith.constant dense<[{rows}]> : tensor<{N}x{K}xi8>
  %sw = arith.constant dense<0.01> : tensor<f32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {{acc_type = f32}}
      : (tensor<128x{K}xui8>, tensor<{N}x{K}xi8>, tensor<f32>, tensor<f32>, tensor<ui8>) -> tensor<128x{N}xf32>
  return %y : tensor<128x{N}xf32>
}}""")
