//===- Quantize.cpp - Scales, zero points and round-to-nearest ------------===//

#include "quant-opt/Numerics/Quantize.h"

#include "quant-opt/Numerics/Float8.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace quantopt {

static FP8Format fp8Format(Storage s) {
  return s == Storage::F8E4M3FN ? FP8Format::E4M3FN : FP8Format::E5M2;
}

/// Calls f(offset, length, block) for each run of consecutive row-major
/// elements that share a block: the hot loops then run over contiguous
/// data with one scale, without per-element index arithmetic.
template <typename F>
static void forEachSegment(const BlockLayout &layout, F f) {
  int64_t total = layout.numElements();
  if (total == 0)
    return;
  if (layout.scaleShape.empty()) { // per tensor
    f(int64_t(0), total, int64_t(0));
    return;
  }
  const auto &shape = layout.dataShape;
  const auto &blocks = layout.blockShape;
  size_t rank = shape.size();
  int64_t inner = shape[rank - 1], innerBlock = blocks[rank - 1];
  int64_t innerScales = layout.scaleShape[rank - 1];
  // Row-major strides of the scale tensor.
  std::vector<int64_t> scaleStride(rank, 1);
  for (int64_t k = int64_t(rank) - 2; k >= 0; --k)
    scaleStride[k] = scaleStride[k + 1] * layout.scaleShape[k + 1];
  std::vector<int64_t> idx(rank, 0); // outer multi-index (last stays 0)
  for (int64_t offset = 0; offset < total; offset += inner) {
    int64_t base = 0;
    for (size_t k = 0; k + 1 < rank; ++k)
      base += (idx[k] / blocks[k]) * scaleStride[k];
    for (int64_t b = 0; b < innerScales; ++b)
      f(offset + b * innerBlock, innerBlock, base + b);
    for (int64_t k = int64_t(rank) - 2; k >= 0; --k) {
      if (++idx[k] < shape[k])
        break;
      idx[k] = 0;
    }
  }
}

/// A range so small that its scale would be subnormal or 0 (x / s would
/// overflow, s q underflow) gets the smallest normal f32 instead: every
/// value of the range still quantizes within the codes.
static float normalScale(float s) {
  return std::max(s, std::numeric_limits<float>::min());
}

float symmetricScale(float amax, Storage storage, bool narrowRange) {
  amax = std::fabs(amax);
  if (!(amax > 0))
    return 1.0f;
  if (isFloat8(storage))
    return normalScale(amax / fp8MaxFinite(storage));
  return normalScale(amax / float(codeRange(storage, narrowRange).qmax));
}

AffineParams asymmetricParams(float lo, float hi, Storage storage) {
  CodeRange r = codeRange(storage, /*narrowRange=*/false);
  float a = std::min(lo, 0.0f), b = std::max(hi, 0.0f);
  if (!(b > a))
    return {1.0f, std::clamp<int32_t>(0, r.qmin, r.qmax)};
  float s = normalScale((b - a) / float(r.qmax - r.qmin));
  float z = std::nearbyint(float(r.qmin) - a / s);
  z = std::clamp(z, float(r.qmin), float(r.qmax));
  return {s, int32_t(z)};
}

QuantParams paramsFromRanges(std::span<const float> lo,
                             std::span<const float> hi,
                             std::vector<int64_t> scaleShape,
                             const Scheme &scheme) {
  assert(lo.size() == hi.size() && "one range per block");
  QuantParams p;
  p.scheme = scheme;
  p.shape = std::move(scaleShape);
  p.scales.resize(hi.size());
  bool affine = !scheme.symmetric && !isFloat8(scheme.storage);
  if (affine)
    p.zeroPoints.resize(hi.size());
  for (size_t b = 0; b < hi.size(); ++b) {
    if (affine) {
      AffineParams ap = asymmetricParams(lo[b], hi[b], scheme.storage);
      p.scales[b] = ap.scale;
      p.zeroPoints[b] = ap.zeroPoint;
      continue;
    }
    float amax = std::max(std::fabs(lo[b]), std::fabs(hi[b]));
    p.scales[b] = symmetricScale(amax, scheme.storage, scheme.narrowRange);
  }
  if (affine && std::all_of(p.zeroPoints.begin(), p.zeroPoints.end(),
                            [](int32_t z) { return z == 0; }))
    p.zeroPoints.clear();
  return p;
}

QuantParams computeParams(std::span<const float> data,
                          const BlockLayout &layout, const Scheme &scheme) {
  int64_t blocks = layout.numBlocks();
  std::vector<float> lo(blocks, std::numeric_limits<float>::infinity());
  std::vector<float> hi(blocks, -std::numeric_limits<float>::infinity());
  forEachSegment(layout, [&](int64_t offset, int64_t length, int64_t b) {
    float l = lo[b], h = hi[b];
    for (int64_t i = offset; i < offset + length; ++i) {
      float x = data[i];
      // NaN and infinities say nothing about the range.
      if (std::fabs(x) <= std::numeric_limits<float>::max()) {
        l = std::min(l, x);
        h = std::max(h, x);
      }
    }
    lo[b] = l;
    hi[b] = h;
  });
  for (int64_t b = 0; b < blocks; ++b)
    if (lo[b] > hi[b]) // empty or all-NaN block
      lo[b] = hi[b] = 0.0f;
  return paramsFromRanges(lo, hi, layout.scaleShape, scheme);
}

int32_t quantizeValue(float x, float scale, int32_t zeroPoint, CodeRange r) {
  float v = std::nearbyint(x / scale) + float(zeroPoint);
  if (std::isnan(v))
    return zeroPoint;
  return int32_t(std::clamp(v, float(r.qmin), float(r.qmax)));
}

float codeValue(uint8_t code, Storage storage) {
  switch (storage) {
  case Storage::I8:
  case Storage::I4:
    return float(int8_t(code));
  case Storage::UI8:
  case Storage::UI4:
    return float(code);
  case Storage::F8E4M3FN:
  case Storage::F8E5M2:
    return decodeFP8(code, fp8Format(storage));
  }
  return 0.0f;
}

uint8_t quantizeCode(float x, float scale, int32_t zeroPoint, Storage storage,
                     bool narrowRange) {
  if (isFloat8(storage))
    return encodeFP8(x / scale, fp8Format(storage));
  return uint8_t(
      quantizeValue(x, scale, zeroPoint, codeRange(storage, narrowRange)));
}

float fakeQuantizeValue(float x, float scale, int32_t zeroPoint,
                        Storage storage, bool narrowRange) {
  uint8_t code = quantizeCode(x, scale, zeroPoint, storage, narrowRange);
  return scale * (codeValue(code, storage) - float(zeroPoint));
}

void quantize(std::span<const float> data, const BlockLayout &layout,
              const QuantParams &params, std::span<uint8_t> codes) {
  assert(codes.size() == data.size() && "one code per element");
  Storage storage = params.scheme.storage;
  if (isFloat8(storage)) {
    FP8Format f = fp8Format(storage);
    forEachSegment(layout, [&](int64_t offset, int64_t length, int64_t b) {
      float s = params.scales[b];
      for (int64_t i = offset; i < offset + length; ++i)
        codes[i] = encodeFP8(data[i] / s, f);
    });
    return;
  }
  CodeRange r = codeRange(storage, params.scheme.narrowRange);
  const float lo = float(r.qmin), hi = float(r.qmax);
  forEachSegment(layout, [&](int64_t offset, int64_t length, int64_t b) {
    const float s = params.scales[b];
    const float z = float(params.zeroPoint(b));
    // Branch-free so that it vectorises: NaN fails both comparisons of the
    // clamp and is replaced by z.
    for (int64_t i = offset; i < offset + length; ++i) {
      float v = std::nearbyint(data[i] / s) + z;
      float c = v < lo ? lo : (v > hi ? hi : v);
      c = v == v ? c : z;
      codes[i] = uint8_t(int32_t(c));
    }
  });
}

std::vector<uint8_t> quantize(std::span<const float> data,
                              const BlockLayout &layout,
                              const QuantParams &params) {
  std::vector<uint8_t> codes(data.size());
  quantize(data, layout, params, codes);
  return codes;
}

void dequantize(std::span<const uint8_t> codes, const BlockLayout &layout,
                const QuantParams &params, std::span<float> out) {
  assert(codes.size() == out.size() && "one value per code");
  Storage storage = params.scheme.storage;
  forEachSegment(layout, [&](int64_t offset, int64_t length, int64_t b) {
    const float s = params.scales[b];
    const float z = float(params.zeroPoint(b));
    switch (storage) {
    case Storage::I8:
    case Storage::I4:
      for (int64_t i = offset; i < offset + length; ++i)
        out[i] = s * (float(int8_t(codes[i])) - z);
      break;
    case Storage::UI8:
    case Storage::UI4:
      for (int64_t i = offset; i < offset + length; ++i)
        out[i] = s * (float(codes[i]) - z);
      break;
    case Storage::F8E4M3FN:
    case Storage::F8E5M2:
      for (int64_t i = offset; i < offset + length; ++i)
        out[i] = s * codeValue(codes[i], storage);
      break;
    }
  });
}

void packNibbles(std::span<const uint8_t> codes, std::span<uint8_t> packed) {
  assert(codes.size() == 2 * packed.size() && "two codes per byte");
  for (size_t k = 0; k < packed.size(); ++k)
    packed[k] = packNibbles(codes[2 * k], codes[2 * k + 1]);
}

void unpackNibbles(std::span<const uint8_t> packed, bool isSigned,
                   std::span<uint8_t> codes) {
  assert(codes.size() == 2 * packed.size() && "two codes per byte");
  for (size_t k = 0; k < packed.size(); ++k) {
    uint8_t b = packed[k];
    codes[2 * k] = isSigned ? uint8_t(signExtendNibble(b)) : (b & 0x0F);
    codes[2 * k + 1] =
        isSigned ? uint8_t(signExtendNibble(b >> 4)) : uint8_t(b >> 4);
  }
}

} // namespace quantopt
