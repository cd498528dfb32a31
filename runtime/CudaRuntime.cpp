//===- CudaRuntime.cpp - The mgpu* ABI over the CUDA driver, loaded late -===//
//
// libqopt_cuda_runtime.so: the functions that host code lowered by
// upstream `gpu-to-llvm` (LLVM 22) calls — module loading, kernel launch,
// streams, events, memory — implemented over the CUDA driver API. The
// driver (`libcuda.so.1`, or $QOPT_CUDA_DRIVER) is opened with dlopen at the
// first call, so executables link and start on machines without a GPU and
// depend on nothing but this library, libc and the driver.
//
// Every driver error is fatal (but a binary with no code for the device,
// which loads as no module: mgpuModuleLoad): the program prints the
// failing call, the driver's error name and message, and exits with
// status 1. A machine
// without a driver or a device gets one clear message from the first call.
// (Upstream's runtime wrappers print and carry on, which turns a missing
// device into wrong results further down.)
//
//===----------------------------------------------------------------------===//

#include <cuda.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#define QOPT_EXPORT extern "C" __attribute__((visibility("default")))
#define QOPT_STRINGIFY_(x) #x
#define QOPT_STRINGIFY(x) QOPT_STRINGIFY_(x)

namespace {

[[noreturn]] void fatal(const char *format, ...) {
  std::fprintf(stderr, "qopt_cuda_runtime: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  // _Exit, not exit: the failing call may be the module load that the
  // host code makes from a global constructor, still inside the driver's
  // one-time initialisation; exit() would run the matching destructor,
  // whose module unload waits on that initialisation forever.
  std::fflush(nullptr);
  std::_Exit(1);
}

/// The driver entry points this runtime uses, resolved once. The names are
/// those cuda.h maps the API to (cuMemAlloc is cuMemAlloc_v2, ...).
struct Driver {
#define QOPT_DRIVER_FUNCTIONS(X)                                               \
  X(cuInit)                                                                    \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetAttribute)                                                      \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuCtxSetCurrent)                                                           \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuModuleLoadData)                                                          \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuLaunchKernel)                                                            \
  X(cuStreamCreate)                                                            \
  X(cuStreamDestroy)                                                           \
  X(cuStreamSynchronize)                                                       \
  X(cuStreamWaitEvent)                                                         \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy)                                                            \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)                                                        \
  X(cuMemAlloc)                                                                \
  X(cuMemAllocManaged)                                                         \
  X(cuMemFree)                                                                 \
  X(cuMemcpyAsync)                                                             \
  X(cuMemcpyHtoD)                                                              \
  X(cuCtxSynchronize)                                                          \
  X(cuMemsetD32Async)                                                          \
  X(cuMemsetD16Async)
// Optional ones, null where the driver lacks them: cuTensorMapEncodeTiled
// and cuLaunchKernelEx (drivers before CUDA 12; only TMA kernels and
// cluster launches need them) and the stream-ordered allocator (CUDA 11.2
// drivers on).
#define QOPT_OPTIONAL_DRIVER_FUNCTIONS(X)                                      \
  X(cuTensorMapEncodeTiled)                                                    \
  X(cuLaunchKernelEx)                                                          \
  X(cuMemAllocAsync)                                                           \
  X(cuMemFreeAsync)                                                            \
  X(cuDeviceGetDefaultMemPool)                                                 \
  X(cuMemPoolSetAttribute)
#define QOPT_DECLARE(name) decltype(&::name) name = nullptr;
  QOPT_DRIVER_FUNCTIONS(QOPT_DECLARE)
  QOPT_OPTIONAL_DRIVER_FUNCTIONS(QOPT_DECLARE)
#undef QOPT_DECLARE
  CUcontext context = nullptr;
  /// Device buffers of a stream come from the device's memory pool, freed
  /// back to it in stream order (no device-wide synchronisation).
  bool streamOrderedAlloc = false;
};

int defaultDevice = 0;

/// Checks a driver call: on failure, prints the call and the driver's own
/// name and description of the error, and exits.
void check(const Driver &driver, CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return;
  // Both are resolved (or the program has exited) before any call is made.
  const char *name = nullptr, *message = nullptr;
  driver.cuGetErrorName(result, &name);
  driver.cuGetErrorString(result, &message);
  fatal("%s failed: %s (%d): %s", call, name ? name : "unknown error",
        int(result), message ? message : "no description");
}

#define CHECK(driver, call) check(driver, driver.call, #call)

/// Opens the driver, initialises it and makes the primary context of the
/// default device current, on the first use.
const Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    const char *path = std::getenv("QOPT_CUDA_DRIVER");
    if (!path || !*path)
      path = "libcuda.so.1";
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!library)
      fatal("cannot load the CUDA driver (%s): %s. This program needs an "
            "NVIDIA GPU with its driver installed.",
            path, dlerror());
#define QOPT_RESOLVE(name)                                                     \
  d.name = reinterpret_cast<decltype(d.name)>(                                 \
      dlsym(library, QOPT_STRINGIFY(name)));                                   \
  if (!d.name)                                                                 \
    fatal("the CUDA driver %s lacks %s (driver too old?)", path,              \
          QOPT_STRINGIFY(name));
    QOPT_DRIVER_FUNCTIONS(QOPT_RESOLVE)
#undef QOPT_RESOLVE
#define QOPT_RESOLVE_OPTIONAL(name)                                            \
  d.name = reinterpret_cast<decltype(d.name)>(                                 \
      dlsym(library, QOPT_STRINGIFY(name)));
    QOPT_OPTIONAL_DRIVER_FUNCTIONS(QOPT_RESOLVE_OPTIONAL)
#undef QOPT_RESOLVE_OPTIONAL
    CHECK(d, cuInit(0));
    int count = 0;
    CHECK(d, cuDeviceGetCount(&count));
    if (count == 0)
      fatal("the CUDA driver reports no device");
    if (defaultDevice < 0 || defaultDevice >= count)
      fatal("device %d requested, but the driver reports %d device(s)",
            defaultDevice, count);
    CUdevice device;
    CHECK(d, cuDeviceGet(&device, defaultDevice));
    CHECK(d, cuDevicePrimaryCtxRetain(&d.context, device));
    // The buffers of each call (activations, results) come from the
    // device's default pool, which keeps what is freed for the next call
    // (release threshold: never) instead of returning it at every
    // synchronisation. Without pools (old driver or device), or with
    // $QOPT_CUDA_SYNC_ALLOC set, cuMemAlloc / cuMemFree.
    if (d.cuMemAllocAsync && d.cuMemFreeAsync &&
        d.cuDeviceGetDefaultMemPool && d.cuMemPoolSetAttribute &&
        !std::getenv("QOPT_CUDA_SYNC_ALLOC")) {
      int pools = 0;
      CHECK(d, cuDeviceGetAttribute(
                   &pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, device));
      if (pools) {
        CUmemoryPool pool = nullptr;
        CHECK(d, cuDeviceGetDefaultMemPool(&pool, device));
        cuuint64_t keep = ~cuuint64_t(0);
        CHECK(d, cuMemPoolSetAttribute(
                     pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep));
        d.streamOrderedAlloc = true;
      }
    }
  });
  // Kernels may be launched from other threads than the first caller's:
  // make the context current once per thread, not on every call.
  thread_local bool current = false;
  if (!current) {
    CHECK(d, cuCtxSetCurrent(d.context));
    current = true;
  }
  return d;
}

CUstream asStream(void *stream) { return static_cast<CUstream>(stream); }

} // namespace

//===----------------------------------------------------------------------===//
// The ABI of LLVM 22's gpu-to-llvm host code
//===----------------------------------------------------------------------===//

QOPT_EXPORT void mgpuSetDefaultDevice(int32_t device) {
  defaultDevice = device;
}

/// An attribute of the default device.
static int64_t deviceAttribute(CUdevice_attribute attribute) {
  const Driver &d = driver();
  CUdevice device;
  CHECK(d, cuDeviceGet(&device, defaultDevice));
  int value = 0;
  CHECK(d, cuDeviceGetAttribute(&value, attribute, device));
  return value;
}

/// Compute capability of the default device, major * 10 + minor (90 for
/// an H100): what host code compiled for several chips branches on to
/// launch the kernels only some of them have (the sm_90a-only wgmma GEMM).
QOPT_EXPORT int64_t qoptComputeCapability() {
  static const int64_t capability =
      10 * deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) +
      deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  return capability;
}

/// A binary with no code this GPU runs (the sm_90a-only kernels of a
/// program built for several chips, on another GPU) loads as no module:
/// the host code launches none of its kernels there, and looking one up
/// is the error (mgpuModuleGetFunction).
QOPT_EXPORT void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  const Driver &d = driver();
  CUmodule module = nullptr;
  CUresult result = d.cuModuleLoadData(&module, data);
  if (result == CUDA_ERROR_NO_BINARY_FOR_GPU)
    return nullptr;
  check(d, result, "cuModuleLoadData(&module, data)");
  return module;
}

QOPT_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel) {
  const Driver &d = driver();
  CUmodule module = nullptr;
  char log[8192] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log)),
                    reinterpret_cast<void *>(intptr_t(optLevel))};
  CUresult result = d.cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS)
    std::fprintf(stderr, "qopt_cuda_runtime: PTX JIT log:\n%s\n", log);
  check(d, result, "cuModuleLoadDataEx(PTX)");
  return module;
}

namespace {

/// The dynamic shared memory each kernel has been opted into beyond the
/// default 48 KiB, so that a launch asks the driver only once per kernel
/// (cuFuncSetAttribute is a driver call under its lock, not free on a
/// path that runs every launch).
struct SharedMemoryOptIns {
  std::mutex mutex;
  std::unordered_map<CUfunction, int32_t> bytes;
};

SharedMemoryOptIns &sharedMemoryOptIns() {
  static SharedMemoryOptIns optIns;
  return optIns;
}

} // namespace

QOPT_EXPORT void mgpuModuleUnload(void *module) {
  if (!module) // a binary with no code for this GPU (mgpuModuleLoad)
    return;
  const Driver &d = driver();
  // Its functions' handles may be reused by a module loaded later.
  {
    SharedMemoryOptIns &optIns = sharedMemoryOptIns();
    std::lock_guard<std::mutex> lock(optIns.mutex);
    optIns.bytes.clear();
  }
  CUresult result = d.cuModuleUnload(static_cast<CUmodule>(module));
  // Host code unloads its modules from a global destructor; at process exit
  // the driver may already have shut down, and the module is gone with it.
  if (result == CUDA_ERROR_DEINITIALIZED)
    return;
  check(d, result, "cuModuleUnload(module)");
}

QOPT_EXPORT void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module)
    fatal("kernel '%s': its binary has no code for this GPU (compute "
          "capability %lld); build for this chip (--chip)",
          name, static_cast<long long>(qoptComputeCapability()));
  const Driver &d = driver();
  CUfunction function = nullptr;
  CUresult result =
      d.cuModuleGetFunction(&function, static_cast<CUmodule>(module), name);
  if (result != CUDA_SUCCESS)
    std::fprintf(stderr, "qopt_cuda_runtime: kernel '%s'\n", name);
  check(d, result, "cuModuleGetFunction");
  return function;
}

/// Beyond 48 KiB, dynamic shared memory must be opted into per kernel
/// (once: the attribute stays set).
static void optIntoSharedMemory(const Driver &d, CUfunction f, int32_t smem) {
  if (smem <= 48 * 1024)
    return;
  SharedMemoryOptIns &optIns = sharedMemoryOptIns();
  std::lock_guard<std::mutex> lock(optIns.mutex);
  int32_t &optedIn = optIns.bytes[f];
  if (optedIn < smem) {
    CHECK(d, cuFuncSetAttribute(
                 f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem));
    optedIn = smem;
  }
}

QOPT_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                  intptr_t gridY, intptr_t gridZ,
                                  intptr_t blockX, intptr_t blockY,
                                  intptr_t blockZ, int32_t smem, void *stream,
                                  void **params, void **extra,
                                  size_t /*paramsCount*/) {
  const Driver &d = driver();
  auto f = static_cast<CUfunction>(function);
  optIntoSharedMemory(d, f, smem);
  CHECK(d, cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ,
                          smem, asStream(stream), params, extra));
}

/// The number of SMs of the device host code launches on (the grid of a
/// persistent kernel: a block an SM), asked of the driver once.
QOPT_EXPORT int64_t qoptMultiprocessorCount() {
  static const int64_t count = std::max<int64_t>(
      deviceAttribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), 1);
  return count;
}

/// A launch of thread-block clusters of clusterX × clusterY × clusterZ
/// blocks (gpu.launch_func with `clusters in`), through cuLaunchKernelEx.
QOPT_EXPORT void mgpuLaunchClusterKernel(
    void *function, intptr_t clusterX, intptr_t clusterY, intptr_t clusterZ,
    intptr_t gridX, intptr_t gridY, intptr_t gridZ, intptr_t blockX,
    intptr_t blockY, intptr_t blockZ, int32_t smem, void *stream,
    void **params, void **extra) {
  const Driver &d = driver();
  if (!d.cuLaunchKernelEx)
    fatal("a launch of thread-block clusters needs cuLaunchKernelEx (a CUDA "
          "12 driver)");
  auto f = static_cast<CUfunction>(function);
  optIntoSharedMemory(d, f, smem);
  CUlaunchAttribute cluster = {};
  cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  cluster.value.clusterDim.x = static_cast<unsigned>(clusterX);
  cluster.value.clusterDim.y = static_cast<unsigned>(clusterY);
  cluster.value.clusterDim.z = static_cast<unsigned>(clusterZ);
  CUlaunchConfig config = {};
  config.gridDimX = static_cast<unsigned>(gridX);
  config.gridDimY = static_cast<unsigned>(gridY);
  config.gridDimZ = static_cast<unsigned>(gridZ);
  config.blockDimX = static_cast<unsigned>(blockX);
  config.blockDimY = static_cast<unsigned>(blockY);
  config.blockDimZ = static_cast<unsigned>(blockZ);
  config.sharedMemBytes = static_cast<unsigned>(smem);
  config.hStream = asStream(stream);
  config.attrs = &cluster;
  config.numAttrs = 1;
  CHECK(d, cuLaunchKernelEx(&config, f, params, extra));
}

namespace {

/// Streams that host code has destroyed, kept for its next launch:
/// gpu-async-region creates and destroys a stream around every launch, and
/// cuStreamCreate / cuStreamDestroy cost more than the launch itself. A
/// stream comes back here after the host code synchronised it (or, if it
/// did not, work on it still runs in order before the next user's).
struct StreamPool {
  std::mutex mutex;
  std::vector<CUstream> idle;
  static constexpr size_t kMaxIdle = 64;
};

StreamPool &streamPool() {
  static StreamPool pool;
  return pool;
}

} // namespace

QOPT_EXPORT void *mgpuStreamCreate() {
  const Driver &d = driver();
  StreamPool &pool = streamPool();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (!pool.idle.empty()) {
      CUstream stream = pool.idle.back();
      pool.idle.pop_back();
      return stream;
    }
  }
  CUstream stream = nullptr;
  CHECK(d, cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  return stream;
}

QOPT_EXPORT void mgpuStreamDestroy(void *stream) {
  const Driver &d = driver();
  StreamPool &pool = streamPool();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (pool.idle.size() < StreamPool::kMaxIdle) {
      pool.idle.push_back(asStream(stream));
      return;
    }
  }
  CHECK(d, cuStreamDestroy(asStream(stream)));
}

QOPT_EXPORT void mgpuStreamSynchronize(void *stream) {
  const Driver &d = driver();
  CHECK(d, cuStreamSynchronize(asStream(stream)));
}

QOPT_EXPORT void mgpuStreamWaitEvent(void *stream, void *event) {
  const Driver &d = driver();
  CHECK(d, cuStreamWaitEvent(asStream(stream), static_cast<CUevent>(event),
                             0));
}

QOPT_EXPORT void *mgpuEventCreate() {
  const Driver &d = driver();
  CUevent event = nullptr;
  CHECK(d, cuEventCreate(&event, CU_EVENT_DISABLE_TIMING));
  return event;
}

QOPT_EXPORT void mgpuEventDestroy(void *event) {
  const Driver &d = driver();
  CHECK(d, cuEventDestroy(static_cast<CUevent>(event)));
}

QOPT_EXPORT void mgpuEventSynchronize(void *event) {
  const Driver &d = driver();
  CHECK(d, cuEventSynchronize(static_cast<CUevent>(event)));
}

QOPT_EXPORT void mgpuEventRecord(void *event, void *stream) {
  const Driver &d = driver();
  CHECK(d, cuEventRecord(static_cast<CUevent>(event), asStream(stream)));
}

/// On a stream (the code of gpu-async-region, which allocates and frees on
/// streams), from the pool in stream order; otherwise cuMemAlloc.
QOPT_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                               bool isHostShared) {
  const Driver &d = driver();
  if (sizeBytes == 0)
    return nullptr;
  CUdeviceptr ptr = 0;
  if (isHostShared)
    CHECK(d, cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL));
  else if (stream && d.streamOrderedAlloc)
    CHECK(d, cuMemAllocAsync(&ptr, sizeBytes, asStream(stream)));
  else
    CHECK(d, cuMemAlloc(&ptr, sizeBytes));
  return reinterpret_cast<void *>(ptr);
}

QOPT_EXPORT void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  const Driver &d = driver();
  if (stream && d.streamOrderedAlloc)
    CHECK(d, cuMemFreeAsync(reinterpret_cast<CUdeviceptr>(ptr),
                            asStream(stream)));
  else
    CHECK(d, cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)));
}

QOPT_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                            void *stream) {
  const Driver &d = driver();
  CHECK(d, cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                         reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                         asStream(stream)));
}

QOPT_EXPORT void mgpuMemset32(void *dst, unsigned int value, size_t count,
                              void *stream) {
  const Driver &d = driver();
  CHECK(d, cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                            asStream(stream)));
}

QOPT_EXPORT void mgpuMemset16(void *dst, int short value, size_t count,
                              void *stream) {
  const Driver &d = driver();
  CHECK(d, cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst),
                            static_cast<unsigned short>(value), count,
                            asStream(stream)));
}

//===----------------------------------------------------------------------===//
// Constants resident on the device
//===----------------------------------------------------------------------===//

/// The device copy of the `bytes` bytes at `host`, a constant buffer of the
/// program (the weights and scales of a compiled model, bound into the host
/// code as constant globals): uploaded on the first call for that buffer,
/// the same copy returned afterwards, kept for the life of the process.
/// Host code of qopt-materialize-gpu-launches calls it in place of a device
/// allocation and copy per launch. The upload completes before it returns,
/// so kernels on any stream see the data.
QOPT_EXPORT void *qoptDeviceConstant(const void *host, uint64_t bytes) {
  const Driver &d = driver();
  static std::mutex mutex;
  static std::map<std::pair<const void *, uint64_t>, CUdeviceptr> copies;
  std::lock_guard<std::mutex> lock(mutex);
  CUdeviceptr &copy = copies[{host, bytes}];
  if (!copy && bytes) {
    CHECK(d, cuMemAlloc(&copy, bytes));
    CHECK(d, cuMemcpyHtoD(copy, host, bytes));
    // From pageable memory the copy may still be in flight on return.
    CHECK(d, cuCtxSynchronize());
  }
  return reinterpret_cast<void *>(copy);
}

//===----------------------------------------------------------------------===//
// TMA descriptors (sm_90 kernels that use cp.async.bulk.tensor)
//===----------------------------------------------------------------------===//

namespace {

/// Bytes per element of each CUtensorMapDataType up to TFLOAT32_FTZ.
size_t tensorMapElementBytes(CUtensorMapDataType type) {
  static constexpr size_t bytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  size_t index = static_cast<size_t>(type);
  if (index >= sizeof(bytes) / sizeof(bytes[0]))
    fatal("mgpuTensorMapEncodeTiledMemref: unsupported tensor map data type "
          "%zu",
          index);
  return bytes[index];
}

} // namespace

/// Encodes a TMA descriptor for a ranked memref (its descriptor
/// {allocated, aligned, offset, sizes[rank], strides[rank]} as 64-bit
/// words) with box `boxDims` (outermost first), and returns it copied to
/// device memory, as nvgpu.tma.create.descriptor lowers to. As with
/// upstream's wrapper, the 128-byte device copy is never freed: host code
/// that creates descriptors in a loop should hoist them out of it. TMA orders
/// dimensions innermost first and takes the strides of all but the
/// innermost in bytes. The view's offset is applied (upstream's wrapper
/// ignores it).
QOPT_EXPORT void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *rankedDescriptor, const CUtensorMapDataType dataType,
    CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
    CUtensorMapL2promotion l2Promotion, CUtensorMapFloatOOBfill oobFill,
    int64_t *boxDims) {
  const Driver &d = driver();
  if (!d.cuTensorMapEncodeTiled)
    fatal("the CUDA driver lacks cuTensorMapEncodeTiled (TMA needs a CUDA 12 "
          "driver)");
  if (rank < 1 || rank > 5)
    fatal("mgpuTensorMapEncodeTiledMemref: rank %lld; TMA takes 1 to 5",
          static_cast<long long>(rank));
  const auto *words = static_cast<const int64_t *>(rankedDescriptor);
  char *aligned = reinterpret_cast<char *>(words[1]);
  int64_t offset = words[2];
  const int64_t *sizes = words + 3, *strides = words + 3 + rank;
  size_t elementBytes = tensorMapElementBytes(dataType);

  cuuint64_t globalDim[5] = {1, 1, 1, 1, 1}, globalStrides[4] = {0, 0, 0, 0};
  cuuint32_t box[5] = {1, 1, 1, 1, 1}, elementStrides[5] = {1, 1, 1, 1, 1};
  for (int64_t r = 0; r < rank; ++r) {
    globalDim[r] = static_cast<cuuint64_t>(sizes[rank - 1 - r]);
    box[r] = static_cast<cuuint32_t>(boxDims[rank - 1 - r]);
  }
  for (int64_t r = 0; r + 1 < rank; ++r)
    globalStrides[r] =
        static_cast<cuuint64_t>(strides[rank - 2 - r]) * elementBytes;

  CUtensorMap map;
  CHECK(d, cuTensorMapEncodeTiled(
               &map, dataType, static_cast<cuuint32_t>(rank),
               aligned + offset * static_cast<int64_t>(elementBytes),
               globalDim, globalStrides, box, elementStrides, interleave,
               swizzle, l2Promotion, oobFill));
  CUdeviceptr deviceMap = 0;
  CHECK(d, cuMemAlloc(&deviceMap, sizeof(map)));
  CHECK(d, cuMemcpyHtoD(deviceMap, &map, sizeof(map)));
  // From pageable memory the copy may still be in flight on return.
  CHECK(d, cuCtxSynchronize());
  return reinterpret_cast<void *>(deviceMap);
}

/// The device address of a tensor map of the row-major `rows` × `cols`
/// device buffer at `base` (elements of `elementBytes` = 1, 2 or 4 bytes),
/// for boxes of `boxRows` × `boxCols` elements, swizzled over
/// `swizzleBytes` = 32, 64 or 128 bytes (0: not swizzled; the compiler
/// chooses it, getTensorMapSwizzleBytes), rows and columns past the buffer
/// read as zeros, L2 lines of 256 bytes. Host code lowered from
/// qopt.gpu_tensor_map calls it before a launch. A map is encoded and
/// uploaded on the first call with its arguments (waiting for the upload),
/// and the same copy returned afterwards, so the call is pure: 128 bytes of
/// device memory for each distinct buffer address the launches see, which
/// the stream-ordered allocator keeps to a few.
QOPT_EXPORT uint64_t qoptTensorMap(const void *base, int64_t rows,
                                   int64_t cols, int64_t elementBytes,
                                   int64_t boxRows, int64_t boxCols,
                                   int64_t swizzleBytes) {
  static std::mutex mutex;
  static std::map<std::tuple<const void *, int64_t, int64_t, int64_t,
                             int64_t, int64_t, int64_t>,
                  uint64_t>
      maps;
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t &deviceMap = maps[{base, rows, cols, elementBytes, boxRows,
                              boxCols, swizzleBytes}];
  if (deviceMap) // Every launch but the first of its arguments.
    return deviceMap;
  // A new map: its arguments checked, then encoded and uploaded.
  CUtensorMapDataType type;
  switch (elementBytes) {
  case 1:
    type = CU_TENSOR_MAP_DATA_TYPE_UINT8;
    break;
  case 2:
    type = CU_TENSOR_MAP_DATA_TYPE_UINT16;
    break;
  case 4:
    type = CU_TENSOR_MAP_DATA_TYPE_UINT32;
    break;
  default:
    fatal("qoptTensorMap: elements of %lld bytes (1, 2 or 4)",
          static_cast<long long>(elementBytes));
  }
  CUtensorMapSwizzle swizzle;
  switch (swizzleBytes) {
  case 0:
    swizzle = CU_TENSOR_MAP_SWIZZLE_NONE;
    break;
  case 32:
    swizzle = CU_TENSOR_MAP_SWIZZLE_32B;
    break;
  case 64:
    swizzle = CU_TENSOR_MAP_SWIZZLE_64B;
    break;
  case 128:
    swizzle = CU_TENSOR_MAP_SWIZZLE_128B;
    break;
  default:
    fatal("qoptTensorMap: a swizzle of %lld bytes (0, 32, 64 or 128)",
          static_cast<long long>(swizzleBytes));
  }
  // The buffer as a row-major memref descriptor {allocated, aligned,
  // offset, sizes, strides}, encoded and uploaded as for
  // nvgpu.tma.create.descriptor.
  auto address = reinterpret_cast<int64_t>(base);
  int64_t descriptor[7] = {address, address, 0, rows, cols, cols, 1};
  int64_t box[2] = {boxRows, boxCols};
  deviceMap = reinterpret_cast<uint64_t>(mgpuTensorMapEncodeTiledMemref(
      2, descriptor, type, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE,
      box));
  return deviceMap;
}
