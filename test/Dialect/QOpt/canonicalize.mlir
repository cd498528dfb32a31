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

// -----

// Requantizing codes with the parameters they were dequantized with is an
// exact identity for integer storage.
// CHECK-LABEL: func @requantize_same_params
// CHECK-SAME: (%[[Q:.*]]: tensor<4xi8>)
// CHECK-NEXT: return %[[Q]]
func.func @requantize_same_params(%q: tensor<4xi8>) -> tensor<4xi8> {
  %s = arith.constant dense<0.25> : tensor<f32>
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xf32>
  %r = qopt.quantize %d, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %r : tensor<4xi8>
}

// -----

// Other scales, a scale unknown at compile time (it could be 0), bf16 in
// between (which rounds) or FP8 codes: no fold.
// CHECK-LABEL: func @requantize_no_fold
// CHECK-COUNT-4: qopt.quantize
func.func @requantize_no_fold(%q: tensor<4xi8>, %s: tensor<f32>, %t: tensor<f32>, %f: tensor<4xf8E4M3FN>)
    -> (tensor<4xi8>, tensor<4xi8>, tensor<4xf8E4M3FN>, tensor<4xi8>) {
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xf32>
  %a = qopt.quantize %d, %t : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  %db = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xbf16>
  %b = qopt.quantize %db, %s : (tensor<4xbf16>, tensor<f32>) -> tensor<4xi8>
  %df = qopt.dequantize %f, %s : (tensor<4xf8E4M3FN>, tensor<f32>) -> tensor<4xf32>
  %c = qopt.quantize %df, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xf8E4M3FN>
  %e = qopt.quantize %d, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %a, %b, %c, %e : tensor<4xi8>, tensor<4xi8>, tensor<4xf8E4M3FN>, tensor<4xi8>
}
