// quant-opt fails the run when a pass reports an error and still returns
// success (here finalize-memref-to-llvm, which has no address space for
// workgroup memory outside a GPU lowering): mlir-opt would exit 0 and write
// the half-converted module. An output file is not left behind.
// RUN: rm -f %t.out
// RUN: not quant-opt %s --finalize-memref-to-llvm -o %t.out 2>&1 | FileCheck %s
// RUN: not test -e %t.out
// CHECK: error: conversion of memref memory space #gpu.address_space<workgroup>
// CHECK: quant-opt: failing the run: 1 error was reported by a pass that returned success

// A clean run still writes its output and exits 0.
// RUN: quant-opt %s --canonicalize -o %t.ok
// RUN: FileCheck %s --check-prefix=OK --input-file=%t.ok
// OK: memref.store

// Expected errors under -verify-diagnostics are the verifier's to judge.
// RUN: quant-opt %s --finalize-memref-to-llvm -verify-diagnostics -o /dev/null

func.func @f(%a: memref<4xf32>, %w: memref<4xf32, #gpu.address_space<workgroup>>) {
  %c0 = arith.constant 0 : index
  // expected-error@unknown {{conversion of memref memory space}}
  %v = memref.load %w[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
  memref.store %v, %a[%c0] : memref<4xf32>
  return
}
