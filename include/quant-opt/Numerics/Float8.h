//===- Float8.h - FP8 (E4M3FN, E5M2) and 4-bit codecs -------------*- C++ -*-===//
//
// MLIR-free scalar codecs: the reference the compiled code is tested
// against in C++, and what the tools use to print and convert values.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_FLOAT8_H
#define QUANT_OPT_NUMERICS_FLOAT8_H

#include <cstdint>

namespace quantopt {

enum class FP8Format {
  E4M3FN, ///< 1-4-3, bias 7, no infinity, NaN = S.1111.111, max 448.
  E5M2,   ///< 1-5-2, bias 15, IEEE-like infinities and NaNs, max 57344.
};

/// Largest finite value of `format`.
float fp8MaxFinite(FP8Format format);

/// Converts `value` to FP8 with round to nearest even, saturating
/// out-of-range values and infinities to the largest finite value (with
/// their sign). NaN becomes the format's canonical NaN with the input sign.
uint8_t encodeFP8(float value, FP8Format format);

/// Exact value of an FP8 code (every FP8 value is representable in f32).
float decodeFP8(uint8_t code, FP8Format format);

/// Packs two 4-bit codes into one byte: `lo` in bits 0-3, `hi` in bits 4-7.
inline uint8_t packNibbles(int lo, int hi) {
  return uint8_t((lo & 0x0F) | ((hi & 0x0F) << 4));
}

/// The signed (two's complement) value of the low 4 bits of `byte`.
inline int8_t signExtendNibble(uint8_t byte) {
  int v = byte & 0x0F;
  return int8_t(v >= 8 ? v - 16 : v);
}

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_FLOAT8_H
