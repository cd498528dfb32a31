// A stand-in for libcuda.so.1 that answers like a driver would, for testing
// libqopt_cuda_runtime's error paths on machines without a GPU.
//   FAKE_CUDA_DEVICES=N     devices reported (default 1)
//   FAKE_CUDA_FAIL=name:code  make driver function `name` return `code`
//   FAKE_CUDA_TRACE=1       print each allocation, free and copy (and size)
//   FAKE_CUDA_TRACE_LAUNCHES=1  print each launch (grid, block, dynamic shared
//                           memory) and each function attribute set
//   FAKE_CUDA_NO_POOLS=1    report no memory-pool support
//   FAKE_CUDA_SMS=N         SMs of the device (default 132)
//   FAKE_CUDA_CC=N          compute capability, major * 10 + minor
//                           (default 90)
//   FAKE_CUDA_NO_BINARY=K   the K-th cuModuleLoadData (from 1) finds no code
//                           for this GPU (CUDA_ERROR_NO_BINARY_FOR_GPU)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;

static CUresult outcome(const char *name) {
  const char *fail = getenv("FAKE_CUDA_FAIL");
  size_t n = strlen(name);
  if (fail && strncmp(fail, name, n) == 0 && fail[n] == ':')
    return atoi(fail + n + 1);
  return 0;
}

CUresult cuGetErrorName(CUresult e, const char **s) {
  *s = e == 100 ? "CUDA_ERROR_NO_DEVICE"
       : e == 719 ? "CUDA_ERROR_LAUNCH_FAILED"
       : e == 2   ? "CUDA_ERROR_OUT_OF_MEMORY" : NULL;
  return *s ? 0 : 1;
}

CUresult cuGetErrorString(CUresult e, const char **s) {
  *s = e == 100 ? "no CUDA-capable device is detected"
       : e == 719 ? "unspecified launch failure"
       : e == 2   ? "out of memory" : NULL;
  return *s ? 0 : 1;
}

CUresult cuDeviceGetCount(int *count) {
  const char *n = getenv("FAKE_CUDA_DEVICES");
  *count = n ? atoi(n) : 1;
  return outcome("cuDeviceGetCount");
}

static char memory[1 << 16];

// FAKE_CUDA_TRACE=1: allocations and copies are printed, for FileCheck.
static void trace(const char *what, size_t bytes) {
  if (getenv("FAKE_CUDA_TRACE"))
    printf("fake_cuda: %s %zu\n", what, bytes);
}

CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src,
                         size_t bytes) {
  trace("cuMemcpyHtoD", bytes);
  (void)dst, (void)src;
  return outcome("cuMemcpyHtoD_v2");
}

CUresult cuMemcpyAsync(unsigned long long dst, unsigned long long src,
                       size_t bytes, void *stream) {
  trace("cuMemcpyAsync", bytes);
  (void)dst, (void)src, (void)stream;
  return outcome("cuMemcpyAsync");
}

CUresult cuMemAlloc_v2(unsigned long long *ptr, size_t bytes) {
  trace("cuMemAlloc", bytes);
  *ptr = (unsigned long long)memory;
  return outcome("cuMemAlloc_v2");
}

// A stream handle that is not the legacy default stream (null).
CUresult cuStreamCreate(void **stream, unsigned flags) {
  static char handles[256];
  static int next;
  trace("cuStreamCreate", 0);
  *stream = &handles[next++ % 256];
  (void)flags;
  return outcome("cuStreamCreate");
}

// Memory pools: supported unless FAKE_CUDA_NO_POOLS is set.
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  const char *sms = getenv("FAKE_CUDA_SMS");
  const char *cc = getenv("FAKE_CUDA_CC");
  int capability = cc ? atoi(cc) : 90;
  *value =
      attribute == 115 /* MEMORY_POOLS_SUPPORTED */
          ? !getenv("FAKE_CUDA_NO_POOLS")
          : attribute == 16 /* MULTIPROCESSOR_COUNT */ ? (sms ? atoi(sms) : 132)
            : attribute == 75 /* COMPUTE_CAPABILITY_MAJOR */ ? capability / 10
            : attribute == 76 /* COMPUTE_CAPABILITY_MINOR */ ? capability % 10
                                                             : 0;
  (void)device;
  return outcome("cuDeviceGetAttribute");
}

CUresult cuMemAllocAsync(unsigned long long *ptr, size_t bytes, void *stream) {
  trace("cuMemAllocAsync", bytes);
  *ptr = (unsigned long long)memory;
  (void)stream;
  return outcome("cuMemAllocAsync");
}

CUresult cuMemFreeAsync(unsigned long long ptr, void *stream) {
  trace("cuMemFreeAsync", 0);
  (void)ptr, (void)stream;
  return outcome("cuMemFreeAsync");
}

CUresult cuMemFree_v2(unsigned long long ptr) {
  trace("cuMemFree", 0);
  (void)ptr;
  return outcome("cuMemFree_v2");
}

// One handle per kernel name (the runtime keeps per-kernel state).
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  static char names[64][128], handles[64];
  static int count;
  int i = 0;
  while (i < count && strncmp(names[i], name, sizeof(names[i]) - 1))
    ++i;
  if (i == count && count < 64)
    snprintf(names[count++], sizeof(names[0]), "%s", name);
  *function = &handles[i % 64];
  (void)module;
  return outcome("cuModuleGetFunction");
}

// FAKE_CUDA_TRACE_LAUNCHES=1: launches and attributes, for FileCheck.
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  if (getenv("FAKE_CUDA_TRACE_LAUNCHES"))
    printf("fake_cuda: cuFuncSetAttribute %d %d\n", attribute, value);
  (void)function;
  return outcome("cuFuncSetAttribute");
}

CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *stream, void **params, void **extra) {
  if (getenv("FAKE_CUDA_TRACE_LAUNCHES"))
    printf("fake_cuda: cuLaunchKernel grid %u,%u,%u block %u,%u,%u shared %u\n",
           gx, gy, gz, bx, by, bz, shared);
  (void)function, (void)stream, (void)params, (void)extra;
  return outcome("cuLaunchKernel");
}

// CUlaunchConfig and CUlaunchAttribute as cuda.h lays them out.
typedef struct {
  int id;
  char pad[4];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
} FakeLaunchAttribute;
typedef struct {
  unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  void *hStream;
  FakeLaunchAttribute *attrs;
  unsigned numAttrs;
} FakeLaunchConfig;

CUresult cuLaunchKernelEx(const FakeLaunchConfig *config, void *function,
                          void **params, void **extra) {
  if (getenv("FAKE_CUDA_TRACE_LAUNCHES")) {
    printf("fake_cuda: cuLaunchKernelEx grid %u,%u,%u block %u,%u,%u "
           "shared %u",
           config->gridDimX, config->gridDimY, config->gridDimZ,
           config->blockDimX, config->blockDimY, config->blockDimZ,
           config->sharedMemBytes);
    for (unsigned i = 0; i < config->numAttrs; ++i)
      if (config->attrs[i].id == 4) // CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
        printf(" cluster %u,%u,%u", config->attrs[i].value.clusterDim.x,
               config->attrs[i].value.clusterDim.y,
               config->attrs[i].value.clusterDim.z);
    printf("\n");
  }
  (void)function, (void)params, (void)extra;
  return outcome("cuLaunchKernelEx");
}

// Prints what a TMA descriptor was encoded from, for FileCheck.
CUresult cuTensorMapEncodeTiled(void *map, int type, unsigned rank,
                                void *address, const unsigned long long *dims,
                                const unsigned long long *strides,
                                const unsigned *box, const unsigned *elements,
                                int interleave, int swizzle, int l2, int oob) {
  printf("encode type=%d rank=%u address=%p dims=", type, rank, address);
  for (unsigned r = 0; r < rank; ++r)
    printf("%s%llu", r ? "," : "", dims[r]);
  printf(" strides=");
  for (unsigned r = 0; r + 1 < rank; ++r)
    printf("%s%llu", r ? "," : "", strides[r]);
  printf(" box=");
  for (unsigned r = 0; r < rank; ++r)
    printf("%s%u", r ? "," : "", box[r]);
  printf(" swizzle=%d\n", swizzle);
  (void)map, (void)elements, (void)interleave, (void)l2, (void)oob;
  return outcome("cuTensorMapEncodeTiled");
}

CUresult cuModuleLoadData(void **module, const void *image) {
  static int loads;
  const char *none = getenv("FAKE_CUDA_NO_BINARY");
  ++loads;
  if (none && atoi(none) == loads)
    return 209; /* CUDA_ERROR_NO_BINARY_FOR_GPU */
  *module = (void *)(size_t)(0x1000 + loads);
  (void)image;
  return outcome("cuModuleLoadData");
}

#define FAKE(name)                                                             \
  CUresult name() { return outcome(#name); }
FAKE(cuInit)
FAKE(cuDeviceGet)
FAKE(cuDevicePrimaryCtxRetain)
FAKE(cuCtxSetCurrent)
FAKE(cuModuleLoadDataEx)
FAKE(cuModuleUnload)
FAKE(cuStreamDestroy_v2)
FAKE(cuStreamSynchronize)
FAKE(cuStreamWaitEvent)
FAKE(cuEventCreate)
FAKE(cuEventDestroy_v2)
FAKE(cuEventRecord)
FAKE(cuEventSynchronize)
FAKE(cuMemAllocManaged)
FAKE(cuDeviceGetDefaultMemPool)
FAKE(cuMemPoolSetAttribute)
FAKE(cuCtxSynchronize)
FAKE(cuMemsetD32Async)
FAKE(cuMemsetD16Async)
