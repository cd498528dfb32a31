//===- mma_sp_check.cu - The 2:4 metadata layout against mma.sp -----------===//
//
// Runs every 2:4 `mma.sp::ordered_metadata` shape quant-opt's numerics
// library packs metadata for (f16 m16n8k16 and m16n8k32, bf16 m16n8k32, s8
// m16n8k32 and m16n8k64), with every sparsity selector, on operands built by
// select24 / compress24 / packSparseMmaMetadata (lib/Numerics/Sparsity.cpp,
// compiled in), and compares the product with the host's product of the
// 2:4-masked dense matrix. The entries are small integers, so every sum is
// exact in f32 and s32: the check is equality, and a wrong bit anywhere in
// the metadata changes a result.
//
// A warp per 16-row tile walks the K steps; the A and B fragments follow
// the PTX ISA's fragment figures (A is the compressed [16, K/2] tile, read
// like a dense operand), the metadata is one coalesced 32-bit load per lane.
//
//   nvcc -std=c++20 -O2 -Iinclude -gencode arch=compute_80,code=sm_80 \
//     -gencode arch=compute_90a,code=sm_90a bench/gpu/mma_sp_check.cu \
//     lib/Numerics/Sparsity.cpp -o mma_sp_check      (bench/gpu/build.py)
//
// Prints one line per shape and selector; exits 1 if any differs, 2 if
// there is no device. `mma_sp_check --probe` maps, by experiment, which
// metadata bits steer which chunk of A (see probe()).
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Numerics/Sparsity.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

using namespace quantopt;

namespace {

constexpr int kTiles = 8;  // 128 rows
constexpr int kSteps = 6;  // K steps per row

__device__ uint32_t load32(const void *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

// The PTX strings per shape; `Sel` is the sparsity selector immediate.
template <int Sel>
__device__ void mmaF16K16(float (&d)[4], const uint32_t (&a)[2],
                          const uint32_t (&b)[2], uint32_t e) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k16.row.col.f32."
               "f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6,%7}, {%0,%1,%2,%3}, "
               "%8, %9;"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(b[0]), "r"(b[1]), "r"(e),
                 "n"(Sel));
}

template <int Sel>
__device__ void mmaF16K32(float (&d)[4], const uint32_t (&a)[4],
                          const uint32_t (&b)[4], uint32_t e) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32."
               "f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, "
               "{%0,%1,%2,%3}, %12, %13;"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e), "n"(Sel));
}

template <int Sel>
__device__ void mmaBF16K32(float (&d)[4], const uint32_t (&a)[4],
                           const uint32_t (&b)[4], uint32_t e) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32."
               "bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, "
               "{%0,%1,%2,%3}, %12, %13;"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e), "n"(Sel));
}

template <int Sel>
__device__ void mmaI8K32(int (&d)[4], const uint32_t (&a)[2],
                         const uint32_t (&b)[2], uint32_t e) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.s32."
               "s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6,%7}, {%0,%1,%2,%3}, "
               "%8, %9;"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(b[0]), "r"(b[1]), "r"(e),
                 "n"(Sel));
}

template <int Sel>
__device__ void mmaI8K64(int (&d)[4], const uint32_t (&a)[4],
                         const uint32_t (&b)[4], uint32_t e) {
  asm volatile("mma.sp::ordered_metadata.sync.aligned.m16n8k64.row.col.s32."
               "s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9,%10,%11}, "
               "{%0,%1,%2,%3}, %12, %13;"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]),
                 "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e), "n"(Sel));
}

// D [rows, 8] = A x Bt^T: A compressed [rows, cols / 2], Bt [8, cols] with
// K contiguous. K is the dense K of one instruction, R its A (and B)
// registers. With w = 4 / sizeof(T) elements per register, the fragment
// rule of all four shapes (PTX ISA, sparse A and dense B figures) is:
// A register r holds row g + 8 (r % 2), compressed columns
// w t + 4 w (r / 2) onwards; B register r holds K rows w t + 4 w r onwards
// of column g.
template <typename T, typename Acc, int K, int R, typename Mma>
__global__ void sparseMma(const T *a, const uint32_t *meta, const T *bt,
                          Acc *d, Mma mma) {
  constexpr int perWord = 4 / sizeof(T);    // elements in a register
  constexpr int compressed = K / 2;         // A columns per step
  const int lane = threadIdx.x, g = lane / 4, t = lane % 4;
  const int tile = blockIdx.x;
  const int aCols = kSteps * compressed, bCols = kSteps * K;
  Acc acc[4] = {0, 0, 0, 0};
  for (int step = 0; step < kSteps; ++step) {
    uint32_t af[R], bf[R];
    for (int r = 0; r < R; ++r) {
      int row = tile * 16 + g + 8 * (r % 2);
      int col = step * compressed + perWord * t + 4 * perWord * (r / 2);
      af[r] = load32(a + row * aCols + col);
      bf[r] = load32(bt + g * bCols + step * K + perWord * t +
                     4 * perWord * r);
    }
    uint32_t e = meta[(tile * kSteps + step) * 32 + lane];
    mma(acc, af, bf, e);
  }
  Acc *out = d + (tile * 16 + g) * 8 + 2 * t;
  out[0] = acc[0];
  out[1] = acc[1];
  out[8 * 8] = acc[2];
  out[8 * 8 + 1] = acc[3];
}

#define CHECK_CUDA(call)                                                     \
  do {                                                                       \
    cudaError_t err = (call);                                                \
    if (err != cudaSuccess) {                                                \
      std::fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(err));      \
      std::exit(2);                                                          \
    }                                                                        \
  } while (0)

template <typename T> T fromInt(int v) {
  if constexpr (std::is_same_v<T, __half>)
    return __float2half(float(v));
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16(float(v));
  else
    return T(v);
}

// Runs sparseMma on host operands (A compressed, the metadata registers, Bt)
// and returns D [kTiles * 16, 8], poisoned before the run: 0x7F7F7F7F is no
// f32 or s32 result these sums can give.
template <typename T, typename Acc, int K, int R, typename Mma>
std::vector<Acc> runSparseMma(const std::vector<T> &a,
                              const std::vector<uint32_t> &meta,
                              const std::vector<T> &bt, Mma mma) {
  const int rows = kTiles * 16;
  T *aDev, *bDev;
  uint32_t *metaDev;
  Acc *dDev;
  CHECK_CUDA(cudaMalloc(&aDev, a.size() * sizeof(T)));
  CHECK_CUDA(cudaMalloc(&bDev, bt.size() * sizeof(T)));
  CHECK_CUDA(cudaMalloc(&metaDev, meta.size() * 4));
  CHECK_CUDA(cudaMalloc(&dDev, rows * 8 * sizeof(Acc)));
  CHECK_CUDA(cudaMemcpy(aDev, a.data(), a.size() * sizeof(T),
                        cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(bDev, bt.data(), bt.size() * sizeof(T),
                        cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemcpy(metaDev, meta.data(), meta.size() * 4,
                        cudaMemcpyHostToDevice));
  CHECK_CUDA(cudaMemset(dDev, 0x7F, rows * 8 * sizeof(Acc)));
  sparseMma<T, Acc, K, R><<<kTiles, 32>>>(aDev, metaDev, bDev, dDev, mma);
  CHECK_CUDA(cudaGetLastError());
  std::vector<Acc> got(rows * 8);
  CHECK_CUDA(cudaMemcpy(got.data(), dDev, got.size() * sizeof(Acc),
                        cudaMemcpyDeviceToHost));
  cudaFree(aDev);
  cudaFree(bDev);
  cudaFree(metaDev);
  cudaFree(dDev);
  return got;
}

// Builds the operands, runs `kernel` and compares; returns true if equal.
template <typename T, typename Acc, int K, int R, typename Mma>
bool check(const char *name, SparseMmaShape shape, int selector, Mma mma,
           int range, std::mt19937 &rng) {
  const int rows = kTiles * 16, cols = kSteps * K;
  std::uniform_int_distribution<int> dist(-range, range);
  std::vector<float> w(rows * cols), b(8 * cols);
  for (float &v : w)
    v = float(dist(rng));
  for (float &v : b)
    v = float(dist(rng));
  Sparse24 s = compress24(w, rows, cols, select24(w, rows, cols));
  std::vector<uint32_t> meta = packSparseMmaMetadata(s, shape);
  std::vector<float> dense = decompress24(s);

  std::vector<T> aHost(s.values.size()), bHost(b.size());
  for (size_t i = 0; i < aHost.size(); ++i)
    aHost[i] = fromInt<T>(int(s.values[i]));
  for (size_t i = 0; i < bHost.size(); ++i)
    bHost[i] = fromInt<T>(int(b[i]));
  std::vector<long long> want(rows * 8, 0);
  for (int r = 0; r < rows; ++r)
    for (int n = 0; n < 8; ++n)
      for (int k = 0; k < cols; ++k)
        want[r * 8 + n] += (long long)dense[r * cols + k] * b[n * cols + k];

  std::vector<Acc> got =
      runSparseMma<T, Acc, K, R>(aHost, meta, bHost, mma);

  int wrong = 0, first = -1;
  for (int i = 0; i < rows * 8; ++i)
    if (double(got[i]) != double(want[i])) {
      if (first < 0)
        first = i;
      ++wrong;
    }
  std::printf("%-14s selector %d: %s", name, selector,
              wrong ? "DIFFERS" : "equal");
  if (wrong)
    std::printf(" (%d of %d; first at row %d col %d: %lld, want %lld)", wrong,
                rows * 8, first / 8, first % 8, (long long)got[first],
                want[first]);
  std::printf("\n");
  return wrong == 0;
}

// Lambdas cannot be kernel arguments portably; small functors instead.
template <int Sel> struct F16K16 {
  __device__ void operator()(float (&d)[4], const uint32_t (&a)[2],
                             const uint32_t (&b)[2], uint32_t e) const {
    mmaF16K16<Sel>(d, a, b, e);
  }
};
template <int Sel> struct F16K32 {
  __device__ void operator()(float (&d)[4], const uint32_t (&a)[4],
                             const uint32_t (&b)[4], uint32_t e) const {
    mmaF16K32<Sel>(d, a, b, e);
  }
};
template <int Sel> struct BF16K32 {
  __device__ void operator()(float (&d)[4], const uint32_t (&a)[4],
                             const uint32_t (&b)[4], uint32_t e) const {
    mmaBF16K32<Sel>(d, a, b, e);
  }
};
template <int Sel> struct I8K32 {
  __device__ void operator()(int (&d)[4], const uint32_t (&a)[2],
                             const uint32_t (&b)[2], uint32_t e) const {
    mmaI8K32<Sel>(d, a, b, e);
  }
};
template <int Sel> struct I8K64 {
  __device__ void operator()(int (&d)[4], const uint32_t (&a)[4],
                             const uint32_t (&b)[4], uint32_t e) const {
    mmaI8K64<Sel>(d, a, b, e);
  }
};

// --probe: which metadata bits steer which 4-column chunk, measured. Every
// metadata nibble holds 0b0100 (keep positions 0 and 1) except one, set to
// 0b1110 (positions 2 and 3); A is all ones on the first 16-row tile and K
// step, B is c + 1 at dense row 4c + 2 of that step and zero elsewhere. So
// the product is zero except at the row whose chunk c that nibble steers,
// where it is c + 1. Prints, per lane, nibble -> (row, chunk) or '-'.
template <typename T, typename Acc, int K, int R, typename Mma>
void probe(const char *name, int selector, Mma mma) {
  const int rows = kTiles * 16, cols = kSteps * K;
  std::vector<T> aHost(rows * cols / 2, fromInt<T>(0)), bHost(8 * cols);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < K / 2; ++c)
      aHost[r * (cols / 2) + c] = fromInt<T>(1);
  for (int n = 0; n < 8; ++n)
    for (int k = 0; k < cols; ++k)
      bHost[n * cols + k] = fromInt<T>(k < K && k % 4 == 2 ? k / 4 + 1 : 0);
  std::vector<uint32_t> meta(kTiles * kSteps * 32, 0x44444444u);
  std::printf("%s selector %d: lane: nibble 0..7 -> row/chunk\n", name,
              selector);
  for (int lane = 0; lane < 32; ++lane) {
    std::printf("  lane %2d:", lane);
    for (int nibble = 0; nibble < 8; ++nibble) {
      meta[lane] = 0x44444444u ^ (0xAu << (4 * nibble));
      std::vector<Acc> got =
          runSparseMma<T, Acc, K, R>(aHost, meta, bHost, mma);
      meta[lane] = 0x44444444u;
      std::string where;
      for (int r = 0; r < 16; ++r)
        if (got[r * 8] != Acc(0))
          where += (where.empty() ? "" : "+") + std::to_string(r) + "/" +
                   std::to_string(int(got[r * 8]) - 1);
      std::printf(" %6s", where.empty() ? "-" : where.c_str());
    }
    std::printf("\n");
  }
}

} // namespace

int main(int argc, char **argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "mma_sp_check: no CUDA device\n");
    return 2;
  }
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("%s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  if (argc > 1 && std::strcmp(argv[1], "--probe") == 0) {
    probe<__half, float, 32, 4>("f16 m16n8k32", 0, F16K32<0>());
    probe<int8_t, int, 32, 2>("s8 m16n8k32", 0, I8K32<0>());
    probe<int8_t, int, 32, 2>("s8 m16n8k32", 1, I8K32<1>());
    probe<int8_t, int, 64, 4>("s8 m16n8k64", 0, I8K64<0>());
    return 0;
  }
  std::mt19937 rng(2026);
  // f16: |entries| <= 3, so |sums| <= 9 * 288 < 2^24 (exact in f32); s8:
  // |entries| <= 127, sums < 2^31.
  bool ok = true;
  using S = SparseMmaShape;
  ok &= check<__half, float, 16, 2>("f16 m16n8k16", S::F16_M16N8K16, 0,
                                    F16K16<0>(), 3, rng);
  ok &= check<__half, float, 16, 2>("f16 m16n8k16", S::F16_M16N8K16, 1,
                                    F16K16<1>(), 3, rng);
  ok &= check<__half, float, 16, 2>("f16 m16n8k16", S::F16_M16N8K16, 2,
                                    F16K16<2>(), 3, rng);
  ok &= check<__half, float, 16, 2>("f16 m16n8k16", S::F16_M16N8K16, 3,
                                    F16K16<3>(), 3, rng);
  ok &= check<__half, float, 32, 4>("f16 m16n8k32", S::F16_M16N8K32, 0,
                                    F16K32<0>(), 3, rng);
  ok &= check<__half, float, 32, 4>("f16 m16n8k32", S::F16_M16N8K32, 1,
                                    F16K32<1>(), 3, rng);
  // bf16 shares the f16 metadata layout (one PTX figure for both).
  ok &= check<__nv_bfloat16, float, 32, 4>("bf16 m16n8k32", S::F16_M16N8K32,
                                           0, BF16K32<0>(), 3, rng);
  ok &= check<__nv_bfloat16, float, 32, 4>("bf16 m16n8k32", S::F16_M16N8K32,
                                           1, BF16K32<1>(), 3, rng);
  ok &= check<int8_t, int, 32, 2>("s8 m16n8k32", S::I8_M16N8K32, 0,
                                  I8K32<0>(), 127, rng);
  ok &= check<int8_t, int, 32, 2>("s8 m16n8k32", S::I8_M16N8K32, 1,
                                  I8K32<1>(), 127, rng);
  ok &= check<int8_t, int, 64, 4>("s8 m16n8k64", S::I8_M16N8K64, 0,
                                  I8K64<0>(), 127, rng);
  std::printf("mma.sp metadata layout: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
