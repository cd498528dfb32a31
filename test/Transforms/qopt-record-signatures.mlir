// RUN: quant-opt %s --qopt-record-signatures | FileCheck %s

// Entry points get their signature, and their tensor arguments (the
// caller's buffers) are read-only for bufferization.
// CHECK-LABEL: func @entry
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {bufferization.writable = false}, %{{.*}}: tensor<f32> {bufferization.writable = false})
// CHECK-SAME: attributes {qopt.out_params, qopt.signature = (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>}
func.func @entry(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// Also an argument that says it may be written: the runners pass their
// callers' arrays. Non-tensor arguments have nothing to mark.
// CHECK-LABEL: func @in_place
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {bufferization.writable = false}, %{{.*}}: index)
func.func @in_place(%x: tensor<4xf32> {bufferization.writable = true}, %i: index) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// Private functions and declarations are not entry points.
// CHECK-LABEL: func private @helper
// CHECK-NOT: qopt.signature
// CHECK-NOT: bufferization.writable
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
// CHECK: func private @external(tensor<4xf32>)
// CHECK-NOT: qopt.signature
func.func private @external(tensor<4xf32>)

// A tensor returned twice is returned the second time as a copy: each
// result becomes a caller's buffer of its own (buffer-results-to-out-params
// crashed on one buffer returned twice).
// CHECK-LABEL: func @twice
// CHECK: %[[T:.*]] = arith.addf
// CHECK: %[[C:.*]] = bufferization.alloc_tensor() copy(%[[T]])
// CHECK: return %[[T]], %[[C]] :
func.func @twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t = arith.addf %x, %x : tensor<4xf32>
  return %t, %t : tensor<4xf32>, tensor<4xf32>
}
