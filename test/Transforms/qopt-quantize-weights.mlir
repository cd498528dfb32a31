// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=i4 group-size=4" | FileCheck %s
// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=i8 group-size=0" | FileCheck %s --check-prefix=I8
// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=i4 group-size=4 skip=layer1.*" | FileCheck %s --check-prefix=SKIP
// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=i4 group-size=4 min-elements=64" | FileCheck %s --check-prefix=MIN
// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=ui4 group-size=4" | FileCheck %s --check-prefix=UI4
// RUN: quant-opt %s --split-input-file --qopt-quantize-weights="storage=f8E4M3FN group-size=0" | FileCheck %s --check-prefix=FP8

// linalg.matmul with a K x N constant: stored [N, K] = 2x8, packed along K
// (2x4 bytes), groups of 4 along K (scale 2x2), transposed back.
// Column 0 of the weight, first group: [1, 3, -0.25, 2] has s = 3/7;
// codes round(x / s) = [2, 7, -1, 5], packed (2, 7) -> 0x72 = 114 and
// (-1, 5) -> 0x5F = 95.
// CHECK-LABEL: func @matmul_kn
// CHECK: %[[P:.*]] = arith.constant dense<{{\[\[}}114, 95, {{.*}}> : tensor<2x4xi8>
// CHECK: %[[U:.*]] = qopt.unpack %[[P]] : tensor<2x4xi8> -> tensor<2x8xi4>
// CHECK: %[[S:.*]] = arith.constant dense<{{\[\[}}0.428571433, {{.*}}> : tensor<2x2xf32>
// CHECK: %[[D:.*]] = qopt.dequantize %[[U]], %[[S]] {narrow_range} : (tensor<2x8xi4>, tensor<2x2xf32>) -> tensor<2x8xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[D]] : tensor<2x8xf32>) {{.*}} permutation = [1, 0]
// CHECK: linalg.matmul ins(%{{.*}}, %[[T]] : tensor<3x8xf32>, tensor<8x2xf32>)
// CHECK-NOT: tensor<8x2xf32> = dense
// I8-LABEL: func @matmul_kn
// I8: arith.constant dense<{{.*}}> : tensor<2x8xi8>
// I8: arith.constant dense<{{.*}}> : tensor<2x1xf32>
// I8-NOT: qopt.unpack
// I8: qopt.dequantize %{{.*}}, %{{.*}} {narrow_range} : (tensor<2x8xi8>, tensor<2x1xf32>) -> tensor<2x8xf32>
// SKIP-LABEL: func @matmul_kn
// SKIP: qopt.dequantize
// MIN-LABEL: func @matmul_kn
// MIN-NOT: qopt.dequantize
// UI4-LABEL: func @matmul_kn
// UI4: qopt.unpack %{{.*}} : tensor<2x4xi8> -> tensor<2x8xui4>
// UI4: %[[Z:.*]] = arith.constant dense<{{.*}}> : tensor<2x2xui4>
// UI4: qopt.dequantize %{{.*}}, %{{.*}}, %[[Z]] : (tensor<2x8xui4>, tensor<2x2xf32>, tensor<2x2xui4>) -> tensor<2x8xf32>
// FP8-LABEL: func @matmul_kn
// FP8: arith.constant dense<{{.*}}> : tensor<2x8xf8E4M3FN>
// FP8: qopt.dequantize %{{.*}}, %{{.*}} : (tensor<2x8xf8E4M3FN>, tensor<2x1xf32>) -> tensor<2x8xf32>
func.func @matmul_kn(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 0.5], [-0.25, 4.0], [2.0, 1.0],
                             [0.0, -1.0], [1.5, 2.5], [-3.0, 0.75], [0.125, -0.5]]> : tensor<8x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%z : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32> loc("layer1.q_proj")
  return %y : tensor<3x2xf32>
}

// -----

// An N x K weight through indexing_maps needs no transpose.
// CHECK-LABEL: func @matmul_nk
// CHECK: qopt.dequantize {{.*}} -> tensor<2x8xf32>
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (n, k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @matmul_nk(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x8xf32>
  %y = linalg.matmul indexing_maps = [#a, #b, #c] ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// matvec: the weight A[M, K] is already [N, K].
// CHECK-LABEL: func @matvec
// CHECK: qopt.dequantize {{.*}} -> tensor<4x8xf32>
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matvec
func.func @matvec(%v: tensor<8xf32>, %i: tensor<4xf32>) -> tensor<4xf32> {
  %w = arith.constant dense<0.25> : tensor<4x8xf32>
  %y = linalg.matvec ins(%w, %v : tensor<4x8xf32>, tensor<8xf32>) outs(%i : tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// vecmat: the weight A[K, N] is transposed.
// CHECK-LABEL: func @vecmat
// CHECK: qopt.dequantize {{.*}} -> tensor<4x8xf32>
// CHECK: linalg.transpose {{.*}} permutation = [1, 0]
// CHECK: linalg.vecmat
func.func @vecmat(%v: tensor<8xf32>, %i: tensor<4xf32>) -> tensor<4xf32> {
  %w = arith.constant dense<0.25> : tensor<8x4xf32>
  %y = linalg.vecmat ins(%v, %w : tensor<8xf32>, tensor<8x4xf32>) outs(%i : tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// batch_matmul with per-batch weights [B, K, N]: stored [B, N, K].
// CHECK-LABEL: func @batch_matmul
// CHECK: qopt.unpack %{{.*}} : tensor<2x3x4xi8> -> tensor<2x3x8xi4>
// CHECK: qopt.dequantize {{.*}} : (tensor<2x3x8xi4>, tensor<2x3x2xf32>) -> tensor<2x3x8xf32>
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul
func.func @batch_matmul(%x: tensor<2x5x8xf32>, %i: tensor<2x5x3xf32>) -> tensor<2x5x3xf32> {
  %w = arith.constant dense<1.0> : tensor<2x8x3xf32>
  %y = linalg.batch_matmul ins(%x, %w : tensor<2x5x8xf32>, tensor<2x8x3xf32>) outs(%i : tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  return %y : tensor<2x5x3xf32>
}

// -----

// A linalg.generic contraction with the weight as [N, K].
// CHECK-LABEL: func @generic
// CHECK: qopt.dequantize {{.*}} -> tensor<2x8xf32>
// CHECK: linalg.generic
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>
func.func @generic(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<2.0> : tensor<2x8xf32>
  %y = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %c, %m : f32
    linalg.yield %s : f32
  } -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Non-constant weights are left alone.
// CHECK-LABEL: func @dynamic_weight
// CHECK-NOT: qopt.
// CHECK: linalg.matmul
func.func @dynamic_weight(%x: tensor<3x8xf32>, %w: tensor<8x2xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// dense_resource weights are read from their blob.
// CHECK-LABEL: func @resource
// CHECK: qopt.dequantize {{.*}} -> tensor<2x4xf32>
// CHECK-NOT: dense_resource<w>
func.func @resource(%x: tensor<1x4xf32>, %i: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%i : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F000000400000404000008040000000BF0000803E0000C03F00001041"
    }
  }
#-}
