// A strided slice returned from a function bufferizes to memref.copy of a
// strided view, which lowers to a call of memrefCopy from
// mlir_c_runner_utils: the runner must resolve it (it hands the JIT that
// one symbol rather than loading the library globally).
// RUN: quant-run %s --input %S/Inputs/arange-4x6.npy | FileCheck %s
// RUN: quant-opt %s --qopt-cpu-pipeline | FileCheck %s --check-prefix=LOWERED
// CHECK: result0: tensor<4x3xf32> = {{\[}}[0, 2, 4], [6, 8, 10], [12, 14, 16], [18, 20, 22]]
// LOWERED: llvm.call @memrefCopy
func.func @main(%x: tensor<4x6xf32>) -> tensor<4x3xf32> {
  %s = tensor.extract_slice %x[0, 0] [4, 3] [1, 2] : tensor<4x6xf32> to tensor<4x3xf32>
  return %s : tensor<4x3xf32>
}
