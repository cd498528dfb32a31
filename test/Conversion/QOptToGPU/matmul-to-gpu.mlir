// The kernel families every chip has: the 8-bit GEMM on mma.sync
// (wgmma=0; on sm_90a, wgmma by default: test/Pipelines/gpu-wgmma.mlir)
// and for M <= 16 too (int8-gemv=0; test/Pipelines/gpu-int8-gemv.mlir).
// RUN: quant-opt %s --split-input-file --convert-qopt-matmul-to-gpu="wgmma=0 int8-gemv=0" --verify-diagnostics | FileCheck %s

// A W4A16 decode product: a call of a private launch function, a kernel in
// gpu.module @qopt_kernels. Batch dimensions fold into M and back.
// CHECK-LABEL: func.func @decode
// CHECK-SAME:    %[[X:.*]]: tensor<1x1x4096xf16>, %[[W:.*]]: tensor<4096x2048xi8>, %[[S:.*]]: tensor<4096x32xf32>
// CHECK:         %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]]
// CHECK:         %[[Y:.*]] = call @[[KERNEL:qopt_gemv_i4_f16_f16_m1n4096k4096_s1x128_sk[0-9]+st1]]_launch(%[[X2]], %[[W]], %[[S]])
// CHECK-SAME:      : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<1x4096xf16>
// CHECK:         %[[Y3:.*]] = tensor.expand_shape %[[Y]]
// CHECK:         return %[[Y3]]
// The second product of the same shape reuses kernel and launch function.
// CHECK-LABEL: func.func @decode_again
// CHECK:         call @[[KERNEL]]_launch
// Its inputs are read-only for bufferization (constants are passed as they
// are, not copied).
// CHECK:       func.func private @[[KERNEL]]_launch(tensor<1x4096xf16> {bufferization.access = "read"}, tensor<4096x2048xi8> {bufferization.access = "read"}, tensor<4096x32xf32> {bufferization.access = "read"}) -> tensor<1x4096xf16>
// CHECK-SAME:    qopt.gpu_launch = {block = array<i64: [[THREADS:[0-9]+]], 1, 1>, grid = array<i64: 256, 1, 1>, kernel = @qopt_kernels::@[[KERNEL]]}
// CHECK:       gpu.module @qopt_kernels
// CHECK:         gpu.func @[[KERNEL]](%{{.*}}: memref<1x4096xf16> {llvm.noalias, llvm.readonly}, %{{.*}}: memref<4096x2048xi8> {llvm.noalias, llvm.readonly}, %{{.*}}: memref<4096x32xf32> {llvm.noalias, llvm.readonly}, %{{.*}}: memref<1x4096xf16> {llvm.noalias})
// CHECK-SAME:      workgroup(
// CHECK-SAME:      kernel attributes {known_block_size = array<i32: [[THREADS]], 1, 1>, known_grid_size = array<i32: 256, 1, 1>}
// CHECK:           vector.load %{{.*}} {alignment = 16 : i64} : memref<4096x2048xi8>, vector<16xi8>
// CHECK:           llvm.inline_asm "lop3.b32 $0, $1, $2, $3, 0x6a;"
// CHECK:           nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:           gpu.barrier
// CHECK-NOT:     gpu.func
func.func @decode(%x: tensor<1x1x4096xf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x32xf32>) -> tensor<1x1x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<1x1x4096xf16>
  return %y : tensor<1x1x4096xf16>
}
func.func @decode_again(%x: tensor<1x4096xf16>, %w: tensor<4096x2048xi8>, %s: tensor<4096x32xf32>) -> tensor<1x4096xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<1x4096xf16>
  return %y : tensor<1x4096xf16>
}

// -----

// INT8 weights with per-row scales and bf16 activations are refused with a
// reason (bf16 cannot hold 1024 + a byte); f16 ones get a kernel whose
// fragments are nvgpu.mma.sync, bf16 INT4 goes through nvvm.mma.sync.
// CHECK-LABEL: func.func @w8
// CHECK:         call @qopt_gemv_i8_f16_f32_m16n256k512_s1x512_sk{{[0-9]+}}st1_launch
// CHECK-LABEL: func.func @w4_bf16
// CHECK:         call @qopt_gemv_u4_bf16_bf16_m8n256k512_s1x128_sk{{[0-9]+}}st1_launch
// CHECK-LABEL: func.func @w8_bf16
// CHECK:         qopt.matmul
// CHECK:       gpu.func @qopt_gemv_u4_bf16_bf16
// CHECK:         nvvm.mma.sync {{.*}} {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
func.func @w8(%x: tensor<16x512xf16>, %w: tensor<256x512xi8>, %s: tensor<256x1xf32>) -> tensor<16x256xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<16x512xf16>, tensor<256x512xi8>, tensor<256x1xf32>) -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}
func.func @w4_bf16(%x: tensor<8x512xbf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<8x256xbf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = ui4}
      : (tensor<8x512xbf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<8x256xbf16>
  return %y : tensor<8x256xbf16>
}
func.func @w8_bf16(%x: tensor<1x512xbf16>, %w: tensor<256x512xi8>, %s: tensor<256x1xf32>) -> tensor<1x256xbf16> {
  // expected-warning @below {{qopt.matmul runs on the host: no GPU kernel for 8-bit weight codes with bf16 activations}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<1x512xbf16>, tensor<256x512xi8>, tensor<256x1xf32>) -> tensor<1x256xbf16>
  return %y : tensor<1x256xbf16>
}

// -----

// What no kernel family takes stays on the host, each with its reason.
// CHECK-LABEL: func.func @host
// CHECK-COUNT-6: qopt.matmul
// CHECK-NOT:   gpu.module
func.func @host(%x32: tensor<1x512xf32>, %x: tensor<1x512xf16>,
                %w: tensor<256x256xi8>, %s: tensor<256x4xf32>, %z: tensor<256x4xui4>,
                %s16: tensor<256x32xf32>, %xq: tensor<1x512xi8>, %w8: tensor<200x512xi8>,
                %sx: tensor<f32>, %sw: tensor<200x1xf32>, %w100: tensor<100x256xi8>,
                %s100: tensor<100x4xf32>, %x0: tensor<0x512xi8>, %w128: tensor<128x512xi8>,
                %sw128: tensor<128x1xf32>) {
  // expected-warning @below {{no GPU kernel for 0 rows of input}}
  %6 = qopt.matmul %x0, %w128, %sw128 input_scale(%sx) {acc_type = f32}
      : (tensor<0x512xi8>, tensor<128x512xi8>, tensor<128x1xf32>, tensor<f32>) -> tensor<0x128xf32>
  // expected-warning @below {{no GPU kernel for f32 activations (the kernels take f16 or bf16)}}
  %0 = qopt.matmul %x32, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf32>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf32>
  // expected-warning @below {{no GPU kernel for zero points that are not dense constants (the kernels take them folded to i32 at compile time)}}
  %1 = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>, tensor<256x4xui4>) -> tensor<1x256xf16>
  // expected-warning @below {{no GPU kernel for scale groups of 16 along K (the kernels take 32, 64 or multiples of 128)}}
  %3 = qopt.matmul %x, %w, %s16 {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x32xf32>) -> tensor<1x256xf16>
  // expected-warning @below {{no GPU kernel for a 1 x 200 x 512 8-bit product (the mma.sync kernel needs N a multiple of 128, K of 64)}}
  %4 = qopt.matmul %xq, %w8, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1x512xi8>, tensor<200x512xi8>, tensor<200x1xf32>, tensor<f32>) -> tensor<1x200xf32>
  // expected-warning @below {{no GPU kernel for N = 100 is not a multiple of 16}}
  %5 = qopt.matmul %x, %w100, %s100 {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<100x256xi8>, tensor<100x4xf32>) -> tensor<1x100xf16>
  return
}
func.func @host_f64(%x: tensor<1x256xf16>, %w: tensor<16x256xi8>, %s: tensor<16x1xf32>) -> tensor<1x16xf64> {
  // expected-warning @below {{no GPU kernel for f64 results (the kernels write f16, bf16 or f32)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32}
      : (tensor<1x256xf16>, tensor<16x256xi8>, tensor<16x1xf32>) -> tensor<1x16xf64>
  return %y : tensor<1x16xf64>
}
// 2^24 rows: 131072 row tiles, past CUDA's 65535 blocks along y.
func.func @host_grid(%x: tensor<16777216x256xf16>, %w: tensor<128x128xi8>, %s: tensor<128x1xf32>) -> tensor<16777216x128xf16> {
  // expected-warning-re @below {{no GPU kernel for a grid of {{[0-9]+}} x 131072 x 1 blocks (CUDA takes at most 2^31 - 1 x 65535 x 65535)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<16777216x256xf16>, tensor<128x128xi8>, tensor<128x1xf32>) -> tensor<16777216x128xf16>
  return %y : tensor<16777216x128xf16>
}

// -----

// A nested module's products would need their launch declarations there,
// and no pipeline lowers them.
func.func private @top_level()
module @inner {
  func.func @nested(%x: tensor<1x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<1x256xf16> {
    // expected-error @below {{qopt.matmul inside a nested module: convert-qopt-matmul-to-gpu lowers the products of the top-level module}}
    %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
        : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf16>
    return %y : tensor<1x256xf16>
  }
}

// -----

// A vector input (rank 1) is one row: [K] -> [1, K] in, [1, N] -> [N] out.
// CHECK-LABEL: func.func @matvec
// CHECK-SAME:    %[[V:.*]]: tensor<256xf16>
// CHECK:         %[[X:.*]] = tensor.expand_shape %[[V]] {{\[\[}}0, 1]] output_shape [1, 256] : tensor<256xf16> into tensor<1x256xf16>
// CHECK:         %[[Y:.*]] = call @qopt_gemv_{{.*}}(%[[X]], %{{.*}}, %{{.*}}) : (tensor<1x256xf16>, {{.*}}) -> tensor<1x64xf16>
// CHECK:         tensor.collapse_shape %[[Y]] {{\[\[}}0, 1]] : tensor<1x64xf16> into tensor<64xf16>
func.func @matvec(%v: tensor<256xf16>, %w: tensor<64x128xi8>, %s: tensor<64x1xf32>) -> tensor<64xf16> {
  %y = qopt.matmul %v, %w, %s {acc_type = f32, packed = i4}
      : (tensor<256xf16>, tensor<64x128xi8>, tensor<64x1xf32>) -> tensor<64xf16>
  return %y : tensor<64xf16>
}

// -----

// The names the pass gives are reserved: taken ones are errors at the
// symbol, not invalid IR.
// expected-error @below {{the symbol 'qopt_kernels' names a GPU kernels' module that convert-qopt-matmul-to-gpu creates; rename this one}}
func.func private @qopt_kernels()
func.func @kernels_name_taken(%x: tensor<1x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<1x256xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}

// -----

// W8A8 (INT8 x INT8, per-row activation scales): the tiled kernel on a
// 2-D grid of 128 x 128 tiles, cp.async staging, ldmatrix fragments,
// mma.sync m16n8k32 with i32 accumulators.
// CHECK-LABEL: func.func @w8a8
// CHECK-SAME:    %[[X:.*]]: tensor<2x128x512xi8>, %[[W:.*]]: tensor<256x512xi8>, %[[SW:.*]]: tensor<256x1xf32>, %[[SX:.*]]: tensor<2x128x1xf32>
// CHECK-DAG:     %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x128x512xi8> into tensor<256x512xi8>
// CHECK-DAG:     %[[SX2:.*]] = tensor.collapse_shape %[[SX]] {{\[\[}}0, 1], [2]] : tensor<2x128x1xf32> into tensor<256x1xf32>
// CHECK:         call @qopt_gemm_s8_f32_m256n256k512_sxr_swr_launch(%[[X2]], %[[W]], %[[SX2]], %[[SW]])
// CHECK:       func.func private @qopt_gemm_s8_f32_m256n256k512_sxr_swr_launch
// CHECK-SAME:    qopt.gpu_launch = {block = array<i64: 256, 1, 1>, grid = array<i64: 2, 2, 1>
// CHECK:       gpu.func @qopt_gemm_s8_f32_m256n256k512_sxr_swr(
// CHECK:         nvgpu.device_async_copy
// CHECK:         nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<2x128x80xi8, #gpu.address_space<workgroup>> -> vector<4x4xi8>
// CHECK:         nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]} : (vector<4x4xi8>, vector<2x4xi8>, vector<2x2xi32>) -> vector<2x2xi32>
func.func @w8a8(%x: tensor<2x128x512xi8>, %w: tensor<256x512xi8>, %sw: tensor<256x1xf32>,
                %sx: tensor<2x128x1xf32>) -> tensor<2x128x256xf32> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<2x128x512xi8>, tensor<256x512xi8>, tensor<256x1xf32>, tensor<2x128x1xf32>) -> tensor<2x128x256xf32>
  return %y : tensor<2x128x256xf32>
}

// -----

// M > 16. 100 rows: the tiled GEMM (128 x 64 block tiles, cp.async stages
// of X and of the packed weight, ldmatrix, per-pair dequantization from
// shared memory). 48 rows: the X-tile GEMM, 32-row tiles of X in shared
// memory permuted into the order of the code pairs, 2 warps (N = 96 allows
// no more).
// CHECK-LABEL: func.func @prefill
// CHECK:         call @qopt_wgemm_i4_f16_f16_m100n256k512_s1x128_launch
// CHECK:         call @qopt_gemm_i4_f16_f16_m48n96k512_s1x128_r32w2_launch
// CHECK:       func.func private @qopt_wgemm_i4_f16_f16_m100n256k512_s1x128_launch
// CHECK-SAME:    qopt.gpu_launch = {block = array<i64: 256, 1, 1>, grid = array<i64: 4, 1, 1>
// CHECK:       func.func private @qopt_gemm_i4_f16_f16_m48n96k512_s1x128_r32w2_launch
// CHECK-SAME:    qopt.gpu_launch = {block = array<i64: 64, 1, 1>, grid = array<i64: 3, 2, 1>
// CHECK:       gpu.func @qopt_wgemm_i4_f16_f16_m100n256k512_s1x128(
// CHECK-SAME:    workgroup(%{{.*}} : memref<2x128x72xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<2x64x48xi8, #gpu.address_space<workgroup>>)
// CHECK:         nvgpu.device_async_copy
// CHECK:         nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false} : memref<2x128x72xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK:         llvm.inline_asm "lop3.b32
// CHECK:         nvgpu.mma.sync
// CHECK:       gpu.func @qopt_gemm_i4_f16_f16_m48n96k512_s1x128_r32w2(
// CHECK-SAME:    workgroup(%{{.*}} : memref<32x136xf16, #gpu.address_space<workgroup>>)
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [0, 4, 1, 5, 2, 6, 3, 7] : vector<8xf16>, vector<8xf16>
// CHECK:         gpu.barrier
// CHECK:         nvgpu.mma.sync
func.func @prefill(%x: tensor<100x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>,
                   %x48: tensor<48x512xf16>, %w96: tensor<96x256xi8>, %s96: tensor<96x4xf32>)
    -> (tensor<100x256xf16>, tensor<48x96xf16>) {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<100x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<100x256xf16>
  %y48 = qopt.matmul %x48, %w96, %s96 {acc_type = f32, packed = i4}
      : (tensor<48x512xf16>, tensor<96x256xi8>, tensor<96x4xf32>) -> tensor<48x96xf16>
  return %y, %y48 : tensor<100x256xf16>, tensor<48x96xf16>
}

// -----

// Constant zero points are folded to the i32 tensor the kernel reads and
// passed after the scales (the launch function keeps them resident).
// CHECK-LABEL: func.func @constant_zero_points
// CHECK:         %[[Z:.*]] = arith.constant dense<{{\[\[}}15, 3, 0, 0], [15, 3, 0, 1], {{.*}}, [15, 3, 0, 15]]> : tensor<16x4xi32>
// CHECK:         call @{{qopt_gemv_u4_f16_f16_m1n16k512_s1x128z_[a-z0-9_]+}}_launch_c3(%{{.*}}, %{{.*}}, %{{.*}}, %[[Z]])
func.func @constant_zero_points(%x: tensor<1x512xf16>, %w: tensor<16x256xi8>, %s: tensor<16x4xf32>) -> tensor<1x16xf16> {
  %z = arith.constant dense<[[15, 3, 0, 0], [15, 3, 0, 1], [15, 3, 0, 2], [15, 3, 0, 3], [15, 3, 0, 4], [15, 3, 0, 5], [15, 3, 0, 6], [15, 3, 0, 7], [15, 3, 0, 8], [15, 3, 0, 9], [15, 3, 0, 10], [15, 3, 0, 11], [15, 3, 0, 12], [15, 3, 0, 13], [15, 3, 0, 14], [15, 3, 0, 15]]> : tensor<16x4xui4>
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4}
      : (tensor<1x512xf16>, tensor<16x256xi8>, tensor<16x4xf32>, tensor<16x4xui4>) -> tensor<1x16xf16>
  return %y : tensor<1x16xf16>
}

// Constant operands (the weights and scales of a compiled model) are marked
// resident: the launch function of a product with constant W and S is
// _launch_c1_c2 and lists them. Its GEMV reads the weight in tiles
// (kernel suffix _tw; a splat is its own tiling); the same product with W
// and S from the caller reads rows, with its plain launch function.
// CHECK-LABEL: func.func @constant_weights
// CHECK:         %[[W:.*]] = arith.constant dense<17> : tensor<256x256xi8>
// CHECK:         %[[S:.*]] = arith.constant dense<1.250000e-01> : tensor<256x4xf32>
// CHECK:         call @[[TILED:qopt_gemv_i4_f16_f16_m1n256k512_[a-z0-9_]+_tw]]_launch_c1_c2(%{{.*}}, %[[W]], %[[S]])
// CHECK-LABEL: func.func @argument_weights
// CHECK:         call @[[KERNEL:qopt_gemv_i4_f16_f16_m1n256k512_s1x128_sk[0-9]+st1]]_launch(
// CHECK:       func.func private @[[TILED]]_launch_c1_c2(
// CHECK-SAME:    qopt.gpu_launch = {{{.*}}kernel = @qopt_kernels::@[[TILED]], resident = array<i64: 1, 2>}
// CHECK:       func.func private @[[KERNEL]]_launch(
// CHECK-NOT:     resident
// CHECK-SAME:    kernel = @qopt_kernels::@[[KERNEL]]}
func.func @constant_weights(%x: tensor<1x512xf16>) -> tensor<1x256xf16> {
  %w = arith.constant dense<17> : tensor<256x256xi8>
  %s = arith.constant dense<0.125> : tensor<256x4xf32>
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}
func.func @argument_weights(%x: tensor<1x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<1x256xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}

// -----

// The kernels read f32 scales: other float scales are converted, constants
// at compile time (so they stay resident), arguments with arith.extf.
// CHECK-LABEL: func.func @bf16_constant_scales
// CHECK:         %[[S:.*]] = arith.constant dense<2.500000e-01> : tensor<16x4xf32>
// CHECK:         call @{{.*}}_launch_c2(%{{.*}}, %{{.*}}, %[[S]])
// CHECK-LABEL: func.func @f16_argument_scales
// CHECK:         %[[S:.*]] = arith.extf %{{.*}} : tensor<16x4xf16> to tensor<16x4xf32>
// CHECK:         call @{{.*}}_launch(%{{.*}}, %{{.*}}, %[[S]])
func.func @bf16_constant_scales(%x: tensor<1x512xf16>, %w: tensor<16x256xi8>) -> tensor<1x16xf16> {
  %s = arith.constant dense<0.25> : tensor<16x4xbf16>
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<16x256xi8>, tensor<16x4xbf16>) -> tensor<1x16xf16>
  return %y : tensor<1x16xf16>
}
func.func @f16_argument_scales(%x: tensor<1x512xf16>, %w: tensor<16x256xi8>, %s: tensor<16x4xf16>) -> tensor<1x16xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<16x256xi8>, tensor<16x4xf16>) -> tensor<1x16xf16>
  return %y : tensor<1x16xf16>
}

// -----

// expected-error @below {{the symbol 'qopt_gemv_i4_f16_f16_m1n256k512_s1x128_sk2st1_launch' names the launch function of a GPU kernel that convert-qopt-matmul-to-gpu creates; rename this one}}
func.func private @qopt_gemv_i4_f16_f16_m1n256k512_s1x128_sk2st1_launch(i32) -> i32
func.func @launch_name_taken(%x: tensor<1x512xf16>, %w: tensor<256x256xi8>, %s: tensor<256x4xf32>) -> tensor<1x256xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x512xf16>, tensor<256x256xi8>, tensor<256x4xf32>) -> tensor<1x256xf16>
  return %y : tensor<1x256xf16>
}
