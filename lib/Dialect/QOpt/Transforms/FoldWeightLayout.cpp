//===- FoldWeightLayout.cpp - Contractions read constant weights directly -===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_FOLDWEIGHTLAYOUT
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// A pure data-movement op: one input, one init, all loops parallel, the
/// body yields the input element, and the output map is a permutation
/// (transposes, broadcasts and their generic spellings).
bool isView(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops())
    return false;
  if (!op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isPermutation() ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0))
           .isProjectedPermutation())
    return false;
  if (isa<linalg::TransposeOp, linalg::BroadcastOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return false;
  Block &body = generic.getRegion().front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  return body.getOperations().size() == 1 && yield &&
         yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body.getArgument(0);
}

/// Whether `v` is a constant seen through views.
bool isConstantThroughViews(Value v) {
  while (auto view = v.getDefiningOp<linalg::LinalgOp>()) {
    if (!isView(view))
      return false;
    v = view.getDpsInputOperand(0)->get();
  }
  return v.getDefiningOp<arith::ConstantOp>() != nullptr;
}

struct FoldWeightViewIntoContraction
    : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a tensor contraction");
    for (unsigned i = 0; i < 2; ++i) {
      Value operand = op.getDpsInputOperand(i)->get();
      auto view = operand.getDefiningOp<linalg::LinalgOp>();
      if (!view || !isConstantThroughViews(operand))
        continue;
      // The contraction reads view[c(d)] = source[in(out^-1(c(d)))].
      AffineMap in = view.getMatchingIndexingMap(view.getDpsInputOperand(0));
      AffineMap out = view.getMatchingIndexingMap(view.getDpsInitOperand(0));
      AffineMap composed = in.compose(inversePermutation(out))
                               .compose(op.getMatchingIndexingMap(
                                   op.getDpsInputOperand(i)));
      linalg::GenericOp generic =
          dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(generalized))
          return rewriter.notifyMatchFailure(op, "cannot generalize");
        generic = *generalized;
      }
      SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
      maps[i] = composed;
      Value source = view.getDpsInputOperand(0)->get();
      rewriter.modifyOpInPlace(generic, [&] {
        generic.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
        generic->setOperand(i, source);
      });
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no view of a constant operand");
  }
};

struct FoldWeightLayoutPass
    : qopt::impl::FoldWeightLayoutBase<FoldWeightLayoutPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldWeightViewIntoContraction>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
