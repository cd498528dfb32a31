//===- InsertObservers.cpp - Instrument matrix-product inputs -------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"
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
        emitError(module.getLoc(), "qopt-insert-observers: unknown statistic '")
            << s << "'";
        return signalPassFailure();
      }
      statAttrs.push_back(StringAttr::get(ctx, s));
    }
    if (statAttrs.empty()) {
      emitError(module.getLoc(),
                "qopt-insert-observers: no statistics selected");
      return signalPassFailure();
    }
    llvm::Regex matcher(match);
    std::string regexError;
    if (!match.empty() && !matcher.isValid(regexError)) {
      emitError(module.getLoc(), "qopt-insert-observers: invalid match regex '")
          << match << "': " << regexError;
      return signalPassFailure();
    }

    llvm::Regex valueMatcher(values);
    if (!values.empty() && !valueMatcher.isValid(regexError)) {
      emitError(module.getLoc(),
                "qopt-insert-observers: invalid values regex '")
          << values << "': " << regexError;
      return signalPassFailure();
    }
    SmallVector<ProductInput> inputs =
        getObservedProductInputs(module, match.empty() ? nullptr : &matcher);
    // Selected op results, observed right after their op; all uses read
    // the observed value.
    if (!values.empty()) {
      llvm::StringSet<> taken;
      for (ProductInput &in : getObservedProductInputs(module, nullptr))
        taken.insert(in.name);
      SmallVector<std::pair<OpResult, std::string>> selected;
      module.walk([&](Operation *op) {
        if (isa<ObserveOp>(op) || op->getNumResults() == 0)
          return;
        std::string name = getLocationName(op->getLoc());
        if (!valueMatcher.match(name))
          return;
        for (OpResult r : op->getResults()) {
          auto type = dyn_cast<RankedTensorType>(r.getType());
          if (!type || !type.getElementType().isF32())
            continue;
          std::string base = name + ".result" + std::to_string(r.getResultNumber());
          std::string unique = base;
          for (int n = 1; taken.contains(unique); ++n)
            unique = base + "." + std::to_string(n);
          taken.insert(unique);
          selected.push_back({r, unique});
        }
      });
      OpBuilder vb(ctx);
      for (auto &[result, name] : selected) {
        vb.setInsertionPointAfter(result.getOwner());
        auto observe = ObserveOp::create(vb, result.getLoc(), result.getType(),
                                         result, vb.getStringAttr(name),
                                         vb.getArrayAttr(statAttrs));
        result.replaceAllUsesExcept(observe.getResult(), observe);
      }
    }
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
