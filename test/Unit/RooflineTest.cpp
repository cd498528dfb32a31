//===- RooflineTest.cpp - The seed's storage and bandwidth exercises ------===//

#include "quant-opt/Numerics/Roofline.h"

#include "gtest/gtest.h"

using namespace quantopt;

namespace {

constexpr double MiB = 1024.0 * 1024.0;

TEST(Storage, SeedLayerExercise) {
  // An 8192 x 4096 linear layer (8192 output channels).
  TensorBytes fp16 = tensorBytes({8192, 4096}, {}, {16, 0, 0});
  EXPECT_EQ(fp16.total(), 67108864);
  EXPECT_DOUBLE_EQ(fp16.total() / MiB, 64.0);

  TensorBytes int8 = tensorBytes({8192, 4096}, {8192, 1}, {8, 2, 0});
  EXPECT_EQ(int8.codes, 33554432);
  EXPECT_EQ(int8.scales, 16384);
  EXPECT_EQ(int8.total(), 33570816);
  EXPECT_DOUBLE_EQ(int8.total() / MiB, 32.015625);

  TensorBytes int4 = tensorBytes({8192, 4096}, {8192, 32}, {4, 2, 0});
  EXPECT_EQ(int4.codes, 16777216);
  EXPECT_EQ(int4.scales, 524288);
  EXPECT_EQ(int4.total(), 17301504);
  EXPECT_DOUBLE_EQ(int4.total() / MiB, 16.5);
}

TEST(Storage, SeedFormatSection) {
  // 4096 x 4096 FP16 is 32 MiB; INT4 g128 codes 8 MiB plus 256 KiB scales.
  EXPECT_DOUBLE_EQ(tensorBytes({4096, 4096}, {}, {16}).total() / MiB, 32.0);
  TensorBytes t = tensorBytes({4096, 4096}, {4096, 32}, {4, 2, 0});
  EXPECT_DOUBLE_EQ(t.codes / MiB, 8.0);
  EXPECT_EQ(t.scales, 256 * 1024);
}

TEST(Storage, SeventyBillion) {
  // 0.5 + 2/128 = 0.515625 bytes per parameter; 70e9 of them ~ 36.1 GB,
  // of which 1.09 GB are scales.
  double bpp = bytesPerParameter({4, 2, 0}, 128);
  EXPECT_DOUBLE_EQ(bpp, 0.515625);
  double total = 70e9 * bpp;
  EXPECT_NEAR(total / 1e9, 36.1, 0.01);
  EXPECT_NEAR(70e9 / 128 * 2 / 1e9, 1.09, 0.01);
  EXPECT_DOUBLE_EQ(bytesPerParameter({16, 0, 0}, 0) * 70e9 / 1e9, 140.0);
}

TEST(Roofline, BandwidthExercise) {
  // 1.2 GB of FP16 weights per token at 900 GB/s: 1.33 ms; INT4 with 3%
  // metadata: 1.2 / 4 * 1.03 = 0.309 GB -> 0.343 ms.
  EXPECT_NEAR(transferSeconds(1.2e9, 900e9) * 1e3, 1.333, 1e-3);
  EXPECT_NEAR(transferSeconds(1.2e9 / 4 * 1.03, 900e9) * 1e3, 0.343, 1e-3);
}

TEST(Roofline, Targets) {
  Target h100 = *getTarget("h100-sxm");
  EXPECT_DOUBLE_EQ(h100.bandwidth, 3.35e12);
  EXPECT_DOUBLE_EQ(h100.peak(Precision::BF16), 989e12);
  EXPECT_DOUBLE_EQ(h100.peak(Precision::FP8), 1979e12);
  EXPECT_DOUBLE_EQ(h100.peak(Precision::INT8), 1979e12);
  EXPECT_DOUBLE_EQ(getTarget("h200")->bandwidth, 4.8e12);
  EXPECT_TRUE(getTarget("a100-sxm"));
  EXPECT_FALSE(getTarget("tpu"));
  // Memory-bound below the ridge point, compute-bound above.
  double ridge = h100.ridgePoint(Precision::BF16);
  EXPECT_NEAR(ridge, 989e12 / 3.35e12, 1e-9);
  EXPECT_DOUBLE_EQ(h100.roofline(Precision::BF16, 1.0), 3.35e12);
  EXPECT_DOUBLE_EQ(h100.roofline(Precision::BF16, 1e4), 989e12);
  // A GEMV at batch 1 with FP16 weights: 2 FLOP per 2-byte weight.
  EXPECT_DOUBLE_EQ(h100.roofline(Precision::BF16, 1.0), h100.bandwidth);
}

} // namespace
