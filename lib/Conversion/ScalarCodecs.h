//===- ScalarCodecs.h - Scalar IR for quantization formulas ------*- C++ -*-===//
//
// Builders shared by the qopt lowerings: constants, float casts, signless
// views of unsigned / FP8 values, and FP8 encode / decode as integer
// arithmetic on the bit pattern.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_CONVERSION_SCALARCODECS_H
#define QUANT_OPT_LIB_CONVERSION_SCALARCODECS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir::qopt::detail {

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
    if (from == to) // f16 <-> bf16: through f32, which holds both exactly
      return arith::TruncFOp::create(
          b, loc, t, arith::ExtFOp::create(b, loc, b.getF32Type(), v));
    if (from < to)
      return arith::ExtFOp::create(b, loc, t, v);
    return arith::TruncFOp::create(b, loc, t, v);
  }
  /// Sign- or zero-extends the signless integer `v` to `width` bits.
  Value extendInt(Value v, unsigned width, bool isSigned) {
    Type t = b.getIntegerType(width);
    if (isSigned)
      return arith::ExtSIOp::create(b, loc, t, v);
    return arith::ExtUIOp::create(b, loc, t, v);
  }
  /// Views an unsigned integer or FP8 scalar (or vector of them) as a
  /// signless integer of the same shape, the only form `arith` computes on.
  Value toSignless(Value v) {
    Type t = v.getType();
    Type element = getElementTypeOrSelf(t);
    Type signless = b.getIntegerType(element.getIntOrFloatBitWidth());
    if (auto vector = dyn_cast<VectorType>(t))
      signless = vector.clone(signless);
    if (auto it = dyn_cast<IntegerType>(element)) {
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
    if (isa<IntegerType>(getElementTypeOrSelf(t)))
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
Value emitEncodeFP8(Emitter &e, Value v, const FP8Layout &fmt);

/// Decodes FP8 bits (i8, or a vector of i8) to f32 values of the same
/// shape, exactly: subnormals, E5M2 infinities and NaN included.
Value emitDecodeFP8(Emitter &e, Value bits8, const FP8Layout &fmt);

/// The float type scalar arithmetic runs in: f64 if any operand is f64,
/// else f32.
Type getComputeType(OpBuilder &b, Type a, Type c);

} // namespace mlir::qopt::detail

#endif // QUANT_OPT_LIB_CONVERSION_SCALARCODECS_H
