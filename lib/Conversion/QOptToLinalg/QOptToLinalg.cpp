//===- QOptToLinalg.cpp - Lower core qopt ops to linalg.generic -----------===//
//
// Each op becomes one elementwise linalg.generic. Scales and zero points are
// read through affine maps that divide the data index by the block size, so
// the granularity rule (granularity = scale shape) costs no broadcast copies.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/APFloat.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOLINALG
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

//===----------------------------------------------------------------------===//
// Scalar helpers
//===----------------------------------------------------------------------===//

/// Emits scalar arithmetic at one insertion point. Keeps the bodies below
/// readable: `e.i(32, 5)` is an i32 constant, `e.f(t, 1.0)` a float constant.
struct Emitter {
  OpBuilder &b;
  Location loc;

  Value i(unsigned width, int64_t v) {
    return arith::ConstantOp::create(
        b, loc, IntegerAttr::get(b.getIntegerType(width), v));
  }
  Value f(Type t, double v) {
    return arith::ConstantOp::create(b, loc, FloatAttr::get(t, v));
  }
  /// Extends or truncates a float to `t` (no-op when it already is `t`).
  Value castFloat(Value v, Type t) {
    unsigned from = v.getType().getIntOrFloatBitWidth();
    unsigned to = t.getIntOrFloatBitWidth();
    if (v.getType() == t)
      return v;
    if (from < to)
      return arith::ExtFOp::create(b, loc, t, v);
    return arith::TruncFOp::create(b, loc, t, v);
  }
  /// Views an unsigned integer or FP8 scalar as a signless integer, the only
  /// form `arith` computes on.
  Value toSignless(Value v) {
    Type t = v.getType();
    unsigned width = t.getIntOrFloatBitWidth();
    Type signless = b.getIntegerType(width);
    if (auto it = dyn_cast<IntegerType>(t)) {
      if (it.isSignless())
        return v;
      return UnrealizedConversionCastOp::create(b, loc, signless, v)
          .getResult(0);
    }
    return arith::BitcastOp::create(b, loc, signless, v);
  }
  /// Inverse of toSignless.
  Value fromSignless(Value v, Type t) {
    if (v.getType() == t)
      return v;
    if (isa<IntegerType>(t))
      return UnrealizedConversionCastOp::create(b, loc, t, v).getResult(0);
    return arith::BitcastOp::create(b, loc, t, v);
  }
};

/// Layout constants of an 8-bit float format and of the wider float that
/// the conversion computes in.
struct FP8Layout {
  unsigned mantissaBits; // M: 3 for E4M3FN, 2 for E5M2
  int bias;              // 7 for E4M3FN, 15 for E5M2
  int64_t maxCode;       // magnitude code of the largest finite value
  int64_t nanCode;       // magnitude code of the canonical NaN
  bool hasInfinity;      // E5M2 encodes +-inf as 0x7C / 0xFC

  static FP8Layout get(Type t) {
    if (isa<Float8E4M3FNType>(t))
      return {3, 7, 0x7E, 0x7F, false};
    assert(isa<Float8E5M2Type>(t) && "expected an FP8 storage type");
    return {2, 15, 0x7B, 0x7E, true};
  }
};

/// Encodes the float `v` (f32 or f64) as FP8 bits (i8): round to nearest
/// even, saturate to the largest finite value, NaN to the canonical NaN with
/// the input's sign.
Value emitEncodeFP8(Emitter &e, Value v, const FP8Layout &fmt) {
  auto ft = cast<FloatType>(v.getType());
  unsigned w = ft.getWidth();              // 32 or 64
  unsigned p = ft.getFPMantissaWidth() - 1; // stored mantissa bits: 23 or 52
  int64_t wideBias = w == 32 ? 127 : 1023;
  unsigned drop = p - fmt.mantissaBits;
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type it = b.getIntegerType(w);

  Value bits = arith::BitcastOp::create(b, loc, it, v);
  Value sign = arith::TruncIOp::create(
      b, loc, b.getI8Type(),
      arith::ShRUIOp::create(b, loc, bits, e.i(w, w - 8)));
  sign = arith::AndIOp::create(b, loc, sign, e.i(8, 0x80));
  Value mag = math::AbsFOp::create(b, loc, v);
  Value magBits = arith::BitcastOp::create(b, loc, it, mag);

  // Normal range: round the wide mantissa to M bits in the integer domain
  // (a carry into the exponent is the correct result), then rebias.
  Value lsb = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, magBits, e.i(w, drop)),
      e.i(w, 1));
  Value rounded = arith::AddIOp::create(
      b, loc, magBits,
      arith::AddIOp::create(b, loc, lsb, e.i(w, (int64_t(1) << (drop - 1)) - 1)));
  Value normal = arith::SubIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, rounded, e.i(w, drop)),
      e.i(w, (wideBias - fmt.bias) << fmt.mantissaBits));

  // Subnormal range: the code is the value in units of the smallest
  // subnormal. Scaling by a power of two is exact.
  double quantumInv = std::ldexp(1.0, fmt.bias - 1 + fmt.mantissaBits);
  double minNormal = std::ldexp(1.0, 1 - fmt.bias);
  Value scaled = arith::MulFOp::create(b, loc, mag, e.f(ft, quantumInv));
  Value subnormal = arith::FPToSIOp::create(
      b, loc, it, math::RoundEvenOp::create(b, loc, scaled));
  Value isSubnormal = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                            mag, e.f(ft, minNormal));
  Value code = arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal);
  // Saturate (this also maps +-inf, whose wide exponent is all ones).
  code = arith::MinSIOp::create(b, loc, code, e.i(w, fmt.maxCode));
  Value code8 = arith::TruncIOp::create(b, loc, b.getI8Type(), code);
  Value isNaN =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
  code8 = arith::SelectOp::create(b, loc, isNaN, e.i(8, fmt.nanCode), code8);
  return arith::OrIOp::create(b, loc, code8, sign);
}

/// Decodes FP8 bits (i8) to an f32 value.
Value emitDecodeFP8(Emitter &e, Value bits8, const FP8Layout &fmt) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Type f32 = b.getF32Type();
  Type i32 = b.getI32Type();
  unsigned m = fmt.mantissaBits;
  Value bits = arith::ExtUIOp::create(b, loc, i32, bits8);
  Value sign = arith::ShLIOp::create(
      b, loc, arith::AndIOp::create(b, loc, bits, e.i(32, 0x80)), e.i(32, 24));
  Value mag = arith::AndIOp::create(b, loc, bits, e.i(32, 0x7F));
  Value exponent = arith::ShRUIOp::create(b, loc, mag, e.i(32, m));
  Value mantissa = arith::AndIOp::create(b, loc, mag, e.i(32, (1 << m) - 1));

  // Normal: rebias the exponent and widen the mantissa.
  Value normalBits = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(
          b, loc, arith::AddIOp::create(b, loc, exponent, e.i(32, 127 - fmt.bias)),
          e.i(32, 23)),
      arith::ShLIOp::create(b, loc, mantissa, e.i(32, 23 - m)));
  // Subnormal (exponent field 0): mantissa times the smallest subnormal.
  Value subnormal = arith::MulFOp::create(
      b, loc, arith::UIToFPOp::create(b, loc, f32, mantissa),
      e.f(f32, std::ldexp(1.0, 1 - fmt.bias - int(m))));
  Value subnormalBits = arith::BitcastOp::create(b, loc, i32, subnormal);
  Value isSubnormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            exponent, e.i(32, 0));
  Value magnitude =
      arith::SelectOp::create(b, loc, isSubnormal, subnormalBits, normalBits);

  Value nanBits = e.i(32, 0x7FC00000);
  if (fmt.hasInfinity) {
    // E5M2: exponent all ones is inf (mantissa 0) or NaN.
    Value special = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          exponent, e.i(32, 31));
    Value isInf = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        mantissa, e.i(32, 0));
    Value specialBits =
        arith::SelectOp::create(b, loc, isInf, e.i(32, 0x7F800000), nanBits);
    magnitude =
        arith::SelectOp::create(b, loc, special, specialBits, magnitude);
  } else {
    // E4M3FN: only S.1111.111 is NaN; there is no infinity.
    Value isNaN = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mag,
                                        e.i(32, 0x7F));
    magnitude = arith::SelectOp::create(b, loc, isNaN, nanBits, magnitude);
  }
  return arith::BitcastOp::create(
      b, loc, f32, arith::OrIOp::create(b, loc, magnitude, sign));
}

/// The float type scalar arithmetic runs in: f64 if any operand is f64,
/// else f32.
Type getComputeType(OpBuilder &b, Type a, Type c) {
  if (a.isF64() || c.isF64())
    return b.getF64Type();
  return b.getF32Type();
}

//===----------------------------------------------------------------------===//
// linalg.generic construction
//===----------------------------------------------------------------------===//

/// The indexing map reading a scale (or zero-point) tensor of `scaleShape`
/// at the block that holds each element of a `dataShape` tensor.
FailureOr<AffineMap> getScaleMap(MLIRContext *ctx, ArrayRef<int64_t> dataShape,
                                 ArrayRef<int64_t> scaleShape) {
  unsigned rank = dataShape.size();
  if (scaleShape.empty())
    return AffineMap::get(rank, 0, {}, ctx);
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < rank; ++d) {
    int64_t dim = dataShape[d], sdim = scaleShape[d];
    if (sdim == 1) {
      exprs.push_back(getAffineConstantExpr(0, ctx));
    } else if (!ShapedType::isDynamic(dim) && dim == sdim) {
      exprs.push_back(getAffineDimExpr(d, ctx));
    } else if (!ShapedType::isDynamic(dim) && !ShapedType::isDynamic(sdim)) {
      exprs.push_back(getAffineDimExpr(d, ctx).floorDiv(dim / sdim));
    } else {
      return failure();
    }
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Returns `v`, or a signless copy of it when it is a constant with an
/// unsigned element type. linalg folds splat constants into generic bodies
/// as scalar arith.constant ops, which must be signless.
Value getSignlessConstant(OpBuilder &b, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  DenseIntElementsAttr attr;
  if (!intType || intType.isSignless() || !matchPattern(v, m_Constant(&attr)))
    return v;
  auto signless = b.getIntegerType(intType.getWidth());
  return arith::ConstantOp::create(b, v.getLoc(), attr.bitcast(signless));
}

/// Creates a tensor.empty shaped like `like` with element type `elementType`.
Value createEmptyLike(OpBuilder &b, Location loc, Value like,
                      Type elementType) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

using BodyBuilder = function_ref<Value(Emitter &, ValueRange)>;

/// Builds an elementwise linalg.generic over `data` (identity map) plus the
/// scale / zero-point operands read through their block maps.
FailureOr<Value> buildQuantGeneric(PatternRewriter &rewriter, Operation *op,
                                   Value data, Value scale, Value zeroPoint,
                                   RankedTensorType resultType,
                                   BodyBuilder body) {
  Location loc = op->getLoc();
  MLIRContext *ctx = rewriter.getContext();
  auto dataType = cast<RankedTensorType>(data.getType());
  auto scaleType = cast<RankedTensorType>(scale.getType());
  FailureOr<AffineMap> scaleMap =
      getScaleMap(ctx, dataType.getShape(), scaleType.getShape());
  if (failed(scaleMap))
    return rewriter.notifyMatchFailure(
        op, "block size along a dynamic dimension is not known statically");

  AffineMap id = rewriter.getMultiDimIdentityMap(dataType.getRank());
  SmallVector<Value> inputs{getSignlessConstant(rewriter, data), scale};
  SmallVector<AffineMap> maps{id, *scaleMap};
  if (zeroPoint) {
    inputs.push_back(getSignlessConstant(rewriter, zeroPoint));
    maps.push_back(*scaleMap);
  }
  maps.push_back(id);
  Value init = createEmptyLike(rewriter, loc, data, resultType.getElementType());
  SmallVector<utils::IteratorType> iterators(dataType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &b, Location l, ValueRange args) {
        Emitter e{b, l};
        linalg::YieldOp::create(b, l, body(e, args));
      });
  return generic.getResult(0);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct QuantizeOpLowering : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Type storage = op.getType().getElementType();
    StorageInfo info = *getStorageInfo(storage, op.getNarrowRange());
    Type computeType =
        getComputeType(rewriter, op.getInput().getType().getElementType(),
                       op.getScale().getType().getElementType());

    auto body = [&](Emitter &e, ValueRange args) -> Value {
      OpBuilder &b = e.b;
      Location loc = e.loc;
      Value x = e.castFloat(args[0], computeType);
      Value s = e.castFloat(args[1], computeType);
      Value v = arith::DivFOp::create(b, loc, x, s);
      if (info.isFloat) {
        Value bits = emitEncodeFP8(e, v, FP8Layout::get(storage));
        return e.fromSignless(bits, storage);
      }
      // Integer: q = clip(roundeven(v) + z, qmin, qmax); NaN -> z.
      Type i32 = b.getI32Type();
      Value r = math::RoundEvenOp::create(b, loc, v);
      Value z = e.i(32, 0);
      if (op.getZeroPoint()) {
        Value zs = e.toSignless(args[2]);
        z = info.isSigned ? Value(arith::ExtSIOp::create(b, loc, i32, zs))
                          : Value(arith::ExtUIOp::create(b, loc, i32, zs));
        r = arith::AddFOp::create(
            b, loc, r, arith::SIToFPOp::create(b, loc, computeType, z));
      }
      r = arith::MaximumFOp::create(b, loc, r,
                                    e.f(computeType, double(info.qmin)));
      r = arith::MinimumFOp::create(b, loc, r,
                                    e.f(computeType, double(info.qmax)));
      // fptosi of NaN is poison, but select never reads the unchosen side.
      Value q = arith::FPToSIOp::create(b, loc, i32, r);
      Value isNaN =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, r, r);
      q = arith::SelectOp::create(b, loc, isNaN, z, q);
      q = arith::TruncIOp::create(b, loc, b.getIntegerType(info.bitWidth), q);
      return e.fromSignless(q, storage);
    };
    FailureOr<Value> result =
        buildQuantGeneric(rewriter, op, op.getInput(), op.getScale(),
                          op.getZeroPoint(), op.getType(), body);
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, *result);
    return success();
  }
};

struct DequantizeOpLowering : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Type storage = op.getInput().getType().getElementType();
    StorageInfo info = *getStorageInfo(storage);
    Type resultElement = op.getType().getElementType();
    Type computeType = getComputeType(
        rewriter, resultElement, op.getScale().getType().getElementType());

    auto body = [&](Emitter &e, ValueRange args) -> Value {
      OpBuilder &b = e.b;
      Location loc = e.loc;
      Value q = e.toSignless(args[0]);
      Value s = e.castFloat(args[1], computeType);
      Value real;
      if (info.isFloat) {
        real = e.castFloat(emitDecodeFP8(e, q, FP8Layout::get(storage)),
                           computeType);
      } else {
        // (q - z) is exact in i32 and in the compute type.
        Type i32 = b.getI32Type();
        auto extend = [&](Value v) -> Value {
          if (info.isSigned)
            return arith::ExtSIOp::create(b, loc, i32, v);
          return arith::ExtUIOp::create(b, loc, i32, v);
        };
        Value diff = extend(q);
        if (op.getZeroPoint())
          diff = arith::SubIOp::create(b, loc, diff,
                                       extend(e.toSignless(args[2])));
        real = arith::SIToFPOp::create(b, loc, computeType, diff);
      }
      Value product = arith::MulFOp::create(b, loc, s, real);
      return e.castFloat(product, resultElement);
    };
    FailureOr<Value> result =
        buildQuantGeneric(rewriter, op, op.getInput(), op.getScale(),
                          op.getZeroPoint(), op.getType(), body);
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, *result);
    return success();
  }
};

/// The innermost-dimension map `d_last -> d_last * mul + add` (others
/// identity).
AffineMap getInnerMap(MLIRContext *ctx, unsigned rank, int64_t mul,
                      int64_t add, bool divide) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d + 1 < rank; ++d)
    exprs.push_back(getAffineDimExpr(d, ctx));
  AffineExpr last = getAffineDimExpr(rank - 1, ctx);
  exprs.push_back(divide ? last.floorDiv(mul) : last * mul + add);
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Sizes of `source` with the innermost one multiplied or divided by 2.
SmallVector<OpFoldResult> getPackedSizes(OpBuilder &b, Location loc,
                                         Value source, bool halve) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, source);
  OpFoldResult &last = sizes.back();
  if (auto attr = dyn_cast<Attribute>(last)) {
    int64_t v = cast<IntegerAttr>(attr).getInt();
    last = b.getIndexAttr(halve ? v / 2 : v * 2);
    return sizes;
  }
  Value two = arith::ConstantIndexOp::create(b, loc, 2);
  Value v = cast<Value>(last);
  last = halve ? Value(arith::DivUIOp::create(b, loc, v, two))
               : Value(arith::MulIOp::create(b, loc, v, two));
  return sizes;
}

struct PackOpLowering : OpRewritePattern<PackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    unsigned rank = op.getType().getRank();
    Value init = tensor::EmptyOp::create(
        rewriter, loc, getPackedSizes(rewriter, loc, op.getInput(), true),
        rewriter.getI8Type());
    SmallVector<AffineMap> maps{getInnerMap(ctx, rank, 2, 0, false),
                                getInnerMap(ctx, rank, 2, 1, false),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{op.getType()},
        ValueRange{getSignlessConstant(rewriter, op.getInput()),
                   getSignlessConstant(rewriter, op.getInput())},
        ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Emitter e{b, l};
          Type i8 = b.getI8Type();
          // Zero-extending the 4-bit pattern keeps exactly its nibble.
          Value lo = arith::ExtUIOp::create(b, l, i8, e.toSignless(args[0]));
          Value hi = arith::ExtUIOp::create(b, l, i8, e.toSignless(args[1]));
          hi = arith::ShLIOp::create(b, l, hi, e.i(8, 4));
          linalg::YieldOp::create(b, l,
                                  Value(arith::OrIOp::create(b, l, lo, hi)));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct UnpackOpLowering : OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    unsigned rank = op.getType().getRank();
    Type nibbleType = op.getType().getElementType();
    Value init = tensor::EmptyOp::create(
        rewriter, loc, getPackedSizes(rewriter, loc, op.getInput(), false),
        nibbleType);
    SmallVector<AffineMap> maps{getInnerMap(ctx, rank, 2, 0, true),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{op.getType()}, ValueRange{op.getInput()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Emitter e{b, l};
          Type i8 = b.getI8Type();
          // Odd elements live in the high nibble: shift by 4 * (index & 1).
          Value index = linalg::IndexOp::create(b, l, rank - 1);
          Value odd = arith::AndIOp::create(
              b, l, arith::IndexCastUIOp::create(b, l, i8, index), e.i(8, 1));
          Value shift = arith::ShLIOp::create(b, l, odd, e.i(8, 2));
          Value nibble = arith::TruncIOp::create(
              b, l, b.getIntegerType(4),
              arith::ShRUIOp::create(b, l, args[0], shift));
          linalg::YieldOp::create(b, l, e.fromSignless(nibble, nibbleType));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ConvertQOptToLinalgPass
    : qopt::impl::ConvertQOptToLinalgBase<ConvertQOptToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQOptToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Anything left could not be lowered: say which op and why.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (!isa<QuantizeOp, DequantizeOp, PackOp, UnpackOp>(op))
        return WalkResult::advance();
      op->emitError("cannot lower to linalg: the block size along a dynamic "
                    "dimension must be 1 or the whole dimension");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::qopt::populateQOptToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantizeOpLowering, DequantizeOpLowering, PackOpLowering,
               UnpackOpLowering>(patterns.getContext());
}
