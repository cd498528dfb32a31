//===- RecordSignatures.cpp - Keep tensor signatures through lowering -----===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_RECORDSIGNATURES
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
struct RecordSignaturesPass
    : qopt::impl::RecordSignaturesBase<RecordSignaturesPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      func->setAttr(qopt::kSignatureAttrName,
                    TypeAttr::get(func.getFunctionType()));
      if (outParams)
        func->setAttr(qopt::kOutParamsAttrName,
                      UnitAttr::get(func.getContext()));
      // The caller's buffers (a NumPy array, possibly read-only; a host
      // program's input): bufferization copies before updating one. Also
      // over an explicit `writable = true`, which the runners, passing
      // their callers' arrays, cannot honour.
      auto readOnly = BoolAttr::get(func.getContext(), false);
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type))
          func.setArgAttr(
              i, bufferization::BufferizationDialect::kWritableAttrName,
              readOnly);
    }
  }
};
} // namespace
