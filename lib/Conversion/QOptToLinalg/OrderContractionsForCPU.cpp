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

  // A register tile: up to 4 values of a dimension only X walks (rows) by
  // up to 4 of one only W walks (output channels), each X value loaded once
  // for the tile's channels and each W value once for its rows. Fewer than
  // 4 rows (a decode-shaped product, X in L1) keep one output a loop.
  // Of several such dimensions (x[b, m, k] against w[n, k]), the largest.
  std::optional<unsigned> rowDim, chanDim;
  auto consider = [&](std::optional<unsigned> &chosen, unsigned d) {
    if (!chosen || bounds[d] >= bounds[*chosen])
      chosen = d;
  };
  for (unsigned d = 0; d < bounds.size(); ++d) {
    if (d == k)
      continue;
    bool inX = maps[0].isFunctionOfDim(d), inW = maps[1].isFunctionOfDim(d);
    if (inX && !inW)
      consider(rowDim, d);
    if (inW && !inX)
      consider(chanDim, d);
  }
  auto tileOf = [&](std::optional<unsigned> d) -> int64_t {
    if (!d || !rowDim || !chanDim || bounds[*rowDim] < 4)
      return 1;
    for (int64_t t : {4, 2})
      if (bounds[*d] % t == 0)
        return t;
    return 1;
  };
  SmallVector<int64_t> tile(bounds.size(), 1);
  if (rowDim)
    tile[*rowDim] = tileOf(rowDim);
  if (chanDim)
    tile[*chanDim] = tileOf(chanDim);
  const int64_t rows = rowDim ? tile[*rowDim] : 1,
                chans = chanDim ? tile[*chanDim] : 1;

  SmallVector<unsigned> parallel;
  for (unsigned d = 0; d < bounds.size(); ++d)
    if (d != k)
      parallel.push_back(d);
  SmallVector<Value> lbs, ubs, steps;
  for (unsigned d : parallel) {
    lbs.push_back(constant(rewriter, 0));
    ubs.push_back(constant(rewriter, bounds[d]));
    steps.push_back(constant(rewriter, tile[d]));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, ValueRange{init},
      [&](OpBuilder &b, Location loc, ValueRange outerIvs,
          ValueRange iterArgs) -> scf::ValueVector {
        SmallVector<Value> ivs(bounds.size());
        for (auto [d, iv] : llvm::zip(parallel, outerIvs))
          ivs[d] = iv;
        // The loop values of output (i, j) of the tile.
        // The loop values of the tile's row i / channel j, made once here.
        auto offsets = [&](std::optional<unsigned> d, int64_t count) {
          SmallVector<Value> values;
          for (int64_t i = 0; i < count; ++i)
            values.push_back(i == 0 ? ivs[*d]
                                    : arith::AddIOp::create(b, loc, ivs[*d],
                                                            constant(b, i)));
          return values;
        };
        SmallVector<Value> rowIvs = rowDim ? offsets(rowDim, rows)
                                           : SmallVector<Value>{Value()},
                           chanIvs = chanDim ? offsets(chanDim, chans)
                                             : SmallVector<Value>{Value()};
        // The loop values of output (i, j) of the tile.
        auto at = [&](int64_t i, int64_t j) {
          SmallVector<Value> shifted(ivs);
          if (rowDim)
            shifted[*rowDim] = rowIvs[i];
          if (chanDim)
            shifted[*chanDim] = chanIvs[j];
          return shifted;
        };
        Value out = iterArgs.front();
        SmallVector<Value> acc0;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < chans; ++j)
            acc0.push_back(tensor::ExtractOp::create(
                b, loc, out, indices(maps[2], at(i, j))));
        auto reduction = scf::ForOp::create(
            b, loc, constant(b, 0), constant(b, bounds[k]), constant(b, 1),
            acc0, [&](OpBuilder &b, Location loc, Value kIv, ValueRange accs) {
              ivs[k] = kIv;
              SmallVector<Value> xs, ws, sums;
              for (int64_t i = 0; i < rows; ++i)
                xs.push_back(tensor::ExtractOp::create(
                    b, loc, x, indices(maps[0], at(i, 0))));
              for (int64_t j = 0; j < chans; ++j)
                ws.push_back(tensor::ExtractOp::create(
                    b, loc, w, indices(maps[1], at(0, j))));
              for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < chans; ++j) {
                  IRMapping mapping;
                  mapping.map(body.getArgument(0), xs[i]);
                  mapping.map(body.getArgument(1), ws[j]);
                  mapping.map(body.getArgument(2), accs[i * chans + j]);
                  for (Operation &inner : body.without_terminator()) {
                    Operation *clone = b.clone(inner, mapping);
                    if (isa<arith::AddFOp, arith::MulFOp>(clone))
                      clone->setAttr("fastmath", fastmath);
                  }
                  sums.push_back(
                      mapping.lookup(body.getTerminator()->getOperand(0)));
                }
              scf::YieldOp::create(b, loc, sums);
            });
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < chans; ++j)
            out = tensor::InsertOp::create(b, loc,
                                           reduction.getResult(i * chans + j),
                                           out, indices(maps[2], at(i, j)));
        return {out};
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
