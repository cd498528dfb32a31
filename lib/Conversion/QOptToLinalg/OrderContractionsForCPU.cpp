//===- OrderContractionsForCPU.cpp - Vectorisable loop orders -------------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_ORDERCONTRACTIONSFORCPU
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The loop dimension an operand's map walks innermost, if it is a dim.
std::optional<unsigned> innermostDim(AffineMap map) {
  if (map.getNumResults() == 0)
    return std::nullopt;
  if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()))
    return dim.getPosition();
  return std::nullopt;
}

/// Lowers a contraction whose inputs are both contiguous along its single
/// reduction dimension `k` to loops over tensors: the parallel loops in
/// order, then the reduction with its accumulator in a register
/// (`scf.for` iter_args) and `fastmath<reassoc, contract>` on the sum, which
/// LLVM vectorises into a dot product. (With the accumulator in memory, as
/// `convert-linalg-to-loops` leaves it, LLVM can neither keep it in a
/// register nor vectorise, and the product runs 50x slower.)
LogicalResult lowerDotProductContraction(IRRewriter &rewriter,
                                         linalg::LinalgOp op, unsigned k) {
  SmallVector<int64_t> bounds = op.getStaticLoopRanges();
  if (llvm::any_of(bounds, ShapedType::isDynamic))
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (!llvm::all_of(maps, [](AffineMap m) { return m.isProjectedPermutation(); }))
    return failure();
  Location loc = op.getLoc();
  Value x = op.getDpsInputOperand(0)->get();
  Value w = op.getDpsInputOperand(1)->get();
  Value init = op.getDpsInitOperand(0)->get();
  Block &body = op->getRegion(0).front();
  auto fastmath = arith::FastMathFlagsAttr::get(
      rewriter.getContext(),
      arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);

  auto constant = [&](OpBuilder &b, int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  // Indices of an operand for the loop values `ivs` (one per loop dim).
  auto indices = [](AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> out;
    for (AffineExpr e : map.getResults())
      out.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
    return out;
  };

  SmallVector<unsigned> parallel;
  for (unsigned d = 0; d < bounds.size(); ++d)
    if (d != k)
      parallel.push_back(d);
  SmallVector<Value> lbs, ubs, steps;
  for (unsigned d : parallel) {
    lbs.push_back(constant(rewriter, 0));
    ubs.push_back(constant(rewriter, bounds[d]));
    steps.push_back(constant(rewriter, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &b, Location loc, ValueRange outerIvs,
          ValueRange iterArgs) -> scf::ValueVector {
        SmallVector<Value> ivs(bounds.size());
        for (auto [d, iv] : llvm::zip(parallel, outerIvs))
          ivs[d] = iv;
        Value out = iterArgs.front();
        Value acc0 = tensor::ExtractOp::create(b, loc, out,
                                               indices(maps[2], ivs));
        auto reduction = scf::ForOp::create(
            b, loc, constant(b, 0), constant(b, bounds[k]), constant(b, 1),
            ValueRange{acc0},
            [&](OpBuilder &b, Location loc, Value kIv, ValueRange accs) {
              ivs[k] = kIv;
              IRMapping mapping;
              mapping.map(body.getArgument(0),
                          tensor::ExtractOp::create(b, loc, x,
                                                    indices(maps[0], ivs)));
              mapping.map(body.getArgument(1),
                          tensor::ExtractOp::create(b, loc, w,
                                                    indices(maps[1], ivs)));
              mapping.map(body.getArgument(2), accs.front());
              for (Operation &inner : body.without_terminator()) {
                Operation *clone = b.clone(inner, mapping);
                if (isa<arith::AddFOp, arith::MulFOp>(clone))
                  clone->setAttr("fastmath", fastmath);
              }
              Value sum = mapping.lookup(body.getTerminator()->getOperand(0));
              scf::YieldOp::create(b, loc, sum);
            });
        Value result = tensor::InsertOp::create(b, loc, reduction.getResult(0),
                                                out, indices(maps[2], ivs));
        return {result};
      });
  rewriter.replaceOp(op, nest.results);
  return success();
}

/// Reorders one float contraction; returns false if it is left alone.
bool orderContraction(IRRewriter &rewriter, linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op) ||
      !isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
    return false;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> reductions;
  for (auto [d, it] : llvm::enumerate(iterators))
    if (it == utils::IteratorType::reduction)
      reductions.push_back(d);
  if (reductions.size() != 1)
    return false;
  unsigned k = reductions.front();
  std::optional<unsigned> x = innermostDim(maps[0]), w = innermostDim(maps[1]),
                          y = innermostDim(maps[2]);
  rewriter.setInsertionPoint(op);
  if (x == k && w == k)
    return succeeded(lowerDotProductContraction(rewriter, op, k));
  // Otherwise the result's innermost dimension, if an input shares it, goes
  // innermost, right after the reduction.
  if (!y || (x != y && w != y))
    return false;
  SmallVector<unsigned> order;
  for (unsigned d = 0; d < iterators.size(); ++d)
    if (d != *y && d != k)
      order.push_back(d);
  order.push_back(k);
  order.push_back(*y);
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    FailureOr<linalg::GenericOp> generalized =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return false;
    generic = *generalized;
  }
  if (!llvm::equal(order, llvm::seq<unsigned>(0, order.size())) &&
      failed(linalg::interchangeGenericOp(rewriter, generic, order)))
    return false;
  return true;
}

struct OrderContractionsForCPUPass
    : qopt::impl::OrderContractionsForCPUBase<OrderContractionsForCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> contractions;
    getOperation()->walk(
        [&](linalg::LinalgOp op) { contractions.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : contractions)
      orderContraction(rewriter, op);
  }
};

} // namespace
