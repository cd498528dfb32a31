//===- WeightQuantizationTest.cpp - RTN, GPTQ, AWQ, SmoothQuant quality ---===//
//
// The quality checks cannot pass by accident: each builds data where the
// method's assumption holds and requires a clear win over RTN.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/WeightQuantization.h"

#include "gtest/gtest.h"

#include <random>

using namespace quantopt;

namespace {

RowMatrixF gaussian(int64_t rows, int64_t cols, unsigned seed,
                    float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  RowMatrixF m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i)
    m.data()[i] = normal(rng);
  return m;
}

/// Tokens whose features are strongly correlated: a low-rank signal
/// (mixing matrix `a`, shared by calibration and held-out tokens) plus a
/// little noise.
RowMatrixF correlatedTokens(int64_t tokens, const RowMatrixF &a,
                            unsigned seed) {
  RowMatrixF z = gaussian(tokens, a.rows(), seed);
  return z * a + 0.05f * gaussian(tokens, a.cols(), seed + 1);
}

double outputError(const RowMatrixF &x, const RowMatrixF &w,
                   const RowMatrixF &wq) {
  return double((x * w.transpose() - x * wq.transpose()).norm());
}

TEST(RTN, MatchesQuantizeForEveryGroupSize) {
  RowMatrixF w = gaussian(16, 256, 1);
  for (int64_t g : {0, 32, 128}) {
    QuantizedWeight q = *quantizeRTN(w, Scheme{Storage::I4, true, true}, g);
    EXPECT_EQ(q.params.shape, (std::vector<int64_t>{16, g ? 256 / g : 1}));
    RowMatrixF d = q.dequantized();
    // Per-group max maps to +-7 exactly.
    EXPECT_LE((d - w).cwiseAbs().maxCoeff(),
              *std::max_element(q.params.scales.begin(),
                                q.params.scales.end()) * 0.5f * 1.0001f);
  }
}

TEST(GPTQ, BeatsRTNOnCorrelatedInputs) {
  const int64_t n = 64, k = 256;
  RowMatrixF w = gaussian(n, k, 10, 0.02f);
  RowMatrixF mix = gaussian(8, k, 19);
  RowMatrixF x = correlatedTokens(2048, mix, 20);
  HessianAccumulator acc(k);
  acc.add(x.topRows(1024));
  acc.add(x.bottomRows(1024));
  RowMatrixF held = correlatedTokens(512, mix, 30);
  for (bool actOrder : {false, true}) {
    for (int64_t g : {0, 128}) {
      GPTQOptions opt;
      opt.scheme = Scheme{Storage::I4, true, true};
      opt.groupSize = g;
      opt.actOrder = actOrder;
      std::string error;
      auto gptq = quantizeGPTQ(w, acc.hessian(), opt, &error);
      ASSERT_TRUE(gptq) << error;
      QuantizedWeight rtn = *quantizeRTN(w, opt.scheme, g);
      double eg = outputError(held, w, gptq->dequantized());
      double er = outputError(held, w, rtn.dequantized());
      std::printf("GPTQ/RTN held-out output error (g=%ld, act-order=%d): "
                  "%.3f\n",
                  long(g), int(actOrder), eg / er);
      EXPECT_LT(eg, 0.7 * er);
      EXPECT_EQ(gptq->params.shape, rtn.params.shape);
    }
  }
}

TEST(GPTQ, DeadColumnsAndErrors) {
  const int64_t n = 8, k = 64;
  RowMatrixF w = gaussian(n, k, 3);
  RowMatrixF x = gaussian(256, k, 4);
  x.col(5).setZero(); // input channel 5 never fires
  HessianAccumulator acc(k);
  acc.add(x);
  GPTQOptions opt;
  opt.groupSize = 32;
  auto q = quantizeGPTQ(w, acc.hessian(), opt);
  ASSERT_TRUE(q);
  RowMatrixF d = q->dequantized();
  EXPECT_TRUE(d.col(5).isZero()) << "dead input columns are zeroed";

  std::string error;
  EXPECT_FALSE(quantizeGPTQ(w, MatrixF::Identity(k + 1, k + 1), opt, &error));
  EXPECT_NE(error.find("Hessian"), std::string::npos);
  opt.groupSize = 48;
  EXPECT_FALSE(quantizeGPTQ(w, acc.hessian(), opt, &error));
  EXPECT_NE(error.find("does not divide"), std::string::npos);
}

TEST(GPTQ, HessianIsTwoXtXOverN) {
  RowMatrixF x = gaussian(10, 4, 9);
  HessianAccumulator acc(4);
  acc.add(x.topRows(3));
  acc.add(x.bottomRows(7));
  MatrixF expected = (2.0f / 10.0f) * (x.transpose() * x);
  EXPECT_TRUE(acc.hessian().isApprox(expected, 1e-5f));
  EXPECT_EQ(acc.numTokens(), 10);
}

/// Activations with a few outlier input channels (the AWQ / SmoothQuant
/// setting).
RowMatrixF outlierActivations(int64_t tokens, int64_t k, unsigned seed) {
  RowMatrixF x = gaussian(tokens, k, seed);
  for (int64_t j : {3, 77, 150, 201})
    x.col(j) *= 40.0f;
  return x;
}

TEST(AWQ, BeatsRTNWithOutlierChannels) {
  const int64_t n = 64, k = 256;
  RowMatrixF w = gaussian(n, k, 11, 0.02f);
  RowMatrixF x = outlierActivations(1024, k, 12);
  RowMatrixF held = outlierActivations(512, k, 13);
  for (bool clip : {false, true}) {
    AWQOptions opt;
    opt.scheme = Scheme{Storage::I4, true, true};
    opt.groupSize = 128;
    opt.clipSearch = clip;
    AWQResult r = *quantizeAWQ(w, x, opt);
    Eigen::Map<const Eigen::VectorXf> s(r.inputScales.data(), k);
    RowMatrixF wq = r.weight.dequantized() * s.cwiseInverse().asDiagonal();
    double ea = outputError(held, w, wq);
    double er = outputError(held, w, quantizeRTN(w, opt.scheme, 128)->dequantized());
    std::printf("AWQ/RTN held-out output error (clip=%d, alpha=%.2f): %.3f\n",
                int(clip), r.alpha, ea / er);
    EXPECT_LT(ea, 0.8 * er);
    EXPECT_GT(r.alpha, 0.0f);
    EXPECT_LE(r.error, r.rtnError);
  }
}

TEST(SmoothQuant, LowersW8A8Error) {
  // W8A8 with per-tensor activations and per-channel weights.
  const int64_t n = 64, k = 256;
  RowMatrixF w = gaussian(n, k, 14, 0.02f);
  RowMatrixF x = outlierActivations(512, k, 15);
  auto w8a8 = [&](const RowMatrixF &xs, const RowMatrixF &ws) {
    Scheme a8{Storage::I8, true, false}, w8{Storage::I8, true, true};
    BlockLayout perTensor = *BlockLayout::get({xs.rows(), xs.cols()}, {});
    std::span<const float> xd(xs.data(), size_t(xs.size()));
    QuantParams pa = computeParams(xd, perTensor, a8);
    RowMatrixF xq(xs.rows(), xs.cols());
    dequantize(quantize(xd, perTensor, pa), perTensor, pa,
               std::span<float>(xq.data(), size_t(xq.size())));
    RowMatrixF wq = quantizeRTN(ws, w8, 0)->dequantized();
    return double((x * w.transpose() - xq * wq.transpose()).norm());
  };
  Eigen::VectorXf actMax = x.cwiseAbs().colwise().maxCoeff().transpose();
  Eigen::VectorXf wMax = w.cwiseAbs().colwise().maxCoeff().transpose();
  std::vector<float> s = smoothQuantFactors(
      std::span<const float>(actMax.data(), k),
      std::span<const float>(wMax.data(), k), 0.5f);
  Eigen::Map<const Eigen::VectorXf> sv(s.data(), k);
  double plain = w8a8(x, w);
  double smooth = w8a8(x * sv.cwiseInverse().asDiagonal(), w * sv.asDiagonal());
  std::printf("SmoothQuant+W8A8 / W8A8 output error: %.3f\n", smooth / plain);
  EXPECT_LT(smooth, 0.5 * plain);
}

} // namespace

namespace {

TEST(RTN, RejectsGroupsThatDoNotDivideK) {
  RowMatrixF w = gaussian(4, 1000, 1);
  std::string error;
  EXPECT_FALSE(quantizeRTN(w, Scheme{}, 128, &error));
  EXPECT_NE(error.find("does not divide"), std::string::npos);
  EXPECT_FALSE(quantizeRTN(w, Scheme{}, -1, &error));
  AWQOptions opt;
  opt.groupSize = 128;
  EXPECT_FALSE(quantizeAWQ(w, gaussian(8, 1000, 2), opt, &error));
}

TEST(AWQ, BadActivationsStillGiveScales) {
  RowMatrixF w = gaussian(8, 128, 3);
  AWQOptions opt;
  opt.groupSize = 128;
  std::string error;
  EXPECT_FALSE(quantizeAWQ(w, RowMatrixF(0, 128), opt, &error));
  EXPECT_NE(error.find("no calibration tokens"), std::string::npos);
  RowMatrixF x = gaussian(16, 128, 4);
  x(0, 0) = std::numeric_limits<float>::quiet_NaN();
  auto r = quantizeAWQ(w, x, opt, &error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->inputScales.size(), 128u);
}

} // namespace

namespace {

TEST(AWQ, HessianStatisticsGiveTheSameSearch) {
  // The output error of a candidate is ||X D^T||^2 / (T N) either way:
  // from raw activations or from sum x x^T.
  const int64_t n = 32, k = 128, t = 256;
  RowMatrixF w = gaussian(n, k, 41, 0.02f);
  RowMatrixF x = outlierActivations(t, k, 42);
  AWQOptions opt;
  opt.groupSize = 64;
  opt.maxTokens = t;
  AWQResult direct = *quantizeAWQ(w, x, opt);
  Eigen::VectorXf mean = x.cwiseAbs().colwise().mean().transpose();
  std::vector<float> meanAbs(mean.data(), mean.data() + k);
  MatrixF xtx = x.transpose() * x;
  AWQResult fromStats = *quantizeAWQWithHessian(w, meanAbs, xtx, t, opt);
  EXPECT_EQ(direct.alpha, fromStats.alpha);
  EXPECT_NEAR(fromStats.error, direct.error, 1e-3 * direct.error);
  EXPECT_NEAR(fromStats.rtnError, direct.rtnError, 1e-3 * direct.rtnError);
  std::string error;
  EXPECT_FALSE(quantizeAWQWithHessian(w, meanAbs, xtx, 0, opt, &error));
  EXPECT_NE(error.find("no calibration tokens"), std::string::npos);
}

} // namespace
