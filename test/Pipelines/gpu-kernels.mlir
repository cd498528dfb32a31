// qopt-gpu-pipeline's kernels, checked without a GPU: the PTX, ptxas for
// every supported chip, and the SASS (registers, spills, tensor-core and
// conversion instructions).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t

// The assembly (format=isa): 16-byte weight loads, dequantization by LOP3 and f16x2
// arithmetic, mma.sync m16n8k16 with f32 accumulators, and no conversion
// from integer to float anywhere in the kernels.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=0 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_90a.ptx
// PTX: .target sm_90a
// PTX-LABEL: .entry qopt_gemv_i4_f16_f16_m1n4096k4096
// PTX: ld.global.nc.v4.b32
// PTX: lop3.b32 {{.*}}, 0x6a;
// PTX: fma.rn.f16x2
// PTX: add.rn.f16x2
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX: bar.sync
// PTX-LABEL: .entry qopt_gemv_i4_bf16_bf16_m16n4096k4096
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry qopt_gemv_i8_f16_f32_m4n4096k4096
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-LABEL: .entry qopt_gemm_s8_f16_m256n512k512
// PTX: cp.async.cg.shared.global
// PTX: cp.async.wait_group 1;
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// PTX-LABEL: .entry qopt_gemm_i4_f16_f16_m64n512k512_s1x128_r32w2
// PTX-DAG: st.shared.v4.b32
// PTX-DAG: bar.sync
// PTX-DAG: ld.shared.v2.b32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-LABEL: .entry qopt_wgemm_i4_f16_f16_m256n512k512
// PTX-DAG: cp.async.cg.shared.global
// PTX-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-DAG: lop3.b32
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// Zero points (asymmetric codes), in every weight-only family: the
// dequantization subtracts MAGIC + offset + z, built from the zero point's
// bits (MAGIC's pattern plus offset added as an integer: 0x6400 = 25600 for
// f16, 0x4300 + 8 = 17160 for signed codes in bf16), per group and row, not
// per element.
// PTX-LABEL: .entry qopt_gemv_u4_f16_f16_m1n4096k4096_s1x128z
// PTX: add.s16 {{.*}}, 25600;
// PTX: sub.rn.f16x2
// PTX-LABEL: .entry qopt_gemv_u8_f16_f16_m4n4096k4096_s1x4096z
// PTX: add.s16 {{.*}}, 25600;
// PTX-LABEL: .entry qopt_gemm_u4_f16_f16_m64n512k512_s1x128z
// PTX: add.s16 {{.*}}, 25600;
// PTX-LABEL: .entry qopt_wgemm_i4_bf16_bf16_m256n512k512_s1x128z
// PTX: add.s16 {{.*}}, 17160;
// Scale groups smaller than a warp's K step (INT4: 32 and 64; here 64 in
// the GEMV and 32 in the X-tile GEMM): the dequantized pairs are scaled in
// f16 before mma.sync (one HMUL2 a pair), the scale converted once a step.
// PTX-LABEL: .entry qopt_gemv_i4_f16_f16_m1n4096k4096_s1x64_
// PTX: cvt.rn.f16.f32
// PTX: mul.rn.f16x2
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-LABEL: .entry qopt_gemm_u4_bf16_bf16_m32n512k512_s1x32z_
// PTX: cvt.rn.bf16.f32
// PTX: mul.rn.bf16x2
// PTX-LABEL: .entry qopt_gemv_i8_f16_f16_m2n4096k4096_s1x32_
// PTX: mul.rn.f16x2
// FP8 weights (weight-only, f16 activations): codes become f16 by moving
// bits (E4M3: sign kept, the rest shifted down by one; the factor 256 goes
// into the scale), no conversion instruction.
// PTX-LABEL: .entry qopt_gemv_e4m3_f16_f16_m1n4096k4096_s1x4096_
// PTX-DAG: and.b32 {{.*}}, -2147450880;
// PTX-DAG: shr.u32 {{.*}}, 1;
// PTX-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-DAG: mul.rn.f32 {{.*}}, 0f43800000;
// Weight-only kernels: no integer-to-float conversion at all. The INT8 GEMM
// converts its i32 sums once each, in the epilogue (after the K loop).
// RUN: sed -n '/.entry qopt_w\{0,1\}gem[mv]_[iue]/,/^}/p' %t/isa/qopt_kernels.sm_90a.ptx | FileCheck %s --check-prefix=NOCVT
// NOCVT: .entry qopt_gem
// NOCVT-NOT: cvt.{{[a-z.]*}}{{f16|bf16|f32}}.{{s|u}}{{8|16|32|64}}

// ptxas assembles every kernel for each chip (sm_90a with wgmma=0: the
// mma.sync kernels, whose SASS is checked below; the wgmma ones are
// checked in gpu-wgmma.mlir).
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80 format=bin host=0 kernels-dir=%t/sm_80" -o /dev/null
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_89 format=bin host=0 kernels-dir=%t/sm_89" -o /dev/null
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_90a format=fatbin host=0 wgmma=0 kernels-dir=%t/sm_90a" -o /dev/null
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80,sm_89,sm_90a format=fatbin host=0 kernels-dir=%t/all" -o /dev/null
// RUN: ls %t/sm_80 %t/sm_89 %t/sm_90a %t/all | FileCheck %s --check-prefix=FILES
// FILES-DAG: qopt_kernels.sm_80.cubin
// FILES-DAG: qopt_kernels.sm_89.cubin
// FILES-DAG: qopt_kernels.sm_90a.fatbin
// FILES-DAG: qopt_kernels.sm_80.fatbin

// One fatbin for the three chips: a cubin each, and sm_80's PTX for GPUs
// newer than all of them (qopt-bundle-gpu-binaries).
// RUN: %if cuobjdump %{ %cuobjdump -lelf -lptx %t/all/qopt_kernels.sm_80.fatbin | FileCheck %s --check-prefix=BUNDLE %}
// BUNDLE-DAG: ELF file {{.*}}sm_80.cubin
// BUNDLE-DAG: ELF file {{.*}}sm_89.cubin
// BUNDLE-DAG: ELF file {{.*}}sm_90a.cubin
// BUNDLE-DAG: PTX file {{.*}}sm_80.ptx

// Machine code (cuobjdump): tensor-core HMMA, no I2F conversions, no local
// memory (spills).
// The resource lines (registers per kernel) are printed for the log.
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/sm_90a/qopt_kernels.sm_90a.fatbin > %t/sass_90a.txt %}
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/sm_80/qopt_kernels.sm_80.cubin > %t/sass_80.txt %}
// RUN: %if cuobjdump %{ FileCheck %s --check-prefix=SASS < %t/sass_90a.txt %}
// RUN: %if cuobjdump %{ FileCheck %s --check-prefix=SASS < %t/sass_80.txt %}
// RUN: %if cuobjdump %{ awk '/Function : qopt_w?gem[mv]_[iue]/{p = 1} /Function : qopt_gemm_s8/{p = 0} p' %t/sass_90a.txt | FileCheck %s --check-prefix=NOI2F %}
// RUN: %if cuobjdump %{ %cuobjdump -res-usage %t/sm_90a/qopt_kernels.sm_90a.fatbin | tee %t/resources.txt | FileCheck %s --check-prefix=RES %}
// SASS-DAG: HMMA.16816.F32
// SASS-DAG: HMMA.16816.F32.BF16
// SASS-DAG: IMMA.16832.S8.S8
// NOI2F: Function : qopt_gem
// NOI2F-NOT: I2F
// RES-COUNT-14: REG:{{[0-9]+}} STACK:0 SHARED:{{[0-9]+}} LOCAL:0

func.func @decode(%x: tensor<1x4096xf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x32xf32>) -> tensor<1x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

func.func @decode_bf16(%x: tensor<16x4096xbf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x32xf32>) -> tensor<16x4096xbf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<16x4096xbf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<16x4096xbf16>
  return %y : tensor<16x4096xbf16>
}

func.func @decode_w8(%x: tensor<4x4096xf16>, %w: tensor<4096x4096xi8>, %s: tensor<4096x1xf32>) -> tensor<4x4096xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<4x4096xf16>, tensor<4096x4096xi8>, tensor<4096x1xf32>) -> tensor<4x4096xf32>
  return %y : tensor<4x4096xf32>
}

func.func @gemm_w8a8(%x: tensor<256x512xi8>, %w: tensor<512x512xi8>, %sw: tensor<512x1xf32>,
                     %sx: tensor<256x1xf32>) -> tensor<256x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x512xi8>, tensor<512x512xi8>, tensor<512x1xf32>, tensor<256x1xf32>) -> tensor<256x512xf16>
  return %y : tensor<256x512xf16>
}

func.func @prefill(%x: tensor<64x512xf16>, %w: tensor<512x256xi8>, %s: tensor<512x4xf32>) -> tensor<64x512xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<64x512xf16>, tensor<512x256xi8>, tensor<512x4xf32>) -> tensor<64x512xf16>
  return %y : tensor<64x512xf16>
}

func.func @prefill_tiled(%x: tensor<256x512xf16>, %w: tensor<512x256xi8>, %s: tensor<512x4xf32>) -> tensor<256x512xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<256x512xf16>, tensor<512x256xi8>, tensor<512x4xf32>) -> tensor<256x512xf16>
  return %y : tensor<256x512xf16>
}

// Asymmetric weights: constant zero points (folded to i32, resident).
func.func @decode_zp(%x: tensor<1x4096xf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x32xf32>) -> tensor<1x4096xf16> {
  %z = arith.constant dense<7> : tensor<4096x32xui4>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4}
      : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>, tensor<4096x32xui4>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

func.func @decode_w8_zp(%x: tensor<4x4096xf16>, %w: tensor<4096x4096xui8>, %s: tensor<4096x1xf32>) -> tensor<4x4096xf16> {
  %z = arith.constant dense<128> : tensor<4096x1xui8>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32}
      : (tensor<4x4096xf16>, tensor<4096x4096xui8>, tensor<4096x1xf32>, tensor<4096x1xui8>) -> tensor<4x4096xf16>
  return %y : tensor<4x4096xf16>
}

func.func @prefill_zp(%x: tensor<64x512xf16>, %w: tensor<512x256xi8>, %s: tensor<512x4xf32>) -> tensor<64x512xf16> {
  %z = arith.constant dense<8> : tensor<512x4xui4>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4}
      : (tensor<64x512xf16>, tensor<512x256xi8>, tensor<512x4xf32>, tensor<512x4xui4>) -> tensor<64x512xf16>
  return %y : tensor<64x512xf16>
}

func.func @prefill_tiled_zp(%x: tensor<256x512xbf16>, %w: tensor<512x256xi8>, %s: tensor<512x4xf32>) -> tensor<256x512xbf16> {
  %z = arith.constant dense<-2> : tensor<512x4xi4>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = i4}
      : (tensor<256x512xbf16>, tensor<512x256xi8>, tensor<512x4xf32>, tensor<512x4xi4>) -> tensor<256x512xbf16>
  return %y : tensor<256x512xbf16>
}

// Scale groups below the K step: scaled before the product.
func.func @decode_g64(%x: tensor<1x4096xf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x64xf32>) -> tensor<1x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x64xf32>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

func.func @prefill_g32_zp(%x: tensor<32x512xbf16>, %w: tensor<512x256xi8>, %s: tensor<512x16xf32>) -> tensor<32x512xbf16> {
  %z = arith.constant dense<9> : tensor<512x16xui4>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4}
      : (tensor<32x512xbf16>, tensor<512x256xi8>, tensor<512x16xf32>, tensor<512x16xui4>) -> tensor<32x512xbf16>
  return %y : tensor<32x512xbf16>
}

func.func @decode_w8_g32(%x: tensor<2x4096xf16>, %w: tensor<4096x4096xi8>, %s: tensor<4096x128xf32>) -> tensor<2x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<2x4096xf16>, tensor<4096x4096xi8>, tensor<4096x128xf32>) -> tensor<2x4096xf16>
  return %y : tensor<2x4096xf16>
}

func.func @decode_fp8(%x: tensor<1x4096xf16>, %w: tensor<4096x4096xf8E4M3FN>, %s: tensor<4096x1xf32>) -> tensor<1x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<1x4096xf16>, tensor<4096x4096xf8E4M3FN>, tensor<4096x1xf32>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}
