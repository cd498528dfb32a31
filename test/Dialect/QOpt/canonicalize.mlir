// RUN: quant-opt %s -canonicalize -split-input-file | FileCheck %s

// unpack(pack(x)) is exactly x.
// CHECK-LABEL: func @unpack_pack
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xi4>)
// CHECK-NEXT: return %[[X]]
func.func @unpack_pack(%x: tensor<4x8xi4>) -> tensor<4x8xi4> {
  %p = qopt.pack %x : tensor<4x8xi4> -> tensor<4x4xi8>
  %u = qopt.unpack %p : tensor<4x4xi8> -> tensor<4x8xi4>
  return %u : tensor<4x8xi4>
}

// -----

// pack(unpack(p)) is exactly p.
// CHECK-LABEL: func @pack_unpack
// CHECK-SAME: (%[[P:.*]]: tensor<4x4xi8>)
// CHECK-NEXT: return %[[P]]
func.func @pack_unpack(%p: tensor<4x4xi8>) -> tensor<4x4xi8> {
  %u = qopt.unpack %p : tensor<4x4xi8> -> tensor<4x8xui4>
  %r = qopt.pack %u : tensor<4x8xui4> -> tensor<4x4xi8>
  return %r : tensor<4x4xi8>
}

// -----

// Reinterpreting i4 as ui4 is not an identity: no fold.
// CHECK-LABEL: func @unpack_pack_other_type
// CHECK: qopt.pack
// CHECK: qopt.unpack
func.func @unpack_pack_other_type(%x: tensor<8xi4>) -> tensor<8xui4> {
  %p = qopt.pack %x : tensor<8xi4> -> tensor<4xi8>
  %u = qopt.unpack %p : tensor<4xi8> -> tensor<8xui4>
  return %u : tensor<8xui4>
}

// -----

// dequantize(quantize(x)) carries the quantization error the user asked
// for: it must never fold to x.
// CHECK-LABEL: func @keep_quantization_error
// CHECK: qopt.quantize
// CHECK: qopt.dequantize
func.func @keep_quantization_error(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xf32> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// Constant operands fold: the seed's pair (-3, 6) packs to 0x6d = 109.
// CHECK-LABEL: func @pack_constant
// CHECK: arith.constant dense<[109, -16]> : tensor<2xi8>
// CHECK-NOT: qopt.pack
func.func @pack_constant() -> tensor<2xi8> {
  %c = arith.constant dense<[-3, 6, 0, -1]> : tensor<4xi4>
  %p = qopt.pack %c : tensor<4xi4> -> tensor<2xi8>
  return %p : tensor<2xi8>
}

// -----

// CHECK-LABEL: func @unpack_constant
// CHECK: arith.constant dense<[-3, 6, 0, -1]> : tensor<4xi4>
// CHECK-NOT: qopt.unpack
func.func @unpack_constant() -> tensor<4xi4> {
  %c = arith.constant dense<[109, -16]> : tensor<2xi8>
  %u = qopt.unpack %c : tensor<2xi8> -> tensor<4xi4>
  return %u : tensor<4xi4>
}
