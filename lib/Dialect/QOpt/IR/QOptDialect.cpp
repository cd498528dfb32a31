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
    // Optional: thread-block clusters, 3-D, dividing the grid, of at most
    // 8 blocks (the portable cluster size).
    if (Attribute cluster = launch.get("cluster")) {
      auto dims = dyn_cast<DenseI64ArrayAttr>(cluster);
      ArrayRef<int64_t> grid =
          cast<DenseI64ArrayAttr>(launch.get("grid")).asArrayRef();
      if (!dims || dims.size() != 3 ||
          llvm::any_of(llvm::seq<size_t>(0, 3),
                       [&](size_t i) {
                         return dims[i] < 1 || dims[i] > 8 ||
                                grid[i] % dims[i] != 0;
                       }) ||
          dims[0] * dims[1] * dims[2] > 8)
        return op->emitError("'qopt.gpu_launch' 'cluster' must be a 3-D "
                             "array of positive divisors of the grid, of "
                             "at most 8 blocks");
    }
    // Optional: a persistent kernel, whose launch takes grid x only up to
    // the device's SM count, rounded down to whole clusters (`grid` is then
    // the most blocks it can use).
    if (Attribute persistent = launch.get("persistent"))
      if (!isa<UnitAttr>(persistent))
        return op->emitError("'qopt.gpu_launch' 'persistent' must be a unit "
                             "attribute");
    // Optional: the bytes of dynamic shared memory the kernel takes (an
    // i32 at the launch).
    if (Attribute smem = launch.get("dynamic_shared_memory")) {
      auto bytes = dyn_cast<IntegerAttr>(smem);
      if (!bytes || bytes.getType().isIndex() || bytes.getValue().isNegative() ||
          bytes.getValue().getActiveBits() > 31)
        return op->emitError("'qopt.gpu_launch' 'dynamic_shared_memory' must "
                             "be an integer from 0 to 2^31 - 1");
    }
    // The inputs of the launch function: its arguments, less the result
    // when it is the last argument (after buffer-results-to-out-params).
    auto fn = dyn_cast<FunctionOpInterface>(op);
    int64_t inputs = fn ? int64_t(fn.getNumArguments()) -
                              (fn.getNumResults() == 0 ? 1 : 0)
                        : 0;
    // Optional: the inputs (increasing indices) that are constants and
    // stay resident on the device.
    if (Attribute resident = launch.get("resident")) {
      auto indices = dyn_cast<DenseI64ArrayAttr>(resident);
      bool valid = indices && fn;
      for (auto [k, i] : llvm::enumerate(
               indices ? indices.asArrayRef() : ArrayRef<int64_t>()))
        valid &= i >= 0 && i < inputs &&
                 (k == 0 || i > indices.asArrayRef()[k - 1]);
      if (!valid)
        return op->emitError("'qopt.gpu_launch' 'resident' must be an "
                             "increasing array of input indices of the "
                             "function (not its result)");
    }
    // Optional: TMA tensor maps of inputs, [operand, box rows, box
    // columns] each, passed to the kernel after the inputs.
    if (Attribute maps = launch.get("tensor_maps")) {
      auto list = dyn_cast<ArrayAttr>(maps);
      if (!list || !fn)
        return op->emitError("'qopt.gpu_launch' 'tensor_maps' must be an "
                             "array of [input index, box rows, box "
                             "columns] arrays on a function");
      // Once the host code is lowered to LLVM, no argument is shaped any
      // more (nor indexed as before): nothing to check then.
      bool lowered = llvm::none_of(fn.getArgumentTypes(), [](Type t) {
        return isa<ShapedType>(t);
      });
      for (Attribute a : list) {
        auto entry = dyn_cast<DenseI64ArrayAttr>(a);
        if (!entry || entry.size() != 3 || entry[0] < 0 ||
            entry[0] >= inputs)
          return op->emitError("'qopt.gpu_launch' 'tensor_maps' must be an "
                               "array of [input index, box rows, box "
                               "columns] arrays on a function (not of its "
                               "result)");
        if (lowered)
          continue;
        Type argument = fn.getArgumentTypes()[entry[0]];
        std::string error;
        if (auto type = dyn_cast<ShapedType>(argument))
          error = getTensorMapError(type, {entry[1], entry[2]});
        else
          llvm::raw_string_ostream(error)
              << "needs a buffer; got '" << argument << "'";
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
