//===- WeightOnlyGemv.cpp - Tensor-core GEMV for packed integer weights ---===//
//
// Y[M, N] = X[M, K] · dequant(W[N, K])ᵀ for M ≤ 16, streaming W once.
//
// The weight is mma.sync's A operand ("swap AB"): a warp owns 16 rows of W
// and computes Yᵀ[16 × 8] tiles with mma.sync.m16n8k16 (f32 accumulators),
// one tile per 8 rows of X. Work is split as
//
//   block  b   : weight rows n0 = 16 b .. n0 + 15
//   warp   w   : K slice [w K / splitK, (w + 1) K / splitK)   (split-K)
//   lane   l   : g = l / 4 picks rows n0 + g and n0 + g + 8,
//                t = l % 4 picks 16 contiguous bytes of each in a K step
//
// so one K step of a warp reads 16 rows × 64 bytes of W with one 16-byte
// load per row and thread (128 K values of INT4, 64 of INT8). Each 32-bit
// word is dequantized in registers (KernelBuilder.h: OR into a magic
// exponent, subtract; no conversions), giving code pairs (i, i + C/2);
// the matching X values are loaded 8 or 4 at a time and shuffled into the
// same order, so the fragments of A and B agree on which K each register
// lane holds. With groups of a K step or more, a step lies inside one
// group, so its mma.sync partial sums are scaled once in f32:
//
//   acc += s[n, group] * (Σ_k (q[n, k] − offset) x[m, k])
//
// (smaller groups, prescaled(): each thread's 16 bytes lie in one group,
// whose scale multiplies the dequantized pairs in the half type before the
// product).
//
// (with zero points, q[n, k] − z[n, group]: the dequantization subtracts
// the group's MAGIC + offset + z instead of a constant).
//
// At the end the warps' accumulators meet in shared memory and the block
// writes Y[m, n0 .. n0 + 15].
//
//===----------------------------------------------------------------------===//

#include "WeightOnlyGemv.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

/// Static shared memory a block may use without opting in to more.
static constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;

std::string mlir::qopt::gpu_kernels::getWeightOnlyKernelName(
    const WeightOnlyGemvConfig &c, StringRef family) {
  auto typeName = [](Type t) {
    std::string s;
    llvm::raw_string_ostream os(s);
    t.print(os);
    return s;
  };
  std::string scale = c.scaleShape.empty()
                          ? std::string("t")
                          : llvm::formatv("{0}x{1}", c.blockN, c.blockK).str();
  std::string codes =
      c.format.fp8
          ? std::string(isa<Float8E4M3FNType>(c.format.fp8) ? "e4m3" : "e5m2")
          : llvm::formatv("{0}{1}", c.format.isSigned ? "i" : "u",
                          c.format.bits)
                .str();
  return llvm::formatv("qopt_{0}_{1}_{2}_{3}_m{4}n{5}k{6}_s{7}{8}", family,
                       codes,
                       typeName(c.format.halfType), typeName(c.outType), c.m,
                       c.n, c.k, scale, c.zeroPoints ? "z" : "")
      .str();
}

std::string WeightOnlyGemvConfig::kernelName() const {
  std::string name = getWeightOnlyKernelName(*this, "gemv") +
                     llvm::formatv("_sk{0}st{1}", splitK, stages).str();
  if (prefetch > 1)
    name += llvm::formatv("pf{0}", prefetch).str();
  if (rowTiles > 1)
    name += llvm::formatv("r{0}", rowTiles).str();
  return name + getWeightReadSuffix(*this);
}

std::string mlir::qopt::gpu_kernels::getWeightReadSuffix(
    const WeightOnlyGemvConfig &c) {
  return std::string(c.streamingLoads ? "s" : "") +
         (c.tiledWeights ? "_tw" : "");
}

WeightReader::WeightReader(KernelBuilder &kb, Value w, int64_t rows,
                           int64_t rowBytes, bool tiled, bool streaming)
    : kb(kb), w(w), streaming(streaming) {
  if (!tiled)
    return;
  const int64_t stepBytes = WeightOnlyGemvConfig::kStepBytes;
  const int64_t steps = rowBytes / stepBytes;
  OpBuilder &b = kb.builder();
  tiles = memref::ReinterpretCastOp::create(
      b, kb.location(),
      MemRefType::get({rows / 16, steps, 16, stepBytes}, b.getI8Type()), w,
      /*offset=*/0, ArrayRef<int64_t>{rows / 16, steps, 16, stepBytes},
      ArrayRef<int64_t>{steps * 16 * stepBytes, 16 * stepBytes, stepBytes,
                        1});
}

WeightReader::WeightReader(KernelBuilder &kb, const WeightOnlyGemvConfig &c,
                           Value w)
    : WeightReader(kb, w, c.n,
                   c.k / c.kPerWarpStep() * WeightOnlyGemvConfig::kStepBytes,
                   c.tiledWeights, c.streamingLoads) {}

Value WeightReader::load(Value row, Value byte, Value rowTile, Value step,
                         Value rowInTile, Value t) {
  SmallVector<Value> at =
      tiles ? SmallVector<Value>{rowTile, step, rowInTile, kb.mul(t, 16)}
            : SmallVector<Value>{row, byte};
  Value buffer = tiles ? tiles : w;
  if (streaming)
    return kb.loadStreaming16(buffer, at);
  return vector::BitCastOp::create(
      kb.builder(), kb.location(),
      VectorType::get({4}, kb.builder().getI32Type()),
      kb.loadVector(buffer, at, 16, 16));
}

SmallVector<Value> mlir::qopt::gpu_kernels::getScaleIndices(
    KernelBuilder &kb, const WeightOnlyGemvConfig &c, Value row,
    Value kStart) {
  if (c.scaleShape.empty())
    return {};
  return {c.blockN == 1 ? row : kb.index(0), kb.div(kStart, c.blockK)};
}

SmallVector<Value>
mlir::qopt::gpu_kernels::getCodeScales(KernelBuilder &kb,
                                       const CodeFormat &format,
                                       ArrayRef<Value> scales) {
  SmallVector<Value> result(scales);
  // FP8 codes were dequantized divided by fp8Factor(): a power of two, so
  // multiplying the scale by it is exact.
  if (format.fp8Factor() == 1.0)
    return result;
  OpBuilder &b = kb.builder();
  Value factor = arith::ConstantOp::create(
      b, kb.location(), b.getF32FloatAttr(format.fp8Factor()));
  for (Value &scale : result)
    scale = arith::MulFOp::create(b, kb.location(), scale, factor);
  return result;
}

StepScales mlir::qopt::gpu_kernels::getStepScales(
    KernelBuilder &kb, const WeightOnlyGemvConfig &c,
    ArrayRef<Value> rowScales, ArrayRef<Value> rowZeros) {
  StepScales s;
  for (Value z : rowZeros)
    s.zeroBiases.push_back(getZeroBias(kb, c.format, z));
  OpBuilder &b = kb.builder();
  SmallVector<Value> scales = getCodeScales(kb, c.format, rowScales);
  s.afterProduct = scales;
  if (!c.prescaled())
    return s;
  for (Value scale : scales)
    s.beforeProduct.push_back(arith::TruncFOp::create(
        b, kb.location(), c.format.halfType, scale));
  s.afterProduct.assign(
      rowScales.size(),
      arith::ConstantOp::create(b, kb.location(), b.getF32FloatAttr(1.0)));
  return s;
}

std::string mlir::qopt::gpu_kernels::checkWeightOnlyOperands(
    const WeightOnlyGemvConfig &c) {
  if (c.format.bits != 4 && c.format.bits != 8)
    return "weight codes of other than 4 or 8 bits";
  if (!c.format.halfType.isF16() && !c.format.halfType.isBF16())
    return "activations of other than f16 or bf16";
  if (c.format.fp8 && !c.format.halfType.isF16())
    return "FP8 weight codes with bf16 activations (FP8 codes become f16 "
           "values by moving bits; only f16 activations)";
  if (!c.format.fp8 && !c.format.isExact())
    return "8-bit weight codes with bf16 activations (bf16 cannot hold the "
           "dequantization constant plus a byte exactly)";
  if (c.n % 16 != 0)
    return llvm::formatv("N = {0} is not a multiple of 16", c.n).str();
  if (c.k % c.kPerWarpStep() != 0)
    return llvm::formatv("K = {0} is not a multiple of {1}", c.k,
                         c.kPerWarpStep())
        .str();
  // Groups along K: multiples of a warp's K step, or (scaled before the
  // product) a multiple of one thread's chunk that divides the step.
  if (!c.scaleShape.empty() && c.blockK % c.kPerWarpStep() != 0 &&
      (c.kPerWarpStep() % c.blockK != 0 || c.blockK % c.kPerThread() != 0))
    return llvm::formatv("scale groups of {0} along K (the kernels take {1}, "
                         "{2} or multiples of {3})",
                         c.blockK, c.kPerThread(), 2 * c.kPerThread(),
                         c.kPerWarpStep())
        .str();
  if (!c.scaleShape.empty() && c.blockN != 1 && c.blockN != c.n)
    return llvm::formatv("scale blocks of {0} rows (per row or per tensor "
                         "only)",
                         c.blockN)
        .str();
  return "";
}

std::string
mlir::qopt::gpu_kernels::checkWeightOnlyGemv(const WeightOnlyGemvConfig &c) {
  if (c.m < 1 || c.m > 16)
    return llvm::formatv("{0} rows of input (the GEMV kernel takes 1 to 16)",
                         c.m)
        .str();
  std::string why = checkWeightOnlyOperands(c);
  if (!why.empty())
    return why;
  int64_t steps = c.k / c.kPerWarpStep();
  if (c.splitK < 1 || steps % c.splitK != 0)
    return llvm::formatv("split-K {0} does not divide the {1} K steps",
                         c.splitK, steps)
        .str();
  if (c.stages < 1)
    return llvm::formatv("{0} pipeline stages (at least 1)", c.stages).str();
  if (c.prefetch < 1 || c.prefetch > steps / c.splitK)
    return llvm::formatv("prefetch of {0} steps (1 to the {1} K steps of a "
                         "warp)",
                         c.prefetch, steps / c.splitK)
        .str();
  if (c.stages > 1 && (c.prefetch > 1 || c.tiledWeights ||
                       c.streamingLoads || c.rowTiles > 1))
    return "register prefetch, several row tiles or tiled weights with a "
           "cp.async pipeline (stages > 1)";
  if (c.rowTiles < 1 || c.n % (16 * c.rowTiles) != 0)
    return llvm::formatv("{0} row tiles a warp (N = {1} must be a multiple "
                         "of 16 times them)",
                         c.rowTiles, c.n)
        .str();
  if (c.sharedBytes() > kMaxStaticSharedBytes)
    return llvm::formatv("{0} bytes of shared memory for split-K {1} and {2} "
                         "stages (at most {3})",
                         c.sharedBytes(), c.splitK, c.stages,
                         kMaxStaticSharedBytes)
        .str();
  return "";
}

void mlir::qopt::gpu_kernels::chooseWeightOnlyGemvTiling(
    WeightOnlyGemvConfig &c, int64_t smCount) {
  int64_t steps = c.k / c.kPerWarpStep();
  if (c.splitK == 0) {
    // About 16 warps per SM hide DRAM latency when each has several 16-byte
    // loads in flight; split K across more warps until the grid has them,
    // keeping at least two K steps per warp.
    int64_t wantWarps = 16 * smCount;
    // With two 8-row tiles of X the INT4 kernel takes 75-86 registers a
    // thread, so blocks of 8 warps fit 2-3 to an SM and N = 8192 (512
    // blocks) runs in 1.3-2 waves; blocks of 4 warps fit in one. Measured
    // on an H200 (docs/perf/gpu.md), M = 16, N = K = 8192: 26.0 µs with 4
    // warps against 38.2 with 8; INT8, and INT4 at M <= 8, stay at 8.
    int64_t maxSplitK = c.mTiles() > 1 && c.format.bits == 4 ? 4 : 8;
    c.splitK = 1;
    while (c.splitK < maxSplitK && c.blocks() * c.splitK < wantWarps &&
           steps % (2 * c.splitK) == 0 && steps / (2 * c.splitK) >= 2)
      c.splitK *= 2;
  }
  if (c.stages == 0) {
    // Measured on an H200 (docs/perf/gpu.md): prefetching one step into
    // registers beats a cp.async pipeline through shared memory at M <= 16,
    // where nothing is reused and every shared-memory round trip is
    // overhead.
    c.stages = 1;
  }
  if (c.prefetch == 0)
    c.prefetch = 1;
}

SmallVector<Type> mlir::qopt::gpu_kernels::getWeightOnlyGemvArgumentTypes(
    MLIRContext *ctx, const WeightOnlyGemvConfig &c) {
  Builder b(ctx);
  SmallVector<Type> types = {
      MemRefType::get({c.m, c.k}, c.format.halfType),
      MemRefType::get({c.n, c.k * c.format.bits / 8}, b.getI8Type()),
      MemRefType::get(c.scaleShape, b.getF32Type())};
  if (c.zeroPoints)
    types.push_back(MemRefType::get(c.scaleShape, b.getI32Type()));
  types.push_back(MemRefType::get({c.m, c.n}, c.outType));
  return types;
}

WeightOnlyArguments
mlir::qopt::gpu_kernels::getWeightOnlyArguments(gpu::GPUFuncOp func,
                                               const WeightOnlyGemvConfig &c) {
  // Entry-block arguments: the function's, then its workgroup buffers.
  Block &entry = func.getBody().front();
  return {entry.getArgument(0), entry.getArgument(1), entry.getArgument(2),
          c.zeroPoints ? entry.getArgument(3) : Value(),
          entry.getArgument(func.getNumArguments() - 1)};
}

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildWeightOnlyGemv(OpBuilder &b, Location loc,
                                             const WeightOnlyGemvConfig &c) {
  MLIRContext *ctx = b.getContext();
  const CodeFormat &format = c.format;
  const int64_t wordCodes = format.codesPerWord();
  const int64_t mmaPerWord = wordCodes / 4;
  Type f32 = b.getF32Type();

  // Shared memory for the split-K reduction: [warp][row of the tile][m];
  // with stages > 1 the cp.async pipeline: [warp][stage][row g / g + 8]
  // [lane] slots of 16 weight bytes and of one scale.
  SmallVector<Type> workgroupTypes = {
      getSharedMemRefType({c.splitK, 16 * c.rowTiles, c.mTiles() * 8}, f32)};
  if (c.stages > 1) {
    workgroupTypes.append(
        {getSharedMemRefType({c.splitK, c.stages, 2, 32, 16}, b.getI8Type()),
         getSharedMemRefType({c.splitK, c.stages, 2, 32}, f32)});
    if (c.zeroPoints)
      workgroupTypes.push_back(
          getSharedMemRefType({c.splitK, c.stages, 2, 32}, b.getI32Type()));
  }
  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getWeightOnlyGemvArgumentTypes(ctx, c),
                           workgroupTypes, {c.threads()}, {c.blocks()});
  KernelBuilder kb(b, loc);
  auto [x, w, scale, zero, y] = getWeightOnlyArguments(func, c);
  Value reduce = func.getWorkgroupAttributions().front();

  ThreadIds ids = getThreadIds(kb);
  Value tid = ids.tid, lane = ids.lane, warp = ids.warp, g = ids.g, t = ids.t;
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  const int64_t R = c.rowTiles, mT = c.mTiles();
  Value n0 = kb.mul(bid, 16 * R);
  // Weight rows of the thread: rows g and g + 8 of each of the warp's R
  // 16-row tiles (rowTile 2 rt + r; `rows` is tile 0's).
  SmallVector<Value> rowsOf;
  for (int64_t rt = 0; rt < R; ++rt)
    for (int r = 0; r < 2; ++r)
      rowsOf.push_back(kb.add(kb.add(n0, 16 * rt + 8 * r), g));
  Value rows[2] = {rowsOf[0], rowsOf[1]};

  // Rows of X feeding each 8-wide tile. Rows past M read row 0: they only
  // feed columns of the product that are never stored.
  SmallVector<Value> xRows;
  for (int64_t mt = 0; mt < c.mTiles(); ++mt) {
    Value row = kb.add(g, mt * 8);
    Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                                        kb.index(c.m));
    xRows.push_back(arith::SelectOp::create(b, loc, valid, row, kb.index(0)));
  }

  auto accType = VectorType::get({2, 2}, f32);
  Value accZero =
      arith::ConstantOp::create(b, loc, accType, b.getZeroAttr(accType));

  const int64_t step = c.kPerWarpStep();
  const int64_t steps = c.k / step / c.splitK;
  const int64_t stages = c.stages;
  Value kWarpBegin = kb.mul(warp, c.k / c.splitK);
  Value kThread = kb.mul(t, c.kPerThread());
  Value wStage = stages > 1 ? Value(func.getWorkgroupAttributions()[1]) : Value();
  Value sStage = stages > 1 ? Value(func.getWorkgroupAttributions()[2]) : Value();
  Value zStage = stages > 1 && zero ? Value(func.getWorkgroupAttributions()[3])
                                    : Value();
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);

  // A per-tensor scale (and zero point) is one register for the whole
  // kernel.
  Value tensorScale, tensorZero;
  if (c.scaleShape.empty()) {
    tensorScale = memref::LoadOp::create(b, loc, scale, ValueRange{});
    if (zero)
      tensorZero = memref::LoadOp::create(b, loc, zero, ValueRange{});
  }

  // Starts the copies of step `i` (clamped to the last; `valid` false
  // copies nothing and zero-fills) into stage i % stages: 16 bytes of
  // weight rows g and g + 8 and their scales, each thread into its own
  // slots, so that no thread ever reads what another copied.
  auto issue = [&](Value i, Value valid) {
    Value stage = kb.rem(i, stages);
    Value clamped = arith::MinUIOp::create(b, loc, i, kb.index(steps - 1));
    Value ks = kb.add(kWarpBegin, kb.mul(clamped, step));
    Value byte = kb.div(kb.mul(kb.add(ks, kThread), format.bits), 8);
    for (int r = 0; r < 2; ++r) {
      Value bytes =
          arith::SelectOp::create(b, loc, valid, kb.index(16), kb.index(0));
      nvgpu::DeviceAsyncCopyOp::create(
          b, loc, tokenType, wStage,
          ValueRange{warp, stage, kb.index(r), lane, kb.index(0)}, w,
          ValueRange{rows[r], byte}, b.getIndexAttr(16), bytes,
          /*bypassL1=*/b.getUnitAttr());
      if (tensorScale)
        continue;
      Value one =
          arith::SelectOp::create(b, loc, valid, kb.index(1), kb.index(0));
      nvgpu::DeviceAsyncCopyOp::create(
          b, loc, tokenType, sStage, ValueRange{warp, stage, kb.index(r), lane},
          scale, getScaleIndices(kb, c, rows[r], kb.add(ks, kThread)), b.getIndexAttr(1), one,
          /*bypassL1=*/UnitAttr());
      if (zero)
        nvgpu::DeviceAsyncCopyOp::create(
            b, loc, tokenType, zStage,
            ValueRange{warp, stage, kb.index(r), lane}, zero,
            getScaleIndices(kb, c, rows[r], kb.add(ks, kThread)), b.getIndexAttr(1), one,
            /*bypassL1=*/UnitAttr());
    }
  };

  // One K step of the warp: for each of its R row tiles, dequantize the
  // thread's 16 bytes of rows g and g + 8, multiply with X (loaded and
  // shuffled once for all tiles), scale the step's sums and add them to
  // `acc` ([rt * mTiles + mt]). `weights`, `scales` and `zeros` hold rows
  // g and g + 8 of each tile in turn.
  auto computeStep = [&](SmallVector<Value> acc, Value kFirst,
                         ArrayRef<Value> weights, ArrayRef<Value> scales,
                         ArrayRef<Value> zeros) {
    // Groups smaller than the step: each thread's chunk is one group,
    // scaled before the product.
    SmallVector<StepScales> stepScales;
    for (int64_t rt = 0; rt < R; ++rt)
      stepScales.push_back(getStepScales(
          kb, c, scales.slice(2 * rt, 2),
          zeros.empty() ? ArrayRef<Value>{} : zeros.slice(2 * rt, 2)));
    // Two chains of partial sums (even and odd words), so that consecutive
    // mma.sync ops do not wait for each other.
    SmallVector<Value> parts[2] = {SmallVector<Value>(R * mT, accZero),
                                   SmallVector<Value>(R * mT, accZero)};
    auto weightFragments = [&](int64_t rt, int64_t word) {
      return getWeightFragments(kb, format, weights[2 * rt],
                                weights[2 * rt + 1], word,
                                stepScales[rt].zeroBiases,
                                stepScales[rt].beforeProduct);
    };
    for (int64_t word = 0; word < 4; ++word) {
      SmallVector<Value> &part = parts[word % 2];
      SmallVector<Value> a = weightFragments(0, word);
      Value kWord = kb.add(kFirst, word * wordCodes);
      SmallVector<Value> xs;
      for (int64_t mt = 0; mt < mT; ++mt)
        xs.push_back(
            kb.loadVector(x, {xRows[mt], kWord}, wordCodes, wordCodes * 2));
      // X in the order of the code pairs 2s and 2s + 1 ([s * mT + mt]),
      // made for the first row tile and reused by the others.
      int64_t half = wordCodes / 2;
      SmallVector<Value> bFrags;
      for (int64_t s = 0; s < mmaPerWord; ++s)
        for (int64_t mt = 0; mt < mT; ++mt) {
          bFrags.push_back(getActivationFragment(
              kb, kb.shuffle(xs[mt], {2 * s, 2 * s + half, 2 * s + 1,
                                      2 * s + 1 + half})));
          part[mt] = mmaSync16816(kb, a[s], bFrags.back(), part[mt]);
        }
      for (int64_t rt = 1; rt < R; ++rt) {
        a = weightFragments(rt, word);
        for (int64_t s = 0; s < mmaPerWord; ++s)
          for (int64_t mt = 0; mt < mT; ++mt)
            part[rt * mT + mt] = mmaSync16816(kb, a[s], bFrags[s * mT + mt],
                                              part[rt * mT + mt]);
      }
    }
    for (int64_t rt = 0; rt < R; ++rt)
      for (int64_t mt = 0; mt < mT; ++mt) {
        int64_t i = rt * mT + mt;
        acc[i] = scaleAndAccumulate(kb, acc[i], {parts[0][i], parts[1][i]},
                                    stepScales[rt].afterProduct);
      }
    return acc;
  };
  auto stepFirstK = [&](Value i) {
    return kb.add(kb.add(kWarpBegin, kb.mul(i, step)), kThread);
  };

  scf::ForOp loop;
  if (stages == 1) {
    // Registers: step i computes on loads issued `prefetch` steps earlier
    // while the loads of step i + prefetch are in flight. A step's values:
    // rows g and g + 8 of weights, of scales, then of zero points.
    const int64_t depth = c.prefetch;
    WeightReader weights(kb, c, w);
    auto loadStep = [&](Value i) {
      Value byte = kb.div(kb.mul(stepFirstK(i), format.bits), 8);
      Value ks = kb.add(kWarpBegin, kb.mul(i, step));
      SmallVector<Value> values;
      for (int64_t rt = 0; rt < R; ++rt)
        for (int r = 0; r < 2; ++r)
          values.push_back(weights.load(
              rowsOf[2 * rt + r], byte, kb.add(kb.mul(bid, R), rt),
              kb.div(ks, step), kb.add(g, 8 * r), t));
      for (Value operand : {scale, zero}) {
        if (!operand)
          continue;
        Value tensorWide = operand == scale ? tensorScale : tensorZero;
        for (Value row : rowsOf)
          values.push_back(tensorWide
                               ? tensorWide
                               : Value(memref::LoadOp::create(
                                     b, loc, operand,
                                     getScaleIndices(kb, c, row,
                                                     kb.add(ks, kThread)))));
      }
      return values;
    };
    SmallVector<Value> init(R * mT, accZero);
    for (int64_t i = 0; i < depth; ++i)
      llvm::append_range(init, loadStep(kb.index(i)));
    const int64_t perStep = (int64_t(init.size()) - R * mT) / depth;
    loop = scf::ForOp::create(
        b, loc, kb.index(0), kb.index(steps), kb.index(1), init,
        [&](OpBuilder &, Location, Value iv, ValueRange iterArgs) {
          ValueRange ahead = iterArgs.drop_front(R * mT);
          SmallVector<Value> current =
              llvm::to_vector(ahead.take_front(perStep));
          Value next = kb.add(iv, depth);
          SmallVector<Value> prefetched =
              loadIf(kb,
                     arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           next, kb.index(steps)),
                     ValueRange(current).getTypes(),
                     [&] { return loadStep(next); });
          // current: weights, scales, then zero points, 2 R of each.
          ArrayRef<Value> values(current);
          SmallVector<Value> yields = computeStep(
              llvm::to_vector(iterArgs.take_front(R * mT)), stepFirstK(iv),
              values.slice(0, 2 * R), values.slice(2 * R, 2 * R),
              zero ? values.slice(4 * R, 2 * R) : ArrayRef<Value>{});
          llvm::append_range(yields, ahead.drop_front(perStep));
          llvm::append_range(yields, prefetched);
          scf::YieldOp::create(b, loc, yields);
        });
  } else {
    // Shared memory: stages - 1 steps of cp.async copies in flight; each
    // thread reads only its own copies, so no barriers.
    loop = buildPipelinedLoop(
        kb, steps, stages, /*blockShared=*/false,
        SmallVector<Value>(c.mTiles(), accZero), issue,
        [&](Value iv, Value stage, ValueRange carried) {
          Value weights[2], scales[2], zeros[2];
          for (int r = 0; r < 2; ++r) {
            if (zero)
              zeros[r] = tensorZero
                             ? tensorZero
                             : Value(memref::LoadOp::create(
                                   b, loc, zStage,
                                   ValueRange{warp, stage, kb.index(r), lane}));
            weights[r] = vector::BitCastOp::create(
                b, loc, VectorType::get({4}, b.getI32Type()),
                kb.loadVector(wStage,
                              {warp, stage, kb.index(r), lane, kb.index(0)},
                              16, 16));
            scales[r] = tensorScale
                            ? tensorScale
                            : Value(memref::LoadOp::create(
                                  b, loc, sStage,
                                  ValueRange{warp, stage, kb.index(r), lane}));
          }
          return computeStep(llvm::to_vector(carried), stepFirstK(iv),
                             weights, scales,
                             zero ? ArrayRef<Value>(zeros) : ArrayRef<Value>{});
        });
  }

  // Split-K: each warp leaves its 16 R x 8·mTiles partial sums in shared
  // memory; the block adds them and writes Y.
  Value col = kb.mul(t, 2);
  for (int64_t rt = 0; rt < R; ++rt)
    for (int64_t mt = 0; mt < mT; ++mt) {
      Value tile = loop.getResult(rt * mT + mt);
      for (int r = 0; r < 2; ++r) {
        Value v = vector::ExtractOp::create(b, loc, tile, int64_t(r));
        vector::StoreOp::create(
            b, loc, v, reduce,
            ValueRange{warp, kb.add(g, 16 * rt + 8 * r), kb.add(col, mt * 8)});
      }
    }
  gpu::BarrierOp::create(b, loc);
  scf::ForOp::create(
      b, loc, tid, kb.index(16 * R * c.m), kb.index(c.threads()),
      ValueRange{}, [&](OpBuilder &, Location, Value idx, ValueRange) {
        Value nl = kb.rem(idx, 16 * R), m = kb.div(idx, 16 * R);
        Value sum = memref::LoadOp::create(b, loc, reduce,
                                           ValueRange{kb.index(0), nl, m});
        for (int64_t wi = 1; wi < c.splitK; ++wi)
          sum = arith::AddFOp::create(
              b, loc, sum,
              memref::LoadOp::create(b, loc, reduce,
                                     ValueRange{kb.index(wi), nl, m}));
        if (c.outType != f32)
          sum = arith::TruncFOp::create(b, loc, c.outType, sum);
        memref::StoreOp::create(b, loc, sum, y, ValueRange{m, kb.add(n0, nl)});
        scf::YieldOp::create(b, loc);
      });
  gpu::ReturnOp::create(b, loc);
  return func;
}
