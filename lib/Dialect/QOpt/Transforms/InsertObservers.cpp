//===- InsertObservers.cpp - Instrument matrix-product inputs -------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

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

    // The activation inputs of every product, in program order.
    struct Use {
      Operation *product;
      unsigned operand;
      std::string suffix;
    };
    SmallVector<Use> uses;
    module.walk([&](Operation *op) {
      SmallVector<unsigned> inputs;
      if (isa<MatmulOp>(op)) {
        inputs.push_back(0);
      } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (linalgOp.getNumDpsInputs() != 2 ||
            !linalg::isaContractionOpInterface(linalgOp))
          return;
        for (unsigned i = 0; i < 2; ++i)
          if (!matchPattern(op->getOperand(i), m_Constant()) &&
              !op->getOperand(i).getDefiningOp<DequantizeOp>())
            inputs.push_back(i);
      } else {
        return;
      }
      std::string name = getLocationName(op->getLoc());
      if (!match.empty() && !matcher.match(name))
        return;
      for (unsigned i : inputs) {
        auto type = dyn_cast<RankedTensorType>(op->getOperand(i).getType());
        if (!type || !type.getElementType().isF32())
          continue;
        uses.push_back({op, i,
                        inputs.size() == 1 ? std::string(".input")
                                           : std::string(i ? ".rhs" : ".lhs")});
      }
    });

    DenseMap<Value, Value> observed; // activation -> qopt.observe result
    llvm::StringSet<> names;
    OpBuilder b(ctx);
    for (Use &use : uses) {
      Value v = use.product->getOperand(use.operand);
      auto it = observed.find(v);
      if (it == observed.end()) {
        std::string base = getLocationName(use.product->getLoc()) + use.suffix;
        std::string name = base;
        for (int i = 1; names.contains(name); ++i)
          name = base + "." + std::to_string(i);
        names.insert(name);
        if (Operation *def = v.getDefiningOp())
          b.setInsertionPointAfter(def);
        else
          b.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
        auto observe = ObserveOp::create(b, v.getLoc(), v.getType(), v,
                                         b.getStringAttr(name),
                                         b.getArrayAttr(statAttrs));
        it = observed.try_emplace(v, observe.getResult()).first;
      }
      use.product->setOperand(use.operand, it->second);
    }
  }
};

} // namespace
