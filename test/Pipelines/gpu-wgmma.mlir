// The 8-bit GEMM on wgmma (sm_90a; wgmma, on by default): two warpgroups
// of wgmma.mma_async.m64nNk32 reading both operands from shared memory in
// the 128-byte swizzle, stages in dynamic shared memory, fenced to the
// async proxy before each step; checked here to the PTX, ptxas and SASS
// (IGMMA / QGMMA, no spills, no serialized wgmma). By default the stages
// are filled by TMA, the kernel is persistent and the tile width comes
// from a wave estimate (gpu-wgmma-choice.mlir); each
// variant is checked here with the options that pin it, first the cp.async
// kernel (wgmma-tma=0) at 256 columns.
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma-tma=0 wgmma-persistent=0 wgmma-tile-n=256 kernels-dir=%t/isa" -o /dev/null
// RUN: FileCheck %s --check-prefix=PTX < %t/isa/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/isa/kernels.json

// INT8: N = 512 tiles by 256, 4 stages of 128 × 384 bytes (+1 KiB to align).
// PTX-LABEL: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4(
// PTX: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16;
// PTX: cp.async.commit_group;
// PTX: cp.async.wait_group 1;
// PTX-NEXT: fence.proxy.async.shared::cta;
// PTX-NEXT: bar.sync 0;
// Step 0, peeled: its first wgmma computes D = A·B (scale-d false), the
// other three accumulate.
// PTX: wgmma.fence.sync.aligned;
// PTX: setp.ne.b32 p, 0, 0;
// PTX-NEXT: wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8
// PTX-COUNT-3: wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8
// PTX: wgmma.commit_group.sync.aligned;
// PTX: wgmma.wait_group.sync.aligned 1;
// The other steps chain on the accumulators.
// PTX: wgmma.fence.sync.aligned;
// PTX: setp.ne.b32 p, 1, 0;
// PTX-NEXT: wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8
// PTX: wgmma.wait_group.sync.aligned 0;
// PTX: cp.async.wait_group 0;
// PTX-NOT: mma.sync
// PTX: st.global.b32
// FP8 x FP8: tiles of at most 128 columns; each step starts afresh
// (scale-d false), retires (wait_group 0) and is added to f32 sums.
// PTX-LABEL: .entry qopt_gemm_e4m3_bf16_m128n256k256_sxt_swt_wg128s6(
// PTX: setp.ne.b32 p, 0, 0;
// PTX-NEXT: wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3
// PTX-COUNT-3: wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3
// PTX: wgmma.wait_group.sync.aligned 0;
// PTX: add.rn.f32
// ui8 activations with a zero point: u8 x s8.
// PTX-LABEL: .entry qopt_gemm_u8s8z_f16_m256n256k512_sxr_swt_wg256s4(
// PTX-COUNT-4: wgmma.mma_async.sync.aligned.m64n256k32.s32.u8.s8
// A model's shape (an MLP's up projection, N = 14336): 4 stages, no spills
// (PTXAS-COUNT below).
// PTX-LABEL: .entry qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4(
// M = 1000 (any number of tokens): 8 row tiles, the last one partial;
// its rows past M copied as zeros (source size 0) and not stored.
// PTX-LABEL: .entry qopt_gemm_s8_f16_m1000n512k512_sxr_swr_wg256s4(
// PTX-DAG: setp.lt.u64 {{.*}}, 1000;
// PTX-DAG: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, %r{{[0-9]+}};
// PTX: setp.gt.u64 [[ROW:%p[0-9]+]], {{.*}}, 999;
// PTX: @[[ROW]] bra
// PTX-NEXT: add.s64
// PTX: st.global.b32
// N = 384 does not tile by 256: the mma.sync kernel, with a remark.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma-tma=0 wgmma-persistent=0 wgmma-tile-n=256" -o /dev/null 2>&1 | FileCheck %s --check-prefix=KEEPS
// KEEPS: remark: wgmma: this product keeps mma.sync: no wgmma kernel for a 128 x 384 x 256 8-bit product (the wgmma kernel needs N a multiple of 256, K of 128)
// KEEPS-NOT: warning
// PTX-LABEL: .entry qopt_gemm_s8_f32_m128n384k256_sxt_swt(
// PTX: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32

// MANIFEST: "dynamic_shared_memory": 197632,
// MANIFEST-NEXT: "function": "per_row_int8",
// MANIFEST: "function": "prefill",
// MANIFEST-NEXT: "grid": [
// MANIFEST-NEXT: 2,
// MANIFEST-NEXT: 8,

// The mma.sync kernel (wgmma=0) takes a partial row tile the same way.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=0 kernels-dir=%t/mma" -o /dev/null
// RUN: FileCheck %s --check-prefix=MMA < %t/mma/qopt_kernels.sm_90a.ptx
// MMA-LABEL: .entry qopt_gemm_s8_f16_m1000n512k512_sxr_swr(
// MMA: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, %r{{[0-9]+}};
// MMA: mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32
// MMA: setp.gt.u64 [[ROW:%p[0-9]+]], {{.*}}, 999;
// MMA: @[[ROW]] bra
// MMA: st.global.b32

// Narrower tiles: as many stages as 200 KiB hold (6 of 32 KiB).
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma-tma=0 wgmma-persistent=0 wgmma-tile-n=128 kernels-dir=%t/n128" -o /dev/null
// RUN: FileCheck %s --check-prefix=N128 < %t/n128/qopt_kernels.sm_90a.ptx
// N128-LABEL: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg128s6(
// N128: cp.async.wait_group 3;
// N128-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8
// N128-LABEL: .entry qopt_gemm_e4m3_bf16_m128n256k256_sxt_swt_wg128s6(
// N128-LABEL: .entry qopt_gemm_s8_f32_m128n384k256_sxt_swt_wg128s6(

// ptxas: no spills, and no wgmma serialized: when other instructions touch
// the accumulators of a wgmma in flight, ptxas injects waits and says so
// ("(C7517) warpgroup.wait is injected ...", "(C7519) warpgroup.arrive is
// injected ..."), or reports a "Potential Performance Loss". So this also
// proves that no accumulator is read (epilogue, FP8 sums) before its
// wgmma.wait_group: LLVM could have scheduled such a read early.
// RUN: %ptxas -arch=sm_90a -v %t/isa/qopt_kernels.sm_90a.ptx -o %t/k.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// RUN: %ptxas -arch=sm_90a -v %t/n128/qopt_kernels.sm_90a.ptx -o %t/n128.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// PTXAS-COUNT-6: 0 bytes spill stores, 0 bytes spill loads
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/k.cubin | FileCheck %s --check-prefix=SASS %}
// SASS-DAG: IGMMA.64x256x32.S8.S8 R{{[0-9]+}}, gdesc[UR{{[0-9]+}}], RZ, !UPT
// SASS-DAG: IGMMA.64x256x32.S8.S8 R{{[0-9]+}}, gdesc[UR{{[0-9]+}}], R{{[0-9]+}}, gsb0
// SASS-DAG: QGMMA.64x128x32.F32.E4M3.E4M3
// SASS-DAG: IGMMA.64x256x32.U8.S8
// SASS-DAG: FENCE.VIEW.ASYNC.S
// SASS-DAG: LDGSTS.E.BYPASS.128

// The host passes the dynamic shared memory to the launch (the runtime
// opts the kernel into more than 48 KiB; the launch becomes its
// mgpuLaunchKernel call when the module is translated to LLVM IR).
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa wgmma-tma=0 wgmma-persistent=0 wgmma-tile-n=256" | FileCheck %s --check-prefix=HOST
// HOST-LABEL: llvm.func @qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_launch(
// HOST: %[[SMEM:.*]] = llvm.mlir.constant(197632 : i32) : i32
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @qopt_kernels::@qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4 blocks in ({{.*}}) threads in ({{.*}}) : i64 dynamic_shared_memory_size %[[SMEM]] args(

// TMA (wgmma-tma=1): warpgroup 0 produces, 1 and 2 consume. One thread
// initialises a full (1 arrival + the stage's bytes) and an empty (8
// consumer warps) mbarrier a stage, fences them to the async proxy, and
// acquires (the maps were written by a copy, the generic proxy) and
// prefetches the two tensor maps; the producer gives registers back
// (setmaxnreg 40), and its first thread, per step, waits for the stage to
// be empty, expects 128 x 384 bytes on its full barrier and starts the two
// tensor copies (Xq's 128 rows and Wq's 256 at K byte 128 s); the
// consumers take 232 registers, wait on the full barrier, run the step's
// wgmmas and, once they retired (wait_group 1: the step before), lane 0 of
// each warp arrives on that step's empty barrier. No cp.async.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tma=1 wgmma-persistent=0 wgmma-tile-n=256 kernels-dir=%t/tma" -o /dev/null
// RUN: FileCheck %s --check-prefix=TMA < %t/tma/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=TMA-MANIFEST < %t/tma/kernels.json
// TMA-LABEL: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma(
// TMA: .maxntid 384, 1, 1
// TMA-COUNT-8: mbarrier.init.shared.b64
// TMA-NEXT: fence.mbarrier_init.release.cluster;
// TMA-NEXT: fence.proxy.async.shared::cta;
// TMA-NEXT: fence.proxy.tensormap::generic.acquire.sys [{{.*}}], 128;
// TMA-NEXT: prefetch.tensormap
// TMA-NEXT: fence.proxy.tensormap::generic.acquire.sys [{{.*}}], 128;
// TMA-NEXT: prefetch.tensormap
// TMA: bar.sync 0;
// TMA: setmaxnreg.dec.sync.aligned.u32 40;
// TMA: mbarrier.try_wait.parity.shared.b64
// TMA: mov.b32 [[BYTES:%r[0-9]+]], 49152;
// TMA-NEXT: mbarrier.arrive.expect_tx.shared.b64 {{.*}}, {{\[}}[[FULL:%rd[0-9]+\+196608]]], [[BYTES]];
// TMA: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [{{.*}}], [{{.*}}], {{\[}}[[FULL]]];
// TMA-NEXT: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [{{.*}}+16384], [{{.*}}], {{\[}}[[FULL]]];
// TMA: setmaxnreg.inc.sync.aligned.u32 232;
// TMA: mbarrier.try_wait.parity.shared.b64
// TMA: wgmma.fence.sync.aligned;
// TMA-COUNT-4: wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8
// TMA: wgmma.wait_group.sync.aligned 1;
// TMA: mbarrier.try_wait.parity.shared.b64
// TMA: wgmma.wait_group.sync.aligned 1;
// TMA: mbarrier.arrive.shared.b64
// TMA: wgmma.wait_group.sync.aligned 0;
// TMA-NOT: cp.async.cg
// TMA: st.global.b32
// FP8: each step retires (wait_group 0) before its stage goes back.
// TMA-LABEL: .entry qopt_gemm_e4m3_bf16_m128n256k256_sxt_swt_wg128s6_tma(
// TMA: mov.b32 {{%r[0-9]+}}, 32768;
// TMA: wgmma.wait_group.sync.aligned 0;
// TMA-NOT: wgmma.mma_async
// TMA: mbarrier.arrive.shared.b64
// TMA: add.rn.f32
// TMA-LABEL: .entry qopt_gemm_u8s8z_f16_m256n256k512_sxr_swt_wg256s4_tma(
// TMA-LABEL: .entry qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4_tma(
// TMA-LABEL: .entry qopt_gemm_s8_f16_m1000n512k512_sxr_swr_wg256s4_tma(
// TMA-MANIFEST: "block": [
// TMA-MANIFEST-NEXT: 384,
// TMA-MANIFEST: "dynamic_shared_memory": 197696,
// TMA-MANIFEST: "tensor_maps": [
// TMA-MANIFEST-NEXT: {
// TMA-MANIFEST-NEXT: "box": [
// TMA-MANIFEST-NEXT: 128,
// TMA-MANIFEST-NEXT: 128
// TMA-MANIFEST-NEXT: ],
// TMA-MANIFEST-NEXT: "operand": 0,
// TMA-MANIFEST-NEXT: "swizzle_bytes": 128
// TMA-MANIFEST-NEXT: },
// TMA-MANIFEST-NEXT: {
// TMA-MANIFEST-NEXT: "box": [
// TMA-MANIFEST-NEXT: 256,
// TMA-MANIFEST-NEXT: 128
// TMA-MANIFEST-NEXT: ],
// TMA-MANIFEST-NEXT: "operand": 1,
// TMA-MANIFEST-NEXT: "swizzle_bytes": 128
// RUN: %ptxas -arch=sm_90a -v %t/tma/qopt_kernels.sm_90a.ptx -o %t/tma.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// Each TMA kernel gets exactly the 168 registers a thread that 384 threads
// launch with: setmaxnreg's 40 + 2 x 232 (per 128 threads) fill that pool,
// and a consumer's increase would wait forever for more.
// RUN: %ptxas -arch=sm_90a -v %t/tma/qopt_kernels.sm_90a.ptx -o %t/tma.cubin 2>&1 | FileCheck %s --check-prefix=TMA-REGS
// TMA-REGS-COUNT-5: Used 168 registers
// TMA-REGS-NOT: Used 168 registers
// The consumers use registers past the 168 a thread of 384 launches with
// (setmaxnreg took effect).
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/tma.cubin | FileCheck %s --check-prefix=TMA-SASS %}
// TMA-SASS-DAG: UTMALDG.2D
// TMA-SASS-DAG: UTMACCTL.IV
// TMA-SASS-DAG: UTMACCTL.PF
// TMA-SASS-DAG: USETMAXREG.DEALLOC.CTAPOOL 0x28
// TMA-SASS-DAG: USETMAXREG.TRY_ALLOC.CTAPOOL UP{{[0-9]}}, 0xe8
// TMA-SASS-DAG: SYNCS.ARRIVE.TRANS64.A1T0
// TMA-SASS-DAG: IGMMA.64x256x32.S8.S8 R{{[0-9]+}}, gdesc[UR{{[0-9]+}}], RZ, !UPT
// TMA-SASS-DAG: QGMMA.64x128x32.F32.E4M3.E4M3
// TMA-SASS-DAG: R{{(1[7-9][0-9]|2[0-3][0-9])}}
// The host makes the maps between the copies and the launch, on the
// launch's stream (no synchronisation: qopt.gpu_tensor_map is pure).
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa wgmma=1 wgmma-tma=1 wgmma-persistent=0 wgmma-tile-n=256" | FileCheck %s --check-prefix=TMA-HOST
// TMA-HOST: llvm.func @qoptTensorMap(!llvm.ptr, i64, i64, i64, i64, i64, i64) -> i64
// TMA-HOST-LABEL: llvm.func @qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_launch(
// TMA-HOST: llvm.call @mgpuStreamCreate()
// TMA-HOST-NOT: llvm.call @mgpuStreamSynchronize
// TMA-HOST: llvm.call @qoptTensorMap
// TMA-HOST-NOT: llvm.call @mgpuStreamSynchronize
// TMA-HOST: llvm.call @qoptTensorMap
// TMA-HOST-NOT: llvm.call @mgpuStreamSynchronize
// TMA-HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @qopt_kernels::@qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma {{.*}} args({{.*}} : i64, {{.*}} : i64, {{.*}} : !llvm.ptr)
// TMA-HOST: llvm.call @mgpuStreamSynchronize
// FP8 codes, and ui8 activations with a resident (constant) weight: the
// maps of the bytes they are viewed as (the weight's of its device copy).
// TMA-HOST-LABEL: llvm.func @qopt_gemm_e4m3_bf16_m128n256k256_sxt_swt_wg128s6_tma_launch(
// TMA-HOST-COUNT-2: llvm.call @qoptTensorMap
// TMA-HOST-LABEL: llvm.func @qopt_gemm_u8s8z_f16_m256n256k512_sxr_swt_wg256s4_tma_launch_c1_c3_c5(
// TMA-HOST: llvm.call @qoptDeviceConstant
// TMA-HOST: llvm.call @qoptTensorMap
// TMA-HOST: llvm.call @qoptTensorMap
// Without wgmma, TMA, persistence and tile width do not apply: mma.sync.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=0 wgmma-tma=1 wgmma-persistent=1 wgmma-tile-n=128 kernels-dir=%t/no-wgmma" -o /dev/null
// RUN: FileCheck %s --check-prefix=TMA-ALONE --implicit-check-not=wgmma. --implicit-check-not=cp.async.bulk < %t/no-wgmma/qopt_kernels.sm_90a.ptx
// TMA-ALONE: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr(

// Persistent (wgmma-persistent=1): the kernel (`_p`) strides its tiles by
// the grid it is launched with (%nctaid.x, no known grid size), block b
// taking tiles b, b + G, ... in both the producer and the consumers;
// kernels.json gives the tile count as the grid and marks the launch
// persistent (at most one block an SM). The pipeline numbers the steps on
// across tiles (stages and mbarrier phases carry over), and the consumers
// hand back the last step's stage as well, before the epilogue, so the
// producer loads the next tile's stages while they store this one: two
// arrivals on "empty" in the INT8 consumer (the loop's and the last
// step's), where a block of one tile has one.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tma=1 wgmma-persistent=1 wgmma-tile-n=256 kernels-dir=%t/persistent" -o /dev/null
// RUN: FileCheck %s --check-prefix=PERSIST < %t/persistent/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=PERSIST-MANIFEST < %t/persistent/kernels.json
// PERSIST-LABEL: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_p(
// PERSIST-LABEL: .entry qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4_tma_p(
// PERSIST-NOT: .reqntid
// PERSIST: setmaxnreg.dec.sync.aligned.u32 40;
// PERSIST: mov.u32 {{%r[0-9]+}}, %ctaid.x;
// PERSIST: mov.u32 {{%r[0-9]+}}, %nctaid.x;
// PERSIST: mbarrier.arrive.expect_tx.shared.b64
// PERSIST: cp.async.bulk.tensor.2d
// PERSIST: setmaxnreg.inc.sync.aligned.u32 232;
// PERSIST: wgmma.wait_group.sync.aligned 0;
// PERSIST: st.global.b32
// PERSIST: mbarrier.arrive.shared.b64
// PERSIST: mbarrier.arrive.shared.b64
// PERSIST-NOT: mbarrier.arrive.shared.b64
// PERSIST-LABEL: .entry qopt_gemm_s8_f16_m1000n512k512_sxr_swr_wg256s4_tma_p(
// PERSIST-MANIFEST: {{^ *}}1792,{{$}}
// PERSIST-MANIFEST-NEXT: 1,
// PERSIST-MANIFEST-NEXT: 1
// PERSIST-MANIFEST-NEXT: ],
// PERSIST-MANIFEST-NEXT: "kernel": "qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4_tma_p"
// PERSIST-MANIFEST-NEXT: "location"
// PERSIST-MANIFEST-NEXT: "persistent": true
// ptxas: no spills but in the M = 1000, K = 512 kernel, whose 4 K steps are
// unrolled into the tile loop: 52 bytes, loaded once a tile (the model-
// sized kernels, K of 1152 and more, spill nothing: bench/gpu/build.py's
// builds).
// RUN: %ptxas -arch=sm_90a -v %t/persistent/qopt_kernels.sm_90a.ptx -o %t/persistent.cubin 2>&1 | FileCheck %s --check-prefix=PERSIST-PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// PERSIST-PTXAS: Compiling entry function 'qopt_gemm_s8_f32_m128n384k256_sxt_swt'
// PERSIST-PTXAS: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// PERSIST-PTXAS: Compiling entry function 'qopt_gemm_s8_f16_m1000n512k512_sxr_swr_wg256s4_tma_p{{(_c2)?}}'
// PERSIST-PTXAS-NEXT: Function properties
// PERSIST-PTXAS-NEXT: {{[0-9]+}} bytes stack frame, {{[1-9][0-9]?}} bytes spill stores
// PERSIST-PTXAS-COUNT-4: 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
// RUN: %ptxas -arch=sm_90a -v %t/persistent/qopt_kernels.sm_90a.ptx -o %t/persistent.cubin 2>&1 | FileCheck %s --check-prefix=TMA-REGS
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/persistent.cubin | FileCheck %s --check-prefix=TMA-SASS %}
// Persistence is the TMA kernel's: with cp.async (wgmma-tma=0), none.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma-tma=0 wgmma-persistent=1 wgmma-tile-n=256 kernels-dir=%t/cp-async" -o /dev/null
// RUN: FileCheck %s --check-prefix=PERSIST-ALONE --implicit-check-not=persistent < %t/cp-async/kernels.json
// PERSIST-ALONE: "kernel": "qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4"

// Clusters (wgmma-cluster=2): two blocks of adjacent row tiles and one
// column tile (products whose row or column tiles are odd in number run
// without, with a warning). .reqnctapercluster 2; empty barriers expect
// 8 warps of both blocks; the barriers initialised, a cluster barrier
// (the peer multicasts into this block and arrives on its barriers); the
// producer loads its Xq tile and, multicast to both blocks (mask 3), its
// half of the Wq tile (boxes of 128 rows, at row n0 + 128 rank, into the
// stage's Wq rows 128 rank on); a consumer warp's lane 0 releases a stage
// on its own and, through mapa, on its peer's empty barrier (release at CTA
// scope, as CUTLASS: no fence of all memory at every step); a cluster
// barrier before the block exits.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tma=1 wgmma-persistent=0 wgmma-tile-n=256 wgmma-cluster=2 kernels-dir=%t/cluster" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CLUSTER-WARN
// CLUSTER-WARN: warning: wgmma-cluster: this product runs without clusters: no kernel for clusters of two blocks for a 128 x 256 product: 1 row and 2 column tiles, not both even
// RUN: FileCheck %s --check-prefix=CLUSTER < %t/cluster/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=CLUSTER-MANIFEST < %t/cluster/kernels.json
// CLUSTER-LABEL: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_c2(
// CLUSTER: .explicitcluster
// CLUSTER-NEXT: .reqnctapercluster 2, 1, 1
// CLUSTER: mov.b32 [[ONE:%r[0-9]+]], 1;
// CLUSTER-NEXT: mbarrier.init.shared.b64 {{\[}}{{.*}}+196608], [[ONE]];
// CLUSTER-NEXT: mov.b32 [[SIXTEEN:%r[0-9]+]], 16;
// CLUSTER-NEXT: mbarrier.init.shared.b64 {{\[}}{{.*}}+196640], [[SIXTEEN]];
// CLUSTER: fence.mbarrier_init.release.cluster;
// CLUSTER: mov.u32 {{%r[0-9]+}}, %cluster_ctarank;
// CLUSTER: barrier.cluster.arrive.relaxed;
// CLUSTER-NEXT: barrier.cluster.wait;
// CLUSTER: mov.b32 [[BYTES:%r[0-9]+]], 49152;
// CLUSTER: mbarrier.arrive.expect_tx.shared.b64 {{.*}}, [[BYTES]];
// CLUSTER: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [
// CLUSTER: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster [
// CLUSTER: mapa.shared::cluster.u64 [[PEER:%rd[0-9]+]], [[EMPTY:%rd[0-9]+]], {{%r[0-9]+}};
// CLUSTER-NEXT: mbarrier.arrive.shared.b64 {{%rd[0-9]+}}, {{\[}}[[EMPTY]]];
// CLUSTER: mbarrier.arrive.shared::cluster.b64 _, {{\[}}[[PEER]]]
// CLUSTER: barrier.cluster.arrive;
// CLUSTER-NEXT: barrier.cluster.wait;
// CLUSTER-LABEL: .entry qopt_gemm_e4m3_bf16_m128n256k256_sxt_swt_wg128s6_tma(
// CLUSTER-NOT: .reqnctapercluster
// CLUSTER-LABEL: .entry qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4_tma_c2(
// CLUSTER-MANIFEST: "cluster": [
// CLUSTER-MANIFEST-NEXT: 2,
// CLUSTER-MANIFEST-NEXT: 1,
// CLUSTER-MANIFEST-NEXT: 1
// CLUSTER-MANIFEST: "kernel": "qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_c2"
// CLUSTER-MANIFEST: "box": [
// CLUSTER-MANIFEST-NEXT: 128,
// CLUSTER-MANIFEST-NEXT: 128
// CLUSTER-MANIFEST: "box": [
// CLUSTER-MANIFEST-NEXT: 128,
// CLUSTER-MANIFEST-NEXT: 128
// RUN: %ptxas -arch=sm_90a -v %t/cluster/qopt_kernels.sm_90a.ptx -o %t/cluster.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// RUN: %ptxas -arch=sm_90a -v %t/cluster/qopt_kernels.sm_90a.ptx -o %t/cluster.cubin 2>&1 | FileCheck %s --check-prefix=TMA-REGS
// RUN: %if cuobjdump %{ %cuobjdump -sass %t/cluster.cubin | FileCheck %s --check-prefix=CLUSTER-SASS %}
// CLUSTER-SASS-DAG: UTMALDG.2D.MULTICAST
// CLUSTER-SASS-DAG: UCGABAR_ARV
// CLUSTER-SASS-DAG: UCGABAR_WAIT
// The host launches the clusters (gpu.launch_func ... clusters in).
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa wgmma=1 wgmma-tma=1 wgmma-persistent=0 wgmma-tile-n=256 wgmma-cluster=2" 2>/dev/null | FileCheck %s --check-prefix=CLUSTER-HOST
// CLUSTER-HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @qopt_kernels::@qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_c2 clusters in (
// RUN: not quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma-tma=0 wgmma-cluster=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CLUSTER-ALONE
// RUN: not quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tma=1 wgmma-cluster=4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=CLUSTER-ALONE
// CLUSTER-ALONE: error: wgmma-cluster must be 1 or 2, and 2 needs wgmma-tma

// Persistent clusters (wgmma-persistent=1 wgmma-cluster=2): the persistent
// kernel's tile loop, whose tiles b + kG and b + 1 + kG (G even) are the
// pairs the clusters need; launched persistent and in clusters (the host
// rounds the grid down to whole clusters). No spills but in the K = 512
// test kernel, as without clusters.
// RUN: quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tma=1 wgmma-persistent=1 wgmma-tile-n=256 wgmma-cluster=2 kernels-dir=%t/pcluster" -o /dev/null 2>/dev/null
// RUN: FileCheck %s --check-prefix=PCLUSTER < %t/pcluster/qopt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=PCLUSTER-MANIFEST < %t/pcluster/kernels.json
// PCLUSTER-LABEL: .entry qopt_gemm_s8_bf16_m4096n14336k4096_sxr_swr_wg256s4_tma_p_c2(
// PCLUSTER: .reqnctapercluster 2, 1, 1
// PCLUSTER: %nctaid.x
// PCLUSTER: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.multicast::cluster
// PCLUSTER: mbarrier.arrive.shared::cluster.b64
// PCLUSTER: barrier.cluster.arrive;
// PCLUSTER-MANIFEST: "cluster": [
// PCLUSTER-MANIFEST-NEXT: 2,
// PCLUSTER-MANIFEST: "kernel": "qopt_gemm_s8_f16_m256n512k512_sxr_swr_wg256s4_tma_p_c2"
// PCLUSTER-MANIFEST: "persistent": true
// RUN: %ptxas -arch=sm_90a -v %t/pcluster/qopt_kernels.sm_90a.ptx -o %t/pcluster.cubin 2>&1 | FileCheck %s --check-prefix=PERSIST-PTXAS --implicit-check-not=injected --implicit-check-not="Performance Loss"
// RUN: %ptxas -arch=sm_90a -v %t/pcluster/qopt_kernels.sm_90a.ptx -o %t/pcluster.cubin 2>&1 | FileCheck %s --check-prefix=TMA-REGS

// wgmma needs every target chip to be sm_90a: with sm_80 as well and
// format=isa (an object per chip, no fatbin), mma.sync alone; a fatbin gets
// both kernels and picks at run time (gpu-wgmma-choice.mlir,
// Integration/GPU/wgmma_launch.test).
// RUN: quant-opt %s --qopt-gpu-pipeline="chip=sm_80,sm_90a format=isa host=0 wgmma=1 kernels-dir=%t/chips" -o /dev/null
// RUN: FileCheck %s --check-prefix=CHIPS --implicit-check-not=wgmma. < %t/chips/qopt_kernels.sm_90a.ptx
// CHIPS: .entry qopt_gemm_s8_f16_m256n512k512_sxr_swr(
// RUN: not quant-opt %s --qopt-gpu-pipeline="format=isa host=0 wgmma=1 wgmma-tile-n=100" -o /dev/null 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: wgmma-tile-n must be 0 (heuristic) or a multiple of 32 up to 256, and wgmma-stages 0 or at least 3

func.func @per_row_int8(%x: tensor<256x512xi8>, %w: tensor<512x512xi8>, %sw: tensor<512x1xf32>,
                        %sx: tensor<256x1xf32>) -> tensor<256x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x512xi8>, tensor<512x512xi8>, tensor<512x1xf32>, tensor<256x1xf32>) -> tensor<256x512xf16>
  return %y : tensor<256x512xf16>
}

func.func @fp8(%x: tensor<128x256xf8E4M3FN>, %w: tensor<256x256xf8E4M3FN>, %sw: tensor<f32>,
               %sx: tensor<f32>) -> tensor<128x256xbf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<128x256xf8E4M3FN>, tensor<256x256xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<128x256xbf16>
  return %y : tensor<128x256xbf16>
}

func.func @asymmetric(%x: tensor<256x512xui8>, %sx: tensor<256x1xf32>, %zx: tensor<256x1xui8>) -> tensor<256x256xf16> {
  %w = arith.constant dense<3> : tensor<256x512xi8>
  %sw = arith.constant dense<0.01> : tensor<f32>
  %y = qopt.matmul %x, %w, %sw input_scale(%sx, %zx) {acc_type = f32}
      : (tensor<256x512xui8>, tensor<256x512xi8>, tensor<f32>, tensor<256x1xf32>, tensor<256x1xui8>) -> tensor<256x256xf16>
  return %y : tensor<256x256xf16>
}

func.func @mlp_up(%x: tensor<4096x4096xi8>, %w: tensor<14336x4096xi8>, %sw: tensor<14336x1xf32>,
                  %sx: tensor<4096x1xf32>) -> tensor<4096x14336xbf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<4096x4096xi8>, tensor<14336x4096xi8>, tensor<14336x1xf32>, tensor<4096x1xf32>) -> tensor<4096x14336xbf16>
  return %y : tensor<4096x14336xbf16>
}

func.func @prefill(%x: tensor<1000x512xi8>, %w: tensor<512x512xi8>, %sw: tensor<512x1xf32>,
                   %sx: tensor<1000x1xf32>) -> tensor<1000x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1000x512xi8>, tensor<512x512xi8>, tensor<512x1xf32>, tensor<1000x1xf32>) -> tensor<1000x512xf16>
  return %y : tensor<1000x512xf16>
}

func.func @untiled(%x: tensor<128x256xi8>, %w: tensor<384x256xi8>, %sw: tensor<f32>,
                   %sx: tensor<f32>) -> tensor<128x384xf32> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<128x256xi8>, tensor<384x256xi8>, tensor<f32>, tensor<f32>) -> tensor<128x384xf32>
  return %y : tensor<128x384xf32>
}
