//===- WeightOnlyTiled.h - Tiled tensor-core GEMM, packed integer weights -===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYTILED_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYTILED_H

#include "WeightOnlyGemv.h"

namespace mlir::qopt::gpu_kernels {

/// The weight-only product for M > 16 as a tiled GEMM: 128 × 64 output
/// tiles, X and the packed weight staged by cp.async, X fragments by
/// ldmatrix, weights dequantized from shared memory into B fragments.
struct WeightOnlyTiledConfig : WeightOnlyGemvConfig {
  static constexpr int64_t kBlockM = 128, kBlockN = 64, kBlockK = 64;
  static constexpr int64_t kWarpsM = 2, kWarpsN = 4, kStages = 2;

  int64_t threads() const { return 32 * kWarpsM * kWarpsN; }
  int64_t blocksN() const { return n / kBlockN; }
  int64_t blocksM() const { return (m + kBlockM - 1) / kBlockM; }
  /// Bytes of one packed weight row of a K step.
  int64_t weightRowBytes() const { return kBlockK * format.bits / 8; }
  std::string kernelName() const;
};

/// Why the kernel cannot compute this product (empty if it can).
std::string checkWeightOnlyTiled(const WeightOnlyTiledConfig &config);

/// Builds the kernel as a gpu.func at the insertion point. Launch it on
/// (blocksN(), blocksM()) blocks of threads() threads; arguments as the
/// GEMV's.
gpu::GPUFuncOp buildWeightOnlyTiled(OpBuilder &b, Location loc,
                                    const WeightOnlyTiledConfig &config);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYTILED_H
