// RUN: quant-opt %s --qopt-order-constant-globals | FileCheck %s
// The pipeline on three functions with a constant each: the globals follow
// the functions (bufferization used to name and order them by operation
// addresses, differently from run to run).
// RUN: quant-opt %S/../Pipelines/Inputs/three-constants.mlir --qopt-cpu-pipeline | FileCheck %s --check-prefix=PIPELINE

// PIPELINE: llvm.mlir.global private constant @__constant_8xf32(dense<[1.0{{.*}}, 8.0{{.*}}]>
// PIPELINE-NEXT: llvm.mlir.global private constant @__constant_8xf32_0(dense<[9.0{{.*}}, 1.0{{.*}}]>
// PIPELINE-NEXT: llvm.mlir.global private constant @__constant_8xf32_1(dense<[3.0{{.*}}, 1.5{{.*}}]>
// PIPELINE-LABEL: llvm.func @a(
// PIPELINE: llvm.mlir.addressof @__constant_8xf32 :
// PIPELINE-LABEL: llvm.func @b(
// PIPELINE: llvm.mlir.addressof @__constant_8xf32_0 :
// PIPELINE-LABEL: llvm.func @c(
// PIPELINE: llvm.mlir.addressof @__constant_8xf32_1 :

// First used first, numbered in that order per base name; a global that is
// not constant, or public, stays where and as it is; a base name another
// symbol holds gets a free suffix instead.
// CHECK: memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<1.000000e+00>
// CHECK-NEXT: memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<2.000000e+00>
// CHECK-NEXT: memref.global "private" constant @__constant_4xi8_0 : memref<4xi8> = dense<7>
// CHECK-NEXT: memref.global "private" constant @__constant_2xf32_1 : memref<2xf32> = dense<3.000000e+00>
// CHECK-NEXT: func.func private @__constant_4xi8()
// CHECK-NEXT: memref.global "private" @state : memref<2xf32>
// CHECK-NEXT: memref.global constant @table : memref<2xf32> = dense<5.000000e+00>
// CHECK-LABEL: func.func @a()
// CHECK: memref.get_global @__constant_2xf32 :
// CHECK: memref.get_global @state
// CHECK: memref.get_global @__constant_2xf32_0 :
// CHECK-LABEL: func.func @b()
// CHECK: memref.get_global @table
// CHECK: memref.get_global @__constant_4xi8_0 :
// CHECK: memref.get_global @__constant_2xf32_1 :
// CHECK: memref.get_global @__constant_2xf32 :
func.func private @__constant_4xi8()
memref.global "private" constant @__constant_2xf32_1 : memref<2xf32> = dense<2.0>
memref.global "private" @state : memref<2xf32>
memref.global "private" constant @__constant_2xf32 : memref<2xf32> = dense<3.0>
memref.global "private" constant @__constant_4xi8_0 : memref<4xi8> = dense<7>
memref.global constant @table : memref<2xf32> = dense<5.0>
memref.global "private" constant @__constant_2xf32_0 : memref<2xf32> = dense<1.0>
func.func @a() {
  %0 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
  %1 = memref.get_global @state : memref<2xf32>
  %2 = memref.get_global @__constant_2xf32_1 : memref<2xf32>
  return
}
func.func @b() {
  %0 = memref.get_global @table : memref<2xf32>
  %1 = memref.get_global @__constant_4xi8_0 : memref<4xi8>
  %2 = memref.get_global @__constant_2xf32 : memref<2xf32>
  %3 = memref.get_global @__constant_2xf32_0 : memref<2xf32>
  return
}
