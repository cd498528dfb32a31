//===- QOptOps.cpp - qopt operations: verifiers and folders ---------------===//

#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qopt;

std::string mlir::qopt::getLocationName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!name.empty())
    return name;
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (llvm::sys::path::filename(file.getFilename().getValue()) + ":" +
            Twine(file.getLine()) + ":" + Twine(file.getColumn()))
        .str();
  llvm::raw_string_ostream os(name);
  loc.print(os);
  return name;
}

//===----------------------------------------------------------------------===//
// Storage types and the granularity rule
//===----------------------------------------------------------------------===//

std::optional<StorageInfo> mlir::qopt::getStorageInfo(Type type,
                                                       bool narrowRange) {
  if (isa<Float8E4M3FNType, Float8E5M2Type>(type))
    return StorageInfo{type, 8, /*isFloat=*/true, /*isSigned=*/true, 0, 0};
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType || intType.isSigned())
    return std::nullopt;
  unsigned width = intType.getWidth();
  if (width != 4 && width != 8)
    return std::nullopt;
  StorageInfo info{type, width, /*isFloat=*/false, intType.isSignless(), 0, 0};
  if (info.isSigned) {
    info.qmax = (int64_t(1) << (width - 1)) - 1;
    info.qmin = narrowRange ? -info.qmax : -info.qmax - 1;
  } else {
    info.qmin = 0;
    info.qmax = (int64_t(1) << width) - 1;
  }
  return info;
}

FailureOr<SmallVector<int64_t>>
mlir::qopt::getBlockSizes(ArrayRef<int64_t> dataShape,
                          ArrayRef<int64_t> scaleShape, std::string *error) {
  auto fail = [&](const Twine &msg) -> FailureOr<SmallVector<int64_t>> {
    if (error)
      *error = msg.str();
    return failure();
  };
  SmallVector<int64_t> blocks;
  if (scaleShape.empty()) {
    // Per-tensor: one block covers each whole dimension.
    blocks.assign(dataShape.begin(), dataShape.end());
    return blocks;
  }
  if (scaleShape.size() != dataShape.size())
    return fail("scale must have rank 0 or the rank of the data (" +
                Twine(dataShape.size()) + "), but has rank " +
                Twine(scaleShape.size()));
  for (auto [i, dim, sdim] : llvm::enumerate(dataShape, scaleShape)) {
    if (ShapedType::isDynamic(sdim)) {
      blocks.push_back(ShapedType::kDynamic);
      continue;
    }
    if (dim == 0) {
      // An empty dimension has no blocks to describe.
      if (sdim > 1)
        return fail("an empty data dimension " + Twine(i) +
                    " takes a scale dimension of 0 or 1, not " + Twine(sdim));
      blocks.push_back(1);
      continue;
    }
    if (sdim <= 0)
      return fail("scale dimension " + Twine(i) + " must be positive, but is " +
                  Twine(sdim));
    if (ShapedType::isDynamic(dim)) {
      // The block size is only known at run time.
      blocks.push_back(ShapedType::kDynamic);
      continue;
    }
    if (dim % sdim != 0)
      return fail("data dimension " + Twine(i) + " (" + Twine(dim) +
                  ") is not a multiple of scale dimension " + Twine(i) + " (" +
                  Twine(sdim) + ")");
    blocks.push_back(dim / sdim);
  }
  return blocks;
}

/// Checks the rules shared by quantize and dequantize. `floatType` is the
/// real-valued side, `storageType` the quantized side.
static LogicalResult verifyQuantParams(Operation *op, RankedTensorType floatType,
                                       RankedTensorType storageType,
                                       RankedTensorType scaleType,
                                       Value zeroPoint, bool narrowRange) {
  // Equal shapes, dynamic dimensions included: the lowering builds one
  // elementwise loop nest over them.
  if (floatType.getShape() != storageType.getShape())
    return op->emitOpError("input shape ")
           << floatType << " and result shape " << storageType
           << " must match";
  Type storage = storageType.getElementType();
  std::optional<StorageInfo> info = getStorageInfo(storage, narrowRange);
  if (!info) // Excluded by the ODS type constraints.
    return op->emitOpError("unsupported storage type ") << storage;
  if (narrowRange && (info->isFloat || !info->isSigned))
    return op->emitOpError("'narrow_range' requires signed integer storage "
                           "(i8 or i4), but the storage type is ")
           << storage;

  std::string error;
  if (failed(getBlockSizes(storageType.getShape(), scaleType.getShape(),
                           &error)))
    return op->emitOpError(error);

  if (!zeroPoint)
    return success();
  if (info->isFloat)
    return op->emitOpError("FP8 storage ")
           << storage << " takes no zero point";
  auto zpType = cast<RankedTensorType>(zeroPoint.getType());
  if (zpType.getElementType() != storage)
    return op->emitOpError("zero point element type ")
           << zpType.getElementType()
           << " must equal the storage element type " << storage;
  if (zpType.getShape() != scaleType.getShape())
    return op->emitOpError("zero point shape ")
           << zpType << " must equal the scale shape " << scaleType;
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifyQuantParams(*this, getInput().getType(), getResult().getType(),
                           getScale().getType(), getZeroPoint(),
                           getNarrowRange());
}

OpFoldResult QuantizeOp::fold(FoldAdaptor) {
  // quantize(dequantize(q, s, z), s, z) is q for integer codes: s * (q - z)
  // divided by s rounds back to q - z exactly (|q - z| < 2^8).
  auto dq = getInput().getDefiningOp<DequantizeOp>();
  if (!dq || dq.getInput().getType() != getType() ||
      dq.getScale() != getScale() || dq.getZeroPoint() != getZeroPoint() ||
      !isa<IntegerType>(getType().getElementType()))
    return {};
  // The dequantized values must reach the quantizer unrounded.
  Type real = dq.getType().getElementType();
  if (!real.isF32() && !real.isF64())
    return {};
  // narrow_range could clip a code the dequantize let through.
  if (getNarrowRange())
    return {};
  // A zero, infinite or NaN scale maps every code to the zero point or the
  // clip bounds: only constant, finite, non-zero scales are an identity.
  DenseFPElementsAttr scales;
  if (!matchPattern(getScale(), m_Constant(&scales)))
    return {};
  for (APFloat v : scales.getValues<APFloat>())
    if (!v.isFiniteNonZero())
      return {};
  return dq.getInput();
}

namespace {
/// matmul(dequantize(q, s, z)) with a float input, and the requantization
/// matmul(quantize(dequantize(q, s, z), s', z')) input_scale(s', z'), become
/// matmul(q) input_scale(s, z) when the codes can feed the product: they
/// pair with the weight (i8 / ui8 with a symmetric i8 weight, FP8 with
/// FP8), and s is an f32 scale per tensor or per row.
struct ReadInputCodes : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Value in = op.getInput();
    if (op.getInputScale()) {
      auto requant = in.getDefiningOp<QuantizeOp>();
      if (!requant)
        return failure();
      in = requant.getInput();
    }
    auto dq = in.getDefiningOp<DequantizeOp>();
    if (!dq)
      return failure();
    Value codes = dq.getInput(), scale = dq.getScale(), zp = dq.getZeroPoint();
    auto codesType = cast<RankedTensorType>(codes.getType());
    Type c = codesType.getElementType(), w = op.getWeightStorageType();
    bool isFP8 = isa<Float8E4M3FNType, Float8E5M2Type>(c);
    bool intPair = (c.isSignlessInteger(8) ||
                    (c.isUnsignedInteger(8) && zp)) &&
                   w.isSignlessInteger(8) && !op.getZeroPoint();
    bool fp8Pair = isFP8 && isa<Float8E4M3FNType, Float8E5M2Type>(w) && !zp;
    if (!intPair && !fp8Pair)
      return rewriter.notifyMatchFailure(op, "codes do not pair with weight");
    auto scaleType = cast<RankedTensorType>(scale.getType());
    SmallVector<int64_t> perRow(codesType.getShape());
    perRow.back() = 1;
    if (!scaleType.getElementType().isF32() ||
        (scaleType.getRank() != 0 && scaleType.getShape() != ArrayRef(perRow)))
      return rewriter.notifyMatchFailure(op, "scale not per tensor or row");
    if (zp) {
      auto zpType = cast<RankedTensorType>(zp.getType());
      if (zpType.getElementType() != c ||
          zpType.getShape() != scaleType.getShape())
        return rewriter.notifyMatchFailure(op, "zero point shape or type");
    }
    rewriter.replaceOpWithNewOp<MatmulOp>(
        op, op.getType(), codes, op.getWeight(), op.getScale(),
        op.getZeroPoint(), scale, zp, op.getAccTypeAttr(), op.getPackedAttr());
    return success();
  }
};
} // namespace

void MatmulOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<ReadInputCodes>(context);
}

LogicalResult DequantizeOp::verify() {
  return verifyQuantParams(*this, getResult().getType(), getInput().getType(),
                           getScale().getType(), getZeroPoint(),
                           getNarrowRange());
}

//===----------------------------------------------------------------------===//
// pack / unpack
//===----------------------------------------------------------------------===//

/// Checks that `bytes` holds two nibbles per element of `nibbles` along the
/// innermost dimension and that all other dimensions agree.
static LogicalResult verifyPacking(Operation *op, RankedTensorType nibbles,
                                   RankedTensorType bytes) {
  if (nibbles.getRank() != bytes.getRank())
    return op->emitOpError("4-bit and byte tensors must have the same rank, "
                           "but have ")
           << nibbles << " and " << bytes;
  if (nibbles.getRank() == 0)
    return op->emitOpError("requires a tensor of rank at least 1 to pack "
                           "along its innermost dimension");
  int64_t rank = nibbles.getRank();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (nibbles.getDimSize(i) != bytes.getDimSize(i))
      return op->emitOpError("dimension ")
             << i << " differs between " << nibbles << " and " << bytes;
  int64_t inner = nibbles.getDimSize(rank - 1);
  int64_t innerBytes = bytes.getDimSize(rank - 1);
  if (ShapedType::isDynamic(inner) != ShapedType::isDynamic(innerBytes))
    return op->emitOpError("innermost dimensions of ")
           << nibbles << " and " << bytes
           << " must both be static or both be dynamic";
  if (ShapedType::isDynamic(inner))
    return success();
  if (inner % 2 != 0)
    return op->emitOpError("innermost dimension of the 4-bit tensor must be "
                           "even, but is ")
           << inner;
  if (innerBytes * 2 != inner)
    return op->emitOpError("innermost dimension of the byte tensor must be "
                           "half of ")
           << inner << ", but is " << innerBytes;
  return success();
}

LogicalResult PackOp::verify() {
  return verifyPacking(*this, getInput().getType(), getResult().getType());
}

LogicalResult UnpackOp::verify() {
  return verifyPacking(*this, getResult().getType(), getInput().getType());
}

/// Packs the constant 4-bit elements of `attr` into bytes.
static Attribute packConstant(DenseIntElementsAttr attr,
                              RankedTensorType resultType) {
  SmallVector<APInt> bytes;
  bytes.reserve(resultType.getNumElements());
  auto values = attr.getValues<APInt>();
  for (auto it = values.begin(), e = values.end(); it != e;) {
    uint64_t lo = (*it++).getZExtValue() & 0xF;
    uint64_t hi = (*it++).getZExtValue() & 0xF;
    bytes.emplace_back(8, lo | (hi << 4));
  }
  return DenseIntElementsAttr::get(resultType, bytes);
}

/// Unpacks the constant bytes of `attr` into 4-bit elements.
static Attribute unpackConstant(DenseIntElementsAttr attr,
                                RankedTensorType resultType) {
  SmallVector<APInt> nibbles;
  nibbles.reserve(resultType.getNumElements());
  for (APInt byte : attr.getValues<APInt>()) {
    uint64_t b = byte.getZExtValue();
    nibbles.emplace_back(4, b & 0xF);
    nibbles.emplace_back(4, (b >> 4) & 0xF);
  }
  return DenseIntElementsAttr::get(resultType, nibbles);
}

OpFoldResult PackOp::fold(FoldAdaptor adaptor) {
  // pack(unpack(p)) is exactly p: every byte survives the round trip.
  if (auto unpack = getInput().getDefiningOp<UnpackOp>())
    if (unpack.getInput().getType() == getType())
      return unpack.getInput();
  auto attr = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (attr && getType().hasStaticShape())
    return packConstant(attr, getType());
  return {};
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  // unpack(pack(x)) is exactly x.
  if (auto pack = getInput().getDefiningOp<PackOp>())
    if (pack.getInput().getType() == getType())
      return pack.getInput();
  auto attr = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (attr && getType().hasStaticShape())
    return unpackConstant(attr, getType());
  return {};
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

Type MatmulOp::getWeightStorageType() {
  if (std::optional<Type> packed = getPacked())
    return *packed;
  return getWeight().getType().getElementType();
}

int64_t MatmulOp::getK() {
  int64_t k = getWeight().getType().getDimSize(1);
  if (getPacked() && !ShapedType::isDynamic(k))
    return 2 * k;
  return getPacked() ? ShapedType::kDynamic : k;
}

LogicalResult MatmulOp::verify() {
  RankedTensorType x = getInput().getType();
  RankedTensorType w = getWeight().getType();
  RankedTensorType y = getType();
  if (!isa<Float32Type, Float16Type>(getAccType()))
    return emitOpError("accumulator type must be f32 or f16, but is ")
           << getAccType();
  if (w.getRank() != 2)
    return emitOpError("weight must have rank 2 ([N, K]), but is ") << w;
  if (x.getRank() < 1)
    return emitOpError("input must have rank at least 1 ([..., K])");
  if (std::optional<Type> packed = getPacked()) {
    auto it = dyn_cast<IntegerType>(*packed);
    if (!it || it.getWidth() != 4 || it.isSigned())
      return emitOpError("'packed' must be i4 or ui4, but is ") << *packed;
    if (!w.getElementType().isSignlessInteger(8))
      return emitOpError("a packed weight is stored as i8 bytes, not ")
             << w.getElementType();
  }
  if (!w.hasStaticShape() || !getScale().getType().hasStaticShape() ||
      (getZeroPoint() &&
       !cast<RankedTensorType>(getZeroPoint().getType()).hasStaticShape()))
    return emitOpError("the weight and its scale and zero point must have "
                       "static shapes");
  if (w.getNumElements() == 0)
    return emitOpError("the weight must not be empty, but is ") << w;
  int64_t k = getK(), n = getN();
  int64_t xk = x.getDimSize(x.getRank() - 1);
  if (ShapedType::isDynamic(xk))
    return emitOpError("the input's last dimension (K) must be static");
  Type xElement = x.getElementType();
  bool quantizedInput = !isa<Float16Type, BFloat16Type, Float32Type,
                             Float64Type>(xElement);
  if (quantizedInput != bool(getInputScale()))
    return emitOpError(quantizedInput
                           ? "an input of codes needs input_scale"
                           : "input_scale needs an input of codes, not ")
           << (quantizedInput ? Type() : xElement);
  if (getInputZeroPoint() && !getInputScale())
    return emitOpError("an input zero point needs input_scale");
  if (quantizedInput) {
    Type wElement = getWeightStorageType();
    bool intPair = (xElement.isSignlessInteger(8) ||
                    xElement.isUnsignedInteger(8)) &&
                   wElement.isSignlessInteger(8);
    bool fp8Pair = isa<Float8E4M3FNType, Float8E5M2Type>(xElement) &&
                   isa<Float8E4M3FNType, Float8E5M2Type>(wElement);
    if (!intPair && !fp8Pair)
      return emitOpError("quantized inputs pair i8 or ui8 with an i8 weight or FP8 "
                         "with an FP8 weight, not ")
             << xElement << " with " << wElement;
    if (intPair && getZeroPoint())
      return emitOpError("W8A8 weights are symmetric (no zero point)");
    if (Value zx = getInputZeroPoint()) {
      auto zt = cast<RankedTensorType>(zx.getType());
      if (zt.getElementType() != xElement ||
          zt.getShape() !=
              cast<RankedTensorType>(getInputScale().getType()).getShape())
        return emitOpError("input zero point ")
               << zt << " must have the input's element type and the shape "
               << "of input_scale";
    }
    if (xElement.isUnsignedInteger(8) && !getInputZeroPoint())
      return emitOpError("ui8 activations need an input zero point");
    auto sx = cast<RankedTensorType>(getInputScale().getType());
    SmallVector<int64_t> perRow(x.getShape());
    perRow.back() = 1;
    if (sx.getRank() != 0 && sx.getShape() != ArrayRef<int64_t>(perRow))
      return emitOpError("input_scale must be per tensor (rank 0) or per row ")
             << "(the input shape with K replaced by 1), not " << sx;
  }
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(xk) && k != xk)
    return emitOpError("input has K = ")
           << xk << " but the weight " << w << " holds K = " << k
           << (getPacked() ? " (two 4-bit codes per byte)" : "");
  if (y.getRank() != x.getRank())
    return emitOpError("result rank ") << y.getRank()
           << " must equal the input rank " << x.getRank();
  for (int64_t i = 0; i + 1 < x.getRank(); ++i)
    if (x.getDimSize(i) != y.getDimSize(i))
      return emitOpError("result dimension ")
             << i << " must equal input dimension " << i;
  if (y.getDimSize(y.getRank() - 1) != n)
    return emitOpError("result has N = ")
           << y.getDimSize(y.getRank() - 1) << " but the weight has N = "
           << n;

  Type storage = getWeightStorageType();
  std::optional<StorageInfo> info = getStorageInfo(storage);
  std::string error;
  SmallVector<int64_t> logical{n, k};
  FailureOr<SmallVector<int64_t>> blocks =
      getBlockSizes(logical, getScale().getType().getShape(), &error);
  if (failed(blocks))
    return emitOpError(error);
  if (getPacked() && (*blocks)[1] % 2 != 0)
    return emitOpError("scale groups of a packed weight hold whole bytes "
                       "(an even number of codes along K), not ")
           << (*blocks)[1];
  if (Value zp = getZeroPoint()) {
    if (info->isFloat)
      return emitOpError("FP8 weights take no zero point");
    auto zpType = cast<RankedTensorType>(zp.getType());
    if (zpType.getElementType() != storage)
      return emitOpError("zero point element type ")
             << zpType.getElementType() << " must equal the weight storage "
             << storage;
    if (zpType.getShape() != getScale().getType().getShape())
      return emitOpError("zero point shape ")
             << zpType << " must equal the scale shape "
             << getScale().getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// observe
//===----------------------------------------------------------------------===//

ArrayRef<StringRef> ObserveOp::getKnownStats() {
  static const StringRef known[] = {"minmax", "histogram", "channel_absmax",
                                    "channel_absmean", "hessian"};
  return known;
}

LogicalResult ObserveOp::verify() {
  if (getName().empty())
    return emitOpError("requires a non-empty name");
  if (getStats().empty())
    return emitOpError("requires at least one statistic");
  for (Attribute a : getStats()) {
    StringRef stat = cast<StringAttr>(a).getValue();
    if (!llvm::is_contained(getKnownStats(), stat))
      return emitOpError("unknown statistic '")
             << stat << "' (expected minmax, histogram, channel_absmax, "
                        "channel_absmean or hessian)";
  }
  if (getInput().getType().getRank() == 0 &&
      llvm::any_of(getStats(), [](Attribute a) {
        return cast<StringAttr>(a).getValue() != "minmax" &&
               cast<StringAttr>(a).getValue() != "histogram";
      }))
    return emitOpError("per-channel statistics and the Hessian need a "
                       "tensor of rank at least 1");
  return success();
}

std::string mlir::qopt::getTensorMapError(ShapedType type,
                                          ArrayRef<int64_t> box) {
  std::string error;
  llvm::raw_string_ostream os(error);
  auto memref = dyn_cast<MemRefType>(type);
  Type elem = type.getElementType();
  unsigned bits = elem.isIntOrFloat() ? elem.getIntOrFloatBitWidth() : 0;
  if (!type.hasRank() || type.getRank() != 2 || !type.hasStaticShape() ||
      (memref && !memref.getLayout().isIdentity()) ||
      (bits != 8 && bits != 16 && bits != 32)) {
    os << "needs a static, row-major 2-D buffer of 1-, 2- or 4-byte "
          "elements; got '"
       << type << "'";
    return error;
  }
  int64_t elementBytes = bits / 8;
  // TMA: a non-empty tensor, global row strides and box rows in multiples
  // of 16 bytes, at most 256 elements a box dimension.
  if (type.getNumElements() == 0) {
    os << "needs a non-empty buffer; got '" << type << "'";
    return error;
  }
  if (type.getDimSize(1) * elementBytes % 16 != 0) {
    os << "needs rows of a multiple of 16 bytes (TMA strides); got "
       << type.getDimSize(1) * elementBytes;
    return error;
  }
  if (box.size() != 2 ||
      llvm::any_of(box, [](int64_t d) { return d < 1 || d > 256; }) ||
      box[1] * elementBytes % 16 != 0)
    os << "needs a box of 2 dimensions of 1 to 256 elements, its rows a "
          "multiple of 16 bytes";
  return error;
}

LogicalResult GPUTensorMapOp::verify() {
  std::string error = getTensorMapError(getBuffer().getType(), getBox());
  if (!error.empty())
    return emitOpError(error);
  return success();
}

void ObserveOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // Recording statistics is a side effect: the op must not be erased,
  // hoisted or merged with another observer of the same value.
  effects.emplace_back(MemoryEffects::Write::get(),
                       SideEffects::DefaultResource::get());
}

#define GET_OP_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptOps.cpp.inc"
