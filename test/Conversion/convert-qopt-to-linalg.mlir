// RUN: quant-opt %s --convert-qopt-to-linalg --split-input-file --verify-diagnostics | FileCheck %s

// Per-group scale and zero point: the block map divides the column index by
// the group size; rounding is half-to-even, then + z, clamp, NaN -> z.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GRP:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
// CHECK-LABEL: func @quantize_per_group_asymmetric
// CHECK-DAG: %[[HI:.*]] = arith.constant 2.550000e+02 : f32
// CHECK-DAG: %[[LO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[GRP]], #[[GRP]], #[[ID]]]
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[S:.*]]: f32, %[[Z:.*]]: ui8, %{{.*}}: ui8):
// CHECK: %[[V:.*]] = arith.divf %[[X]], %[[S]] : f32
// CHECK: %[[R:.*]] = math.roundeven %[[V]] : f32
// CHECK: builtin.unrealized_conversion_cast %[[Z]] : ui8 to i8
// CHECK: arith.extui
// CHECK: arith.addf %[[R]]
// CHECK: arith.maximumf %{{.*}}, %[[LO]]
// CHECK: arith.minimumf %{{.*}}, %[[HI]]
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: arith.trunci %{{.*}} : i32 to i8
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : i8 to ui8
func.func @quantize_per_group_asymmetric(%x: tensor<4x8xf32>, %s: tensor<4x2xf32>, %z: tensor<4x2xui8>) -> tensor<4x8xui8> {
  %q = qopt.quantize %x, %s, %z : (tensor<4x8xf32>, tensor<4x2xf32>, tensor<4x2xui8>) -> tensor<4x8xui8>
  return %q : tensor<4x8xui8>
}

// -----

// Per-tensor (rank-0 scale), narrow-range INT4, f16 input computed in f32.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @quantize_per_tensor_narrow
// CHECK-DAG: arith.constant 7.000000e+00 : f32
// CHECK-DAG: arith.constant -7.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SCALAR]], #{{.*}}]
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.trunci %{{.*}} : i32 to i4
func.func @quantize_per_tensor_narrow(%x: tensor<16xf16>, %s: tensor<f32>) -> tensor<16xi4> {
  %q = qopt.quantize %x, %s {narrow_range} : (tensor<16xf16>, tensor<f32>) -> tensor<16xi4>
  return %q : tensor<16xi4>
}

// -----

// Per-channel via an all-ones dimension reads the scale at index 0 there.
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @dequantize_per_channel
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]], #{{.*}}]
// CHECK: arith.extsi %{{.*}} : i4 to i32
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @dequantize_per_channel(%q: tensor<8x32xi4>, %s: tensor<8x1xf32>) -> tensor<8x32xbf16> {
  %d = qopt.dequantize %q, %s : (tensor<8x32xi4>, tensor<8x1xf32>) -> tensor<8x32xbf16>
  return %d : tensor<8x32xbf16>
}

// -----

// 2-D blocks divide both indices.
// CHECK-DAG: #[[BLK:.*]] = affine_map<(d0, d1) -> (d0 floordiv 128, d1 floordiv 64)>
// CHECK-LABEL: func @quantize_blocks
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLK]], #{{.*}}]
func.func @quantize_blocks(%x: tensor<256x128xf32>, %s: tensor<2x2xf32>) -> tensor<256x128xi8> {
  %q = qopt.quantize %x, %s : (tensor<256x128xf32>, tensor<2x2xf32>) -> tensor<256x128xi8>
  return %q : tensor<256x128xi8>
}

// -----

// FP8 is integer bit manipulation: no arith.truncf to an 8-bit float.
// CHECK-LABEL: func @quantize_fp8
// CHECK: arith.divf
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: math.roundeven
// CHECK: arith.minsi
// CHECK: arith.bitcast %{{.*}} : i8 to f8E4M3FN
// CHECK-NOT: arith.truncf
func.func @quantize_fp8(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xf8E4M3FN> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xf8E4M3FN>
  return %q : tensor<4xf8E4M3FN>
}

// -----

// CHECK-LABEL: func @dequantize_fp8
// CHECK: arith.bitcast %{{.*}} : f8E5M2 to i8
// CHECK: arith.extsi %{{.*}} : i8 to i32
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK: arith.mulf
func.func @dequantize_fp8(%q: tensor<4xf8E5M2>, %s: tensor<f32>) -> tensor<4xf32> {
  %d = qopt.dequantize %q, %s : (tensor<4xf8E5M2>, tensor<f32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// pack reads elements 2k and 2k+1 and ORs the high nibble in.
// CHECK-DAG: #[[EVEN:.*]] = affine_map<(d0, d1) -> (d0, d1 * 2)>
// CHECK-DAG: #[[ODD:.*]] = affine_map<(d0, d1) -> (d0, d1 * 2 + 1)>
// CHECK-LABEL: func @pack
// CHECK: tensor.empty() : tensor<4x8xi8>
// CHECK: linalg.generic {indexing_maps = [#[[EVEN]], #[[ODD]], #{{.*}}]
// CHECK: arith.extui %{{.*}} : i4 to i8
// CHECK: arith.extui %{{.*}} : i4 to i8
// CHECK: arith.shli
// CHECK: arith.ori
func.func @pack(%q: tensor<4x16xi4>) -> tensor<4x8xi8> {
  %p = qopt.pack %q : tensor<4x16xi4> -> tensor<4x8xi8>
  return %p : tensor<4x8xi8>
}

// -----

// unpack with a dynamic outer dimension: the empty result takes its size.
// CHECK-DAG: #[[HALF:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-LABEL: func @unpack_dynamic
// CHECK: %[[DIM:.*]] = tensor.dim
// CHECK: tensor.empty(%[[DIM]]) : tensor<?x8xui4>
// CHECK: linalg.generic {indexing_maps = [#[[HALF]], #{{.*}}]
// CHECK: linalg.index 1
// CHECK: arith.shrui
// CHECK: arith.trunci %{{.*}} : i8 to i4
func.func @unpack_dynamic(%p: tensor<?x4xi8>) -> tensor<?x8xui4> {
  %u = qopt.unpack %p : tensor<?x4xi8> -> tensor<?x8xui4>
  return %u : tensor<?x8xui4>
}

// -----

// A block size that only exists at run time cannot be expressed in an
// affine map: a clear error, not a crash.
func.func @dynamic_block(%x: tensor<?x8xf32>, %s: tensor<2x1xf32>) -> tensor<?x8xi8> {
  // expected-error @+1 {{cannot lower to linalg: the block size along a dynamic dimension must be 1 or the whole dimension}}
  %q = qopt.quantize %x, %s : (tensor<?x8xf32>, tensor<2x1xf32>) -> tensor<?x8xi8>
  return %q : tensor<?x8xi8>
}
