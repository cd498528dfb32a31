// RUN: quant-opt %s --split-input-file --qopt-order-contractions-for-cpu | FileCheck %s

// y[m, n] = sum_k x[m, k] w[n, k]: both inputs contiguous along k. The
// reduction becomes an scf.for carrying the sums in registers, with
// reassociation allowed so that LLVM vectorises it; with 4 rows or more,
// over a tile of rows by output channels (4 x 2 here, 6 not being a
// multiple of 4), each x and w value loaded once for the tile.
// CHECK-LABEL: func.func @dot_product
// CHECK: scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step %[[C4:.*]] iter_args(%[[Y0:.*]] = %{{.*}}) -> (tensor<4x6xf32>)
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %[[C2:.*]] iter_args(%[[Y1:.*]] = %[[Y0]]) -> (tensor<4x6xf32>)
// CHECK: %[[INIT:.*]] = tensor.extract %[[Y1]][%[[M]], %[[N]]]
// CHECK: %[[SUMS:.*]]:8 = scf.for %[[K:.*]] = {{.*}} iter_args(%{{.*}} = %[[INIT]], {{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: tensor.extract %{{.*}}[%[[M]], %[[K]]] : tensor<4x8xf32>
// CHECK-COUNT-3: tensor.extract %{{.*}} : tensor<4x8xf32>
// CHECK: tensor.extract %{{.*}}[%[[N]], %[[K]]] : tensor<6x8xf32>
// CHECK: tensor.extract %{{.*}} : tensor<6x8xf32>
// CHECK-NOT: tensor.extract
// CHECK-COUNT-8: arith.addf {{.*}} fastmath<reassoc,contract>
// CHECK: tensor.insert %[[SUMS]]#0 into %[[Y1]][%[[M]], %[[N]]]
// CHECK-COUNT-7: tensor.insert
// CHECK-NOT: linalg.generic
#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>
func.func @dot_product(%x: tensor<4x8xf32>, %w: tensor<6x8xf32>, %acc: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %r = linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<4x8xf32>, tensor<6x8xf32>) outs(%acc : tensor<4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

// -----

// Fewer than 4 rows (decode): one output a loop.
// CHECK-LABEL: func.func @dot_product_decode
// CHECK: scf.for %[[M:.*]] = {{.*}} iter_args(%[[Y0:.*]] = %{{.*}}) -> (tensor<2x6xf32>)
// CHECK: scf.for %[[N:.*]] = {{.*}} iter_args(%[[Y1:.*]] = %[[Y0]]) -> (tensor<2x6xf32>)
// CHECK: %[[INIT:.*]] = tensor.extract %[[Y1]][%[[M]], %[[N]]]
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32)
// CHECK: tensor.extract %{{.*}}[%[[M]], %[[K]]] : tensor<2x8xf32>
// CHECK: tensor.extract %{{.*}}[%[[N]], %[[K]]] : tensor<6x8xf32>
// CHECK: arith.mulf {{.*}} fastmath<reassoc,contract>
// CHECK: arith.addf {{.*}} fastmath<reassoc,contract>
// CHECK: tensor.insert %[[SUM]] into %[[Y1]][%[[M]], %[[N]]]
// CHECK-NOT: linalg.generic
func.func @dot_product_decode(%x: tensor<2x8xf32>, %w: tensor<6x8xf32>, %acc: tensor<2x6xf32>) -> tensor<2x6xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<2x8xf32>, tensor<6x8xf32>) outs(%acc : tensor<2x6xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x6xf32>
  return %r : tensor<2x6xf32>
}

// -----

// y[m, n] = sum_k x[m, k] w[k, n]: n innermost, after the reduction, so the
// inner loop walks w and y contiguously. No reassociation is needed.
// CHECK-DAG: #[[XM:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[WM:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[YM:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @row_major
// CHECK: linalg.generic {indexing_maps = [#[[XM]], #[[WM]], #[[YM]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-NOT: fastmath
func.func @row_major(%x: tensor<4x8xf32>, %w: tensor<8x6xf32>, %acc: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %r = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x6xf32>) outs(%acc : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

// -----

// Integer products are left alone.
// CHECK-LABEL: func.func @integer
// CHECK: linalg.matmul
func.func @integer(%x: tensor<4x8xi32>, %w: tensor<8x6xi32>, %acc: tensor<4x6xi32>) -> tensor<4x6xi32> {
  %r = linalg.matmul ins(%x, %w : tensor<4x8xi32>, tensor<8x6xi32>) outs(%acc : tensor<4x6xi32>) -> tensor<4x6xi32>
  return %r : tensor<4x6xi32>
}
