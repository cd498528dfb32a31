func.func @f(%x: tensor<8x256xf32>, %s: tensor<8x3xf32>) -> tensor<8x256xi4> {
  %q = qopt.quantize %x, %s : (tensor<8x256xf32>, tensor<8x3xf32>) -> tensor<8x256xi4>
  return %q : tensor<8x256xi4>
}
