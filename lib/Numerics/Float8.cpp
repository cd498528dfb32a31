//===- Float8.cpp - FP8 codecs --------------------------------------------===//

#include "quant-opt/Numerics/Float8.h"

#include <cmath>
#include <cstring>

namespace quantopt {
namespace {

struct Layout {
  int mantissaBits;
  int bias;
  uint8_t maxCode; // magnitude code of the largest finite value
  uint8_t nanCode; // magnitude code of the canonical NaN
  bool hasInfinity;
};

Layout getLayout(FP8Format format) {
  if (format == FP8Format::E4M3FN)
    return {3, 7, 0x7E, 0x7F, false};
  return {2, 15, 0x7B, 0x7E, true};
}

} // namespace

float fp8MaxFinite(FP8Format format) {
  return decodeFP8(getLayout(format).maxCode, format);
}

uint8_t encodeFP8(float value, FP8Format format) {
  Layout l = getLayout(format);
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint8_t sign = uint8_t((bits >> 24) & 0x80);
  uint32_t mag = bits & 0x7FFFFFFF;
  if (mag > 0x7F800000) // NaN
    return sign | l.nanCode;
  uint32_t code;
  const uint32_t minNormal = uint32_t(128 - l.bias) << 23; // 2^(1 - bias)
  if (mag < minNormal) {
    // Subnormal range: the code is the value in units of the smallest
    // subnormal; scaling by a power of two is exact.
    float m;
    std::memcpy(&m, &mag, 4);
    code = uint32_t(
        std::nearbyint(m * std::ldexp(1.0f, l.bias - 1 + l.mantissaBits)));
  } else {
    // Round the f32 mantissa to M bits on the bit pattern (round half to
    // even; a carry into the exponent is right), then rebias. Infinity's
    // all-ones exponent lands far above the largest code.
    const int drop = 23 - l.mantissaBits;
    uint32_t rounded = mag + ((1u << (drop - 1)) - 1) + ((mag >> drop) & 1);
    code = (rounded >> drop) - (uint32_t(127 - l.bias) << l.mantissaBits);
  }
  if (code > l.maxCode)
    code = l.maxCode;
  return sign | uint8_t(code);
}

float decodeFP8(uint8_t code, FP8Format format) {
  Layout l = getLayout(format);
  float sign = (code & 0x80) ? -1.0f : 1.0f;
  int mag = code & 0x7F;
  int exponent = mag >> l.mantissaBits;
  int mantissa = mag & ((1 << l.mantissaBits) - 1);
  if (!l.hasInfinity && mag == 0x7F)
    return std::copysign(NAN, sign);
  if (l.hasInfinity && exponent == (1 << (7 - l.mantissaBits)) - 1)
    return mantissa == 0 ? sign * INFINITY : std::copysign(NAN, sign);
  if (exponent == 0)
    return sign * std::ldexp(float(mantissa), 1 - l.bias - l.mantissaBits);
  return sign * std::ldexp(1.0f + std::ldexp(float(mantissa), -l.mantissaBits),
                           exponent - l.bias);
}

} // namespace quantopt
