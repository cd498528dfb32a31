//===- Int8Gemm.cpp - Tiled tensor-core GEMM for INT8 x INT8 (W8A8) -------===//
//
// Y = sx · sw · (Xq · Wqᵀ), both operands K-contiguous ("TN"), tiled as
//
//   block (bn, bm)  : outputs [128 bm, +128) × [128 bn, +128)
//   warp  (wm, wn)  : 2 × 4 warps, each 64 rows × 32 columns of the block
//   K loop          : 64 bytes a step; the next step's tiles of Xq and Wq
//                     (128 × 64 bytes each) are copied to shared memory with
//                     cp.async (16 bytes a thread and copy, 2 stages) while
//                     the current one computes
//   per 32 of K     : ldmatrix.x4 brings each warp its A fragments (4 row
//                     tiles of 16) and B fragments (4 column tiles of 8),
//                     then 16 mma.sync.m16n8k32.row.col.s32.s8.s8.s32
//                     (FP8: .f32.e4m3|e5m2.e4m3|e5m2.f32, the same fragment
//                     layouts; sm_89 and later)
//
// INT8 accumulation is exact in i32, converted once in the epilogue; FP8
// accumulates in f32. Asymmetric activations (ui8, or i8 with a zero
// point) subtract zx[m] · Σ_k Wq[n, k] from the i32 sums first (u8 x s8
// mma for ui8 codes). The epilogue multiplies by sx[m] · sw[n] in f32 and
// stores Y in its element type.
//
//===----------------------------------------------------------------------===//

#include "Int8Gemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

using C = Int8GemmConfig;

/// The PTX name of an 8-bit operand type.
static StringRef getPtxTypeName(Type t) {
  if (t.isInteger(8))
    return "s8";
  return isa<Float8E4M3FNType>(t) ? "e4m3" : "e5m2";
}

std::string Int8GemmConfig::kernelName() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  outType.print(os);
  std::string operands =
      xUnsigned ? std::string("u8s8") : getPtxTypeName(xType).str();
  if (xZeroPoint)
    operands += "z";
  if (wType != xType)
    operands += getPtxTypeName(wType).str();
  std::string name =
      llvm::formatv("qopt_{7}_{6}_{0}_m{1}n{2}k{3}_sx{4}_sw{5}", out, m, n, k,
                    xScaleShape.empty() ? "t" : "r",
                    wScaleShape.empty() || wScaleShape[0] == 1 ? "t" : "r",
                    operands, gemv ? "gemv" : "gemm")
          .str();
  if (gemv)
    name += llvm::formatv("_sk{0}u{1}{2}{3}", gemvSplitK, gemvUnroll,
                          streamingLoads ? "s" : "", tiledWeights ? "_tw" : "")
                .str();
  if (isWgmma())
    name += llvm::formatv("_wg{0}s{1}{2}{3}{4}", wgmmaBlockN, wgmmaStages,
                          wgmmaTma ? "_tma" : "", wgmmaPersistent ? "_p" : "",
                          wgmmaCluster > 1
                              ? llvm::formatv("_c{0}", wgmmaCluster).str()
                              : "")
                .str();
  return name;
}

/// D = A·B + C with mma.sync.m16n8k32 as inline PTX, for the operand
/// types nvgpu.mma.sync cannot name (signless i8 means s8 there): FP8
/// (f32 accumulators; nvvm.mma.sync takes no FP8 in LLVM 22 either) and
/// u8 x s8 (s32). `a` vector<4x4xi8>, `b` vector<2x4xi8> (the bytes of the
/// codes), `c` vector<2x2xf32|i32>, in the register order of the fragments.
/// The GEMM's A is Xq and its B Wq; the GEMV's the other way round.
static Value mmaSyncAsm(KernelBuilder &kb, const Int8GemmConfig &c, Value a,
                        Value b, Value acc) {
  OpBuilder &builder = kb.builder();
  Type i32 = builder.getI32Type();
  Type accType = c.isFP8() ? builder.getF32Type() : i32;
  StringRef accPtx = c.isFP8() ? "f32" : "s32";
  StringRef accConstraint = c.isFP8() ? "f" : "r";
  SmallVector<Value> operands = getFragmentWords(kb, a);
  llvm::append_range(operands, getFragmentWords(kb, b));
  llvm::append_range(operands, getAccumulatorElements(kb, acc));
  auto resultType = LLVM::LLVMStructType::getLiteral(
      builder.getContext(), SmallVector<Type>(4, accType));
  StringRef xPtx = c.xUnsigned ? "u8" : getPtxTypeName(c.xType);
  StringRef wPtx = getPtxTypeName(c.wType);
  StringRef aPtx = c.gemv ? wPtx : xPtx, bPtx = c.gemv ? xPtx : wPtx;
  std::string ptx = ("mma.sync.aligned.m16n8k32.row.col." + accPtx + "." +
                     aPtx + "." + bPtx + "." + accPtx +
                     " {$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
                     "{$10, $11, $12, $13};")
                        .str();
  std::string constraints = llvm::formatv(
      "={0},={0},={0},={0},r,r,r,r,r,r,{0},{0},{0},{0}", accConstraint);
  Value d = kb.inlinePtx(resultType, operands, ptx, constraints);
  return getAccumulatorFragment(kb, d, accType);
}

Value mlir::qopt::gpu_kernels::int8MmaSync(KernelBuilder &kb,
                                           const Int8GemmConfig &c, Value a,
                                           Value b, Value acc) {
  if (c.isFP8() || c.xUnsigned)
    return mmaSyncAsm(kb, c, a, b, acc);
  return nvgpu::MmaSyncOp::create(kb.builder(), kb.location(), a, b, acc,
                                  ArrayRef<int64_t>{16, 8, 32});
}

std::string mlir::qopt::gpu_kernels::checkInt8Gemm(const Int8GemmConfig &c) {
  if (c.m < 1)
    return "0 rows of input";
  if (c.gemv) {
    const int64_t steps = c.k / C::kGemvStepBytes;
    if (c.m > C::kGemvMaxM || c.n % 16 != 0 || c.k % C::kGemvStepBytes != 0 ||
        c.gemvSplitK < 1 || c.gemvUnroll < 1 ||
        steps % (c.gemvSplitK * c.gemvUnroll) != 0)
      return llvm::formatv("a {0} x {1} x {2} 8-bit product on the GEMV "
                           "(M up to 16, N a multiple of 16, K of 64, split "
                           "{3} x unroll {4} dividing the K steps)",
                           c.m, c.n, c.k, c.gemvSplitK, c.gemvUnroll)
          .str();
    return "";
  }
  if (c.n % c.blockN() != 0 || c.k % c.blockK() != 0)
    return llvm::formatv("a {0} x {1} x {2} 8-bit product (the {3} kernel "
                         "needs N a multiple of {4}, K of {5})",
                         c.m, c.n, c.k, c.isWgmma() ? "wgmma" : "mma.sync",
                         c.blockN(), c.blockK())
        .str();
  // FP8 keeps a step's accumulators and the f32 sums in registers: at
  // most 128 columns.
  if (c.isWgmma() && c.isFP8() && c.wgmmaBlockN > 128)
    return llvm::formatv("FP8 on a wgmma tile of {0} columns (at most 128)",
                         c.wgmmaBlockN)
        .str();
  if (c.wgmmaPersistent && (!c.isWgmma() || !c.wgmmaTma))
    return "a persistent GEMM other than wgmma's with TMA";
  if (c.wgmmaCluster != 1 &&
      (c.wgmmaCluster != 2 || !c.isWgmma() || !c.wgmmaTma))
    return llvm::formatv("clusters of {0} blocks (2, on the TMA kernel)",
                         c.wgmmaCluster)
        .str();
  // A cluster's two blocks are consecutive block ids, tiles 2i and 2i + 1
  // of getGroupedTileOrigin's order: the same column tile when the groups
  // of row tiles are even.
  if (c.wgmmaCluster == 2 && (c.blocksM() % 2 != 0 || c.blocksN() % 2 != 0))
    return llvm::formatv("clusters of two blocks for a {0} x {1} product: "
                         "{2} row and {3} column tiles, not both even",
                         c.m, c.n, c.blocksM(), c.blocksN())
        .str();
  if (c.isWgmma() && (c.wgmmaBlockN % 32 != 0 || c.wgmmaBlockN > 256 ||
                      c.wgmmaStages < 3))
    return llvm::formatv("a wgmma tile of {0} columns and {1} stages (N: a "
                         "multiple of 32 up to 256; at least 3 stages)",
                         c.wgmmaBlockN, c.wgmmaStages)
        .str();
  // The dynamic shared memory of one block on sm_90 (227 KiB).
  if (c.dynamicSharedBytes() > 227 * 1024)
    return llvm::formatv("{0} stages of {1} bytes (more shared memory than "
                         "a block can have)",
                         c.wgmmaStages, c.wgmmaStageBytes())
        .str();
  return "";
}

SmallVector<Type>
mlir::qopt::gpu_kernels::getInt8GemmArgumentTypes(MLIRContext *ctx,
                                                  const Int8GemmConfig &c) {
  Builder b(ctx);
  SmallVector<Type> types = {MemRefType::get({c.m, c.k}, b.getI8Type()),
                             MemRefType::get({c.n, c.k}, b.getI8Type()),
                             MemRefType::get(c.xScaleShape, b.getF32Type()),
                             MemRefType::get(c.wScaleShape, b.getF32Type())};
  if (c.xZeroPoint)
    types.append({MemRefType::get(c.xScaleShape, b.getI8Type()),
                  MemRefType::get({c.n}, b.getI32Type())});
  types.append(c.tensorMaps().size(), b.getI64Type());
  types.push_back(MemRefType::get({c.m, c.n}, c.outType));
  return types;
}

Int8GemmArguments
mlir::qopt::gpu_kernels::getInt8GemmArguments(gpu::GPUFuncOp kernel,
                                              const Int8GemmConfig &c) {
  Block &entry = kernel.getBody().front();
  Int8GemmArguments args;
  args.x = entry.getArgument(0);
  args.w = entry.getArgument(1);
  args.sx = entry.getArgument(2);
  args.sw = entry.getArgument(3);
  args.y = entry.getArgument(kernel.getNumArguments() - 1);
  unsigned next = 4;
  if (c.xZeroPoint) {
    args.zx = entry.getArgument(next++);
    args.wSum = entry.getArgument(next++);
  }
  if (!c.tensorMaps().empty()) {
    args.xMap = entry.getArgument(next++);
    args.wMap = entry.getArgument(next++);
  }
  return args;
}

gpu::GPUFuncOp
mlir::qopt::gpu_kernels::buildInt8Gemm(OpBuilder &b, Location loc,
                                       const Int8GemmConfig &c) {
  if (c.gemv)
    return buildInt8Gemv(b, loc, c);
  if (c.isWgmma())
    return buildInt8GemmWgmma(b, loc, c);
  MLIRContext *ctx = b.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  // [stage][row][byte]: one tile of Xq and one of Wq per stage.
  auto tileType =
      getSharedMemRefType({C::kStages, C::kBlockM, C::kRowBytes}, i8);
  OpBuilder::InsertionGuard guard(b);
  auto func = createKernel(b, loc, c.kernelName(),
                           getInt8GemmArgumentTypes(ctx, c),
                           {tileType, tileType}, {c.threads()},
                           {c.blocksN(), c.blocksM()});
  KernelBuilder kb(b, loc);
  Int8GemmArguments args = getInt8GemmArguments(func, c);
  Value x = args.x, w = args.w;
  Value xTile = func.getWorkgroupAttributions()[0];
  Value wTile = func.getWorkgroupAttributions()[1];

  ThreadIds ids = getThreadIds(kb);
  Value tid = ids.tid, lane = ids.lane, warp = ids.warp, g = ids.g, t = ids.t;
  constexpr int64_t warpRows = C::kBlockM / C::kWarpsM; // 64
  constexpr int64_t warpCols = C::kBlockN / C::kWarpsN; // 32
  constexpr int64_t mTiles = warpRows / 16, nTiles = warpCols / 8;
  TileOrigin origin = getTileOrigin(kb, warp, C::kBlockM, C::kBlockN,
                                    C::kWarpsN, warpRows, warpCols);
  Value m0 = origin.m0, n0 = origin.n0, warpM = origin.warpM,
        warpN = origin.warpN;

  // cp.async of K step `step` into its stage: 128 rows × 64 bytes of each
  // tile, 2 chunks of 16 bytes a thread and tile.
  const int64_t steps = c.k / C::kBlockK;
  auto issue = [&](Value step, Value valid) {
    Value stage = kb.rem(step, C::kStages);
    Value k0 = kb.mul(
        arith::MinUIOp::create(b, loc, step, kb.index(steps - 1)), C::kBlockK);
    // Rows of Xq past M (a partial last row tile) read as zeros.
    copyTileAsync(kb, xTile, stage, x, m0, k0, C::kBlockM, C::kBlockK, 16,
                  tid, c.threads(), valid,
                  c.hasPartialRowTile() ? std::optional<int64_t>(c.m)
                                        : std::nullopt);
    copyTileAsync(kb, wTile, stage, w, n0, k0, C::kBlockM, C::kBlockK, 16,
                  tid, c.threads(), valid);
  };

  auto accType = VectorType::get({2, 2}, c.isFP8() ? f32 : i32);
  Value accZero =
      arith::ConstantOp::create(b, loc, accType, b.getZeroAttr(accType));

  // ldmatrix.x4 addresses: lane l names row l % 8 of matrix l / 8.
  Value matrix = kb.div(lane, 8), matrixRow = kb.rem(lane, 8);
  auto fragType = VectorType::get({4, 4}, i8);
  auto loop = buildPipelinedLoop(
      kb, steps, C::kStages, /*blockShared=*/true,
      SmallVector<Value>(mTiles * nTiles, accZero), issue,
      [&](Value, Value stage, ValueRange carried) {
        SmallVector<Value> acc(carried);
        for (int64_t kk = 0; kk < C::kBlockK; kk += 32) {
          // A: matrices (rows 0-7 | 8-15) × (K 0-15 | 16-31) → a0..a3.
          SmallVector<Value> a;
          for (int64_t mt = 0; mt < mTiles; ++mt)
            a.push_back(loadMatrixA(kb, xTile, stage, lane,
                                    kb.add(warpM, mt * 16), kb.index(kk), 16,
                                    fragType));
          // B: matrices (K 0-15 | 16-31) of columns 0-7, then of 8-15: two
          // column tiles of 8 per ldmatrix.
          SmallVector<Value> bFrags;
          for (int64_t nt = 0; nt < nTiles; nt += 2) {
            Value row = kb.add(kb.add(warpN, nt * 8),
                               kb.add(kb.mul(kb.div(matrix, 2), 8), matrixRow));
            Value col = kb.add(kb.mul(kb.rem(matrix, 2), 16), kb.index(kk));
            Value pair = nvgpu::LdMatrixOp::create(
                b, loc, fragType, wTile, ValueRange{stage, row, col},
                /*transpose=*/false, /*numTiles=*/4);
            for (int64_t h = 0; h < 2; ++h)
              bFrags.push_back(kb.stackRows(
                  {vector::ExtractOp::create(b, loc, pair, 2 * h),
                   vector::ExtractOp::create(b, loc, pair, 2 * h + 1)}));
          }
          for (int64_t mt = 0; mt < mTiles; ++mt)
            for (int64_t nt = 0; nt < nTiles; ++nt)
              acc[mt * nTiles + nt] = int8MmaSync(kb, c, a[mt], bFrags[nt],
                                                  acc[mt * nTiles + nt]);
        }
        return acc;
      });

  storeInt8GemmOutputs(kb, c, args, loop.getResults(), kb.add(m0, warpM),
                       kb.add(n0, warpN), mTiles, nTiles, g, t);
  gpu::ReturnOp::create(b, loc);
  return func;
}

Value mlir::qopt::gpu_kernels::loadInt8GemmScale(KernelBuilder &kb,
                                                 Value scale,
                                                 ArrayRef<int64_t> shape,
                                                 Value index) {
  OpBuilder &b = kb.builder();
  if (shape.empty())
    return memref::LoadOp::create(b, kb.location(), scale, ValueRange{});
  bool perRow = shape[0] != 1;
  return memref::LoadOp::create(
      b, kb.location(), scale,
      ValueRange{perRow ? index : kb.index(0), kb.index(0)});
}

Value mlir::qopt::gpu_kernels::loadInt8GemmZero(KernelBuilder &kb,
                                                const Int8GemmConfig &c,
                                                Value zx, Value index) {
  OpBuilder &b = kb.builder();
  Type i32 = b.getI32Type();
  Value z = loadInt8GemmScale(kb, zx, c.xScaleShape, index);
  return c.xUnsigned ? Value(arith::ExtUIOp::create(b, kb.location(), i32, z))
                     : Value(arith::ExtSIOp::create(b, kb.location(), i32, z));
}

Value mlir::qopt::gpu_kernels::finishInt8Sums(KernelBuilder &kb,
                                              const Int8GemmConfig &c,
                                              Value sums, Value zero,
                                              Value weightSums, Value scales) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // Σ (qx − zx) qw = Σ qx qw − zx Σ qw, exact in i32.
  if (zero)
    sums = arith::SubIOp::create(
        b, loc, sums, arith::MulIOp::create(b, loc, zero, weightSums));
  if (!c.isFP8())
    sums = arith::SIToFPOp::create(b, loc, scales.getType(), sums);
  Value out = arith::MulFOp::create(b, loc, sums, scales);
  if (c.outType.isF32())
    return out;
  Type outType = c.outType;
  if (auto vector = dyn_cast<VectorType>(out.getType()))
    outType = vector.clone(c.outType);
  return arith::TruncFOp::create(b, loc, outType, out);
}

void mlir::qopt::gpu_kernels::storeInt8GemmOutputs(
    KernelBuilder &kb, const Int8GemmConfig &c, const Int8GemmArguments &args,
    ValueRange fragments, Value rowBase, Value colBase, int64_t mTiles,
    int64_t nTiles, Value g, Value t) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  Value sx = args.sx, sw = args.sw, zx = args.zx, wSum = args.wSum,
        y = args.y;
  // Rows g and g + 8 of each 16-row tile, columns 2t and 2t + 1 of each
  // 8-column tile.
  auto pairType = VectorType::get({2}, f32);
  auto i32Pair = VectorType::get({2}, i32);
  SmallVector<Value> columns, columnScales, columnSums;
  for (int64_t nt = 0; nt < nTiles; ++nt) {
    Value n = kb.add(colBase, kb.add(kb.mul(t, 2), nt * 8));
    columns.push_back(n);
    SmallVector<Value> pair;
    for (int e = 0; e < 2; ++e)
      pair.push_back(loadInt8GemmScale(kb, sw, c.wScaleShape, kb.add(n, e)));
    columnScales.push_back(
        vector::FromElementsOp::create(b, loc, pairType, pair));
    if (wSum)
      columnSums.push_back(kb.loadVector(wSum, {n}, 2, 8));
  }
  for (int64_t mt = 0; mt < mTiles; ++mt) {
    for (int r = 0; r < 2; ++r) {
      Value m = kb.add(rowBase, kb.add(g, mt * 16 + r * 8));
      // A partial last row tile: rows past M read row M - 1's scale and
      // zero point and store nothing.
      Value mLoad = m, inside;
      if (c.hasPartialRowTile()) {
        inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, m,
                                       kb.index(c.m));
        mLoad = arith::MinUIOp::create(b, loc, m, kb.index(c.m - 1));
      }
      Value rowScale = vector::BroadcastOp::create(
          b, loc, pairType, loadInt8GemmScale(kb, sx, c.xScaleShape, mLoad));
      // Asymmetric activations: zx of the row.
      Value rowZero;
      if (zx)
        rowZero = vector::BroadcastOp::create(
            b, loc, i32Pair, loadInt8GemmZero(kb, c, zx, mLoad));
      std::optional<OpBuilder::InsertionGuard> rowGuard;
      if (inside) {
        rowGuard.emplace(b);
        auto ifOp = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
        b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      }
      for (int64_t nt = 0; nt < nTiles; ++nt) {
        Value n = columns[nt];
        Value scales =
            arith::MulFOp::create(b, loc, rowScale, columnScales[nt]);
        Value sums = vector::ExtractOp::create(
            b, loc, fragments[mt * nTiles + nt], r);
        Value out = finishInt8Sums(kb, c, sums, rowZero,
                                   rowZero ? columnSums[nt] : Value(), scales);
        // Columns n, n + 1 with n even: aligned to the pair.
        kb.storeVector(out, y, {m, n});
      }
    }
  }
}
