// Which 8-bit kernel a product gets by default on sm_90a: the GEMV for
// M <= 16 (int8-gemv), else the wgmma GEMM with TMA loads, persistent, at
// the tile width whose estimated time in waves of 132 blocks is shorter
// (256 columns cost 5 a column, 128 cost 6: MatmulToGPU's
// chooseWgmmaTiling); the six shapes below are those the H100 measured,
// each getting its faster width (docs/perf/gpu.md). On sm_80, the mma.sync
// GEMM.
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu | FileCheck %s
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu=chip=sm_80 | FileCheck %s --check-prefix=SM80
// sm_90a with older chips: both GEMMs, and the launch picks by the
// device's compute capability (the runtime's qoptComputeCapability: 90,
// the wgmma kernel of the sm_90a-only module; else mma.sync).
// (dispatch-sm90a: qopt-gpu-pipeline sets it for a fatbin of several
// chips; without it, such a list gets mma.sync alone: SM80.)
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu="chip=sm_80,sm_90a dispatch-sm90a=1" | FileCheck %s --check-prefix=DISPATCH
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu="chip=sm_80,sm_90a" | FileCheck %s --check-prefix=SM80

// 32 x 32 = 1024 tiles of 256 (8 waves: 8 x 256 x 5 = 10240) against 2048
// of 128 (16 waves: 12288).
// CHECK-LABEL: func.func @prefill
// CHECK: call @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr_wg256s4_tma_p_launch(
// SM80-LABEL: func.func @prefill
// SM80: call @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr_launch(
// DISPATCH: llvm.func @qoptComputeCapability() -> i64
// DISPATCH-LABEL: func.func @prefill
// DISPATCH: %[[CC:.*]] = llvm.call @qoptComputeCapability() : () -> i64
// DISPATCH: %[[C90:.*]] = arith.constant 90 : i64
// DISPATCH: %[[IS90:.*]] = arith.cmpi eq, %[[CC]], %[[C90]]
// DISPATCH: scf.if %[[IS90]]
// DISPATCH-NEXT: call @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr_wg256s4_tma_p_launch(
// DISPATCH: } else {
// DISPATCH-NEXT: call @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr_launch(
func.func @prefill(%x: tensor<4096x8192xi8>, %w: tensor<8192x8192xi8>, %sw: tensor<8192x1xf32>,
                   %sx: tensor<4096x1xf32>) -> tensor<4096x8192xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<4096x8192xi8>, tensor<8192x8192xi8>, tensor<8192x1xf32>, tensor<4096x1xf32>) -> tensor<4096x8192xf16>
  return %y : tensor<4096x8192xf16>
}

// 2 x 32 = 64 tiles of 256 or 128 of 128: one wave either way, 128 the
// shorter tile.
// CHECK-LABEL: func.func @short_wide
// CHECK: call @qopt_gemm_s8_f16_m256n8192k8192_sxr_swr_wg128s6_tma_p_launch(
func.func @short_wide(%x: tensor<256x8192xi8>, %w: tensor<8192x8192xi8>, %sw: tensor<8192x1xf32>,
                      %sx: tensor<256x1xf32>) -> tensor<256x8192xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x8192xi8>, tensor<8192x8192xi8>, tensor<8192x1xf32>, tensor<256x1xf32>) -> tensor<256x8192xf16>
  return %y : tensor<256x8192xf16>
}

// 8 x 16 = 128 tiles of 256: one wave (1280), against two of 128 (1536).
// CHECK-LABEL: func.func @partial_rows
// CHECK: call @qopt_gemm_s8_f16_m1000n4096k4096_sxr_swr_wg256s4_tma_p_launch(
func.func @partial_rows(%x: tensor<1000x4096xi8>, %w: tensor<4096x4096xi8>, %sw: tensor<4096x1xf32>,
                        %sx: tensor<1000x1xf32>) -> tensor<1000x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1000x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<1000x1xf32>) -> tensor<1000x4096xf16>
  return %y : tensor<1000x4096xf16>
}

// 12 x 16 = 192 tiles of 256: two waves (2560), the second 60 tiles; 384 of
// 128 fill three (2304).
// CHECK-LABEL: func.func @uneven_waves
// CHECK: call @qopt_gemm_s8_f16_m1500n4096k1152_sxr_swr_wg128s6_tma_p_launch(
func.func @uneven_waves(%x: tensor<1500x1152xi8>, %w: tensor<4096x1152xi8>, %sw: tensor<4096x1xf32>,
                        %sx: tensor<1500x1xf32>) -> tensor<1500x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1500x1152xi8>, tensor<4096x1152xi8>, tensor<4096x1xf32>, tensor<1500x1xf32>) -> tensor<1500x4096xf16>
  return %y : tensor<1500x4096xf16>
}

// 2 x 16 = 32 tiles of 256 or 64 of 128: one wave, 128. 32 x 16 = 512 of
// 256 (4 waves: 5120) against 1024 of 128 (8: 6144), 256.
// CHECK-LABEL: func.func @short_square
// CHECK: call @qopt_gemm_s8_f16_m256n4096k4096_sxr_swr_wg128s6_tma_p_launch(
// CHECK-LABEL: func.func @square
// CHECK: call @qopt_gemm_s8_f16_m4096n4096k4096_sxr_swr_wg256s4_tma_p_launch(
func.func @short_square(%x: tensor<256x4096xi8>, %w: tensor<4096x4096xi8>, %sw: tensor<4096x1xf32>,
                        %sx: tensor<256x1xf32>) -> tensor<256x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<256x1xf32>) -> tensor<256x4096xf16>
  return %y : tensor<256x4096xf16>
}
func.func @square(%x: tensor<4096x4096xi8>, %w: tensor<4096x4096xi8>, %sw: tensor<4096x1xf32>,
                  %sx: tensor<4096x1xf32>) -> tensor<4096x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<4096x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<4096x1xf32>) -> tensor<4096x4096xf16>
  return %y : tensor<4096x4096xf16>
}

// FP8 tiles are 128 columns at most; N = 384 is no multiple of 256.
// CHECK-LABEL: func.func @fp8
// CHECK: call @qopt_gemm_e4m3_f16_m4096n8192k8192_sxr_swr_wg128s6_tma_p_launch(
// CHECK-LABEL: func.func @narrow
// CHECK: call @qopt_gemm_s8_f32_m4096n384k256_sxt_swt_wg128s6_tma_p_launch(
func.func @fp8(%x: tensor<4096x8192xf8E4M3FN>, %w: tensor<8192x8192xf8E4M3FN>, %sw: tensor<8192x1xf32>,
               %sx: tensor<4096x1xf32>) -> tensor<4096x8192xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<4096x8192xf8E4M3FN>, tensor<8192x8192xf8E4M3FN>, tensor<8192x1xf32>, tensor<4096x1xf32>) -> tensor<4096x8192xf16>
  return %y : tensor<4096x8192xf16>
}
func.func @narrow(%x: tensor<4096x256xi8>, %w: tensor<384x256xi8>, %sw: tensor<f32>,
                  %sx: tensor<f32>) -> tensor<4096x384xf32> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<4096x256xi8>, tensor<384x256xi8>, tensor<f32>, tensor<f32>) -> tensor<4096x384xf32>
  return %y : tensor<4096x384xf32>
}

// Decode: the GEMV, on every chip.
// CHECK-LABEL: func.func @decode
// CHECK: call @qopt_gemv_s8_f16_m16n4096k4096_sxr_swr_sk8u2_launch(
// SM80-LABEL: func.func @decode
// SM80: call @qopt_gemv_s8_f16_m16n4096k4096_sxr_swr_sk8u2_launch(
// DISPATCH-LABEL: func.func @decode
// DISPATCH-NOT: scf.if
// DISPATCH: call @qopt_gemv_s8_f16_m16n4096k4096_sxr_swr_sk8u2_launch(
// DISPATCH: gpu.module @qopt_kernels {
// DISPATCH-NOT: gpu.func @qopt_gemm_{{[a-z0-9_]*}}_wg
// DISPATCH: gpu.module @qopt_kernels_sm90a {
// DISPATCH-NOT: gpu.func @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr(
// DISPATCH: gpu.func @qopt_gemm_s8_f16_m4096n8192k8192_sxr_swr_wg256s4_tma_p(
func.func @decode(%x: tensor<16x4096xi8>, %w: tensor<4096x4096xi8>, %sw: tensor<4096x1xf32>,
                  %sx: tensor<16x1xf32>) -> tensor<16x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<16x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<16x1xf32>) -> tensor<16x4096xf16>
  return %y : tensor<16x4096xf16>
}
