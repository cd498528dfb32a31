// Asymmetric activations on the 8-bit GEMM: ui8 codes with a zero point
// (PyTorch's default static activation scheme) through u8 x s8 products,
// i8 codes with a zero point through s8 x s8 (wgmma on sm_90a where the
// shape tiles, as by default, mma.sync elsewhere); the epilogue subtracts
// zx[m] * sum_k W[n, k] from the exact i32 sums, with the weight's row sums
// folded at compile time (a constant kept on the device, like the weight).
// Weights that are not constants keep the product on the host.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s --convert-qopt-matmul-to-gpu 2>&1 | FileCheck %s --check-prefix=CALL
// CALL: warning: qopt.matmul runs on the host: no GPU kernel for asymmetric activations with weights that are not dense constants (their row sums are folded at compile time)
// CALL-LABEL: func.func @per_row_ui8
// CALL: %[[SUMS:.*]] = arith.constant dense<1536> : tensor<256xi32>
// CALL: call @qopt_gemm_u8s8z_f16_m256n256k512_sxr_swr_wg128s6_tma_p_launch_c1_c3_c5(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SUMS]])
// CALL-LABEL: func.func @per_tensor_i8
// CALL: %[[SUMS2:.*]] = arith.constant dense<-512> : tensor<128xi32>
// CALL: call @qopt_gemm_s8z_f32_m128n128k256_sxt_swt_wg128s6_tma_p_launch_c1_c3_c5(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SUMS2]])
// A constant zero point is resident too, and the row sums of a non-splat
// weight (Inputs/asym_weight.py: rows of 2 and of -2 alternating, K = 64:
// 128, -128, ...).
// RUN: %python %S/Inputs/asym_weight.py > %t.const.mlir
// RUN: quant-opt %t.const.mlir --convert-qopt-matmul-to-gpu --mlir-print-elementsattrs-with-hex-if-larger=100000 | FileCheck %s --check-prefix=CONST
// CONST-LABEL: func.func @constant_zero_point
// CONST-DAG: %[[Z:.*]] = arith.constant dense<7> : tensor<ui8>
// CONST-DAG: %[[S:.*]] = arith.constant dense<[128, -128, 128, -128, {{.*}}]> : tensor<128xi32>
// CONST: call @qopt_gemm_u8s8z_f32_m128n128k64_sxt_swt_launch_c1_c3_c4_c5(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[Z]], %[[S]])
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa chip=sm_80 host=0 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_80.ptx
// PTX-LABEL: .entry qopt_gemm_u8s8z_f16_m256n256k512_sxr_swr
// PTX: mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32
// PTX: ld.global.nc.v2.b32
// PTX: ld.global.nc.b8
// PTX: mul.lo.s32
// PTX: sub.s32
// PTX: cvt.rn.f32.s32
// PTX-LABEL: .entry qopt_gemm_s8z_f32_m128n128k256_sxt_swt
// PTX-DAG: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// PTX-DAG: ld.global.nc.s8
// PTX-DAG: mul.lo.s32
// PTX-DAG: sub.s32
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80,sm_90a format=fatbin host=0 kernels-dir=%t/fat" -o /dev/null
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/fat/qopt_kernels.sm_80.fatbin | FileCheck %s --check-prefix=SASS %}
// RUN: %if cuobjdump %{ %cuobjdump -res-usage %t/fat/qopt_kernels.sm_80.fatbin | FileCheck %s --check-prefix=RES %}
// SASS-DAG: IMMA.16832.U8.S8
// SASS-DAG: IMMA.16832.S8.S8
// RES-COUNT-4: REG:{{[0-9]+}} STACK:0 SHARED:{{[0-9]+}} LOCAL:0

func.func @per_row_ui8(%x: tensor<256x512xui8>, %sx: tensor<256x1xf32>, %zx: tensor<256x1xui8>) -> tensor<256x256xf16> {
  %w = arith.constant dense<3> : tensor<256x512xi8>
  %sw = arith.constant dense<0.01> : tensor<256x1xf32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {acc_type = f32}
      : (tensor<256x512xui8>, tensor<256x512xi8>, tensor<256x1xf32>, tensor<256x1xf32>, tensor<256x1xui8>) -> tensor<256x256xf16>
  return %y : tensor<256x256xf16>
}

func.func @per_tensor_i8(%x: tensor<128x256xi8>, %sx: tensor<f32>, %zx: tensor<i8>) -> tensor<128x128xf32> {
  %w = arith.constant dense<-2> : tensor<128x256xi8>
  %sw = arith.constant dense<0.01> : tensor<f32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {acc_type = f32}
      : (tensor<128x256xi8>, tensor<128x256xi8>, tensor<f32>, tensor<f32>, tensor<i8>) -> tensor<128x128xf32>
  return %y : tensor<128x128xf32>
}

func.func @argument_weight(%x: tensor<128x256xui8>, %w: tensor<128x256xi8>, %sx: tensor<f32>, %zx: tensor<ui8>) -> tensor<128x128xf32> {
  %sw = arith.constant dense<0.01> : tensor<f32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {acc_type = f32}
      : (tensor<128x256xui8>, tensor<128x256xi8>, tensor<f32>, tensor<f32>, tensor<ui8>) -> tensor<128x128xf32>
  return %y : tensor<128x128xf32>
}

