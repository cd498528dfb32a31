//===- QOptToLinalg.cpp - Lower core qopt ops to linalg.generic -----------===//
//
// Each op becomes one elementwise linalg.generic. Scales and zero points are
// read through affine maps that divide the data index by the block size, so
// the granularity rule (granularity = scale shape) costs no broadcast copies.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "../ScalarCodecs.h"

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
using namespace mlir::qopt::detail;

namespace {

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
        z = e.extendInt(zs, 32, info.isSigned);
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
        auto extend = [&](Value v) { return e.extendInt(v, 32, info.isSigned); };
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
