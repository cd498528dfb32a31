//===- Float8Test.cpp - FP8 and nibble codecs against llvm::APFloat -------===//
//
// APFloat implements Float8E4M3FN and Float8E5M2 independently of
// quant-opt; it is the oracle here. Saturation is defined as "clip to the
// finite range, then convert", which is what the reference does.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Numerics/Float8.h"

#include "llvm/ADT/APFloat.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace quantopt;

namespace {

const llvm::fltSemantics &semantics(FP8Format f) {
  return f == FP8Format::E4M3FN ? llvm::APFloat::Float8E4M3FN()
                                : llvm::APFloat::Float8E5M2();
}

float referenceDecode(uint8_t code, FP8Format f) {
  llvm::APFloat v(semantics(f), llvm::APInt(8, code));
  bool lost;
  v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return v.convertToFloat();
}

uint8_t referenceEncode(float x, FP8Format f) {
  float max = f == FP8Format::E4M3FN ? 448.0f : 57344.0f;
  if (!std::isnan(x))
    x = std::fmin(std::fmax(x, -max), max);
  llvm::APFloat v(x);
  bool lost;
  v.convert(semantics(f), llvm::APFloat::rmNearestTiesToEven, &lost);
  return uint8_t(v.bitcastToAPInt().getZExtValue());
}

bool sameFloat(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, 4) == 0; // distinguishes +0 and -0
}

class Float8Test : public ::testing::TestWithParam<FP8Format> {};

TEST_P(Float8Test, DecodesEveryCode) {
  for (int code = 0; code < 256; ++code)
    EXPECT_TRUE(sameFloat(decodeFP8(code, GetParam()),
                          referenceDecode(code, GetParam())))
        << "code 0x" << std::hex << code;
}

TEST_P(Float8Test, EveryFiniteCodeRoundTrips) {
  for (int code = 0; code < 256; ++code) {
    float v = decodeFP8(code, GetParam());
    if (!std::isfinite(v))
      continue;
    EXPECT_EQ(encodeFP8(v, GetParam()), code) << "value " << v;
  }
}

TEST_P(Float8Test, TiesRoundToEven) {
  // The midpoint of every pair of neighbouring finite values.
  for (int code = 0; code < 0x7F; ++code) {
    float a = decodeFP8(code, GetParam());
    float b = decodeFP8(code + 1, GetParam());
    if (!std::isfinite(a) || !std::isfinite(b))
      continue;
    float mid = (a + b) / 2;
    EXPECT_EQ(encodeFP8(mid, GetParam()), referenceEncode(mid, GetParam()))
        << "tie " << mid;
    EXPECT_EQ(encodeFP8(-mid, GetParam()), referenceEncode(-mid, GetParam()))
        << "tie " << -mid;
  }
}

TEST_P(Float8Test, RandomValuesMatchReference) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    uint32_t b = bits(rng);
    float x;
    std::memcpy(&x, &b, 4);
    if (std::isnan(x))
      continue;
    ASSERT_EQ(encodeFP8(x, GetParam()), referenceEncode(x, GetParam()))
        << "x = " << x;
  }
  std::normal_distribution<float> normal(0.0f, 100.0f);
  for (int i = 0; i < 200000; ++i) {
    float x = normal(rng);
    ASSERT_EQ(encodeFP8(x, GetParam()), referenceEncode(x, GetParam()))
        << "x = " << x;
  }
}

TEST_P(Float8Test, SaturatesAndKeepsNaN) {
  FP8Format f = GetParam();
  float max = fp8MaxFinite(f);
  EXPECT_EQ(max, f == FP8Format::E4M3FN ? 448.0f : 57344.0f);
  EXPECT_EQ(decodeFP8(encodeFP8(INFINITY, f), f), max);
  EXPECT_EQ(decodeFP8(encodeFP8(-INFINITY, f), f), -max);
  EXPECT_EQ(decodeFP8(encodeFP8(1e30f, f), f), max);
  EXPECT_TRUE(std::isnan(decodeFP8(encodeFP8(NAN, f), f)));
  EXPECT_EQ(encodeFP8(-0.0f, f), 0x80);
}

INSTANTIATE_TEST_SUITE_P(Formats, Float8Test,
                         ::testing::Values(FP8Format::E4M3FN, FP8Format::E5M2),
                         [](const auto &info) {
                           return info.param == FP8Format::E4M3FN ? "E4M3FN"
                                                                  : "E5M2";
                         });

TEST(NibbleTest, SeedExample) {
  // The seed's pack_i4: (-3, 6) -> 0x6d.
  EXPECT_EQ(packNibbles(-3, 6), 0x6d);
  EXPECT_EQ(signExtendNibble(0x6d), -3);
  EXPECT_EQ(signExtendNibble(0x6d >> 4), 6);
}

TEST(NibbleTest, EveryByteRoundTrips) {
  for (int byte = 0; byte < 256; ++byte)
    EXPECT_EQ(packNibbles(signExtendNibble(byte), signExtendNibble(byte >> 4)),
              byte);
}

} // namespace
