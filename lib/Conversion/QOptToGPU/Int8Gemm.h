//===- Int8Gemm.h - Tiled tensor-core GEMM for INT8 x INT8 (W8A8) ---------===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H

#include "KernelBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace mlir::qopt::gpu_kernels {

/// Y[M, N] = sx · sw · (Xq[M, K] · Wq[N, K]ᵀ) with 8-bit codes on both
/// sides — INT8 (exact i32 accumulation; activations symmetric or with a
/// zero point) or FP8 E4M3 / E5M2 in
/// any pairing (f32 accumulation, sm_89 and later) — and the tile shape of
/// the kernel.
struct Int8GemmConfig {
  int64_t m = 0, n = 0, k = 0;
  Type xType, wType;                // both i8, or f8E4M3FN / f8E5M2 each
  Type outType;                     // f16, bf16 or f32
  SmallVector<int64_t> xScaleShape; // [] (per tensor) or [M, 1] (per row)
  // Asymmetric activations (INT8 only): codes ui8 (xUnsigned) or i8 with
  // a zero point zx of xScaleShape, and the weight's row sums, so that
  //   Σ_k (qx − zx) qw = Σ_k qx qw − zx · Σ_k qw   (exact in i32).
  bool xZeroPoint = false, xUnsigned = false;
  SmallVector<int64_t> wScaleShape; // [] or [1, 1] (per tensor), [N, 1]

  // Block tile and warp grid (2 × 4 warps of 64 × 32 outputs each).
  static constexpr int64_t kBlockM = 128, kBlockN = 128, kBlockK = 64;
  static constexpr int64_t kWarpsM = 2, kWarpsN = 4, kStages = 2;
  // Shared-memory rows are padded by 16 bytes so that the eight 16-byte
  // rows one ldmatrix reads fall into distinct bank groups.
  static constexpr int64_t kRowBytes = kBlockK + 16;

  bool isFP8() const { return !xType.isInteger(8); }
  int64_t threads() const { return 32 * kWarpsM * kWarpsN; }
  int64_t blocksM() const { return m / kBlockM; }
  int64_t blocksN() const { return n / kBlockN; }
  std::string kernelName() const;
};

/// Why the INT8 GEMM kernel cannot compute this product (empty if it can).
std::string checkInt8Gemm(const Int8GemmConfig &config);

/// The kernel's memref argument types, in order: Xq, Wq (bytes: i8 for
/// ui8 and FP8 codes too), sx, sw, [zx (bytes, xScaleShape), Σ_k Wq (i32,
/// [N]) with xZeroPoint], Y.
SmallVector<Type> getInt8GemmArgumentTypes(MLIRContext *ctx,
                                           const Int8GemmConfig &config);

/// Builds the kernel as a gpu.func at the insertion point (inside a
/// gpu.module). Launch it on (N / 128, M / 128) blocks of 256 threads.
gpu::GPUFuncOp buildInt8Gemm(OpBuilder &b, Location loc,
                             const Int8GemmConfig &config);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H
