//===- WeightQuantization.h - RTN, GPTQ and AWQ for linear layers -*- C++ -*-===//
//
// Weight-only quantization of a linear layer W [N, K] (nn.Linear layout:
// N output channels, K input channels) with per-channel (groupSize 0) or
// per-group scales along K.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_WEIGHTQUANTIZATION_H
#define QUANT_OPT_NUMERICS_WEIGHTQUANTIZATION_H

#include "quant-opt/Numerics/Quantize.h"

#include <Eigen/Core>

#include <optional>
#include <string>

namespace quantopt {

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using RowMatrixF =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A quantized weight: codes [N, K] (one byte per code, row-major, in the
/// original column order) and parameters of shape [N, K / groupSize].
struct QuantizedWeight {
  BlockLayout layout;
  QuantParams params;
  std::vector<uint8_t> codes;

  /// s * (q - z) as an N x K matrix.
  RowMatrixF dequantized() const;
};

/// Round to nearest with min/max parameters per group. nullopt (with
/// `error`) when groupSize does not divide the number of columns.
std::optional<QuantizedWeight> quantizeRTN(const RowMatrixF &w,
                                           const Scheme &scheme,
                                           int64_t groupSize,
                                           std::string *error = nullptr);

/// Accumulates the GPTQ Hessian H = (2 / n) * sum over tokens of x x^T of
/// a layer's inputs, over any number of batches.
class HessianAccumulator {
public:
  explicit HessianAccumulator(int64_t inputFeatures);
  /// An accumulator that already holds `sum` (sum of x x^T, K x K) over
  /// `tokens` tokens, as written to a calibration file.
  static HessianAccumulator fromSum(const MatrixF &sum, int64_t tokens);
  /// Adds `tokens` (T x K, one token per row).
  void add(const Eigen::Ref<const RowMatrixF> &tokens);
  void merge(const HessianAccumulator &other);
  /// The K x K Hessian (zero before any token).
  MatrixF hessian() const;
  int64_t numTokens() const { return tokens_; }

private:
  MatrixF sum_; // lower triangle of sum x x^T
  int64_t tokens_ = 0;
};

struct GPTQOptions {
  Scheme scheme;
  int64_t groupSize = 128;  ///< 0: one scale per output channel.
  double dampening = 0.01;  ///< Fraction of the mean diagonal added to H.
  int64_t blockSize = 128;  ///< Columns per lazy batch update.
  /// Process columns by decreasing H_jj. Group parameters are then fixed
  /// up front per contiguous group of the original order ("static
  /// groups"), so the result keeps the ordinary [N, K / g] scale layout.
  bool actOrder = false;
};

/// GPTQ (Frantar et al., ICLR 2023): quantizes the columns of `w` one at a
/// time and spreads each column's error over the columns not yet
/// quantized, weighted by the inverse Hessian. Input channels that never
/// fire (H_jj = 0) are zeroed. Returns nullopt (with `error`) when the
/// damped Hessian is not positive definite even after raising the
/// dampening tenfold twice.
std::optional<QuantizedWeight> quantizeGPTQ(const RowMatrixF &w,
                                            const MatrixF &hessian,
                                            const GPTQOptions &options,
                                            std::string *error = nullptr);

struct AWQOptions {
  Scheme scheme;
  int64_t groupSize = 128;
  int gridPoints = 20;    ///< alpha on an even grid over [0, 1].
  bool clipSearch = false; ///< Also shrink each group's range (auto-clip).
  int64_t maxTokens = 512; ///< Calibration tokens used for the search.
};

struct AWQResult {
  /// Per-input-channel scales s_j: the layer computes (x / s) (W * s)^T,
  /// so fold 1 / s into the producer of x (or scale x explicitly).
  std::vector<float> inputScales;
  float alpha = 0.0f;
  /// The quantized W * s.
  QuantizedWeight weight;
  /// Mean squared output error on the calibration tokens, for the chosen
  /// alpha and for alpha = 0 (plain RTN).
  double error = 0.0, rtnError = 0.0;
};

/// AWQ (Lin et al., MLSys 2024): s = mean|x|^alpha per input channel,
/// alpha chosen by grid search to minimise the layer's output error on
/// `activations` (T x K). nullopt (with `error`) when the group size does
/// not divide K, the activations do not have K columns, or there are none.
std::optional<AWQResult> quantizeAWQ(const RowMatrixF &w,
                                     const RowMatrixF &activations,
                                     const AWQOptions &options,
                                     std::string *error = nullptr);

/// AWQ from calibration statistics instead of raw activations: mean |x|
/// per channel (the scales) and sum x x^T over `tokens` tokens (the output
/// error trace(D X^T X D^T) / (tokens N) of each candidate). The clipping
/// search needs raw activations and is not done here.
std::optional<AWQResult> quantizeAWQWithHessian(
    const RowMatrixF &w, const std::vector<float> &meanAbs,
    const MatrixF &xtx, int64_t tokens, const AWQOptions &options,
    std::string *error = nullptr);

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_WEIGHTQUANTIZATION_H
