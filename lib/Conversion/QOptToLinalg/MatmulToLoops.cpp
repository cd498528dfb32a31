//===- MatmulToLoops.cpp - qopt.matmul as loops that dequantize in place --===//
//
//   for n0 in [0, N) step 4:              4 output channels (weight rows;
//     for r0 in [0, rows) step 4:         then the remainder one at a time)
//       acc[0..3][0..3] = 0               4 rows of X (then the remainder
//       for g in [0, K / bk):             one at a time); scale groups
//         p[0..3][0..3] = 0               along K
//         for t in [0, bk / per_step):    codes of the group, 1 or 2 a step
//           v[j] = code(n0 + j, k) - z    (decoded once, in registers)
//           p[i][j] += x[r0 + i, k] * v[j]
//         acc[i][j] += s[(n0 + j) / bn, g] * p[i][j]
//       y[r0 + i, n0 + j] = acc[i][j]
//
// Each code is decoded once per tile of rows and each X value loaded once
// per tile of channels: the X rows, larger than L1 at a few rows of a
// model's K, stream from L2 once for 4 channels. A static count of fewer
// than 4 rows (the decode case) takes one channel at a time: there X is in
// L1 and the loop streams the weight.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "../ScalarCodecs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTMATMULTOLOOPS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::detail;

namespace {

/// X [rows, K] with each group of `group` columns reordered as its even
/// columns, then its odd ones: [rows, K/group, group/2, 2] transposed to
/// [rows, K/group, 2, group/2].
Value splitNibbleOrder(OpBuilder &b, Location loc, Value x, int64_t k,
                       int64_t group) {
  auto type = cast<RankedTensorType>(x.getType());
  OpFoldResult rows = tensor::getMixedSizes(b, loc, x)[0];
  SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2, 3}};
  Value split = tensor::ExpandShapeOp::create(
      b, loc,
      RankedTensorType::get({type.getDimSize(0), k / group, group / 2, 2},
                            type.getElementType()),
      x, reassociation,
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(k / group),
                             b.getIndexAttr(group / 2), b.getIndexAttr(2)});
  Value init = tensor::EmptyOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{rows, b.getIndexAttr(k / group),
                             b.getIndexAttr(2), b.getIndexAttr(group / 2)},
      type.getElementType());
  Value swapped = linalg::TransposeOp::create(b, loc, split, init,
                                              ArrayRef<int64_t>{0, 1, 3, 2})
                      .getResult()[0];
  return tensor::CollapseShapeOp::create(b, loc, swapped, reassociation);
}

/// The low and high 4-bit codes of packed bytes: `bytes` holds one byte a
/// value (an integer, or a vector of them, of 8 bits or wider, sign- or
/// zero-extended as `isSigned`); the codes come back in the same type.
std::pair<Value, Value> splitNibbles(OpBuilder &b, Location loc, Value bytes,
                                     bool isSigned) {
  Type type = bytes.getType();
  int64_t width = getElementTypeOrSelf(type).getIntOrFloatBitWidth();
  auto constant = [&](int64_t v) {
    return createScalarOrSplatConstant(b, loc, type, v);
  };
  if (isSigned)
    return {arith::ShRSIOp::create(
                b, loc,
                arith::ShLIOp::create(b, loc, bytes, constant(width - 4)),
                constant(width - 4)),
            arith::ShRSIOp::create(b, loc, bytes, constant(4))};
  return {arith::AndIOp::create(b, loc, bytes, constant(0x0F)),
          arith::ShRUIOp::create(b, loc, bytes, constant(4))};
}

/// `count` consecutive indices from `base`.
SmallVector<Value> offsets(OpBuilder &b, Location l, Value base,
                           int64_t count) {
  SmallVector<Value> values = {base};
  for (int64_t i = 1; i < count; ++i)
    values.push_back(arith::AddIOp::create(
        b, l, base, arith::ConstantIndexOp::create(b, l, i)));
  return values;
}

/// [..., C] as [rows, C] for an operand of rank `rank` (rank 1 becomes
/// [1, C]).
Value asRows(OpBuilder &b, Location loc, Value v, int64_t rank) {
  auto t = cast<RankedTensorType>(v.getType());
  if (rank == 1)
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, t.getDimSize(0)}, t.getElementType()),
        v, ArrayRef<ReassociationIndices>{{0, 1}});
  if (rank == 2)
    return v;
  ReassociationIndices outer;
  for (int64_t i = 0; i + 1 < rank; ++i)
    outer.push_back(i);
  return tensor::CollapseShapeOp::create(
      b, loc, v, ArrayRef<ReassociationIndices>{outer, {rank - 1}});
}

/// The lowering of one qopt.matmul: its operands as [rows, K] tensors and
/// the facts about its storage every loop needs, then one method a level
/// of the loop nest in the file comment (channels, rows, a tile, the sums
/// over K of a tile in scalar or vector form).
class MatmulLowering {
public:
  /// Vector sums hold this many lanes (16 bytes of 8-bit codes a load).
  static constexpr int64_t kLanes = 16;
  /// Register tile: rows of X by output channels.
  static constexpr int64_t kRowTile = 4, kChanTile = 4;

  MatmulLowering(MatmulOp op, PatternRewriter &rewriter, int64_t bn,
                 int64_t bk);

  /// The result, in the op's type.
  Value lower();

private:
  Value index(OpBuilder &b, Location l, int64_t v) const {
    return arith::ConstantIndexOp::create(b, l, v);
  }
  /// Channels [begin, end) in tiles of `step`, all rows each.
  Value emitChannels(Value init, int64_t begin, int64_t end, int64_t step);
  /// Rows in tiles of kRowTile, then one at a time, for channels from n0.
  Value emitRows(OpBuilder &b, Location l, Value n0, int64_t chanTile,
                 Value out);
  /// y[r0 + i, n0 + j] for i < rowTile, j < chanTile, inserted into `out`.
  Value emitTile(OpBuilder &b, Location l, Value n0, int64_t chanTile, Value r0,
                 int64_t rowTile, Value out);

  /// What the sums of a tile need: its rows and channels, the scale rows of
  /// the channels and the input zero point of each row (i32).
  struct Tile {
    SmallVector<Value> rows, chans, scaleRows, rowZero;
  };
  /// The scale (accType) of each channel of the tile in scale group `g`,
  /// and with zero points their values (accType) in `z`.
  void emitGroupParams(OpBuilder &b, Location l, const Tile &tile, Value g,
                       SmallVector<Value> &s, SmallVector<Value> &z) const;
  /// A scale group of a tile: its index, scales and zero points (see
  /// emitGroupParams), and its first column of X and element of the weight
  /// row.
  struct Group {
    SmallVector<Value> s, z;
    Value kBase, wBase;
  };
  using StepFn = function_ref<SmallVector<Value>(
      OpBuilder &, Location, const Group &, Value step, ValueRange parts)>;
  using FinishFn =
      function_ref<SmallVector<Value>(OpBuilder &, Location, const Group &,
                                      ValueRange partials, ValueRange accs)>;
  /// The two loops every form of the sums shares: over the scale groups,
  /// carrying one value a sum from `accInit`, and in each group over steps
  /// [0, extent) by `stride`, carrying partial sums from `partInit`.
  /// `step` updates the partial sums at one step; `finish` folds a group's
  /// partial sums into the carried values. Returns the final ones.
  SmallVector<Value> emitGroupLoops(OpBuilder &b, Location l, const Tile &tile,
                                    Value accInit, Value partInit,
                                    int64_t extent, int64_t stride, StepFn step,
                                    FinishFn finish) const;
  /// sums[i * chanTile + j] += X[row i, col .. col + kLanes) * w[j], lane
  /// by lane, for the tile's rows (X read from `xs`).
  void addTileProducts(OpBuilder &b, Location l, const Tile &tile, Value xs,
                       Value col, ArrayRef<Value> w,
                       MutableArrayRef<Value> sums) const;
  /// The tile's sums over all of K, row i and channel j at
  /// i * chanTile + j: scalar loops (LLVM vectorises them group by group)
  /// or explicit vector loops.
  SmallVector<Value> emitScalarSums(OpBuilder &b, Location l,
                                    const Tile &tile) const;
  SmallVector<Value> emitVectorSums(OpBuilder &b, Location l,
                                    const Tile &tile) const;
  /// A group's exact i32 sum of code products times its scale, in accType.
  /// The product is formed in f32 at least: an f16 accumulator would
  /// overflow on the sum alone (above 65504) where the scaled value fits.
  Value scaleIntegerSum(OpBuilder &b, Location l, Value sum,
                        Value scale) const {
    Emitter e{b, l};
    Type wide = accType.getIntOrFloatBitWidth() < 32 ? b.getF32Type() : accType;
    Value product =
        arith::MulFOp::create(b, l, e.castFloat(scale, wide),
                              arith::SIToFPOp::create(b, l, wide, sum), fm);
    return e.castFloat(product, accType);
  }
  /// X's codes less their zero point, as f32 [rows, K] (a linalg.generic).
  Value emitCentredCodes();
  /// The integer-input (W8A8) form of the vector loops: exact sums of
  /// code products in f32 lanes, an i32 reduction a group.
  SmallVector<Value> emitIntVectorSums(OpBuilder &b, Location l,
                                       const Tile &tile) const;
  /// The values (accType, zero point `z` removed) of one weight element
  /// `code` (signless): one value, or a packed byte's low and high codes.
  SmallVector<Value> decodeScalar(OpBuilder &b, Location l, Value code,
                                  Value z) const;
  /// The same for kLanes weight elements read as a vector, in f32.
  SmallVector<Value> decodeVector(OpBuilder &b, Location l, Value codes,
                                  Value z) const;
  /// kLanes elements of row `row` of `t` from column `col`; floats narrower
  /// than f32 are extended to it.
  Value readVector(OpBuilder &b, Location l, Value t, Value row,
                   Value col) const;

  MatmulOp op;
  PatternRewriter &rewriter;
  Location loc;
  int64_t rank, n, k;
  // Scale blocks: bn channels, bk elements of K; groups along K, and steps
  // of a group (a step is a byte: two codes when packed).
  int64_t bn, bk, groups, steps;
  bool packed, perTensorScale;
  StorageInfo info;
  Type storage, accType, resultElement, xElement;
  // The weight operands; X in [rows, K] (split-nibble order when packed),
  // its row count, and the quantized-input operands in [rows, 1] form where
  // per row.
  Value weight, scale, zeroPoint, x, rowCount, inputScale, inputZeroPoint;
  OpFoldResult rowSize; // rowCount, an attribute where static
  Value tiledRows;      // rowCount rounded down to whole row tiles
  Value xLanes;         // X for the W8A8 vector loops (emitCentredCodes)
  bool intInput, vectorLoop, intVectorLoop;
  arith::FastMathFlagsAttr fm;
};

MatmulLowering::MatmulLowering(MatmulOp op, PatternRewriter &rewriter,
                               int64_t bn, int64_t bk)
    : op(op), rewriter(rewriter), loc(op.getLoc()),
      rank(op.getInput().getType().getRank()), n(op.getN()), k(op.getK()),
      bn(bn), bk(bk), packed(op.getPacked().has_value()),
      perTensorScale(op.getScale().getType().getRank() == 0),
      info(*getStorageInfo(op.getWeightStorageType())),
      storage(op.getWeightStorageType()), accType(op.getAccType()),
      resultElement(op.getType().getElementType()),
      xElement(op.getInput().getType().getElementType()),
      weight(op.getWeight()), scale(op.getScale()),
      zeroPoint(op.getZeroPoint()) {
  // (The verifier guarantees packed groups of whole bytes: bk is even.)
  groups = k / bk;
  steps = packed ? bk / 2 : bk;
  x = asRows(rewriter, loc, op.getInput(), rank);
  // Packed codes: a byte holds codes 2j (low nibble) and 2j + 1 (high).
  // X is reordered once per call into split-nibble order, each scale
  // group's columns as their even ones then their odd ones, so that the
  // bytes of a group meet consecutive X values for their low and for
  // their high nibbles (no interleaved loads of X in the vectorised
  // loop). Integer inputs (W8A8) have no packed weights.
  if (packed)
    x = splitNibbleOrder(rewriter, loc, x, k, bk);
  // Quantized inputs: codes times a per-tensor or per-row scale.
  inputScale = op.getInputScale();
  if (inputScale && cast<RankedTensorType>(inputScale.getType()).getRank() > 0)
    inputScale = asRows(rewriter, loc, inputScale, rank);
  intInput = inputScale && isa<IntegerType>(xElement);
  inputZeroPoint = op.getInputZeroPoint();
  if (inputZeroPoint &&
      cast<RankedTensorType>(inputZeroPoint.getType()).getRank() > 0)
    inputZeroPoint = asRows(rewriter, loc, inputZeroPoint, rank);
  rowSize = tensor::getMixedSizes(rewriter, loc, x)[0];
  rowCount = getValueOrCreateConstantIndexOp(rewriter, loc, rowSize);
  // The rows in whole tiles of kRowTile; the rest go one at a time.
  tiledRows = arith::MulIOp::create(
      rewriter, loc,
      arith::DivUIOp::create(rewriter, loc, rowCount,
                             index(rewriter, loc, kRowTile)),
      index(rewriter, loc, kRowTile));
  // Reassociation lets LLVM vectorise the reductions; contraction lets it
  // fuse multiply-adds.
  fm = arith::FastMathFlagsAttr::get(rewriter.getContext(),
                                     arith::FastMathFlags::reassoc |
                                         arith::FastMathFlags::contract);
  // The vector loops take float activations with f32 sums, each scale
  // group's codes in whole vectors of kLanes bytes: packed INT4 (signed or
  // unsigned nibbles), and 8-bit codes (i8, ui8 with zero points, FP8) in
  // several groups along K. With one group (per-channel scales) integer
  // codes have one reduction a row and channel either way, and LLVM's own
  // vectorisation of the scalar loops was as fast or faster; FP8 codes,
  // whose decoding LLVM does not vectorise, take the vector loops there
  // too (docs/perf/cpu.md).
  // (Unpacked 4-bit codes, a byte each in memory, and f64 activations
  // keep the scalar loops.)
  vectorLoop = !inputScale && isa<FloatType>(xElement) &&
               xElement.getIntOrFloatBitWidth() <= 32 && accType.isF32() &&
               steps % kLanes == 0 && (packed || info.bitWidth == 8) &&
               (packed || groups > 1 || info.isFloat);
  // W8A8 sums code products exactly. In f32 lanes they stay exact while
  // every partial sum is an integer below 2^24: a lane adds bk / kLanes
  // products of at most 255 * 128 (activation codes less their zero point,
  // i8 weights), so groups of up to 8224 codes; their i32 sum then scales
  // as in the scalar loops. In tiles of 4 x 4 sums they beat the i32
  // multiply-adds LLVM vectorises the scalar loops with (1.3x at M = 16);
  // with fewer than kRowTile rows (decode: one sum, one chain of dependent
  // FMAs) the scalar loops are faster (docs/perf/cpu.md).
  constexpr int64_t kMaxProduct = 255 * 128;
  std::optional<int64_t> staticRows = getConstantIntValue(rowSize);
  intVectorLoop = intInput && bk % kLanes == 0 &&
                  bk / kLanes * kMaxProduct < (int64_t(1) << 24) &&
                  !(staticRows && *staticRows < kRowTile);
  // Those loops read X as f32 values of its codes less their zero point,
  // converted once per call (exact: at most 9 bits).
  if (intVectorLoop)
    xLanes = emitCentredCodes();
}

Value MatmulLowering::emitCentredCodes() {
  MLIRContext *ctx = rewriter.getContext();
  Type f32 = rewriter.getF32Type();
  bool isSigned = !xElement.isUnsignedInteger();
  auto identity = AffineMap::getMultiDimIdentityMap(2, ctx);
  Value init = tensor::EmptyOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rowSize, rewriter.getIndexAttr(k)},
      f32);
  // The codes and the zero point are read in the body (tensor.extract),
  // not passed as inputs: linalg's folding of a splat constant input into
  // the body would make an arith.constant of an unsigned type (ui8
  // activations), which is invalid (and tensor.bitcast to i8 does not
  // bufferize).
  return linalg::GenericOp::create(
             rewriter, loc, init.getType(), ValueRange{}, ValueRange{init},
             ArrayRef<AffineMap>{identity},
             {utils::IteratorType::parallel, utils::IteratorType::parallel},
             [&](OpBuilder &b, Location l, ValueRange args) {
               Emitter e{b, l};
               Value row = linalg::IndexOp::create(b, l, 0);
               Value col = linalg::IndexOp::create(b, l, 1);
               Value v = e.extendInt(e.toSignless(tensor::ExtractOp::create(
                                         b, l, x, ValueRange{row, col})),
                                     32, isSigned);
               if (inputZeroPoint) {
                 SmallVector<Value> idx;
                 if (cast<RankedTensorType>(inputZeroPoint.getType())
                         .getRank() > 0)
                   idx = {row, arith::ConstantIndexOp::create(b, l, 0)};
                 Value z = e.toSignless(
                     tensor::ExtractOp::create(b, l, inputZeroPoint, idx));
                 v = arith::SubIOp::create(b, l, v,
                                           e.extendInt(z, 32, isSigned));
               }
               linalg::YieldOp::create(
                   b, l, arith::SIToFPOp::create(b, l, f32, v).getResult());
             })
      .getResult(0);
}

Value MatmulLowering::lower() {
  Value init = tensor::EmptyOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rowSize, rewriter.getIndexAttr(n)},
      resultElement);
  // Output channels in tiles of kChanTile where there are several rows (X
  // loaded once for them), then the remainder one at a time. A static
  // count of fewer than kRowTile rows (the decode case) takes one channel
  // at a time: there X is in L1 and the loop streams the weight.
  std::optional<int64_t> staticRows = getConstantIntValue(rowSize);
  int64_t chanTile = staticRows && *staticRows < kRowTile ? 1 : kChanTile;
  int64_t tiledChans = n / chanTile * chanTile;
  Value result = emitChannels(init, 0, tiledChans, chanTile);
  if (tiledChans < n)
    result = emitChannels(result, tiledChans, n, 1);

  // Restore the batch dimensions.
  if (rank == 1)
    return tensor::CollapseShapeOp::create(
        rewriter, loc, result, ArrayRef<ReassociationIndices>{{0, 1}});
  if (rank == 2)
    return result;
  ReassociationIndices outer;
  for (int64_t i = 0; i + 1 < rank; ++i)
    outer.push_back(i);
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(rewriter, loc, op.getInput());
  sizes.back() = rewriter.getIndexAttr(n);
  return tensor::ExpandShapeOp::create(
      rewriter, loc, op.getType(), result,
      ArrayRef<ReassociationIndices>{outer, {rank - 1}}, sizes);
}

Value MatmulLowering::emitChannels(Value init, int64_t begin, int64_t end,
                                   int64_t step) {
  return scf::ForOp::create(
             rewriter, loc, index(rewriter, loc, begin),
             index(rewriter, loc, end), index(rewriter, loc, step),
             ValueRange{init},
             [&](OpBuilder &b, Location l, Value n0, ValueRange out) {
               scf::YieldOp::create(b, l, emitRows(b, l, n0, step, out[0]));
             })
      .getResult(0);
}

Value MatmulLowering::emitRows(OpBuilder &b, Location l, Value n0,
                               int64_t chanTile, Value out) {
  auto tiles = scf::ForOp::create(
      b, l, index(b, l, 0), tiledRows, index(b, l, kRowTile), ValueRange{out},
      [&](OpBuilder &b, Location l, Value r0, ValueRange carried) {
        scf::YieldOp::create(
            b, l, emitTile(b, l, n0, chanTile, r0, kRowTile, carried[0]));
      });
  auto rest = scf::ForOp::create(
      b, l, tiledRows, rowCount, index(b, l, 1), tiles.getResults(),
      [&](OpBuilder &b, Location l, Value r, ValueRange carried) {
        scf::YieldOp::create(b, l,
                             emitTile(b, l, n0, chanTile, r, 1, carried[0]));
      });
  return rest.getResult(0);
}

Value MatmulLowering::emitTile(OpBuilder &b, Location l, Value n0,
                               int64_t chanTile, Value r0, int64_t rowTile,
                               Value out) {
  Emitter e{b, l};
  Tile tile;
  tile.rows = offsets(b, l, r0, rowTile);
  tile.chans = offsets(b, l, n0, chanTile);
  for (Value nIv : tile.chans)
    tile.scaleRows.push_back(
        arith::DivUIOp::create(b, l, nIv, index(b, l, bn)));
  // The input zero point of each row (i32), for asymmetric activations in
  // the scalar loops (the W8A8 vector loops read X already centred).
  if (inputZeroPoint && !intVectorLoop) {
    bool perRow =
        cast<RankedTensorType>(inputZeroPoint.getType()).getRank() > 0;
    for (Value row : tile.rows) {
      SmallVector<Value> idx;
      if (perRow)
        idx = {row, index(b, l, 0)};
      Value z =
          e.toSignless(tensor::ExtractOp::create(b, l, inputZeroPoint, idx));
      tile.rowZero.push_back(e.extendInt(z, 32, !xElement.isUnsignedInteger()));
    }
  }
  SmallVector<Value> totals = vectorLoop      ? emitVectorSums(b, l, tile)
                              : intVectorLoop ? emitIntVectorSums(b, l, tile)
                                              : emitScalarSums(b, l, tile);
  for (auto [i, row] : llvm::enumerate(tile.rows)) {
    Value sx;
    if (inputScale) {
      SmallVector<Value> idx;
      if (cast<RankedTensorType>(inputScale.getType()).getRank() > 0)
        idx = {row, index(b, l, 0)};
      sx = e.castFloat(tensor::ExtractOp::create(b, l, inputScale, idx),
                       accType);
    }
    for (auto [j, chan] : llvm::enumerate(tile.chans)) {
      Value y = totals[i * chanTile + j];
      if (sx)
        y = arith::MulFOp::create(b, l, y, sx, fm);
      out = tensor::InsertOp::create(b, l, e.castFloat(y, resultElement), out,
                                     ValueRange{row, chan});
    }
  }
  return out;
}

void MatmulLowering::emitGroupParams(OpBuilder &b, Location l, const Tile &tile,
                                     Value g, SmallVector<Value> &s,
                                     SmallVector<Value> &z) const {
  Emitter e{b, l};
  s.assign(tile.chans.size(), Value());
  z.assign(tile.chans.size(), Value());
  for (auto [j, scaleRow] : llvm::enumerate(tile.scaleRows)) {
    SmallVector<Value> idx;
    if (!perTensorScale)
      idx = {scaleRow, g};
    s[j] = e.castFloat(tensor::ExtractOp::create(b, l, scale, idx), accType);
    if (zeroPoint) {
      Value zi = e.toSignless(tensor::ExtractOp::create(b, l, zeroPoint, idx));
      z[j] = arith::SIToFPOp::create(b, l, accType,
                                     e.extendInt(zi, 32, info.isSigned));
    }
  }
}

SmallVector<Value> MatmulLowering::decodeScalar(OpBuilder &b, Location l,
                                                Value code, Value z) const {
  Emitter e{b, l};
  SmallVector<Value> values;
  if (packed) {
    auto [lo, hi] = splitNibbles(b, l, code, info.isSigned);
    for (Value c : {lo, hi})
      values.push_back(arith::SIToFPOp::create(b, l, accType, c));
  } else if (info.isFloat) {
    values.push_back(
        e.castFloat(emitDecodeFP8(e, code, FP8Layout::get(storage)), accType));
  } else {
    values.push_back(arith::SIToFPOp::create(
        b, l, accType, e.extendInt(code, 32, info.isSigned)));
  }
  if (z)
    for (Value &v : values)
      v = arith::SubFOp::create(b, l, v, z, fm);
  return values;
}

SmallVector<Value> MatmulLowering::decodeVector(OpBuilder &b, Location l,
                                                Value codes, Value z) const {
  auto i32Vector = VectorType::get({kLanes}, b.getI32Type());
  auto f32Vector = VectorType::get({kLanes}, b.getF32Type());
  codes = Emitter{b, l}.toSignless(codes);
  SmallVector<Value> values;
  if (info.isFloat) {
    Emitter e{b, l};
    values.push_back(emitDecodeFP8(e, codes, FP8Layout::get(storage)));
  } else {
    // Widened to i32 first: the nibbles come out with i32 shifts (x86 has
    // no byte shifts).
    Value wide = info.isSigned
                     ? Value(arith::ExtSIOp::create(b, l, i32Vector, codes))
                     : Value(arith::ExtUIOp::create(b, l, i32Vector, codes));
    SmallVector<Value> ints = {wide};
    if (packed) {
      auto [lo, hi] = splitNibbles(b, l, wide, info.isSigned);
      ints = {lo, hi};
    }
    for (Value c : ints)
      values.push_back(arith::SIToFPOp::create(b, l, f32Vector, c));
  }
  if (z) {
    Value zv = vector::BroadcastOp::create(b, l, f32Vector, z);
    for (Value &v : values)
      v = arith::SubFOp::create(b, l, v, zv, fm);
  }
  return values;
}

Value MatmulLowering::readVector(OpBuilder &b, Location l, Value t, Value row,
                                 Value col) const {
  Type element = cast<RankedTensorType>(t.getType()).getElementType();
  // The padding is never read (the reads are in bounds), but it must have
  // the element type: an unsigned zero is a cast of a signless one.
  Type signless = element.isUnsignedInteger()
                      ? b.getIntegerType(element.getIntOrFloatBitWidth())
                      : element;
  Value pad = Emitter{b, l}.fromSignless(
      arith::ConstantOp::create(b, l, b.getZeroAttr(signless)), element);
  Value v = vector::TransferReadOp::create(
      b, l, VectorType::get({kLanes}, element), t, ValueRange{row, col}, pad,
      ArrayRef<bool>{true});
  if (!isa<FloatType>(element) || element.isF32() ||
      element.getIntOrFloatBitWidth() == 8) // FP8 codes: decoded later
    return v;
  return arith::ExtFOp::create(b, l, VectorType::get({kLanes}, b.getF32Type()),
                               v);
}

SmallVector<Value> MatmulLowering::emitGroupLoops(
    OpBuilder &b, Location l, const Tile &tile, Value accInit, Value partInit,
    int64_t extent, int64_t stride, StepFn step, FinishFn finish) const {
  const int64_t sums = tile.rows.size() * tile.chans.size();
  auto gLoop = scf::ForOp::create(
      b, l, index(b, l, 0), index(b, l, groups), index(b, l, 1),
      SmallVector<Value>(sums, accInit),
      [&](OpBuilder &b, Location l, Value g, ValueRange accs) {
        Group group;
        emitGroupParams(b, l, tile, g, group.s, group.z);
        group.kBase = arith::MulIOp::create(b, l, g, index(b, l, bk));
        group.wBase = arith::MulIOp::create(b, l, g, index(b, l, steps));
        auto tLoop = scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, extent), index(b, l, stride),
            SmallVector<Value>(sums, partInit),
            [&](OpBuilder &b, Location l, Value t, ValueRange parts) {
              scf::YieldOp::create(b, l, step(b, l, group, t, parts));
            });
        scf::YieldOp::create(b, l,
                             finish(b, l, group, tLoop.getResults(), accs));
      });
  return SmallVector<Value>(gLoop.getResults());
}

void MatmulLowering::addTileProducts(OpBuilder &b, Location l, const Tile &tile,
                                     Value xs, Value col, ArrayRef<Value> w,
                                     MutableArrayRef<Value> sums) const {
  for (auto [i, row] : llvm::enumerate(tile.rows)) {
    Value xv = readVector(b, l, xs, row, col);
    for (auto [j, wj] : llvm::enumerate(w)) {
      Value &sum = sums[i * w.size() + j];
      sum = vector::FMAOp::create(b, l, xv, wj, sum);
    }
  }
}

SmallVector<Value> MatmulLowering::emitVectorSums(OpBuilder &b, Location l,
                                                  const Tile &tile) const {
  // Each (row, channel) keeps vector<kLanes x f32> sums across the groups
  // (a group's sums times its scale, added lane by lane) and reduces them
  // once at the end, where the scalar loops, which LLVM vectorises group by
  // group, reduce across lanes once a group.
  const int64_t chanTile = tile.chans.size();
  auto f32Vector = VectorType::get({kLanes}, b.getF32Type());
  Value zeroVector = arith::ConstantOp::create(
      b, l, DenseElementsAttr::get(f32Vector, b.getF32FloatAttr(0)));
  auto step = [&](OpBuilder &b, Location l, const Group &group, Value t0,
                  ValueRange parts) {
    // Channel j's values of these bytes: values[j][0] from the low nibbles
    // (or the bytes), values[j][1] the high.
    Value wIdx = arith::AddIOp::create(b, l, group.wBase, t0);
    SmallVector<SmallVector<Value>> values;
    for (auto [chan, zj] : llvm::zip_equal(tile.chans, group.z))
      values.push_back(
          decodeVector(b, l, readVector(b, l, weight, chan, wIdx), zj));
    // Byte t meets X column t of the group, and its high nibble column
    // bk / 2 + t (split-nibble order).
    SmallVector<Value> cols = {arith::AddIOp::create(b, l, group.kBase, t0)};
    if (packed)
      cols.push_back(arith::AddIOp::create(b, l, cols[0], index(b, l, bk / 2)));
    SmallVector<Value> updated(parts.begin(), parts.end());
    for (auto [v, col] : llvm::enumerate(cols))
      addTileProducts(
          b, l, tile, x, col,
          llvm::map_to_vector(values, [&](ArrayRef<Value> w) { return w[v]; }),
          updated);
    return updated;
  };
  auto finish = [&](OpBuilder &b, Location l, const Group &group,
                    ValueRange partials, ValueRange accs) {
    SmallVector<Value> scales;
    for (Value scale : group.s)
      scales.push_back(vector::BroadcastOp::create(b, l, f32Vector, scale));
    SmallVector<Value> next;
    for (auto [i, partial] : llvm::enumerate(partials))
      next.push_back(
          vector::FMAOp::create(b, l, scales[i % chanTile], partial, accs[i]));
    return next;
  };
  SmallVector<Value> totals;
  for (Value acc : emitGroupLoops(b, l, tile, zeroVector, zeroVector, steps,
                                  kLanes, step, finish))
    totals.push_back(vector::ReductionOp::create(
        b, l, vector::CombiningKind::ADD, acc, Value(),
        arith::FastMathFlags::reassoc | arith::FastMathFlags::contract));
  return totals;
}

SmallVector<Value> MatmulLowering::emitIntVectorSums(OpBuilder &b, Location l,
                                                     const Tile &tile) const {
  const int64_t chanTile = tile.chans.size();
  auto i32Vector = VectorType::get({kLanes}, b.getI32Type());
  auto f32Vector = VectorType::get({kLanes}, b.getF32Type());
  Value zeroVector = arith::ConstantOp::create(
      b, l, DenseElementsAttr::get(f32Vector, b.getF32FloatAttr(0)));
  auto step = [&](OpBuilder &b, Location l, const Group &group, Value t0,
                  ValueRange parts) {
    Value col = arith::AddIOp::create(b, l, group.kBase, t0);
    // i8 weight codes as f32 lanes (exact).
    SmallVector<Value> w;
    for (Value chan : tile.chans)
      w.push_back(arith::SIToFPOp::create(
          b, l, f32Vector,
          arith::ExtSIOp::create(b, l, i32Vector,
                                 readVector(b, l, weight, chan, col))));
    SmallVector<Value> updated(parts.begin(), parts.end());
    addTileProducts(b, l, tile, xLanes, col, w, updated);
    return updated;
  };
  // Each lane holds an exact integer: its i32 sum is the group's exact
  // sum, scaled as in the scalar loops.
  auto finish = [&](OpBuilder &b, Location l, const Group &group,
                    ValueRange partials, ValueRange accs) {
    SmallVector<Value> next;
    for (auto [i, partial] : llvm::enumerate(partials)) {
      Value lanes = arith::FPToSIOp::create(b, l, i32Vector, partial);
      Value total =
          vector::ReductionOp::create(b, l, vector::CombiningKind::ADD, lanes);
      next.push_back(arith::AddFOp::create(
          b, l, accs[i], scaleIntegerSum(b, l, total, group.s[i % chanTile]),
          fm));
    }
    return next;
  };
  Value zeroAcc = arith::ConstantOp::create(b, l, FloatAttr::get(accType, 0));
  // (Unpacked codes: a group's steps are its bk columns.)
  return emitGroupLoops(b, l, tile, zeroAcc, zeroVector, bk, kLanes, step,
                        finish);
}

SmallVector<Value> MatmulLowering::emitScalarSums(OpBuilder &b, Location l,
                                                  const Tile &tile) const {
  const int64_t chanTile = tile.chans.size();
  Value zeroAcc = arith::ConstantOp::create(b, l, FloatAttr::get(accType, 0));
  // W8A8 sums products of codes exactly in i32 within a scale group.
  Value zeroPartial =
      intInput ? Value(arith::ConstantOp::create(b, l, b.getI32IntegerAttr(0)))
               : zeroAcc;
  auto step = [&](OpBuilder &b, Location l, const Group &group, Value t,
                  ValueRange parts) {
    Emitter e{b, l};
    Value wIdx = arith::AddIOp::create(b, l, group.wBase, t);
    // The codes of the step, channel j's value v at values[j][v].
    SmallVector<SmallVector<Value>> values;
    for (auto [chan, zj] : llvm::zip_equal(tile.chans, group.z)) {
      Value code = e.toSignless(
          tensor::ExtractOp::create(b, l, weight, ValueRange{chan, wIdx}));
      values.push_back(intInput ? SmallVector<Value>{arith::ExtSIOp::create(
                                      b, l, b.getI32Type(), code)}
                                : decodeScalar(b, l, code, zj));
    }
    // Code t of the group meets X column t; with packed codes, byte t's low
    // and high codes meet columns t and bk / 2 + t of X in split-nibble
    // order.
    SmallVector<Value> cols = {arith::AddIOp::create(b, l, group.kBase, t)};
    if (packed)
      cols.push_back(arith::AddIOp::create(b, l, cols[0], index(b, l, bk / 2)));
    SmallVector<Value> updated(parts.begin(), parts.end());
    for (auto [v, col] : llvm::enumerate(cols)) {
      for (auto [i, row] : llvm::enumerate(tile.rows)) {
        Value xv = tensor::ExtractOp::create(b, l, x, ValueRange{row, col});
        if (intInput) {
          xv = e.extendInt(e.toSignless(xv), 32, !xElement.isUnsignedInteger());
          if (!tile.rowZero.empty())
            xv = arith::SubIOp::create(b, l, xv, tile.rowZero[i]);
        } else {
          if (inputScale) // FP8 codes
            xv = emitDecodeFP8(e, e.toSignless(xv), FP8Layout::get(xElement));
          xv = e.castFloat(xv, accType);
        }
        for (int64_t j = 0; j < chanTile; ++j) {
          Value &sum = updated[i * chanTile + j];
          sum =
              intInput
                  ? Value(arith::AddIOp::create(
                        b, l, sum,
                        arith::MulIOp::create(b, l, xv, values[j][v])))
                  : Value(arith::AddFOp::create(
                        b, l, sum,
                        arith::MulFOp::create(b, l, xv, values[j][v], fm), fm));
        }
      }
    }
    return updated;
  };
  auto finish = [&](OpBuilder &b, Location l, const Group &group,
                    ValueRange partials, ValueRange accs) {
    SmallVector<Value> next;
    for (auto [i, partial] : llvm::enumerate(partials)) {
      Value s = group.s[i % chanTile];
      Value scaled = intInput
                         ? scaleIntegerSum(b, l, partial, s)
                         : Value(arith::MulFOp::create(b, l, s, partial, fm));
      next.push_back(arith::AddFOp::create(b, l, accs[i], scaled, fm));
    }
    return next;
  };
  return emitGroupLoops(b, l, tile, zeroAcc, zeroPartial, steps, 1, step,
                        finish);
}

struct MatmulToLoops : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (ShapedType::isDynamic(op.getN()) || ShapedType::isDynamic(op.getK()))
      return rewriter.notifyMatchFailure(op, "dynamic weight shape");
    auto blocks = getBlockSizes({op.getN(), op.getK()},
                                op.getScale().getType().getShape(), nullptr);
    if (failed(blocks))
      return failure();
    MatmulLowering lowering(op, rewriter, (*blocks)[0], (*blocks)[1]);
    rewriter.replaceOp(op, lowering.lower());
    return success();
  }
};

struct ConvertQOptMatmulToLoopsPass
    : qopt::impl::ConvertQOptMatmulToLoopsBase<ConvertQOptMatmulToLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQOptMatmulToLoopsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult result = getOperation()->walk([](MatmulOp op) {
      op->emitError("cannot lower qopt.matmul: the weight shape must be "
                    "static");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::qopt::populateQOptMatmulToLoopsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatmulToLoops>(patterns.getContext());
}
