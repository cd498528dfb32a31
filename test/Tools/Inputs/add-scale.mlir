func.func @main(%x: tensor<4xf32>, %q: tensor<4xi4>) -> tensor<4xi8> {
  %s = arith.constant dense<0.5> : tensor<f32>
  %r = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}
func.func private @helper() -> ()
