// The 8-bit GEMV (int8-gemv, on by default): W8A8 and FP8 x FP8 products with M <= 16
// (decode) as mma.sync.m16n8k32 with the weight as operand A (16 rows a
// block, N / 16 blocks), the tokens as operand B, split-K across warps,
// 16-byte loads of both and no shuffle; checked here to the PTX, ptxas and
// SASS. With int8-gemv=0, the same products run on the GEMM.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/isa/kernels.json

// M = 1 (N = K = 4096): 64 K steps of 64 bytes, 8 warps, 2 steps' loads
// together; per step 16 bytes of two weight rows and of X a lane, two
// mma.sync; the warps' sums added in shared memory.
// PTX-LABEL: .entry qopt_gemv_s8_f16_m1n4096k4096_sxt_swr_sk8u2(
// PTX: ld.global.nc.v4.b32
// PTX: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// PTX: st.shared.v4.b32
// PTX: bar.sync 0;
// PTX: ld.shared.v4.b32
// PTX: cvt.rn.f32.s32
// PTX: st.global.b16
// PTX-NOT: shfl
// 12 tokens: two token tiles (0-7, 8-15), a row of W feeding both.
// PTX-LABEL: .entry qopt_gemv_s8_bf16_m12n11008k4096_sxr_swr_sk8u1(
// PTX-COUNT-4: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// ui8 activations with a zero point: s8 (W, operand A) x u8 (X, operand
// B), the weight's row sums. The
// weight is a constant: tiled at compile time as for the weight-only GEMV
// ([N/16][K/64][16][64 bytes], test/Conversion/QOptToGPU/tiled-weights.test)
// and streamed past L1 (_sk8u4s_tw).
// PTX-LABEL: .entry qopt_gemv_u8s8z_f32_m4n1024k4096_sxr_swr_sk8u4s_tw(
// PTX: ld.global.nc.L1::no_allocate.L2::256B.v4.u32
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.s8.u8.s32
// PTX: mul.lo.s32
// PTX: sub.s32
// FP8 x FP8: f32 sums.
// PTX-LABEL: .entry qopt_gemv_e4m3_f16_m2n4096k4096_sxt_swt_sk8u2(
// PTX: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32

// MANIFEST: "block": [
// MANIFEST-NEXT: 256,
// MANIFEST: "function": "decode",
// MANIFEST-NEXT: "grid": [
// MANIFEST-NEXT: 256,

// RUN: %ptxas -arch=sm_90a -v %t/isa/qopt_kernels.sm_90a.ptx -o %t/k.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS
// PTXAS-COUNT-4: 0 bytes spill stores, 0 bytes spill loads
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/k.cubin | FileCheck %s --check-prefix=SASS %}
// SASS-DAG: IMMA.16832.S8.S8
// SASS-DAG: IMMA.16832.S8.U8
// SASS-DAG: LDG.E.128.CONSTANT

// weight-layout=rows: never tiled.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 int8-gemv=1 weight-layout=rows kernels-dir=%t/rows" -o /dev/null
// RUN: FileCheck %s --check-prefix=ROWS < %t/rows/qopt_kernels.sm_90a.ptx
// ROWS: .entry qopt_gemv_u8s8z_f32_m4n1024k4096_sxr_swr_sk8u4(
// ROWS-NOT: no_allocate

// weight-layout=tiles: the caller's weights are tiles, which only the GEMV
// reads; with int8-gemv=0 that is an error, not a silent row read.
// RUN: not quant-opt %s --qopt-gpu-pipeline="format=isa host=0 int8-gemv=0 wgmma=0 weight-layout=tiles" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILES
// TILES: error: weight-layout=tiles: the weight operand is in tiles, but no kernel that reads tiles computes the product (qopt_gemm_s8_f16_m1n4096k4096_sxt_swr reads rows)

// With int8-gemv=0: the GEMM's 128-row tiles (on mma.sync with wgmma=0).
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 int8-gemv=0 wgmma=0 kernels-dir=%t/gemm" -o /dev/null
// RUN: FileCheck %s --check-prefix=GEMM < %t/gemm/qopt_kernels.sm_90a.ptx
// GEMM: .entry qopt_gemm_s8_f16_m1n4096k4096_sxt_swr(

func.func @decode(%x: tensor<1x4096xi8>, %w: tensor<4096x4096xi8>, %sw: tensor<4096x1xf32>,
                  %sx: tensor<1x1xf32>) -> tensor<1x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1x4096xi8>, tensor<4096x4096xi8>, tensor<4096x1xf32>, tensor<1x1xf32>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

func.func @batch(%x: tensor<12x4096xi8>, %w: tensor<11008x4096xi8>, %sw: tensor<11008x1xf32>,
                 %sx: tensor<12x1xf32>) -> tensor<12x11008xbf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<12x4096xi8>, tensor<11008x4096xi8>, tensor<11008x1xf32>, tensor<12x1xf32>) -> tensor<12x11008xbf16>
  return %y : tensor<12x11008xbf16>
}

func.func @asymmetric(%x: tensor<4x4096xui8>, %sx: tensor<4x1xf32>, %zx: tensor<4x1xui8>) -> tensor<4x1024xf32> {
  %w = arith.constant dense<3> : tensor<1024x4096xi8>
  %sw = arith.constant dense<0.01> : tensor<1024x1xf32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {acc_type = f32}
      : (tensor<4x4096xui8>, tensor<1024x4096xi8>, tensor<1024x1xf32>, tensor<4x1xf32>, tensor<4x1xui8>) -> tensor<4x1024xf32>
  return %y : tensor<4x1024xf32>
}

func.func @fp8(%x: tensor<2x4096xf8E4M3FN>, %w: tensor<4096x4096xf8E4M3FN>, %sw: tensor<f32>,
               %sx: tensor<f32>) -> tensor<2x4096xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<2x4096xf8E4M3FN>, tensor<4096x4096xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<2x4096xf16>
  return %y : tensor<2x4096xf16>
}
