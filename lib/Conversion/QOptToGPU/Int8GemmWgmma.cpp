//===- Int8GemmWgmma.cpp - The 8-bit GEMM on Hopper's wgmma ---------------===//
//
// Y = sx · sw · (Xq · Wqᵀ) as Int8Gemm.cpp computes it, on sm_90a's
// warpgroup MMA, which reads both operands from shared memory:
//
//   block           : outputs [128 bm, +128) × [BN bn, +BN), 256 threads
//                     (384 with TMA, below); (bm, bn) from the block id in
//                     groups of 8 block rows (L2 reuse)
//   warpgroup wg    : rows [64 wg, +64) of the block, all BN columns: one
//                     wgmma.mma_async.m64nBNk32 per 32 bytes of K, its
//                     accumulators (BN / 2 registers a thread) in the
//                     16 × 8 C-fragment layout of mma.sync, warp w of the
//                     group holding rows [16 w, +16)
//   K loop          : 128 bytes a step through S stages of shared memory,
//                     filled by cp.async (16 bytes a thread and copy) S − 2
//                     steps ahead, one wgmma group in flight (INT8; FP8
//                     below); rows of Xq past M (a partial last row tile)
//                     copied as zeros, and not stored
//
// Shared memory (dynamic, aligned here to 1 KiB): stage s holds the Xq tile
// (128 rows) then the Wq tile (BN rows), each row 128 bytes, "K-major with
// the 128-byte swizzle": the 16-byte chunk j of row r is stored at chunk
// j ^ (r mod 8). A matrix descriptor names a 64-row (A) or BN-row (B)
// slice and the 32 bytes of K one wgmma reads:
//
//   bits  0-13  (address of row 0, K byte 32 kk) >> 4
//   bits 16-29  leading byte offset >> 4: unused for swizzled K-major
//               operands whose K span (32 bytes) is inside a row (1)
//   bits 32-45  stride byte offset >> 4: 1024, eight rows to the next eight
//   bits 62-63  1: the 128-byte swizzle
//
// The hardware applies the XOR to address bits 4-6 with bits 7-9, so tiles
// aligned to 1 KiB and the swizzled stores above agree for every kk.
//
// Ordering of the cp.async variant, per step s (every thread):
//   cp.async.wait_group S − 3       this thread's copies of step s landed
//   fence.proxy.async.shared::cta   ... and are visible to wgmma (async proxy)
//   bar.sync                        everyone's are; and every warpgroup has
//                                   retired its wgmma of step s − 2
//   cp.async step s + S − 2         into the stage of step s − 2
//   wgmma.fence; 4 × wgmma; commit; wait_group 1 (step s − 1 retired;
//                                   FP8: wait_group 0)
//
// INT8 chains all steps on one set of i32 accumulators (exact); step 0 is
// peeled so that its first wgmma starts from D = 0 (scale-d false) instead
// of registers zeroed next to the fence. FP8 starts each step afresh and,
// with wait_group 0, adds it to f32 sums in registers: Hopper accumulates
// FP8 products with fewer bits than f32 (DeepSeek-V3 measures about 14),
// and this bounds that to 128 products (BN ≤ 128 then: two sets of
// accumulators).
//
// With TMA (wgmmaTma), a third warpgroup fills the stages: warpgroup 0's
// first thread loads both tiles of a step with cp.async.bulk.tensor (the
// tensor maps encode the same swizzle, and zeros past M), and per stage a
// "full" mbarrier (its bytes arrived) and an "empty" one (8 consumer warps
// retired their wgmmas of it) pass it between producer and consumers
// (warpgroups 1 and 2, the rows above); all S stages are in flight, and
// setmaxnreg moves the producer's registers to the consumers.
//
//===----------------------------------------------------------------------===//

#include "Int8Gemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <functional>

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

using C = Int8GemmConfig;

/// wgmma's name for an operand type (u8: unsigned activation codes).
static NVVM::WGMMATypes getWgmmaType(Type t, bool isUnsigned) {
  if (t.isInteger(8))
    return isUnsigned ? NVVM::WGMMATypes::u8 : NVVM::WGMMATypes::s8;
  return isa<Float8E4M3FNType>(t) ? NVVM::WGMMATypes::e4m3
                                  : NVVM::WGMMATypes::e5m2;
}

/// The i64 constant `v`.
static Value i64(KernelBuilder &kb, int64_t v) {
  return arith::ConstantIntOp::create(kb.builder(), kb.location(), v, 64);
}

namespace {

/// How a K step's tiles reach the consumer warpgroups and how its stage is
/// handed back: the cp.async pipeline (every warpgroup copies and
/// computes) or the TMA one (a producer warpgroup copies).
struct StagePipeline {
  /// Before the wgmmas of `step`: its tiles are in shared memory and
  /// visible to wgmma.
  std::function<void(Value step)> acquire;
  /// Once this thread's wgmmas of `step` retired: its stage may be refilled.
  std::function<void(Value step)> release;
  /// After the K loop: nothing this thread started is left in flight.
  std::function<void()> drain = [] {};
};

/// Where a block's consumer warpgroups are and what they share.
struct ConsumerPlace {
  Value warpgroup; // 0 or 1: rows [64 warpgroup, +64) of the block
  Value warpRow;   // the warp's first row in the block (16 per warp)
  Value m0, n0;    // the block's first output row and column
  Value descriptorBase;
};

} // namespace

/// The first output row and column (m0, n0) of output tile `tile` (linear,
/// 0 to blocksM · blocksN): tiles in groups of kGroupM tile rows, column by
/// column within a group (group tile / (G · blocksN), then row-fastest), so
/// that the tiles computed at once share a few row tiles of Xq and column
/// tiles of Wq in L2 instead of sweeping all of Wq per row tile.
static std::pair<Value, Value> getGroupedTileOrigin(KernelBuilder &kb,
                                                    const C &c, Value tile) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  constexpr int64_t kGroupM = 8;
  const int64_t blocksM = c.blocksM(), blocksN = c.blocksN();
  const int64_t perGroup = kGroupM * blocksN;
  Value firstM = kb.mul(kb.div(tile, perGroup), kGroupM);
  Value groupRows = arith::MinUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, kb.index(blocksM), firstM),
      kb.index(kGroupM));
  Value inGroup = kb.rem(tile, perGroup);
  return {kb.mul(kb.add(firstM, kb.rem(inGroup, groupRows)), C::kBlockM),
          kb.mul(kb.div(inGroup, groupRows), c.wgmmaBlockN)};
}

/// The pipeline's number of a tile's K step `localStep`: the tile's first
/// step's number `firstStep` (a persistent kernel numbers its steps on
/// across tiles) plus `localStep`, or `localStep` where `firstStep` is null.
static Value getPipelineStep(KernelBuilder &kb, Value firstStep,
                             Value localStep) {
  return firstStep ? kb.add(firstStep, localStep) : localStep;
}

/// The consumers' K loop (wgmma on the stages as `pipeline` delivers them,
/// INT8 chained on i32 accumulators, FP8 summed per step in f32) and the
/// epilogue. `firstStep`: the pipeline's number of the tile's first K step
/// (a persistent kernel's steps run on across its tiles; null: 0), and
/// then every step's stage is handed back, the last one included.
static void buildWgmmaConsumer(KernelBuilder &kb, const C &c,
                               const Int8GemmArguments &args,
                               const ThreadIds &ids, const ConsumerPlace &at,
                               const StagePipeline &pipeline,
                               Value firstStep = Value()) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  Type i64Type = b.getI64Type();
  constexpr int64_t blockM = C::kBlockM, rowBytes = C::kWgmmaBlockK;
  const int64_t blockN = c.wgmmaBlockN, stages = c.wgmmaStages;
  const int64_t stageBytes = c.wgmmaStageBytes();
  const int64_t steps = c.k / rowBytes;

  // Descriptor of the operand slice at byte `offset` (i64) of the stages:
  // the base's address field plus offset >> 4 (no carry out of its 14
  // bits: the stages end below 2^18).
  auto descriptor = [&](Value offset) -> Value {
    return arith::AddIOp::create(
        b, loc, at.descriptorBase,
        arith::ShRUIOp::create(b, loc, offset, i64(kb, 4)));
  };

  // wgmma's accumulators: a struct of blockN / 2 scalars a thread.
  Type accElem = c.isFP8() ? Type(b.getF32Type()) : Type(b.getI32Type());
  const int64_t accCount = blockN / 2;
  auto accType = LLVM::LLVMStructType::getLiteral(
      ctx, SmallVector<Type>(accCount, accElem));
  auto shape = NVVM::MMAShapeAttr::get(ctx, 64, blockN, 32);
  NVVM::WGMMATypes typeA = getWgmmaType(c.xType, c.xUnsigned);
  NVVM::WGMMATypes typeB = getWgmmaType(c.wType, false);
  NVVM::WGMMATypes typeD =
      c.isFP8() ? NVVM::WGMMATypes::f32 : NVVM::WGMMATypes::s32;
  // The byte offset of this warpgroup's A slice in a stage.
  Value aOffset = arith::IndexCastOp::create(
      b, loc, i64Type, kb.mul(at.warpgroup, 64 * rowBytes));

  auto pipelineStep = [&](Value step) {
    return getPipelineStep(kb, firstStep, step);
  };
  // One K step: its tiles acquired, its 4 wgmmas chained on `acc` and
  // committed; with `fresh`, the first one ignores `acc` (scale-d = 0:
  // D = A·B), so no register is written between wgmma.fence and the
  // wgmmas.
  auto mmaStep = [&](Value localStep, Value acc, bool fresh) -> Value {
    Value step = pipelineStep(localStep);
    pipeline.acquire(step);
    Value stageOffset = arith::IndexCastOp::create(
        b, loc, i64Type, kb.mul(kb.rem(step, stages), stageBytes));
    Value aBase = arith::AddIOp::create(b, loc, stageOffset, aOffset);
    Value bBase = arith::AddIOp::create(b, loc, stageOffset,
                                        i64(kb, blockM * rowBytes));
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    for (int64_t kk = 0; kk < rowBytes; kk += 32) {
      Value descA =
          descriptor(arith::AddIOp::create(b, loc, aBase, i64(kb, kk)));
      Value descB =
          descriptor(arith::AddIOp::create(b, loc, bBase, i64(kb, kk)));
      acc = NVVM::WgmmaMmaAsyncOp::create(
          b, loc, accType, acc, descA, descB, shape, typeA, typeB, typeD,
          fresh && kk == 0 ? NVVM::WGMMAScaleOut::zero
                           : NVVM::WGMMAScaleOut::one,
          NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
          NVVM::MMALayout::row, NVVM::MMALayout::col, /*satfinite=*/nullptr);
    }
    NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
    return acc;
  };

  Value undefAcc = LLVM::UndefOp::create(b, loc, accType);
  // acc(i): accumulator i of the thread once the loop is done.
  std::function<Value(int64_t)> accElement;
  if (!c.isFP8()) {
    // INT8: exact i32 sums, chained across steps with one step in flight
    // (wait_group 1: the step before retired, and its stage goes back);
    // step 0 peeled to start fresh.
    Value first = mmaStep(kb.index(0), undefAcc, /*fresh=*/true);
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, kb.index(1), kb.index(steps), kb.index(1), ValueRange{first},
        [&](OpBuilder &, Location, Value step, ValueRange carried) {
          Value acc = mmaStep(step, carried.front(), /*fresh=*/false);
          NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
          pipeline.release(pipelineStep(kb.add(step, -1)));
          scf::YieldOp::create(b, loc, acc);
        });
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
    // (A kernel of one tile never refills the last step's stage.)
    if (firstStep)
      pipeline.release(pipelineStep(kb.index(steps - 1)));
    Value acc = loop.getResult(0);
    accElement = [&, acc](int64_t i) -> Value {
      return LLVM::ExtractValueOp::create(b, loc, acc, i);
    };
  } else {
    // FP8: Hopper's FP8 wgmma accumulates with fewer bits than f32, so
    // each step (K = 128) starts fresh and is added to f32 registers once
    // it retired (as DeepGEMM and cuBLAS without fast accumulation do).
    auto sumType = VectorType::get({accCount}, b.getF32Type());
    Value sumZero =
        arith::ConstantOp::create(b, loc, sumType, b.getZeroAttr(sumType));
    auto loop = scf::ForOp::create(
        b, loc, kb.index(0), kb.index(steps), kb.index(1), ValueRange{sumZero},
        [&](OpBuilder &, Location, Value step, ValueRange carried) {
          Value part = mmaStep(step, undefAcc, /*fresh=*/true);
          NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
          pipeline.release(pipelineStep(step));
          SmallVector<Value> parts;
          for (int64_t i = 0; i < accCount; ++i)
            parts.push_back(LLVM::ExtractValueOp::create(b, loc, part, i));
          Value sum = arith::AddFOp::create(
              b, loc, carried.front(),
              vector::FromElementsOp::create(b, loc, sumType, parts));
          scf::YieldOp::create(b, loc, sum);
        });
    Value sum = loop.getResult(0);
    accElement = [&, sum](int64_t i) -> Value {
      return vector::ExtractOp::create(b, loc, sum, i);
    };
  }
  pipeline.drain();

  // The accumulators as 16 × 8 fragments: registers 4j .. 4j + 3 are
  // (row g, columns 8j + 2t, +1) and (row g + 8, the same columns).
  auto fragmentType = VectorType::get({2, 2}, accElem);
  SmallVector<Value> fragments;
  for (int64_t j = 0; j < blockN / 8; ++j) {
    SmallVector<Value> elements;
    for (int64_t e = 0; e < 4; ++e)
      elements.push_back(accElement(4 * j + e));
    fragments.push_back(
        vector::FromElementsOp::create(b, loc, fragmentType, elements));
  }
  storeInt8GemmOutputs(kb, c, args, fragments, kb.add(at.m0, at.warpRow),
                       at.n0, /*mTiles=*/1, /*nTiles=*/blockN / 8, ids.g,
                       ids.t);
}

/// The cp.async pipeline: every thread copies its share of step s + S - 2
/// once step s's tiles landed and step s - 2's wgmmas retired everywhere
/// (one barrier a step).
static StagePipeline buildCpAsyncPipeline(KernelBuilder &kb, const C &c,
                                        const Int8GemmArguments &args,
                                        const ThreadIds &ids, Value smem,
                                        Value pad, Value m0, Value n0) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  constexpr int64_t blockM = C::kBlockM, rowBytes = C::kWgmmaBlockK;
  constexpr int64_t chunksPerRow = rowBytes / 16;
  const int64_t blockN = c.wgmmaBlockN, stages = c.wgmmaStages;
  const int64_t stageBytes = c.wgmmaStageBytes();
  const int64_t steps = c.k / rowBytes;
  const int64_t threads = c.threads();

  // cp.async of K step `step` into its stage. Thread tid copies chunks
  // tid + i · threads: row (tid + i · threads) / 8, chunk tid mod 8, whose
  // swizzled place depends on tid only (threads is a multiple of 64).
  Value chunk = kb.rem(ids.tid, chunksPerRow);
  Value firstRow = kb.div(ids.tid, chunksPerRow);
  Value swizzled = kb.mul(
      arith::XOrIOp::create(b, loc, chunk, kb.rem(firstRow, 8)), 16);
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);
  // Steps past the end copy nothing; their (empty) groups keep the wait
  // count uniform.
  auto issue = [=, &kb](Value step) {
    OpBuilder &b = kb.builder();
    Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        step, kb.index(steps));
    scf::IfOp::create(b, loc, valid, [&](OpBuilder &, Location) {
      Value stageBase = kb.add(pad, kb.mul(kb.rem(step, stages), stageBytes));
      Value k0 = kb.add(kb.mul(step, rowBytes), kb.mul(chunk, 16));
      for (auto [src, row0, rows, tileOffset] :
           {std::tuple{args.x, m0, blockM, int64_t(0)},
            std::tuple{args.w, n0, blockN, blockM * rowBytes}}) {
        for (int64_t first = 0; first < rows;
             first += threads / chunksPerRow) {
          Value row = kb.add(firstRow, first);
          Value dst = kb.add(kb.add(stageBase, tileOffset),
                             kb.add(kb.mul(row, rowBytes), swizzled));
          Value srcRow = kb.add(row0, row), bytes;
          // Rows of Xq past M (a partial last row tile): zeros, read
          // from row M - 1.
          if (src == args.x && c.hasPartialRowTile()) {
            bytes = arith::SelectOp::create(
                b, loc,
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                      srcRow, kb.index(c.m)),
                kb.index(16), kb.index(0));
            srcRow = arith::MinUIOp::create(b, loc, srcRow, kb.index(c.m - 1));
          }
          nvgpu::DeviceAsyncCopyOp::create(
              b, loc, tokenType, smem, ValueRange{dst}, src,
              ValueRange{srcRow, k0}, b.getIndexAttr(16), bytes,
              /*bypassL1=*/b.getUnitAttr());
        }
      }
      scf::YieldOp::create(b, loc);
    });
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  };

  for (int64_t s = 0; s + 2 < stages; ++s)
    issue(kb.index(s));
  StagePipeline pipeline;
  pipeline.acquire = [=, &kb](Value step) {
    OpBuilder &b = kb.builder();
    // This thread's copies of the step landed, are visible to wgmma (the
    // async proxy), and everyone's are; every warpgroup has retired its
    // wgmmas of step - 2, whose stage the copies of step + S - 2 refill.
    NVVM::CpAsyncWaitGroupOp::create(b, loc, b.getI32IntegerAttr(stages - 3));
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    gpu::BarrierOp::create(b, loc);
    issue(kb.add(step, stages - 2));
  };
  // The barrier in acquire hands stages back.
  pipeline.release = [](Value) {};
  // Nothing may be in flight when the block exits: the copies past the end
  // are empty groups, but wait for them all the same.
  pipeline.drain = [&kb, loc] {
    NVVM::CpAsyncWaitGroupOp::create(kb.builder(), loc,
                                     kb.builder().getI32IntegerAttr(0));
  };
  return pipeline;
}

/// Register budgets of the TMA kernel's warpgroups (setmaxnreg): the
/// producer gives registers back for the consumers' accumulators. The
/// block's pool is what it launched with, 384 threads × 168 registers
/// (ptxas's count under .maxntid 384), and setmaxnreg.inc waits until the
/// pool has room: the budgets must fit it, or the consumers hang.
static constexpr int32_t kProducerRegisters = 40, kConsumerRegisters = 232;
static_assert(128 * kProducerRegisters + 256 * kConsumerRegisters <=
                  384 * 168,
              "the warpgroups' registers exceed the block's pool");

/// The TMA kernel's body after the common prologue: the stages' mbarriers,
/// then warpgroup 0 as the producer and warpgroups 1 and 2 as consumers of
/// the tiles at `tilesAddress` (shared memory, 1 KiB aligned).
static void buildTmaPipeline(KernelBuilder &kb, const C &c,
                             const Int8GemmArguments &args,
                             const ThreadIds &ids, const ConsumerPlace &block,
                             Value tilesAddress) {
  ConsumerPlace at = block; // the consumers' warps filled in below
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  MLIRContext *ctx = b.getContext();
  Type i64Type = b.getI64Type(), i32Type = b.getI32Type();
  constexpr int64_t blockM = C::kBlockM, rowBytes = C::kWgmmaBlockK;
  const int64_t stages = c.wgmmaStages;
  const int64_t stageBytes = c.wgmmaStageBytes();
  const int64_t steps = c.k / rowBytes;

  // The block's tiles, body(m0, n0, firstStep) each: the block's own
  // (`block`; firstStep null: steps numbered from 0) or, persistent,
  // tiles b, b + G, ... (G blocks), whose steps the pipeline numbers on
  // from one tile to the next (firstStep: the tile's first), so that
  // stages and mbarrier phases carry across tiles. In clusters of two (G
  // even, b and b + 1 one cluster), tiles b + kG and b + 1 + kG are a pair
  // of getGroupedTileOrigin's (one column tile), and with an even tile
  // count both blocks walk as many pairs.
  auto forEachTile = [&](llvm::function_ref<void(Value, Value, Value)> body) {
    if (!c.wgmmaPersistent) {
      body(block.m0, block.n0, Value());
      return;
    }
    Value first = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    scf::ForOp::create(
        b, loc, first, kb.index(c.blocksM() * c.blocksN()),
        gpu::GridDimOp::create(b, loc, gpu::Dimension::x),
        ValueRange{kb.index(0)},
        [&](OpBuilder &, Location, Value tile, ValueRange carried) {
          auto [m0, n0] = getGroupedTileOrigin(kb, c, tile);
          body(m0, n0, carried.front());
          scf::YieldOp::create(b, loc, kb.add(carried.front(), steps));
        });
  };

  // Warpgroup 0 produces: its first thread waits for a stage to be
  // empty, expects its bytes on the stage's full barrier and starts the
  // two tensor copies, which complete that barrier. Warpgroups 1 and 2
  // consume: they wait on the full barrier and, once their wgmmas of a step
  // retired, lane 0 of each of their 8 warps arrives on its empty barrier.
  // Phase parity of step s: (s / S) mod 2 (the producer's first pass waits
  // for parity 1, which a fresh barrier reports complete).
  // Pointers to shared memory at a byte offset from the stages: in the
  // CTA's window (3) or, for TMA destinations (PTX 8.0 names only
  // shared::cluster), in the cluster's (7), where the executing CTA's
  // shared memory has the same addresses.
  auto sharedPtr = [&](Value byteOffset, unsigned space = 3) -> Value {
    return LLVM::IntToPtrOp::create(
        b, loc, LLVM::LLVMPointerType::get(ctx, space),
        arith::AddIOp::create(b, loc, tilesAddress, byteOffset).getResult());
  };
  auto asI64 = [&](Value v) {
    return arith::IndexCastOp::create(b, loc, i64Type, v).getResult();
  };
  auto asI32 = [&](Value v) {
    return arith::IndexCastOp::create(b, loc, i32Type, v).getResult();
  };
  // barrier.cluster of every thread of the cluster: arrive (release, or
  // `relaxed` where a fence already ordered what matters), then wait.
  auto syncCluster = [&](bool relaxed) {
    if (relaxed)
      NVVM::ClusterArriveRelaxedOp::create(b, loc, /*aligned=*/UnitAttr());
    else
      NVVM::ClusterArriveOp::create(b, loc, /*aligned=*/UnitAttr());
    NVVM::ClusterWaitOp::create(b, loc, /*aligned=*/UnitAttr());
  };
  // Barrier `which` (0: full, 1: empty) of stage `stage`, after the stages.
  auto barrier = [&](int64_t which, Value stage) {
    return sharedPtr(asI64(
        kb.add(kb.mul(stage, 8), stages * stageBytes + which * 8 * stages)));
  };
  auto parity = [&](Value step) {
    return asI32(kb.rem(kb.div(step, stages), 2));
  };
  constexpr int64_t kConsumerWarps = 8;
  // In a cluster of two, block `rank` loads rows [blockN / 2 · rank, +
  // blockN / 2) of the Wq tile into both blocks' stages (TMA multicast), so
  // a stage is free again once the consumers of both have released it:
  // each consumer warp arrives on its own and on its peer's "empty"
  // barrier.
  const int64_t cluster = c.wgmmaCluster;
  const int64_t wRowsPerBlock = c.wgmmaBlockN / cluster;
  Value rank =
      cluster > 1 ? Value(NVVM::ClusterId::create(b, loc, i32Type)) : Value();
  auto genericPtr = [&](Value address) -> Value {
    return LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(ctx),
                                    address);
  };
  Value xMap = genericPtr(args.xMap), wMap = genericPtr(args.wMap);
  Value isThread0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          ids.tid, kb.index(0));
  scf::IfOp::create(b, loc, isThread0, [&](OpBuilder &, Location) {
    for (int64_t s = 0; s < stages; ++s) {
      NVVM::MBarrierInitOp::create(b, loc, barrier(0, kb.index(s)),
                                   arith::ConstantIntOp::create(b, loc, 1, 32),
                                   /*predicate=*/Value());
      NVVM::MBarrierInitOp::create(
          b, loc, barrier(1, kb.index(s)),
          arith::ConstantIntOp::create(b, loc, kConsumerWarps * cluster, 32),
          /*predicate=*/Value());
    }
    // The initialised barriers visible to the async proxy (the TMA unit
    // completes transactions on them), as CUTLASS and DeepGEMM fence them.
    NVVM::FenceMbarrierInitOp::create(b, loc);
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    // The maps were written to global memory by a copy (the generic
    // proxy); TMA reads them through the tensormap proxy (CUDA Programming
    // Guide, tensor maps in global memory). Only this thread issues TMA.
    Value mapBytes = arith::ConstantIntOp::create(b, loc, 128, 32);
    for (Value map : {xMap, wMap}) {
      NVVM::FenceProxyAcquireOp::create(
          b, loc, NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::SYS),
          map, mapBytes);
      NVVM::PrefetchOp::create(b, loc, /*cacheLevel=*/nullptr,
                               /*evictPriority=*/nullptr, map,
                               /*predicate=*/Value(), b.getUnitAttr());
    }
    scf::YieldOp::create(b, loc);
  });
  // Every barrier initialised (in a cluster, the peer's too: its
  // producer multicasts into this block and its consumers arrive here).
  // (fence.mbarrier_init.release.cluster has ordered the initialisation:
  // the arrive may be relaxed, as CUTLASS's after fence_barrier_init.)
  if (cluster > 1)
    syncCluster(/*relaxed=*/true);
  else
    gpu::BarrierOp::create(b, loc);

  Value isProducer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           ids.warp, kb.index(4));
  auto setMaxRegisters = [&](int32_t count, NVVM::SetMaxRegisterAction a) {
    NVVM::SetMaxRegisterOp::create(
        b, loc, b.getI32IntegerAttr(count),
        NVVM::SetMaxRegisterActionAttr::get(ctx, a));
  };
  auto cta = NVVM::MemScopeKindAttr::get(ctx, NVVM::MemScopeKind::CTA);
  // The suspend-time hint of the barrier waits (ns), as CUTLASS's.
  Value ticks = arith::ConstantIntOp::create(b, loc, 0x989680, 32);
  scf::IfOp::create(
      b, loc, isProducer,
      [&](OpBuilder &, Location) {
        setMaxRegisters(kProducerRegisters,
                        NVVM::SetMaxRegisterAction::decrease);
        scf::IfOp::create(b, loc, isThread0, [&](OpBuilder &, Location) {
          Value txBytes = arith::ConstantIntOp::create(b, loc, stageBytes, 32);
          forEachTile([&](Value tileM0, Value tileN0, Value firstStep) {
            Value m0 = asI32(tileM0), n0 = asI32(tileN0);
            scf::ForOp::create(
                b, loc, kb.index(0), kb.index(steps), kb.index(1), ValueRange{},
                [&](OpBuilder &, Location, Value localStep, ValueRange) {
                  Value step = getPipelineStep(kb, firstStep, localStep);
                  Value stage = kb.rem(step, stages);
                  Value emptyParity = arith::XOrIOp::create(
                      b, loc, parity(step),
                      arith::ConstantIntOp::create(b, loc, 1, 32));
                  NVVM::MBarrierTryWaitParityOp::create(
                      b, loc, barrier(1, stage), emptyParity, ticks);
                  Value full = barrier(0, stage);
                  NVVM::MBarrierArriveExpectTxOp::create(
                      b, loc, /*res=*/Type(), full, txBytes, cta,
                      /*relaxed=*/nullptr, /*predicate=*/Value());
                  Value k0 = asI32(kb.mul(localStep, rowBytes));
                  Value stageOffset = asI64(kb.mul(stage, stageBytes));
                  // Wq: this block's share of the tile (all of it
                  // outside a cluster), multicast to the cluster.
                  Value wRow0 = n0, wOffset = i64(kb, blockM * rowBytes),
                        multicast;
                  if (cluster > 1) {
                    Value share =
                        arith::MulIOp::create(b, loc, rank,
                                              arith::ConstantIntOp::create(
                                                  b, loc, wRowsPerBlock, 32));
                    wRow0 = arith::AddIOp::create(b, loc, n0, share);
                    wOffset = arith::AddIOp::create(
                        b, loc, wOffset,
                        arith::ExtUIOp::create(
                            b, loc, i64Type,
                            arith::MulIOp::create(b, loc, share,
                                                  arith::ConstantIntOp::create(
                                                      b, loc, rowBytes, 32))));
                    multicast = arith::ConstantIntOp::create(
                        b, loc, (1 << cluster) - 1, 16);
                  }
                  for (auto [map, row0, tileOffset, mask] :
                       {std::tuple{xMap, m0, i64(kb, 0), Value()},
                        std::tuple{wMap, wRow0, wOffset, multicast}})
                    NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
                        b, loc,
                        sharedPtr(arith::AddIOp::create(b, loc, stageOffset,
                                                        tileOffset),
                                  /*space=*/7),
                        map, ValueRange{k0, row0}, full,
                        /*im2colOffsets=*/ValueRange{},
                        /*multicastMask=*/mask, /*l2CacheHint=*/Value(),
                        NVVM::TMALoadModeAttr::get(ctx,
                                                   NVVM::TMALoadMode::TILE),
                        /*isCTAOnly=*/nullptr, /*group=*/nullptr,
                        /*predicate=*/Value());
                  scf::YieldOp::create(b, loc);
                });
          });
          scf::YieldOp::create(b, loc);
        });
        scf::YieldOp::create(b, loc);
      },
      [&](OpBuilder &, Location) {
        setMaxRegisters(kConsumerRegisters,
                        NVVM::SetMaxRegisterAction::increase);
        // Consumer warp w (4 ≤ w < 12): warpgroup w / 4 - 1, rows
        // [16 (w - 4), +16) of the block.
        Value consumerWarp = kb.add(ids.warp, -4);
        at.warpgroup = kb.div(consumerWarp, 4);
        at.warpRow = kb.mul(consumerWarp, 16);
        Value isLane0 = arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, ids.lane, kb.index(0));
        StagePipeline pipeline;
        pipeline.acquire = [&](Value step) {
          NVVM::MBarrierTryWaitParityOp::create(
              b, loc, barrier(0, kb.rem(step, stages)), parity(step), ticks);
        };
        // The peer's "empty" barriers, at the same offsets in its shared
        // memory (the cluster's window).
        Value peer = rank ? Value(arith::XOrIOp::create(
                                b, loc, rank,
                                arith::ConstantIntOp::create(b, loc, 1, 32)))
                          : Value();
        pipeline.release = [&](Value step) {
          scf::IfOp::create(b, loc, isLane0, [&](OpBuilder &, Location) {
            Value empty = barrier(1, kb.rem(step, stages));
            NVVM::MBarrierArriveOp::create(b, loc, /*res=*/Type(), empty,
                                           /*count=*/Value(), cta);
            // (Release at CTA scope, as CUTLASS's ClusterBarrier::arrive:
            // what it releases are wgmma reads, retired at wait_group and
            // ordered against the peer's next TMA write by the mbarrier
            // itself; a cluster-scope release would fence all of memory
            // at every step.)
            if (peer)
              NVVM::MBarrierArriveOp::create(
                  b, loc, /*res=*/Type(),
                  NVVM::MapaOp::create(
                      b, loc, LLVM::LLVMPointerType::get(ctx, 7), empty, peer),
                  /*count=*/Value(), cta);
            scf::YieldOp::create(b, loc);
          });
        };
        forEachTile([&](Value m0, Value n0, Value firstStep) {
          ConsumerPlace tile = at;
          tile.m0 = m0;
          tile.n0 = n0;
          buildWgmmaConsumer(kb, c, args, ids, tile, pipeline, firstStep);
        });
        scf::YieldOp::create(b, loc);
      });
  // No block of a cluster exits while its peer may still arrive on its
  // barriers or multicast into its shared memory.
  if (cluster > 1)
    syncCluster(/*relaxed=*/false);
}

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildInt8GemmWgmma(OpBuilder &b, Location loc,
                                            const Int8GemmConfig &c) {
  MLIRContext *ctx = b.getContext();
  Type i64Type = b.getI64Type();

  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(
      b, loc, c.kernelName(), getInt8GemmArgumentTypes(ctx, c),
      /*workgroup=*/{}, {c.threads()},
      // (A persistent kernel's grid is the launch's choice.)
      c.isPersistent() ? ArrayRef<int64_t>() : ArrayRef<int64_t>(c.grid()));
  // In clusters: .reqnctapercluster, so that a launch without them fails
  // instead of computing with a peer that is not there.
  if (c.wgmmaCluster > 1)
    func->setAttr(NVVM::NVVMDialect::getClusterDimAttrName(),
                  b.getDenseI32ArrayAttr({int32_t(c.wgmmaCluster), 1, 1}));
  KernelBuilder kb(b, loc);
  Int8GemmArguments args = getInt8GemmArguments(func, c);
  ThreadIds ids = getThreadIds(kb);
  // A block a tile (its linear block id), unless persistent (the tiles'
  // loops in buildTmaPipeline).
  ConsumerPlace at;
  if (!c.wgmmaPersistent)
    std::tie(at.m0, at.n0) = getGroupedTileOrigin(
        kb, c,
        kb.add(kb.mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
                      c.blocksN()),
               gpu::BlockIdOp::create(b, loc, gpu::Dimension::x)));

  // The stages, from the first 1 KiB boundary of the dynamic shared memory
  // (launched with dynamicSharedBytes(), one atom more than they need).
  auto smemType = getSharedMemRefType({ShapedType::kDynamic}, b.getI8Type());
  Value smem = gpu::DynamicSharedMemoryOp::create(b, loc, smemType);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value pad = arith::AndIOp::create(
      b, loc, arith::SubIOp::create(b, loc, kb.index(0), address),
      kb.index(C::kSwizzleAtomBytes - 1));
  Value tilesAddress = arith::IndexCastOp::create(
      b, loc, i64Type, kb.add(address, pad));

  // Every descriptor field but the address is constant: the address of
  // the stages, (tiles >> 4) masked to its 14 bits, then the offsets.
  constexpr int64_t kLeadingByteOffset = 16, kStrideByteOffset = 1024;
  at.descriptorBase = arith::OrIOp::create(
      b, loc,
      arith::AndIOp::create(
          b, loc,
          arith::ShRUIOp::create(b, loc, tilesAddress, i64(kb, 4)),
          i64(kb, 0x3FFF)),
      i64(kb, (kLeadingByteOffset >> 4) << 16 |
                  (kStrideByteOffset >> 4) << 32 | int64_t(1) << 62));

  if (!c.wgmmaTma) {
    // Warp w: warpgroup w / 4, rows [16 w, +16) of the block.
    at.warpgroup = kb.div(ids.warp, 4);
    at.warpRow = kb.mul(ids.warp, 16);
    StagePipeline pipeline =
        buildCpAsyncPipeline(kb, c, args, ids, smem, pad, at.m0, at.n0);
    buildWgmmaConsumer(kb, c, args, ids, at, pipeline);
    gpu::ReturnOp::create(b, loc);
    return func;
  }

  buildTmaPipeline(kb, c, args, ids, at, tilesAddress);
  gpu::ReturnOp::create(b, loc);
  return func;
}

void mlir::qopt::gpu_kernels::chooseWgmmaTiling(Int8GemmConfig &c,
                                                int64_t smCount) {
  // Estimated time: waves of blocks (ceil(tiles / SMs); a persistent
  // kernel's blocks walk as many tiles) times a tile's time, which grows
  // with its columns, a 128-column tile costing 1.2 x 128 / 256 of a
  // 256-column one (fewer wgmma columns per byte of Xq loaded: on an H100,
  // M = 4096, N = K = 4096 and 8192 measured 1.17 and 1.28; rounded here).
  // This picks the faster width of each of the six shapes measured
  // (docs/perf/gpu.md): 128 for M = 256 (64 or 128 tiles of 128 columns,
  // one wave either way) and M = 1500, K = 1152; 256 for M = 1000, 4096.
  if (c.wgmmaBlockN == 0) {
    int64_t best = 0;
    for (int64_t blockN : {256, 128}) {
      if ((c.isFP8() && blockN > 128) || c.n % blockN != 0)
        continue;
      int64_t tiles = c.blocksM() * (c.n / blockN);
      int64_t cost =
          llvm::divideCeil(tiles, smCount) * blockN * (blockN == 256 ? 5 : 6);
      if (c.wgmmaBlockN == 0 || cost < best) {
        c.wgmmaBlockN = blockN;
        best = cost;
      }
    }
    // N not a multiple of 128: no width tiles it (checkInt8Gemm says so).
    if (c.wgmmaBlockN == 0)
      c.wgmmaBlockN = 128;
  }
}
