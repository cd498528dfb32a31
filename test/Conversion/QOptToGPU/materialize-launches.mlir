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
