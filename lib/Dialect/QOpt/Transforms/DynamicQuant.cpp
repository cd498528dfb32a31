//===- DynamicQuant.cpp - Per-token activation scales at run time ---------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Numerics/Storage.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_DYNAMICQUANT
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// s[..., 0] = max_k |x[..., k]| / qmax, or 1 for an all-zero row.
Value emitRowScales(OpBuilder &b, Location loc, Value x, float qmax) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rank = xType.getRank();
  SmallVector<int64_t> shape(xType.getShape());
  shape.back() = 1;
  auto sType = RankedTensorType::get(shape, b.getF32Type());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  sizes.back() = b.getIndexAttr(1);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = linalg::FillOp::create(
                   b, loc, zero,
                   tensor::EmptyOp::create(b, loc, sizes, b.getF32Type())
                       .getResult())
                   .getResult(0);
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d + 1 < rank; ++d)
    outExprs.push_back(b.getAffineDimExpr(d));
  outExprs.push_back(b.getAffineConstantExpr(0));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  auto amax = linalg::GenericOp::create(
      b, loc, TypeRange{sType}, ValueRange{x}, ValueRange{init},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank),
                          AffineMap::get(rank, 0, outExprs, b.getContext())},
      iterators, [](OpBuilder &b, Location l, ValueRange args) {
        Value a = math::AbsFOp::create(b, l, args[0]);
        // maxnumf: a NaN element does not poison the whole row's scale.
        linalg::YieldOp::create(
            b, l, Value(arith::MaxNumFOp::create(b, l, a, args[1])));
      });
  Value empty = tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  auto scale = linalg::GenericOp::create(
      b, loc, TypeRange{sType}, ValueRange{amax.getResult(0)},
      ValueRange{empty},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank),
                          b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [qmax](OpBuilder &b, Location l, ValueRange args) {
        Value q = arith::ConstantOp::create(b, l, b.getF32FloatAttr(qmax));
        Value zero = arith::ConstantOp::create(b, l, b.getF32FloatAttr(0.0f));
        Value one = arith::ConstantOp::create(b, l, b.getF32FloatAttr(1.0f));
        Value s = arith::DivFOp::create(b, l, args[0], q);
        Value isZero = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                             args[0], zero);
        linalg::YieldOp::create(
            b, l, Value(arith::SelectOp::create(b, l, isZero, one, s)));
      });
  return scale.getResult(0);
}

struct DynamicQuantPass : qopt::impl::DynamicQuantBase<DynamicQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<MatmulOp> products;
    getOperation()->walk([&](MatmulOp op) {
      Type w = op.getWeightStorageType();
      if (!op.getInputScale() && !op.getPacked() && !op.getZeroPoint() &&
          op.getInput().getType().getElementType().isF32() &&
          (w.isSignlessInteger(8) || isa<Float8E4M3FNType, Float8E5M2Type>(w)))
        products.push_back(op);
    });
    for (MatmulOp op : products) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      Type storage = op.getWeightStorageType();
      bool isInt = storage.isSignlessInteger(8);
      float qmax = isInt ? 127.0f
                         : quantopt::fp8MaxFinite(
                               isa<Float8E4M3FNType>(storage)
                                   ? quantopt::Storage::F8E4M3FN
                                   : quantopt::Storage::F8E5M2);
      Value x = op.getInput();
      Value sx = emitRowScales(b, loc, x, qmax);
      Value xq = QuantizeOp::create(b, loc, op.getInput().getType().clone(storage),
                                    x, sx, Value(), /*narrow_range=*/isInt);
      auto mm = MatmulOp::create(b, loc, op.getType(), xq, op.getWeight(),
                                 op.getScale(), Value(), sx, Value(),
                                 op.getAccTypeAttr(), op.getPackedAttr());
      op.replaceAllUsesWith(mm.getResult());
      op.erase();
    }
  }
};

} // namespace
