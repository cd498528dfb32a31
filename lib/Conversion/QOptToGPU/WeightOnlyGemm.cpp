//===- WeightOnlyGemm.cpp - Tensor-core GEMM for packed integer weights ---===//
//
// Y[M, N] = X[M, K] · dequant(W[N, K])ᵀ for M > 16. The same "swap AB"
// fragments and in-register dequantization as the GEMV (WeightOnlyGemv.cpp),
// with X reused across the warps of a block:
//
//   block (bn, bm) : weight rows 64 bn .. +63, X rows 64 bm .. +63
//   warp  w        : weight rows 64 bn + 16 w + (g, g + 8), all of K
//   K step         : 128 (INT4) / 64 (INT8) values: each thread loads 16
//                    bytes of its two weight rows, the block stages the
//                    64 x step tile of X in shared memory, each 8-value word
//                    permuted into the order of the dequantized code pairs
//                    (so a B fragment is one 8-byte shared load, no shuffle)
//   per word       : 8 column tiles of X × mma.sync.m16n8k16
//
// The next step's X and weights are loaded into registers while the current
// one computes. Scales apply as in the GEMV: per K step in f32, or to the
// dequantized weights for groups smaller than a step.
//
//===----------------------------------------------------------------------===//

#include "WeightOnlyGemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

std::string WeightOnlyGemmConfig::kernelName() const {
  return getWeightOnlyKernelName(*this, "gemm") +
         llvm::formatv("_r{0}w{1}", rowsX, warpsN).str() +
         getWeightReadSuffix(*this);
}

void mlir::qopt::gpu_kernels::chooseWeightOnlyGemmTiling(
    WeightOnlyGemmConfig &c) {
  // Measured on an H200 (docs/perf/gpu.md): up to 64 rows of input, tiles
  // of 32 rows and few warps per block give the grid enough blocks; beyond,
  // 64-row tiles shared by 8 warps read the weights fewer times.
  if (c.rowsX == 0)
    c.rowsX = c.m <= 64 ? 32 : 64;
  if (c.warpsN == 0)
    c.warpsN = c.m > 64 ? 8 : c.n <= 4096 ? 2 : 4;
  while (c.warpsN > 1 && c.n % (16 * c.warpsN) != 0)
    c.warpsN /= 2;
}

std::string
mlir::qopt::gpu_kernels::checkWeightOnlyGemm(const WeightOnlyGemmConfig &c) {
  std::string why = checkWeightOnlyOperands(c);
  if (!why.empty())
    return why;
  if (c.rowsX != 32 && c.rowsX != 64)
    return llvm::formatv("tiles of {0} rows of input (32 or 64)", c.rowsX)
        .str();
  if (c.warpsN < 1 || c.warpsN > 8)
    return llvm::formatv("{0} warps per block (1 to 8)", c.warpsN).str();
  if (c.n % (16 * c.warpsN) != 0)
    return llvm::formatv("N = {0} is not a multiple of {1}", c.n,
                         16 * c.warpsN)
        .str();
  if (c.rowsX * c.kPerWarpStep() / 8 % c.threads() != 0)
    return llvm::formatv("{0} threads cannot share the copies of a {1} x "
                         "{2} tile",
                         c.threads(), c.rowsX, c.kPerWarpStep())
        .str();
  return "";
}

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildWeightOnlyGemm(OpBuilder &b, Location loc,
                                             const WeightOnlyGemmConfig &c) {
  MLIRContext *ctx = b.getContext();
  const CodeFormat &format = c.format;
  const int64_t wordCodes = format.codesPerWord();
  const int64_t mmaPerWord = wordCodes / 4;
  const int64_t step = c.kPerWarpStep();
  const int64_t steps = c.k / step;
  Type f32 = b.getF32Type(), half = format.halfType;

  // Rows padded by 16 bytes: the eight rows one B-fragment load touches
  // start in different banks.
  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getWeightOnlyGemvArgumentTypes(ctx, c),
                           {getSharedMemRefType({c.rowsX, step + 8}, half)},
                           {c.threads()}, {c.blocksN(), c.blocksM()});
  KernelBuilder kb(b, loc);
  auto [x, w, scale, zero, y] = getWeightOnlyArguments(func, c);
  Value xTile = func.getWorkgroupAttributions().front();

  ThreadIds ids = getThreadIds(kb);
  Value tid = ids.tid, warp = ids.warp, g = ids.g, t = ids.t;
  Value bn = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value n0 = kb.mul(bn, 16 * c.warpsN);
  // The warp's 16-row tile of W (tiled weights: its index in the tiles).
  Value rowTile = kb.add(kb.mul(bn, c.warpsN), warp);
  WeightReader weights(kb, c, w);
  Value m0 =
      kb.mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y), c.rowsX);
  Value rowG = kb.add(kb.add(n0, kb.mul(warp, 16)), g);
  Value rows[2] = {rowG, kb.add(rowG, 8)};
  Value kThread = kb.mul(t, c.kPerThread());

  // The order of a word's values in shared memory: for each mma of the
  // word, the two code pairs (2s, 2s + C/2) and (2s + 1, 2s + 1 + C/2).
  SmallVector<int64_t> permutation;
  for (int64_t base = 0; base < 8; base += wordCodes)
    for (int64_t s = 0; s < mmaPerWord; ++s)
      for (int64_t i : {2 * s, 2 * s + wordCodes / 2, 2 * s + 1,
                        2 * s + 1 + wordCodes / 2})
        permutation.push_back(base + i);

  // X tile chunks of 8 values: which a thread copies.
  const int64_t chunksPerRow = step / 8;
  const int64_t chunksPerThread = c.rowsX * chunksPerRow / c.threads();
  auto chunkPlace = [&](int64_t i) {
    Value chunk = kb.add(tid, i * c.threads());
    return std::pair{kb.div(chunk, chunksPerRow),
                     kb.mul(kb.rem(chunk, chunksPerRow), 8)};
  };
  Value lastRow = kb.index(c.m - 1);

  // Global loads of step `i`: X chunks, then [w_g, w_g8, s_g, s_g8] and,
  // with zero points, [z_g, z_g8].
  auto loadStep = [&](Value i) {
    Value ks = kb.mul(i, step);
    SmallVector<Value> values;
    for (int64_t j = 0; j < chunksPerThread; ++j) {
      auto [row, col] = chunkPlace(j);
      // Rows past M read the last row: they only feed columns of the
      // product that are never stored.
      Value xRow = arith::MinUIOp::create(b, loc, kb.add(m0, row), lastRow);
      values.push_back(kb.loadVector(x, {xRow, kb.add(ks, col)}, 8, 16));
    }
    Value byte = kb.div(kb.mul(kb.add(ks, kThread), format.bits), 8);
    for (int r = 0; r < 2; ++r)
      values.push_back(
          weights.load(rows[r], byte, rowTile, i, kb.add(g, 8 * r), t));
    for (Value operand : {scale, zero})
      for (int r = 0; operand && r < 2; ++r)
        values.push_back(memref::LoadOp::create(
            b, loc, operand, getScaleIndices(kb, c, rows[r], kb.add(ks, kThread))));
    return values;
  };

  auto accType = VectorType::get({2, 2}, f32);
  Value accZero =
      arith::ConstantOp::create(b, loc, accType, b.getZeroAttr(accType));
  SmallVector<Value> init(c.mTiles(), accZero);
  llvm::append_range(init, loadStep(kb.index(0)));
  auto loop = scf::ForOp::create(
      b, loc, kb.index(0), kb.index(steps), kb.index(1), init,
      [&](OpBuilder &, Location, Value iv, ValueRange iterArgs) {
        SmallVector<Value> acc(iterArgs.take_front(c.mTiles()));
        ValueRange current = iterArgs.drop_front(c.mTiles());
        // Stage this step's X, permuted.
        for (int64_t j = 0; j < chunksPerThread; ++j) {
          auto [row, col] = chunkPlace(j);
          vector::StoreOp::create(b, loc, kb.shuffle(current[j], permutation),
                                  xTile, ValueRange{row, col});
        }
        gpu::BarrierOp::create(b, loc);
        Value next = kb.add(iv, 1);
        SmallVector<Value> prefetched = loadIf(
            kb,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                  kb.index(steps)),
            current.getTypes(), [&] { return loadStep(next); });

        ValueRange weights = current.slice(chunksPerThread, 2);
        ValueRange scales = current.slice(chunksPerThread + 2, 2);
        StepScales stepScales = getStepScales(
            kb, c, llvm::to_vector(scales),
            zero ? llvm::to_vector(current.slice(chunksPerThread + 4, 2))
                 : SmallVector<Value>{});
        SmallVector<Value> part(c.mTiles(), accZero);
        for (int64_t word = 0; word < 4; ++word) {
          SmallVector<Value> a =
              getWeightFragments(kb, format, weights[0], weights[1], word,
                                 stepScales.zeroBiases,
                                 stepScales.beforeProduct);
          Value kWord = kb.add(kThread, word * wordCodes);
          for (int64_t s = 0; s < mmaPerWord; ++s)
            for (int64_t mt = 0; mt < c.mTiles(); ++mt) {
              Value xs = kb.loadVector(
                  xTile, {kb.add(g, mt * 8), kb.add(kWord, 4 * s)}, 4, 8);
              part[mt] = mmaSync16816(kb, a[s], getActivationFragment(kb, xs),
                                      part[mt]);
            }
        }
        for (int64_t mt = 0; mt < c.mTiles(); ++mt)
          acc[mt] = scaleAndAccumulate(kb, acc[mt], {part[mt]},
                                       stepScales.afterProduct);
        // The next iteration overwrites the X tile.
        gpu::BarrierOp::create(b, loc);
        SmallVector<Value> yields(acc);
        llvm::append_range(yields, prefetched);
        scf::YieldOp::create(b, loc, yields);
      });

  // Y[m, n]: fragment rows are weight rows (n), columns rows of X (m).
  for (int64_t mt = 0; mt < c.mTiles(); ++mt) {
    for (int r = 0; r < 2; ++r) {
      Value v = vector::ExtractOp::create(b, loc, loop.getResult(mt), r);
      for (int64_t e = 0; e < 2; ++e) {
        Value m = kb.add(m0, kb.add(kb.mul(t, 2), mt * 8 + e));
        Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              m, kb.index(c.m));
        scf::IfOp::create(b, loc, inRange, [&](OpBuilder &, Location) {
          Value out = vector::ExtractOp::create(b, loc, v, e);
          if (c.outType != f32)
            out = arith::TruncFOp::create(b, loc, c.outType, out);
          memref::StoreOp::create(b, loc, out, y, ValueRange{m, rows[r]});
          scf::YieldOp::create(b, loc);
        });
      }
    }
  }
  gpu::ReturnOp::create(b, loc);
  return func;
}
