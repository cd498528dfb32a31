// RUN: quant-opt %s --qopt-cpu-pipeline | FileCheck %s
// RUN: quant-opt %s --qopt-cpu-pipeline="results-to-out-params=false" | FileCheck %s --check-prefix=RET

// Everything ends in the LLVM dialect; rounding is roundeven (never the
// truncating fptosi of upstream lower-quant-ops alone); the tensor signature
// is kept for runners; results become caller-allocated out-parameters.
// CHECK-NOT: qopt.quantize
// CHECK-NOT: linalg.
// CHECK-NOT: quant.qcast
// CHECK: llvm.func @main(
// CHECK-SAME: qopt.signature = (tensor<4xf32>) -> (tensor<4xi8>, tensor<4xf32>)
// CHECK: llvm.intr.roundeven
// CHECK: llvm.fptosi
// CHECK: llvm.func @_mlir_ciface_main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.return %{{.*}} : !llvm.struct

// RET: llvm.func @_mlir_ciface_main(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
func.func @main(%x: tensor<4xf32>) -> (tensor<4x!quant.uniform<i8:f32, 0.0244>>, tensor<4xf32>) {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.0244>>
  %s = arith.constant dense<0.5> : tensor<f32>
  %i = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi4>
  %d = qopt.dequantize %i, %s : (tensor<4xi4>, tensor<f32>) -> tensor<4xf32>
  return %q, %d : tensor<4x!quant.uniform<i8:f32, 0.0244>>, tensor<4xf32>
}
