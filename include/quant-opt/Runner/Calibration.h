//===- Calibration.h - Statistics collected by qopt.observe -------*- C++ -*-===//
//
// The runtime side of calibration: lowered qopt.observe ops call
// `_mlir_ciface_qopt_observe_f32`, which adds a tensor's statistics to the
// process-wide CalibrationState; quant-run writes it as a calibration file
// (docs/calibration.md).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNNER_CALIBRATION_H
#define QUANT_OPT_RUNNER_CALIBRATION_H

#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/WeightQuantization.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mlir::qopt {

/// Bits of the `stats` mask a lowered qopt.observe passes to the runtime.
enum ObserveStat : int64_t {
  kObserveMinMax = 1,
  kObserveHistogram = 2,
  kObserveChannelAbsMax = 4,
  kObserveChannelAbsMean = 8,
  kObserveHessian = 16,
};

/// Maps a statistic name of qopt.observe to its bit (0 if unknown).
int64_t getObserveStatBit(llvm::StringRef name);

/// Accumulated statistics of every observer, keyed by observer id.
class CalibrationState {
public:
  /// Adds one tensor (contiguous, row-major, `shape`) to observer `id`.
  void observe(int64_t id, const float *data, llvm::ArrayRef<int64_t> shape,
               int64_t stats);

  /// Writes the calibration file (JSON) and its side files (`<path>.d/`);
  /// `names[id]` names observer `id`.
  llvm::Error write(llvm::StringRef path,
                    llvm::ArrayRef<std::string> names) const;

  /// Loads a calibration file written by write(), so that further
  /// observations add to it (statistics of several runs merge exactly, up
  /// to float rounding of the X^T X sums). Every observer in the file must
  /// be one of `names` with the same statistics and channel count.
  llvm::Error read(llvm::StringRef path, llvm::ArrayRef<std::string> names);

  void clear();

  /// The state the runtime entry point fills.
  static CalibrationState &global();

private:
  struct Observer {
    int64_t stats = 0;
    int64_t calls = 0;
    int64_t channels = -1; // size of the last dimension
    quantopt::MinMaxObserver minmax;
    quantopt::AbsHistogram histogram;
    std::vector<float> channelAbsMax;
    std::vector<double> channelAbsSum;
    int64_t rows = 0; // rows summed into channelAbsSum
    int64_t mismatchedChannels = -1; // a last dimension that differed
    std::unique_ptr<quantopt::HessianAccumulator> hessian;
  };

  mutable std::mutex mutex;
  std::map<int64_t, Observer> observers;
};

} // namespace mlir::qopt

/// The symbol lowered code calls: a view of an unranked f32 memref
/// descriptor, the observer id and its statistics mask.
extern "C" void _mlir_ciface_qopt_observe_f32(void *unrankedDescriptor,
                                              int64_t id, int64_t stats);

#endif // QUANT_OPT_RUNNER_CALIBRATION_H
