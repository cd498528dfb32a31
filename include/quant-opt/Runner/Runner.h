//===- Runner.h - JIT-compile and call a function on host tensors -*- C++ -*-===//
//
// The engine behind quant-run (and the Python package): lowers a module
// with qopt-cpu-pipeline, JIT-compiles it with the MLIR ExecutionEngine and
// calls an entry function on host buffers.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNNER_RUNNER_H
#define QUANT_OPT_RUNNER_RUNNER_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <vector>

namespace mlir::qopt {

/// A ranked tensor in host memory, C-ordered, one storage unit per element
/// as compiled code reads it: 1 byte for i8 / ui8 / i4 / ui4 / FP8 (4-bit
/// codes live in the low nibble), 2 for f16 / bf16, 4 for f32 / i32, 8 for
/// f64 / i64.
struct HostTensor {
  RankedTensorType type;
  std::vector<uint8_t> bytes;
};

/// Bytes per element of `elementType` in a HostTensor, or 0 if unsupported.
size_t getHostElementSize(Type elementType);

class JitRunner {
public:
  /// Lowers `module` in place with qopt-cpu-pipeline unless it is already in
  /// the LLVM dialect, then JIT-compiles it. `entry` must be a public
  /// function with a static-shaped tensor signature. Lowering diagnostics go
  /// to the context's diagnostic handler.
  static llvm::Expected<std::unique_ptr<JitRunner>>
  create(ModuleOp module, llvm::StringRef entry, unsigned optLevel = 3);

  /// The entry's tensor signature (quantized types already as storage).
  FunctionType getSignature() const { return signature; }

  /// Names of the module's qopt.observe ops, indexed by observer id (empty
  /// when the module has none). Their statistics accumulate in
  /// CalibrationState::global().
  llvm::ArrayRef<std::string> getObserverNames() const {
    return observerNames;
  }

  /// Calls the entry. Checks the number, shapes and element types of
  /// `inputs` and returns one tensor per result.
  llvm::Expected<std::vector<HostTensor>> run(std::vector<HostTensor> inputs);

  /// Calls the entry on caller-owned, contiguous buffers laid out as in
  /// HostTensor: one per argument (only read: the pipeline bufferizes the
  /// arguments as not writable), then one per result (written). No checks
  /// beyond the counts and no copies: the hot path for benchmarks and
  /// bindings. 4-bit results come back one sign- or zero-extended code per
  /// byte.
  llvm::Error invoke(llvm::ArrayRef<const void *> arguments,
                     llvm::ArrayRef<void *> results);

private:
  JitRunner() = default;

  std::string entry;
  FunctionType signature;
  std::vector<std::string> observerNames;
  std::unique_ptr<ExecutionEngine> engine;
};

/// True when `module` still needs qopt-cpu-pipeline (it has ops outside the
/// LLVM dialect).
bool needsLowering(ModuleOp module);

} // namespace mlir::qopt

#endif // QUANT_OPT_RUNNER_RUNNER_H
