//===- Roofline.cpp - Storage and roofline models -------------------------===//

#include "quant-opt/Numerics/Roofline.h"

#include <algorithm>

namespace quantopt {

double bytesPerParameter(const StorageSpec &spec, int64_t groupSize) {
  double b = double(spec.bits) / 8.0;
  if (groupSize > 0)
    b += double(spec.scaleBytes + spec.zeroBytes) / double(groupSize);
  return b;
}

TensorBytes tensorBytes(const std::vector<int64_t> &shape,
                        const std::vector<int64_t> &scaleShape,
                        const StorageSpec &spec) {
  int64_t elements = 1, params = 1;
  for (int64_t d : shape)
    elements *= d;
  for (int64_t d : scaleShape)
    params *= d;
  TensorBytes t;
  t.codes = (elements * int64_t(spec.bits) + 7) / 8;
  t.scales = params * spec.scaleBytes;
  t.zeroPoints = params * spec.zeroBytes;
  return t;
}

double Target::peak(Precision p) const {
  switch (p) {
  case Precision::BF16:
    return bf16Flops;
  case Precision::FP8:
    return fp8Flops;
  case Precision::INT8:
    return int8Ops;
  }
  return 0.0;
}

double Target::roofline(Precision p, double intensity) const {
  return std::min(peak(p), bandwidth * intensity);
}

static const Target kTargets[] = {
    // NVIDIA H100 SXM5 80 GB: 3.35 TB/s HBM3, 989 TFLOP/s dense BF16,
    // 1979 TFLOP/s FP8, 1979 TOP/s INT8.
    {"h100-sxm", 3.35e12, 989e12, 1979e12, 1979e12},
    // NVIDIA H200 SXM 141 GB: 4.8 TB/s HBM3e, same tensor cores as H100.
    {"h200", 4.8e12, 989e12, 1979e12, 1979e12},
    // NVIDIA A100 SXM4 80 GB: 2.039 TB/s, 312 TFLOP/s BF16, 624 TOP/s INT8,
    // no FP8.
    {"a100-sxm", 2.039e12, 312e12, 0.0, 624e12},
};

std::optional<Target> getTarget(std::string_view name) {
  for (const Target &t : kTargets)
    if (t.name == name)
      return t;
  return std::nullopt;
}

std::vector<std::string> targetNames() {
  std::vector<std::string> names;
  for (const Target &t : kTargets)
    names.push_back(t.name);
  return names;
}

} // namespace quantopt
