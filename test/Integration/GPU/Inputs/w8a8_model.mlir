// W8A8 products for wgmma_launch.test: a prefill-sized one (the 8-bit GEMM,
// on wgmma with wgmma=1) and a decode-sized one (the 8-bit GEMV with
// int8-gemv=1).
func.func @prefill(%x: tensor<256x512xi8>, %w: tensor<512x512xi8>, %sw: tensor<512x1xf32>,
                   %sx: tensor<256x1xf32>) -> tensor<256x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<256x512xi8>, tensor<512x512xi8>, tensor<512x1xf32>, tensor<256x1xf32>) -> tensor<256x512xf16>
  return %y : tensor<256x512xf16>
}

func.func @decode(%x: tensor<1x512xi8>, %w: tensor<512x512xi8>, %sw: tensor<512x1xf32>,
                  %sx: tensor<1x1xf32>) -> tensor<1x512xf16> {
  %y = qopt.matmul %x, %w, %sw input_scale(%sx) {acc_type = f32}
      : (tensor<1x512xi8>, tensor<512x512xi8>, tensor<512x1xf32>, tensor<1x1xf32>) -> tensor<1x512xf16>
  return %y : tensor<1x512xf16>
}
