// Drives libqopt_cuda_runtime the way gpu-to-llvm host code does: load a
// module, allocate, copy, launch (blocks, then clusters), synchronise,
// free. Prints "ok" when every
// call returned.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void *mgpuStreamCreate(void);
void mgpuStreamSynchronize(void *);
void mgpuStreamDestroy(void *);
void *mgpuModuleLoad(void *, size_t);
void *mgpuModuleGetFunction(void *, const char *);
void mgpuModuleUnload(void *);
void *mgpuMemAlloc(uint64_t, void *, bool);
void mgpuMemFree(void *, void *);
void mgpuMemcpy(void *, void *, size_t, void *);
void mgpuLaunchKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                      intptr_t, intptr_t, int32_t, void *, void **, void **,
                      size_t);
void mgpuLaunchClusterKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                             intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                             int32_t, void *, void **, void **);

int main(void) {
  static char blob[16];
  float host[4] = {1, 2, 3, 4};
  void *stream = mgpuStreamCreate();
  void *module = mgpuModuleLoad(blob, sizeof(blob));
  void *kernel = mgpuModuleGetFunction(module, "main_kernel");
  void *device = mgpuMemAlloc(sizeof(host), stream, false);
  mgpuMemcpy(device, host, sizeof(host), stream);
  void *params[] = {&device};
  mgpuLaunchKernel(kernel, 1, 1, 1, 128, 1, 1, 64 * 1024, stream, params,
                   NULL, 1);
  // Clusters of 2 blocks (gpu.launch_func with `clusters in`).
  mgpuLaunchClusterKernel(kernel, 2, 1, 1, 4, 1, 1, 384, 1, 1, 197696, stream,
                          params, NULL);
  mgpuStreamSynchronize(stream);
  mgpuMemFree(device, stream);
  mgpuModuleUnload(module);
  mgpuStreamDestroy(stream);
  printf("ok\n");
  return 0;
}
