// The seed's worked examples, end to end through quant-run.
// RUN: quant-run %s | FileCheck %s
// RUN: quant-opt %s --qopt-cpu-pipeline -o %t.ll.mlir
// RUN: quant-run %t.ll.mlir | FileCheck %s

// s = 3.1 / 127 = 0.0244: [0.70, 3.1, -2.8, 5.0] -> [29, 127, -115, 127]
// through qopt.quantize and through quant.qcast alike (upstream
// lower-quant-ops gives [28, 127, -114, -52]).
// CHECK: result0: tensor<4xi8> = [29, 127, -115, 127]
// CHECK: result1: tensor<4xi8> = [29, 127, -115, 127]
// Dequantizing 29 gives 0.7076.
// CHECK: result2: tensor<4xf32> = [0.7076, 3.0988, -2.806, 3.0988]
// The i4 pair (-3, 6) packs to 0x6d = 109; s = 0.05 dequantizes them to
// -0.15 and 0.30.
// CHECK: result3: tensor<1xi8> = [109]
// CHECK: result4: tensor<2xf32> = [-0.15, 0.3]
// Asymmetric UINT8 over [-0.4, 5.7]: s = 6.1/255, z = 17; real 0 -> 17.
// CHECK: result5: tensor<3xui8> = [0, 17, 255]
func.func @main() -> (tensor<4xi8>, tensor<4xi8>, tensor<4xf32>, tensor<1xi8>,
                      tensor<2xf32>, tensor<3xui8>) {
  %x = arith.constant dense<[0.70, 3.1, -2.8, 5.0]> : tensor<4xf32>
  %s = arith.constant dense<0.0244> : tensor<f32>
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  %u = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.0244>>
  %us = quant.scast %u : tensor<4x!quant.uniform<i8:f32, 0.0244>> to tensor<4xi8>
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xf32>

  %n = arith.constant dense<[-3, 6]> : tensor<2xi4>
  %p = qopt.pack %n : tensor<2xi4> -> tensor<1xi8>
  %un = qopt.unpack %p : tensor<1xi8> -> tensor<2xi4>
  %s5 = arith.constant dense<0.05> : tensor<f32>
  %dn = qopt.dequantize %un, %s5 : (tensor<2xi4>, tensor<f32>) -> tensor<2xf32>

  %a = arith.constant dense<[-0.4, 0.0, 5.7]> : tensor<3xf32>
  %sa = arith.constant dense<0.023921569> : tensor<f32>
  %za = arith.constant dense<17> : tensor<ui8>
  %qa = qopt.quantize %a, %sa, %za : (tensor<3xf32>, tensor<f32>, tensor<ui8>) -> tensor<3xui8>
  return %q, %us, %d, %p, %dn, %qa : tensor<4xi8>, tensor<4xi8>, tensor<4xf32>, tensor<1xi8>, tensor<2xf32>, tensor<3xui8>
}
