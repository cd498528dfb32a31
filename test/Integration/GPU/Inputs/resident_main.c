// Calls @decode of Inputs/resident_model.py (asymmetric INT4: weights,
// scales and zero points constant in the module, so they stay resident on
// the device) twice, with different X, and checks each Y against a
// double-precision reference s (q - z) made from the same generator, with
// gemv_e2e.c's bound:
//
//   |y - ref| <= 2^-11 |ref| + 2 K 2^-24 sum_k |x w| + 2^-24
//
// With QOPT_E2E_NO_CHECK set (the stand-in driver runs no kernel) it only
// marks the calls, so that the driver's trace shows what each one copies.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e_common.h"

enum { M = 2, N = 16, K = 256, G = 128 };

void _mlir_ciface_decode(MemRefF16 *x, MemRefF16 *y);

int main(void) {
  static int codes[N * K], zero[N * (K / G)];
  static double scale[N * (K / G)];
  // The model's constants, as resident_model.py makes them.
  for (int i = 0; i < N * K; ++i)
    codes[i] = (int)((next() >> 28) & 0xF);
  for (int i = 0; i < N * (K / G); ++i)
    scale[i] = (1 + (next() >> 24)) / 4096.0;
  for (int i = 0; i < N * (K / G); ++i)
    zero[i] = (int)((next() >> 28) & 0xF);

  int bad = 0;
  for (int call = 1; call <= 2; ++call) {
    static _Float16 x[M * K], y[M * N];
    for (int i = 0; i < M * K; ++i)
      x[i] = (_Float16)((int)(next() >> 22) / 256.0f - 2.0f);
    for (int i = 0; i < M * N; ++i)
      y[i] = (_Float16)NAN;
    MemRefF16 xm = {x, x, 0, {M, K}, {K, 1}};
    MemRefF16 ym = {y, y, 0, {M, N}, {N, 1}};
    printf("call %d\n", call);
    fflush(stdout);
    _mlir_ciface_decode(&xm, &ym);
    if (getenv("QOPT_E2E_NO_CHECK"))
      continue;
    for (int m = 0; m < M; ++m)
      for (int n = 0; n < N; ++n) {
        double ref = 0, mag = 0;
        for (int k = 0; k < K; ++k) {
          int group = n * (K / G) + k / G;
          double wv = (codes[n * K + k] - zero[group]) * scale[group];
          ref += (double)x[m * K + k] * wv;
          mag += fabs((double)x[m * K + k] * wv);
        }
        double tol = gemvBound(ref, mag, K);
        if (!(fabs((double)y[m * N + n] - ref) <= tol) && bad++ < 5)
          printf("call %d: y[%d, %d] = %g, expected %g (tolerance %g)\n", call,
                 m, n, (double)y[m * N + n], ref, tol);
      }
  }
  if (getenv("QOPT_E2E_NO_CHECK")) {
    printf("done\n");
    return 0;
  }
  printf("%s: %d of %d outside the bound\n", bad ? "FAIL" : "PASS", bad,
         2 * M * N);
  return bad != 0;
}
