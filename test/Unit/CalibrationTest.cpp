//===- CalibrationTest.cpp - Observers and calibrators --------------------===//

#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/Quantize.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace quantopt;

namespace {

std::vector<float> studentT(int n, float dof, unsigned seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> t(dof);
  std::vector<float> x(n);
  for (float &v : x)
    v = t(rng);
  return x;
}

/// Mean squared error of symmetric INT8 quantization clipped at threshold.
double quantizationMSE(const std::vector<float> &x, float threshold) {
  float s = symmetricScale(threshold, Storage::I8, false);
  double e = 0;
  for (float v : x) {
    float q = fakeQuantizeValue(v, s, 0, Storage::I8, false);
    e += double(v - q) * double(v - q);
  }
  return e / double(x.size());
}

TEST(MinMax, ObservesAndMerges) {
  MinMaxObserver a, b, all;
  std::vector<float> x1 = {1.0f, -2.0f, NAN, 3.0f};
  std::vector<float> x2 = {-5.0f, INFINITY, 0.5f};
  a.observe(x1);
  b.observe(x2);
  all.observe(x1);
  all.observe(x2);
  a.merge(b);
  EXPECT_EQ(a.min(), -5.0f);
  EXPECT_EQ(a.max(), 3.0f);
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.count(), 5);
}

TEST(MovingAverage, FollowsPyTorchUpdate) {
  MovingAverageMinMaxObserver o(0.5f);
  std::vector<float> x1 = {-1.0f, 1.0f}, x2 = {-3.0f, 5.0f};
  o.observe(x1);
  o.observe(x2);
  EXPECT_FLOAT_EQ(o.min(), -2.0f); // -1 + 0.5 * (-3 - -1)
  EXPECT_FLOAT_EQ(o.max(), 3.0f);  // 1 + 0.5 * (5 - 1)
}

TEST(Histogram, GrowsByExactMerges) {
  AbsHistogram h(8);
  std::vector<float> small = {0.1f, 0.3f, 0.9f}; // range 1, width 1/8
  h.observe(small);
  EXPECT_EQ(h.range(), 1.0f);
  EXPECT_EQ(h.counts()[0], 1u); // 0.1
  EXPECT_EQ(h.counts()[2], 1u); // 0.3
  EXPECT_EQ(h.counts()[7], 1u); // 0.9
  std::vector<float> big = {3.5f};
  h.observe(big); // range 4: bins of 0.5, old bins merge 4 -> 1
  EXPECT_EQ(h.range(), 4.0f);
  EXPECT_EQ(h.counts()[0], 2u); // 0.1, 0.3
  EXPECT_EQ(h.counts()[1], 1u); // 0.9
  EXPECT_EQ(h.counts()[7], 1u); // 3.5
  EXPECT_EQ(h.total(), 4u);
}

TEST(Histogram, MergeEqualsOneRunOverBoth) {
  std::vector<float> x1 = studentT(5000, 3, 1), x2 = studentT(5000, 3, 2);
  for (float &v : x2)
    v *= 10; // a different range
  AbsHistogram a, b, both;
  a.observe(x1);
  b.observe(x2);
  both.observe(x1);
  both.observe(x2);
  a.merge(b);
  EXPECT_EQ(a.range(), both.range());
  EXPECT_EQ(a.counts(), both.counts());
  EXPECT_EQ(a.total(), both.total());
}

TEST(Percentile, Thresholds) {
  std::vector<float> x(10000);
  for (int i = 0; i < 10000; ++i)
    x[i] = float(i) / 10000.0f; // uniform on [0, 1)
  AbsHistogram h(2048);
  h.observe(x);
  EXPECT_NEAR(percentileThreshold(h, 50.0), 0.5f, 1.0f / 1024);
  EXPECT_NEAR(percentileThreshold(h, 99.0), 0.99f, 1.0f / 1024);
  EXPECT_LE(percentileThreshold(h, 100.0), h.maxAbs());
}

TEST(Calibrators, BeatMinMaxOnHeavyTails) {
  // Student-t with 6 degrees of freedom (kurtosis 6, Gaussian 3): rare
  // large values stretch the min-max range over codes that stay empty.
  // (With far heavier tails, t(2), entropy and percentile clip values so
  // large that their squared error dominates; they then lose on MSE while
  // the MSE calibrator, which scores exactly that, still wins.)
  std::vector<float> x = studentT(200000, 6.0f, 7);
  AbsHistogram h;
  h.observe(x);
  double minmax = quantizationMSE(x, h.maxAbs());
  double mse = quantizationMSE(x, mseThreshold(h, Storage::I8));
  double entropy = quantizationMSE(x, entropyThreshold(h));
  double p9999 = quantizationMSE(x, percentileThreshold(h, 99.99));
  std::printf("thresholds: max %.2f mse %.2f entropy %.2f p99.99 %.2f\n",
              h.maxAbs(), mseThreshold(h, Storage::I8), entropyThreshold(h),
              percentileThreshold(h, 99.99));
  std::printf("heavy-tailed INT8 MSE ratios vs min-max: mse %.3f, entropy "
              "%.3f, percentile(99.99) %.3f\n",
              mse / minmax, entropy / minmax, p9999 / minmax);
  EXPECT_LT(mse, 0.8 * minmax);
  EXPECT_LT(entropy, 0.9 * minmax);
  EXPECT_LT(p9999, 0.95 * minmax);
  for (unsigned seed : {1u, 2u, 3u}) { // not a lucky draw
    std::vector<float> y = studentT(200000, 6.0f, seed);
    AbsHistogram hy;
    hy.observe(y);
    double base = quantizationMSE(y, hy.maxAbs());
    EXPECT_LT(quantizationMSE(y, mseThreshold(hy, Storage::I8)), 0.8 * base);
    std::printf("seed %u: mse %.3f entropy %.3f\n", seed, quantizationMSE(y, mseThreshold(hy, Storage::I8)) / base, quantizationMSE(y, entropyThreshold(hy)) / base);
    EXPECT_LT(quantizationMSE(y, entropyThreshold(hy)), 0.9 * base);
  }
}

TEST(SmoothQuant, Factors) {
  std::vector<float> act = {16.0f, 1.0f, 0.0f};
  std::vector<float> wts = {1.0f, 4.0f, 2.0f};
  std::vector<float> s = smoothQuantFactors(act, wts, 0.5f);
  EXPECT_FLOAT_EQ(s[0], 4.0f);   // sqrt(16) / sqrt(1)
  EXPECT_FLOAT_EQ(s[1], 0.5f);   // sqrt(1) / sqrt(4)
  EXPECT_FLOAT_EQ(s[2], 1.0f);   // a zero maximum keeps the channel as is
  s = smoothQuantFactors(act, wts, 1.0f);
  EXPECT_FLOAT_EQ(s[0], 16.0f);  // all difficulty to the weights
}

} // namespace

namespace {

TEST(Histogram, HugeValuesStayInTheLastBin) {
  AbsHistogram h(8);
  std::vector<float> x = {1.0f, 3e38f, -3.4e38f};
  h.observe(x);
  EXPECT_TRUE(std::isfinite(h.range()));
  EXPECT_EQ(h.counts()[7], 2u);
  EXPECT_EQ(h.total(), 3u);
  EXPECT_TRUE(std::isfinite(percentileThreshold(h, 50.0)));
}

TEST(Histogram, AllZeroAndTinyBatches) {
  // An all-zero first batch (a zero-padded or all-negative ReLU output)
  // starts at the smallest range, 2^-125, where bins / range overflows a
  // float: every zero lands in bin 0, and later batches widen the range.
  AbsHistogram h(2048);
  std::vector<float> zeros(64, 0.0f);
  h.observe(zeros);
  EXPECT_EQ(h.counts()[0], 64u);
  EXPECT_EQ(h.total(), 64u);
  // Tiny values are binned by value, not all into the last bin.
  std::vector<float> tiny = {std::ldexp(1.0f, -120), -std::ldexp(1.0f, -121)};
  h.observe(tiny);
  EXPECT_EQ(h.range(), std::ldexp(1.0f, -119));
  EXPECT_EQ(h.counts()[1024], 1u); // 2^-120 is half the range
  EXPECT_EQ(h.counts()[512], 1u);  // 2^-121 a quarter
  EXPECT_EQ(h.counts()[0], 64u);
  // A normal batch after them: everything small merges into bin 0.
  std::vector<float> normal = {0.75f, 1.5f};
  h.observe(normal);
  EXPECT_EQ(h.range(), 2.0f);
  EXPECT_EQ(h.counts()[0], 66u);
  EXPECT_EQ(h.total(), 68u);
  EXPECT_TRUE(std::isfinite(percentileThreshold(h, 99.0)));
}

} // namespace
