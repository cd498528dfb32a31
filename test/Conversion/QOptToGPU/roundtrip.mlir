// What convert-qopt-matmul-to-gpu prints parses again (dumping the IR
// between passes, -mlir-print-ir-after, works): the cp.async pipelines of
// the W8A8 GEMM and of the tiled weight-only GEMM commit their groups,
// empty ones included, as NVVM ops (an nvgpu.device_async_create_group of
// no tokens prints in a form its parser rejects). The W8A8 GEMM on
// mma.sync (wgmma=0: on sm_90a it runs on wgmma with TMA by default), and
// the default kernels as well (prefix RT; they parse as printed).
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu=wgmma=0 2>/dev/null | quant-opt | FileCheck %s
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu 2>/dev/null | quant-opt | FileCheck %s --check-prefix=RT
// RT: gpu.func @qopt_gemm_s8_f16_m128n128k128_sxt_swr_wg128s6_tma_p(
// RT: nvvm.mbarrier.init
// Run again on its own output (the f32 product left on the host), the pass
// takes its kernels' module as it is.
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu 2>/dev/null | quant-opt --convert-qopt-matmul-to-gpu 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: warning: qopt.matmul runs on the host: no GPU kernel for f32 activations
// TWICE-COUNT-1: gpu.module @qopt_kernels
// TWICE-NOT: error
// CHECK-LABEL: gpu.func @qopt_gemm_s8
// CHECK:         nvvm.cp.async.commit.group
// CHECK:         nvvm.cp.async.wait.group 1
// CHECK-LABEL: gpu.func @qopt_wgemm
// CHECK:         nvvm.cp.async.commit.group
// CHECK:         nvvm.cp.async.wait.group
func.func @w8a8(%x: tensor<128x128xi8>, %w: tensor<128x128xi8>, %s: tensor<128x1xf32>, %sx: tensor<f32>) -> tensor<128x128xf16> {
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<128x128xi8>, tensor<128x128xi8>, tensor<128x1xf32>, tensor<f32>) -> tensor<128x128xf16>
  return %y : tensor<128x128xf16>
}
func.func @prefill(%x: tensor<256x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<256x256xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<256x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<256x256xf16>
  return %y : tensor<256x256xf16>
}
func.func @host(%x: tensor<4x512xf32>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<4x256xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<4x512xf32>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<4x256xf32>
  return %y : tensor<4x256xf32>
}
