//===- WeightQuantization.cpp - RTN, GPTQ and AWQ -------------------------===//

#include "quant-opt/Numerics/WeightQuantization.h"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace quantopt {

RowMatrixF QuantizedWeight::dequantized() const {
  RowMatrixF out(layout.dataShape[0], layout.dataShape[1]);
  dequantize(codes, layout, params,
             std::span<float>(out.data(), size_t(out.size())));
  return out;
}

static int64_t numGroups(int64_t k, int64_t groupSize) {
  return groupSize == 0 ? 1 : k / groupSize;
}

std::optional<QuantizedWeight> quantizeRTN(const RowMatrixF &w,
                                           const Scheme &scheme,
                                           int64_t groupSize,
                                           std::string *error) {
  std::optional<BlockLayout> layout =
      BlockLayout::rowGroups(w.rows(), w.cols(), groupSize);
  if (!layout) {
    if (error)
      *error = "group size " + std::to_string(groupSize) +
               " does not divide " + std::to_string(w.cols()) +
               " input channels";
    return std::nullopt;
  }
  QuantizedWeight q;
  q.layout = std::move(*layout);
  std::span<const float> data(w.data(), size_t(w.size()));
  q.params = computeParams(data, q.layout, scheme);
  q.codes = quantize(data, q.layout, q.params);
  return q;
}

//===----------------------------------------------------------------------===//
// Hessian
//===----------------------------------------------------------------------===//

HessianAccumulator::HessianAccumulator(int64_t inputFeatures)
    : sum_(MatrixF::Zero(inputFeatures, inputFeatures)) {}

HessianAccumulator HessianAccumulator::fromSum(const MatrixF &sum,
                                               int64_t tokens) {
  HessianAccumulator acc(sum.rows());
  acc.sum_ = sum;
  acc.tokens_ = tokens;
  return acc;
}

void HessianAccumulator::add(const Eigen::Ref<const RowMatrixF> &tokens) {
  // sum += X^T X, lower triangle only: column panel j gets
  // X[:, j:]^T X[:, j:j+b]. The panels are independent GEMMs, spread over
  // the cores (Eigen's own symmetric rank update runs on one).
  const int64_t k = sum_.cols();
  const int64_t panel = 256;
  const int64_t panels = (k + panel - 1) / panel;
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t p = 0; p < panels; ++p) {
    int64_t j = p * panel, b = std::min(panel, k - j);
    sum_.block(j, j, k - j, b).noalias() +=
        tokens.middleCols(j, k - j).transpose() * tokens.middleCols(j, b);
  }
  tokens_ += tokens.rows();
}

void HessianAccumulator::merge(const HessianAccumulator &other) {
  sum_ += other.sum_;
  tokens_ += other.tokens_;
}

MatrixF HessianAccumulator::hessian() const {
  if (tokens_ == 0)
    return MatrixF::Zero(sum_.rows(), sum_.cols());
  MatrixF h = sum_.selfadjointView<Eigen::Lower>();
  return h * (2.0f / float(tokens_));
}

//===----------------------------------------------------------------------===//
// GPTQ
//===----------------------------------------------------------------------===//

namespace {

/// Per-row parameters of the columns [begin, begin + count) of `w`.
void groupParams(const MatrixF &w, int64_t begin, int64_t count,
                 const Scheme &scheme, std::vector<float> &scales,
                 std::vector<int32_t> &zeros) {
  int64_t n = w.rows();
  auto block = w.middleCols(begin, count);
  Eigen::VectorXf lo = block.rowwise().minCoeff();
  Eigen::VectorXf hi = block.rowwise().maxCoeff();
  QuantParams p = paramsFromRanges(std::span<const float>(lo.data(), n),
                                   std::span<const float>(hi.data(), n),
                                   {n, 1}, scheme);
  scales = std::move(p.scales);
  zeros = p.zeroPoints.empty() ? std::vector<int32_t>(n, 0)
                               : std::move(p.zeroPoints);
}

/// The upper Cholesky factor U of H^-1 (H^-1 = U^T U), or nullopt.
///
/// With J the exchange matrix and J H J = L L^T, H^-1 = (J L^-1 J)^T
/// (J L^-1 J), and J L^-1 J is upper triangular with a positive diagonal:
/// one Cholesky factorisation and one triangular inversion, instead of
/// inverting H and factorising the inverse.
std::optional<MatrixF> inverseCholeskyUpper(const MatrixF &h) {
  Eigen::LLT<MatrixF> llt(h.reverse());
  if (llt.info() != Eigen::Success)
    return std::nullopt;
  MatrixF lInv = MatrixF::Identity(h.rows(), h.cols());
  llt.matrixL().solveInPlace(lInv);
  if (!lInv.allFinite())
    return std::nullopt;
  return MatrixF(lInv.reverse());
}

} // namespace

std::optional<QuantizedWeight> quantizeGPTQ(const RowMatrixF &w,
                                            const MatrixF &hessian,
                                            const GPTQOptions &options,
                                            std::string *error) {
  const int64_t n = w.rows(), k = w.cols();
  const int64_t g = options.groupSize;
  const Scheme &scheme = options.scheme;
  auto fail = [&](std::string msg) -> std::optional<QuantizedWeight> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  if (hessian.rows() != k || hessian.cols() != k)
    return fail("the Hessian is " + std::to_string(hessian.rows()) + "x" +
                std::to_string(hessian.cols()) + ", expected " +
                std::to_string(k) + "x" + std::to_string(k));
  if (g < 0 || (g > 0 && k % g != 0))
    return fail("group size " + std::to_string(g) + " does not divide " +
                std::to_string(k) + " input channels");

  MatrixF work = w; // column-major: one column is contiguous
  MatrixF h = hessian;
  // Dead inputs: the column can't affect the output; zero it, keep H PD.
  for (int64_t j = 0; j < k; ++j) {
    if (h(j, j) == 0.0f) {
      h(j, j) = 1.0f;
      work.col(j).setZero();
    }
  }

  // Group parameters fixed up front (per channel, or static act-order
  // groups), from the weights before any update.
  const int64_t groups = numGroups(k, g);
  std::vector<float> scales(n * groups);
  std::vector<int32_t> zeros(n * groups);
  auto storeGroup = [&](int64_t gi, const std::vector<float> &s,
                        const std::vector<int32_t> &z) {
    for (int64_t r = 0; r < n; ++r) {
      scales[r * groups + gi] = s[r];
      zeros[r * groups + gi] = z[r];
    }
  };
  std::vector<float> s;
  std::vector<int32_t> z;
  if (g == 0) {
    groupParams(work, 0, k, scheme, s, z);
    storeGroup(0, s, z);
  } else if (options.actOrder) {
    for (int64_t gi = 0; gi < groups; ++gi) {
      groupParams(work, gi * g, g, scheme, s, z);
      storeGroup(gi, s, z);
    }
  }

  // Column order: decreasing Hessian diagonal with act-order.
  std::vector<int64_t> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.actOrder) {
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      return h(a, a) > h(b, b);
    });
    MatrixF pw(n, k), ph(k, k);
    for (int64_t j = 0; j < k; ++j)
      pw.col(j) = work.col(perm[j]);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        ph(i, j) = h(perm[i], perm[j]);
    work = std::move(pw);
    h = std::move(ph);
  }

  double damp = options.dampening * double(h.diagonal().mean());
  std::optional<MatrixF> u;
  for (int attempt = 0; attempt < 3 && !u; ++attempt, damp *= 10) {
    MatrixF damped = h;
    damped.diagonal().array() += float(damp);
    u = inverseCholeskyUpper(damped);
  }
  if (!u)
    return fail("the damped Hessian is not positive definite");

  QuantizedWeight result;
  result.layout = *BlockLayout::rowGroups(n, k, g);
  result.codes.assign(size_t(n * k), 0);
  const int64_t bs = std::max<int64_t>(1, options.blockSize);
  Eigen::VectorXf err(n);
  for (int64_t i1 = 0; i1 < k; i1 += bs) {
    const int64_t count = std::min(bs, k - i1);
    MatrixF block = work.middleCols(i1, count);
    MatrixF blockErr(n, count);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t col = i1 + i;        // position in processing order
      const int64_t orig = perm[col];    // column in the original order
      if (g > 0 && !options.actOrder && col % g == 0) {
        // A group starts: its parameters come from the current weights.
        groupParams(work, col, g, scheme, s, z);
        storeGroup(col / g, s, z);
      }
      const int64_t gi = g == 0 ? 0 : orig / g;
      const float d = (*u)(col, col);
      for (int64_t r = 0; r < n; ++r) {
        float wv = block(r, i);
        float sc = scales[r * groups + gi];
        int32_t zp = zeros[r * groups + gi];
        uint8_t q = quantizeCode(wv, sc, zp, scheme.storage,
                                 scheme.narrowRange);
        float dq = sc * (codeValue(q, scheme.storage) - float(zp));
        result.codes[size_t(r * k + orig)] = q;
        err(r) = (wv - dq) / d;
      }
      // Spread the error over the rest of the block.
      block.rightCols(count - i).noalias() -=
          err * u->row(col).segment(col, count - i);
      blockErr.col(i) = err;
    }
    // Lazy batch update of every later column.
    if (i1 + count < k)
      work.rightCols(k - i1 - count).noalias() -=
          blockErr * u->block(i1, i1 + count, count, k - i1 - count);
  }

  result.params.scheme = scheme;
  result.params.shape = {n, groups};
  result.params.scales = std::move(scales);
  if (!scheme.symmetric && !isFloat8(scheme.storage))
    result.params.zeroPoints = std::move(zeros);
  return result;
}

//===----------------------------------------------------------------------===//
// AWQ
//===----------------------------------------------------------------------===//

namespace {

/// Fake-quantizes w (per-group RTN; the group size was checked).
RowMatrixF fakeQuantizeRTN(const RowMatrixF &w, const Scheme &scheme,
                           int64_t groupSize) {
  return quantizeRTN(w, scheme, groupSize)->dequantized();
}

double meanSquaredOutputError(const RowMatrixF &x, const RowMatrixF &reference,
                              const RowMatrixF &wq) {
  RowMatrixF out = x * wq.transpose();
  return double((out - reference).squaredNorm()) / double(out.size());
}

/// AWQ's search: s = mean|x|^alpha (normalised so max(s) * min(s) = 1)
/// over an even alpha grid on [0, 1], scored by `error` of the
/// fake-quantized RTN(W * s) / s. Fills alpha, inputScales, error and
/// rtnError (alpha = 0).
AWQResult awqGridSearch(const RowMatrixF &w, const Eigen::VectorXf &meanAbs,
                        const AWQOptions &options,
                        const std::function<double(const RowMatrixF &)> &error) {
  const int64_t k = w.cols();
  AWQResult best;
  best.error = std::numeric_limits<double>::infinity();
  int points = std::max(2, options.gridPoints);
  for (int step = 0; step < points; ++step) {
    float alpha = float(step) / float(points - 1);
    Eigen::VectorXf s(k);
    for (int64_t j = 0; j < k; ++j)
      s(j) = std::max(std::pow(meanAbs(j), alpha), 1e-4f);
    s /= std::sqrt(s.maxCoeff() * s.minCoeff());
    RowMatrixF scaled = w * s.asDiagonal();
    RowMatrixF wq = fakeQuantizeRTN(scaled, options.scheme, options.groupSize);
    wq = wq * s.cwiseInverse().asDiagonal();
    double e = error(wq);
    if (step == 0)
      best.rtnError = e;
    // Step 0 (plain RTN) is always a candidate, so non-finite errors from
    // bad data can't leave the scales unset.
    if (step == 0 || e < best.error) {
      best.error = e;
      best.alpha = alpha;
      best.inputScales.assign(s.data(), s.data() + k);
    }
  }
  return best;
}

} // namespace

std::optional<AWQResult> quantizeAWQWithHessian(
    const RowMatrixF &w, const std::vector<float> &meanAbs,
    const MatrixF &xtx, int64_t tokens, const AWQOptions &options,
    std::string *error) {
  const int64_t k = w.cols(), n = w.rows();
  auto fail = [&](std::string msg) -> std::optional<AWQResult> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  if (!BlockLayout::rowGroups(n, k, options.groupSize))
    return fail("group size " + std::to_string(options.groupSize) +
                " does not divide " + std::to_string(k) + " input channels");
  if (int64_t(meanAbs.size()) != k || xtx.rows() != k || xtx.cols() != k)
    return fail("statistics for " + std::to_string(meanAbs.size()) +
                " channels, the weight has " + std::to_string(k));
  if (tokens <= 0)
    return fail("no calibration tokens");
  Eigen::Map<const Eigen::VectorXf> mean(meanAbs.data(), k);
  // ||X D^T||^2 / (T N) = trace(D X^T X D^T) / (T N) for D = Wq - W.
  AWQResult best = awqGridSearch(w, mean, options, [&](const RowMatrixF &wq) {
    RowMatrixF d = wq - w;
    return double((d * xtx).cwiseProduct(d).sum()) / double(tokens * n);
  });
  Eigen::Map<const Eigen::VectorXf> s(best.inputScales.data(), k);
  best.weight = *quantizeRTN(w * s.asDiagonal(), options.scheme,
                             options.groupSize);
  return best;
}

std::optional<AWQResult> quantizeAWQ(const RowMatrixF &w,
                                     const RowMatrixF &activations,
                                     const AWQOptions &options,
                                     std::string *error) {
  const int64_t k = w.cols();
  auto fail = [&](std::string msg) -> std::optional<AWQResult> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  if (!BlockLayout::rowGroups(w.rows(), k, options.groupSize))
    return fail("group size " + std::to_string(options.groupSize) +
                " does not divide " + std::to_string(k) + " input channels");
  if (activations.cols() != k)
    return fail("activations have " + std::to_string(activations.cols()) +
                " features, the weight " + std::to_string(k));
  int64_t tokens = std::min<int64_t>(activations.rows(), options.maxTokens);
  if (tokens <= 0)
    return fail("no calibration tokens");
  RowMatrixF x = activations.topRows(tokens);
  RowMatrixF reference = x * w.transpose();
  Eigen::VectorXf meanAbs = x.cwiseAbs().colwise().mean().transpose();
  AWQResult best = awqGridSearch(w, meanAbs, options, [&](const RowMatrixF &wq) {
    return meanSquaredOutputError(x, reference, wq);
  });

  Eigen::Map<const Eigen::VectorXf> s(best.inputScales.data(), k);
  RowMatrixF scaled = w * s.asDiagonal();
  if (options.clipSearch && options.groupSize > 0 &&
      !isFloat8(options.scheme.storage)) {
    // Auto-clip: shrink each (row, group) range by up to 50% where that
    // lowers the group's contribution to the output error.
    const int64_t g = options.groupSize, n = w.rows();
    RowMatrixF xs = x * s.cwiseInverse().asDiagonal();
    for (int64_t gi = 0; gi < k / g; ++gi) {
      RowMatrixF xg = xs.middleCols(gi * g, g);
      RowMatrixF wg = scaled.middleCols(gi * g, g);
      RowMatrixF refG = xg * wg.transpose();
      Eigen::VectorXf amax = wg.cwiseAbs().rowwise().maxCoeff();
      Eigen::VectorXf bestErr =
          Eigen::VectorXf::Constant(n, std::numeric_limits<float>::infinity());
      Eigen::VectorXf bestMax = amax;
      for (int i = 0; i < 10; ++i) {
        Eigen::VectorXf maxv = amax * (1.0f - float(i) / 20.0f);
        RowMatrixF clipped = wg;
        for (int64_t r = 0; r < n; ++r)
          clipped.row(r) = clipped.row(r).cwiseMax(-maxv(r)).cwiseMin(maxv(r));
        RowMatrixF q = fakeQuantizeRTN(clipped, options.scheme, 0);
        Eigen::VectorXf e =
            (xg * q.transpose() - refG).colwise().squaredNorm().transpose();
        for (int64_t r = 0; r < n; ++r)
          if (e(r) < bestErr(r)) {
            bestErr(r) = e(r);
            bestMax(r) = maxv(r);
          }
      }
      for (int64_t r = 0; r < n; ++r)
        scaled.row(r).segment(gi * g, g) = scaled.row(r)
                                               .segment(gi * g, g)
                                               .cwiseMax(-bestMax(r))
                                               .cwiseMin(bestMax(r));
    }
    RowMatrixF wq = fakeQuantizeRTN(scaled, options.scheme, options.groupSize);
    best.error = meanSquaredOutputError(
        x, reference, wq * s.cwiseInverse().asDiagonal());
  }
  best.weight = *quantizeRTN(scaled, options.scheme, options.groupSize);
  return best;
}

} // namespace quantopt
