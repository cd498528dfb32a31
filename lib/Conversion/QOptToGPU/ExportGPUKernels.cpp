//===- ExportGPUKernels.cpp - GPU binaries and a launch manifest on disk --===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_EXPORTGPUKERNELS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

StringRef getFormatSuffix(gpu::CompilationTarget format) {
  switch (format) {
  case gpu::CompilationTarget::Assembly:
    return "ptx";
  case gpu::CompilationTarget::Binary:
    return "cubin";
  case gpu::CompilationTarget::Fatbin:
    return "fatbin";
  default:
    return "bin";
  }
}

std::string printType(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

struct ExportGPUKernels
    : qopt::impl::ExportGPUKernelsBase<ExportGPUKernels> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (outputDir.empty()) {
      emitError(module.getLoc(), "qopt-export-gpu-kernels needs output-dir");
      return signalPassFailure();
    }
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir)) {
      emitError(module.getLoc())
          << "cannot create '" << outputDir << "': " << ec.message();
      return signalPassFailure();
    }

    llvm::json::Array binaries;
    WalkResult written = module.walk([&](gpu::BinaryOp binary) {
      for (Attribute attr : binary.getObjects()) {
        auto object = cast<gpu::ObjectAttr>(attr);
        std::string chip = "unknown";
        if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
          chip = nvvm.getChip().str();
        std::string file = (binary.getName() + "." + chip + "." +
                            getFormatSuffix(object.getFormat()))
                               .str();
        SmallString<256> path(outputDir);
        llvm::sys::path::append(path, file);
        if (failed(writeFile(binary, path, object.getObject().getValue())))
          return WalkResult::interrupt();
        binaries.push_back(llvm::json::Object{
            {"name", binary.getName()},
            {"chip", chip},
            {"format", getFormatSuffix(object.getFormat())},
            {"file", file}});
      }
      return WalkResult::advance();
    });
    if (written.wasInterrupted())
      return signalPassFailure();

    // Launches: calls of the launch functions convert-qopt-matmul-to-gpu
    // declared (before qopt-materialize-gpu-launches) and gpu.launch_func
    // ops with constant dimensions.
    llvm::json::Array launches;
    auto describe = [&](Operation *site, SymbolRefAttr kernel,
                        llvm::json::Array grid, llvm::json::Array block,
                        int64_t smem, TypeRange types,
                        std::optional<llvm::json::Array> cluster) {
      llvm::json::Array arguments;
      for (Type type : types) {
        llvm::json::Object arg;
        if (auto shaped = dyn_cast<ShapedType>(type)) {
          arg["shape"] = llvm::json::Array(shaped.getShape());
          arg["type"] = printType(shaped.getElementType());
        } else {
          arg["type"] = printType(type);
        }
        arguments.push_back(std::move(arg));
      }
      auto func = site->getParentOfType<FunctionOpInterface>();
      launches.push_back(llvm::json::Object{
          {"function", func ? func.getName().str() : std::string()},
          {"location", qopt::getLocationName(site->getLoc())},
          {"binary", kernel.getRootReference().getValue()},
          {"kernel", kernel.getLeafReference().getValue()},
          {"grid", std::move(grid)},
          {"block", std::move(block)},
          {"dynamic_shared_memory", smem},
          {"arguments", std::move(arguments)}});
      // Thread-block clusters (a launch through cuLaunchKernelEx).
      if (cluster)
        launches.back().getAsObject()->insert({"cluster", std::move(*cluster)});
    };
    WalkResult called = module.walk([&](func::CallOp call) {
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee());
      auto launch = callee ? callee->getAttrOfType<DictionaryAttr>(
                                 qopt::kGPULaunchAttrName)
                           : DictionaryAttr();
      if (!launch)
        return WalkResult::advance();
      auto dims = [&](StringRef name) {
        return llvm::json::Array(
            cast<DenseI64ArrayAttr>(launch.get(name)).asArrayRef());
      };
      SmallVector<Type> types(call.getOperandTypes());
      llvm::append_range(types, call.getResultTypes());
      auto smem = launch.getAs<IntegerAttr>("dynamic_shared_memory");
      describe(call, cast<SymbolRefAttr>(launch.get("kernel")), dims("grid"),
               dims("block"), smem ? smem.getInt() : 0, types,
               launch.get("cluster")
                   ? std::optional<llvm::json::Array>(dims("cluster"))
                   : std::nullopt);
      // A persistent kernel: "grid" is the most blocks it can use; launch
      // at most one an SM of the device.
      if (launch.get("persistent"))
        launches.back().getAsObject()->insert({"persistent", true});
      // TMA tensor maps the kernel takes after the inputs: of which input,
      // the box (rows, columns) and the swizzle the kernel reads (the span
      // of a box row when it is 32, 64 or 128 bytes, as qoptTensorMap
      // encodes it; 0: none), for launchers that encode their own.
      if (auto maps = launch.getAs<ArrayAttr>("tensor_maps")) {
        llvm::json::Array list;
        // (The dialect's verifier has checked that each names an input and,
        // where it is shaped, a 2-D one of 1-, 2- or 4-byte elements.)
        for (auto entry : maps.getAsRange<DenseI64ArrayAttr>()) {
          auto operand = dyn_cast<ShapedType>(types[entry[0]]);
          if (!operand) {
            call.emitError() << "a tensor map of operand " << entry[0]
                             << " needs a buffer; got " << types[entry[0]];
            return WalkResult::interrupt();
          }
          int64_t rowBytes = entry[2] * operand.getElementTypeBitWidth() / 8;
          list.push_back(llvm::json::Object{
              {"operand", entry[0]},
              {"box", llvm::json::Array{entry[1], entry[2]}},
              {"swizzle_bytes", qopt::getTensorMapSwizzleBytes(rowBytes)}});
        }
        launches.back().getAsObject()->insert(
            {"tensor_maps", std::move(list)});
      }
      return WalkResult::advance();
    });
    if (called.wasInterrupted())
      return signalPassFailure();
    WalkResult listed = module.walk([&](gpu::LaunchFuncOp launch) {
      auto dims = [&](gpu::KernelDim3 d) -> std::optional<llvm::json::Array> {
        llvm::json::Array a;
        for (Value v : {d.x, d.y, d.z}) {
          std::optional<int64_t> c = getConstantIntValue(v);
          if (!c)
            return std::nullopt;
          a.push_back(*c);
        }
        return a;
      };
      std::optional<llvm::json::Array> grid =
          dims(launch.getGridSizeOperandValues());
      std::optional<llvm::json::Array> block =
          dims(launch.getBlockSizeOperandValues());
      int64_t smem = 0;
      if (Value s = launch.getDynamicSharedMemorySize()) {
        std::optional<int64_t> c = getConstantIntValue(s);
        smem = c ? *c : -1;
      }
      if (!grid || !block || smem < 0) {
        launch.emitError("qopt-export-gpu-kernels needs constant launch "
                         "dimensions");
        return WalkResult::interrupt();
      }
      std::optional<llvm::json::Array> cluster;
      if (launch.hasClusterSize()) {
        cluster = dims(launch.getClusterSizeOperandValues());
        if (!cluster) {
          launch.emitError("qopt-export-gpu-kernels needs constant cluster "
                           "dimensions");
          return WalkResult::interrupt();
        }
      }
      describe(launch, launch.getKernel(), std::move(*grid), std::move(*block),
               smem, launch.getKernelOperands().getTypes(), std::move(cluster));
      return WalkResult::advance();
    });
    if (listed.wasInterrupted())
      return signalPassFailure();

    SmallString<256> path(outputDir);
    llvm::sys::path::append(path, "kernels.json");
    std::string text;
    llvm::raw_string_ostream os(text);
    os << llvm::formatv("{0:2}",
                        llvm::json::Value(llvm::json::Object{
                            {"launches", std::move(launches)},
                            {"binaries", std::move(binaries)}}))
       << "\n";
    if (failed(writeFile(module, path, text)))
      return signalPassFailure();
  }

  LogicalResult writeFile(Operation *anchor, StringRef path, StringRef data) {
    std::error_code ec;
    llvm::raw_fd_ostream file(path, ec);
    if (!ec) {
      file << data;
      file.close();
      ec = file.error();
    }
    if (ec)
      return anchor->emitError() << "cannot write '" << path
                                 << "': " << ec.message();
    return success();
  }
};

} // namespace
