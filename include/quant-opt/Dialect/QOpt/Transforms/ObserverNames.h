//===- ObserverNames.h - Which activations calibration observes --*- C++ -*-===//
//
// One naming rule shared by qopt-insert-observers (which writes observers)
// and the passes that read a calibration file (which look them up).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_OBSERVERNAMES_H
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_OBSERVERNAMES_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Regex.h"

#include <string>

namespace mlir::qopt {

/// The op a matrix product operand reads as its weight: a constant or a
/// qopt.dequantize, directly or through a linalg.transpose; null for an
/// activation. The one rule of the passes that tell weights from
/// activations (qopt-insert-observers, qopt-return-products,
/// qopt-storage-report).
Operation *getWeightSource(Value operand);

/// An f32 activation input of a matrix product and its observer's name.
struct ProductInput {
  Operation *product;
  unsigned operand;
  std::string name;
};

/// The activation (getWeightSource is null) f32 inputs of every
/// matrix product (linalg contractions and qopt.matmul) in program order,
/// named `<product location name>.input` (`.lhs` / `.rhs` when both inputs
/// are activations). Products reading the same value share the name of the
/// first one; repeated names get a numeric suffix. `match`, when given,
/// keeps the products whose location name matches.
SmallVector<ProductInput> getObservedProductInputs(ModuleOp module,
                                                   llvm::Regex *match);

/// Reads a version 1 calibration file (docs/calibration.md) and returns
/// its "observers" object; reports what is wrong at `module` (unreadable,
/// not JSON, another format or version) and returns failure otherwise.
FailureOr<llvm::json::Object> readCalibrationObservers(ModuleOp module,
                                                       llvm::StringRef path);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_OBSERVERNAMES_H
