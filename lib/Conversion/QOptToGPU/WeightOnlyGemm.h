//===- WeightOnlyGemm.h - Tensor-core GEMM for packed integer weights -----===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H

#include "WeightOnlyGemv.h"

namespace mlir::qopt::gpu_kernels {

/// The weight-only product for M > 16: the GEMV's operands and dequantization,
/// with a tile of X rows staged in shared memory and shared by the warps of
/// a block, which split N instead of K.
struct WeightOnlyGemmConfig : WeightOnlyGemvConfig {
  static constexpr int64_t kRowsX = 64; // rows of X per block (8 tiles of 8)
  static constexpr int64_t kWarpsN = 4; // warps per block, 16 weight rows each

  int64_t mTiles() const { return kRowsX / 8; }
  int64_t threads() const { return 32 * kWarpsN; }
  int64_t blocksN() const { return n / (16 * kWarpsN); }
  int64_t blocksM() const { return (m + kRowsX - 1) / kRowsX; }
  std::string kernelName() const;
};

/// Why the kernel cannot compute this product (empty if it can).
std::string checkWeightOnlyGemm(const WeightOnlyGemmConfig &config);

/// Builds the kernel as a gpu.func at the insertion point. Launch it on
/// (blocksN(), blocksM()) blocks of threads() threads. Arguments as the
/// GEMV's (getWeightOnlyGemvArgumentTypes).
gpu::GPUFuncOp buildWeightOnlyGemm(OpBuilder &b, Location loc,
                                   const WeightOnlyGemmConfig &config);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H
