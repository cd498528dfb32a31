//===- RecordSignatures.cpp - Keep tensor signatures through lowering -----===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_RECORDSIGNATURES
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// Each result of `func` becomes a caller's buffer of its own: a tensor
/// returned again (`return %t, %t`) is returned the second time as a copy.
/// (Upstream buffer-results-to-out-params crashes on one buffer returned
/// twice.)
void separateRepeatedResults(func::FuncOp func) {
  func.walk([](func::ReturnOp ret) {
    llvm::SmallPtrSet<Value, 4> seen;
    OpBuilder b(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      Value v = operand.get();
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type || seen.insert(v).second)
        continue;
      operand.set(bufferization::AllocTensorOp::create(b, ret.getLoc(), type,
                                                       ValueRange(), v));
    }
  });
}

struct RecordSignaturesPass
    : qopt::impl::RecordSignaturesBase<RecordSignaturesPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      func->setAttr(qopt::kSignatureAttrName,
                    TypeAttr::get(func.getFunctionType()));
      if (outParams) {
        func->setAttr(qopt::kOutParamsAttrName,
                      UnitAttr::get(func.getContext()));
        separateRepeatedResults(func);
      }
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
