// A product whose input records every statistic (qopt.observe).
module {
  func.func @main(%arg0: tensor<2x8xf32>) -> tensor<2x4xf32> {
    %0 = qopt.observe %arg0 {name = "mm.mlir:6:8.input", stats = ["minmax", "histogram", "channel_absmax", "channel_absmean", "hessian"]} : tensor<2x8xf32>
    %cst = arith.constant dense<5.000000e-01> : tensor<8x4xf32>
    %cst_0 = arith.constant 0.000000e+00 : f32
    %1 = tensor.empty() : tensor<2x4xf32>
    %2 = linalg.fill ins(%cst_0 : f32) outs(%1 : tensor<2x4xf32>) -> tensor<2x4xf32>
    %3 = linalg.matmul ins(%0, %cst : tensor<2x8xf32>, tensor<8x4xf32>) outs(%2 : tensor<2x4xf32>) -> tensor<2x4xf32>
    return %3 : tensor<2x4xf32>
  }
}

