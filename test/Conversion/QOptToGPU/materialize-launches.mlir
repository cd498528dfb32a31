// RUN: quant-opt %s --split-input-file --qopt-materialize-gpu-launches --verify-diagnostics | FileCheck %s

// After bufferization and buffer-results-to-out-params: the result is the
// last argument. The body uploads the inputs, launches, downloads, frees.
// CHECK-LABEL: func.func private @k_launch(
// CHECK-SAME:    %[[X:.*]]: memref<1x256xf16>, %[[W:.*]]: memref<64x128xi8>, %[[S:.*]]: memref<64x2xf32>, %[[Y:.*]]: memref<1x64xf16>)
// CHECK:         %[[XD:.*]] = gpu.alloc () : memref<1x256xf16>
// CHECK:         gpu.memcpy %[[XD]], %[[X]]
// CHECK:         %[[WD:.*]] = gpu.alloc () : memref<64x128xi8>
// CHECK:         gpu.memcpy %[[WD]], %[[W]]
// CHECK:         %[[SD:.*]] = gpu.alloc () : memref<64x2xf32>
// CHECK:         gpu.memcpy %[[SD]], %[[S]]
// CHECK:         %[[YD:.*]] = gpu.alloc () : memref<1x64xf16>
// CHECK:         gpu.launch_func @kernels::@k blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) args(%[[XD]] : memref<1x256xf16>, %[[WD]] : memref<64x128xi8>, %[[SD]] : memref<64x2xf32>, %[[YD]] : memref<1x64xf16>)
// CHECK:         gpu.memcpy %[[Y]], %[[YD]]
// CHECK-COUNT-4: gpu.dealloc
// CHECK:         return
module attributes {gpu.container_module} {
  func.func private @k_launch(memref<1x256xf16>, memref<64x128xi8>, memref<64x2xf32>, memref<1x64xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k}}
  gpu.module @kernels {
    gpu.func @k(%x: memref<1x256xf16>, %w: memref<64x128xi8>, %s: memref<64x2xf32>, %y: memref<1x64xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// Resident operands (constants: here W and S) are not copied per call: the
// runtime's qoptDeviceConstant uploads each once and returns its device
// copy, wrapped as a memref of the operand's type; only X and Y get device
// buffers, copies and deallocations.
// The runtime function is declared once, before its first user.
// CHECK:       llvm.func @qoptDeviceConstant(!llvm.ptr, i64) -> !llvm.ptr
// CHECK-LABEL: func.func private @k_launch_c1_c2(
// CHECK-SAME:    %[[X:.*]]: memref<1x256xf16>, %[[W:.*]]: memref<64x128xi8>, %[[S:.*]]: memref<64x2xf32>, %[[Y:.*]]: memref<1x64xf16>)
// The runtime calls come first, before any GPU op (gpu-async-region then
// keeps one stream for the copies and the launch).
// CHECK:         %[[WA:.*]] = memref.extract_aligned_pointer_as_index %[[W]]
// CHECK:         %[[WI:.*]] = arith.index_cast %[[WA]] : index to i64
// CHECK:         %[[WP:.*]] = llvm.inttoptr %[[WI]] : i64 to !llvm.ptr
// CHECK:         %[[WB:.*]] = arith.constant 8192 : i64
// CHECK:         %[[WP2:.*]] = llvm.call @qoptDeviceConstant(%[[WP]], %[[WB]]) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK:         llvm.insertvalue %[[WP2]], %{{.*}}[1]
// CHECK:         %[[WD:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<64x128xi8>
// CHECK:         %[[SB:.*]] = arith.constant 512 : i64
// CHECK:         llvm.call @qoptDeviceConstant(%{{.*}}, %[[SB]])
// CHECK:         %[[SD:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<64x2xf32>
// CHECK:         %[[XD:.*]] = gpu.alloc () : memref<1x256xf16>
// CHECK:         gpu.memcpy %[[XD]], %[[X]]
// CHECK:         %[[YD:.*]] = gpu.alloc () : memref<1x64xf16>
// CHECK:         gpu.launch_func @kernels::@k {{.*}} args(%[[XD]] : memref<1x256xf16>, %[[WD]] : memref<64x128xi8>, %[[SD]] : memref<64x2xf32>, %[[YD]] : memref<1x64xf16>)
// CHECK:         gpu.memcpy %[[Y]], %[[YD]]
// CHECK-COUNT-2: gpu.dealloc
// CHECK-NOT:     gpu.dealloc
// CHECK:         return
module attributes {gpu.container_module} {
  func.func private @k_launch_c1_c2(memref<1x256xf16>, memref<64x128xi8>, memref<64x2xf32>, memref<1x64xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, resident = array<i64: 1, 2>}}
  gpu.module @kernels {
    gpu.func @k(%x: memref<1x256xf16>, %w: memref<64x128xi8>, %s: memref<64x2xf32>, %y: memref<1x64xf16>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  // expected-error @below {{a resident operand of qopt.gpu_launch must be a static, contiguous memref; got 'memref<64x128xi8, strided<[256, 1]>>'}}
  func.func private @k_launch_c1(memref<1x256xf16>, memref<64x128xi8, strided<[256, 1]>>, memref<1x64xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, resident = array<i64: 1>}}
  gpu.module @kernels {
    gpu.func @k(%x: memref<1x256xf16>, %w: memref<64x128xi8>, %y: memref<1x64xf16>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  // The result (the last argument after buffer-results-to-out-params) is
  // not an input: it cannot be resident.
  // expected-error @below {{'qopt.gpu_launch' 'resident' must be an increasing array of input indices of the function (not its result)}}
  func.func private @k_launch_c1(memref<1x256xf16>, memref<1x64xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, resident = array<i64: 1>}}
  gpu.module @kernels {
    gpu.func @k(%x: memref<1x256xf16>, %y: memref<1x64xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{'qopt.gpu_launch' 'resident' must be an increasing array of input indices of the function (not its result)}}
func.func private @k_launch_c3(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, resident = array<i64: 3>}}

// -----

module {
  // expected-error @below {{qopt.gpu_launch functions must be bufferized first}}
  func.func private @k_launch(tensor<1x256xf16>) -> tensor<1x64xf16>
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k}}
}

// -----

module {
  // expected-error @below {{no kernel module for @kernels::@k}}
  func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k}}
}

// -----

// expected-error @below {{'qopt.gpu_launch' must be a dictionary with a 'kernel' symbol and positive 3-D 'grid' and 'block' arrays}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k}}

// -----

// Dynamic shared memory (the wgmma GEMM's stages): the launch passes it.
// CHECK-LABEL: func.func private @k_smem_launch(
// CHECK:         %[[SMEM:.*]] = arith.constant 197632 : i32
// CHECK:         gpu.launch_func @kernels::@k_smem blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}}) dynamic_shared_memory_size %[[SMEM]] args(
module attributes {gpu.container_module} {
  func.func private @k_smem_launch(memref<128x128xi8>, memref<256x128xi8>, memref<f32>, memref<f32>, memref<128x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 256, 1, 1>, grid = array<i64: 1, 1, 1>, kernel = @kernels::@k_smem, dynamic_shared_memory = 197632 : i64}}
  gpu.module @kernels {
    gpu.func @k_smem(%x: memref<128x128xi8>, %w: memref<256x128xi8>, %sx: memref<f32>, %sw: memref<f32>, %y: memref<128x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// TMA tensor maps of device buffers (the copied Xq and the resident Wq)
// go to the kernel after the inputs, before Y.
// CHECK-LABEL: func.func private @tma_launch_c1
// CHECK:         %[[WD:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<256x512xi8>
// CHECK:         %[[XD:.*]] = gpu.alloc () : memref<300x512xi8>
// CHECK:         gpu.memcpy %[[XD]]
// CHECK:         %[[YD:.*]] = gpu.alloc () : memref<300x256xf16>
// CHECK:         %[[XM:.*]] = qopt.gpu_tensor_map %[[XD]] box [128, 128] : memref<300x512xi8>
// CHECK:         %[[WM:.*]] = qopt.gpu_tensor_map %[[WD]] box [256, 128] : memref<256x512xi8>
// CHECK:         gpu.launch_func @kernels::@tma {{.*}} args(%[[XD]] : memref<300x512xi8>, %[[WD]] : memref<256x512xi8>, %[[XM]] : i64, %[[WM]] : i64, %[[YD]] : memref<300x256xf16>)
module attributes {gpu.container_module} {
  func.func private @tma_launch_c1(memref<300x512xi8>, memref<256x512xi8>, memref<300x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma, resident = array<i64: 1>,
                                     tensor_maps = [array<i64: 0, 128, 128>, array<i64: 1, 256, 128>]}}
  gpu.module @kernels {
    gpu.func @tma(%x: memref<300x512xi8>, %w: memref<256x512xi8>, %xm: i64, %wm: i64, %y: memref<300x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// A map the buffer cannot have (TMA strides: rows of 16-byte multiples).
module attributes {gpu.container_module} {
  // expected-error @below {{'qopt.gpu_launch' tensor map of argument 0: needs rows of a multiple of 16 bytes (TMA strides); got 100}}
  func.func private @tma_launch(memref<300x100xi8>, memref<300x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                     tensor_maps = [array<i64: 0, 128, 64>]}}
  gpu.module @kernels {
    gpu.func @tma(%x: memref<300x100xi8>, %xm: i64, %y: memref<300x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{'qopt.gpu_launch' 'tensor_maps' must be an array of [input index, box rows, box columns] arrays on a function (not of its result)}}
func.func private @tma_launch(memref<300x512xi8>, memref<300x256xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                   tensor_maps = [array<i64: 2, 128, 128>]}}

// -----

// The result (the last argument after buffer-results-to-out-params) is
// not an input: no map of it.
module attributes {gpu.container_module} {
  // expected-error @below {{'qopt.gpu_launch' 'tensor_maps' must be an array of [input index, box rows, box columns] arrays on a function (not of its result)}}
  func.func private @tma_launch(memref<300x512xi8>, memref<300x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                     tensor_maps = [array<i64: 1, 128, 64>]}}
  gpu.module @kernels {
    gpu.func @tma(%x: memref<300x512xi8>, %ym: i64, %y: memref<300x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{'qopt.gpu_launch' tensor map of argument 0: needs a box of 2 dimensions of 1 to 256 elements, its rows a multiple of 16 bytes}}
func.func private @tma_launch(memref<300x512xi8>, memref<300x256xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                   tensor_maps = [array<i64: 0, 512, 128>]}}

// -----

// expected-error @below {{'qopt.gpu_launch' tensor map of argument 0: needs a static, row-major 2-D buffer of 1-, 2- or 4-byte elements; got 'memref<300x512xindex>'}}
func.func private @tma_launch(memref<300x512xindex>, memref<300x256xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                   tensor_maps = [array<i64: 0, 128, 16>]}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'tensor_maps' must be an array of [input index, box rows, box columns] arrays on a function (not of its result)}}
func.func private @tma_launch(memref<300x512xi8>, memref<300x256xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                   tensor_maps = [array<i64: 0, 128>]}}

// -----

// A map of something that is not a buffer.
// expected-error @below {{'qopt.gpu_launch' tensor map of argument 1: needs a buffer; got 'i64'}}
func.func private @tma_launch(memref<300x512xi8>, i64, memref<300x256xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1, 3, 1>, kernel = @kernels::@tma,
                                   tensor_maps = [array<i64: 1, 128, 16>]}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'dynamic_shared_memory' must be an integer from 0 to 2^31 - 1}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, dynamic_shared_memory = "196 KiB"}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'dynamic_shared_memory' must be an integer from 0 to 2^31 - 1}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, dynamic_shared_memory = 4294967296 : i64}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'dynamic_shared_memory' must be an integer from 0 to 2^31 - 1}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, dynamic_shared_memory = -1 : i64}}

// -----

// Thread-block clusters: the launch passes them.
// CHECK-LABEL: func.func private @k_cluster_launch(
// CHECK:         gpu.launch_func @kernels::@k_cluster clusters in (%{{.*}}, %{{.*}}, %{{.*}}) blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in
module attributes {gpu.container_module} {
  func.func private @k_cluster_launch(memref<256x128xi8>, memref<256x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 2, 2, 1>, kernel = @kernels::@k_cluster, cluster = array<i64: 2, 1, 1>}}
  gpu.module @kernels {
    gpu.func @k_cluster(%x: memref<256x128xi8>, %y: memref<256x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{'qopt.gpu_launch' 'cluster' must be a 3-D array of positive divisors of the grid, of at most 8 blocks}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 3, 1, 1>, kernel = @kernels::@k, cluster = array<i64: 2, 1, 1>}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'cluster' must be a 3-D array of positive divisors of the grid, of at most 8 blocks}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, cluster = array<i64: 2, 1>}}

// -----

// expected-error @below {{'qopt.gpu_launch' 'cluster' must be a 3-D array of positive divisors of the grid, of at most 8 blocks}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 16, 1, 1>, kernel = @kernels::@k, cluster = array<i64: 16, 1, 1>}}

// -----

// A persistent kernel: grid x is the smaller of its tile count and the
// device's SM count (qoptMultiprocessorCount), asked before the copies.
// CHECK:       llvm.func @qoptMultiprocessorCount() -> i64
// CHECK-LABEL: func.func private @k_persistent_launch(
// CHECK:         %[[SMS:.*]] = llvm.call @qoptMultiprocessorCount() : () -> i64
// CHECK:         %[[SMSI:.*]] = arith.index_cast %[[SMS]] : i64 to index
// CHECK:         %[[TILES:.*]] = arith.constant 1792 : index
// CHECK:         %[[GX:.*]] = arith.minui %[[SMSI]], %[[TILES]] : index
// CHECK:         gpu.alloc
// CHECK:         gpu.launch_func @kernels::@k_persistent blocks in (%[[GX]], %{{.*}}, %{{.*}}) threads in
module attributes {gpu.container_module} {
  func.func private @k_persistent_launch(memref<256x128xi8>, memref<256x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1792, 1, 1>, kernel = @kernels::@k_persistent, persistent}}
  gpu.module @kernels {
    gpu.func @k_persistent(%x: memref<256x128xi8>, %y: memref<256x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// In clusters: whole clusters, at least one.
// CHECK-LABEL: func.func private @k_persistent_cluster_launch(
// CHECK:         %[[SMS:.*]] = llvm.call @qoptMultiprocessorCount() : () -> i64
// CHECK:         %[[SMSI:.*]] = arith.index_cast %[[SMS]] : i64 to index
// CHECK:         %[[MIN:.*]] = arith.minui %[[SMSI]], %{{.*}} : index
// CHECK:         %[[C2:.*]] = arith.constant 2 : index
// CHECK:         %[[Q:.*]] = arith.divui %[[MIN]], %[[C2]] : index
// CHECK:         %[[W:.*]] = arith.muli %[[Q]], %[[C2]] : index
// CHECK:         %[[GX:.*]] = arith.maxui %[[W]], %[[C2]] : index
// CHECK:         gpu.launch_func @kernels::@k_pc clusters in (%{{.*}}, %{{.*}}, %{{.*}}) blocks in (%[[GX]], %{{.*}}, %{{.*}}) threads in
module attributes {gpu.container_module} {
  func.func private @k_persistent_cluster_launch(memref<256x128xi8>, memref<256x256xf16>)
      attributes {qopt.gpu_launch = {block = array<i64: 384, 1, 1>, grid = array<i64: 1792, 1, 1>, kernel = @kernels::@k_pc, persistent, cluster = array<i64: 2, 1, 1>}}
  gpu.module @kernels {
    gpu.func @k_pc(%x: memref<256x128xi8>, %y: memref<256x256xf16>) kernel {
      gpu.return
    }
  }
}

// -----

// expected-error @below {{'qopt.gpu_launch' 'persistent' must be a unit attribute}}
func.func private @k_launch(memref<1x256xf16>, memref<1x64xf16>)
    attributes {qopt.gpu_launch = {block = array<i64: 128, 1, 1>, grid = array<i64: 4, 1, 1>, kernel = @kernels::@k, persistent = 132 : i64}}
