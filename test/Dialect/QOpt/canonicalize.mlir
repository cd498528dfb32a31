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

// -----

// A product of dequantized activation codes reads the codes.
// CHECK-LABEL: func @matmul_reads_dequantized_codes
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<4x64xui8>, %[[S:[a-z0-9]+]]: tensor<4x1xf32>, %[[Z:[a-z0-9]+]]: tensor<4x1xui8>
// CHECK-NOT: qopt.dequantize
// CHECK: qopt.matmul %[[Q]], %{{.*}}, %{{.*}} input_scale(%[[S]], %[[Z]]) {acc_type = f32} : (tensor<4x64xui8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<4x1xf32>, tensor<4x1xui8>) -> tensor<4x16xf32>
func.func @matmul_reads_dequantized_codes(%q: tensor<4x64xui8>, %s: tensor<4x1xf32>, %z: tensor<4x1xui8>,
                                          %w: tensor<16x64xi8>, %sw: tensor<16x1xf32>) -> tensor<4x16xf32> {
  %x = qopt.dequantize %q, %s, %z : (tensor<4x64xui8>, tensor<4x1xf32>, tensor<4x1xui8>) -> tensor<4x64xf32>
  %y = qopt.matmul %x, %w, %sw {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xi8>, tensor<16x1xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Requantization into a product's input is folded: the product reads the
// original codes with their scale, with no second rounding.
// CHECK-LABEL: func @matmul_folds_requantization
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<4x64xi8>, %[[S:[a-z0-9]+]]: tensor<f32>
// CHECK-NOT: qopt.quantize
// CHECK: qopt.matmul %[[Q]], %{{.*}}, %{{.*}} input_scale(%[[S]]) {acc_type = f32}
func.func @matmul_folds_requantization(%q: tensor<4x64xi8>, %s: tensor<f32>, %s2: tensor<f32>,
                                       %w: tensor<16x64xi8>, %sw: tensor<16x1xf32>) -> tensor<4x16xf32> {
  %x = qopt.dequantize %q, %s : (tensor<4x64xi8>, tensor<f32>) -> tensor<4x64xf32>
  %r = qopt.quantize %x, %s2 {narrow_range} : (tensor<4x64xf32>, tensor<f32>) -> tensor<4x64xi8>
  %y = qopt.matmul %r, %w, %sw input_scale(%s2) {acc_type = f32} : (tensor<4x64xi8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Codes that cannot feed the product stay dequantized: scales along K
// (not per tensor or per row), and i8 codes with an FP8 weight.
// CHECK-LABEL: func @matmul_keeps_dequantize
// CHECK: qopt.dequantize
// CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xi8>
// CHECK: qopt.dequantize
// CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xf8E4M3FN>
func.func @matmul_keeps_dequantize(%q: tensor<4x64xi8>, %sk: tensor<1x64xf32>, %s: tensor<f32>,
                                   %w: tensor<16x64xi8>, %wf: tensor<16x64xf8E4M3FN>,
                                   %sw: tensor<16x1xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %x = qopt.dequantize %q, %sk : (tensor<4x64xi8>, tensor<1x64xf32>) -> tensor<4x64xf32>
  %y = qopt.matmul %x, %w, %sw {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xi8>, tensor<16x1xf32>) -> tensor<4x16xf32>
  %x2 = qopt.dequantize %q, %s : (tensor<4x64xi8>, tensor<f32>) -> tensor<4x64xf32>
  %y2 = qopt.matmul %x2, %wf, %sw {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xf8E4M3FN>, tensor<16x1xf32>) -> tensor<4x16xf32>
  return %y, %y2 : tensor<4x16xf32>, tensor<4x16xf32>
}
