// RUN: quant-opt %s --split-input-file --qopt-insert-observers | FileCheck %s
// RUN: quant-opt %s --qopt-insert-observers="stats=minmax,hessian match=.*down.*" | FileCheck %s --check-prefix=MATCH
// RUN: not quant-opt %s --qopt-insert-observers="stats=median" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: quant-opt %s --qopt-insert-observers="stats=minmax match=none values=layer0.k_proj" | FileCheck %s --check-prefix=VALUES

// One observer per distinct activation, named after the first product
// that reads it; q and k share theirs. Constant weights are not observed.
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x8xf32>
// CHECK: %[[O:.*]] = qopt.observe %[[X]] {name = "layer0.q_proj.input", stats = ["minmax", "histogram", "channel_absmax", "channel_absmean"]}
// CHECK: linalg.matmul ins(%[[O]], %{{.*}} : tensor<2x8xf32>, tensor<8x8xf32>)
// CHECK: linalg.matmul ins(%[[O]], %{{.*}} : tensor<2x8xf32>, tensor<8x8xf32>)
// CHECK: %[[O2:.*]] = qopt.observe %{{.*}} {name = "layer0.down_proj.input"
// CHECK: linalg.matmul ins(%[[O2]],
// CHECK-NOT: qopt.observe
// MATCH-NOT: name = "layer0.q_proj.input"
// MATCH: qopt.observe %{{.*}} {name = "layer0.down_proj.input", stats = ["minmax", "hessian"]}
// BAD: error: qopt-insert-observers: unknown statistic 'median'
// Any tensor can be observed by name: here the k_proj result, which every
// later use then reads through the observer.
// VALUES: %[[O:.*]] = qopt.observe %{{.*}} {name = "layer0.k_proj.result0", stats = ["minmax"]}
// VALUES: arith.addf %{{.*}}, %[[O]]
func.func @main(%x: tensor<2x8xf32>, %i: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %wq = arith.constant dense<0.5> : tensor<8x8xf32>
  %wk = arith.constant dense<0.25> : tensor<8x8xf32>
  %q = linalg.matmul ins(%x, %wq : tensor<2x8xf32>, tensor<8x8xf32>) outs(%i : tensor<2x8xf32>) -> tensor<2x8xf32> loc("layer0.q_proj")
  %k = linalg.matmul ins(%x, %wk : tensor<2x8xf32>, tensor<8x8xf32>) outs(%i : tensor<2x8xf32>) -> tensor<2x8xf32> loc("layer0.k_proj")
  %a = arith.addf %q, %k : tensor<2x8xf32>
  %d = linalg.matmul ins(%a, %wq : tensor<2x8xf32>, tensor<8x8xf32>) outs(%i : tensor<2x8xf32>) -> tensor<2x8xf32> loc("layer0.down_proj")
  return %d : tensor<2x8xf32>
}

// -----

// A weight read through a transpose (as frontends export nn.Linear) is a
// weight too: only the activation is observed (the rule qopt-return-products
// and qopt-storage-report share).
// CHECK-LABEL: func @transposed_weight
// CHECK: qopt.observe %{{.*}} {name = "fc.input"
// CHECK-NOT: qopt.observe
func.func @transposed_weight(%x: tensor<2x8xf32>, %i: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<0.5> : tensor<4x8xf32>
  %e = tensor.empty() : tensor<8x4xf32>
  %t = linalg.transpose ins(%w : tensor<4x8xf32>) outs(%e : tensor<8x4xf32>) permutation = [1, 0]
  %y = linalg.matmul ins(%x, %t : tensor<2x8xf32>, tensor<8x4xf32>) outs(%i : tensor<2x4xf32>) -> tensor<2x4xf32> loc("fc")
  return %y : tensor<2x4xf32>
}
