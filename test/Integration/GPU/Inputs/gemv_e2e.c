// Calls the ahead-of-time compiled @decode of gemv_e2e.mlir (quant-compile)
// on deterministic data and checks Y against a reference computed here in
// double precision from the same f16 inputs and INT4 codes:
//
//   |y - ref| <= 2^-11 |ref| + 2 K 2^-24 sum_k |x w| + 2^-24
//
// (f16 result rounding, f32 summation). With QOPT_E2E_NO_CHECK set (the
// stand-in driver runs no kernel) it only reports that every call returned.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e_common.h"

enum { M = 12, N = 512, K = 1024, G = 128 };

void _mlir_ciface_decode(MemRefF16 *x, MemRefI8 *w, MemRefF32 *s,
                         MemRefF16 *y);

int main(void) {
  static _Float16 x[M * K], y[M * N];
  static int8_t packed[N * K / 2], codes[N * K];
  static float scale[N * (K / G)];
  for (int i = 0; i < M * K; ++i)
    x[i] = (_Float16)((int)(next() >> 22) / 256.0f - 2.0f);
  for (int i = 0; i < N * K; ++i)
    codes[i] = (int8_t)((next() >> 28) & 0xF) - 8;
  for (int i = 0; i < N * K / 2; ++i)
    packed[i] = (int8_t)((codes[2 * i] & 0xF) | (codes[2 * i + 1] << 4));
  for (int i = 0; i < N * (K / G); ++i)
    scale[i] = 0.005f + (next() >> 24) / 256.0f * 0.02f;
  for (int i = 0; i < M * N; ++i)
    y[i] = (_Float16)NAN;

  MemRefF16 xm = {x, x, 0, {M, K}, {K, 1}};
  MemRefI8 wm = {packed, packed, 0, {N, K / 2}, {K / 2, 1}};
  MemRefF32 sm = {scale, scale, 0, {N, K / G}, {K / G, 1}};
  MemRefF16 ym = {y, y, 0, {M, N}, {N, 1}};
  _mlir_ciface_decode(&xm, &wm, &sm, &ym);

  if (getenv("QOPT_E2E_NO_CHECK")) {
    printf("decode returned\n");
    return 0;
  }
  double worst = 0;
  int bad = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int k = 0; k < K; ++k) {
        double wv = codes[n * K + k] * (double)scale[n * (K / G) + k / G];
        ref += (double)x[m * K + k] * wv;
        mag += fabs((double)x[m * K + k] * wv);
      }
      double tol = gemvBound(ref, mag, K);
      double err = fabs((double)y[m * N + n] - ref);
      if (!(err <= tol)) {
        if (bad++ < 5)
          printf("y[%d, %d] = %g, expected %g (tolerance %g)\n", m, n,
                 (double)y[m * N + n], ref, tol);
      } else if (err / tol > worst) {
        worst = err / tol;
      }
    }
  printf("%s: %d of %d outside the bound, largest error/bound %.3f\n",
         bad ? "FAIL" : "PASS", bad, M * N, worst);
  return bad != 0;
}
