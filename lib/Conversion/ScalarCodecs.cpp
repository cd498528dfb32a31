//===- ScalarCodecs.cpp - FP8 encode / decode as integer IR ---------------===//

#include "ScalarCodecs.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

namespace mlir::qopt::detail {

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
  // Scalars or vectors alike: i8 codes to f32 values of the same shape.
  auto like = [&](Type element) -> Type {
    if (auto vector = dyn_cast<VectorType>(bits8.getType()))
      return vector.clone(element);
    return element;
  };
  Type i32 = like(b.getI32Type());
  Type f32 = like(b.getF32Type());
  auto c = [&](int64_t v) {
    return createScalarOrSplatConstant(b, loc, i32, v);
  };
  unsigned m = fmt.mantissaBits;
  // Sign-extended, the code's sign is bit 31 (the f32 sign) and its low 7
  // bits are the magnitude: exponent and mantissa, compared as one field.
  Value bits = arith::ExtSIOp::create(b, loc, i32, bits8);
  Value sign = arith::AndIOp::create(b, loc, bits, c(INT32_MIN));
  Value mag = arith::AndIOp::create(b, loc, bits, c(0x7F));

  // Normal: rebias the exponent and widen the mantissa (exponent and
  // mantissa move as one field: shift, then add the bias difference).
  Value normalBits = arith::AddIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, mag, c(23 - m)),
      c(int64_t(127 - fmt.bias) << 23));
  // Subnormal (exponent field 0, so the magnitude is the mantissa): the
  // mantissa times the smallest subnormal, exact in f32.
  Value subnormal = arith::MulFOp::create(
      b, loc, arith::UIToFPOp::create(b, loc, f32, mag),
      createScalarOrSplatConstant(
          b, loc, f32, APFloat(float(std::ldexp(1.0, 1 - fmt.bias - int(m))))));
  Value subnormalBits = arith::BitcastOp::create(b, loc, i32, subnormal);
  Value isSubnormal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, mag, c(1 << m));
  Value magnitude =
      arith::SelectOp::create(b, loc, isSubnormal, subnormalBits, normalBits);

  Value nanBits = c(0x7FC00000);
  if (fmt.hasInfinity) {
    // E5M2: exponent all ones (magnitudes 0x7C and up) is inf (mantissa 0)
    // or NaN.
    int64_t infCode = int64_t(31) << m;
    Value special = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                          mag, c(infCode));
    Value isInf = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mag,
                                        c(infCode));
    Value specialBits =
        arith::SelectOp::create(b, loc, isInf, c(0x7F800000), nanBits);
    magnitude =
        arith::SelectOp::create(b, loc, special, specialBits, magnitude);
  } else {
    // E4M3FN: only S.1111.111 is NaN; there is no infinity.
    Value isNaN =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mag, c(0x7F));
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


} // namespace mlir::qopt::detail
