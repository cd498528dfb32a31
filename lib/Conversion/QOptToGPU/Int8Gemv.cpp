//===- Int8Gemv.cpp - The 8-bit product at decode sizes (M ≤ 16) ----------===//
//
// Y = sx · sw · (Xq · Wqᵀ) for M ≤ 16 tokens, where the product is a stream
// of Wq: swapped operands, so that 16 rows of Wq fill mma.sync's M and the
// tokens its N = 8,
//
//   block          : rows [16 b, +16) of Wq (outputs n), all tokens; N / 16
//                    blocks of S warps (S = gemvSplitK)
//   warp w         : K steps w, w + S, ... of 64 bytes; per step lane
//                    (g, t) loads 16 bytes at byte 16 t of Wq rows g and
//                    g + 8 and of Xq row g (and g + 8: tokens 8-15), U steps'
//                    loads issued together (U = gemvUnroll)
//   per 16 bytes   : 2 × mma.sync.m16n8k32 (s8 · s8 → s32; s8 · u8 for ui8
//                    activations, A being Wq; FP8 → f32), per token tile
//   then           : partial sums through shared memory, summed by warp 0
//                    (exact in i32), scaled as the GEMM's epilogue does
//
// No shuffle and no permutation: within a step, mma j of a lane takes
// words 2j and 2j + 1 of its 16 bytes as A's registers (a0, a2: row g; a1,
// a3: row g + 8) and the same words of Xq as B's (b0, b1), so the K
// positions mma.sync sums over (4t + i and 16 + 4t + i) are the same bytes
// of Wq and Xq: bytes 16t + 8j + i and 16t + 8j + 4 + i of the step. A dot
// product does not depend on the order of its terms.
//
//===----------------------------------------------------------------------===//

#include "Int8Gemm.h"
#include "WeightOnlyGemv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

using C = Int8GemmConfig;

// The GEMV's K step is the weight tiles' (WeightReader).
static_assert(C::kGemvStepBytes == WeightOnlyGemvConfig::kStepBytes);

void mlir::qopt::gpu_kernels::chooseInt8GemvTiling(Int8GemmConfig &c,
                                                   int64_t smCount) {
  // 8 warps a block split K (halved until they divide K's steps), and as
  // many steps' loads in flight a warp (up to 4) as
  // keep the N / 16 blocks' loads covering the memory latency: about 32 KiB
  // in flight an SM.
  const int64_t steps = c.k / C::kGemvStepBytes;
  int64_t split = 8;
  while (split > 1 && steps % split != 0)
    split /= 2;
  const int64_t blocksPerSM =
      std::max<int64_t>(1, llvm::divideCeil(c.n / 16, smCount));
  // Bytes of Wq a warp loads per step: 16 rows × 64 bytes.
  int64_t unroll = llvm::divideCeil(32 * 1024, blocksPerSM * split * 1024);
  unroll = std::clamp<int64_t>(llvm::PowerOf2Ceil(unroll), 1, 4);
  while (unroll > 1 && steps % (split * unroll) != 0)
    unroll /= 2;
  c.gemvSplitK = split;
  c.gemvUnroll = unroll;
}

gpu::GPUFuncOp mlir::qopt::gpu_kernels::buildInt8Gemv(OpBuilder &b,
                                                      Location loc,
                                                      const Int8GemmConfig &c) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  const int64_t split = c.gemvSplitK, unroll = c.gemvUnroll;
  const int64_t tiles = c.gemvTokenTiles();
  const int64_t steps = c.k / C::kGemvStepBytes;
  Type accElem = c.isFP8() ? f32 : i32;
  // Each warp's sums: [warp][token tile][lane][4].
  auto partialType = getSharedMemRefType({split, tiles, 32, 4}, accElem);

  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getInt8GemmArgumentTypes(ctx, c), {partialType},
                           {c.threads()}, {c.blocksN()});
  KernelBuilder kb(b, loc);
  Int8GemmArguments args = getInt8GemmArguments(func, c);
  Value partial = func.getWorkgroupAttributions()[0];
  ThreadIds ids = getThreadIds(kb);
  Value rowTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value row0 = kb.mul(rowTile, 16);
  Value rowG = kb.add(row0, ids.g), rowG8 = kb.add(rowG, 8);
  WeightReader weights(kb, args.w, c.n, c.k, c.tiledWeights,
                       c.streamingLoads);

  // The token row of each tile this lane loads (g, g + 8), clamped into
  // Xq: a token past M reads row M - 1, which only feeds the product's
  // column of that token (B's column), never stored.
  SmallVector<Value> tokenRows;
  for (int64_t tile = 0; tile < tiles; ++tile)
    tokenRows.push_back(arith::MinUIOp::create(
        b, loc, kb.add(ids.g, tile * 8), kb.index(c.m - 1)));
  auto chunkType = VectorType::get({16}, i8);
  // 16 bytes as 4 words of 4 bytes (vector<4xi8>: fragment registers).
  auto words = [&](Value chunk) -> SmallVector<Value> {
    SmallVector<Value> out;
    for (int64_t i = 0; i < 4; ++i)
      out.push_back(kb.shuffle(chunk, {4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3}));
    return out;
  };

  auto accType = VectorType::get({2, 2}, accElem);
  Value accZero =
      arith::ConstantOp::create(b, loc, accType, b.getZeroAttr(accType));
  auto loop = scf::ForOp::create(
      b, loc, kb.index(0), kb.index(steps / (split * unroll)), kb.index(1),
      SmallVector<Value>(tiles, accZero),
      [&](OpBuilder &, Location, Value iteration, ValueRange carried) {
        // Loads of the iteration's steps first, then their products.
        struct Step {
          Value wG, wG8;
          SmallVector<Value> x;
        };
        SmallVector<Step> loaded;
        for (int64_t u = 0; u < unroll; ++u) {
          Value step = kb.add(
              kb.mul(kb.add(kb.mul(iteration, unroll), u), split), ids.warp);
          Value byte = kb.add(kb.mul(step, C::kGemvStepBytes),
                              kb.mul(ids.t, 16));
          Step s;
          s.wG = vector::BitCastOp::create(
              b, loc, chunkType,
              weights.load(rowG, byte, rowTile, step, ids.g, ids.t));
          s.wG8 = vector::BitCastOp::create(
              b, loc, chunkType,
              weights.load(rowG8, byte, rowTile, step, kb.add(ids.g, 8),
                           ids.t));
          for (int64_t tile = 0; tile < tiles; ++tile)
            s.x.push_back(
                kb.loadVector(args.x, {tokenRows[tile], byte}, 16, 16));
          loaded.push_back(std::move(s));
        }
        SmallVector<Value> acc(carried);
        for (Step &s : loaded) {
          SmallVector<Value> wG = words(s.wG), wG8 = words(s.wG8);
          for (int64_t j = 0; j < 2; ++j) {
            Value a = kb.stackRows(
                {wG[2 * j], wG8[2 * j], wG[2 * j + 1], wG8[2 * j + 1]});
            for (int64_t tile = 0; tile < tiles; ++tile) {
              SmallVector<Value> x = words(s.x[tile]);
              Value bFrag = kb.stackRows({x[2 * j], x[2 * j + 1]});
              acc[tile] = int8MmaSync(kb, c, a, bFrag, acc[tile]);
            }
          }
        }
        scf::YieldOp::create(b, loc, acc);
      });

  // Split-K: every warp's sums to shared memory, warp 0 adds them up.
  auto fourType = VectorType::get({4}, accElem);
  for (int64_t tile = 0; tile < tiles; ++tile)
    vector::StoreOp::create(
        b, loc,
        vector::FromElementsOp::create(
            b, loc, fourType,
            getAccumulatorElements(kb, loop.getResult(tile))),
        partial, ValueRange{ids.warp, kb.index(tile), ids.lane, kb.index(0)});
  gpu::BarrierOp::create(b, loc);
  Value warp0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      ids.warp, kb.index(0));
  scf::IfOp::create(b, loc, warp0, [&](OpBuilder &, Location) {
    // The scales (and Σ_k Wq) of rows g and g + 8.
    SmallVector<Value> rowScales, rowSums;
    for (Value n : {rowG, rowG8}) {
      rowScales.push_back(loadInt8GemmScale(kb, args.sw, c.wScaleShape, n));
      if (args.wSum)
        rowSums.push_back(memref::LoadOp::create(b, loc, args.wSum, n));
    }
    for (int64_t tile = 0; tile < tiles; ++tile) {
      Value sums = vector::LoadOp::create(
          b, loc, fourType, partial,
          ValueRange{kb.index(0), kb.index(tile), ids.lane, kb.index(0)});
      for (int64_t w = 1; w < split; ++w) {
        Value more = vector::LoadOp::create(
            b, loc, fourType, partial,
            ValueRange{kb.index(w), kb.index(tile), ids.lane, kb.index(0)});
        sums = c.isFP8() ? Value(arith::AddFOp::create(b, loc, sums, more))
                         : Value(arith::AddIOp::create(b, loc, sums, more));
      }
      // sums[2r + e]: row g + 8r, token 8 tile + 2t + e.
      for (int64_t e = 0; e < 2; ++e) {
        Value token = kb.add(kb.mul(ids.t, 2), tile * 8 + e);
        Value inside = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::ult, token, kb.index(c.m));
        scf::IfOp::create(b, loc, inside, [&](OpBuilder &, Location) {
          Value tokenScale =
              loadInt8GemmScale(kb, args.sx, c.xScaleShape, token);
          Value zero =
              args.zx ? loadInt8GemmZero(kb, c, args.zx, token) : Value();
          for (int64_t r = 0; r < 2; ++r) {
            Value scale =
                arith::MulFOp::create(b, loc, tokenScale, rowScales[r]);
            Value out = finishInt8Sums(
                kb, c, vector::ExtractOp::create(b, loc, sums, 2 * r + e),
                zero, zero ? rowSums[r] : Value(), scale);
            memref::StoreOp::create(b, loc, out, args.y,
                                    ValueRange{token, r ? rowG8 : rowG});
          }
          scf::YieldOp::create(b, loc);
        });
      }
    }
    scf::YieldOp::create(b, loc);
  });
  gpu::ReturnOp::create(b, loc);
  return func;
}
