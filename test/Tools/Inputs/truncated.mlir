func.func @main(%x: tensor<4xf32>) -> tensor<4xi8> {
  %s = arith.constant dense<0.5> : tensor<f32>
  %r = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f