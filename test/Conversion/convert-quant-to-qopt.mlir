// RUN: quant-opt %s --convert-quant-to-qopt --split-input-file --verify-diagnostics | FileCheck %s

// Per-tensor: the seed's example type. Signatures take the storage type.
// CHECK-LABEL: func @per_tensor
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>) -> tensor<4xi8>
// CHECK: %[[S:.*]] = arith.constant dense<2.440000e-02> : tensor<f32>
// CHECK: %[[Q:.*]] = qopt.quantize %[[X]], %[[S]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
// CHECK: return %[[Q]] : tensor<4xi8>
func.func @per_tensor(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.0244>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.0244>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.0244>>
}

// -----

// Per-axis with zero points; dcast(qcast(x)) must not fold to x.
// CHECK-LABEL: func @per_axis_round_trip
// CHECK: %[[S:.*]] = arith.constant dense<{{\[\[}}5.000000e-01], [2.500000e-01]]> : tensor<2x1xf32>
// CHECK: %[[Z:.*]] = arith.constant dense<{{\[\[}}128], [100]]> : tensor<2x1xui8>
// CHECK: %[[Q:.*]] = qopt.quantize %{{.*}}, %[[S]], %[[Z]] : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xui8>) -> tensor<2x3xui8>
// CHECK: %[[D:.*]] = qopt.dequantize %[[Q]], %{{.*}}, %{{.*}} : (tensor<2x3xui8>, tensor<2x1xf32>, tensor<2x1xui8>) -> tensor<2x3xf32>
// CHECK: return %[[D]]
func.func @per_axis_round_trip(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %q = quant.qcast %x : tensor<2x3xf32> to tensor<2x3x!quant.uniform<u8:f32:0, {0.5:128, 0.25:100}>>
  %d = quant.dcast %q : tensor<2x3x!quant.uniform<u8:f32:0, {0.5:128, 0.25:100}>> to tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// Sub-channel blocks keep their scale shape; [-127, 127] is narrow_range.
// CHECK-LABEL: func @sub_channel_narrow
// CHECK: arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK: qopt.quantize %{{.*}}, %{{.*}} {narrow_range} : (tensor<2x4xf32>, tensor<2x2xf32>) -> tensor<2x4xi8>
func.func @sub_channel_narrow(%x: tensor<2x4xf32>) -> tensor<2x4x!quant.uniform<i8<-127:127>:f32:{0:1, 1:2}, {{1.0, 2.0}, {3.0, 4.0}}>> {
  %q = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8<-127:127>:f32:{0:1, 1:2}, {{1.0, 2.0}, {3.0, 4.0}}>>
  return %q : tensor<2x4x!quant.uniform<i8<-127:127>:f32:{0:1, 1:2}, {{1.0, 2.0}, {3.0, 4.0}}>>
}

// -----

// INT4 storage, and scast between the storage and the quantized type
// disappears.
// CHECK-LABEL: func @i4_scast
// CHECK-SAME: (%[[A:.*]]: tensor<8xi4>) -> tensor<8xf32>
// CHECK: qopt.dequantize %[[A]], %{{.*}} : (tensor<8xi4>, tensor<f32>) -> tensor<8xf32>
// CHECK-NOT: quant.
func.func @i4_scast(%a: tensor<8xi4>) -> tensor<8xf32> {
  %q = quant.scast %a : tensor<8xi4> to tensor<8x!quant.uniform<i4:f32, 0.125>>
  %d = quant.dcast %q : tensor<8x!quant.uniform<i4:f32, 0.125>> to tensor<8xf32>
  return %d : tensor<8xf32>
}

// -----

// Calls and callees change together.
// CHECK-LABEL: func private @callee(tensor<4xui4>) -> tensor<4xui4>
// CHECK-LABEL: func @caller
// CHECK: call @callee(%{{.*}}) : (tensor<4xui4>) -> tensor<4xui4>
func.func private @callee(tensor<4x!quant.uniform<u4:f32, 0.5:3>>) -> tensor<4x!quant.uniform<u4:f32, 0.5:3>>
func.func @caller(%a: tensor<4x!quant.uniform<u4:f32, 0.5:3>>) -> tensor<4x!quant.uniform<u4:f32, 0.5:3>> {
  %r = call @callee(%a) : (tensor<4x!quant.uniform<u4:f32, 0.5:3>>) -> tensor<4x!quant.uniform<u4:f32, 0.5:3>>
  return %r : tensor<4x!quant.uniform<u4:f32, 0.5:3>>
}

// -----

func.func @unsupported_width(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i16:f32, 0.5>> {
  // expected-error @+2 {{unsupported storage width 16 (qopt stores 4- and 8-bit codes)}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i16:f32, 0.5>>
  return %q : tensor<4x!quant.uniform<i16:f32, 0.5>>
}

// -----

func.func @unsupported_range(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>> {
  // expected-error @+2 {{unsupported storage range [-100, 100]}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>>
  return %q : tensor<4x!quant.uniform<i8<-100:100>:f32, 0.5>>
}

// -----

// A calibrated type is a range, not yet codes.
func.func @calibrated(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{no storage type (expected !quant.uniform) in '!quant.calibrated<f32<-1.000000e+00:1.000000e+00>>'}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.calibrated<f32<-1.0:1.0>>>
  %d = quant.dcast %q : tensor<4x!quant.calibrated<f32<-1.0:1.0>>> to tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

func.func @scalar(%x: f32) -> !quant.uniform<i8:f32, 0.5> {
  // expected-error @+2 {{only ranked tensors of quantized types are supported, not '!quant.uniform<i8:f32, 5.000000e-01>'}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : f32 to !quant.uniform<i8:f32, 0.5>
  return %q : !quant.uniform<i8:f32, 0.5>
}

// -----

// f64 expressed types keep f64 scales (f32 would flush 1e-50 to zero).
// CHECK-LABEL: func @f64_scale
// CHECK: arith.constant dense<1.000000e-50> : tensor<f64>
// CHECK: qopt.quantize %{{.*}}, %{{.*}} : (tensor<4xf64>, tensor<f64>) -> tensor<4xi8>
func.func @f64_scale(%x: tensor<4xf64>) -> tensor<4x!quant.uniform<i8:f64, 1.0e-50>> {
  %q = quant.qcast %x : tensor<4xf64> to tensor<4x!quant.uniform<i8:f64, 1.0e-50>>
  return %q : tensor<4x!quant.uniform<i8:f64, 1.0e-50>>
}

// -----

func.func @f32_scale_denormal(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 1.0e-40>> {
  // expected-error @+2 {{scale 1.000000e-40 of '!quant.uniform<i8:f32, 9.9999999999999992E-41>' is not a normal f32 value; use an f64 expressed type}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 1.0e-40>>
  return %q : tensor<4x!quant.uniform<i8:f32, 1.0e-40>>
}

// -----

func.func @zero_point_out_of_range(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:200>> {
  // expected-error @+2 {{zero point 200 of '!quant.uniform<i8:f32, 5.000000e-01:200>' is outside the storage range [-128, 127]}}
  // expected-error @+1 {{failed to legalize operation 'quant.qcast'}}
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:200>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.5:200>>
}
