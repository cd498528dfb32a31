//===- Calibration.cpp - Observers and calibrators ------------------------===//

#include "quant-opt/Numerics/Calibration.h"

#include "quant-opt/Numerics/Quantize.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace quantopt {

//===----------------------------------------------------------------------===//
// Min-max observers
//===----------------------------------------------------------------------===//

MinMaxObserver MinMaxObserver::fromState(float min, float max,
                                         int64_t count) {
  MinMaxObserver o;
  if (count > 0) {
    o.min_ = min;
    o.max_ = max;
    o.count_ = count;
  }
  return o;
}

void MinMaxObserver::observe(std::span<const float> x) {
  for (float v : x) {
    if (!std::isfinite(v))
      continue;
    if (count_ == 0) {
      min_ = max_ = v;
    } else {
      min_ = std::min(min_, v);
      max_ = std::max(max_, v);
    }
    ++count_;
  }
}

void MinMaxObserver::merge(const MinMaxObserver &other) {
  if (other.count_ == 0)
    return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
}

void MovingAverageMinMaxObserver::observe(std::span<const float> x) {
  MinMaxObserver batch;
  batch.observe(x);
  if (batch.count() == 0)
    return;
  if (!initialized_) {
    min_ = batch.min();
    max_ = batch.max();
    initialized_ = true;
    return;
  }
  min_ += c_ * (batch.min() - min_);
  max_ += c_ * (batch.max() - max_);
}

//===----------------------------------------------------------------------===//
// Histogram
//===----------------------------------------------------------------------===//

AbsHistogram::AbsHistogram(int numBins) : counts_(numBins, 0) {
  assert(numBins > 0 && (numBins & (numBins - 1)) == 0 &&
         "the number of bins must be a power of two");
}

std::optional<AbsHistogram>
AbsHistogram::fromState(std::vector<uint64_t> counts, float range,
                        float maxAbs, uint64_t total, uint64_t nonFinite) {
  size_t n = counts.size();
  if (n == 0 || (n & (n - 1)) != 0)
    return std::nullopt;
  int exp;
  bool powerOfTwo = range > 0 && std::frexp(range, &exp) == 0.5f;
  if (total > 0 && !powerOfTwo)
    return std::nullopt;
  uint64_t sum = 0;
  for (uint64_t c : counts)
    sum += c;
  if (sum != total)
    return std::nullopt;
  AbsHistogram h{static_cast<int>(n)};
  h.counts_ = std::move(counts);
  h.range_ = total > 0 ? range : 0.0f;
  h.maxAbs_ = maxAbs;
  h.total_ = total;
  h.nonFinite_ = nonFinite;
  return h;
}

/// The smallest power of two strictly greater than v (> 0), capped at
/// 2^127, the largest power of two a float holds (larger values then fall
/// into the last bin).
static float powerOfTwoAbove(float v) {
  int exp;
  std::frexp(v, &exp); // v = f * 2^exp, f in [0.5, 1): v < 2^exp
  return std::ldexp(1.0f, std::min(exp, 127));
}

void AbsHistogram::growTo(float range) {
  if (range <= range_)
    return;
  if (range_ == 0.0f) {
    range_ = range;
    return;
  }
  // Doubling k times merges 2^k adjacent bins into one (both ranges are
  // powers of two; their quotient may overflow a float).
  int k = std::ilogb(range) - std::ilogb(range_);
  int n = numBins();
  std::vector<uint64_t> merged(n, 0);
  for (int i = 0; i < n; ++i)
    merged[k >= 31 ? 0 : (i >> k)] += counts_[i];
  counts_ = std::move(merged);
  range_ = range;
}

void AbsHistogram::observe(std::span<const float> x) {
  float batchMax = 0.0f;
  for (float v : x)
    if (std::isfinite(v))
      batchMax = std::max(batchMax, std::fabs(v));
  // The smallest normal float keeps an all-zero start well defined.
  float needed =
      powerOfTwoAbove(std::max(batchMax, std::numeric_limits<float>::min()));
  growTo(needed);
  maxAbs_ = std::max(maxAbs_, batchMax);
  // In double: bins / range overflows a float for ranges below 2^-117
  // (an all-zero first batch starts at 2^-125).
  double scale = double(numBins()) / double(range_);
  int last = numBins() - 1;
  for (float v : x) {
    if (!std::isfinite(v)) {
      ++nonFinite_;
      continue;
    }
    double position = double(std::fabs(v)) * scale;
    int bin = position >= double(last) ? last : int(position);
    ++counts_[bin];
    ++total_;
  }
}

void AbsHistogram::merge(const AbsHistogram &other) {
  assert(other.numBins() == numBins() && "histograms differ in bins");
  if (other.total_ == 0 && other.nonFinite_ == 0)
    return;
  AbsHistogram rhs = other;
  float range = std::max(range_, rhs.range_);
  growTo(range);
  rhs.growTo(range);
  for (int i = 0; i < numBins(); ++i)
    counts_[i] += rhs.counts_[i];
  total_ += rhs.total_;
  nonFinite_ += rhs.nonFinite_;
  maxAbs_ = std::max(maxAbs_, rhs.maxAbs_);
}

//===----------------------------------------------------------------------===//
// Calibrators
//===----------------------------------------------------------------------===//

float percentileThreshold(const AbsHistogram &h, double percentile) {
  if (h.total() == 0)
    return 0.0f;
  double target = std::clamp(percentile, 0.0, 100.0) / 100.0 * double(h.total());
  uint64_t cumulative = 0;
  for (int i = 0; i < h.numBins(); ++i) {
    cumulative += h.counts()[i];
    if (double(cumulative) >= target)
      return std::min(float(i + 1) * h.binWidth(), h.maxAbs());
  }
  return h.maxAbs();
}

float mseThreshold(const AbsHistogram &h, Storage storage, bool narrowRange) {
  if (h.total() == 0)
    return 0.0f;
  const std::vector<uint64_t> &counts = h.counts();
  int n = h.numBins();
  float width = h.binWidth();
  int lastUsed = n - 1;
  while (lastUsed > 0 && counts[lastUsed] == 0)
    --lastUsed;
  // Fake-quantize the centre of every non-empty bin for each candidate.
  std::vector<int> used;
  for (int i = 0; i <= lastUsed; ++i)
    if (counts[i])
      used.push_back(i);
  double bestError = std::numeric_limits<double>::infinity();
  float best = float(lastUsed + 1) * width;
  // Candidates: every bin edge from 1/8 of the used range up (smaller
  // thresholds clip almost everything and never win on real data).
  for (int c = std::max(1, (lastUsed + 1) / 8); c <= lastUsed + 1; ++c) {
    float threshold = float(c) * width;
    float scale = symmetricScale(threshold, storage, narrowRange);
    double error = 0.0;
    for (int i : used) {
      float centre = (float(i) + 0.5f) * width;
      float q = fakeQuantizeValue(centre, scale, 0, storage, narrowRange);
      double d = double(centre) - double(q);
      error += double(counts[i]) * d * d;
    }
    if (error < bestError) {
      bestError = error;
      best = threshold;
    }
  }
  return best;
}

float entropyThreshold(const AbsHistogram &h, int numQuantizedBins) {
  if (h.total() == 0)
    return 0.0f;
  const std::vector<uint64_t> &bins = h.counts();
  int n = h.numBins();
  if (n <= numQuantizedBins)
    return h.maxAbs();
  double bestKL = std::numeric_limits<double>::infinity();
  int bestI = n;
  std::vector<double> p, q;
  for (int i = numQuantizedBins; i <= n; ++i) {
    // Reference: the first i bins, with everything beyond folded into the
    // last one (what clipping at edge i does to the distribution).
    p.assign(bins.begin(), bins.begin() + i);
    double outliers = 0;
    for (int j = i; j < n; ++j)
      outliers += double(bins[j]);
    p[i - 1] += outliers;
    // Candidate: the first i bins merged into numQuantizedBins levels and
    // spread back uniformly over the bins that were non-empty.
    q.assign(i, 0.0);
    int merged = i / numQuantizedBins;
    for (int j = 0; j < numQuantizedBins; ++j) {
      int start = j * merged;
      int stop = j == numQuantizedBins - 1 ? i : start + merged;
      double sum = 0;
      int nonEmpty = 0;
      for (int k = start; k < stop; ++k) {
        sum += double(bins[k]);
        nonEmpty += bins[k] != 0;
      }
      if (nonEmpty == 0)
        continue;
      for (int k = start; k < stop; ++k)
        if (bins[k] != 0)
          q[k] = sum / nonEmpty;
    }
    double pSum = 0, qSum = 0;
    for (int k = 0; k < i; ++k) {
      pSum += p[k];
      qSum += q[k];
    }
    if (pSum == 0 || qSum == 0)
      continue;
    double kl = 0;
    for (int k = 0; k < i; ++k) {
      if (p[k] == 0)
        continue;
      if (q[k] == 0) {
        kl = std::numeric_limits<double>::infinity();
        break;
      }
      double pk = p[k] / pSum, qk = q[k] / qSum;
      kl += pk * std::log(pk / qk);
    }
    if (kl < bestKL) {
      bestKL = kl;
      bestI = i;
    }
  }
  return float(bestI) * h.binWidth();
}

std::vector<float> smoothQuantFactors(std::span<const float> activationAbsMax,
                                      std::span<const float> weightAbsMax,
                                      float alpha) {
  assert(activationAbsMax.size() == weightAbsMax.size());
  std::vector<float> s(activationAbsMax.size(), 1.0f);
  for (size_t j = 0; j < s.size(); ++j) {
    float a = std::fabs(activationAbsMax[j]), w = std::fabs(weightAbsMax[j]);
    if (a > 0 && w > 0 && std::isfinite(a) && std::isfinite(w))
      s[j] = std::pow(a, alpha) / std::pow(w, 1.0f - alpha);
  }
  return s;
}

} // namespace quantopt
