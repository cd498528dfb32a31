//===- MatmulToLoops.cpp - qopt.matmul as loops that dequantize in place --===//
//
//   for n in [0, N):                      one output channel (weight row)
//     for r in [0, rows):                 rows of X (batch dims collapsed)
//       acc = 0
//       for g in [0, K / bk):             scale groups along K
//         p = 0
//         for t in [0, bk / per_step):    codes of the group, 1 or 2 a step
//           p += x[r, k] * (code(k) - z)  (decoded in registers)
//         acc += s[n / bn, g] * p
//       y[r, n] = acc
//
// The weight row n (K codes) is read once per output channel and stays in
// L1 while the rows of X stream past it.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "../ScalarCodecs.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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
    if (packed && bk % 2 != 0)
      return rewriter.notifyMatchFailure(
          op, "packed weight with an odd group size");
    Type storage = op.getWeightStorageType();
    StorageInfo info = *getStorageInfo(storage);
    Type accType = op.getAccType();
    Type resultElement = yType.getElementType();
    int64_t perStep = packed ? 2 : 1;
    int64_t groups = k / bk, steps = bk / perStep;
    bool perTensorScale = op.getScale().getType().getRank() == 0;
    Value zeroPoint = op.getZeroPoint();

    // Collapse X to [rows, K] (rank 1 becomes [1, K]).
    Value x = op.getInput();
    int64_t rank = xType.getRank();
    if (rank == 1) {
      x = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1, k}, xType.getElementType()),
          x, ArrayRef<ReassociationIndices>{{0, 1}});
    } else if (rank > 2) {
      ReassociationIndices outer;
      for (int64_t i = 0; i + 1 < rank; ++i)
        outer.push_back(i);
      x = tensor::CollapseShapeOp::create(
          rewriter, loc, x,
          ArrayRef<ReassociationIndices>{outer, {rank - 1}});
    }
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

    auto nLoop = scf::ForOp::create(
        rewriter, loc, index(rewriter, loc, 0), index(rewriter, loc, n),
        index(rewriter, loc, 1), ValueRange{init},
        [&](OpBuilder &b, Location l, Value nIv, ValueRange nArgs) {
          Emitter e{b, l};
          Value sRow =
              arith::DivUIOp::create(b, l, nIv, index(b, l, bn));
          auto rowLoop = scf::ForOp::create(
              b, l, index(b, l, 0), rows, index(b, l, 1), nArgs,
              [&](OpBuilder &b, Location l, Value rIv, ValueRange rArgs) {
                Emitter e{b, l};
                auto gLoop = scf::ForOp::create(
                    b, l, index(b, l, 0), index(b, l, groups),
                    index(b, l, 1), ValueRange{zeroAcc},
                    [&](OpBuilder &b, Location l, Value gIv,
                        ValueRange gArgs) {
                      Emitter e{b, l};
                      SmallVector<Value> sIdx;
                      if (!perTensorScale)
                        sIdx = {sRow, gIv};
                      Value s = e.castFloat(
                          tensor::ExtractOp::create(b, l, op.getScale(), sIdx),
                          accType);
                      Value z;
                      if (zeroPoint) {
                        Value zi = e.toSignless(tensor::ExtractOp::create(
                            b, l, zeroPoint, sIdx));
                        Value z32 =
                            info.isSigned
                                ? Value(arith::ExtSIOp::create(
                                      b, l, b.getI32Type(), zi))
                                : Value(arith::ExtUIOp::create(
                                      b, l, b.getI32Type(), zi));
                        z = arith::SIToFPOp::create(b, l, accType, z32);
                      }
                      Value kBase = arith::MulIOp::create(
                          b, l, gIv, index(b, l, bk));
                      Value wBase = arith::MulIOp::create(
                          b, l, gIv, index(b, l, bk / perStep));
                      auto tLoop = scf::ForOp::create(
                          b, l, index(b, l, 0), index(b, l, steps),
                          index(b, l, 1), ValueRange{zeroAcc},
                          [&](OpBuilder &b, Location l, Value tIv,
                              ValueRange tArgs) {
                            Emitter e{b, l};
                            Value partial = tArgs[0];
                            Value wIdx = arith::AddIOp::create(b, l, wBase, tIv);
                            Value code = e.toSignless(tensor::ExtractOp::create(
                                b, l, op.getWeight(), ValueRange{nIv, wIdx}));
                            Value k0 = arith::AddIOp::create(
                                b, l, kBase,
                                arith::MulIOp::create(b, l, tIv,
                                                      index(b, l, perStep)));
                            // Real values of the 1 or 2 codes of this step.
                            SmallVector<Value> values;
                            if (packed) {
                              Value lo, hi;
                              if (info.isSigned) {
                                lo = arith::ShRSIOp::create(
                                    b, l,
                                    arith::ShLIOp::create(b, l, code,
                                                          e.i(8, 4)),
                                    e.i(8, 4));
                                hi = arith::ShRSIOp::create(b, l, code,
                                                            e.i(8, 4));
                              } else {
                                lo = arith::AndIOp::create(b, l, code,
                                                           e.i(8, 0x0F));
                                hi = arith::ShRUIOp::create(b, l, code,
                                                            e.i(8, 4));
                              }
                              for (Value c : {lo, hi})
                                values.push_back(arith::SIToFPOp::create(
                                    b, l, accType, c));
                            } else if (info.isFloat) {
                              values.push_back(e.castFloat(
                                  emitDecodeFP8(e, code,
                                                FP8Layout::get(storage)),
                                  accType));
                            } else {
                              Type i32 = b.getI32Type();
                              Value wide =
                                  info.isSigned
                                      ? Value(arith::ExtSIOp::create(b, l, i32,
                                                                     code))
                                      : Value(arith::ExtUIOp::create(b, l, i32,
                                                                     code));
                              values.push_back(
                                  arith::SIToFPOp::create(b, l, accType, wide));
                            }
                            for (auto [j, v] : llvm::enumerate(values)) {
                              if (z)
                                v = arith::SubFOp::create(b, l, v, z, fm);
                              Value kIdx = arith::AddIOp::create(
                                  b, l, k0, index(b, l, int64_t(j)));
                              Value xv = e.castFloat(
                                  tensor::ExtractOp::create(
                                      b, l, x, ValueRange{rIv, kIdx}),
                                  accType);
                              partial = arith::AddFOp::create(
                                  b, l, partial,
                                  arith::MulFOp::create(b, l, xv, v, fm), fm);
                            }
                            scf::YieldOp::create(b, l, partial);
                          });
                      Value acc = arith::AddFOp::create(
                          b, l, gArgs[0],
                          arith::MulFOp::create(b, l, s, tLoop.getResult(0),
                                                fm),
                          fm);
                      scf::YieldOp::create(b, l, acc);
                    });
                Value y = e.castFloat(gLoop.getResult(0), resultElement);
                Value updated = tensor::InsertOp::create(
                    b, l, y, rArgs[0], ValueRange{rIv, nIv});
                scf::YieldOp::create(b, l, updated);
              });
          scf::YieldOp::create(b, l, rowLoop.getResult(0));
        });

    // Restore the batch dimensions.
    Value result = nLoop.getResult(0);
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
                    "static and a packed weight needs an even group size");
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
