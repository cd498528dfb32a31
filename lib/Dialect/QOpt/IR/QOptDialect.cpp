//===- QOptDialect.cpp - qopt dialect registration and constants ----------===//

#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::qopt;

#include "quant-opt/Dialect/QOpt/IR/QOptOpsDialect.cpp.inc"

void QOptDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "quant-opt/Dialect/QOpt/IR/QOptOps.cpp.inc"
      >();
}

Operation *QOptDialect::materializeConstant(OpBuilder &builder,
                                            Attribute value, Type type,
                                            Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || !arith::ConstantOp::isBuildableWith(typed, type))
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}

LogicalResult QOptDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  // qopt.signature: the tensor signature kept through lowering (see
  // qopt-record-signatures).
  if (attr.getName() == "qopt.signature") {
    auto type = dyn_cast<TypeAttr>(attr.getValue());
    if (!type || !isa<FunctionType>(type.getValue()))
      return op->emitError("'qopt.signature' must be a function type");
    return success();
  }
  if (attr.getName() == "qopt.observers") {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<ModuleOp>(op) || !names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("'qopt.observers' must be an array of observer "
                           "names on a module");
    return success();
  }
  // qopt.returned_products: names of the products qopt-return-products
  // appended to a function's results.
  if (attr.getName() == "qopt.returned_products") {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("'qopt.returned_products' must be an array of "
                           "product names");
    return success();
  }
  // qopt.gpu_launch: the kernel a launch function of
  // convert-qopt-matmul-to-gpu starts, and its grid and block.
  if (attr.getName() == kGPULaunchAttrName) {
    auto launch = dyn_cast<DictionaryAttr>(attr.getValue());
    auto isDim3 = [&](StringRef name) {
      auto dims = launch ? dyn_cast_or_null<DenseI64ArrayAttr>(
                               launch.get(name))
                         : DenseI64ArrayAttr();
      return dims && dims.size() == 3 &&
             llvm::all_of(dims.asArrayRef(), [](int64_t d) { return d > 0; });
    };
    if (!launch || !isa_and_nonnull<SymbolRefAttr>(launch.get("kernel")) ||
        !isDim3("grid") || !isDim3("block"))
      return op->emitError("'qopt.gpu_launch' must be a dictionary with a "
                           "'kernel' symbol and positive 3-D 'grid' and "
                           "'block' arrays");
    // Optional: the operands (increasing indices) that are constants and
    // stay resident on the device.
    if (Attribute resident = launch.get("resident")) {
      auto indices = dyn_cast<DenseI64ArrayAttr>(resident);
      auto fn = dyn_cast<FunctionOpInterface>(op);
      int64_t inputs = fn ? int64_t(fn.getNumArguments()) : 0;
      bool valid = indices && fn;
      for (auto [k, i] : llvm::enumerate(
               indices ? indices.asArrayRef() : ArrayRef<int64_t>()))
        valid &= i >= 0 && i < inputs &&
                 (k == 0 || i > indices.asArrayRef()[k - 1]);
      if (!valid)
        return op->emitError("'qopt.gpu_launch' 'resident' must be an "
                             "increasing array of argument indices of the "
                             "function");
    }
    // Optional: TMA tensor maps of inputs, [operand, box rows, box
    // columns] each, passed to the kernel after the inputs.
    if (Attribute maps = launch.get("tensor_maps")) {
      auto list = dyn_cast<ArrayAttr>(maps);
      auto fn = dyn_cast<FunctionOpInterface>(op);
      if (!list || !fn)
        return op->emitError("'qopt.gpu_launch' 'tensor_maps' must be an "
                             "array of [argument index, box rows, box "
                             "columns] arrays on a function");
      for (Attribute a : list) {
        auto entry = dyn_cast<DenseI64ArrayAttr>(a);
        if (!entry || entry.size() != 3 || entry[0] < 0 ||
            entry[0] >= int64_t(fn.getNumArguments()))
          return op->emitError("'qopt.gpu_launch' 'tensor_maps' must be an "
                               "array of [argument index, box rows, box "
                               "columns] arrays on a function");
        // (Once the host code is lowered to LLVM, arguments are no longer
        // shaped: nothing to check then.)
        auto type = dyn_cast<ShapedType>(fn.getArgumentTypes()[entry[0]]);
        std::string error =
            type ? getTensorMapError(type, {entry[1], entry[2]}) : "";
        if (!error.empty())
          return op->emitError("'qopt.gpu_launch' tensor map of argument ")
                 << entry[0] << ": " << error;
      }
    }
    return success();
  }
  if (attr.getName() == "qopt.out_params") {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError("'qopt.out_params' must be a unit attribute");
    return success();
  }
  return op->emitError("unknown qopt attribute '")
         << attr.getName().getValue() << "'";
}
