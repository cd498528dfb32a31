// RUN: echo '{"format": "quant-opt-calibration", "version": 1, "observers": {"fc.input": {"calls": 1, "channels": 2, "rows": 1, "channel_absmax": [16.0, 1.0]}}}' > %t.json
// RUN: quant-opt %s --qopt-smooth-quant="calibration=%t.json" | FileCheck %s
// RUN: not quant-opt %s --qopt-smooth-quant 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not quant-opt %s --qopt-smooth-quant="alpha=2 calibration=%t.json" 2>&1 | FileCheck %s --check-prefix=ALPHA
// RUN: echo '{"format": "quant-opt-calibration", "version": 2, "observers": {}}' > %t.v2.json
// RUN: not quant-opt %s --qopt-smooth-quant="calibration=%t.v2.json" 2>&1 | FileCheck %s --check-prefix=VERSION

// max|X| = [16, 1], max|W| over output channels = [1, 4]: with alpha 0.5,
// s = [sqrt(16)/sqrt(1), sqrt(1)/sqrt(4)] = [4, 0.5]. The weight's input
// channels are multiplied by s, the activation by 1/s = [0.25, 2].
// CHECK-LABEL: func @main
// CHECK-DAG: arith.constant dense<{{\[\[}}4.000000e+00, -2.000000e+00], [5.000000e-01, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: arith.constant dense<[2.500000e-01, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[XS:.*]] = linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.matmul ins(%[[XS]], %{{.*}} : tensor<3x2xf32>, tensor<2x2xf32>)
// NOFILE: error: a calibration file is required (calibration=FILE)
// ALPHA: error: qopt-smooth-quant: alpha must be in [0, 1], not 2
// VERSION: has version 2; this quant-opt reads version 1
func.func @main(%x: tensor<3x2xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -0.5], [1.0, 4.0]]> : tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32> loc("fc")
  return %y : tensor<3x2xf32>
}
