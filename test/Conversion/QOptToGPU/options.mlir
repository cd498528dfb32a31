// RUN: quant-opt %s --convert-qopt-matmul-to-gpu=chip=sm_70 --verify-diagnostics

// expected-error @below {{unsupported chip 'sm_70' (expected sm_80, sm_89 or sm_90a)}}
module {
}
