//===- FuseElementwiseForCPU.cpp - Fusion that keeps reductions lean ------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_FUSEELEMENTWISEFORCPU
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct FuseElementwiseForCPUPass
    : qopt::impl::FuseElementwiseForCPUBase<FuseElementwiseForCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // As upstream: only producers with a single use, so nothing is
    // computed twice...
    linalg::ControlFusionFn singleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    // ...and, for elementwise fusion, never into a consumer with reduction
    // loops, which would recompute the producer for each reduced-away index.
    linalg::ControlFusionFn notIntoReductions = [&](OpOperand *fused) {
      auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
      return singleUse(fused) && consumer &&
             consumer.getNumReductionLoops() == 0;
    };
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, notIntoReductions);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, singleUse);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    (void)applyPatternsGreedily(getOperation(), std::move(patterns), config);
  }
};

} // namespace
