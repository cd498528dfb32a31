//===- OrderConstantGlobals.cpp - Constant globals in a fixed order -------===//
//
// One-shot module bufferization turns each constant tensor into a
// memref.global named after its type (__constant_8xf32, then _0, _1, ...
// for the next ones of that type) and puts it at the top of the module,
// in the order it visits functions, which follows a map keyed by
// operation addresses: with several functions, the names and the order of
// the globals changed from one run to the next (a different binary for the
// same input, and text that does not diff). This pass puts the constant
// globals of the module in the order of their first use (functions in the
// order they appear, ops in order) and renames those of one base name in
// that order: the same input gives the same output.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_ORDERCONSTANTGLOBALS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// `name` without the uniquing suffix SymbolTable adds ("_<digits>").
StringRef baseName(StringRef name) {
  size_t underscore = name.rfind('_');
  if (underscore == StringRef::npos || underscore + 1 == name.size())
    return name;
  StringRef suffix = name.drop_front(underscore + 1);
  if (!llvm::all_of(suffix, llvm::isDigit))
    return name;
  return name.take_front(underscore);
}

struct OrderConstantGlobals
    : qopt::impl::OrderConstantGlobalsBase<OrderConstantGlobals> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The private constant globals, in the order of their first use.
    llvm::MapVector<memref::GlobalOp, int> order;
    SymbolTable symbols(module);
    module.walk([&](memref::GetGlobalOp get) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (global && global.getConstant() && global.isPrivate())
        order.insert({global, 0});
    });
    if (order.empty())
      return;
    // Names: each base name's globals numbered in that order, as
    // SymbolTable would have numbered them (no suffix, then _0, _1, ...),
    // through temporary names so that no two globals ever share one.
    SmallVector<memref::GlobalOp> globals;
    for (auto &entry : order)
      globals.push_back(entry.first);
    SmallVector<std::string> bases;
    for (auto [i, global] : llvm::enumerate(globals)) {
      bases.push_back(baseName(global.getSymName()).str());
      if (failed(symbols.rename(
              global, StringAttr::get(module.getContext(),
                                      "__qopt_global_" + std::to_string(i)))))
        return signalPassFailure();
    }
    // (A name another symbol holds is skipped: the next suffix.)
    llvm::StringMap<int> next;
    for (auto [global, base] : llvm::zip(globals, bases)) {
      std::string name;
      do {
        int n = next[base]++;
        name = n == 0 ? base : base + "_" + std::to_string(n - 1);
      } while (symbols.lookup(name));
      if (failed(symbols.rename(
              global, StringAttr::get(module.getContext(), name))))
        return signalPassFailure();
    }
    // Order: at the top of the module, first used first.
    Block &body = module.getBodyRegion().front();
    for (memref::GlobalOp global : llvm::reverse(globals))
      global->moveBefore(&body, body.begin());
  }
};

} // namespace
