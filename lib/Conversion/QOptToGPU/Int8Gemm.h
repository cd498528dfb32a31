//===- Int8Gemm.h - Tiled tensor-core GEMM for INT8 x INT8 (W8A8) ---------===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H

#include "KernelBuilder.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>
#include <string>

namespace mlir::qopt::gpu_kernels {

/// Y[M, N] = sx · sw · (Xq[M, K] · Wq[N, K]ᵀ) (any M) with 8-bit codes on both
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

  // The instruction the kernel is built on. MmaSync: block tile 128 x 128,
  // 2 x 4 warps of 64 x 32 outputs each, K steps of 64 bytes through 2
  // cp.async stages (every chip). Wgmma (sm_90a): two warpgroups of 64 rows
  // x wgmmaBlockN columns, K steps of 128 bytes through wgmmaStages stages
  // (cp.async, or TMA with wgmmaTma) in dynamic shared memory, in wgmma's
  // 128-byte swizzle (Int8GemmWgmma.cpp).
  enum class Instruction { MmaSync, Wgmma };
  Instruction instruction = Instruction::MmaSync;
  int64_t wgmmaBlockN = 256, wgmmaStages = 4;
  // wgmma with TMA: a third (producer) warpgroup fills the stages with
  // cp.async.bulk.tensor, and mbarriers pass them between it and the two
  // consumer warpgroups; the kernel takes a tensor map of Xq and of Wq
  // (TensorMap below) before Y.
  bool wgmmaTma = false;
  // Persistent TMA kernel (wgmmaPersistent, with wgmmaTma): one block an
  // SM of the device it runs on (the launch takes the smaller of the tile
  // count and the runtime's SM count), block b walking tiles b, b + G, ...
  // (G: the grid); the stages' mbarrier phases run on across tiles, so the
  // producer fills the next tile's stages while the consumers store the
  // last one.
  bool wgmmaPersistent = false;
  // TMA kernel in clusters of wgmmaCluster (1 or 2) blocks along M: the
  // two blocks of a cluster compute row tiles m and m + 1 of the same
  // column tile, and each loads half of the shared Wq tile with a
  // multicast to both (Wq's L2 reads halved).
  int64_t wgmmaCluster = 1;

  // The GEMV (M ≤ 16, decode; Int8Gemv.cpp): mma.sync.m16n8k32 with Wq as
  // operand A, 16 rows a block, and Xq as operand B (8 tokens a tile);
  // gemvSplitK warps a block, each taking every gemvSplitK-th K step of 64
  // bytes, gemvUnroll steps' loads issued together.
  bool gemv = false;
  int64_t gemvSplitK = 8, gemvUnroll = 1;
  // The GEMV's Wq: in the weight-only GEMV's tiles [N / 16][K / 64][16][64]
  // (a warp's step is 1 KiB in a row), and loaded past L1 with a 256-byte
  // L2 prefetch (loadStreaming16).
  bool tiledWeights = false, streamingLoads = false;
  static constexpr int64_t kGemvStepBytes = 64, kGemvMaxM = 16;

  static constexpr int64_t kBlockM = 128, kBlockN = 128, kBlockK = 64;
  static constexpr int64_t kWarpsM = 2, kWarpsN = 4, kStages = 2;
  // Shared-memory rows are padded by 16 bytes so that the eight 16-byte
  // rows one ldmatrix reads fall into distinct bank groups.
  static constexpr int64_t kRowBytes = kBlockK + 16;
  // wgmma: 128-byte shared rows (the swizzle span), 1 KiB swizzle atoms.
  static constexpr int64_t kWgmmaBlockK = 128, kSwizzleAtomBytes = 1024;

  bool isFP8() const { return !xType.isInteger(8); }
  bool isWgmma() const { return instruction == Instruction::Wgmma; }
  /// Threads a block: wgmma's consumer warpgroups (two) and, with TMA, the
  /// producer one; the mma.sync GEMM's warps; the GEMV's split-K warps.
  int64_t threads() const {
    if (isWgmma())
      return 128 * (wgmmaTma ? 3 : 2);
    return 32 * (gemv ? gemvSplitK : kWarpsM * kWarpsN);
  }
  int64_t blockN() const { return isWgmma() ? wgmmaBlockN : kBlockN; }
  int64_t blockK() const { return isWgmma() ? kWgmmaBlockK : kBlockK; }
  /// Row tiles; the last one partial where M is not a multiple of 128
  /// (its missing rows read as zeros and are not stored).
  int64_t blocksM() const {
    return gemv ? 1 : llvm::divideCeil(m, kBlockM);
  }
  bool hasPartialRowTile() const { return m % kBlockM != 0; }
  int64_t blocksN() const { return n / (gemv ? 16 : blockN()); }
  /// The launch grid (x, y): a block a tile, (blocksN(), blocksM()), the
  /// grid the kernel is built for; for a persistent kernel, the most
  /// blocks it can use (a tile each, (tiles, 1)), of which the launch takes
  /// at most the device's SM count (any grid up to this one computes every
  /// tile).
  std::array<int64_t, 2> grid() const {
    if (isPersistent())
      return {blocksM() * blocksN(), 1};
    return {blocksN(), blocksM()};
  }
  bool isPersistent() const { return isWgmma() && wgmmaPersistent; }
  /// Token tiles of 8 (the GEMV's mma.sync N dimension).
  int64_t gemvTokenTiles() const { return llvm::divideCeil(m, 8); }
  /// Bytes of one wgmma pipeline stage: the tiles of Xq and Wq.
  int64_t wgmmaStageBytes() const {
    return (kBlockM + wgmmaBlockN) * kWgmmaBlockK;
  }
  /// Dynamic shared memory the kernel is launched with (wgmma: its stages,
  /// room to align them to a swizzle atom and, with TMA, two mbarriers a
  /// stage; mma.sync uses static shared memory only).
  int64_t dynamicSharedBytes() const {
    if (!isWgmma())
      return 0;
    return wgmmaStages * wgmmaStageBytes() + kSwizzleAtomBytes +
           (wgmmaTma ? 2 * 8 * wgmmaStages : 0);
  }
  /// A TMA tensor map the kernel takes (wgmmaTma): of its operand
  /// `operand` (a row-major 2-D buffer of bytes), loading boxes of
  /// `boxRows` rows × `boxCols` bytes into shared memory in the swizzle
  /// that spans a box row (128 bytes).
  struct TensorMap {
    int64_t operand, boxRows, boxCols;
  };
  /// The tensor maps, in the order the kernel takes them (after its memref
  /// inputs, before Y): Xq, then Wq (in a cluster, each block loads
  /// 1 / wgmmaCluster of the Wq tile).
  SmallVector<TensorMap> tensorMaps() const {
    if (!isWgmma() || !wgmmaTma)
      return {};
    return {{0, kBlockM, kWgmmaBlockK},
            {1, wgmmaBlockN / wgmmaCluster, kWgmmaBlockK}};
  }
  std::string kernelName() const;
};

/// Why the INT8 GEMM kernel cannot compute this product (empty if it can).
std::string checkInt8Gemm(const Int8GemmConfig &config);

/// The kernel's argument types, in order: Xq, Wq (bytes: i8 for ui8 and
/// FP8 codes too), sx, sw, [zx (bytes, xScaleShape), Σ_k Wq (i32, [N]) with
/// xZeroPoint], [the tensor maps (i64: the address of a CUtensorMap in
/// global memory) with wgmmaTma], Y.
SmallVector<Type> getInt8GemmArgumentTypes(MLIRContext *ctx,
                                           const Int8GemmConfig &config);

/// Builds the kernel as a gpu.func at the insertion point (inside a
/// gpu.module), on the configuration's instruction. Launch it on
/// (blocksN(), blocksM()) blocks of threads() threads with
/// dynamicSharedBytes() of dynamic shared memory.
gpu::GPUFuncOp buildInt8Gemm(OpBuilder &b, Location loc,
                             const Int8GemmConfig &config);

/// The wgmma kernel (Int8GemmWgmma.cpp); buildInt8Gemm calls it.
gpu::GPUFuncOp buildInt8GemmWgmma(OpBuilder &b, Location loc,
                                  const Int8GemmConfig &config);

/// The GEMV (Int8Gemv.cpp); buildInt8Gemm calls it.
gpu::GPUFuncOp buildInt8Gemv(OpBuilder &b, Location loc,
                             const Int8GemmConfig &config);

/// Chooses gemvSplitK and gemvUnroll for the GEMV: enough warps and loads
/// in flight to stream Wq (`smCount` SMs).
void chooseInt8GemvTiling(Int8GemmConfig &config, int64_t smCount);

/// Chooses the wgmma GEMM's tile width where `config.wgmmaBlockN` is 0:
/// 256 or 128 columns (FP8 128), the one with the shorter estimated time
/// in waves of `smCount` blocks.
void chooseWgmmaTiling(Int8GemmConfig &config, int64_t smCount);

/// D = A·B + C with mma.sync.m16n8k32 on the configuration's operand types:
/// `a` vector<4x4xi8>, `b` vector<2x4xi8> (the codes' bytes), `c`
/// vector<2x2xi32|f32> (f32 for FP8), in the register order of the PTX
/// fragments.
Value int8MmaSync(KernelBuilder &kb, const Int8GemmConfig &config, Value a,
                  Value b, Value acc);

/// The kernel's arguments, as createKernel made them.
struct Int8GemmArguments {
  Value x, w, sx, sw, zx, wSum, y; // zx, wSum: null without xZeroPoint
  Value xMap, wMap;                // null without wgmmaTma
};
Int8GemmArguments getInt8GemmArguments(gpu::GPUFuncOp kernel,
                                       const Int8GemmConfig &config);

/// Element `index` of a per-row scale or zero point (shape [R, 1], R > 1),
/// or the one of a per-tensor one ([] or [1, 1]).
Value loadInt8GemmScale(KernelBuilder &kb, Value scale,
                        ArrayRef<int64_t> shape, Value index);

/// The activation zero point of row `index` as i32 (zx holds bytes: ui8
/// or i8 codes).
Value loadInt8GemmZero(KernelBuilder &kb, const Int8GemmConfig &config,
                       Value zx, Value index);

/// Accumulated sums (i32, or f32 for FP8; a scalar or a vector) as outputs
/// of the configuration's type: minus `zero` · `weightSums` with
/// asymmetric activations (both null otherwise; exact in i32), converted to
/// f32, times `scales` (sx · sw, f32 of the same shape), rounded to Y's type.
Value finishInt8Sums(KernelBuilder &kb, const Int8GemmConfig &config,
                     Value sums, Value zero, Value weightSums, Value scales);

/// The epilogue of both kernels: scales, zero-point correction and the
/// stores of a thread's accumulator fragments (vector<2x2xi32|f32>, the
/// 16 x 8 tiles of mma.sync's C layout), fragment mt * nTiles + nt being
/// the tile at output rows rowBase + 16 mt and columns colBase + 8 nt.
void storeInt8GemmOutputs(KernelBuilder &kb, const Int8GemmConfig &config,
                          const Int8GemmArguments &args, ValueRange fragments,
                          Value rowBase, Value colBase, int64_t mTiles,
                          int64_t nTiles, Value g, Value t);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_INT8GEMM_H
