"""Writes the model of resident_weights.test: an asymmetric W4A16 product
(ui4 codes, group scales and zero points) whose weights, scales and zero
points are constants of the module (as in a compiled model), made by the
same generator as Inputs/resident_main.c uses for its reference."""

M, N, K, G = 2, 16, 256, 128
state = 12345


def lcg():
    global state
    state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
    return state


codes = [(lcg() >> 28) & 0xF for _ in range(N * K)]
packed = bytes(((codes[2 * i] & 0xF) | ((codes[2 * i + 1] & 0xF) << 4))
               for i in range(N * K // 2))
# Multiples of 2^-12: exact in f32, so C and MLIR hold the same scales.
scales = [(1 + (lcg() >> 24)) / 4096.0 for _ in range(N * (K // G))]
zeros = [(lcg() >> 28) & 0xF for _ in range(N * (K // G))]
scale_text = ", ".join(f"[{scales[2 * n]!r}, {scales[2 * n + 1]!r}]"
                       for n in range(N))
zero_text = ", ".join(f"[{zeros[2 * n]}, {zeros[2 * n + 1]}]" for n in range(N))

print(f"""func.func @decode(%x: tensor<{M}x{K}xf16>) -> tensor<{M}x{N}xf16> {{
  %w = arith.constant dense<"0x{packed.hex().upper()}"> : tensor<{N}x{K // 2}xi8>
  %s = arith.constant dense<[{scale_text}]> : tensor<{N}x{K // G}xf32>
  %z = arith.constant dense<[{zero_text}]> : tensor<{N}x{K // G}xui4>
  %y = qopt.matmul %x, %w, %s, %z {{acc_type = f32, packed = ui4}}
      : (tensor<{M}x{K}xf16>, tensor<{N}x{K // 2}xi8>, tensor<{N}x{K // G}xf32>, tensor<{N}x{K // G}xui4>) -> tensor<{M}x{N}xf16>
  return %y : tensor<{M}x{N}xf16>
}}""")
