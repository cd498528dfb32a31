//===- WidenSubByteMemory.cpp - Byte-sized loads / stores of i4 and i1 ----===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_WIDENSUBBYTEMEMORY
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The sub-byte integer type of a scalar memory access, or null.
IntegerType getSubByteType(Type t) {
  auto it = dyn_cast<IntegerType>(t);
  return it && it.getWidth() < 8 ? it : IntegerType();
}

struct WidenSubByteMemoryPass
    : qopt::impl::WidenSubByteMemoryBase<WidenSubByteMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    OpBuilder b(&getContext());
    Type i8 = b.getI8Type();
    SmallVector<Operation *> accesses;
    getOperation().walk([&](Operation *op) {
      if (auto load = dyn_cast<LLVM::LoadOp>(op);
          load && getSubByteType(load.getType()))
        accesses.push_back(op);
      if (auto store = dyn_cast<LLVM::StoreOp>(op);
          store && getSubByteType(store.getValue().getType()))
        accesses.push_back(op);
    });
    for (Operation *op : accesses) {
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto load = dyn_cast<LLVM::LoadOp>(op)) {
        auto wide = LLVM::LoadOp::create(
            b, loc, i8, load.getAddr(), load.getAlignment().value_or(0),
            load.getVolatile_(), load.getNontemporal());
        Value narrow =
            LLVM::TruncOp::create(b, loc, load.getType(), wide.getResult());
        load.replaceAllUsesWith(narrow);
        load.erase();
        continue;
      }
      auto store = cast<LLVM::StoreOp>(op);
      Value value = store.getValue();
      Value wide =
          getSubByteType(value.getType()).getWidth() == 1
              ? Value(LLVM::ZExtOp::create(b, loc, i8, value))
              : Value(LLVM::SExtOp::create(b, loc, i8, value));
      LLVM::StoreOp::create(b, loc, wide, store.getAddr(),
                            store.getAlignment().value_or(0),
                            store.getVolatile_(), store.getNontemporal());
      store.erase();
    }
  }
};

} // namespace
