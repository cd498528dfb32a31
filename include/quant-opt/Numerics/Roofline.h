//===- Roofline.h - Storage and roofline models -------------------*- C++ -*-===//
//
// The seed's "The Model": bytes per parameter k/8 + (scale + zero bytes) /
// group, exact byte counts of a quantized tensor, and the roofline bound
// min(peak compute, bandwidth * arithmetic intensity).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_ROOFLINE_H
#define QUANT_OPT_NUMERICS_ROOFLINE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quantopt {

/// How a tensor is stored: `bits` per code, and bytes per scale and per
/// zero point (0 when there are none).
struct StorageSpec {
  unsigned bits = 16;
  unsigned scaleBytes = 0;
  unsigned zeroBytes = 0;
};

/// k / 8 + (scale bytes + zero bytes) / group size (groupSize 0: no
/// parameters are counted).
double bytesPerParameter(const StorageSpec &spec, int64_t groupSize);

/// Exact bytes of a tensor of `shape` with parameters of `scaleShape`
/// (empty: per tensor, one scale).
struct TensorBytes {
  int64_t codes = 0, scales = 0, zeroPoints = 0;
  int64_t total() const { return codes + scales + zeroPoints; }
};
TensorBytes tensorBytes(const std::vector<int64_t> &shape,
                        const std::vector<int64_t> &scaleShape,
                        const StorageSpec &spec);

enum class Precision { BF16, FP8, INT8 };

/// A GPU's peak numbers (dense, no sparsity).
struct Target {
  std::string name;
  double bandwidth;  ///< bytes / s
  double bf16Flops;  ///< FLOP / s (FP16 is the same)
  double fp8Flops;   ///< 0 when the chip has no FP8 tensor cores
  double int8Ops;

  double peak(Precision p) const;
  /// min(peak, bandwidth * intensity) for `intensity` FLOP per byte.
  double roofline(Precision p, double intensity) const;
  /// The intensity where the memory and compute roofs meet.
  double ridgePoint(Precision p) const { return peak(p) / bandwidth; }
};

/// "h100-sxm", "h200", "a100-sxm" (public datasheet numbers).
std::optional<Target> getTarget(std::string_view name);
std::vector<std::string> targetNames();

/// Lower bound on the time to move `bytes` at `bandwidth` bytes / s.
inline double transferSeconds(double bytes, double bandwidth) {
  return bytes / bandwidth;
}

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_ROOFLINE_H
