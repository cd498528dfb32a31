// qopt-gpu-pipeline end to end on a two-layer MLP: kernels serialized into
// a gpu.binary, the host code between them lowered for the CPU, launches
// through the mgpu* runtime, and the launch manifest of
// qopt-export-gpu-kernels.
// REQUIRES: ptxas
// RUN: rm -rf %t
// RUN: quant-opt %s --qopt-gpu-pipeline="format=bin kernels-dir=%t" | FileCheck %s
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/kernels.json

// CHECK-LABEL: llvm.func @mlp(
// CHECK: llvm.call @qopt_gemv_i4_f16_f16_m2n1024k512_s1x128_sk{{[0-9]+}}st1_launch(
// CHECK: llvm.fadd
// CHECK: llvm.call @qopt_gemv_i4_f16_f16_m2n512k1024_s1x128_sk{{[0-9]+}}st1_launch(
// CHECK-LABEL: llvm.func @_mlir_ciface_mlp(
// CHECK-LABEL: llvm.func @qopt_gemv_i4_f16_f16_m2n1024k512
// CHECK: %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: llvm.call @mgpuMemAlloc
// CHECK: llvm.call @mgpuMemcpy
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @qopt_kernels::@qopt_gemv_i4_f16_f16_m2n1024k512_s1x128_sk{{[0-9]+}}st1 blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) : i64 args(%{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr, %{{.*}} : !llvm.ptr)
// CHECK: llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK: llvm.call @mgpuStreamDestroy(%[[STREAM]])
// CHECK: llvm.call @mgpuMemcpy
// CHECK: llvm.call @mgpuMemFree
// CHECK: gpu.binary @qopt_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx84">, properties = {{.*}}, bin = "

// MANIFEST: "binaries": [
// MANIFEST: "file": "qopt_kernels.sm_90a.cubin"
// MANIFEST: "launches": [
// MANIFEST: "block": [
// MANIFEST: "function": "mlp",
// MANIFEST: "grid": [
// MANIFEST-NEXT: 64,
// MANIFEST: "kernel": "qopt_gemv_i4_f16_f16_m2n1024k512_s1x128_sk{{[0-9]+}}st1",
// MANIFEST: "location": "layer0"
// MANIFEST: "kernel": "qopt_gemv_i4_f16_f16_m2n512k1024_s1x128_sk{{[0-9]+}}st1",
// MANIFEST: "location": "layer1"

func.func @mlp(%x: tensor<2x512xf16>, %w0: tensor<1024x256xi8>, %s0: tensor<1024x4xf32>,
               %b0: tensor<2x1024xf16>, %w1: tensor<512x512xi8>, %s1: tensor<512x8xf32>)
    -> tensor<2x512xf16> {
  %h = qopt.matmul %x, %w0, %s0 {acc_type = f32, packed = i4}
      : (tensor<2x512xf16>, tensor<1024x256xi8>, tensor<1024x4xf32>) -> tensor<2x1024xf16> loc("layer0")
  %hb = arith.addf %h, %b0 : tensor<2x1024xf16>
  %y = qopt.matmul %hb, %w1, %s1 {acc_type = f32, packed = i4}
      : (tensor<2x1024xf16>, tensor<512x512xi8>, tensor<512x8xf32>) -> tensor<2x512xf16> loc("layer1")
  return %y : tensor<2x512xf16>
}
