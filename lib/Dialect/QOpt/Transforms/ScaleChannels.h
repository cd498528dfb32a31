//===- ScaleChannels.h - Scale the channels of an activation -----*- C++ -*-===//
//
// Shared by qopt-smooth-quant and qopt-quantize-weights method=awq, which
// move per-channel factors from the activation into the weight.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H
#define QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::qopt::detail {

/// x[..., j] * factors[j]: an elementwise linalg.generic over the f32
/// tensor `x` whose last dimension has factors.size() channels.
inline Value scaleLastDim(OpBuilder &b, Location loc, Value x,
                          ArrayRef<float> factors) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t k = factors.size(), rank = xType.getRank();
  Value f = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({k}, b.getF32Type()),
                             factors));
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, b.getAffineDimExpr(rank - 1)),
      b.getMultiDimIdentityMap(rank)};
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  Value init = tensor::EmptyOp::create(b, loc, sizes, b.getF32Type());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{xType}, ValueRange{x, f}, ValueRange{init}, maps,
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(
            b, l, Value(arith::MulFOp::create(b, l, args[0], args[1])));
      });
  return generic.getResult(0);
}

} // namespace mlir::qopt::detail

#endif // QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H
