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
#include "mlir/IR/AttrTypeSubElements.h"
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
    // The private constant globals, in the order of their first use (the
    // module's own: not those of a nested symbol table, a gpu.module's).
    llvm::MapVector<memref::GlobalOp, int> order;
    SymbolTable symbols(module);
    module.walk([&](memref::GetGlobalOp get) {
      if (get->getParentWithTrait<OpTrait::SymbolTable>() != module)
        return;
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (global && global.getConstant() && global.isPrivate())
        order.insert({global, 0});
    });
    if (order.empty())
      return;
    // Names: each base name's globals numbered in that order, as
    // SymbolTable would have numbered them (no suffix, then _0, _1, ...),
    // skipping a name another symbol holds; then every reference renamed
    // in one walk of the module (SymbolTable::rename walks it per symbol).
    SmallVector<memref::GlobalOp> globals;
    for (auto &entry : order)
      globals.push_back(entry.first);
    auto renamed = [&](StringRef name) {
      auto global = symbols.lookup<memref::GlobalOp>(name);
      return global && order.count(global);
    };
    llvm::StringMap<int> next;
    DenseMap<StringAttr, StringAttr> names;
    for (memref::GlobalOp global : globals) {
      std::string base = baseName(global.getSymName()).str(), name;
      do {
        int n = next[base]++;
        name = n == 0 ? base : base + "_" + std::to_string(n - 1);
      } while (symbols.lookup(name) && !renamed(name));
      names[global.getSymNameAttr()] =
          StringAttr::get(module.getContext(), name);
    }
    for (memref::GlobalOp global : globals)
      global.setSymName(names.lookup(global.getSymNameAttr()).getValue());
    AttrTypeReplacer replacer;
    replacer.addReplacement(
        [&](FlatSymbolRefAttr ref) -> std::optional<Attribute> {
          if (StringAttr name = names.lookup(ref.getAttr()))
            return FlatSymbolRefAttr::get(name);
          return std::nullopt;
        });
    for (Operation &op : module.getBody()->getOperations())
      if (!op.hasTrait<OpTrait::SymbolTable>())
        replacer.recursivelyReplaceElementsIn(&op, /*replaceAttrs=*/true,
                                              /*replaceLocs=*/false,
                                              /*replaceTypes=*/false);
    // Order: at the top of the module, first used first.
    Block &body = module.getBodyRegion().front();
    for (memref::GlobalOp global : llvm::reverse(globals))
      global->moveBefore(&body, body.begin());
  }
};

} // namespace
