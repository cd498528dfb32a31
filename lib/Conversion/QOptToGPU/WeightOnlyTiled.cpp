//===- WeightOnlyTiled.cpp - Tiled tensor-core GEMM, packed weights -------===//
//
// Y[M, N] = X[M, K] · dequant(W[N, K])ᵀ for M > 16, as a tiled GEMM:
//
//   block (bn, bm) : outputs [128 bm, +128) × [64 bn, +64)
//   warp  (wm, wn) : 2 × 4 warps, each 64 rows × 16 columns
//   K step         : 64 values; the next step's tiles of X (128 × 64 f16)
//                    and of the packed weight (64 rows × 32 or 64 bytes) are
//                    copied to shared memory with cp.async (16 bytes a copy,
//                    2 stages; rows past M are zero-filled) while the current
//                    one computes
//   per 16 of K    : ldmatrix.x4 brings each of the warp's 4 row tiles of X
//                    (A fragments); each thread dequantizes the two code
//                    pairs of its B fragment for each of 2 column tiles from
//                    shared memory (one LOP3 and one HADD2 a pair); 8
//                    mma.sync.m16n8k16 with f32 accumulators
//
// A K step lies inside one scale group (groups are multiples of 64; smaller
// ones go to the X-tile GEMM, which scales before the product), so its
// sums are scaled once in f32 per output column (weight row); a zero point,
// if any, enters the dequantization's subtrahend.
//
//===----------------------------------------------------------------------===//

#include "WeightOnlyTiled.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

using C = WeightOnlyTiledConfig;

std::string WeightOnlyTiledConfig::kernelName() const {
  return getWeightOnlyKernelName(*this, "wgemm");
}

std::string
mlir::qopt::gpu_kernels::checkWeightOnlyTiled(const WeightOnlyTiledConfig &c) {
  std::string why = checkWeightOnlyOperands(c);
  if (!why.empty())
    return why;
  if (c.n % C::kBlockN != 0 || c.k % C::kBlockK != 0)
    return llvm::formatv("N = {0}, K = {1} (the tiled kernel needs "
                         "multiples of {2} and {3})",
                         c.n, c.k, C::kBlockN, C::kBlockK)
        .str();
  // It scales each K step's sums once: a step must lie in one group.
  if (!c.scaleShape.empty() && c.blockK % C::kBlockK != 0)
    return llvm::formatv("scale groups of {0} along K (the tiled kernel "
                         "needs multiples of {1})",
                         c.blockK, C::kBlockK)
        .str();
  return "";
}

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildWeightOnlyTiled(OpBuilder &b, Location loc,
                                              const WeightOnlyTiledConfig &c) {
  MLIRContext *ctx = b.getContext();
  const CodeFormat &format = c.format;
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  Type half = format.halfType;
  const int64_t rowBytes = c.weightRowBytes();
  // Rows padded by 16 bytes: ldmatrix rows and byte loads spread over banks.
  auto xTileType =
      getSharedMemRefType({C::kStages, C::kBlockM, C::kBlockK + 8}, half);
  auto wTileType =
      getSharedMemRefType({C::kStages, C::kBlockN, rowBytes + 16}, i8);
  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getWeightOnlyGemvArgumentTypes(ctx, c),
                           {xTileType, wTileType}, {c.threads()},
                           {c.blocksN(), c.blocksM()});
  KernelBuilder kb(b, loc);
  auto [x, w, scale, zero, y] = getWeightOnlyArguments(func, c);
  Value xTile = func.getWorkgroupAttributions()[0];
  Value wTile = func.getWorkgroupAttributions()[1];

  ThreadIds ids = getThreadIds(kb);
  Value tid = ids.tid, lane = ids.lane, warp = ids.warp, g = ids.g, t = ids.t;
  constexpr int64_t warpRows = C::kBlockM / C::kWarpsM; // 64
  constexpr int64_t warpCols = C::kBlockN / C::kWarpsN; // 16
  constexpr int64_t mTiles = warpRows / 16, nTiles = warpCols / 8;
  TileOrigin origin = getTileOrigin(kb, warp, C::kBlockM, C::kBlockN,
                                    C::kWarpsN, warpRows, warpCols);
  Value m0 = origin.m0, n0 = origin.n0, warpM = origin.warpM,
        warpN = origin.warpN;

  // cp.async of K step `step` into its stage: X (128 rows × 64 values, rows
  // past M zero-filled) and the packed weight (64 rows × 32 or 64 bytes).
  const int64_t steps = c.k / C::kBlockK;
  auto issue = [&](Value step, Value valid) {
    Value stage = kb.rem(step, C::kStages);
    Value k0 = kb.mul(
        arith::MinUIOp::create(b, loc, step, kb.index(steps - 1)), C::kBlockK);
    copyTileAsync(kb, xTile, stage, x, m0, k0, C::kBlockM, C::kBlockK, 8, tid,
                  c.threads(), valid, c.m);
    copyTileAsync(kb, wTile, stage, w, n0, kb.div(kb.mul(k0, format.bits), 8),
                  C::kBlockN, rowBytes, 16, tid, c.threads(), valid);
  };

  auto accType = VectorType::get({2, 2}, f32);
  Value accZero =
      arith::ConstantOp::create(b, loc, accType, b.getZeroAttr(accType));

  auto aType = VectorType::get({4, 2}, half);
  // The i32 "spread" of two neighbouring codes at byte offset `byte` of a
  // weight row: first code from bit 0, second from bit 16.
  auto spreadPair = [&](Value stage, Value row, Value byte) -> Value {
    auto load = [&](Value off) -> Value {
      return arith::ExtUIOp::create(
          b, loc, i32,
          memref::LoadOp::create(b, loc, wTile, ValueRange{stage, row, off}));
    };
    Value v = load(byte);
    if (format.bits == 4) // one byte: low nibble, high nibble
      return arith::OrIOp::create(
          b, loc, v, arith::ShLIOp::create(b, loc, v, kb.i32(12)));
    Value hi = load(kb.add(byte, 1)); // two bytes
    return arith::OrIOp::create(b, loc, v,
                                arith::ShLIOp::create(b, loc, hi, kb.i32(16)));
  };

  auto loop = buildPipelinedLoop(
      kb, steps, C::kStages, /*blockShared=*/true,
      SmallVector<Value>(mTiles * nTiles, accZero), issue,
      [&](Value step, Value stage, ValueRange carried) {
        SmallVector<Value> acc(carried);
        SmallVector<Value> part(mTiles * nTiles, accZero);
        Value ks = kb.mul(step, C::kBlockK);
        // With zero points: what the dequantization of each column tile's
        // weight row (n0 + warpN + 8 nt + g) subtracts in this step's group.
        SmallVector<Value> zeroBiases(nTiles);
        for (int64_t nt = 0; zero && nt < nTiles; ++nt) {
          Value n = kb.add(n0, kb.add(kb.add(warpN, nt * 8), g));
          zeroBiases[nt] = getZeroBias(
              kb, format,
              memref::LoadOp::create(b, loc, zero,
                                     getScaleIndices(kb, c, n, ks)));
        }
        for (int64_t kk = 0; kk < C::kBlockK; kk += 16) {
          SmallVector<Value> a;
          // Matrices (rows 0-7 | 8-15) × (K 0-7 | 8-15) → a0a1 .. a6a7.
          for (int64_t mt = 0; mt < mTiles; ++mt)
            a.push_back(loadMatrixA(kb, xTile, stage, lane,
                                    kb.add(warpM, mt * 16), kb.index(kk), 8,
                                    aType));
          for (int64_t nt = 0; nt < nTiles; ++nt) {
            // B: weight row n = g of the tile, K (2t, 2t+1), (2t+8, 2t+9).
            Value row = kb.add(kb.add(warpN, nt * 8), g);
            SmallVector<Value> pairs;
            for (int64_t half8 = 0; half8 < 2; ++half8) {
              Value k = kb.add(kb.mul(t, 2), kk + half8 * 8);
              Value byte = kb.div(kb.mul(k, format.bits), 8);
              pairs.push_back(dequantizePair(
                  kb, format, spreadPair(stage, row, byte), zeroBiases[nt]));
            }
            Value bFrag = kb.stackRows(pairs);
            for (int64_t mt = 0; mt < mTiles; ++mt)
              part[mt * nTiles + nt] = mmaSync16816(
                  kb, a[mt], bFrag, part[mt * nTiles + nt]);
          }
        }
        // Scale the step's sums: columns 2t, 2t+1 of each column tile are
        // weight rows with their own scales.
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          SmallVector<Value> colScales;
          for (int64_t e = 0; e < 2; ++e) {
            Value n =
                kb.add(kb.add(n0, kb.add(warpN, nt * 8)), kb.add(kb.mul(t, 2), e));
            colScales.push_back(memref::LoadOp::create(
                b, loc, scale, getScaleIndices(kb, c, n, ks)));
          }
          Value factor = vector::FromElementsOp::create(
              b, loc, VectorType::get({2}, f32),
              getCodeScales(kb, format, colScales));
          for (int64_t mt = 0; mt < mTiles; ++mt) {
            Value &tile = acc[mt * nTiles + nt];
            for (int64_t r = 0; r < 2; ++r) {
              Value sum = vector::FMAOp::create(
                  b, loc,
                  vector::ExtractOp::create(b, loc, part[mt * nTiles + nt], r),
                  factor, vector::ExtractOp::create(b, loc, tile, r));
              tile = vector::InsertOp::create(b, loc, sum, tile, r);
            }
          }
        }
        return acc;
      });

  // Y: rows g and g + 8 of each row tile, columns 2t, 2t+1 of each column
  // tile; rows past M are not stored.
  for (int64_t mt = 0; mt < mTiles; ++mt)
    for (int64_t r = 0; r < 2; ++r) {
      Value m = kb.add(kb.add(m0, warpM), kb.add(g, mt * 16 + r * 8));
      Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            m, kb.index(c.m));
      scf::IfOp::create(b, loc, inRange, [&](OpBuilder &, Location) {
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          Value n = kb.add(kb.add(n0, kb.add(warpN, nt * 8)), kb.mul(t, 2));
          Value out = vector::ExtractOp::create(
              b, loc, loop.getResult(mt * nTiles + nt), r);
          if (c.outType != f32)
            out = arith::TruncFOp::create(
                b, loc, VectorType::get({2}, c.outType), out);
          // The pair (n even) as one 4-byte store (8 for f32).
          kb.storeVector(out, y, {m, n});
        }
        scf::YieldOp::create(b, loc);
      });
    }
  gpu::ReturnOp::create(b, loc);
  return func;
}
