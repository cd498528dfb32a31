//===- Calibration.h - Observers and calibrators -------------------*- C++ -*-===//
//
// Observers accumulate activation statistics over any number of batches in
// bounded memory; calibrators turn them into a clipping range.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_CALIBRATION_H
#define QUANT_OPT_NUMERICS_CALIBRATION_H

#include "quant-opt/Numerics/Storage.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace quantopt {

/// Running min and max (NaN and infinities are skipped).
class MinMaxObserver {
public:
  /// An observer that has seen `count` finite values in [min, max].
  static MinMaxObserver fromState(float min, float max, int64_t count);
  void observe(std::span<const float> x);
  void merge(const MinMaxObserver &other);
  float min() const { return count_ ? min_ : 0.0f; }
  float max() const { return count_ ? max_ : 0.0f; }
  int64_t count() const { return count_; }

private:
  float min_ = 0.0f, max_ = 0.0f;
  int64_t count_ = 0;
};

/// PyTorch's MovingAverageMinMaxObserver: the first batch sets the range,
/// each later batch moves it by `averagingConstant` toward its own min/max.
class MovingAverageMinMaxObserver {
public:
  explicit MovingAverageMinMaxObserver(float averagingConstant = 0.01f)
      : c_(averagingConstant) {}
  void observe(std::span<const float> x);
  float min() const { return min_; }
  float max() const { return max_; }

private:
  float c_;
  float min_ = 0.0f, max_ = 0.0f;
  bool initialized_ = false;
};

/// Histogram of |x| with a fixed number of bins over [0, range). The range
/// is always a power of two: when a batch exceeds it, the range doubles as
/// often as needed and adjacent bins merge exactly, so memory is bounded
/// and histograms from different runs merge without loss.
class AbsHistogram {
public:
  explicit AbsHistogram(int numBins = 2048);
  /// A histogram with the given state (as written to a calibration file);
  /// nullopt when it is inconsistent (bins not a power of two, range not a
  /// power of two, counts not summing to total).
  static std::optional<AbsHistogram>
  fromState(std::vector<uint64_t> counts, float range, float maxAbs,
            uint64_t total, uint64_t nonFinite);

  void observe(std::span<const float> x);
  /// Adds another histogram with the same number of bins.
  void merge(const AbsHistogram &other);

  int numBins() const { return int(counts_.size()); }
  float range() const { return range_; }
  float binWidth() const { return range_ / float(counts_.size()); }
  const std::vector<uint64_t> &counts() const { return counts_; }
  uint64_t total() const { return total_; }
  /// Largest |x| observed.
  float maxAbs() const { return maxAbs_; }
  /// NaN and infinities seen (not binned).
  uint64_t nonFinite() const { return nonFinite_; }

private:
  void growTo(float range);

  std::vector<uint64_t> counts_;
  float range_ = 0.0f;
  float maxAbs_ = 0.0f;
  uint64_t total_ = 0, nonFinite_ = 0;
};

/// The smallest bin edge below which `percentile` percent of the observed
/// |x| lie (e.g. 99.99).
float percentileThreshold(const AbsHistogram &h, double percentile);

/// The clipping threshold T minimising the quantization MSE of the
/// histogram for symmetric `storage` with scale T / qmax (FP8: T / fmax):
/// each candidate bin edge is scored by fake-quantizing the bin centres
/// (NVIDIA pytorch-quantization's MSE calibrator).
float mseThreshold(const AbsHistogram &h, Storage storage,
                   bool narrowRange = false);

/// TensorRT's entropy calibration: the threshold whose clipped histogram,
/// quantized to `numQuantizedBins` levels (128 for INT8), has the smallest
/// KL divergence from the reference distribution.
float entropyThreshold(const AbsHistogram &h, int numQuantizedBins = 128);

/// SmoothQuant migration factors s_j = max|X_j|^alpha / max|W_j|^(1-alpha)
/// per input channel j (activations divided by s, weight columns multiplied
/// by s). Channels where either maximum is 0 get s = 1.
std::vector<float> smoothQuantFactors(std::span<const float> activationAbsMax,
                                      std::span<const float> weightAbsMax,
                                      float alpha = 0.5f);

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_CALIBRATION_H
