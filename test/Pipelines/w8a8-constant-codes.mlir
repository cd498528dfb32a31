// W8A8 activation codes that are a splat constant (ui8) lower through the
// CPU pipeline: the vector loops' conversion of X to f32 reads the codes in
// its body, where linalg's folding of a splat input would have made an
// invalid unsigned arith.constant. Run, the product is exact: 64 codes of
// (7 - 3) times weights of 1, scales 1.
// RUN: quant-opt %s --qopt-cpu-pipeline | FileCheck %s
// RUN: %python -c "import numpy as np; np.save('%t.w.npy', np.ones((8, 64), np.int8)); np.save('%t.s.npy', np.ones((8, 2), np.float32)); np.save('%t.sx.npy', np.ones((), np.float32))"
// RUN: quant-run %s --input %t.w.npy --input %t.s.npy --input %t.sx.npy | FileCheck %s --check-prefix=VALUES
// CHECK: llvm.func @main
// CHECK: llvm.intr.fmuladd
// VALUES: result0: tensor<4x8xf32> = {{\[\[}}256, 256, 256, 256, 256, 256, 256, 256],
func.func @main(%w: tensor<8x64xi8>, %s: tensor<8x2xf32>, %sx: tensor<f32>) -> tensor<4x8xf32> {
  %x = arith.constant dense<7> : tensor<4x64xui8>
  %zx = arith.constant dense<3> : tensor<ui8>
  %y = qopt.matmul %x, %w, %s input_scale(%sx, %zx) {acc_type = f32} : (tensor<4x64xui8>, tensor<8x64xi8>, tensor<8x2xf32>, tensor<f32>, tensor<ui8>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
