// A static result whose size in bytes overflows 63 bits.
func.func @main() -> tensor<2305843009213693952x8xf32> {
  %c = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2305843009213693952x8xf32>
  %f = linalg.fill ins(%c : f32) outs(%e : tensor<2305843009213693952x8xf32>) -> tensor<2305843009213693952x8xf32>
  return %f : tensor<2305843009213693952x8xf32>
}
