//===- InsertObservers.cpp - Instrument matrix-product inputs -------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_INSERTOBSERVERS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct InsertObserversPass
    : qopt::impl::InsertObserversBase<InsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<StringRef> statNames;
    StringRef(stats).split(statNames, ',', -1, /*KeepEmpty=*/false);
    SmallVector<Attribute> statAttrs;
    for (StringRef s : statNames) {
      s = s.trim();
      if (!llvm::is_contained(ObserveOp::getKnownStats(), s)) {
        module.emitError("qopt-insert-observers: unknown statistic '")
            << s << "'";
        return signalPassFailure();
      }
      statAttrs.push_back(StringAttr::get(ctx, s));
    }
    if (statAttrs.empty()) {
      module.emitError("qopt-insert-observers: no statistics selected");
      return signalPassFailure();
    }
    llvm::Regex matcher(match);
    std::string regexError;
    if (!match.empty() && !matcher.isValid(regexError)) {
      module.emitError("qopt-insert-observers: invalid match regex '")
          << match << "': " << regexError;
      return signalPassFailure();
    }

    SmallVector<ProductInput> inputs =
        getObservedProductInputs(module, match.empty() ? nullptr : &matcher);
    DenseMap<Value, Value> observed; // activation -> qopt.observe result
    OpBuilder b(ctx);
    for (ProductInput &use : inputs) {
      Value v = use.product->getOperand(use.operand);
      auto it = observed.find(v);
      if (it == observed.end()) {
        if (Operation *def = v.getDefiningOp())
          b.setInsertionPointAfter(def);
        else
          b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
        auto observe = ObserveOp::create(b, v.getLoc(), v.getType(), v,
                                         b.getStringAttr(use.name),
                                         b.getArrayAttr(statAttrs));
        it = observed.try_emplace(v, observe.getResult()).first;
      }
      use.product->setOperand(use.operand, it->second);
    }
  }
};

} // namespace
