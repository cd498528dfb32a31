//===- WeightOnlyGemv.h - Tensor-core GEMV for packed integer weights ----===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMV_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMV_H

#include "KernelBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace mlir::qopt::gpu_kernels {

/// One weight-only product Y[M, N] = X[M, K] · dequant(W[N, K])ᵀ with
/// M ≤ 16 (the decode case), and how the kernel is tiled.
struct WeightOnlyGemvConfig {
  int64_t m = 0, n = 0, k = 0;
  CodeFormat format;
  Type outType;                   // f16, bf16 or f32
  SmallVector<int64_t> scaleShape; // [] (per tensor) or [N / bn, K / bk]
  int64_t blockN = 0, blockK = 0; // rows / columns of W sharing a scale
  bool zeroPoints = false;        // an i32 zero point per scale (asymmetric
                                  // codes: value = s (q - z))
  int64_t splitK = 0;             // warps of a block, each a slice of K
  int64_t stages = 0;             // 1: prefetch the next step into
                                  // registers; P > 1: cp.async pipeline of
                                  // P stages through shared memory
  int64_t rowTiles = 1;           // 16-row tiles of W per warp (stages =
                                  // 1): each X fragment feeds all of them
  int64_t prefetch = 0;           // with stages = 1: steps of weights (and
                                  // scales) loaded ahead into registers
  bool streamingLoads = false;    // weights loaded with loadStreaming16
  bool tiledWeights = false;      // W stored as [N / 16][K steps][16][64
                                  // bytes]: a warp's step is 1 KiB in a
                                  // row; the caller passes W so

  /// K values one thread covers with one 16-byte load of a weight row.
  int64_t kPerThread() const { return 16 * 8 / format.bits; }
  /// K values a warp covers in one step (4 threads share a weight row).
  int64_t kPerWarpStep() const { return 4 * kPerThread(); }
  /// Bytes of a weight row in one K step (4 threads x 16 bytes): the row
  /// of a 16-row tile when the weights are tiled.
  static constexpr int64_t kStepBytes = 64;
  /// Whether scale groups are smaller than a warp's K step (per-row
  /// groups of kPerThread() and its multiples below the step): the swap-AB
  /// kernels then scale the dequantized weights (in the half type) before
  /// the product, since one mma.sync spans several groups; each thread's
  /// chunk lies in one group.
  bool prescaled() const {
    return !scaleShape.empty() && blockK < kPerWarpStep();
  }
  /// Column tiles of 8 rows of X (mma.sync's N dimension).
  int64_t mTiles() const { return (m + 7) / 8; }
  int64_t threads() const { return 32 * splitK; }
  int64_t blocks() const { return n / (16 * rowTiles); }
  /// Static shared memory of a block: the split-K reduction and the
  /// pipeline's weight and scale slots.
  int64_t sharedBytes() const {
    int64_t slot = 16 + 4 + (zeroPoints ? 4 : 0); // weights, scale, zero
    int64_t pipeline = stages > 1 ? splitK * stages * 2 * 32 * slot : 0;
    return splitK * 16 * rowTiles * mTiles() * 8 * 4 + pipeline;
  }

  /// A stable name for the kernel: equal configurations share one kernel.
  std::string kernelName() const;
};

/// "qopt_<family>_<codes>_<activations>_<result>_m<M>n<N>k<K>_s<scales>"
/// (plus "z" with zero points): the name of a weight-only kernel without the
/// GEMV's tiling suffix.
std::string getWeightOnlyKernelName(const WeightOnlyGemvConfig &config,
                                    StringRef family);

/// The kernel-name suffix of how W is read: "s" with streaming loads,
/// "_tw" in tiles.
std::string getWeightReadSuffix(const WeightOnlyGemvConfig &config);

/// How a kernel reads 16 bytes of a weight W ([rows, rowBytes] bytes): row
/// `row` from byte `byte` (rows), or, `tiled`, the same bytes from the
/// tiles [rows / 16][rowBytes / 64][16][64] (`rowTile` = row / 16, `step`
/// the 64-byte K step, `rowInTile`, `t` the thread's 16 bytes), with
/// loadStreaming16 if `streaming`. Build one per kernel (it views W once).
class WeightReader {
public:
  WeightReader(KernelBuilder &kb, Value w, int64_t rows, int64_t rowBytes,
               bool tiled, bool streaming);
  /// A weight-only kernel's W, as its configuration says.
  WeightReader(KernelBuilder &kb, const WeightOnlyGemvConfig &config,
               Value w);
  /// vector<4xi32>.
  Value load(Value row, Value byte, Value rowTile, Value step,
             Value rowInTile, Value t);

private:
  KernelBuilder &kb;
  Value w, tiles;
  bool streaming;
};

/// Why no weight-only kernel takes these operands (codes, activations,
/// scale groups, N a multiple of 16), whatever M and the tiling.
std::string checkWeightOnlyOperands(const WeightOnlyGemvConfig &config);

/// The indices into the scale operand of weight row `row` for the K values
/// from `kStart` (one scale group): empty per tensor.
SmallVector<Value> getScaleIndices(KernelBuilder &kb,
                                   const WeightOnlyGemvConfig &config,
                                   Value row, Value kStart);

/// The f32 scales as they multiply dequantized codes: times fp8Factor()
/// for FP8 codes, unchanged otherwise.
SmallVector<Value> getCodeScales(KernelBuilder &kb, const CodeFormat &format,
                                 ArrayRef<Value> scales);

/// How the scales (and zero points) of weight rows g and g + 8 enter a K
/// step: with prescaled() groups, as half-type factors of the dequantized
/// weights (`beforeProduct`) and 1 after it; otherwise as the f32 scales of
/// the step's sums (`afterProduct`). `zeroBiases`: getZeroBias of each zero
/// point (empty without them), what the dequantization subtracts.
struct StepScales {
  SmallVector<Value> beforeProduct, afterProduct, zeroBiases;
};
StepScales getStepScales(KernelBuilder &kb, const WeightOnlyGemvConfig &config,
                         ArrayRef<Value> rowScales,
                         ArrayRef<Value> rowZeros = {});

/// Why the GEMV kernel cannot compute this product (empty if it can).
std::string checkWeightOnlyGemv(const WeightOnlyGemvConfig &config);

/// Chooses splitK and stages (those left 0) for the problem size: enough
/// warps to keep every SM's memory pipes busy, and the next step's 16-byte
/// loads in flight while a step computes. `smCount` is the number of SMs of
/// the target.
void chooseWeightOnlyGemvTiling(WeightOnlyGemvConfig &config, int64_t smCount);

/// The kernel's memref argument types, in order: X, W (bytes), scale, the
/// zero points (i32, the scale's shape; only with zeroPoints), Y.
SmallVector<Type> getWeightOnlyGemvArgumentTypes(MLIRContext *ctx,
                                                 const WeightOnlyGemvConfig &c);

/// The memref arguments of a weight-only kernel (getWeightOnlyGemvArgument
/// Types order); `zero` is null without zero points.
struct WeightOnlyArguments {
  Value x, w, scale, zero, y;
};
WeightOnlyArguments getWeightOnlyArguments(gpu::GPUFuncOp func,
                                           const WeightOnlyGemvConfig &c);

/// Builds the kernel as a gpu.func at the insertion point (inside a
/// gpu.module). Launch it with blocks() blocks of threads() threads.
gpu::GPUFuncOp buildWeightOnlyGemv(OpBuilder &b, Location loc,
                                   const WeightOnlyGemvConfig &config);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_WEIGHTONLYGEMV_H
