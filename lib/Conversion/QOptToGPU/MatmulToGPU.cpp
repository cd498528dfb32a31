//===- MatmulToGPU.cpp - qopt.matmul as generated GPU kernels -------------===//
//
// Two steps, so that the host code around a launch bufferizes and gets its
// deallocations like any other code (ownership-based deallocation rejects
// gpu.launch_func, which declares no memory effects):
//
// convert-qopt-matmul-to-gpu (tensors), for each supported qopt.matmul:
//
//   gpu.module @qopt_kernels { gpu.func @<kernel>(x, w, s, y) kernel }
//   func.func private @<kernel>_launch(tensor x, tensor w, tensor s)
//       -> tensor y  attributes {qopt.gpu_launch = {kernel, grid, block}}
//   %y = func.call @<kernel>_launch(%x2, %w, %s)   (%x2: leading dims in M)
//
// qopt-materialize-gpu-launches (memrefs, after bufferization), gives each
// such declaration its body:
//
//   device copies of the inputs (gpu.alloc, gpu.memcpy), gpu.alloc of Y,
//   gpu.launch_func, Y copied into the caller's buffer (or a new one),
//   gpu.dealloc
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "WeightOnlyGemv.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTMATMULTOGPU
#define GEN_PASS_DEF_MATERIALIZEGPULAUNCHES
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::gpu_kernels;

namespace {

constexpr StringLiteral kLaunchAttrName = "qopt.gpu_launch";

/// SMs of the reference part of each chip (A100, L40S, H100 SXM): what the
/// tile heuristics size grids for.
int64_t getSMCount(StringRef chip) {
  if (chip == "sm_80")
    return 108;
  if (chip == "sm_89")
    return 142;
  return 132;
}

/// The GEMV configuration of `op`, or the reason there is none.
FailureOr<WeightOnlyGemvConfig> getGemvConfig(MatmulOp op, std::string &why) {
  RankedTensorType xType = op.getInput().getType();
  WeightOnlyGemvConfig c;
  if (op.getInputScale()) {
    why = "quantized activations (the W8A8 kernel is not generated yet)";
    return failure();
  }
  if (op.getZeroPoint()) {
    why = "weights with a zero point (only symmetric weights so far)";
    return failure();
  }
  if (!xType.hasStaticShape() || !op.getWeight().getType().hasStaticShape()) {
    why = "dynamic shapes";
    return failure();
  }
  auto intType = dyn_cast<IntegerType>(op.getWeightStorageType());
  if (!intType) {
    why = "non-integer weight codes";
    return failure();
  }
  if (op.getPacked() ? intType.getWidth() != 4 : intType.getWidth() != 8) {
    why = "unpacked sub-byte weight codes (qopt.pack them first)";
    return failure();
  }
  auto half = dyn_cast<FloatType>(xType.getElementType());
  if (!half || !(half.isF16() || half.isBF16())) {
    why = "f32 activations (the kernels take f16 or bf16)";
    return failure();
  }
  c.format = {intType.getWidth(), !intType.isUnsigned(), half};
  c.outType = op.getType().getElementType();
  c.n = op.getN();
  c.k = op.getK();
  c.m = xType.getNumElements() / c.k;
  c.scaleShape = llvm::to_vector(op.getScale().getType().getShape());
  auto blocks = getBlockSizes({c.n, c.k}, c.scaleShape);
  if (failed(blocks)) {
    why = "a scale shape that does not tile the weight";
    return failure();
  }
  c.blockN = (*blocks)[0];
  c.blockK = (*blocks)[1];
  return c;
}

struct ConvertQOptMatmulToGPU
    : qopt::impl::ConvertQOptMatmulToGPUBase<ConvertQOptMatmulToGPU> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (chip != "sm_80" && chip != "sm_89" && chip != "sm_90a") {
      module.emitError() << "unsupported chip '" << chip
                         << "' (expected sm_80, sm_89 or sm_90a)";
      return signalPassFailure();
    }
    if (splitK < 0 || stages < 0) {
      module.emitError() << "split-k and stages must not be negative";
      return signalPassFailure();
    }
    SmallVector<MatmulOp> matmuls;
    module.walk([&](MatmulOp op) { matmuls.push_back(op); });
    if (matmuls.empty())
      return;

    OpBuilder b(module.getContext());
    gpu::GPUModuleOp kernels;
    llvm::StringMap<gpu::GPUFuncOp> built;
    for (MatmulOp op : matmuls) {
      std::string why;
      FailureOr<WeightOnlyGemvConfig> config = getGemvConfig(op, why);
      if (succeeded(config)) {
        config->splitK = splitK;
        config->stages = stages;
        chooseWeightOnlyGemvTiling(*config, getSMCount(chip));
        why = checkWeightOnlyGemv(*config);
      }
      if (!why.empty()) {
        op.emitWarning() << "qopt.matmul runs on the host: no GPU kernel for "
                         << why;
        continue;
      }
      if (!kernels) {
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
        b.setInsertionPointToEnd(module.getBody());
        kernels = gpu::GPUModuleOp::create(b, module.getLoc(), "qopt_kernels");
      }
      std::string name = config->kernelName();
      gpu::GPUFuncOp &kernel = built[name];
      if (!kernel) {
        b.setInsertionPointToEnd(kernels.getBody());
        kernel = buildWeightOnlyGemv(b, op.getLoc(), *config);
      }
      replaceWithLaunch(op, kernel, *config);
    }
  }

  /// Replaces `op` by a call of the kernel's launch function.
  void replaceWithLaunch(MatmulOp op, gpu::GPUFuncOp kernel,
                         const WeightOnlyGemvConfig &c) {
    ModuleOp module = getOperation();
    OpBuilder b(op);
    Location loc = op.getLoc();
    RankedTensorType xType = op.getInput().getType();
    RankedTensorType yType = op.getType();
    int64_t rank = xType.getRank();
    SmallVector<ReassociationIndices> collapse;
    if (rank != 2) {
      collapse.emplace_back(llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)));
      collapse.push_back({rank - 1});
    }
    Value x = op.getInput();
    if (rank != 2)
      x = tensor::CollapseShapeOp::create(b, loc, x, collapse);

    SmallVector<Type> tensorTypes;
    for (Type t : getWeightOnlyGemvArgumentTypes(b.getContext(), c)) {
      auto m = cast<MemRefType>(t);
      tensorTypes.push_back(
          RankedTensorType::get(m.getShape(), m.getElementType()));
    }
    std::string name = (kernel.getName() + "_launch").str();
    auto launcher = module.lookupSymbol<func::FuncOp>(name);
    if (!launcher) {
      // Launch functions go before the kernels' gpu.module.
      OpBuilder mb(module.getContext());
      mb.setInsertionPoint(kernel->getParentOfType<gpu::GPUModuleOp>());
      launcher = func::FuncOp::create(
          mb, loc, name,
          mb.getFunctionType(ArrayRef(tensorTypes).drop_back(),
                             tensorTypes.back()));
      launcher.setPrivate();
      SymbolRefAttr kernelRef = SymbolRefAttr::get(
          mb.getStringAttr("qopt_kernels"),
          {FlatSymbolRefAttr::get(kernel.getNameAttr())});
      launcher->setAttr(
          kLaunchAttrName,
          mb.getDictionaryAttr(
              {mb.getNamedAttr("kernel", kernelRef),
               mb.getNamedAttr("grid", mb.getDenseI64ArrayAttr(
                                           {c.blocks(), 1, 1})),
               mb.getNamedAttr("block", mb.getDenseI64ArrayAttr(
                                            {c.threads(), 1, 1}))}));
    }
    Value y = func::CallOp::create(b, loc, launcher,
                                   ValueRange{x, op.getWeight(), op.getScale()})
                  .getResult(0);
    if (rank != 2)
      y = tensor::ExpandShapeOp::create(b, loc, yType, y, collapse);
    op.replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace

namespace {

struct MaterializeGPULaunches
    : qopt::impl::MaterializeGPULaunchesBase<MaterializeGPULaunches> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      auto launch = func->getAttrOfType<DictionaryAttr>(kLaunchAttrName);
      if (!launch || !func.isExternal())
        continue;
      if (failed(buildBody(func, launch)))
        return signalPassFailure();
    }
  }

  LogicalResult buildBody(func::FuncOp func, DictionaryAttr launch) {
    auto kernelRef = dyn_cast_or_null<SymbolRefAttr>(launch.get("kernel"));
    auto grid = dyn_cast_or_null<DenseI64ArrayAttr>(launch.get("grid"));
    auto block = dyn_cast_or_null<DenseI64ArrayAttr>(launch.get("block"));
    if (!kernelRef || !grid || !block || grid.size() != 3 ||
        block.size() != 3)
      return func.emitError() << "malformed " << kLaunchAttrName;
    FunctionType type = func.getFunctionType();
    for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults()))
      if (!isa<MemRefType>(t))
        return func.emitError()
               << kLaunchAttrName
               << " functions must be bufferized first (one-shot-bufferize "
                  "with bufferize-function-boundaries)";
    // Y is returned or, after buffer-results-to-out-params, the last
    // argument.
    bool outParam = type.getNumResults() == 0;
    if (outParam ? type.getNumInputs() < 2 : type.getNumResults() != 1)
      return func.emitError() << "unexpected signature for "
                              << kLaunchAttrName;

    Location loc = func.getLoc();
    Block *body = func.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    func.setPrivate();
    SmallVector<Value> device;
    auto deviceAlloc = [&](MemRefType t) {
      return gpu::AllocOp::create(b, loc, t, Type(), ValueRange{},
                                  ValueRange{}, ValueRange{},
                                  /*hostShared=*/false)
          .getMemref();
    };
    ArrayRef<BlockArgument> args = body->getArguments();
    ArrayRef<BlockArgument> inputs = outParam ? args.drop_back() : args;
    for (Value host : inputs) {
      Value d = deviceAlloc(cast<MemRefType>(host.getType()));
      gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{}, d, host);
      device.push_back(d);
    }
    auto yType = cast<MemRefType>(outParam ? args.back().getType()
                                           : type.getResult(0));
    Value yDevice = deviceAlloc(yType);
    device.push_back(yDevice);

    auto dims = [&](DenseI64ArrayAttr a) {
      SmallVector<Value> v;
      for (int64_t d : a.asArrayRef())
        v.push_back(arith::ConstantIndexOp::create(b, loc, d));
      return gpu::KernelDim3{v[0], v[1], v[2]};
    };
    auto launchOp = gpu::LaunchFuncOp::create(
        b, loc, kernelRef, dims(grid), dims(block),
        /*dynamicSharedMemorySize=*/Value(), device, /*asyncTokenType=*/Type());
    // The kernel's gpu.module (or, once serialized, its gpu.binary).
    if (!SymbolTable::lookupNearestSymbolFrom(launchOp,
                                              kernelRef.getRootReference()))
      return func.emitError() << "no kernel module for " << kernelRef;

    Value yHost = outParam ? Value(args.back())
                           : Value(memref::AllocOp::create(b, loc, yType));
    gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{}, yHost, yDevice);
    for (Value d : device)
      gpu::DeallocOp::create(b, loc, TypeRange{}, ValueRange{}, d);
    func::ReturnOp::create(b, loc,
                           outParam ? ValueRange{} : ValueRange{yHost});
    return success();
  }
};

} // namespace
