// RUN: quant-opt %s --qopt-lower-gpu-tensor-maps | FileCheck %s
// RUN: quant-opt %s --gpu-async-region --qopt-lower-gpu-tensor-maps | FileCheck %s --check-prefix=ASYNC

// qopt.gpu_tensor_map becomes a call of the runtime's qoptTensorMap(base,
// rows, columns, element bytes, box rows, box columns, swizzle bytes),
// declared once (the module's declaration is reused). The swizzle is the
// span of a box row when it is 32, 64 or 128 bytes, else 0.
// CHECK:       llvm.func @qoptTensorMap(!llvm.ptr, i64, i64, i64, i64, i64, i64) -> i64
// CHECK-NOT:   llvm.func @qoptTensorMap
// CHECK-LABEL: func.func @launch
// CHECK:         %[[X:.*]] = gpu.alloc () : memref<300x512xi8>
// CHECK:         %[[XB:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// CHECK:         %[[XI:.*]] = arith.index_cast %[[XB]] : index to i64
// CHECK:         %[[XP:.*]] = llvm.inttoptr %[[XI]] : i64 to !llvm.ptr
// CHECK-DAG:     %[[C300:.*]] = arith.constant 300 : i64
// CHECK-DAG:     %[[C512:.*]] = arith.constant 512 : i64
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : i64
// CHECK-DAG:     %[[BR:.*]] = arith.constant 128 : i64
// CHECK-DAG:     %[[BC:.*]] = arith.constant 128 : i64
// CHECK-DAG:     %[[SW:.*]] = arith.constant 128 : i64
// CHECK:         %[[XM:.*]] = llvm.call @qoptTensorMap(%[[XP]], %[[C300]], %[[C512]], %[[C1]], %[[BR]], %[[BC]], %[[SW]])
// CHECK:         %[[WM:.*]] = llvm.call @qoptTensorMap(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK:         gpu.launch_func @kernels::@k {{.*}} args(%[[X]] : memref<300x512xi8>, %{{.*}} : memref<256x512xi8>, %[[XM]] : i64, %[[WM]] : i64, %{{.*}} : memref<300x256xf16>)
// 2-byte elements (f16): 64 rows x 32 elements a box.
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : i64
// CHECK-DAG:     %[[C64:.*]] = arith.constant 64 : i64
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : i64
// CHECK-DAG:     %[[SW64:.*]] = arith.constant 64 : i64
// CHECK:         llvm.call @qoptTensorMap(%{{.*}}, %{{.*}}, %{{.*}}, %[[C2]], %[[C64]], %[[C32]], %[[SW64]])
// CHECK-NOT:     qopt.gpu_tensor_map

// The op is pure, so gpu-async-region keeps the copies, the maps and the
// launch on one stream, with one wait at the end.
// ASYNC-LABEL: func.func @launch
// ASYNC:         gpu.memcpy async
// ASYNC-NOT:     gpu.wait [
// ASYNC:         llvm.call @qoptTensorMap
// ASYNC-NOT:     gpu.wait [
// ASYNC:         llvm.call @qoptTensorMap
// ASYNC-NOT:     gpu.wait [
// ASYNC:         gpu.launch_func async
// ASYNC:         gpu.wait [
module attributes {gpu.container_module} {
  llvm.func @qoptTensorMap(!llvm.ptr, i64, i64, i64, i64, i64, i64) -> i64
  func.func @launch(%xh: memref<300x512xi8>, %w: memref<256x512xi8>, %yh: memref<300x256xf16>) {
    %x = gpu.alloc () : memref<300x512xi8>
    gpu.memcpy %x, %xh : memref<300x512xi8>, memref<300x512xi8>
    %y = gpu.alloc () : memref<300x256xf16>
    %xm = qopt.gpu_tensor_map %x box [128, 128] : memref<300x512xi8>
    %wm = qopt.gpu_tensor_map %w box [256, 128] : memref<256x512xi8>
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%x : memref<300x512xi8>, %w : memref<256x512xi8>, %xm : i64, %wm : i64, %y : memref<300x256xf16>)
    gpu.memcpy %yh, %y : memref<300x256xf16>, memref<300x256xf16>
    %ym = qopt.gpu_tensor_map %y box [64, 32] : memref<300x256xf16>
    llvm.call @use(%ym) : (i64) -> ()
    gpu.dealloc %x : memref<300x512xi8>
    gpu.dealloc %y : memref<300x256xf16>
    return
  }
  llvm.func @use(i64)
  gpu.module @kernels {
    gpu.func @k(%x: memref<300x512xi8>, %w: memref<256x512xi8>, %xm: i64, %wm: i64, %y: memref<300x256xf16>) kernel {
      gpu.return
    }
  }
}
