// An op the CPU pipeline cannot lower (workgroup memory in a gpu.module,
// which finalize-memref-to-llvm reports without failing) is an error at
// its location and a failed run (qopt-check-llvm-lowering), not a
// half-lowered module and exit code 0.
// RUN: not quant-opt %s --qopt-cpu-pipeline -o /dev/null 2>&1 | FileCheck %s
// CHECK: cpu-pipeline-leftover.mlir:[[#@LINE+6]]:7: error: '{{.*}}' was not lowered to the LLVM dialect
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>) workgroup(%w : memref<4xf32, #gpu.address_space<workgroup>>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %w[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
      memref.store %v, %a[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
