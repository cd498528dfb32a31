//===- ScaleChannels.h - Scale the channels of an activation -----*- C++ -*-===//
//
// Shared by qopt-smooth-quant and qopt-quantize-weights method=awq, which
// move per-channel factors from the activation into the weight.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H
#define QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H

#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <optional>
#include <vector>

namespace mlir::qopt::detail {

/// Whether `cst` is an f32 tensor constant whose values getF32Values reads
/// (without reading them).
inline bool isF32Constant(arith::ConstantOp cst) {
  if (!cst)
    return false;
  if (auto attr = dyn_cast<DenseElementsAttr>(cst.getValue()))
    return attr.getElementType().isF32();
  return isa<DenseF32ResourceElementsAttr>(cst.getValue());
}

/// The values of an f32 constant tensor: dense elements, or a
/// `dense_resource` blob as frontends (torch-mlir) export weights.
inline std::optional<std::vector<float>> getF32Values(arith::ConstantOp cst) {
  if (!cst)
    return std::nullopt;
  if (auto attr = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    if (!attr.getElementType().isF32())
      return std::nullopt;
    return std::vector<float>(attr.getValues<float>().begin(),
                              attr.getValues<float>().end());
  }
  if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue()))
    if (std::optional<ArrayRef<float>> data = blob.tryGetAsArrayRef())
      if (int64_t(data->size()) == blob.getType().getNumElements())
        return std::vector<float>(data->begin(), data->end());
  return std::nullopt;
}

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

/// Replaces `operand`, an f32 constant of shape [rows, cols], by a fresh
/// constant with element (r, c) multiplied by factors[c] (byColumn) or
/// factors[r]; the old constant is erased once unused. False, changing
/// nothing, if the operand is not such a constant or the sizes differ.
inline bool scaleConstant(OpBuilder &b, OpOperand &operand,
                          ArrayRef<float> factors, bool byColumn) {
  auto cst = operand.get().getDefiningOp<arith::ConstantOp>();
  std::optional<std::vector<float>> values = getF32Values(cst);
  if (!values)
    return false;
  auto type = cast<RankedTensorType>(cst.getType());
  if (type.getRank() != 2 ||
      type.getDimSize(byColumn ? 1 : 0) != int64_t(factors.size()))
    return false;
  std::vector<float> &v = *values;
  int64_t cols = type.getDimSize(1);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] *= factors[byColumn ? i % cols : i / cols];
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(cst);
  operand.set(arith::ConstantOp::create(
      b, cst.getLoc(), DenseElementsAttr::get(type, ArrayRef<float>(v))));
  if (cst->use_empty())
    cst->erase();
  return true;
}

/// Folds x[..., j] * factors[j] into the producer of `x` where that is
/// exact and legal: `x` is the only-used result of a plain `linalg.matmul`
/// accumulating into zeros whose right operand [K', K] is either an f32
/// constant, whose columns are scaled, or a weight that
/// qopt-quantize-weights already rewrote (`linalg.transpose` of a
/// `qopt.dequantize` in the [K, K'] layout with f32 scales per output
/// channel and K' group), whose scale rows are scaled: s · c · (q − z).
/// Returns false, changing nothing, otherwise.
inline bool foldScaleIntoProducer(OpBuilder &b, Value x,
                                  ArrayRef<float> factors) {
  auto mm = x.getDefiningOp<linalg::MatmulOp>();
  if (!mm || !x.hasOneUse() || mm.hasUserDefinedMaps() ||
      mm.getNumDpsInputs() != 2)
    return false;
  auto fill = mm.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return false;
  OpOperand *wOperand = mm.getDpsInputOperand(1);
  if (scaleConstant(b, *wOperand, factors, /*byColumn=*/true))
    return true;
  auto transpose = wOperand->get().getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0} ||
      !transpose->getResult(0).hasOneUse())
    return false;
  auto dq = transpose.getInput().getDefiningOp<DequantizeOp>();
  if (!dq || !dq->hasOneUse())
    return false;
  return scaleConstant(b, dq.getScaleMutable(), factors, /*byColumn=*/false);
}

} // namespace mlir::qopt::detail

#endif // QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_SCALECHANNELS_H
