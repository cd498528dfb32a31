// qopt-gpu-pipeline's kernels, checked without a GPU: the PTX, ptxas for
// every supported chip, and the SASS (registers, spills, tensor-core and
// conversion instructions).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t

// The assembly (format=isa): 16-byte weight loads, dequantization by LOP3 and f16x2
// arithmetic, mma.sync m16n8k16 with f32 accumulators, and no conversion
// from integer to float anywhere in the kernels.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=NOCVT < %t/isa/qopt_kernels.sm_90a.ptx
// PTX: .target sm_90a
// PTX-LABEL: .entry qopt_gemv_i4_f16_f16_m1n4096k4096
// PTX: ld.global.v4.b32
// PTX: lop3.b32 {{.*}}, 0x6a;
// PTX: fma.rn.f16x2
// PTX: add.rn.f16x2
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX: bar.sync
// PTX-LABEL: .entry qopt_gemv_i4_bf16_bf16_m16n4096k4096
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: .entry qopt_gemv_i8_f16_f32_m4n4096k4096
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// NOCVT-NOT: cvt.{{[a-z.]*}}{{f16|bf16|f32}}.{{s|u}}{{8|16|32|64}}

// ptxas assembles every kernel for each chip.
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80 format=bin host=0 kernels-dir=%t/sm_80" -o /dev/null
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_89 format=bin host=0 kernels-dir=%t/sm_89" -o /dev/null
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_90a format=fatbin host=0 kernels-dir=%t/sm_90a" -o /dev/null
// RUN: ls %t/sm_80 %t/sm_89 %t/sm_90a | FileCheck %s --check-prefix=FILES
// FILES: qopt_kernels.sm_80.cubin
// FILES: qopt_kernels.sm_89.cubin
// FILES: qopt_kernels.sm_90a.fatbin

// Machine code (cuobjdump): tensor-core HMMA, no I2F conversions, no local
// memory (spills).
// The resource lines (registers per kernel) are printed for the log.
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/sm_90a/qopt_kernels.sm_90a.fatbin | FileCheck %s --check-prefix=SASS %}
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/sm_80/qopt_kernels.sm_80.cubin | FileCheck %s --check-prefix=SASS %}
// RUN: %if cuobjdump %{ %cuobjdump -res-usage %t/sm_90a/qopt_kernels.sm_90a.fatbin | tee %t/resources.txt | FileCheck %s --check-prefix=RES %}
// SASS-NOT: I2F
// SASS: HMMA.16816.F32
// SASS-NOT: I2F
// SASS: HMMA.16816.F32.BF16
// SASS-NOT: I2F
// RES-COUNT-3: REG:{{[0-9]+}} STACK:0 SHARED:{{[0-9]+}} LOCAL:0

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
