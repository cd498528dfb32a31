// Encodes a TMA descriptor for a strided f16 view, as host code lowered from
// nvgpu.tma.create.descriptor does: a memref<64x128xf16> at offset 256
// inside a buffer with a row stride of 192 elements, box 64x32.
#include <stdint.h>
#include <stdio.h>

void *mgpuTensorMapEncodeTiledMemref(int64_t, void *, int, int, int, int, int,
                                     int64_t *);

int main(int argc, char **argv) {
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
  (void)argc, (void)argv;
  return 0;
}
