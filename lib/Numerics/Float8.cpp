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
  uint8_t sign = std::signbit(value) ? 0x80 : 0x00;
  if (std::isnan(value))
    return sign | l.nanCode;
  float mag = std::fabs(value);
  // Work in units of the smallest subnormal: rounding there to an integer,
  // with the step doubling per binade, is exactly FP8 round-to-nearest-even.
  int minExp = 1 - l.bias; // exponent of the smallest normal
  uint32_t code;
  if (mag < std::ldexp(1.0f, minExp)) {
    code = uint32_t(std::nearbyint(std::ldexp(mag, l.bias - 1 + l.mantissaBits)));
  } else if (mag >= std::ldexp(1.0f, 2 * l.bias + 2)) {
    code = l.maxCode; // far out of range (also +-inf)
  } else {
    int exp;
    float frac = std::frexp(mag, &exp); // mag = frac * 2^exp, frac in [0.5, 1)
    int e = exp - 1;                    // mag = (2 * frac) * 2^e
    float scaled = std::ldexp(frac * 2.0f - 1.0f, l.mantissaBits);
    uint32_t mant = uint32_t(std::nearbyint(scaled)); // may carry to 2^M
    code = (uint32_t(e + l.bias) << l.mantissaBits) + mant;
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
