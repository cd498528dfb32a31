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

struct MatmulToLoops : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType xType = op.getInput().getType();
    RankedTensorType yType = op.getType();
    int64_t n = op.getN(), k = op.getK();
    if (ShapedType::isDynamic(n) || ShapedType::isDynamic(k))
      return rewriter.notifyMatchFailure(op, "dynamic weight shape");
    auto blocks =
        getBlockSizes({n, k}, op.getScale().getType().getShape(), nullptr);
    if (failed(blocks))
      return failure();
    int64_t bn = (*blocks)[0], bk = (*blocks)[1];
    bool packed = op.getPacked().has_value();
    // (The verifier guarantees packed groups of whole bytes: bk is even.)
    Type storage = op.getWeightStorageType();
    StorageInfo info = *getStorageInfo(storage);
    Type accType = op.getAccType();
    Type resultElement = yType.getElementType();
    int64_t perStep = packed ? 2 : 1;
    int64_t groups = k / bk, steps = bk / perStep;
    bool perTensorScale = op.getScale().getType().getRank() == 0;
    Value zeroPoint = op.getZeroPoint();

    // Collapse X to [rows, K] (rank 1 becomes [1, K]).
    int64_t rank = xType.getRank();
    // [..., C] as [rows, C] (rank 1 becomes [1, C]).
    auto asRows = [&](Value v) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      if (rank == 1)
        return tensor::ExpandShapeOp::create(
            rewriter, loc,
            RankedTensorType::get({1, t.getDimSize(0)}, t.getElementType()), v,
            ArrayRef<ReassociationIndices>{{0, 1}});
      if (rank == 2)
        return v;
      ReassociationIndices outer;
      for (int64_t i = 0; i + 1 < rank; ++i)
        outer.push_back(i);
      return tensor::CollapseShapeOp::create(
          rewriter, loc, v, ArrayRef<ReassociationIndices>{outer, {rank - 1}});
    };
    Value x = asRows(op.getInput());
    // Packed codes: a byte holds codes 2j (low nibble) and 2j + 1 (high).
    // X is reordered once per call into split-nibble order, each scale
    // group's columns as their even ones then their odd ones, so that the
    // bytes of a group meet consecutive X values for their low and for
    // their high nibbles (no interleaved loads of X in the vectorised
    // loop). Integer inputs (W8A8) have no packed weights.
    if (packed)
      x = splitNibbleOrder(rewriter, loc, x, k, bk);
    // Quantized inputs: codes times a per-tensor or per-row scale.
    Value inputScale = op.getInputScale();
    if (inputScale &&
        cast<RankedTensorType>(inputScale.getType()).getRank() > 0)
      inputScale = asRows(inputScale);
    Type xElement = xType.getElementType();
    bool intInput = inputScale && isa<IntegerType>(xElement);
    Value inputZeroPoint = op.getInputZeroPoint();
    if (inputZeroPoint &&
        cast<RankedTensorType>(inputZeroPoint.getType()).getRank() > 0)
      inputZeroPoint = asRows(inputZeroPoint);
    OpFoldResult rowCount = tensor::getMixedSizes(rewriter, loc, x)[0];
    Value rows = getValueOrCreateConstantIndexOp(rewriter, loc, rowCount);
    Value init = tensor::EmptyOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{rowCount, rewriter.getIndexAttr(n)},
        resultElement);

    auto index = [&](OpBuilder &b, Location l, int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, l, v);
    };
    // Reassociation lets LLVM vectorise the reductions; contraction lets
    // it fuse multiply-adds.
    auto fm = arith::FastMathFlagsAttr::get(
        rewriter.getContext(),
        arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
    Value zeroAcc = arith::ConstantOp::create(
        rewriter, loc, FloatAttr::get(accType, 0.0));
    // W8A8 sums products of codes exactly in i32 within a scale group.
    Value zeroPartial =
        intInput ? Value(arith::ConstantOp::create(
                       rewriter, loc, rewriter.getI32IntegerAttr(0)))
                 : zeroAcc;

    // Codes of one step (1 or 2 values) as accType, zero point removed.
    auto decode = [&](OpBuilder &b, Location l, Emitter &e, Value code,
                      Value z) {
      SmallVector<Value> values;
      if (packed) {
        auto [lo, hi] = splitNibbles(b, l, code, info.isSigned);
        for (Value c : {lo, hi})
          values.push_back(arith::SIToFPOp::create(b, l, accType, c));
      } else if (info.isFloat) {
        values.push_back(e.castFloat(
            emitDecodeFP8(e, code, FP8Layout::get(storage)), accType));
      } else {
        values.push_back(arith::SIToFPOp::create(
            b, l, accType, e.extendInt(code, 32, info.isSigned)));
      }
      if (z)
        for (Value &v : values)
          v = arith::SubFOp::create(b, l, v, z, fm);
      return values;
    };

    // The vector form of a tile's loops, where each scale group's codes
    // are whole vectors of kLanes bytes: i8 codes (INT8 in groups, or
    // packed INT4 with signed or unsigned nibbles) and float activations,
    // f32 sums. Each (row, channel) keeps vector<kLanes x f32> sums across
    // the groups (a group's sums times its scale, added lane by lane) and
    // reduces them once at the end, where the scalar loops, which LLVM
    // vectorises group by group, reduce across lanes once a group.
    constexpr int64_t kLanes = 16;
    Type xElementType = cast<RankedTensorType>(x.getType()).getElementType();
    // With one group along K (INT8 per channel) there is one reduction a
    // row and channel either way, and LLVM's own vectorisation of the
    // scalar loops (several sums in flight) was as fast or faster
    // (docs/perf/cpu.md).
    bool vectorLoop = !inputScale && isa<FloatType>(xElementType) &&
                      accType.isF32() && steps % kLanes == 0 &&
                      (packed || (storage.isSignlessInteger(8) && groups > 1));
    using GroupParams =
        function_ref<void(OpBuilder &, Location, Value, SmallVector<Value> &,
                          SmallVector<Value> &)>;
    auto emitVectorSums = [&](OpBuilder &b, Location l, ArrayRef<Value> rowIdx,
                              ArrayRef<Value> chans,
                              GroupParams groupParams) -> SmallVector<Value> {
      const int64_t rowTile = rowIdx.size(), chanTile = chans.size();
      auto f32Vector = VectorType::get({kLanes}, rewriter.getF32Type());
      auto i32Vector = VectorType::get({kLanes}, rewriter.getI32Type());
      auto splat = [&](OpBuilder &b, Location l, Value v, VectorType t) {
        return vector::BroadcastOp::create(b, l, t, v).getResult();
      };
      Value zeroVector = arith::ConstantOp::create(
          b, l, DenseElementsAttr::get(f32Vector, rewriter.getF32FloatAttr(0)));
      // kLanes values of a row of `t` from column `col` (floats as f32).
      auto read = [&](OpBuilder &b, Location l, Value t, Value row, Value col,
                      Type element) -> Value {
        Value pad =
            arith::ConstantOp::create(b, l, element, b.getZeroAttr(element));
        Value v = vector::TransferReadOp::create(
            b, l, VectorType::get({kLanes}, element), t, ValueRange{row, col},
            pad, ArrayRef<bool>{true});
        if (!isa<FloatType>(element) || element.isF32())
          return v;
        return arith::ExtFOp::create(b, l, f32Vector, v);
      };
      const int64_t sums = rowTile * chanTile;
      auto gLoop = scf::ForOp::create(
          b, l, index(b, l, 0), index(b, l, groups), index(b, l, 1),
          SmallVector<Value>(sums, zeroVector),
          [&](OpBuilder &b, Location l, Value gIv, ValueRange accs) {
            SmallVector<Value> s, z;
            groupParams(b, l, gIv, s, z);
            Value kBase = arith::MulIOp::create(b, l, gIv, index(b, l, bk));
            Value wBase = arith::MulIOp::create(b, l, gIv, index(b, l, steps));
            auto tLoop = scf::ForOp::create(
                b, l, index(b, l, 0), index(b, l, steps), index(b, l, kLanes),
                SmallVector<Value>(sums, zeroVector),
                [&](OpBuilder &b, Location l, Value t0, ValueRange parts) {
                  // Channel j's codes of these bytes: values[j][0] from the
                  // low nibbles (or the bytes), values[j][1] the high.
                  SmallVector<SmallVector<Value>> values;
                  Value wIdx = arith::AddIOp::create(b, l, wBase, t0);
                  for (int64_t j = 0; j < chanTile; ++j) {
                    // Codes widened to i32 first: the nibbles come out
                    // with i32 shifts (x86 has no byte shifts).
                    Value code = read(b, l, op.getWeight(), chans[j], wIdx,
                                      rewriter.getI8Type());
                    Value wide =
                        packed && !info.isSigned
                            ? Value(
                                  arith::ExtUIOp::create(b, l, i32Vector, code))
                            : Value(arith::ExtSIOp::create(b, l, i32Vector,
                                                           code));
                    SmallVector<Value> codes = {wide};
                    if (packed) {
                      auto [lo, hi] = splitNibbles(b, l, wide, info.isSigned);
                      codes = {lo, hi};
                    }
                    SmallVector<Value> decoded;
                    for (Value c : codes) {
                      Value v = arith::SIToFPOp::create(b, l, f32Vector, c);
                      if (z[j])
                        v = arith::SubFOp::create(
                            b, l, v, splat(b, l, z[j], f32Vector), fm);
                      decoded.push_back(v);
                    }
                    values.push_back(decoded);
                  }
                  // Byte t meets X column t of the group, and its high
                  // nibble column bk / 2 + t (split-nibble order).
                  SmallVector<Value> cols = {
                      arith::AddIOp::create(b, l, kBase, t0)};
                  if (packed)
                    cols.push_back(arith::AddIOp::create(b, l, cols[0],
                                                         index(b, l, bk / 2)));
                  SmallVector<Value> updated(parts.begin(), parts.end());
                  for (auto [v, col] : llvm::enumerate(cols))
                    for (int64_t i = 0; i < rowTile; ++i) {
                      Value xv = read(b, l, x, rowIdx[i], col, xElementType);
                      for (int64_t j = 0; j < chanTile; ++j) {
                        Value &sum = updated[i * chanTile + j];
                        sum =
                            vector::FMAOp::create(b, l, xv, values[j][v], sum);
                      }
                    }
                  scf::YieldOp::create(b, l, updated);
                });
            SmallVector<Value> scales;
            for (Value scale : s)
              scales.push_back(splat(b, l, scale, f32Vector));
            SmallVector<Value> next;
            for (int64_t i = 0; i < sums; ++i)
              next.push_back(vector::FMAOp::create(
                  b, l, scales[i % chanTile], tLoop.getResult(i), accs[i]));
            scf::YieldOp::create(b, l, next);
          });
      SmallVector<Value> totals;
      for (Value acc : gLoop.getResults())
        totals.push_back(vector::ReductionOp::create(
            b, l, vector::CombiningKind::ADD, acc, Value(),
            arith::FastMathFlags::reassoc | arith::FastMathFlags::contract));
      return totals;
    };

    // y[r0 + i, n0 + j] for i < rowTile, j < chanTile: each code is
    // decoded once and used for `rowTile` rows of X, each X value for
    // `chanTile` output channels, each pair with its own running sums.
    auto emitTile = [&](OpBuilder &b, Location l, Value n0, int64_t chanTile,
                        Value r0, int64_t rowTile, Value out) -> Value {
      auto offsets = [&](Value base, int64_t count) {
        SmallVector<Value> values;
        for (int64_t i = 0; i < count; ++i)
          values.push_back(i == 0 ? base
                                  : Value(arith::AddIOp::create(
                                        b, l, base, index(b, l, i))));
        return values;
      };
      SmallVector<Value> rowIdx = offsets(r0, rowTile);
      SmallVector<Value> chans = offsets(n0, chanTile);
      SmallVector<Value> sRows;
      for (Value nIv : chans)
        sRows.push_back(arith::DivUIOp::create(b, l, nIv, index(b, l, bn)));
      // Sums of row i and channel j at i * chanTile + j.
      const int64_t sums = rowTile * chanTile;
      SmallVector<Value> zeros(sums, zeroAcc);
      // The input zero point of each row (i32), for asymmetric activations.
      SmallVector<Value> rowZero(rowTile);
      if (inputZeroPoint) {
        Emitter e{b, l};
        bool perRow =
            cast<RankedTensorType>(inputZeroPoint.getType()).getRank() > 0;
        for (int64_t i = 0; i < rowTile; ++i) {
          SmallVector<Value> idx;
          if (perRow)
            idx = {rowIdx[i], index(b, l, 0)};
          Value z = e.toSignless(
              tensor::ExtractOp::create(b, l, inputZeroPoint, idx));
          rowZero[i] = e.extendInt(z, 32, !xElement.isUnsignedInteger());
        }
      }
      // The scale (accType) and, with zero points, the zero point (as
      // accType) of each channel of the tile in scale group `gIv`.
      auto groupParams = [&](OpBuilder &b, Location l, Value gIv,
                             SmallVector<Value> &s, SmallVector<Value> &z) {
        Emitter e{b, l};
        s.assign(chanTile, Value());
        z.assign(chanTile, Value());
        for (int64_t j = 0; j < chanTile; ++j) {
          SmallVector<Value> sIdx;
          if (!perTensorScale)
            sIdx = {sRows[j], gIv};
          s[j] = e.castFloat(
              tensor::ExtractOp::create(b, l, op.getScale(), sIdx), accType);
          if (zeroPoint) {
            Value zi =
                e.toSignless(tensor::ExtractOp::create(b, l, zeroPoint, sIdx));
            z[j] = arith::SIToFPOp::create(b, l, accType,
                                           e.extendInt(zi, 32, info.isSigned));
          }
        }
      };
      // The tile's sums over all of K, row i and channel j at
      // i * chanTile + j.
      SmallVector<Value> totals;
      if (vectorLoop) {
        totals = emitVectorSums(b, l, rowIdx, chans, groupParams);
      } else {
        auto gLoop = scf::ForOp::create(
            b, l, index(b, l, 0), index(b, l, groups), index(b, l, 1), zeros,
            [&](OpBuilder &b, Location l, Value gIv, ValueRange accs) {
              SmallVector<Value> s, z;
              groupParams(b, l, gIv, s, z);
              Value kBase = arith::MulIOp::create(b, l, gIv, index(b, l, bk));
              Value wBase =
                  arith::MulIOp::create(b, l, gIv, index(b, l, bk / perStep));
              SmallVector<Value> partialZeros(sums, zeroPartial);
              auto tLoop = scf::ForOp::create(
                  b, l, index(b, l, 0), index(b, l, steps), index(b, l, 1),
                  partialZeros,
                  [&](OpBuilder &b, Location l, Value tIv, ValueRange parts) {
                    Emitter e{b, l};
                    Value wIdx = arith::AddIOp::create(b, l, wBase, tIv);
                    // The codes of the step, channel j's value v at
                    // values[j][v].
                    SmallVector<SmallVector<Value>> values;
                    for (int64_t j = 0; j < chanTile; ++j) {
                      Value code = e.toSignless(tensor::ExtractOp::create(
                          b, l, op.getWeight(), ValueRange{chans[j], wIdx}));
                      values.push_back(
                          intInput ? SmallVector<Value>{arith::ExtSIOp::create(
                                         b, l, b.getI32Type(), code)}
                                   : decode(b, l, e, code, z[j]));
                    }
                    // Code t of the group meets X column t; with packed
                    // codes, byte t's low and high codes meet columns t and
                    // bk / 2 + t of X in split-nibble order (above).
                    SmallVector<Value> kIdx = {
                        arith::AddIOp::create(b, l, kBase, tIv)};
                    if (packed)
                      kIdx.push_back(arith::AddIOp::create(
                          b, l, kIdx[0], index(b, l, bk / 2)));
                    SmallVector<Value> updated(parts.begin(), parts.end());
                    for (auto [v, col] : llvm::enumerate(kIdx)) {
                      for (int64_t i = 0; i < rowTile; ++i) {
                        Value xv = tensor::ExtractOp::create(
                            b, l, x, ValueRange{rowIdx[i], col});
                        if (intInput) {
                          xv = e.extendInt(e.toSignless(xv), 32,
                                           !xElement.isUnsignedInteger());
                          if (rowZero[i])
                            xv = arith::SubIOp::create(b, l, xv, rowZero[i]);
                        } else {
                          if (inputScale) // FP8 codes
                            xv = emitDecodeFP8(e, e.toSignless(xv),
                                               FP8Layout::get(xElement));
                          xv = e.castFloat(xv, accType);
                        }
                        for (int64_t j = 0; j < chanTile; ++j) {
                          Value &sum = updated[i * chanTile + j];
                          sum = intInput ? Value(arith::AddIOp::create(
                                               b, l, sum,
                                               arith::MulIOp::create(
                                                   b, l, xv, values[j][v])))
                                         : Value(arith::AddFOp::create(
                                               b, l, sum,
                                               arith::MulFOp::create(
                                                   b, l, xv, values[j][v], fm),
                                               fm));
                        }
                      }
                    }
                    scf::YieldOp::create(b, l, updated);
                  });
              SmallVector<Value> next;
              for (int64_t i = 0; i < sums; ++i) {
                Value p = tLoop.getResult(i);
                if (intInput)
                  p = arith::SIToFPOp::create(b, l, accType, p);
                next.push_back(arith::AddFOp::create(
                    b, l, accs[i],
                    arith::MulFOp::create(b, l, s[i % chanTile], p, fm), fm));
              }
              scf::YieldOp::create(b, l, next);
            });
        totals.assign(gLoop.getResults().begin(), gLoop.getResults().end());
      }
      Emitter e{b, l};
      for (int64_t i = 0; i < rowTile; ++i) {
        Value sx;
        if (inputScale) {
          SmallVector<Value> idx;
          if (cast<RankedTensorType>(inputScale.getType()).getRank() > 0)
            idx = {rowIdx[i], index(b, l, 0)};
          sx = e.castFloat(tensor::ExtractOp::create(b, l, inputScale, idx),
                           accType);
        }
        for (int64_t j = 0; j < chanTile; ++j) {
          Value y = totals[i * chanTile + j];
          if (sx)
            y = arith::MulFOp::create(b, l, y, sx, fm);
          out = tensor::InsertOp::create(b, l, e.castFloat(y, resultElement),
                                         out, ValueRange{rowIdx[i], chans[j]});
        }
      }
      return out;
    };

    // Rows in tiles of kRowTile, then the remainder one at a time; output
    // channels in tiles of kChanTile where there are several rows (X loaded
    // once for them), then the remainder one at a time.
    constexpr int64_t kRowTile = 4, kChanTile = 4;
    Value tiledRows = arith::MulIOp::create(
        rewriter, loc,
        arith::DivUIOp::create(rewriter, loc, rows,
                               index(rewriter, loc, kRowTile)),
        index(rewriter, loc, kRowTile));
    auto emitRows = [&](OpBuilder &b, Location l, Value n0, int64_t chanTile,
                        Value out) -> Value {
      auto tiles = scf::ForOp::create(
          b, l, index(b, l, 0), tiledRows, index(b, l, kRowTile),
          ValueRange{out},
          [&](OpBuilder &b, Location l, Value r0, ValueRange carried) {
            scf::YieldOp::create(
                b, l, emitTile(b, l, n0, chanTile, r0, kRowTile, carried[0]));
          });
      auto rest = scf::ForOp::create(
          b, l, tiledRows, rows, index(b, l, 1), tiles.getResults(),
          [&](OpBuilder &b, Location l, Value r, ValueRange carried) {
            scf::YieldOp::create(
                b, l, emitTile(b, l, n0, chanTile, r, 1, carried[0]));
          });
      return rest.getResult(0);
    };
    std::optional<int64_t> staticRows = getConstantIntValue(rowCount);
    int64_t chanTile = staticRows && *staticRows < kRowTile ? 1 : kChanTile;
    int64_t tiledChans = n / chanTile * chanTile;
    auto forChannels = [&](Value init, int64_t begin, int64_t end,
                           int64_t step) -> Value {
      return scf::ForOp::create(
                 rewriter, loc, index(rewriter, loc, begin),
                 index(rewriter, loc, end), index(rewriter, loc, step),
                 ValueRange{init},
                 [&](OpBuilder &b, Location l, Value n0, ValueRange out) {
                   scf::YieldOp::create(b, l, emitRows(b, l, n0, step, out[0]));
                 })
          .getResult(0);
    };
    Value result = forChannels(init, 0, tiledChans, chanTile);
    if (tiledChans < n)
      result = forChannels(result, tiledChans, n, 1);

    // Restore the batch dimensions.
    if (rank == 1) {
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, result, ArrayRef<ReassociationIndices>{{0, 1}});
    } else if (rank > 2) {
      ReassociationIndices outer;
      for (int64_t i = 0; i + 1 < rank; ++i)
        outer.push_back(i);
      SmallVector<OpFoldResult> sizes =
          tensor::getMixedSizes(rewriter, loc, op.getInput());
      sizes.back() = rewriter.getIndexAttr(n);
      result = tensor::ExpandShapeOp::create(
          rewriter, loc, yType, result,
          ArrayRef<ReassociationIndices>{outer, {rank - 1}}, sizes);
    }
    rewriter.replaceOp(op, result);
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
