// TMA descriptors through the runtime, against the stand-in driver's trace.
//
// No argument: encodes a descriptor for a strided f16 view, as host code
// lowered from nvgpu.tma.create.descriptor does: a memref<64x128xf16> at
// offset 256 inside a buffer with a row stride of 192 elements, box 64x32.
//
// "maps": qoptTensorMap, as host code lowered from qopt.gpu_tensor_map
// calls it, with repeated and new argument lists, a bad element size and
// (argument "swizzle") a bad swizzle.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void *mgpuTensorMapEncodeTiledMemref(int64_t, void *, int, int, int, int, int,
                                     int64_t *);
uint64_t qoptTensorMap(const void *base, int64_t rows, int64_t cols,
                       int64_t elementBytes, int64_t boxRows, int64_t boxCols,
                       int64_t swizzleBytes);

static int maps(void) {
  static int8_t buffer[300 * 512];
  printf("expect address=%p\n", (void *)buffer);
  fflush(stdout);
  uint64_t a = qoptTensorMap(buffer, 300, 512, 1, 128, 128, 128);
  uint64_t b = qoptTensorMap(buffer, 300, 512, 1, 128, 128, 128);
  printf("same map %s\n", a && a == b ? "yes" : "no");
  fflush(stdout);
  // Another box, 2-byte elements whose box rows span 64 bytes, and a box
  // of 16-byte rows (not swizzled).
  qoptTensorMap(buffer, 300, 512, 1, 256, 128, 128);
  qoptTensorMap(buffer, 300, 256, 2, 64, 32, 64);
  qoptTensorMap(buffer, 300, 512, 1, 128, 16, 0);
  fflush(stdout);
  qoptTensorMap(buffer, 300, 512, 3, 128, 128, 128);
  return 0;
}

static int badSwizzle(void) {
  static int8_t buffer[300 * 512];
  qoptTensorMap(buffer, 300, 512, 1, 128, 128, 96);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "maps"))
    return maps();
  if (argc > 1 && !strcmp(argv[1], "swizzle"))
    return badSwizzle();
  static uint16_t buffer[64 * 192 + 256];
  // {allocated, aligned, offset, sizes[2], strides[2]}
  int64_t descriptor[7] = {(int64_t)(buffer + 0), (int64_t)(buffer + 0), 256,
                           64, 128, 192, 1};
  int64_t box[2] = {64, 32};
  const int float16 = 6, swizzle128 = 3;
  printf("expect address=%p\n", (void *)(buffer + 256));
  void *map = mgpuTensorMapEncodeTiledMemref(2, descriptor, float16, 0,
                                             swizzle128, 0, 0, box);
  printf("map %s\n", map ? "on device" : "null");
  return 0;
}
