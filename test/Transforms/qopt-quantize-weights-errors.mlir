// RUN: quant-opt %s --qopt-quantize-weights="storage=i4 group-size=3" --verify-diagnostics | FileCheck %s
// RUN: not quant-opt %s --qopt-quantize-weights="method=gptq" 2>&1 | FileCheck %s --check-prefix=GPTQ
// RUN: not quant-opt %s --qopt-quantize-weights="storage=i16" 2>&1 | FileCheck %s --check-prefix=STORAGE
// RUN: not quant-opt %s --qopt-quantize-weights="skip=(" 2>&1 | FileCheck %s --check-prefix=REGEX

// GPTQ: error: qopt-quantize-weights: method=gptq needs calibration statistics
// STORAGE: error: qopt-quantize-weights: unsupported storage 'i16'
// An option error is one line at the module's location: the module (a
// model's weights, possibly gigabytes of text) is not printed after it.
// STORAGE-NOT: see current operation
// REGEX: error: qopt-quantize-weights: invalid skip regex '('

// K = 8 is not a multiple of 3: a warning, and the weight stays f32.
// CHECK: arith.constant dense<1.000000e+00> : tensor<8x2xf32>
func.func @bad_group(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<8x2xf32>
  // expected-warning @+1 {{weight 'tensor<8x2xf32>' left unquantized: K = 8 is not a multiple of group-size 3}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
