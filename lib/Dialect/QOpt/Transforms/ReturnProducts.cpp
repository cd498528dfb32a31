//===- ReturnProducts.cpp - Expose weight products as function results ----===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/Regex.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_RETURNPRODUCTS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// qopt.matmul, or a two-input linalg contraction reading a weight.
bool isWeightProduct(Operation *op) {
  if (isa<MatmulOp>(op))
    return op->getNumResults() == 1;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      linalgOp->getNumResults() != 1 ||
      !linalg::isaContractionOpInterface(linalgOp))
    return false;
  return llvm::any_of(linalgOp.getDpsInputOperands(),
                      [](OpOperand *operand) {
                        return getWeightSource(operand->get()) != nullptr;
                      });
}

struct ReturnProductsPass
    : qopt::impl::ReturnProductsBase<ReturnProductsPass> {
  using Base::Base;

  void runOnOperation() override {
    llvm::Regex regex(match);
    std::string regexError;
    if (!match.empty() && !regex.isValid(regexError)) {
      emitError(getOperation()->getLoc(),
                "qopt-return-products: invalid match regex '")
          << match << "': " << regexError;
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (!func.isPublic() || func.isExternal() || !func.getBody().hasOneBlock())
        continue;
      SmallVector<Value> products;
      SmallVector<Attribute> names;
      // Only products in the body itself: a result inside a loop does not
      // dominate the return.
      for (Operation &op : func.getBody().front()) {
        if (!isWeightProduct(&op))
          continue;
        std::string name = getLocationName(op.getLoc());
        if (!match.empty() && !regex.match(name))
          continue;
        products.push_back(op.getResult(0));
        names.push_back(StringAttr::get(&getContext(), name));
      }
      auto returnOp =
          cast<func::ReturnOp>(func.getBody().front().getTerminator());
      returnOp.getOperandsMutable().append(products);
      func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                     returnOp.getOperandTypes()));
      func->setAttr("qopt.returned_products",
                    ArrayAttr::get(&getContext(), names));
    }
  }
};

} // namespace
