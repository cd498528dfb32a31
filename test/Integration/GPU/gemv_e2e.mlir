// W4A16 decode compiled ahead of time (quant-compile) into an executable
// that needs only libqopt_cuda_runtime.so, libc and the CUDA driver.
// REQUIRES: cuda-runtime
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-compile %s -o %t/decode --main %S/Inputs/gemv_e2e.c
// RUN: llvm-readelf --needed-libs %t/decode | FileCheck %s --check-prefix=NEEDED
// NEEDED: libqopt_cuda_runtime.so
// NEEDED-NOT: LLVM
// NEEDED-NOT: MLIR
// NEEDED-NOT: mlir

// Through the stand-in driver: every runtime call returns (no kernel runs).
// RUN: env QOPT_CUDA_DRIVER=%fake_cuda QOPT_E2E_NO_CHECK=1 %t/decode | FileCheck %s --check-prefix=FAKE
// FAKE: decode returned

// No driver: one clear message and a non-zero exit, no crash.
// RUN: env QOPT_CUDA_DRIVER=/nonexistent/libcuda.so.1 not %t/decode 2>&1 | FileCheck %s --check-prefix=NODRIVER
// NODRIVER: cannot load the CUDA driver

func.func @decode(%x: tensor<12x1024xf16>, %w: tensor<512x512xi8>,
                  %s: tensor<512x8xf32>) -> tensor<12x512xf16> {
  %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
      : (tensor<12x1024xf16>, tensor<512x512xi8>, tensor<512x8xf32>) -> tensor<12x512xf16>
  return %y : tensor<12x512xf16>
}
