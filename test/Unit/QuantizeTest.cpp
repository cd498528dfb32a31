//===- QuantizeTest.cpp - Parameters, RTN and packing; the seed's examples ===//

#include "quant-opt/Numerics/Quantize.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <random>
#include <utility>

using namespace quantopt;

namespace {

TEST(SeedExamples, PerTensorInt8) {
  // Observed range [-2.8, 3.1]: s = 3.1 / 127 ~ 0.0244; 0.70 -> 29 -> 0.7076.
  float s = symmetricScale(3.1f, Storage::I8, /*narrowRange=*/true);
  EXPECT_FLOAT_EQ(s, 3.1f / 127.0f);
  EXPECT_NEAR(s, 0.0244f, 5e-5f);
  EXPECT_EQ(quantizeValue(0.70f, s, 0, codeRange(Storage::I8, true)), 29);
  EXPECT_NEAR(29 * s, 0.7076f, 5e-4f);
}

TEST(SeedExamples, AsymmetricUint8) {
  AffineParams p = asymmetricParams(-0.4f, 5.7f, Storage::UI8);
  EXPECT_FLOAT_EQ(p.scale, 6.1f / 255.0f);
  EXPECT_NEAR(p.scale, 0.0239f, 5e-5f);
  EXPECT_EQ(p.zeroPoint, 17);
  // Real zero is exactly the zero point.
  EXPECT_EQ(quantizeValue(0.0f, p.scale, p.zeroPoint, codeRange(Storage::UI8)),
            17);
}

TEST(SeedExamples, PerRowInt4) {
  // Rows in [-0.2, 0.2] and [-2, 2]: per-tensor s = 2/7; per-row 0.2/7.
  std::vector<float> w = {-0.2f, -0.1f, 0.05f, 0.2f, -2.0f, -1.0f, 0.5f, 2.0f};
  Scheme scheme{Storage::I4, true, true};
  QuantParams perTensor = computeParams(w, *BlockLayout::get({2, 4}, {}), scheme);
  EXPECT_NEAR(perTensor.scales[0], 2.0f / 7.0f, 1e-6f);
  QuantParams perRow =
      computeParams(w, *BlockLayout::get({2, 4}, {2, 1}), scheme);
  EXPECT_NEAR(perRow.scales[0], 0.2f / 7.0f, 1e-7f);
  EXPECT_NEAR(perRow.scales[1], 2.0f / 7.0f, 1e-6f);
  // Per tensor, the small row only uses codes -1, 0, 1.
  std::vector<uint8_t> codes =
      quantize(w, *BlockLayout::get({2, 4}, {}), perTensor);
  for (int i = 0; i < 4; ++i)
    EXPECT_LE(std::abs(int8_t(codes[i])), 1);
  // Per row it uses the full [-7, 7].
  codes = quantize(w, *BlockLayout::get({2, 4}, {2, 1}), perRow);
  EXPECT_EQ(int8_t(codes[0]), -7);
  EXPECT_EQ(int8_t(codes[3]), 7);
}

TEST(SeedExamples, ExerciseInt4AndPack) {
  // [-0.33, -0.10, 0.02, 0.41], symmetric INT4 by max |x|: s = 0.41 / 7,
  // codes [-6, -2, 0, 7]; the first two pack to 0xEA.
  std::vector<float> x = {-0.33f, -0.10f, 0.02f, 0.41f};
  QuantParams p = computeParams(x, *BlockLayout::get({4}, {}),
                                Scheme{Storage::I4, true, true});
  EXPECT_FLOAT_EQ(p.scales[0], 0.41f / 7.0f);
  std::vector<uint8_t> codes = quantize(x, *BlockLayout::get({4}, {}), p);
  EXPECT_EQ(int8_t(codes[0]), -6);
  EXPECT_EQ(int8_t(codes[1]), -2);
  EXPECT_EQ(int8_t(codes[2]), 0);
  EXPECT_EQ(int8_t(codes[3]), 7);
  std::vector<uint8_t> packed(2);
  packNibbles(codes, packed);
  EXPECT_EQ(packed[0], 0xEA);
  std::vector<uint8_t> back(4);
  unpackNibbles(packed, /*isSigned=*/true, back);
  EXPECT_EQ(back, codes);
}

TEST(SeedExamples, PackI4) {
  std::vector<uint8_t> codes = {uint8_t(int8_t(-3)), 6};
  std::vector<uint8_t> packed(1);
  packNibbles(codes, packed);
  EXPECT_EQ(packed[0], 0x6d);
}

TEST(Params, ZeroRangeIsExact) {
  std::vector<float> zeros(8, 0.0f);
  for (Storage s : {Storage::I8, Storage::I4, Storage::UI8, Storage::F8E4M3FN})
    for (bool sym : {true, false}) {
      Scheme scheme{s, sym, isSignedInteger(s)};
      BlockLayout l = *BlockLayout::get({8}, {});
      QuantParams p = computeParams(zeros, l, scheme);
      std::vector<float> out(8);
      dequantize(quantize(zeros, l, p), l, p, out);
      for (float v : out)
        EXPECT_EQ(v, 0.0f) << storageName(s);
    }
}

TEST(Params, FP8Scales) {
  EXPECT_FLOAT_EQ(symmetricScale(896.0f, Storage::F8E4M3FN, false), 2.0f);
  EXPECT_FLOAT_EQ(symmetricScale(57344.0f, Storage::F8E5M2, false), 1.0f);
}

TEST(Params, TinyRangesKeepANormalScale) {
  // amax / 127 of 1e-45 (the smallest subnormal) and of 1e-40 would be 0
  // and subnormal: both get the smallest normal f32, and the range still
  // quantizes within the codes.
  const float least = std::numeric_limits<float>::min();
  for (float amax : {1e-45f, 1e-40f, 1e-37f}) {
    for (auto [s, largest] :
         {std::pair{Storage::I8, 127.0f}, std::pair{Storage::I4, 7.0f},
          std::pair{Storage::F8E4M3FN, 448.0f}}) {
      float scale = symmetricScale(amax, s, false);
      EXPECT_GE(scale, least) << amax << " " << storageName(s);
      EXPECT_TRUE(std::isnormal(scale));
      EXPECT_LE(amax / scale, largest) << amax << " " << storageName(s);
    }
    AffineParams p = asymmetricParams(0.0f, amax, Storage::UI8);
    EXPECT_GE(p.scale, least) << amax;
    EXPECT_EQ(p.zeroPoint, 0) << amax;
  }
  // Ranges whose scale is normal are untouched.
  EXPECT_FLOAT_EQ(symmetricScale(127.0f * least * 4, Storage::I8, false),
                  least * 4);
}

TEST(Params, AsymmetricWidensToZero) {
  // [1, 3] is widened to [0, 3]: zero point 0 for ui8.
  AffineParams p = asymmetricParams(1.0f, 3.0f, Storage::UI8);
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 255.0f);
  EXPECT_EQ(p.zeroPoint, 0);
  // [-3, -1] -> [-3, 0]: zero point 255.
  p = asymmetricParams(-3.0f, -1.0f, Storage::UI8);
  EXPECT_EQ(p.zeroPoint, 255);
  // Signed i8 over [-1, 3]: z = round(-128 + 1 / (4/255)) = -64.
  p = asymmetricParams(-1.0f, 3.0f, Storage::I8);
  EXPECT_EQ(p.zeroPoint, -64);
}

TEST(RTN, BlockLayoutsAndErrorBound) {
  // Every granularity: |x - x'| <= s / 2 inside the range.
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(64 * 256);
  for (float &v : x)
    v = normal(rng);
  for (std::vector<int64_t> scaleShape :
       {std::vector<int64_t>{}, {64, 1}, {64, 2}, {1, 256}, {4, 8}}) {
    BlockLayout l = *BlockLayout::get({64, 256}, scaleShape);
    for (Storage s : {Storage::I8, Storage::I4, Storage::UI8, Storage::UI4}) {
      Scheme scheme{s, isSignedInteger(s), isSignedInteger(s)};
      QuantParams p = computeParams(x, l, scheme);
      std::vector<float> out(x.size());
      dequantize(quantize(x, l, p), l, p, out);
      std::vector<int64_t> blocks = l.blockIndices();
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_LE(std::fabs(out[i] - x[i]), p.scales[blocks[i]] * 0.5f * 1.0001f)
            << storageName(s) << " element " << i;
    }
  }
}

TEST(BlockLayout, Indices) {
  BlockLayout l = *BlockLayout::get({4, 6}, {2, 3});
  std::vector<int64_t> idx = l.blockIndices();
  // Row 0: blocks 0 0 1 1 2 2; row 2: blocks 3 3 4 4 5 5.
  EXPECT_EQ(idx[0], 0);
  EXPECT_EQ(idx[2], 1);
  EXPECT_EQ(idx[5], 2);
  EXPECT_EQ(idx[6 + 5], 2);
  EXPECT_EQ(idx[12], 3);
  EXPECT_EQ(idx[23], 5);
  std::string error;
  EXPECT_FALSE(BlockLayout::get({4, 6}, {3, 3}, &error));
  EXPECT_NE(error.find("not a multiple"), std::string::npos);
}

TEST(Storage, Names) {
  for (const char *n : {"i8", "i4", "ui8", "ui4", "f8E4M3FN", "f8E5M2"})
    EXPECT_STREQ(storageName(*parseStorage(n)), n);
  EXPECT_FALSE(parseStorage("i16"));
}

} // namespace
