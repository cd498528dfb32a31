// The loops qopt-cpu-pipeline emits for qopt.matmul are ones LLVM's
// vectoriser turns into SIMD code: packed bytes are loaded as vectors,
// split into nibbles with vector shifts and converted in registers.
// RUN: quant-opt %s --qopt-cpu-pipeline | mlir-translate --mlir-to-llvmir | opt -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=x86-64-v3 -S | FileCheck %s

// CHECK-LABEL: define void @main(
// X is in split-nibble order, so the decode loop's X loads are plain
// vector loads (no strided shufflevector between them and the fmul).
// CHECK: load <[[W:[0-9]+]] x i8>
// CHECK: ashr <[[W]] x i8> %{{.*}}, splat (i8 4)
// CHECK: sitofp <[[W]] x i8> %{{.*}} to <[[W]] x float>
// CHECK: fmul reassoc contract <[[W]] x float> %[[XV:wide.load[0-9.]*]], %{{.*}}
func.func @main(%x: tensor<1x512xf32>, %w: tensor<64x256xi8>, %s: tensor<64x4xf32>) -> tensor<1x64xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<1x512xf32>, tensor<64x256xi8>, tensor<64x4xf32>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}
