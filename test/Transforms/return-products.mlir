// RUN: quant-opt %s --qopt-return-products --split-input-file | FileCheck %s
// RUN: quant-opt %s --qopt-return-products=match=fc2 --split-input-file | FileCheck %s --check-prefix=MATCH
// RUN: not quant-opt %s --qopt-return-products='match=(' -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// Float products with constant weights (directly or transposed) and
// quantized qopt.matmul products are returned in program order; products
// of two activations (attention) are not.

// CHECK-LABEL: func.func @layers
// CHECK-SAME: -> (tensor<4x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK-SAME: qopt.returned_products = ["fc1", "fc2"]
// CHECK: %[[A:.*]] = linalg.matmul
// CHECK: %[[B:.*]] = qopt.matmul
// CHECK: return %{{.*}}, %[[A]], %[[B]]
// MATCH-LABEL: func.func @layers
// MATCH-SAME: -> (tensor<4x4xf32>, tensor<4x8xf32>)
// MATCH-SAME: qopt.returned_products = ["fc2"]
// BAD: invalid match regex '('
func.func @layers(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %wt = tensor.empty() : tensor<8x8xf32>
  %t = linalg.transpose ins(%w : tensor<8x8xf32>) outs(%wt : tensor<8x8xf32>) permutation = [1, 0]
  %h = linalg.matmul ins(%x, %t : tensor<4x8xf32>, tensor<8x8xf32>) outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32> loc("fc1")
  %q = arith.constant dense<3> : tensor<8x8xi8>
  %s = arith.constant dense<0.01> : tensor<8x1xf32>
  %y = qopt.matmul %h, %q, %s {acc_type = f32} : (tensor<4x8xf32>, tensor<8x8xi8>, tensor<8x1xf32>) -> tensor<4x8xf32> loc("fc2")
  %ht = tensor.empty() : tensor<8x4xf32>
  %hT = linalg.transpose ins(%h : tensor<4x8xf32>) outs(%ht : tensor<8x4xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<4x4xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x4xf32>) -> tensor<4x4xf32>
  %hh = linalg.matmul ins(%y, %hT : tensor<4x8xf32>, tensor<8x4xf32>) outs(%acc2 : tensor<4x4xf32>) -> tensor<4x4xf32> loc("attention")
  return %hh : tensor<4x4xf32>
}
