// The seed's worked examples, end to end through quant-run, both before
// and after lowering to the LLVM dialect.
// RUN: quant-run %S/../../examples/seed-example.mlir | FileCheck %s
// RUN: quant-opt %S/../../examples/seed-example.mlir --qopt-cpu-pipeline -o %t.ll.mlir
// RUN: quant-run %t.ll.mlir | FileCheck %s

// s = 3.1 / 127 = 0.0244: [0.70, 3.1, -2.8, 5.0] -> [29, 127, -115, 127]
// through qopt.quantize and through quant.qcast alike (upstream
// lower-quant-ops gives [28, 127, -114, -52]).
// CHECK: result0: tensor<4xi8> = [29, 127, -115, 127]
// CHECK: result1: tensor<4xi8> = [29, 127, -115, 127]
// Dequantizing 29 gives 0.7076.
// CHECK: result2: tensor<4xf32> = [0.7076, 3.0988, -2.806, 3.0988]
// The i4 pair (-3, 6) packs to 0x6d = 109; s = 0.05 dequantizes them to
// -0.15 and 0.30.
// CHECK: result3: tensor<1xi8> = [109]
// CHECK: result4: tensor<2xf32> = [-0.15, 0.3]
// Asymmetric UINT8 over [-0.4, 5.7]: s = 6.1/255, z = 17; real 0 -> 17.
// CHECK: result5: tensor<3xui8> = [0, 17, 255]
