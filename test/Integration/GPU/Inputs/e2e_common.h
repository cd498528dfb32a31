// Shared by the mains of the ahead-of-time GPU tests (gemv_e2e.c,
// resident_main.c): the memref descriptor of the _mlir_ciface_ ABI, the
// deterministic generator their data (and resident_model.py's constants)
// come from, and the error bound of an f16 GEMV result.
#ifndef QOPT_TEST_E2E_COMMON_H
#define QOPT_TEST_E2E_COMMON_H

#include <math.h>
#include <stdint.h>

#define MEMREF2(T)                                                             \
  struct {                                                                     \
    T *allocated, *aligned;                                                    \
    int64_t offset, sizes[2], strides[2];                                      \
  }
typedef MEMREF2(_Float16) MemRefF16;
typedef MEMREF2(int8_t) MemRefI8;
typedef MEMREF2(float) MemRefF32;

// A 32-bit LCG (Numerical Recipes), seeded as resident_model.py seeds it.
static uint32_t state = 12345;
static uint32_t next(void) { return state = state * 1664525u + 1013904223u; }

// |y - ref| <= 2^-11 |ref| + 2 K 2^-24 sum_k |x w| + 2^-24: f16 result
// rounding and f32 summation of K terms (`mag` is sum_k |x w|).
static double gemvBound(double ref, double mag, int k) {
  return ldexp(fabs(ref), -11) + 2.0 * k * ldexp(mag, -24) + ldexp(1.0, -24);
}

#endif
