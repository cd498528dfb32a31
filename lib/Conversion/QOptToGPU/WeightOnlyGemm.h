//===- WeightOnlyGemm.h - Tensor-core GEMM for packed integer weights -----===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H

#include "WeightOnlyGemv.h"

namespace mlir::qopt::gpu_kernels {

/// The weight-only product for M > 16: the GEMV's operands and dequantization,
/// with a tile of X rows staged in shared memory and shared by the warps of
/// a block, which split N instead of K.
struct WeightOnlyGemmConfig : WeightOnlyGemvConfig {
  int64_t rowsX = 0;  // rows of X per block: 32 or 64 (tiles of 8)
  int64_t warpsN = 0; // warps per block, 16 weight rows each

  int64_t mTiles() const { return rowsX / 8; }
  int64_t threads() const { return 32 * warpsN; }
  int64_t blocksN() const { return n / (16 * warpsN); }
  int64_t blocksM() const { return (m + rowsX - 1) / rowsX; }
  std::string kernelName() const;
};

/// Chooses rowsX and warpsN (those left 0).
void chooseWeightOnlyGemmTiling(WeightOnlyGemmConfig &config);

/// Why the kernel cannot compute this product (empty if it can).
std::string checkWeightOnlyGemm(const WeightOnlyGemmConfig &config);

/// Builds the kernel as a gpu.func at the insertion point. Launch it on
/// (blocksN(), blocksM()) blocks of threads() threads. Arguments as the
/// GEMV's (getWeightOnlyGemvArgumentTypes).
gpu::GPUFuncOp buildWeightOnlyGemm(OpBuilder &b, Location loc,
                                   const WeightOnlyGemmConfig &config);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMM_H
