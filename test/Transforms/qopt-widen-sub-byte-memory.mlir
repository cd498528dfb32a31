// RUN: quant-opt %s --pass-pipeline="builtin.module(llvm.func(qopt-widen-sub-byte-memory))" | FileCheck %s

// CHECK-LABEL: llvm.func @copy_i4
// CHECK: %[[B:.*]] = llvm.load %{{.*}} {alignment = 1 : i64} : !llvm.ptr -> i8
// CHECK: %[[V:.*]] = llvm.trunc %[[B]] : i8 to i4
// CHECK: %[[E:.*]] = llvm.sext %[[V]] : i4 to i8
// CHECK: llvm.store %[[E]], %{{.*}} {alignment = 1 : i64} : i8, !llvm.ptr
llvm.func @copy_i4(%src: !llvm.ptr, %dst: !llvm.ptr) {
  %v = llvm.load %src {alignment = 1 : i64} : !llvm.ptr -> i4
  llvm.store %v, %dst {alignment = 1 : i64} : i4, !llvm.ptr
  llvm.return
}

// Booleans are zero-extended; whole bytes are left alone.
// CHECK-LABEL: llvm.func @copy_i1
// CHECK: llvm.zext %{{.*}} : i1 to i8
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> i8
// CHECK-NOT: llvm.trunc
llvm.func @copy_i1(%src: !llvm.ptr, %dst: !llvm.ptr, %b: i1) {
  llvm.store %b, %dst : i1, !llvm.ptr
  %w = llvm.load %src : !llvm.ptr -> i8
  llvm.store %w, %dst : i8, !llvm.ptr
  llvm.return
}
