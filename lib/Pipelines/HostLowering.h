//===- HostLowering.h - Stages shared by the CPU and GPU pipelines --------===//

#ifndef QUANT_OPT_LIB_PIPELINES_HOSTLOWERING_H
#define QUANT_OPT_LIB_PIPELINES_HOSTLOWERING_H

#include "quant-opt/Pipelines/Pipelines.h"

namespace mlir::qopt::detail {

/// Upstream quant types to qopt ops, recorded signatures, observers as
/// calls, canonicalization.
void buildFrontEnd(OpPassManager &pm, bool resultsToOutParams);

/// Tensor code on the host to the LLVM dialect: qopt ops to linalg,
/// fusion, bufferization, loops, LLVM. With `gpuLaunches`, the device
/// copies and gpu.launch_func ops that convert-qopt-matmul-to-gpu left are
/// made asynchronous and lowered to runtime calls (gpu-to-llvm).
void buildHostLowering(OpPassManager &pm, const CPUPipelineOptions &options,
                       bool gpuLaunches);

} // namespace mlir::qopt::detail

#endif // QUANT_OPT_LIB_PIPELINES_HOSTLOWERING_H
