// FP8 x FP8 products (W8A8 with E4M3 / E5M2 codes) on the 8-bit GEMM:
// mma.sync.m16n8k32 with f32 accumulators, which needs FP8 tensor cores on
// every target chip and PTX 8.4. sm_89 runs it natively (QMMA); sm_90a has
// no FP8 mma.sync in hardware and runs it as f16 HMMA (Hopper's FP8 rate
// needs wgmma); a chip list with sm_80 keeps the products on the host.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_89 format=isa host=0 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_89.ptx
// PTX: .version 8.4
// PTX-LABEL: .entry qopt_gemm_e4m3_f16_m256n512k512_sxr_swr
// PTX: cp.async.cg.shared.global
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, {%r{{[0-9]+}}, %r{{[0-9]+}}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}};
// PTX-NOT: cvt.rn.f32.s32
// PTX-LABEL: .entry qopt_gemm_e5m2e4m3_bf16_m128n128k256_sxt_swt
// PTX: mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e4m3.f32

// ptxas for both FP8 chips; the machine code is native QMMA on sm_89
// without spills, HMMA on sm_90a.
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_89,sm_90a format=fatbin host=0 kernels-dir=%t/fat" -o /dev/null
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/fat/qopt_kernels.sm_89.fatbin | FileCheck %s --check-prefix=SASS %}
// RUN: %if cuobjdump %{ %cuobjdump -res-usage -arch sm_89 %t/fat/qopt_kernels.sm_89.fatbin | tee %t/resources.txt | FileCheck %s --check-prefix=RES %}
// SASS-DAG: arch = sm_89
// SASS-DAG: QMMA.16832.F32.E4M3.E4M3
// SASS-DAG: QMMA.16832.F32.E5M2.E4M3
// SASS-DAG: arch = sm_90a
// SASS-DAG: HMMA.16816.F32
// RES-NOT: arch = sm_90a
// RES-COUNT-2: REG:{{[0-9]+}} STACK:0 SHARED:{{[0-9]+}} LOCAL:0
// RES-NOT: REG:

// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80,sm_90a format=isa host=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SM80
// SM80-COUNT-2: warning: qopt.matmul runs on the host: no GPU kernel for FP8 x FP8 on a chip without FP8 tensor cores (sm_89 and sm_90a have them; every target chip must)

func.func @fp8(%x: tensor<256x512xf8E4M3FN>, %w: tensor<512x512xf8E4M3FN>, %sw: tensor<512x1xf32>,
               %sx: tensor<256x1xf32>) -> tensor<256x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x512xf8E4M3FN>, tensor<512x512xf8E4M3FN>, tensor<512x1xf32>, tensor<256x1xf32>) -> tensor<256x512xf16>
  return %y : tensor<256x512xf16>
}

func.func @fp8_mixed(%x: tensor<128x256xf8E5M2>, %w: tensor<128x256xf8E4M3FN>, %sw: tensor<f32>,
                     %sx: tensor<f32>) -> tensor<128x128xbf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<128x256xf8E5M2>, tensor<128x256xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<128x128xbf16>
  return %y : tensor<128x128xbf16>
}
