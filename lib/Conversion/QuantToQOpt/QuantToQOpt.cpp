//===- QuantToQOpt.cpp - Import upstream quant casts into qopt ------------===//
//
// `!quant.uniform` types carry their parameters in the type; qopt carries
// them as SSA constants next to a builtin storage type. This pass converts
// the types everywhere (signatures included) and turns the casts into qopt
// ops, so IR from any MLIR frontend reaches quant-opt's passes.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>
#include <limits>

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQUANTTOQOPT
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The qopt storage type of a quantized type, with the narrow-range flag,
/// or a message saying why there is none.
struct StorageMapping {
  Type storage;
  bool narrowRange = false;
  std::string error;
};

StorageMapping mapStorage(quant::QuantizedType qtype) {
  StorageMapping m;
  // !quant.calibrated is a range still to be quantized: no storage yet.
  if (!qtype.getStorageType()) {
    m.error = "no storage type (expected !quant.uniform)";
    return m;
  }
  unsigned width = qtype.getStorageTypeIntegralWidth();
  bool isSigned = qtype.isSigned();
  MLIRContext *ctx = qtype.getContext();
  if (width != 4 && width != 8) {
    m.error = "unsupported storage width " + std::to_string(width) +
              " (qopt stores 4- and 8-bit codes)";
    return m;
  }
  m.storage = isSigned ? IntegerType::get(ctx, width)
                       : IntegerType::get(ctx, width, IntegerType::Unsigned);
  int64_t lo = qtype.getStorageTypeMin(), hi = qtype.getStorageTypeMax();
  int64_t fullMin =
      quant::QuantizedType::getDefaultMinimumForInteger(isSigned, width);
  int64_t fullMax =
      quant::QuantizedType::getDefaultMaximumForInteger(isSigned, width);
  if (lo == fullMin && hi == fullMax)
    return m;
  if (isSigned && lo == fullMin + 1 && hi == fullMax) {
    m.narrowRange = true;
    return m;
  }
  m.error = "unsupported storage range [" + std::to_string(lo) + ", " +
            std::to_string(hi) +
            "]: qopt supports the full range and, for signed storage, the "
            "narrow range [-(2^(b-1)-1), 2^(b-1)-1]";
  m.storage = {};
  return m;
}

/// Scale and zero-point constants for a quantized tensor type.
struct QuantParams {
  Value scale;
  Value zeroPoint; // null when every zero point is 0
  bool narrowRange = false;
  Type storage;
};

/// Builds the scale constant (f64 when the expressed type is f64, else f32)
/// and, if any is non-zero, the zero-point constant. Fails, at `op`, on a
/// scale f32 cannot hold or a zero point outside the storage range.
LogicalResult buildConstants(OpBuilder &b, Operation *op,
                             quant::QuantizedType qtype,
                             ArrayRef<int64_t> shape, ArrayRef<double> scales,
                             ArrayRef<int64_t> zeroPoints,
                             QuantParams &params) {
  Location loc = op->getLoc();
  bool wide = qtype.getExpressedType().isF64();
  Type scaleElement = wide ? b.getF64Type() : b.getF32Type();
  SmallVector<Attribute> scaleAttrs;
  for (double v : scales) {
    if (!wide && !(std::fabs(v) >= double(std::numeric_limits<float>::min()) &&
                   std::fabs(v) <= double(std::numeric_limits<float>::max())))
      return op->emitError("scale ")
             << v << " of " << qtype
             << " is not a normal f32 value; use an f64 expressed type";
    scaleAttrs.push_back(FloatAttr::get(scaleElement, v));
  }
  params.scale = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(shape, scaleElement),
                             scaleAttrs));

  int64_t lo = quant::QuantizedType::getDefaultMinimumForInteger(
      qtype.isSigned(), qtype.getStorageTypeIntegralWidth());
  int64_t hi = quant::QuantizedType::getDefaultMaximumForInteger(
      qtype.isSigned(), qtype.getStorageTypeIntegralWidth());
  for (int64_t z : zeroPoints)
    if (z < lo || z > hi)
      return op->emitError("zero point ")
             << z << " of " << qtype << " is outside the storage range [" << lo
             << ", " << hi << "]";
  if (llvm::all_of(zeroPoints, [](int64_t z) { return z == 0; }))
    return success();
  unsigned width = params.storage.getIntOrFloatBitWidth();
  SmallVector<APInt> values;
  for (int64_t z : zeroPoints)
    values.emplace_back(width, z, /*isSigned=*/qtype.isSigned());
  auto zpType = RankedTensorType::get(shape, params.storage);
  params.zeroPoint = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(zpType, values));
  return success();
}

FailureOr<QuantParams> buildParams(OpBuilder &b, Operation *op,
                                   RankedTensorType tensorType) {
  auto qtype = cast<quant::QuantizedType>(tensorType.getElementType());
  StorageMapping mapping = mapStorage(qtype);
  if (!mapping.storage) {
    op->emitError() << mapping.error << " in " << qtype;
    return failure();
  }
  QuantParams params;
  params.storage = mapping.storage;
  params.narrowRange = mapping.narrowRange;
  int64_t rank = tensorType.getRank();

  if (auto uniform = dyn_cast<quant::UniformQuantizedType>(qtype)) {
    if (failed(buildConstants(b, op, qtype, {}, {uniform.getScale()},
                              {uniform.getZeroPoint()}, params)))
      return failure();
    return params;
  }
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype)) {
    int32_t axis = perAxis.getQuantizedDimension();
    if (axis >= rank || tensorType.isDynamicDim(axis)) {
      op->emitError() << "quantized dimension " << axis
                      << " must be a static dimension of " << tensorType;
      return failure();
    }
    SmallVector<int64_t> shape(rank, 1);
    shape[axis] = perAxis.getScales().size();
    if (failed(buildConstants(b, op, qtype, shape, perAxis.getScales(),
                              perAxis.getZeroPoints(), params)))
      return failure();
    return params;
  }
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(qtype)) {
    DenseElementsAttr scalesAttr = sub.getScales();
    auto scalesShape = scalesAttr.getType().getShape();
    if (int64_t(scalesShape.size()) != rank) {
      op->emitError() << "sub-channel scales of rank " << scalesShape.size()
                      << " do not match " << tensorType;
      return failure();
    }
    SmallVector<double> scales;
    for (APFloat v : scalesAttr.getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      scales.push_back(v.convertToDouble());
    }
    SmallVector<int64_t> zeroPoints;
    for (APInt z : sub.getZeroPoints().getValues<APInt>())
      zeroPoints.push_back(qtype.isSigned() ? z.getSExtValue()
                                            : int64_t(z.getZExtValue()));
    if (failed(buildConstants(b, op, qtype, scalesShape, scales, zeroPoints,
                              params)))
      return failure();
    return params;
  }
  op->emitError() << "unsupported quantized type " << qtype
                  << " (expected !quant.uniform)";
  return failure();
}

/// quant.qcast -> qopt.quantize.
struct QuantizeCastLowering : OpConversionPattern<quant::QuantizeCastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(quant::QuantizeCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto tensorType = dyn_cast<RankedTensorType>(op.getType());
    if (!tensorType)
      return op.emitError("only ranked tensors of quantized types are "
                          "supported, not ")
             << op.getType();
    FailureOr<QuantParams> params = buildParams(rewriter, op, tensorType);
    if (failed(params))
      return failure();
    auto resultType = tensorType.clone(params->storage);
    auto quantize = QuantizeOp::create(rewriter, op.getLoc(), resultType,
                                       adaptor.getInput(), params->scale,
                                       params->zeroPoint, params->narrowRange);
    rewriter.replaceOp(op, quantize);
    return success();
  }
};

/// quant.dcast -> qopt.dequantize.
struct DequantizeCastLowering : OpConversionPattern<quant::DequantizeCastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(quant::DequantizeCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto tensorType = dyn_cast<RankedTensorType>(op.getInput().getType());
    if (!tensorType)
      return op.emitError("only ranked tensors of quantized types are "
                          "supported, not ")
             << op.getInput().getType();
    FailureOr<QuantParams> params = buildParams(rewriter, op, tensorType);
    if (failed(params))
      return failure();
    auto dequantize = DequantizeOp::create(
        rewriter, op.getLoc(), op.getType(), adaptor.getInput(),
        params->scale, params->zeroPoint, params->narrowRange);
    rewriter.replaceOp(op, dequantize);
    return success();
  }
};

/// quant.scast is a no-op once quantized types are storage types, except
/// that upstream's storage side of an unsigned type is signless (`u8` is
/// stored as `i8`): that becomes an elementwise reinterpretation.
struct StorageCastLowering : OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value input = adaptor.getInput();
    Type resultType = getTypeConverter()->convertType(op.getType());
    if (!resultType)
      return rewriter.notifyMatchFailure(op, "unsupported result type");
    if (resultType == input.getType()) {
      rewriter.replaceOp(op, input);
      return success();
    }
    auto from = dyn_cast<RankedTensorType>(input.getType());
    auto to = dyn_cast<RankedTensorType>(resultType);
    if (!from || !to || from.getShape() != to.getShape() ||
        from.getElementTypeBitWidth() != to.getElementTypeBitWidth() ||
        !isa<IntegerType>(from.getElementType()) ||
        !isa<IntegerType>(to.getElementType()))
      return op.emitError("unsupported storage cast from ")
             << from << " to " << to;
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, input);
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes, to.getElementType());
    AffineMap id = rewriter.getMultiDimIdentityMap(from.getRank());
    SmallVector<utils::IteratorType> iterators(from.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{to}, ValueRange{input}, ValueRange{init},
        ArrayRef<AffineMap>{id, id}, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value cast = UnrealizedConversionCastOp::create(
                           b, l, to.getElementType(), args[0])
                           .getResult(0);
          linalg::YieldOp::create(b, l, cast);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ConvertQuantToQOptPass
    : qopt::impl::ConvertQuantToQOptBase<ConvertQuantToQOptPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ModuleOp module = getOperation();
    TypeConverter converter;
    populateQuantStorageTypeConversion(converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<quant::QuantDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType()) &&
             converter.isLegal(&op.getBody());
    });
    target.markUnknownOpDynamicallyLegal(
        [&](Operation *op) { return converter.isLegal(op); });

    RewritePatternSet patterns(ctx);
    patterns.add<QuantizeCastLowering, DequantizeCastLowering,
                 StorageCastLowering>(converter, ctx);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    // Upstream folds quant.dcast(quant.qcast(x)) to x, which would silently
    // erase the quantization error the IR asks for: never fold here.
    ConversionConfig config;
    config.foldingMode = DialectConversionFoldingMode::Never;
    if (failed(applyFullConversion(module, target, std::move(patterns),
                                   config)))
      signalPassFailure();
  }
};

} // namespace

void mlir::qopt::populateQuantStorageTypeConversion(TypeConverter &converter) {
  converter.addConversion([](Type t) { return t; });
  converter.addConversion([](quant::QuantizedType t) -> std::optional<Type> {
    StorageMapping m = mapStorage(t);
    if (!m.storage)
      return std::nullopt;
    return m.storage;
  });
  converter.addConversion(
      [&converter](RankedTensorType t) -> std::optional<Type> {
        if (!isa<quant::QuantizedType>(t.getElementType()))
          return t;
        Type element = converter.convertType(t.getElementType());
        if (!element)
          return std::nullopt;
        return t.clone(element);
      });
}
