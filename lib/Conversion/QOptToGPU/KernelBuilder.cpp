//===- KernelBuilder.cpp - Shared pieces of the qopt GPU kernel generators ===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qopt::gpu_kernels;

Value KernelBuilder::index(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value KernelBuilder::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, loc, v, 32);
}

Value KernelBuilder::add(Value a, Value c) {
  return arith::AddIOp::create(b, loc, a, c);
}

Value KernelBuilder::mul(Value a, Value c) {
  return arith::MulIOp::create(b, loc, a, c);
}

Value KernelBuilder::div(Value a, Value c) {
  return arith::DivUIOp::create(b, loc, a, c);
}

Value KernelBuilder::rem(Value a, Value c) {
  return arith::RemUIOp::create(b, loc, a, c);
}

Value KernelBuilder::floatSplat(Type elemType, int64_t size, double v) {
  auto type = VectorType::get({size}, elemType);
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(type, b.getFloatAttr(elemType, v)));
}

Value KernelBuilder::loadVector(Value memref, ValueRange indices,
                                int64_t size, int64_t alignment) {
  auto elemType = cast<MemRefType>(memref.getType()).getElementType();
  return vector::LoadOp::create(b, loc, VectorType::get({size}, elemType),
                                memref, indices, /*nontemporal=*/false,
                                llvm::MaybeAlign(alignment));
}

void KernelBuilder::storeVector(Value value, Value memref,
                                ValueRange indices) {
  auto type = cast<VectorType>(value.getType());
  int64_t bytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
  vector::StoreOp::create(b, loc, value, memref, indices,
                          /*nontemporal=*/false, llvm::MaybeAlign(bytes));
}

Value KernelBuilder::inlinePtx(Type resultType, ValueRange operands,
                               StringRef ptx, StringRef constraints) {
  return LLVM::InlineAsmOp::create(
             b, loc, TypeRange{resultType}, operands, ptx, constraints,
             /*has_side_effects=*/false, /*is_align_stack=*/false,
             LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr())
      .getResult(0);
}

Value KernelBuilder::loadStreaming16(Value buffer, ValueRange indices) {
  auto type = cast<MemRefType>(buffer.getType());
  auto [strides, offset] = type.getStridesAndOffset();
  assert(!ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic) &&
         "loadStreaming16 needs static strides");
  Value elems = index(offset);
  for (auto [i, stride] : llvm::zip_equal(indices, strides))
    elems = add(elems, mul(i, stride));
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value address = add(base, mul(elems, type.getElementTypeBitWidth() / 8));
  Type i32 = b.getI32Type();
  auto result = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                 {i32, i32, i32, i32});
  Value words = inlinePtx(
      result,
      ValueRange{
          arith::IndexCastUIOp::create(b, loc, b.getI64Type(), address)},
      "{ .reg .u64 g; cvta.to.global.u64 g, $4; "
      "ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {$0, $1, $2, $3}, [g]; }",
      "=r,=r,=r,=r,l");
  SmallVector<Value> elements;
  for (int64_t i = 0; i < 4; ++i)
    elements.push_back(LLVM::ExtractValueOp::create(b, loc, words, i));
  return vector::FromElementsOp::create(b, loc, VectorType::get({4}, i32),
                                        elements);
}

Value KernelBuilder::shuffle(Value v, ArrayRef<int64_t> positions) {
  return vector::ShuffleOp::create(b, loc, v, v, positions);
}

Value KernelBuilder::stackRows(ArrayRef<Value> rows) {
  auto rowType = cast<VectorType>(rows.front().getType());
  auto type = VectorType::get(
      {int64_t(rows.size()), rowType.getDimSize(0)}, rowType.getElementType());
  Value result = arith::ConstantOp::create(b, loc, type,
                                          b.getZeroAttr(type));
  for (auto [i, row] : llvm::enumerate(rows))
    result = vector::InsertOp::create(b, loc, row, result, int64_t(i));
  return result;
}

double CodeFormat::magicValue() const {
  // The power of two whose mantissa's last bit is worth 1.
  return halfType.isF16() ? 1024.0 : 128.0;
}

double CodeFormat::fp8Factor() const {
  // f16's exponent bias is 15, E4M3's 7, E5M2's 15.
  return fp8 && isa<Float8E4M3FNType>(fp8) ? 256.0 : 1.0;
}

/// FP8 codes at bits 8-15 and 24-31 of `word` (i32) as f16 pairs with
/// integer operations: E5M2 is an f16's top byte; E4M3 keeps its sign
/// and moves exponent and mantissa one bit down (value / 256), which is
/// exact for normal and subnormal codes alike. E4M3FN's NaN codes (0x7F,
/// 0xFF) become +-1.875 (+-480 after the factor), not NaN: quantized
/// weights never hold them (the encoder saturates).
static Value fp8HighBytesToHalves(KernelBuilder &kb, const CodeFormat &format,
                                  Value word) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  Value v;
  if (isa<Float8E5M2Type>(format.fp8)) {
    v = arith::AndIOp::create(b, loc, word, kb.i32(int32_t(0xFF00FF00u)));
  } else {
    Value sign =
        arith::AndIOp::create(b, loc, word, kb.i32(int32_t(0x80008000u)));
    Value rest = arith::ShRUIOp::create(
        b, loc, arith::AndIOp::create(b, loc, word, kb.i32(0x7F007F00)),
        kb.i32(1));
    v = arith::OrIOp::create(b, loc, sign, rest);
  }
  return LLVM::BitcastOp::create(b, loc,
                                 VectorType::get({2}, format.halfType), v);
}

bool CodeFormat::isExact() const {
  // MAGIC + code must stay below the next power of two.
  return (int64_t(1) << bits) <= int64_t(magicValue());
}

/// The bit pattern of MAGIC in the half type.
static uint32_t getMagicBits(const CodeFormat &format) {
  return format.halfType.isF16() ? 0x6400 : 0x4300;
}

/// (word & mask) ^ (MAGIC | the sign bits under mask) as 16-bit floats: one
/// lop3.b32 (ptxas does not merge an AND and an XOR with two immediates),
/// the constants in registers. `word` is an i32.
static Value biasCodes(KernelBuilder &kb, const CodeFormat &format,
                       Value word, uint32_t mask) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  const uint32_t magicBits = getMagicBits(format);
  uint32_t flip = magicBits | (magicBits << 16);
  if (format.isSigned)
    for (unsigned bit = format.bits - 1; bit < 32; bit += format.bits)
      flip |= (1u << bit) & mask;
  Value v = kb.inlinePtx(
      b.getI32Type(),
      ValueRange{word, kb.i32(int32_t(mask)), kb.i32(int32_t(flip))},
      "lop3.b32 $0, $1, $2, $3, 0x6a;", "=r,r,r,r");
  return LLVM::BitcastOp::create(b, loc,
                                 VectorType::get({2}, format.halfType), v);
}

Value mlir::qopt::gpu_kernels::getZeroBias(KernelBuilder &kb,
                                           const CodeFormat &format,
                                           Value zero) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // offset + z lies in [0, 2^bits): below MAGIC's last mantissa bit's reach.
  Value bits = arith::AddIOp::create(
      b, loc, zero,
      kb.i32(int64_t(getMagicBits(format)) + format.offset()));
  return arith::BitcastOp::create(
      b, loc, format.halfType,
      arith::TruncIOp::create(b, loc, b.getI16Type(), bits));
}

/// A `vector<2 x halfType>` of the scalar `v`.
static Value splatPair(KernelBuilder &kb, const CodeFormat &format, Value v) {
  return vector::BroadcastOp::create(
      kb.builder(), kb.location(), VectorType::get({2}, format.halfType), v);
}

Value mlir::qopt::gpu_kernels::dequantizePair(KernelBuilder &kb,
                                              const CodeFormat &format,
                                              Value spread, Value zeroBias) {
  if (format.fp8) { // codes at bits 0 and 16: move them to the high bytes
    assert(!zeroBias && "FP8 codes take no zero point");
    return fp8HighBytesToHalves(
        kb, format,
        arith::ShLIOp::create(kb.builder(), kb.location(), spread, kb.i32(8)));
  }
  uint32_t codeMask = (1u << format.bits) - 1;
  Value biased = biasCodes(kb, format, spread, codeMask | (codeMask << 16));
  Value subtrahend =
      zeroBias ? splatPair(kb, format, zeroBias)
               : kb.floatSplat(format.halfType, 2,
                               format.magicValue() + format.offset());
  return arith::SubFOp::create(kb.builder(), kb.location(), biased,
                               subtrahend);
}

SmallVector<Value>
mlir::qopt::gpu_kernels::dequantizeWord(KernelBuilder &kb,
                                        const CodeFormat &format, Value word,
                                        Value zeroBias) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto wordType = VectorType::get({1}, b.getI32Type());
  auto splat = [&](uint32_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc, wordType,
        DenseElementsAttr::get(wordType, b.getI32IntegerAttr(int32_t(v))));
  };
  if (format.fp8) {
    assert(!zeroBias && "FP8 codes take no zero point");
    // Codes 1 and 3 sit at bits 8-15 and 24-31; codes 0 and 2 after a
    // shift by 8.
    Value w = vector::ExtractOp::create(b, loc, word, int64_t(0));
    return {fp8HighBytesToHalves(kb, format,
                                 arith::ShLIOp::create(b, loc, w, kb.i32(8))),
            fp8HighBytesToHalves(kb, format, w)};
  }
  const uint32_t codeMask = (1u << format.bits) - 1;
  const double offset = format.offset();

  // (word & mask) | MAGIC, with the sign bits of the selected codes flipped
  // (two's complement to offset binary) in the same operation: mask and
  // MAGIC do not overlap, so this is (word & mask) ^ (MAGIC | sign bits).
  auto biased = [&](Value w, uint32_t mask) -> Value {
    return biasCodes(kb, format,
                     vector::ExtractOp::create(b, loc, w, int64_t(0)), mask);
  };
  // What each pair loses: MAGIC + offset, plus the zero point if any.
  Value subtrahend = zeroBias ? splatPair(kb, format, zeroBias)
                              : kb.floatSplat(format.halfType, 2,
                                              format.magicValue() + offset);
  auto minus = [&](Value halves) -> Value {
    return arith::SubFOp::create(b, loc, halves, subtrahend);
  };
  const uint32_t pairMask = codeMask | (codeMask << 16);

  SmallVector<Value> pairs;
  if (format.bits == 4 && format.halfType.isF16()) {
    // f16 has room for a code in bits 4..7 of the mantissa: the odd codes
    // need no shift, one FMA (x / 16 - (64 + offset [+ z])) instead, whose
    // addend is 960 - subtrahend (exact: small integers).
    Value addend =
        zeroBias
            ? arith::SubFOp::create(b, loc,
                                    kb.floatSplat(format.halfType, 2, 960.0),
                                    subtrahend)
                  .getResult()
            : kb.floatSplat(format.halfType, 2, -(64.0 + offset));
    Value high = arith::ShRUIOp::create(b, loc, word, splat(8));
    for (Value w : {word, high}) {
      pairs.push_back(minus(biased(w, pairMask)));
      Value odd = biased(w, pairMask << 4);
      pairs.push_back(vector::FMAOp::create(
          b, loc, odd, kb.floatSplat(format.halfType, 2, 1.0 / 16), addend));
    }
    return pairs;
  }
  for (unsigned i = 0; i < format.codesPerWord() / 2; ++i) {
    Value shifted = i == 0 ? word
                           : Value(arith::ShRUIOp::create(
                                 b, loc, word, splat(i * format.bits)));
    pairs.push_back(minus(biased(shifted, pairMask)));
  }
  return pairs;
}

Value mlir::qopt::gpu_kernels::mmaSync16816(KernelBuilder &kb, Value a,
                                            Value b, Value c) {
  OpBuilder &builder = kb.builder();
  Location loc = kb.location();
  auto halfType = cast<VectorType>(a.getType()).getElementType();
  if (halfType.isF16())
    return nvgpu::MmaSyncOp::create(builder, loc, a, b, c,
                                    ArrayRef<int64_t>{16, 8, 16});

  // bf16: registers are 32-bit words of two values each.
  Type f32 = builder.getF32Type();
  auto resultType = LLVM::LLVMStructType::getLiteral(
      builder.getContext(), SmallVector<Type>(4, f32));
  Value d = NVVM::MmaOp::create(
      builder, loc, resultType, getFragmentWords(kb, a),
      getFragmentWords(kb, b), getAccumulatorElements(kb, c),
      ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  return getAccumulatorFragment(kb, d, f32);
}

SmallVector<Value> mlir::qopt::gpu_kernels::getFragmentWords(KernelBuilder &kb,
                                                             Value fragment) {
  OpBuilder &b = kb.builder();
  int64_t rows = cast<VectorType>(fragment.getType()).getDimSize(0);
  SmallVector<Value> words;
  for (int64_t i = 0; i < rows; ++i)
    words.push_back(LLVM::BitcastOp::create(
        b, kb.location(), b.getI32Type(),
        vector::ExtractOp::create(b, kb.location(), fragment, i)));
  return words;
}

SmallVector<Value>
mlir::qopt::gpu_kernels::getAccumulatorElements(KernelBuilder &kb, Value acc) {
  SmallVector<Value> elems;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      elems.push_back(vector::ExtractOp::create(
          kb.builder(), kb.location(), acc, ArrayRef<int64_t>{i, j}));
  return elems;
}

Value mlir::qopt::gpu_kernels::getAccumulatorFragment(KernelBuilder &kb,
                                                      Value result, Type elem) {
  OpBuilder &b = kb.builder();
  SmallVector<Value> rows;
  for (int64_t i = 0; i < 2; ++i) {
    SmallVector<Value> elems;
    for (int64_t j = 0; j < 2; ++j)
      elems.push_back(
          LLVM::ExtractValueOp::create(b, kb.location(), result, 2 * i + j));
    rows.push_back(vector::FromElementsOp::create(
        b, kb.location(), VectorType::get({2}, elem), elems));
  }
  return kb.stackRows(rows);
}

gpu::GPUFuncOp mlir::qopt::gpu_kernels::createKernel(
    OpBuilder &b, Location loc, StringRef name, TypeRange arguments,
    TypeRange workgroup, ArrayRef<int64_t> block, ArrayRef<int64_t> grid) {
  auto func = gpu::GPUFuncOp::create(b, loc, name,
                                     b.getFunctionType(arguments, {}),
                                     workgroup, TypeRange{});
  auto dims = [&](ArrayRef<int64_t> d) {
    SmallVector<int32_t> v(d.begin(), d.end());
    v.resize(3, 1);
    return b.getDenseI32ArrayAttr(v);
  };
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  // Every kernel writes only its last argument, a buffer of its own (the
  // launch allocates it), and reads the others: noalias and readonly let
  // the backend load them through the read-only data path (ld.global.nc).
  // (Scalars, such as the addresses of TMA tensor maps, take neither.)
  for (unsigned i = 0, e = arguments.size(); i < e; ++i) {
    if (!isa<MemRefType>(arguments[i]))
      continue;
    func.setArgAttr(i, "llvm.noalias", b.getUnitAttr());
    if (i + 1 < e)
      func.setArgAttr(i, "llvm.readonly", b.getUnitAttr());
  }
  func.setKnownBlockSizeAttr(dims(block));
  if (!grid.empty())
    func.setKnownGridSizeAttr(dims(grid));
  b.setInsertionPointToStart(&func.getBody().front());
  return func;
}

MemRefType mlir::qopt::gpu_kernels::getSharedMemRefType(ArrayRef<int64_t> shape,
                                                        Type elem) {
  return MemRefType::get(
      shape, elem, MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(elem.getContext(),
                                 gpu::AddressSpace::Workgroup));
}

ThreadIds mlir::qopt::gpu_kernels::getThreadIds(KernelBuilder &kb) {
  ThreadIds ids;
  ids.tid = gpu::ThreadIdOp::create(kb.builder(), kb.location(),
                                    gpu::Dimension::x);
  ids.lane = kb.rem(ids.tid, 32);
  ids.warp = kb.div(ids.tid, 32);
  ids.g = kb.div(ids.lane, 4);
  ids.t = kb.rem(ids.lane, 4);
  return ids;
}

SmallVector<Value> mlir::qopt::gpu_kernels::getWeightFragments(
    KernelBuilder &kb, const CodeFormat &format, Value rowG, Value rowG8,
    int64_t word, ArrayRef<Value> zeroBiases, ArrayRef<Value> scales) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  std::array<SmallVector<Value>, 2> pairs;
  for (auto [r, words] : llvm::enumerate(std::array<Value, 2>{rowG, rowG8})) {
    Value bits = vector::BroadcastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()),
        vector::ExtractOp::create(b, loc, words, word));
    pairs[r] = dequantizeWord(kb, format, bits,
                              zeroBiases.empty() ? Value() : zeroBiases[r]);
    if (!scales.empty()) {
      Value factor = splatPair(kb, format, scales[r]);
      for (Value &pair : pairs[r])
        pair = arith::MulFOp::create(b, loc, pair, factor);
    }
  }
  SmallVector<Value> fragments;
  for (int64_t s = 0; s < int64_t(format.codesPerWord()) / 4; ++s)
    fragments.push_back(kb.stackRows({pairs[0][2 * s], pairs[1][2 * s],
                                      pairs[0][2 * s + 1],
                                      pairs[1][2 * s + 1]}));
  return fragments;
}

Value mlir::qopt::gpu_kernels::getActivationFragment(KernelBuilder &kb,
                                                     Value fourValues) {
  return kb.stackRows(
      {kb.shuffle(fourValues, {0, 1}), kb.shuffle(fourValues, {2, 3})});
}

Value mlir::qopt::gpu_kernels::scaleAndAccumulate(KernelBuilder &kb, Value acc,
                                                  ArrayRef<Value> parts,
                                                  ArrayRef<Value> rowScales) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto rowType = VectorType::get({2}, b.getF32Type());
  for (auto [r, scale] : llvm::enumerate(rowScales)) {
    // Rows one at a time: n-D vector arithmetic does not lower in kernels.
    Value part = vector::ExtractOp::create(b, loc, parts.front(), int64_t(r));
    for (Value other : parts.drop_front())
      part = arith::AddFOp::create(
          b, loc, part, vector::ExtractOp::create(b, loc, other, int64_t(r)));
    Value factor = vector::BroadcastOp::create(b, loc, rowType, scale);
    Value sum = vector::FMAOp::create(
        b, loc, part, factor,
        vector::ExtractOp::create(b, loc, acc, int64_t(r)));
    acc = vector::InsertOp::create(b, loc, sum, acc, int64_t(r));
  }
  return acc;
}

TileOrigin mlir::qopt::gpu_kernels::getTileOrigin(KernelBuilder &kb, Value warp,
                                                  int64_t blockM,
                                                  int64_t blockN,
                                                  int64_t warpsN,
                                                  int64_t warpRows,
                                                  int64_t warpCols) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  TileOrigin origin;
  origin.m0 =
      kb.mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y), blockM);
  origin.n0 =
      kb.mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x), blockN);
  origin.warpM = kb.mul(kb.div(warp, warpsN), warpRows);
  origin.warpN = kb.mul(kb.rem(warp, warpsN), warpCols);
  return origin;
}

Value mlir::qopt::gpu_kernels::loadMatrixA(KernelBuilder &kb, Value tile,
                                           Value stage, Value lane, Value row0,
                                           Value col0, int64_t colsPerMatrix,
                                           VectorType type) {
  // Lane l names row l % 8 of matrix l / 8.
  Value matrix = kb.div(lane, 8), matrixRow = kb.rem(lane, 8);
  Value row = kb.add(row0, kb.add(kb.mul(kb.rem(matrix, 2), 8), matrixRow));
  Value col = kb.add(col0, kb.mul(kb.div(matrix, 2), colsPerMatrix));
  return nvgpu::LdMatrixOp::create(kb.builder(), kb.location(), type, tile,
                                   ValueRange{stage, row, col},
                                   /*transpose=*/false, /*numTiles=*/4);
}

SmallVector<Value>
mlir::qopt::gpu_kernels::loadIf(KernelBuilder &kb, Value cond, TypeRange like,
                                function_ref<SmallVector<Value>()> load) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto op = scf::IfOp::create(
      b, loc, cond,
      [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, load()); },
      [&](OpBuilder &, Location) {
        SmallVector<Value> none;
        for (Type type : like)
          none.push_back(ub::PoisonOp::create(b, loc, type));
        scf::YieldOp::create(b, loc, none);
      });
  return SmallVector<Value>(op.getResults());
}

void mlir::qopt::gpu_kernels::copyTileAsync(
    KernelBuilder &kb, Value dst, Value stage, Value src, Value row0,
    Value col0, int64_t rows, int64_t rowElems, int64_t chunkElems, Value tid,
    int64_t threads, Value valid, std::optional<int64_t> rowLimit) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  const int64_t chunksPerRow = rowElems / chunkElems;
  const int64_t chunks = rows * chunksPerRow;
  auto copy = [&](Value chunk) {
    Value row = kb.div(chunk, chunksPerRow);
    Value col = kb.mul(kb.rem(chunk, chunksPerRow), chunkElems);
    Value srcRow = kb.add(row0, row);
    Value inside = valid;
    if (rowLimit) {
      inside = arith::AndIOp::create(
          b, loc, valid,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, srcRow,
                                kb.index(*rowLimit)));
      srcRow = arith::MinUIOp::create(b, loc, srcRow, kb.index(*rowLimit - 1));
    }
    Value elems = arith::SelectOp::create(b, loc, inside,
                                          kb.index(chunkElems), kb.index(0));
    nvgpu::DeviceAsyncCopyOp::create(
        b, loc, tokenType, dst, ValueRange{stage, row, col}, src,
        ValueRange{srcRow, kb.add(col0, col)}, b.getIndexAttr(chunkElems),
        elems, /*bypassL1=*/b.getUnitAttr());
  };
  for (int64_t first = 0; first < chunks; first += threads) {
    Value chunk = kb.add(tid, first);
    if (first + threads <= chunks) {
      copy(chunk);
      continue;
    }
    scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, chunk,
                              kb.index(chunks)),
        [&](OpBuilder &, Location) {
          copy(chunk);
          scf::YieldOp::create(b, loc);
        });
  }
}

scf::ForOp mlir::qopt::gpu_kernels::buildPipelinedLoop(
    KernelBuilder &kb, int64_t steps, int64_t stages, bool blockShared,
    ValueRange init, function_ref<void(Value step, Value valid)> issue,
    function_ref<SmallVector<Value>(Value step, Value stage, ValueRange)>
        body) {
  OpBuilder &b = kb.builder();
  Location loc = kb.location();
  // One commit group per step, even an empty one, keeps the wait count
  // uniform. (NVVM's ops: an nvgpu.device_async_create_group of no tokens
  // prints in a form its parser rejects.)
  auto issueStep = [&](Value step) {
    issue(step, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, step,
                                      kb.index(steps)));
    NVVM::CpAsyncCommitGroupOp::create(b, loc);
  };
  for (int64_t i = 0; i + 1 < stages; ++i)
    issueStep(kb.index(i));
  return scf::ForOp::create(
      b, loc, kb.index(0), kb.index(steps), kb.index(1), init,
      [&](OpBuilder &, Location, Value step, ValueRange carried) {
        // Keep the pipeline full, then wait for this step's group: at most
        // stages - 1 newer groups may still be in flight.
        issueStep(kb.add(step, stages - 1));
        NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 1);
        if (blockShared)
          gpu::BarrierOp::create(b, loc);
        SmallVector<Value> results =
            body(step, kb.rem(step, stages), carried);
        // The next step copies into the stage just read.
        if (blockShared)
          gpu::BarrierOp::create(b, loc);
        scf::YieldOp::create(b, loc, results);
      });
}
