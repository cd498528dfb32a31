// The loops qopt-cpu-pipeline emits for qopt.matmul with packed INT4 codes
// are SIMD code: 16 packed bytes a load, widened to i32 and split into
// nibbles with vector shifts, converted in registers, multiply-added into
// vector sums that carry across the scale groups and are reduced once.
// RUN: quant-opt %s --qopt-cpu-pipeline | mlir-translate --mlir-to-llvmir | opt -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 -S | FileCheck %s

// CHECK-LABEL: define void @main(
// CHECK: load <16 x i8>
// CHECK: sext <16 x i8> %{{.*}} to <16 x i32>
// CHECK: shl <16 x i32> %{{.*}}, splat (i32 28)
// CHECK: ashr <16 x i32> %{{.*}}, splat (i32 4)
// CHECK: sitofp <16 x i32> %{{.*}} to <16 x float>
// CHECK: call <16 x float> @llvm.fmuladd.v16f32(
// CHECK: call reassoc contract float @llvm.vector.reduce.fadd.v16f32(
func.func @main(%x: tensor<1x512xf32>, %w: tensor<64x256xi8>, %s: tensor<64x4xf32>) -> tensor<1x64xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<1x512xf32>, tensor<64x256xi8>, tensor<64x4xf32>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}
