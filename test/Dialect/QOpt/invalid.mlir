// RUN: quant-opt %s -split-input-file -verify-diagnostics

func.func @scale_not_divisor(%x: tensor<8x256xf32>, %s: tensor<8x3xf32>) {
  // expected-error @+1 {{data dimension 1 (256) is not a multiple of scale dimension 1 (3)}}
  %q = qopt.quantize %x, %s : (tensor<8x256xf32>, tensor<8x3xf32>) -> tensor<8x256xi4>
  return
}

// -----

func.func @scale_rank(%x: tensor<8x256xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{scale must have rank 0 or the rank of the data (2), but has rank 1}}
  %q = qopt.quantize %x, %s : (tensor<8x256xf32>, tensor<8xf32>) -> tensor<8x256xi8>
  return
}

// -----

func.func @scale_zero_dim(%x: tensor<8x256xf32>, %s: tensor<0x1xf32>) {
  // expected-error @+1 {{scale dimension 0 must be positive, but is 0}}
  %q = qopt.quantize %x, %s : (tensor<8x256xf32>, tensor<0x1xf32>) -> tensor<8x256xi8>
  return
}

// -----

func.func @dequantize_scale_not_divisor(%q: tensor<6xi8>, %s: tensor<4xf32>) {
  // expected-error @+1 {{data dimension 0 (6) is not a multiple of scale dimension 0 (4)}}
  %d = qopt.dequantize %q, %s : (tensor<6xi8>, tensor<4xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @bad_storage_i16(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 8-bit signless integer or 4-bit signless integer or 8-bit unsigned integer or 4-bit unsigned integer or f8E4M3FN type or f8E5M2 type values}}
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi16>
  return
}

// -----

func.func @bad_storage_si8(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of}}
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xsi8>
  return
}

// -----

func.func @bad_storage_f8e4m3(%x: tensor<4xf32>, %s: tensor<f32>) {
  // f8E4M3 (with infinities) is not a storage type; f8E4M3FN is.
  // expected-error @+1 {{result #0 must be ranked tensor of}}
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xf8E4M3>
  return
}

// -----

func.func @bad_input_integer(%x: tensor<4xi32>, %s: tensor<f32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %q = qopt.quantize %x, %s : (tensor<4xi32>, tensor<f32>) -> tensor<4xi8>
  return
}

// -----

func.func @bad_dequantize_result(%q: tensor<4xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xi32>
  return
}

// -----

func.func @unranked(%x: tensor<*xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor}}
  %q = qopt.quantize %x, %s : (tensor<*xf32>, tensor<f32>) -> tensor<*xi8>
  return
}

// -----

func.func @shape_mismatch(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{input shape 'tensor<4xf32>' and result shape 'tensor<5xi8>' must match}}
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<5xi8>
  return
}

// -----

func.func @zero_point_type(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{zero point element type 'i8' must equal the storage element type 'ui8'}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xui8>
  return
}

// -----

func.func @zero_point_shape(%x: tensor<4x8xf32>, %s: tensor<4x1xf32>, %z: tensor<1x1xi8>) {
  // expected-error @+1 {{zero point shape 'tensor<1x1xi8>' must equal the scale shape 'tensor<4x1xf32>'}}
  %q = qopt.quantize %x, %s, %z : (tensor<4x8xf32>, tensor<4x1xf32>, tensor<1x1xi8>) -> tensor<4x8xi8>
  return
}

// -----

func.func @fp8_zero_point(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{FP8 storage 'f8E4M3FN' takes no zero point}}
  %q = qopt.quantize %x, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>) -> tensor<4xf8E4M3FN>
  return
}

// -----

func.func @fp8_dequantize_zero_point(%q: tensor<4xf8E5M2>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{FP8 storage 'f8E5M2' takes no zero point}}
  %d = qopt.dequantize %q, %s, %z : (tensor<4xf8E5M2>, tensor<f32>, tensor<i8>) -> tensor<4xf32>
  return
}

// -----

func.func @narrow_range_unsigned(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'narrow_range' requires signed integer storage (i8 or i4), but the storage type is 'ui8'}}
  %q = qopt.quantize %x, %s {narrow_range} : (tensor<4xf32>, tensor<f32>) -> tensor<4xui8>
  return
}

// -----

func.func @narrow_range_fp8(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{'narrow_range' requires signed integer storage (i8 or i4), but the storage type is 'f8E4M3FN'}}
  %q = qopt.quantize %x, %s {narrow_range} : (tensor<4xf32>, tensor<f32>) -> tensor<4xf8E4M3FN>
  return
}

// -----

func.func @pack_odd(%q: tensor<8x255xi4>) {
  // expected-error @+1 {{innermost dimension of the 4-bit tensor must be even, but is 255}}
  %p = qopt.pack %q : tensor<8x255xi4> -> tensor<8x127xi8>
  return
}

// -----

func.func @pack_wrong_half(%q: tensor<8x256xi4>) {
  // expected-error @+1 {{innermost dimension of the byte tensor must be half of 256, but is 256}}
  %p = qopt.pack %q : tensor<8x256xi4> -> tensor<8x256xi8>
  return
}

// -----

func.func @pack_i8(%q: tensor<8x256xi8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 4-bit signless integer or 4-bit unsigned integer values}}
  %p = qopt.pack %q : tensor<8x256xi8> -> tensor<8x128xi8>
  return
}

// -----

func.func @pack_rank(%q: tensor<8x256xi4>) {
  // expected-error @+1 {{4-bit and byte tensors must have the same rank}}
  %p = qopt.pack %q : tensor<8x256xi4> -> tensor<1024xi8>
  return
}

// -----

func.func @pack_outer_dim(%q: tensor<8x256xi4>) {
  // expected-error @+1 {{dimension 0 differs between 'tensor<8x256xi4>' and 'tensor<4x128xi8>'}}
  %p = qopt.pack %q : tensor<8x256xi4> -> tensor<4x128xi8>
  return
}

// -----

func.func @pack_scalar(%q: tensor<i4>) {
  // expected-error @+1 {{requires a tensor of rank at least 1}}
  %p = qopt.pack %q : tensor<i4> -> tensor<i8>
  return
}

// -----

func.func @unpack_odd(%p: tensor<3xi8>) {
  // expected-error @+1 {{innermost dimension of the 4-bit tensor must be even, but is 5}}
  %u = qopt.unpack %p : tensor<3xi8> -> tensor<5xi4>
  return
}

// -----

func.func @unpack_to_i8(%p: tensor<3xi8>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 4-bit signless integer or 4-bit unsigned integer values}}
  %u = qopt.unpack %p : tensor<3xi8> -> tensor<6xi8>
  return
}

// -----

func.func @unpack_from_ui8(%p: tensor<3xui8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 8-bit signless integer values}}
  %u = qopt.unpack %p : tensor<3xui8> -> tensor<6xi4>
  return
}

// -----

func.func @unknown_attribute_value(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{attribute 'narrow_range' failed to satisfy constraint: unit attribute}}
  %q = qopt.quantize %x, %s {narrow_range = 3 : i32} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return
}

// -----

func.func @missing_scale(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected ','}}
  %q = qopt.quantize %x : (tensor<4xf32>) -> tensor<4xi8>
  return
}

// -----

func.func @too_many_operands(%x: tensor<4xf32>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{expected ':'}}
  %q = qopt.quantize %x, %s, %z, %z : (tensor<4xf32>, tensor<f32>, tensor<i8>, tensor<i8>) -> tensor<4xi8>
  return
}

// -----

func.func @unknown_op(%x: tensor<4xf32>) {
  // expected-error @+1 {{custom op 'qopt.quantise' is unknown}}
  %q = qopt.quantise %x : tensor<4xf32>
  return
}

// -----

func.func @unknown_qopt_attribute(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{unknown qopt attribute 'qopt.rounding'}}
  %q = qopt.quantize %x, %s {qopt.rounding = "up"} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return
}

// -----

// expected-error @+1 {{'qopt.signature' must be a function type}}
func.func @bad_signature_attribute() attributes {qopt.signature = 3 : i32} {
  return
}

// -----

func.func @static_dynamic_mismatch(%x: tensor<?xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{input shape 'tensor<?xf32>' and result shape 'tensor<4xi8>' must match}}
  %q = qopt.quantize %x, %s : (tensor<?xf32>, tensor<f32>) -> tensor<4xi8>
  return
}

// -----

func.func @pack_static_dynamic(%q: tensor<4xi4>) {
  // expected-error @+1 {{innermost dimensions of 'tensor<4xi4>' and 'tensor<?xi8>' must both be static or both be dynamic}}
  %p = qopt.pack %q : tensor<4xi4> -> tensor<?xi8>
  return
}

// -----

func.func @empty_dim_blocks(%x: tensor<0x4xf32>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{an empty data dimension 0 takes a scale dimension of 0 or 1, not 2}}
  %q = qopt.quantize %x, %s : (tensor<0x4xf32>, tensor<2x4xf32>) -> tensor<0x4xi8>
  return
}

// -----

func.func @matmul_k_mismatch(%x: tensor<4x256xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{input has K = 256 but the weight 'tensor<8x64xi8>' holds K = 128 (two 4-bit codes per byte)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<4x256xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_n_mismatch(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{result has N = 9 but the weight has N = 8}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x9xf32>
  return
}

// -----

func.func @matmul_batch_mismatch(%x: tensor<2x4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{result dimension 0 must equal input dimension 0}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<2x4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<3x4x8xf32>
  return
}

// -----

func.func @matmul_bad_group(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x3xf32>) {
  // expected-error @+1 {{data dimension 1 (64) is not a multiple of scale dimension 1 (3)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x3xf32>) -> tensor<4x8xf32>
  return
}

// -----

// A packed byte holds codes 2j and 2j + 1: groups of one code split it.
func.func @matmul_packed_odd_group(%x: tensor<4x6xf32>, %w: tensor<8x3xi8>, %s: tensor<8x6xf32>) {
  // expected-error @+1 {{scale groups of a packed weight hold whole bytes (an even number of codes along K), not 1}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<4x6xf32>, tensor<8x3xi8>, tensor<8x6xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_packed_i8(%x: tensor<4x64xf32>, %w: tensor<8x32xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{'packed' must be i4 or ui4, but is 'i8'}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i8} : (tensor<4x64xf32>, tensor<8x32xi8>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_packed_f8(%x: tensor<4x64xf32>, %w: tensor<8x32xf8E4M3FN>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{a packed weight is stored as i8 bytes, not 'f8E4M3FN'}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4} : (tensor<4x64xf32>, tensor<8x32xf8E4M3FN>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_acc(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{accumulator type must be f32 or f16, but is 'i32'}}
  %y = qopt.matmul %x, %w, %s {acc_type = i32} : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_zp_type(%x: tensor<4x64xf32>, %w: tensor<8x32xi8>, %s: tensor<8x1xf32>, %z: tensor<8x1xi8>) {
  // expected-error @+1 {{zero point element type 'i8' must equal the weight storage 'ui4'}}
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32, packed = ui4} : (tensor<4x64xf32>, tensor<8x32xi8>, tensor<8x1xf32>, tensor<8x1xi8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_fp8_zp(%x: tensor<4x64xf32>, %w: tensor<8x64xf8E5M2>, %s: tensor<8x1xf32>, %z: tensor<8x1xi8>) {
  // expected-error @+1 {{FP8 weights take no zero point}}
  %y = qopt.matmul %x, %w, %s, %z {acc_type = f32} : (tensor<4x64xf32>, tensor<8x64xf8E5M2>, tensor<8x1xf32>, tensor<8x1xi8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_weight_rank(%x: tensor<4x64xf32>, %w: tensor<64xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{weight must have rank 2 ([N, K]), but is 'tensor<64xi8>'}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<4x64xf32>, tensor<64xi8>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_missing_acc(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{requires attribute 'acc_type'}}
  %y = qopt.matmul %x, %w, %s : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_dynamic_scale(%x: tensor<2x8xf32>, %w: tensor<4x8xi8>, %s: tensor<?x?xf32>) {
  // expected-error @+1 {{the weight and its scale and zero point must have static shapes}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<2x8xf32>, tensor<4x8xi8>, tensor<?x?xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_empty(%x: tensor<2x0xf32>, %w: tensor<4x0xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{the weight must not be empty}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<2x0xf32>, tensor<4x0xi8>, tensor<f32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_dynamic_k(%x: tensor<?xf32>, %w: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{the input's last dimension (K) must be static}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<?xf32>, tensor<4x8xi8>, tensor<f32>) -> tensor<4xf32>
  return
}

// -----

func.func @observe_unknown_stat(%x: tensor<4xf32>) {
  // expected-error @+1 {{unknown statistic 'median'}}
  %y = qopt.observe %x {name = "x", stats = ["median"]} : tensor<4xf32>
  return
}

// -----

func.func @observe_no_name(%x: tensor<4xf32>) {
  // expected-error @+1 {{requires a non-empty name}}
  %y = qopt.observe %x {name = "", stats = ["minmax"]} : tensor<4xf32>
  return
}

// -----

func.func @observe_scalar_hessian(%x: tensor<f32>) {
  // expected-error @+1 {{per-channel statistics and the Hessian need a tensor of rank at least 1}}
  %y = qopt.observe %x {name = "x", stats = ["hessian"]} : tensor<f32>
  return
}

// -----

func.func @observe_f16(%x: tensor<4xf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %y = qopt.observe %x {name = "x", stats = ["minmax"]} : tensor<4xf16>
  return
}

// -----

func.func @matmul_codes_without_scale(%x: tensor<4x64xi8>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>) {
  // expected-error @+1 {{an input of codes needs input_scale}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32} : (tensor<4x64xi8>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_float_with_input_scale(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %sx: tensor<f32>) {
  // expected-error @+1 {{input_scale needs an input of codes, not 'f32'}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_mixed_codes(%x: tensor<4x64xi8>, %w: tensor<8x64xf8E4M3FN>, %s: tensor<8x1xf32>, %sx: tensor<f32>) {
  // expected-error @+1 {{quantized inputs pair i8 or ui8 with an i8 weight or FP8 with an FP8 weight, not 'i8' with 'f8E4M3FN'}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<4x64xi8>, tensor<8x64xf8E4M3FN>, tensor<8x1xf32>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_input_scale_shape(%x: tensor<4x64xi8>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %sx: tensor<4x2xf32>) {
  // expected-error @+1 {{input_scale must be per tensor (rank 0) or per row (the input shape with K replaced by 1), not 'tensor<4x2xf32>'}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<4x64xi8>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<4x2xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_ui8_needs_zero_point(%x: tensor<4x64xui8>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %sx: tensor<f32>) {
  // expected-error @+1 {{ui8 activations need an input zero point}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx) {acc_type = f32} : (tensor<4x64xui8>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_input_zero_point_shape(%x: tensor<4x64xui8>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %sx: tensor<4x1xf32>, %zx: tensor<ui8>) {
  // expected-error @+1 {{input zero point 'tensor<ui8>' must have the input's element type and the shape of input_scale}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx, %zx) {acc_type = f32} : (tensor<4x64xui8>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<4x1xf32>, tensor<ui8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_input_zero_point_type(%x: tensor<4x64xui8>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %sx: tensor<f32>, %zx: tensor<i8>) {
  // expected-error @+1 {{input zero point 'tensor<i8>' must have the input's element type and the shape of input_scale}}
  %y = qopt.matmul %x, %w, %s input_scale(%sx, %zx) {acc_type = f32} : (tensor<4x64xui8>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<f32>, tensor<i8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @matmul_input_zero_point_needs_input_scale(%x: tensor<4x64xf32>, %w: tensor<8x64xi8>, %s: tensor<8x1xf32>, %zx: tensor<ui8>) {
  // expected-error @+1 {{an input zero point needs input_scale}}
  %y = "qopt.matmul"(%x, %w, %s, %zx) <{acc_type = f32, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1>}> : (tensor<4x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>, tensor<ui8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @tensor_map_rank(%b: memref<4x64x128xi8>) -> i64 {
  // expected-error @+1 {{needs a static, row-major 2-D buffer of 1-, 2- or 4-byte elements; got 'memref<4x64x128xi8>'}}
  %m = qopt.gpu_tensor_map %b box [64, 128] : memref<4x64x128xi8>
  return %m : i64
}

// -----

func.func @tensor_map_strided(%b: memref<64x128xi8, strided<[256, 1]>>) -> i64 {
  // expected-error @+1 {{needs a static, row-major 2-D buffer}}
  %m = qopt.gpu_tensor_map %b box [64, 128] : memref<64x128xi8, strided<[256, 1]>>
  return %m : i64
}

// -----

func.func @tensor_map_row_bytes(%b: memref<64x100xi8>) -> i64 {
  // expected-error @+1 {{needs rows of a multiple of 16 bytes (TMA strides); got 100}}
  %m = qopt.gpu_tensor_map %b box [64, 64] : memref<64x100xi8>
  return %m : i64
}

// -----

func.func @tensor_map_box(%b: memref<512x128xi8>) -> i64 {
  // expected-error @+1 {{needs a box of 2 dimensions of 1 to 256 elements, its rows a multiple of 16 bytes}}
  %m = qopt.gpu_tensor_map %b box [512, 128] : memref<512x128xi8>
  return %m : i64
}

// -----

func.func @tensor_map_index_elements(%b: memref<4x16xindex>) -> i64 {
  // expected-error @+1 {{needs a static, row-major 2-D buffer of 1-, 2- or 4-byte elements; got 'memref<4x16xindex>'}}
  %m = qopt.gpu_tensor_map %b box [1, 16] : memref<4x16xindex>
  return %m : i64
}

// -----

func.func @tensor_map_f64(%b: memref<4x16xf64>) -> i64 {
  // expected-error @+1 {{needs a static, row-major 2-D buffer of 1-, 2- or 4-byte elements}}
  %m = qopt.gpu_tensor_map %b box [1, 2] : memref<4x16xf64>
  return %m : i64
}

// -----

func.func @tensor_map_empty(%b: memref<0x16xi8>) -> i64 {
  // expected-error @+1 {{needs a non-empty buffer; got 'memref<0x16xi8>'}}
  %m = qopt.gpu_tensor_map %b box [1, 16] : memref<0x16xi8>
  return %m : i64
}
