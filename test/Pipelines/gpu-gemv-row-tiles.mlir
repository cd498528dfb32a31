// The GEMV with several 16-row tiles of W per warp (row-tiles=R): each X
// fragment feeds R tiles' mma.sync, the block covers 16 R rows. Checked
// without a GPU: the kernels' names, the grid, the mma.sync count per K
// step, ptxas for sm_80 and sm_90a, and the refusal of an
// N that R 16-row tiles do not divide. bench/gpu sweeps it on a device.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s --split-input-file --qopt-gpu-pipeline="format=isa host=0 row-tiles=2 kernels-dir=%t/isa" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIAG
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_90a.ptx
// RUN: quant-opt %s --split-input-file --qopt-gpu-pipeline="format=bin chip=sm_80,sm_90a host=0 row-tiles=2 kernels-dir=%t/bin" -o /dev/null 2>&1
// RUN: quant-opt %s --split-input-file --convert-qopt-matmul-to-gpu="row-tiles=2" 2>&1 | FileCheck %s
// RUN: not quant-opt %s --split-input-file --convert-qopt-matmul-to-gpu="row-tiles=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: row-tiles must be at least 1

// INT4, M = 16 (two 8-row tiles of X): 2 row tiles x 2 X tiles x 2 mma a
// word x 4 words = 32 mma.sync a K step; N = 256 in 8 blocks of 32 rows.
// CHECK-LABEL: func.func @int4_m16
// CHECK: call @qopt_gemv_i4_f16_f16_m16n256k512_s1x128_sk{{[0-9]+}}st1r2_launch(
// CHECK: grid = array<i64: 8, 1, 1>
// PTX-LABEL: .entry qopt_gemv_i4_f16_f16_m16n256k512_s1x128_sk{{[0-9]+}}st1r2(
// PTX-COUNT-32: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-NOT: mma.sync
// PTX: bar.sync
func.func @int4_m16(%x: tensor<16x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<16x256xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<16x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<16x256xf16>
  return %y : tensor<16x256xf16>
}

// -----

// N = 48 is three 16-row tiles: not a multiple of two.
// DIAG: warning: qopt.matmul runs on the host: no GPU kernel for 2 row tiles a warp (N = 48 must be a multiple of 16 times them)
func.func @int4_n48(%x: tensor<1x512xf16>, %w: tensor<48x256xi8>, %s: tensor<48x4xf32>) -> tensor<1x48xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<48x256xi8>, tensor<48x4xf32>) -> tensor<1x48xf16>
  return %y : tensor<1x48xf16>
}
