// RUN: quant-opt %s --split-input-file --qopt-fuse-dequant-matmul --canonicalize | FileCheck %s

// The pattern qopt-quantize-weights leaves: unpack, dequantize, transpose.
// CHECK-LABEL: func @packed_transposed
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[P:.*]]: tensor<2x4xi8>, %[[S:.*]]: tensor<2x2xf32>)
// CHECK: %[[Y:.*]] = qopt.matmul %[[X]], %[[P]], %[[S]] {acc_type = f32, packed = i4} : (tensor<3x8xf32>, tensor<2x4xi8>, tensor<2x2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT: return %[[Y]]
func.func @packed_transposed(%x: tensor<3x8xf32>, %p: tensor<2x4xi8>, %s: tensor<2x2xf32>) -> tensor<3x2xf32> {
  %u = qopt.unpack %p : tensor<2x4xi8> -> tensor<2x8xi4>
  %d = qopt.dequantize %u, %s : (tensor<2x8xi4>, tensor<2x2xf32>) -> tensor<2x8xf32>
  %e = tensor.empty() : tensor<8x2xf32>
  %t = linalg.transpose ins(%d : tensor<2x8xf32>) outs(%e : tensor<8x2xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%o : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %t : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Packed codes in groups of 3 (bytes split between groups): qopt.matmul's
// packed groups hold whole bytes, so the product stays unfused.
// CHECK-LABEL: func @packed_odd_group
// CHECK: qopt.unpack
// CHECK: qopt.dequantize
// CHECK: linalg.matmul
// CHECK-NOT: qopt.matmul
func.func @packed_odd_group(%x: tensor<3x6xf32>, %p: tensor<2x3xi8>, %s: tensor<2x2xf32>) -> tensor<3x2xf32> {
  %u = qopt.unpack %p : tensor<2x3xi8> -> tensor<2x6xi4>
  %d = qopt.dequantize %u, %s : (tensor<2x6xi4>, tensor<2x2xf32>) -> tensor<2x6xf32>
  %e = tensor.empty() : tensor<6x2xf32>
  %t = linalg.transpose ins(%d : tensor<2x6xf32>) outs(%e : tensor<6x2xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%o : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %t : tensor<3x6xf32>, tensor<6x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// matvec with INT8 codes and zero points, weight read directly as [N, K].
// CHECK-LABEL: func @matvec_zero_point
// CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {acc_type = f32} : (tensor<8xf32>, tensor<4x8xi8>, tensor<4x1xf32>, tensor<4x1xi8>) -> tensor<4xf32>
func.func @matvec_zero_point(%v: tensor<8xf32>, %q: tensor<4x8xi8>, %s: tensor<4x1xf32>, %zp: tensor<4x1xi8>) -> tensor<4xf32> {
  %d = qopt.dequantize %q, %s, %zp : (tensor<4x8xi8>, tensor<4x1xf32>, tensor<4x1xi8>) -> tensor<4x8xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<4xf32>
  %i = linalg.fill ins(%z : f32) outs(%o : tensor<4xf32>) -> tensor<4xf32>
  %y = linalg.matvec ins(%d, %v : tensor<4x8xf32>, tensor<8xf32>) outs(%i : tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Accumulating into a non-zero tensor is left unfused (still correct).
// CHECK-LABEL: func @accumulate
// CHECK-NOT: qopt.matmul
// CHECK: linalg.matmul
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @accumulate(%x: tensor<3x8xf32>, %q: tensor<2x8xi8>, %s: tensor<f32>, %acc: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %d = qopt.dequantize %q, %s : (tensor<2x8xi8>, tensor<f32>) -> tensor<2x8xf32>
  %y = linalg.matmul indexing_maps = [#a, #b, #c] ins(%x, %d : tensor<3x8xf32>, tensor<2x8xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// nn.Linear on a 3-D input as frontends emit it: transpose the [N, K]
// weight, broadcast it over the batch, batch_matmul.
// CHECK-LABEL: func @broadcast_batch_matmul
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[Q:.*]]: tensor<4x8xi8>, %[[S:.*]]: tensor<4x1xf32>)
// CHECK: %[[Y:.*]] = qopt.matmul %[[X]], %[[Q]], %[[S]] {acc_type = f32} : (tensor<2x3x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @broadcast_batch_matmul(%x: tensor<2x3x8xf32>, %q: tensor<4x8xi8>, %s: tensor<4x1xf32>) -> tensor<2x3x4xf32> {
  %d = qopt.dequantize %q, %s : (tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %e = tensor.empty() : tensor<8x4xf32>
  %t = linalg.transpose ins(%d : tensor<4x8xf32>) outs(%e : tensor<8x4xf32>) permutation = [1, 0]
  %eb = tensor.empty() : tensor<2x8x4xf32>
  %b = linalg.broadcast ins(%t : tensor<8x4xf32>) outs(%eb : tensor<2x8x4xf32>) dimensions = [0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<2x3x4xf32>
  %i = linalg.fill ins(%z : f32) outs(%o : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %y = linalg.batch_matmul ins(%x, %b : tensor<2x3x8xf32>, tensor<2x8x4xf32>) outs(%i : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Mixed static / dynamic sizes that linalg accepts: the fused op gets a
// static K and result sizes that follow X, with casts around it.
// CHECK-LABEL: func @dynamic_rows
// CHECK: %[[Y:.*]] = qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} {acc_type = f32} : (tensor<?x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<?x4xf32>
// CHECK: tensor.cast %[[Y]] : tensor<?x4xf32> to tensor<2x4xf32>
#a2 = affine_map<(m, n, k) -> (m, k)>
#b2 = affine_map<(m, n, k) -> (n, k)>
#c2 = affine_map<(m, n, k) -> (m, n)>
func.func @dynamic_rows(%x: tensor<?x8xf32>, %q: tensor<4x8xi8>, %s: tensor<4x1xf32>) -> tensor<2x4xf32> {
  %d = qopt.dequantize %q, %s : (tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<2x4xf32>
  %i = linalg.fill ins(%z : f32) outs(%o : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul indexing_maps = [#a2, #b2, #c2] ins(%x, %d : tensor<?x8xf32>, tensor<4x8xf32>) outs(%i : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
