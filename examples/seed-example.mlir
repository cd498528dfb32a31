// The seed's worked examples as one function: run it with
//   build/bin/quant-run examples/seed-example.mlir
//
// result0  s = 3.1 / 127 = 0.0244: [0.70, 3.1, -2.8, 5.0] -> [29, 127, -115, 127]
// result1  the same through upstream quant.qcast and !quant.uniform
// result2  dequantized codes (29 -> 0.7076)
// result3  the i4 pair (-3, 6) packed into one byte: 0x6d = 109
// result4  unpacked and dequantized with s = 0.05: [-0.15, 0.30]
// result5  asymmetric UINT8 over [-0.4, 5.7]: s = 6.1 / 255, z = 17
func.func @main() -> (tensor<4xi8>, tensor<4xi8>, tensor<4xf32>, tensor<1xi8>,
                      tensor<2xf32>, tensor<3xui8>) {
  %x = arith.constant dense<[0.70, 3.1, -2.8, 5.0]> : tensor<4xf32>
  %s = arith.constant dense<0.0244> : tensor<f32>
  %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
  %u = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.0244>>
  %us = quant.scast %u : tensor<4x!quant.uniform<i8:f32, 0.0244>> to tensor<4xi8>
  %d = qopt.dequantize %q, %s : (tensor<4xi8>, tensor<f32>) -> tensor<4xf32>

  %n = arith.constant dense<[-3, 6]> : tensor<2xi4>
  %p = qopt.pack %n : tensor<2xi4> -> tensor<1xi8>
  %un = qopt.unpack %p : tensor<1xi8> -> tensor<2xi4>
  %s5 = arith.constant dense<0.05> : tensor<f32>
  %dn = qopt.dequantize %un, %s5 : (tensor<2xi4>, tensor<f32>) -> tensor<2xf32>

  %a = arith.constant dense<[-0.4, 0.0, 5.7]> : tensor<3xf32>
  %sa = arith.constant dense<0.023921569> : tensor<f32>
  %za = arith.constant dense<17> : tensor<ui8>
  %qa = qopt.quantize %a, %sa, %za : (tensor<3xf32>, tensor<f32>, tensor<ui8>) -> tensor<3xui8>
  return %q, %us, %d, %p, %dn, %qa : tensor<4xi8>, tensor<4xi8>, tensor<4xf32>, tensor<1xi8>, tensor<2xf32>, tensor<3xui8>
}
