//===- Quantize.h - Scales, zero points and round-to-nearest ------*- C++ -*-===//
//
// Quantization parameters from observed ranges for any block layout, and
// round-to-nearest (RTN) quantization with the same numerics as the
// compiled qopt ops: q = clip(round_half_even(x / s) + z, qmin, qmax),
// x' = s * (q - z), FP8 q = fp8(x / s) saturating.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_QUANTIZE_H
#define QUANT_OPT_NUMERICS_QUANTIZE_H

#include "quant-opt/Numerics/Storage.h"

#include <cstdint>
#include <span>
#include <vector>

namespace quantopt {

/// How to derive parameters from a range.
struct Scheme {
  Storage storage = Storage::I4;
  /// Symmetric: z = 0, s = max|x| / qmax. Asymmetric: the range is widened
  /// to contain 0 and mapped onto [qmin, qmax] (integer storage only).
  bool symmetric = true;
  /// Drop the most negative code (signed symmetric storage; the default for
  /// weights).
  bool narrowRange = true;
};

/// Scales and zero points laid out like a scale tensor of a BlockLayout.
struct QuantParams {
  Scheme scheme;
  std::vector<int64_t> shape;      ///< The scale shape (granularity).
  std::vector<float> scales;       ///< One per block, row-major.
  std::vector<int32_t> zeroPoints; ///< Empty when every zero point is 0.

  int32_t zeroPoint(int64_t block) const {
    return zeroPoints.empty() ? 0 : zeroPoints[block];
  }
};

/// s = amax / qmax (integer) or amax / fmax (FP8). A zero range gives
/// s = 1, which quantizes the all-zero block exactly; a range whose s
/// would be below the smallest normal f32 (2^-126) gets that.
float symmetricScale(float amax, Storage storage, bool narrowRange);

struct AffineParams {
  float scale;
  int32_t zeroPoint;
};
/// s = (b - a) / (qmax - qmin) over [a, b] = [min(lo, 0), max(hi, 0)], so
/// that real 0 is exactly representable; z = round(qmin - a / s) clamped
/// to the code range. The seed's UINT8 example: [-0.4, 5.7] gives
/// s = 6.1 / 255 and z = 17.
AffineParams asymmetricParams(float lo, float hi, Storage storage);

/// Parameters for `data` (row-major, layout.dataShape) from each block's
/// min / max. NaN and infinities do not widen the range.
QuantParams computeParams(std::span<const float> data,
                          const BlockLayout &layout, const Scheme &scheme);

/// Parameters for each block from given per-block ranges (`lo` is ignored
/// for symmetric schemes, which use max(|lo|, |hi|)).
QuantParams paramsFromRanges(std::span<const float> lo,
                             std::span<const float> hi,
                             std::vector<int64_t> scaleShape,
                             const Scheme &scheme);

/// Quantizes one value with a given scale and zero point.
int32_t quantizeValue(float x, float scale, int32_t zeroPoint, CodeRange r);

/// The code byte of one value (see quantize() for the byte format).
uint8_t quantizeCode(float x, float scale, int32_t zeroPoint, Storage storage,
                     bool narrowRange);

/// s * dequant(quant(x)) for one value with zero point z (0 for FP8).
float fakeQuantizeValue(float x, float scale, int32_t zeroPoint,
                        Storage storage, bool narrowRange);

/// RTN: codes are bytes, one per element: int8 / uint8 two's complement
/// for integer storage (4-bit codes sign- or zero-extended), raw bits for
/// FP8.
void quantize(std::span<const float> data, const BlockLayout &layout,
              const QuantParams &params, std::span<uint8_t> codes);
std::vector<uint8_t> quantize(std::span<const float> data,
                              const BlockLayout &layout,
                              const QuantParams &params);

/// Inverse of quantize: x' = s * (q - z) (FP8: s * float(q)).
void dequantize(std::span<const uint8_t> codes, const BlockLayout &layout,
                const QuantParams &params, std::span<float> out);

/// The real value of one code byte for `storage`.
float codeValue(uint8_t code, Storage storage);

/// Packs row-major 4-bit codes (one per byte; rows of even length) two per
/// byte: element 2k in the low nibble, 2k+1 in the high (qopt.pack).
void packNibbles(std::span<const uint8_t> codes, std::span<uint8_t> packed);
/// Inverse of packNibbles; `isSigned` sign-extends, else zero-extends.
void unpackNibbles(std::span<const uint8_t> packed, bool isSigned,
                   std::span<uint8_t> codes);

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_QUANTIZE_H
