// Rank-0 and empty tensors, mixed precisions, and dynamic shapes go
// through the CPU pipeline.
// RUN: quant-run %s | FileCheck %s
// RUN: quant-opt %s --qopt-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// 3.7 / 0.5 = 7.4 -> 7, in f64 because the scale is f64.
// CHECK: result0: tensor<i8> = 7
// CHECK: result1: tensor<0x4xi4> = []
// f16 result of an i4 code: -8 * 0.1 rounded once to f16.
// CHECK: result2: tensor<2xf16> = [-0.7998, 0.7002]
func.func @main() -> (tensor<i8>, tensor<0x4xi4>, tensor<2xf16>) {
  %x = arith.constant dense<3.7> : tensor<f32>
  %s = arith.constant dense<0.5> : tensor<f64>
  %q = qopt.quantize %x, %s : (tensor<f32>, tensor<f64>) -> tensor<i8>
  %e = arith.constant dense<> : tensor<0x4xf16>
  %es = arith.constant dense<> : tensor<0x1xf32>
  %r = qopt.quantize %e, %es : (tensor<0x4xf16>, tensor<0x1xf32>) -> tensor<0x4xi4>
  %c = arith.constant dense<[-8, 7]> : tensor<2xi4>
  %cs = arith.constant dense<0.1> : tensor<f32>
  %d = qopt.dequantize %c, %cs : (tensor<2xi4>, tensor<f32>) -> tensor<2xf16>
  return %q, %r, %d : tensor<i8>, tensor<0x4xi4>, tensor<2xf16>
}

// LLVM: llvm.func @dynamic
func.func @dynamic(%x: tensor<?x8xf32>, %s: tensor<1x2xf32>) -> tensor<?x8xi8> {
  %q = qopt.quantize %x, %s : (tensor<?x8xf32>, tensor<1x2xf32>) -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}
