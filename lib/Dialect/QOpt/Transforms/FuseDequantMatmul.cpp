//===- FuseDequantMatmul.cpp - dequantize -> contraction as qopt.matmul ---===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_FUSEDEQUANTMATMUL
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// True when `init` is a tensor filled with 0.0.
bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

struct FuseDequantIntoContraction
    : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        !op.hasPureTensorSemantics() ||
        !linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a tensor contraction");
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    for (unsigned w = 0; w < 2; ++w) {
      AffineMap wm = maps[w], xm = maps[1 - w], ym = maps[2];
      if (!wm.isProjectedPermutation() || !xm.isProjectedPermutation() ||
          !ym.isProjectedPermutation())
        continue;
      // The loop dim of each axis of the operand as it is peeled back to
      // the [N, K] dequantized weight.
      SmallVector<unsigned> dims;
      for (unsigned i = 0; i < wm.getNumResults(); ++i)
        dims.push_back(wm.getDimPosition(i));
      Value operand = op.getDpsInputOperand(w)->get();
      // A broadcast adds batch axes (shared by X and Y): drop them.
      if (auto bc = operand.getDefiningOp<linalg::BroadcastOp>()) {
        bool batchOnly = true;
        for (int64_t d : llvm::reverse(bc.getDimensions())) {
          batchOnly &= xm.isFunctionOfDim(dims[d]) && ym.isFunctionOfDim(dims[d]);
          dims.erase(dims.begin() + d);
        }
        if (!batchOnly)
          continue;
        operand = bc.getInput();
      }
      // A 2-D transpose: the operand is [K, N] of an [N, K] weight.
      if (auto t = operand.getDefiningOp<linalg::TransposeOp>()) {
        if (t.getPermutation() != ArrayRef<int64_t>{1, 0})
          continue;
        operand = t.getInput();
        std::swap(dims[0], dims[1]);
      }
      auto dequant = operand.getDefiningOp<DequantizeOp>();
      if (!dequant || dequant.getType().getRank() != 2 || dims.size() != 2)
        continue;
      unsigned nDim = dims[0], kDim = dims[1];
      // X must be [others..., K] and Y [others..., N], others in order.
      if (xm.getNumResults() == 0 ||
          xm.getDimPosition(xm.getNumResults() - 1) != kDim ||
          ym.getNumResults() == 0 ||
          ym.getDimPosition(ym.getNumResults() - 1) != nDim ||
          xm.getNumResults() != ym.getNumResults())
        continue;
      bool sameOthers = true;
      for (unsigned i = 0; i + 1 < xm.getNumResults(); ++i)
        sameOthers &= xm.getDimPosition(i) == ym.getDimPosition(i);
      if (!sameOthers)
        continue;
      if (!isZeroFill(op.getDpsInitOperand(0)->get()))
        return rewriter.notifyMatchFailure(op, "accumulates into non-zeros");

      Value weight = dequant.getInput();
      TypeAttr packed;
      if (auto unpack = weight.getDefiningOp<UnpackOp>()) {
        // qopt.matmul's packed scale groups hold whole bytes; odd ones
        // stay unpacked and dequantized as they are.
        FailureOr<SmallVector<int64_t>> blocks =
            getBlockSizes(dequant.getType().getShape(),
                          dequant.getScale().getType().getShape());
        if (failed(blocks) || (*blocks)[1] % 2 != 0)
          continue;
        packed = TypeAttr::get(unpack.getType().getElementType());
        weight = unpack.getInput();
      }
      Value x = op.getDpsInputOperand(1 - w)->get();
      auto xType = cast<RankedTensorType>(x.getType());
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      auto isFloat = [](Type t) {
        return isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(t);
      };
      if (!isFloat(xType.getElementType()) ||
          !isFloat(resultType.getElementType()))
        return rewriter.notifyMatchFailure(op, "not a float product");
      // qopt.matmul wants a static K and result sizes that follow X; linalg
      // also accepts mixed static / dynamic sizes: cast where they differ.
      int64_t k = dequant.getType().getDimSize(1);
      int64_t n = dequant.getType().getDimSize(0);
      SmallVector<int64_t> xShape(xType.getShape());
      xShape.back() = k;
      auto staticX = RankedTensorType::get(xShape, xType.getElementType());
      if (staticX != xType)
        x = tensor::CastOp::create(rewriter, op.getLoc(), staticX, x);
      SmallVector<int64_t> yShape(xShape);
      yShape.back() = n;
      auto mmType = RankedTensorType::get(yShape, resultType.getElementType());
      if (failed(verifyCompatibleShape(mmType, resultType)))
        return rewriter.notifyMatchFailure(op, "result shape mismatch");
      Value result = MatmulOp::create(
          rewriter, op.getLoc(), mmType, x, weight, dequant.getScale(),
          dequant.getZeroPoint(), /*input_scale=*/Value(),
          /*input_zero_point=*/Value(),
          TypeAttr::get(rewriter.getF32Type()), packed);
      if (mmType != resultType)
        result = tensor::CastOp::create(rewriter, op.getLoc(), resultType,
                                        result);
      rewriter.replaceOp(op, result);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no dequantized weight operand");
  }
};

struct FuseDequantMatmulPass
    : qopt::impl::FuseDequantMatmulBase<FuseDequantMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseDequantIntoContraction>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
