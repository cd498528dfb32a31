// RUN: quant-opt %s --split-input-file --convert-qopt-matmul-to-gpu="weight-layout=tiles" --verify-diagnostics | FileCheck %s

// weight-layout=tiles: a GEMV's weight from the caller is taken as tiles
// (the _tw kernel reads it as it comes); a constant one is tiled here.
// CHECK-LABEL: func.func @caller_tiles
// CHECK:         call @{{qopt_gemv_i4_f16_f16_m1n32k256_[a-z0-9_]+_tw}}_launch(%{{.*}}, %arg1, %arg2)
func.func @caller_tiles(%x: tensor<1x256xf16>, %w: tensor<32x128xi8>, %s: tensor<32x2xf32>) -> tensor<1x32xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x256xf16>, tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<1x32xf16>
  return %y : tensor<1x32xf16>
}

// -----

// The same weight at M = 32 would go to a GEMM, which reads rows (without
// gemm-tiled-weights): an error, not a silent misreading of the caller's
// tiles.
func.func @gemm_cannot_read_tiles(%x: tensor<32x256xf16>, %w: tensor<32x128xi8>, %s: tensor<32x2xf32>) -> tensor<32x32xf16> {
  // expected-error @+1 {{weight-layout=tiles: the weight operand is in tiles, but no kernel that reads tiles computes the product (qopt_gemm_i4_f16_f16_m32n32k256_s1x128_r32w2 reads rows)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<32x256xf16>, tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<32x32xf16>
  return %y : tensor<32x32xf16>
}

// -----

// A product with no GPU kernel at all (N not a multiple of 16) likewise.
func.func @host_cannot_read_tiles(%x: tensor<1x256xf16>, %w: tensor<24x128xi8>, %s: tensor<24x2xf32>) -> tensor<1x24xf16> {
  // expected-error @+1 {{weight-layout=tiles: the weight operand is in tiles, but no kernel that reads tiles computes the product (no GPU kernel for N = 24 is not a multiple of 16)}}
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<1x256xf16>, tensor<24x128xi8>, tensor<24x2xf32>) -> tensor<1x24xf16>
  return %y : tensor<1x24xf16>
}

// -----

// A weight the module computes (not an argument, not a constant) is in
// rows: the GEMV reads rows, and that is no breach of the contract.
// CHECK-LABEL: func.func @computed_weight
// CHECK:         call @{{qopt_gemv_i4_f16_f16_m1n32k256_s1x128_sk[0-9]+st1}}_launch(
func.func @computed_weight(%x: tensor<1x256xf16>, %w: tensor<32x128xi8>, %s: tensor<32x2xf32>) -> tensor<1x32xf16> {
  %w2 = arith.addi %w, %w : tensor<32x128xi8>
  %y = qopt.matmul %x, %w2, %s {acc_type = f32, packed = i4}
      : (tensor<1x256xf16>, tensor<32x128xi8>, tensor<32x2xf32>) -> tensor<1x32xf16>
  return %y : tensor<1x32xf16>
}
