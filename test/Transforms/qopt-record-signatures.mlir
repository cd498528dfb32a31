// RUN: quant-opt %s --qopt-record-signatures | FileCheck %s

// CHECK-LABEL: func @entry
// CHECK-SAME: attributes {qopt.out_params, qopt.signature = (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>}
func.func @entry(%x: tensor<4xf32>, %s: tensor<f32>) -> tensor<4xi8> {
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %q : tensor<4xi8>
}

// Private functions and declarations are not entry points.
// CHECK-LABEL: func private @helper
// CHECK-NOT: qopt.signature
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
// CHECK: func private @external(tensor<4xf32>)
// CHECK-NOT: qopt.signature
func.func private @external(tensor<4xf32>)
