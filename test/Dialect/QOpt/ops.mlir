// RUN: quant-opt %s | quant-opt | FileCheck %s
// RUN: quant-opt %s --mlir-print-op-generic | quant-opt | FileCheck %s

// CHECK-LABEL: func @quantize_forms
func.func @quantize_forms(%x: tensor<8x256xf32>, %sg: tensor<8x2xf32>,
                          %v: tensor<4xf32>, %s: tensor<f32>, %z: tensor<ui8>)
    -> (tensor<8x256xi4>, tensor<4xui8>, tensor<4xi8>) {
  // CHECK: qopt.quantize %{{.*}}, %{{.*}} : (tensor<8x256xf32>, tensor<8x2xf32>) -> tensor<8x256xi4>
  %q = qopt.quantize %x, %sg : (tensor<8x256xf32>, tensor<8x2xf32>) -> tensor<8x256xi4>
  // CHECK: qopt.quantize %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  %q2 = qopt.quantize %v, %s, %z : (tensor<4xf32>, tensor<f32>, tensor<ui8>) -> tensor<4xui8>
  // CHECK: qopt.quantize %{{.*}}, %{{.*}} {narrow_range} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  %q3 = qopt.quantize %v, %s {narrow_range} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  return %q, %q2, %q3 : tensor<8x256xi4>, tensor<4xui8>, tensor<4xi8>
}

// CHECK-LABEL: func @dequantize_forms
func.func @dequantize_forms(%q: tensor<8x256xi4>, %sg: tensor<8x2xf32>,
                            %u: tensor<4xui8>, %s: tensor<f32>, %z: tensor<ui8>)
    -> (tensor<8x256xf32>, tensor<4xf16>) {
  // CHECK: qopt.dequantize %{{.*}}, %{{.*}} : (tensor<8x256xi4>, tensor<8x2xf32>) -> tensor<8x256xf32>
  %d = qopt.dequantize %q, %sg : (tensor<8x256xi4>, tensor<8x2xf32>) -> tensor<8x256xf32>
  // CHECK: qopt.dequantize %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf16>
  %d2 = qopt.dequantize %u, %s, %z : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<4xf16>
  return %d, %d2 : tensor<8x256xf32>, tensor<4xf16>
}

// CHECK-LABEL: func @granularities
func.func @granularities(%x: tensor<256x512xbf16>, %pt: tensor<1x1xf32>,
                         %pc: tensor<256x1xf32>, %blk: tensor<2x4xf16>)
    -> (tensor<256x512xi8>, tensor<256x512xui4>, tensor<256x512xi8>) {
  // CHECK: (tensor<256x512xbf16>, tensor<1x1xf32>) -> tensor<256x512xi8>
  %a = qopt.quantize %x, %pt : (tensor<256x512xbf16>, tensor<1x1xf32>) -> tensor<256x512xi8>
  // CHECK: (tensor<256x512xbf16>, tensor<256x1xf32>) -> tensor<256x512xui4>
  %b = qopt.quantize %x, %pc : (tensor<256x512xbf16>, tensor<256x1xf32>) -> tensor<256x512xui4>
  // CHECK: (tensor<256x512xbf16>, tensor<2x4xf16>) -> tensor<256x512xi8>
  %c = qopt.quantize %x, %blk : (tensor<256x512xbf16>, tensor<2x4xf16>) -> tensor<256x512xi8>
  return %a, %b, %c : tensor<256x512xi8>, tensor<256x512xui4>, tensor<256x512xi8>
}

// CHECK-LABEL: func @fp8
func.func @fp8(%x: tensor<16x32xf16>, %s: tensor<16x1xf32>)
    -> (tensor<16x32xf8E4M3FN>, tensor<16x32xf8E5M2>, tensor<16x32xf32>) {
  // CHECK: -> tensor<16x32xf8E4M3FN>
  %a = qopt.quantize %x, %s : (tensor<16x32xf16>, tensor<16x1xf32>) -> tensor<16x32xf8E4M3FN>
  // CHECK: -> tensor<16x32xf8E5M2>
  %b = qopt.quantize %x, %s : (tensor<16x32xf16>, tensor<16x1xf32>) -> tensor<16x32xf8E5M2>
  // CHECK: (tensor<16x32xf8E4M3FN>, tensor<16x1xf32>) -> tensor<16x32xf32>
  %c = qopt.dequantize %a, %s : (tensor<16x32xf8E4M3FN>, tensor<16x1xf32>) -> tensor<16x32xf32>
  return %a, %b, %c : tensor<16x32xf8E4M3FN>, tensor<16x32xf8E5M2>, tensor<16x32xf32>
}

// CHECK-LABEL: func @packing
func.func @packing(%q: tensor<8x256xi4>, %u: tensor<?x6xui4>)
    -> (tensor<8x128xi8>, tensor<8x256xi4>, tensor<?x3xi8>) {
  // CHECK: qopt.pack %{{.*}} : tensor<8x256xi4> -> tensor<8x128xi8>
  %p = qopt.pack %q : tensor<8x256xi4> -> tensor<8x128xi8>
  // CHECK: qopt.unpack %{{.*}} : tensor<8x128xi8> -> tensor<8x256xi4>
  %r = qopt.unpack %p : tensor<8x128xi8> -> tensor<8x256xi4>
  // CHECK: qopt.pack %{{.*}} : tensor<?x6xui4> -> tensor<?x3xi8>
  %d = qopt.pack %u : tensor<?x6xui4> -> tensor<?x3xi8>
  return %p, %r, %d : tensor<8x128xi8>, tensor<8x256xi4>, tensor<?x3xi8>
}

// Dynamic data dimensions are allowed; the rule is checked where static.
// CHECK-LABEL: func @dynamic
func.func @dynamic(%x: tensor<?x64xf32>, %s: tensor<1x2xf32>) -> tensor<?x64xi8> {
  // CHECK: (tensor<?x64xf32>, tensor<1x2xf32>) -> tensor<?x64xi8>
  %q = qopt.quantize %x, %s : (tensor<?x64xf32>, tensor<1x2xf32>) -> tensor<?x64xi8>
  return %q : tensor<?x64xi8>
}

// CHECK-LABEL: func @matmul_forms
func.func @matmul_forms(%x: tensor<16x4096xf32>, %w4: tensor<4096x2048xi8>, %s4: tensor<4096x32xf32>,
                        %xb: tensor<2x8x256xbf16>, %w8: tensor<64x256xi8>, %s8: tensor<64x1xf32>,
                        %wf: tensor<64x256xf8E4M3FN>, %v: tensor<256xf16>,
                        %wu: tensor<64x128xi8>, %su: tensor<64x2xf32>, %zu: tensor<64x2xui4>)
    -> (tensor<16x4096xf32>, tensor<2x8x64xbf16>, tensor<64xf16>, tensor<2x8x64xf32>) {
  // CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} {acc_type = f32, packed = i4} : (tensor<16x4096xf32>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<16x4096xf32>
  %a = qopt.matmul %x, %w4, %s4 {acc_type = f32, packed = i4} : (tensor<16x4096xf32>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<16x4096xf32>
  // Batch dimensions, INT8 per channel, bf16 activations.
  // CHECK: qopt.matmul {{.*}} : (tensor<2x8x256xbf16>, tensor<64x256xi8>, tensor<64x1xf32>) -> tensor<2x8x64xbf16>
  %b = qopt.matmul %xb, %w8, %s8 {acc_type = f32} : (tensor<2x8x256xbf16>, tensor<64x256xi8>, tensor<64x1xf32>) -> tensor<2x8x64xbf16>
  // A vector input (matvec), FP8 weights.
  // CHECK: qopt.matmul {{.*}} : (tensor<256xf16>, tensor<64x256xf8E4M3FN>, tensor<64x1xf32>) -> tensor<64xf16>
  %c = qopt.matmul %v, %wf, %s8 {acc_type = f32} : (tensor<256xf16>, tensor<64x256xf8E4M3FN>, tensor<64x1xf32>) -> tensor<64xf16>
  // Asymmetric packed UINT4 with zero points.
  // CHECK: qopt.matmul {{.*}} {acc_type = f32, packed = ui4} : (tensor<2x8x256xbf16>, tensor<64x128xi8>, tensor<64x2xf32>, tensor<64x2xui4>) -> tensor<2x8x64xf32>
  %d = qopt.matmul %xb, %wu, %su, %zu {acc_type = f32, packed = ui4} : (tensor<2x8x256xbf16>, tensor<64x128xi8>, tensor<64x2xf32>, tensor<64x2xui4>) -> tensor<2x8x64xf32>
  return %a, %b, %c, %d : tensor<16x4096xf32>, tensor<2x8x64xbf16>, tensor<64xf16>, tensor<2x8x64xf32>
}

// CHECK-LABEL: func @observe
// CHECK: qopt.observe %{{.*}} {name = "layer0.q_proj.input", stats = ["minmax", "histogram", "hessian"]} : tensor<4x16xf32>
func.func @observe(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %y = qopt.observe %x {name = "layer0.q_proj.input", stats = ["minmax", "histogram", "hessian"]} : tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// CHECK-LABEL: func @matmul_quantized_input
func.func @matmul_quantized_input(%xq: tensor<2x8x64xi8>, %w: tensor<16x64xi8>, %sw: tensor<16x1xf32>,
                                  %sx: tensor<2x8x1xf32>, %xf: tensor<4x64xf8E4M3FN>,
                                  %wf: tensor<16x64xf8E4M3FN>, %s: tensor<f32>)
    -> (tensor<2x8x16xf32>, tensor<4x16xbf16>) {
  // CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} input_scale(%{{.*}}) {acc_type = f32} : (tensor<2x8x64xi8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  %a = qopt.matmul %xq, %w, %sw input_scale(%sx) {acc_type = f32} : (tensor<2x8x64xi8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<2x8x1xf32>) -> tensor<2x8x16xf32>
  // CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} input_scale(%{{.*}}) {acc_type = f32} : (tensor<4x64xf8E4M3FN>, tensor<16x64xf8E4M3FN>, tensor<16x1xf32>, tensor<f32>) -> tensor<4x16xbf16>
  %b = qopt.matmul %xf, %wf, %sw input_scale(%s) {acc_type = f32} : (tensor<4x64xf8E4M3FN>, tensor<16x64xf8E4M3FN>, tensor<16x1xf32>, tensor<f32>) -> tensor<4x16xbf16>
  return %a, %b : tensor<2x8x16xf32>, tensor<4x16xbf16>
}

// CHECK-LABEL: func @matmul_asymmetric_input
func.func @matmul_asymmetric_input(%xq: tensor<4x64xui8>, %w: tensor<16x64xi8>, %sw: tensor<16x1xf32>,
                                   %sx: tensor<4x1xf32>, %zx: tensor<4x1xui8>) -> tensor<4x16xf32> {
  // CHECK: qopt.matmul %{{.*}}, %{{.*}}, %{{.*}} input_scale(%{{.*}}, %{{.*}}) {acc_type = f32} : (tensor<4x64xui8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<4x1xf32>, tensor<4x1xui8>) -> tensor<4x16xf32>
  %a = qopt.matmul %xq, %w, %sw input_scale(%sx, %zx) {acc_type = f32} : (tensor<4x64xui8>, tensor<16x64xi8>, tensor<16x1xf32>, tensor<4x1xf32>, tensor<4x1xui8>) -> tensor<4x16xf32>
  return %a : tensor<4x16xf32>
}

// CHECK-LABEL: func @gpu_tensor_map
// CHECK: qopt.gpu_tensor_map %{{.*}} box [128, 128] : memref<4096x8192xi8>
func.func @gpu_tensor_map(%x: memref<4096x8192xi8>) -> i64 {
  %m = qopt.gpu_tensor_map %x box [128, 128] : memref<4096x8192xi8>
  return %m : i64
}
