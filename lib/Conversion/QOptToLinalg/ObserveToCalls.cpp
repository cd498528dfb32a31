//===- ObserveToCalls.cpp - qopt.observe as calibration runtime calls -----===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTOBSERVETOCALLS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

constexpr StringLiteral kRuntimeFunction = "qopt_observe_f32";

/// Must match mlir::qopt::ObserveStat in the runner.
int64_t statsMask(ArrayAttr stats) {
  int64_t mask = 0;
  for (Attribute a : stats)
    mask |= llvm::StringSwitch<int64_t>(cast<StringAttr>(a).getValue())
                .Case("minmax", 1)
                .Case("histogram", 2)
                .Case("channel_absmax", 4)
                .Case("channel_absmean", 8)
                .Case("hessian", 16)
                .Default(0);
  return mask;
}

struct ConvertQOptObserveToCallsPass
    : qopt::impl::ConvertQOptObserveToCallsBase<
          ConvertQOptObserveToCallsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ObserveOp> observers;
    module.walk([&](ObserveOp op) { observers.push_back(op); });
    if (observers.empty())
      return;
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);

    // Observer names must be unique: they key the calibration file.
    llvm::StringMap<Location> seen;
    for (ObserveOp op : observers) {
      auto [it, inserted] = seen.try_emplace(op.getName(), op.getLoc());
      if (!inserted) {
        op.emitError("observer name '")
            << op.getName() << "' is used twice";
        return signalPassFailure();
      }
    }

    auto unranked = UnrankedMemRefType::get(b.getF32Type(), 0);
    auto fnType = b.getFunctionType({unranked, b.getI64Type(), b.getI64Type()},
                                    {});
    Operation *existing = module.lookupSymbol(kRuntimeFunction);
    auto fn = dyn_cast_or_null<func::FuncOp>(existing);
    if (existing && (!fn || fn.getFunctionType() != fnType)) {
      existing->emitError("'")
          << kRuntimeFunction
          << "' is reserved for the calibration runtime, with type "
          << fnType;
      return signalPassFailure();
    }
    if (!fn) {
      b.setInsertionPointToStart(module.getBody());
      fn = func::FuncOp::create(b, module.getLoc(), kRuntimeFunction, fnType);
      fn.setPrivate();
      fn->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    }

    SmallVector<Attribute> names;
    for (auto [id, op] : llvm::enumerate(observers)) {
      names.push_back(op.getNameAttr());
      b.setInsertionPoint(op);
      Location loc = op.getLoc();
      auto tensorType = op.getInput().getType();
      auto memrefType =
          MemRefType::get(tensorType.getShape(), tensorType.getElementType());
      Value buffer = bufferization::ToBufferOp::create(
          b, loc, memrefType, op.getInput(), /*read_only=*/true);
      Value cast = memref::CastOp::create(b, loc, unranked, buffer);
      Value idValue = arith::ConstantIntOp::create(b, loc, int64_t(id), 64);
      Value mask =
          arith::ConstantIntOp::create(b, loc, statsMask(op.getStats()), 64);
      func::CallOp::create(b, loc, fn, ValueRange{cast, idValue, mask});
      op.replaceAllUsesWith(op.getInput());
      op.erase();
    }
    module->setAttr("qopt.observers", ArrayAttr::get(ctx, names));
  }
};

} // namespace
