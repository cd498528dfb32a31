// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 8, "min": -2.54, "max": 1.0}}}' > %t.json
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json" 2>/dev/null | FileCheck %s
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=WARN
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.json calibrator=entropy" 2>&1 | FileCheck %s --check-prefix=NOHIST
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.json calibrator=median" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json storage=ui8" 2>/dev/null | FileCheck %s --check-prefix=UI8
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.json storage=f8E4M3FN" 2>&1 | FileCheck %s --check-prefix=PAIR
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.json storage=i16" 2>&1 | FileCheck %s --check-prefix=BADSTORAGE
// Inconsistent statistics are refused, not turned into a scale: min > max,
// no values counted, a histogram of nothing.
// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 8, "min": 5.0, "max": -5.0}}}' > %t.swapped.json
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.swapped.json" 2>&1 | FileCheck %s --check-prefix=INCONSISTENT
// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 0, "min": -1.0, "max": 1.0}}}' > %t.empty.json
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.empty.json" 2>&1 | FileCheck %s --check-prefix=INCONSISTENT
// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 8, "min": -1.0, "max": 1.0, "histogram": {"bins": 1, "range": 1.0, "max_abs": 1.0, "total": 0, "non_finite": 0, "counts": [0]}}}}' > %t.nohist.json
// RUN: not quant-opt %s --qopt-apply-calibration="calibration=%t.nohist.json calibrator=percentile" 2>&1 | FileCheck %s --check-prefix=INCONSISTENT
// A range too narrow for a normal scale gets the smallest normal f32.
// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "count": 8, "min": -1e-45, "max": 1e-45}}}' > %t.tiny.json
// RUN: quant-opt %s --qopt-apply-calibration="calibration=%t.tiny.json" 2>/dev/null | FileCheck %s --check-prefix=TINY
// TINY: arith.constant dense<1.17549435E-38> : tensor<f32>
// INCONSISTENT: error: {{.*}}calibration statistics of 'fc.input' lack what calibrator={{.*}} or are inconsistent

// max |x| = 2.54 gives s = 2.54 / 127 = 0.02 for narrow-range INT8.
// CHECK-LABEL: func @main
// CHECK: %[[SX:.*]] = arith.constant dense<2.000000e-02> : tensor<f32>
// CHECK: %[[XQ:.*]] = qopt.quantize %{{.*}}, %[[SX]] {narrow_range} : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xi8>
// CHECK: qopt.matmul %[[XQ]], %{{.*}}, %{{.*}} input_scale(%[[SX]]) {acc_type = f32} : (tensor<2x8xi8>, tensor<4x8xi8>, tensor<4x1xf32>, tensor<f32>) -> tensor<2x4xf32>
// [-2.54, 1.0] as ui8: s = 3.54 / 255 = 0.013882, z = round(2.54 / s) = 183.
// UI8: %[[SX:.*]] = arith.constant dense<0.0138823{{[0-9]*}}> : tensor<f32>
// UI8: %[[ZX:.*]] = arith.constant dense<183> : tensor<ui8>
// UI8: %[[XQ:.*]] = qopt.quantize %{{.*}}, %[[SX]], %[[ZX]] : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
// UI8: qopt.matmul %[[XQ]], %{{.*}}, %{{.*}} input_scale(%[[SX]], %[[ZX]]) {acc_type = f32} : (tensor<2x8xui8>, tensor<4x8xi8>, tensor<4x1xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x4xf32>
// PAIR: warning: {{.*}}storage=f8E4M3FN activations cannot pair with the 'i8' weight: left with float activations
// PAIR-NOT: input_scale
// BADSTORAGE: error: qopt-apply-calibration: unknown storage 'i16' (expected i8, ui8, f8E4M3FN or f8E5M2)
// NOHIST: error: {{.*}}calibration statistics of 'fc.input' lack what calibrator=entropy needs (a histogram)
// BAD: error: qopt-apply-calibration: unknown calibrator 'median'
// WARN: warning: {{.*}}no calibration statistics for this product's input ('other.input'): left with float activations
func.func @main(%x: tensor<2x8xf32>, %x2: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<4x1xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<2x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x4xf32> loc("fc")
  %y2 = qopt.matmul %x2, %w, %s {acc_type = f32} : (tensor<2x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x4xf32> loc("other")
  return %y, %y2 : tensor<2x4xf32>, tensor<2x4xf32>
}
