// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {}}' > %t.json
// RUN: quant-opt %s --qopt-quantize-weights="method=gptq group-size=0 calibration=%t.json" --verify-diagnostics | FileCheck %s
// RUN: not quant-opt %s --qopt-quantize-weights="method=gptq calibration=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING

// MISSING: error: cannot read calibration file

// The activation is read transposed ([K, M]): calibration statistics are
// over its last dimension (M), not K, so GPTQ does not apply; RTN is used
// with a warning instead of silently using the wrong Hessian.
// CHECK-LABEL: func @transposed_activation
// CHECK: qopt.dequantize
#xt = affine_map<(m, n, k) -> (k, m)>
#w = affine_map<(m, n, k) -> (k, n)>
#y = affine_map<(m, n, k) -> (m, n)>
func.func @transposed_activation(%x: tensor<8x3xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<0.5> : tensor<8x2xf32>
  // expected-warning @+1 {{method=gptq does not apply to this weight (the product does not reduce over the last dimension of its input, which calibration statistics describe); quantized with RTN}}
  %y = linalg.matmul indexing_maps = [#xt, #w, #y] ins(%x, %w : tensor<8x3xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
