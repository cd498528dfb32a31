// RUN: quant-opt %s --convert-qopt-observe-to-calls --split-input-file --verify-diagnostics | FileCheck %s

// CHECK: module attributes {qopt.observers = ["a", "b"]}
// CHECK: func.func private @qopt_observe_f32(memref<*xf32>, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func @main
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK: %[[M:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<2x4xf32> to memref<2x4xf32>
// CHECK: %[[U:.*]] = memref.cast %[[M]] : memref<2x4xf32> to memref<*xf32>
// CHECK-DAG: %[[ID:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[MASK:.*]] = arith.constant 17 : i64
// CHECK: call @qopt_observe_f32(%[[U]], %[[ID]], %[[MASK]])
// CHECK: arith.constant 1 : i64
// CHECK: arith.constant 6 : i64
// CHECK: return %[[X]]
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %a = qopt.observe %x {name = "a", stats = ["minmax", "hessian"]} : tensor<2x4xf32>
  %b = qopt.observe %a {name = "b", stats = ["histogram", "channel_absmax"]} : tensor<2x4xf32>
  return %b : tensor<2x4xf32>
}

// -----

func.func @twice(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = qopt.observe %x {name = "same", stats = ["minmax"]} : tensor<4xf32>
  // expected-error @+1 {{observer name 'same' is used twice}}
  %b = qopt.observe %a {name = "same", stats = ["minmax"]} : tensor<4xf32>
  return %b : tensor<4xf32>
}
