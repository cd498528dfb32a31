// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 8, "min": -2.54, "max": 1.0}}}' > %t.json
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json" 2>/dev/null | FileCheck %s
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WARN
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.json calibrator=entropy" 2>&1 | FileCheck %s --check-prefix=NOHIST
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.json calibrator=median" 2>&1 | FileCheck %s --check-prefix=BAD

// max |x| = 2.54 gives s = 2.54 / 127 = 0.02 for narrow-range INT8.
// CHECK-LABEL: func @main
// CHECK: %[[SX:.*]] = arith.constant dense<2.000000e-02> : tensor<f32>
// CHECK: %[[XQ:.*]] = qopt.quantize %{{.*}}, %[[SX]] {narrow_range} : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xi8>
// CHECK: qopt.matmul %[[XQ]], %{{.*}}, %{{.*}} input_scale(%[[SX]]) {acc_type = f32} : (tensor<2x8xi8>, tensor<4x8xi8>, tensor<4x1xf32>, tensor<f32>) -> tensor<2x4xf32>
// NOHIST: error: {{.*}}calibration statistics of 'fc.input' lack what calibrator=entropy needs (a histogram)
// BAD: error: qopt-apply-calibration: unknown calibrator 'median'
// WARN: warning: {{.*}}no calibration statistics for this product's input ('other.input'): left with float activations
func.func @main(%x: tensor<2x8xf32>, %x2: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4x1xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<2x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x4xf32> loc("fc")
  %y2 = qopt.matmul %x2, %w, %s {acc_type = f32} : (tensor<2x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x4xf32> loc("other")
  return %y, %y2 : tensor<2x4xf32>, tensor<2x4xf32>
}
