// RUN: quant-opt %s --split-input-file --qopt-fold-weight-layout --canonicalize | FileCheck %s

// nn.Linear as torch-mlir lowers it: a transpose of the [N, K] weight.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @linear
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], {{.*}}]
// CHECK-SAME: ins(%{{.*}}, %[[CST:.*]] : tensor<4x8xf32>, tensor<6x8xf32>)
func.func @linear(%x: tensor<4x8xf32>) -> tensor<4x6xf32> {
  %w = arith.constant dense<0.5> : tensor<6x8xf32>
  %e = tensor.empty() : tensor<8x6xf32>
  %t = linalg.transpose ins(%w : tensor<6x8xf32>) outs(%e : tensor<8x6xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<4x6xf32>
  %acc = linalg.fill ins(%z : f32) outs(%o : tensor<4x6xf32>) -> tensor<4x6xf32>
  %y = linalg.matmul ins(%x, %t : tensor<4x8xf32>, tensor<8x6xf32>) outs(%acc : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}

// -----

// A rank-3 input: the transposed weight broadcast to a batched operand.
// CHECK-DAG: #[[W3:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @linear3d
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.batch_matmul
// CHECK: linalg.generic {indexing_maps = [{{.*}}, #[[W3]], {{.*}}]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<6x8xf32>)
#in = affine_map<(d0, d1, d2) -> (d1, d2)>
#out = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @linear3d(%x: tensor<2x4x8xf32>) -> tensor<2x4x6xf32> {
  %w = arith.constant dense<0.5> : tensor<6x8xf32>
  %e = tensor.empty() : tensor<8x6xf32>
  %t = linalg.transpose ins(%w : tensor<6x8xf32>) outs(%e : tensor<8x6xf32>) permutation = [1, 0]
  %be = tensor.empty() : tensor<2x8x6xf32>
  %b = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "parallel"]} ins(%t : tensor<8x6xf32>) outs(%be : tensor<2x8x6xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  } -> tensor<2x8x6xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<2x4x6xf32>
  %acc = linalg.fill ins(%z : f32) outs(%o : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %y = linalg.batch_matmul ins(%x, %b : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%acc : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  return %y : tensor<2x4x6xf32>
}

// -----

// A view of an activation stays: folding it would recompute it in the
// reduction.
// CHECK-LABEL: func.func @activation_view
// CHECK: linalg.transpose
// CHECK: linalg.matmul
func.func @activation_view(%x: tensor<4x8xf32>, %v: tensor<6x8xf32>) -> tensor<4x6xf32> {
  %e = tensor.empty() : tensor<8x6xf32>
  %t = linalg.transpose ins(%v : tensor<6x8xf32>) outs(%e : tensor<8x6xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<4x6xf32>
  %acc = linalg.fill ins(%z : f32) outs(%o : tensor<4x6xf32>) -> tensor<4x6xf32>
  %y = linalg.matmul ins(%x, %t : tensor<4x8xf32>, tensor<8x6xf32>) outs(%acc : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}
