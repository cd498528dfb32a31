//===- Pipelines.h - Registered quant-opt pass pipelines ----------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_PIPELINES_H
#define QUANT_OPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt {

/// Options of `qopt-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc("Return results through caller-allocated buffers "
                     "appended to the arguments (the ABI quant-run uses)"),
      llvm::cl::init(true)};
};

/// Lowers a module using func / linalg / tensor / arith, upstream quant
/// casts and qopt ops to the LLVM dialect for the host CPU.
///
/// ABI of every public function after the pipeline: `_mlir_ciface_<name>`
/// takes one pointer to a memref descriptor per tensor argument and then,
/// with results-to-out-params (the default), one per result, which the
/// caller allocates with identity layout. The function's original tensor
/// signature is kept in its `qopt.signature` attribute.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `qopt-cpu-pipeline` with the pass registry.
void registerPipelines();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_PIPELINES_H
