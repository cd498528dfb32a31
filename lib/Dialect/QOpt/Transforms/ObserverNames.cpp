//===- ObserverNames.cpp - Which activations calibration observes ---------===//

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"
#include "quant-opt/Support/Json.h"

#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace mlir::qopt;

Operation *mlir::qopt::getWeightSource(Value operand) {
  if (auto transpose = operand.getDefiningOp<linalg::TransposeOp>())
    operand = transpose.getInput();
  Operation *def = operand.getDefiningOp();
  if (def && (def->hasTrait<OpTrait::ConstantLike>() || isa<DequantizeOp>(def)))
    return def;
  return nullptr;
}

SmallVector<ProductInput>
mlir::qopt::getObservedProductInputs(ModuleOp module, llvm::Regex *match) {
  SmallVector<ProductInput> result;
  DenseMap<Value, std::string> named;
  llvm::StringSet<> used;
  module.walk([&](Operation *op) {
    SmallVector<unsigned> inputs;
    if (isa<MatmulOp>(op)) {
      inputs.push_back(0);
    } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      if (linalgOp.getNumDpsInputs() != 2 ||
          !linalg::isaContractionOpInterface(linalgOp))
        return;
      for (unsigned i = 0; i < 2; ++i)
        if (!getWeightSource(op->getOperand(i)))
          inputs.push_back(i);
    } else {
      return;
    }
    std::string productName = getLocationName(op->getLoc());
    // Names are given to every product input before `match` filters, so
    // that they do not depend on the filter.
    bool keep = !match || match->match(productName);
    for (unsigned i : inputs) {
      Value v = op->getOperand(i);
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type || !type.getElementType().isF32())
        continue;
      auto it = named.find(v);
      if (it == named.end()) {
        std::string base = productName + (inputs.size() == 1 ? ".input"
                                          : i           ? ".rhs"
                                                        : ".lhs");
        std::string name = base;
        for (int n = 1; used.contains(name); ++n)
          name = base + "." + std::to_string(n);
        used.insert(name);
        it = named.try_emplace(v, name).first;
      }
      if (keep)
        result.push_back({op, i, it->second});
    }
  });
  return result;
}

FailureOr<llvm::json::Object>
mlir::qopt::readCalibrationObservers(ModuleOp module, llvm::StringRef path) {
  if (path.empty())
    return emitError(module.getLoc(),
                     "a calibration file is required (calibration=FILE)");
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return emitError(module.getLoc(), "cannot read calibration file '")
           << path << "': " << buffer.getError().message();
  auto json = quantopt::parseJson((*buffer)->getBuffer());
  if (!json)
    return emitError(module.getLoc(), "calibration file '")
           << path << "' is not JSON: " << llvm::toString(json.takeError());
  llvm::json::Object *root = json->getAsObject();
  if (!root || root->getString("format") != "quant-opt-calibration")
    return emitError(module.getLoc(), "'")
           << path << "' is not a quant-opt calibration file";
  if (root->getInteger("version") != 1)
    return emitError(module.getLoc(), "calibration file '")
           << path << "' has version "
           << root->getInteger("version").value_or(-1)
           << "; this quant-opt reads version 1";
  llvm::json::Object *observers = root->getObject("observers");
  if (!observers)
    return emitError(module.getLoc(), "calibration file '")
           << path << "' has no observers";
  return std::move(*observers);
}
