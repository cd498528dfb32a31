// Checks Inputs/w8a8_model.mlir compiled ahead of time on a GPU: the
// prefill (the 8-bit GEMM: on a device of compute capability 9.0 the wgmma
// kernel, elsewhere mma.sync, when built for sm_90a and older chips) and
// the decode (the 8-bit GEMV), on random codes and scales, against the
// exact integer products scaled in double. Y is f16: within 2^-11 |ref|
// and the f32 roundings of the scaling (4 · 2^-24 |ref|), 2^-24 absolute.
#include <stdio.h>

#include "e2e_common.h"

enum { M = 256, N = 512, K = 512 };

void _mlir_ciface_prefill(MemRefI8 *x, MemRefI8 *w, MemRefF32 *sw,
                          MemRefF32 *sx, MemRefF16 *y);
void _mlir_ciface_decode(MemRefI8 *x, MemRefI8 *w, MemRefF32 *sw,
                         MemRefF32 *sx, MemRefF16 *y);
// Weak: the same main checks the CPU build (quant-compile --target cpu),
// which has no GPU runtime.
__attribute__((weak)) int64_t qoptComputeCapability(void);

static int8_t x[M * K], w[N * K];
static float sw[N], sx[M];
static _Float16 y[M * N];

// Rows [0, rows) of Y against the reference; returns how many are outside.
static int check(int rows, double *worst) {
  int bad = 0;
  for (int m = 0; m < rows; ++m)
    for (int n = 0; n < N; ++n) {
      int64_t sum = 0;
      for (int k = 0; k < K; ++k)
        sum += (int64_t)x[m * K + k] * w[n * K + k];
      double ref = (double)sx[m] * sw[n] * (double)sum;
      double bound = ldexp(fabs(ref), -11) + 4.0 * ldexp(fabs(ref), -24) +
                     ldexp(1.0, -24);
      double err = fabs((double)y[m * N + n] - ref);
      if (!(err <= bound)) // NaN too
        ++bad;
      else if (err / bound > *worst)
        *worst = err / bound;
    }
  return bad;
}

int main(void) {
  for (int i = 0; i < M * K; ++i)
    x[i] = (int8_t)(next() >> 24);
  for (int i = 0; i < N * K; ++i)
    w[i] = (int8_t)(next() >> 24);
  for (int i = 0; i < N; ++i)
    sw[i] = 1e-3f * (0.5f + (float)(next() >> 8) / 16777216.0f);
  for (int i = 0; i < M; ++i)
    sx[i] = 1e-3f * (0.5f + (float)(next() >> 8) / 16777216.0f);
  MemRefI8 wm = {w, w, 0, {N, K}, {K, 1}};
  MemRefF32 swm = {sw, sw, 0, {N, 1}, {1, 1}};
  MemRefI8 xm = {x, x, 0, {M, K}, {K, 1}};
  MemRefF32 sxm = {sx, sx, 0, {M, 1}, {1, 1}};
  MemRefF16 ym = {y, y, 0, {M, N}, {N, 1}};
  int failed = 0;
  double worst = 0;

  // Poisoned first: a kernel that writes nothing fails.
  for (int i = 0; i < M * N; ++i)
    y[i] = (_Float16)NAN;
  _mlir_ciface_prefill(&xm, &wm, &swm, &sxm, &ym);
  int bad = check(M, &worst);
  printf("compute capability %lld: prefill %s: %d of %d outside the bound, "
         "largest error/bound %.3f\n",
         qoptComputeCapability ? (long long)qoptComputeCapability() : 0LL,
         bad ? "FAIL" : "PASS", bad, M * N, worst);
  failed |= bad != 0;

  for (int i = 0; i < M * N; ++i)
    y[i] = (_Float16)NAN;
  MemRefI8 x1 = {x, x, 0, {1, K}, {K, 1}};
  MemRefF32 sx1 = {sx, sx, 0, {1, 1}, {1, 1}};
  MemRefF16 y1 = {y, y, 0, {1, N}, {N, 1}};
  worst = 0;
  _mlir_ciface_decode(&x1, &wm, &swm, &sx1, &y1);
  bad = check(1, &worst);
  printf("decode %s: %d of %d outside the bound, largest error/bound %.3f\n",
         bad ? "FAIL" : "PASS", bad, N, worst);
  failed |= bad != 0;
  return failed;
}
