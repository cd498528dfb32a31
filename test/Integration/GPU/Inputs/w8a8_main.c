// Calls @prefill, @decode and @prefill again (Inputs/w8a8_model.mlir),
// marking the calls, for the stand-in driver's trace of their launches
// (wgmma_launch.test); the data is zeros: nothing is checked here.
#include <stdio.h>

#include "e2e_common.h"

enum { M = 256, N = 512, K = 512 };

void _mlir_ciface_prefill(MemRefI8 *x, MemRefI8 *w, MemRefF32 *sw,
                          MemRefF32 *sx, MemRefF16 *y);
void _mlir_ciface_decode(MemRefI8 *x, MemRefI8 *w, MemRefF32 *sw,
                         MemRefF32 *sx, MemRefF16 *y);

int main(void) {
  static int8_t x[M * K], w[N * K];
  static float sw[N], sx[M];
  static _Float16 y[M * N];
  MemRefI8 wm = {w, w, 0, {N, K}, {K, 1}};
  MemRefF32 swm = {sw, sw, 0, {N, 1}, {1, 1}};

  MemRefI8 xm = {x, x, 0, {M, K}, {K, 1}};
  MemRefF32 sxm = {sx, sx, 0, {M, 1}, {1, 1}};
  MemRefF16 ym = {y, y, 0, {M, N}, {N, 1}};
  printf("call prefill\n");
  fflush(stdout);
  _mlir_ciface_prefill(&xm, &wm, &swm, &sxm, &ym);

  // One token: the first row of the same buffers.
  MemRefI8 x1 = {x, x, 0, {1, K}, {K, 1}};
  MemRefF32 sx1 = {sx, sx, 0, {1, 1}, {1, 1}};
  MemRefF16 y1 = {y, y, 0, {1, N}, {N, 1}};
  printf("call decode\n");
  fflush(stdout);
  _mlir_ciface_decode(&x1, &wm, &swm, &sx1, &y1);

  printf("call prefill again\n");
  fflush(stdout);
  _mlir_ciface_prefill(&xm, &wm, &swm, &sxm, &ym);

  printf("done\n");
  return 0;
}
