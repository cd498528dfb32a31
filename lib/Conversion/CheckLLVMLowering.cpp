//===- CheckLLVMLowering.cpp - Everything lowered to the LLVM dialect -----===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CHECKLLVMLOWERING
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct CheckLLVMLowering
    : qopt::impl::CheckLLVMLoweringBase<CheckLLVMLowering> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult result = module.walk([&](Operation *op) {
      // The kernels' binary and its launches: the LLVM translation embeds
      // the one and turns the others into runtime calls.
      if (isa<gpu::BinaryOp, gpu::LaunchFuncOp>(op))
        return WalkResult::skip();
      if (op == module || isa<LLVM::LLVMDialect>(op->getDialect()))
        return WalkResult::advance();
      op->emitError() << "'" << op->getName()
                      << "' was not lowered to the LLVM dialect";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
