//===- Int8GemmWgmma.cpp - The 8-bit GEMM on Hopper's wgmma ---------------===//
//
// Y = sx · sw · (Xq · Wqᵀ) as Int8Gemm.cpp computes it, on sm_90a's
// warpgroup MMA, which reads both operands from shared memory:
//
//   block           : outputs [128 bm, +128) × [BN bn, +BN), 256 threads;
//                     (bm, bn) from the block id in groups of 8 block rows
//                     (L2 reuse)
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
// Ordering, per step s (every thread):
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

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildInt8GemmWgmma(OpBuilder &b, Location loc,
                                            const Int8GemmConfig &c) {
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i64Type = b.getI64Type();
  constexpr int64_t blockM = C::kBlockM, rowBytes = C::kWgmmaBlockK;
  constexpr int64_t chunksPerRow = rowBytes / 16;
  const int64_t blockN = c.wgmmaBlockN, stages = c.wgmmaStages;
  const int64_t stageBytes = c.wgmmaStageBytes();
  const int64_t steps = c.k / rowBytes;
  const int64_t threads = c.threads();

  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getInt8GemmArgumentTypes(ctx, c), /*workgroup=*/{},
                           {threads}, {c.blocksN(), c.blocksM()});
  KernelBuilder kb(b, loc);
  Int8GemmArguments args = getInt8GemmArguments(func, c);
  ThreadIds ids = getThreadIds(kb);
  // Blocks in groups of kGroupM block rows, column by column within a
  // group (linear block id b: group b / (G · blocksN), then row-fastest),
  // so that the blocks running at once share a few row tiles of Xq and
  // column tiles of Wq in L2 instead of sweeping all of Wq per row tile.
  constexpr int64_t kGroupM = 8;
  const int64_t blocksM = c.blocksM(), blocksN = c.blocksN();
  const int64_t perGroup = kGroupM * blocksN;
  Value block = kb.add(
      kb.mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y), blocksN),
      gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  Value firstM = kb.mul(kb.div(block, perGroup), kGroupM);
  Value groupRows = arith::MinUIOp::create(
      b, loc, arith::SubIOp::create(b, loc, kb.index(blocksM), firstM),
      kb.index(kGroupM));
  Value inGroup = kb.rem(block, perGroup);
  Value m0 = kb.mul(kb.add(firstM, kb.rem(inGroup, groupRows)), blockM);
  Value n0 = kb.mul(kb.div(inGroup, groupRows), blockN);
  // Warp w holds rows [16 w, +16) of the block: warpgroup w / 4 its 64-row
  // slice, warp w mod 4 a quarter of it.
  Value warpM = kb.mul(ids.warp, 16);
  Value warpgroup = kb.div(ids.warp, 4);

  // The stages, from the first 1 KiB boundary of the dynamic shared memory
  // (launched with dynamicSharedBytes(), one atom more than they need).
  auto smemType = getSharedMemRefType({ShapedType::kDynamic}, i8);
  Value smem = gpu::DynamicSharedMemoryOp::create(b, loc, smemType);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, smem);
  Value pad = arith::AndIOp::create(
      b, loc, arith::SubIOp::create(b, loc, kb.index(0), address),
      kb.index(C::kSwizzleAtomBytes - 1));
  Value tilesAddress = arith::IndexCastOp::create(
      b, loc, i64Type, kb.add(address, pad));

  // Descriptor of the operand slice at byte `offset` (i64) of the stages.
  // Every field but the address is constant; the address, below 2^18, is
  // added as (tiles + offset) >> 4 without carrying out of its 14 bits.
  constexpr int64_t kLeadingByteOffset = 16, kStrideByteOffset = 1024;
  Value descriptorBase = arith::OrIOp::create(
      b, loc,
      arith::AndIOp::create(
          b, loc,
          arith::ShRUIOp::create(b, loc, tilesAddress, i64(kb, 4)),
          i64(kb, 0x3FFF)),
      i64(kb, (kLeadingByteOffset >> 4) << 16 |
                  (kStrideByteOffset >> 4) << 32 | int64_t(1) << 62));
  auto descriptor = [&](Value offset) -> Value {
    return arith::AddIOp::create(
        b, loc, descriptorBase,
        arith::ShRUIOp::create(b, loc, offset, i64(kb, 4)));
  };

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
  auto issue = [&](Value step) {
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
      b, loc, i64Type, kb.mul(warpgroup, 64 * rowBytes));

  // One K step: wait for its copies, start those S - 2 steps ahead, and
  // commit its 4 wgmmas chained on `acc`; with `fresh`, the first one
  // ignores `acc` (scale-d = 0: D = A·B), so no register is written
  // between wgmma.fence and the wgmmas.
  auto mmaStep = [&](Value step, Value acc, bool fresh) -> Value {
    NVVM::CpAsyncWaitGroupOp::create(b, loc, b.getI32IntegerAttr(stages - 3));
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    gpu::BarrierOp::create(b, loc);
    issue(kb.add(step, stages - 2));
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

  for (int64_t s = 0; s + 2 < stages; ++s)
    issue(kb.index(s));
  Value undefAcc = LLVM::UndefOp::create(b, loc, accType);
  // acc(i): accumulator i of the thread once the loop is done.
  std::function<Value(int64_t)> accElement;
  if (!c.isFP8()) {
    // INT8: exact i32 sums, chained across steps with one step in flight
    // (wait_group 1: the step before retired); step 0 peeled to start
    // fresh.
    Value first = mmaStep(kb.index(0), undefAcc, /*fresh=*/true);
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, kb.index(1), kb.index(steps), kb.index(1), ValueRange{first},
        [&](OpBuilder &, Location, Value step, ValueRange carried) {
          Value acc = mmaStep(step, carried.front(), /*fresh=*/false);
          NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
          scf::YieldOp::create(b, loc, acc);
        });
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
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
  // Nothing may be in flight when the block exits: the copies past the
  // end are empty groups, but wait for them all the same.
  NVVM::CpAsyncWaitGroupOp::create(b, loc, b.getI32IntegerAttr(0));

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
  storeInt8GemmOutputs(kb, c, args, fragments, kb.add(m0, warpM), n0,
                       /*mTiles=*/1, /*nTiles=*/blockN / 8, ids.g, ids.t);
  gpu::ReturnOp::create(b, loc);
  return func;
}
