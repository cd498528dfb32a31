func.func @f(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  %q = qopt.quantize %x, %s {qopt.mode = "fast"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}
