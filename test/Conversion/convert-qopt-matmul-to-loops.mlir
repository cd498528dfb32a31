// RUN: quant-opt %s --split-input-file --convert-qopt-matmul-to-loops | FileCheck %s
// RUN: quant-opt %s --split-input-file --convert-qopt-matmul-to-loops --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF

// Packed INT4, groups of 128: X is first put in split-nibble order (each
// group's 64 even columns, then its 64 odd ones); loops over n, rows, groups
// and packed bytes, 16 bytes a step as vectors: each byte is read once,
// widened and split into two codes in registers, which meet X columns t and
// 64 + t of the group; the group's vector sums are scaled once and carried
// to the next group; one reduction across lanes at the end.
// CHECK-LABEL: func @w4_g128
// CHECK: %[[SPLIT:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] output_shape [2, 2, 64, 2]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[SPLIT]] : tensor<2x2x64x2xf32>) outs(%{{.*}} : tensor<2x2x2x64xf32>) permutation = [0, 1, 3, 2]
// CHECK: %[[X:.*]] = tensor.collapse_shape %[[T]] {{\[\[}}0], [1, 2, 3]] : tensor<2x2x2x64xf32> into tensor<2x256xf32>
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[G:[^ ]*]] = {{.*}} -> (vector<16xf32>
// CHECK: %[[S:.*]] = tensor.extract %{{.*}}[%[[N]], %[[G]]] : tensor<64x2xf32>
// CHECK: scf.for %[[STEP:[^ ]*]] = %c0 to %c64 step %c16 iter_args(%[[P:[^ ]*]] = {{.*}}) -> (vector<16xf32>
// CHECK: %[[B:.*]] = vector.transfer_read %{{.*}}[%[[N]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<64x128xi8>, vector<16xi8>
// CHECK: %[[WIDE:.*]] = arith.extsi %[[B]] : vector<16xi8> to vector<16xi32>
// CHECK: arith.shli %[[WIDE]]
// CHECK: arith.shrsi
// CHECK: arith.shrsi %[[WIDE]]
// CHECK: %[[LOWV:.*]] = arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: %[[LOW:.*]] = arith.addi %{{.*}}, %[[STEP]] : index
// CHECK: %[[HIGH:.*]] = arith.addi %[[LOW]], %c64 : index
// CHECK: %[[XL:.*]] = vector.transfer_read %[[X]][%[[R]], %[[LOW]]]{{.*}} : tensor<2x256xf32>, vector<16xf32>
// CHECK: vector.fma %[[XL]], %[[LOWV]], %[[P]] : vector<16xf32>
// CHECK: vector.transfer_read %[[X]][%[[R]], %[[HIGH]]]
// CHECK: %[[SV:.*]] = vector.broadcast %[[S]] : f32 to vector<16xf32>
// CHECK: vector.fma %[[SV]], %{{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc,contract> : vector<16xf32> into f32
// CHECK: tensor.insert
// No f32 copy of the weight exists, before or after bufferization.
// CHECK-NOT: tensor<64x256xf32>
// BUF-LABEL: func @w4_g128
// BUF-NOT: memref.alloc() {{.*}} : memref<64x256xf32>
// BUF-NOT: memref<64x256xf32>
func.func @w4_g128(%x: tensor<2x256xf32>, %w: tensor<64x128xi8>, %s: tensor<64x2xf32>) -> tensor<2x64xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<2x256xf32>, tensor<64x128xi8>, tensor<64x2xf32>) -> tensor<2x64xf32>
  return %y : tensor<2x64xf32>
}

// -----

// Batch dimensions collapse into rows and expand back; a zero point is
// subtracted from each code; bf16 activations are extended.
// CHECK-LABEL: func @batched_asymmetric
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x64xbf16> into tensor<6x64xbf16>
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: arith.subf
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2]] output_shape [2, 3, 16] : tensor<6x16xf32> into tensor<2x3x16xf32>
func.func @batched_asymmetric(%x: tensor<2x3x64xbf16>, %w: tensor<16x64xui8>, %s: tensor<16x1xf32>, %z: tensor<16x1xui8>) -> tensor<2x3x16xf32> {
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32} : (tensor<2x3x64xbf16>, tensor<16x64xui8>, tensor<16x1xf32>, tensor<16x1xui8>) -> tensor<2x3x16xf32>
  return %y : tensor<2x3x16xf32>
}

// -----

// FP8 weights are decoded with integer bit manipulation in the loop, 16
// codes a step where the rows are whole vectors (FP8 decoding is not
// vectorised by LLVM, so also with one scale for all of K).
// CHECK-LABEL: func @fp8_vector
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 32] : tensor<32xf32> into tensor<1x32xf32>
// CHECK: vector.transfer_read %{{.*}} : tensor<8x32xf8E4M3FN>, vector<16xf8E4M3FN>
// CHECK: arith.bitcast %{{.*}} : vector<16xf8E4M3FN> to vector<16xi8>
// CHECK: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.select
// CHECK: arith.bitcast %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.fma
// CHECK: tensor.collapse_shape
func.func @fp8_vector(%x: tensor<32xf32>, %w: tensor<8x32xf8E4M3FN>, %s: tensor<f32>) -> tensor<8xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<32xf32>, tensor<8x32xf8E4M3FN>, tensor<f32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Rows that are not whole vectors (K = 24) decode one code at a time.
// CHECK-LABEL: func @fp8_scalar
// CHECK-NOT: vector.
// CHECK: arith.bitcast %{{.*}} : f8E5M2 to i8
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK: tensor.collapse_shape
func.func @fp8_scalar(%x: tensor<24xf32>, %w: tensor<8x24xf8E5M2>, %s: tensor<f32>) -> tensor<8xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<24xf32>, tensor<8x24xf8E5M2>, tensor<f32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

// Unsigned 8-bit codes in groups along K with zero points: vector loops,
// the bytes zero-extended and the group's zero point subtracted.
// CHECK-LABEL: func @ui8_groups_vector
// CHECK: vector.transfer_read %{{.*}} : tensor<16x64xui8>, vector<16xui8>
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : vector<16xui8> to vector<16xi8>
// CHECK: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: arith.subf %{{.*}} fastmath<reassoc,contract> : vector<16xf32>
// CHECK: vector.fma
func.func @ui8_groups_vector(%x: tensor<4x64xf32>, %w: tensor<16x64xui8>, %s: tensor<16x2xf32>, %z: tensor<16x2xui8>) -> tensor<4x16xf32> {
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32} : (tensor<4x64xf32>, tensor<16x64xui8>, tensor<16x2xf32>, tensor<16x2xui8>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// f16 accumulation with bf16 activations converts through f32 (no
// truncf between equal widths).
// CHECK-LABEL: func @f16_acc_bf16_input
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @f16_acc_bf16_input(%x: tensor<1x16xbf16>, %w: tensor<4x16xi8>, %s: tensor<4x1xf32>) -> tensor<1x4xbf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f16} : (tensor<1x16xbf16>, tensor<4x16xi8>, tensor<4x1xf32>) -> tensor<1x4xbf16>
  return %y : tensor<1x4xbf16>
}

// -----

// 5 rows by 6 channels: a tile of 4 channels by 4 rows (16 sums, each code
// and each X value loaded once for the tile), the fifth row against the
// same 4 channels (4 sums), then channels 4 and 5 one at a time, by 4 rows
// and by the fifth.
// CHECK-LABEL: func @tiles
// CHECK:   scf.for %[[N0:.*]] = %c0 to %c4 step %c4
// CHECK:     scf.for %{{.*}} = %c0 to %c4 step %c4
// CHECK:       scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK:         scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK-COUNT-4:   tensor.extract %{{.*}} : tensor<6x64xi8>
// CHECK-COUNT-4:   tensor.extract %{{.*}} : tensor<5x64xf32>
// CHECK-NOT:       tensor.extract
// CHECK-COUNT-16:  arith.addf
// CHECK:     scf.for %{{.*}} = %c4 to %c5 step %c1
// CHECK:       scf.for {{.*}} -> (f32, f32, f32, f32)
// CHECK:   scf.for %{{.*}} = %c4 to %c6 step %c1
// CHECK:     scf.for {{.*}} -> (f32, f32, f32, f32)
// CHECK:     scf.for %{{.*}} = %c4 to %c5 step %c1
// CHECK:       scf.for {{.*}} -> (f32)
func.func @tiles(%x: tensor<5x64xf32>, %w: tensor<6x64xi8>, %s: tensor<6x1xf32>) -> tensor<5x6xf32> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<5x64xf32>, tensor<6x64xi8>, tensor<6x1xf32>) -> tensor<5x6xf32>
  return %y : tensor<5x6xf32>
}

// -----

// W8A8 with 4 rows or more: X's codes less their zero point as f32, once
// (a linalg.generic); code products summed exactly in f32 lanes; each
// group's lanes to i32 and reduced exactly, then scaled as in the scalar
// loops.
// CHECK-LABEL: func @w8a8_vector
// CHECK: %[[XF:.*]] = linalg.generic
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: tensor.extract
// CHECK: arith.subi
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: -> tensor<8x64xf32>
// CHECK: scf.for
// CHECK: vector.transfer_read %{{.*}} : tensor<16x64xi8>, vector<16xi8>
// CHECK: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: vector.transfer_read %[[XF]]{{.*}} : tensor<8x64xf32>, vector<16xf32>
// CHECK: vector.fma
// CHECK: arith.fptosi %{{.*}} : vector<16xf32> to vector<16xi32>
// CHECK: vector.reduction <add>, %{{.*}} : vector<16xi32> into i32
// CHECK: arith.sitofp %{{.*}} : i32 to f32
func.func @w8a8_vector(%x: tensor<8x64xui8>, %w: tensor<16x64xi8>, %s: tensor<16x2xf32>, %sx: tensor<8x1xf32>, %zx: tensor<8x1xui8>) -> tensor<8x16xf32> {
  %y = qopt.matmul %x, %w, %s input_scale(%sx, %zx) {acc_type = f32} : (tensor<8x64xui8>, tensor<16x64xi8>, tensor<16x2xf32>, tensor<8x1xf32>, tensor<8x1xui8>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// W8A8 with fewer than 4 rows (decode) keeps the scalar i32 loops.
// CHECK-LABEL: func @w8a8_decode_scalar
// CHECK-NOT: vector.
// CHECK: arith.muli %{{.*}} : i32
// CHECK: return
func.func @w8a8_decode_scalar(%x: tensor<1x64xi8>, %w: tensor<16x64xi8>, %s: tensor<16x1xf32>, %sx: tensor<f32>) -> tensor<1x16xf32> {
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<1x64xi8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<f32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}
