func.func @f(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi16> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi16>
  return %q : tensor<4xi16>
}
