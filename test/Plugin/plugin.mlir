// Upstream mlir-opt parses, verifies and transforms qopt IR through the
// plugin, without linking quant-opt.
// RUN: %mlir_opt --load-dialect-plugin=%plugin %s | FileCheck %s
// Plugin passes are parsed after the command line: name them in a pipeline.
// RUN: %mlir_opt --load-dialect-plugin=%plugin --load-pass-plugin=%plugin %s --pass-pipeline="builtin.module(func.func(convert-qopt-to-linalg))" | FileCheck %s --check-prefix=LOWER
// RUN: not %mlir_opt --load-dialect-plugin=%plugin %S/Inputs/invalid.mlir 2>&1 | FileCheck %s --check-prefix=INVALID

// CHECK: qopt.quantize %{{.*}}, %{{.*}} : (tensor<8x256xf32>, tensor<8x2xf32>) -> tensor<8x256xi4>
// CHECK: qopt.pack %{{.*}} : tensor<8x256xi4> -> tensor<8x128xi8>
// LOWER-NOT: qopt.
// LOWER: linalg.generic
func.func @quantize_and_pack(%w: tensor<8x256xf32>, %s: tensor<8x2xf32>) -> tensor<8x128xi8> {
  %q = qopt.quantize %w, %s : (tensor<8x256xf32>, tensor<8x2xf32>) -> tensor<8x256xi4>
  %p = qopt.pack %q : tensor<8x256xi4> -> tensor<8x128xi8>
  return %p : tensor<8x128xi8>
}

// INVALID: invalid.mlir:2:8: error: 'qopt.pack' op innermost dimension of the 4-bit tensor must be even, but is 3
