//===- MaterializeGPULaunches.cpp - Bodies of GPU launch functions --------===//
//
// qopt-materialize-gpu-launches (memrefs, after bufferization) gives each
// launch-function declaration of convert-qopt-matmul-to-gpu its body:
//
//   host-side work first (the result's host buffer, the SM count that
//   bounds a persistent kernel's grid, qoptMultiprocessorCount, and the
//   resident operands: constant inputs uploaded once by the runtime,
//   qoptDeviceConstant, and kept on the device), then device copies of the
//   other inputs (gpu.alloc, gpu.memcpy), gpu.alloc of Y, the TMA tensor
//   maps the kernel takes (qopt.gpu_tensor_map), gpu.launch_func,
//   Y copied into the caller's buffer (or a new one), gpu.dealloc of the
//   per-call buffers
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_MATERIALIZEGPULAUNCHES
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct MaterializeGPULaunches
    : qopt::impl::MaterializeGPULaunchesBase<MaterializeGPULaunches> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto func : module.getOps<func::FuncOp>()) {
      auto launch = func->getAttrOfType<DictionaryAttr>(kGPULaunchAttrName);
      if (!launch || !func.isExternal())
        continue;
      if (failed(buildBody(func, launch)))
        return signalPassFailure();
    }
  }

  LogicalResult buildBody(func::FuncOp func, DictionaryAttr launch) {
    // The dialect verifier has checked the attribute's shape.
    auto kernelRef = cast<SymbolRefAttr>(launch.get("kernel"));
    auto grid = cast<DenseI64ArrayAttr>(launch.get("grid"));
    auto block = cast<DenseI64ArrayAttr>(launch.get("block"));
    FunctionType type = func.getFunctionType();
    for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults()))
      if (!isa<MemRefType>(t))
        return func.emitError()
               << kGPULaunchAttrName
               << " functions must be bufferized first (one-shot-bufferize "
                  "with bufferize-function-boundaries)";
    // Y is returned or, after buffer-results-to-out-params, the last
    // argument.
    bool outParam = type.getNumResults() == 0;
    if (outParam ? type.getNumInputs() < 2 : type.getNumResults() != 1)
      return func.emitError() << "unexpected signature for "
                              << kGPULaunchAttrName;

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
    auto residentAttr = launch.getAs<DenseI64ArrayAttr>("resident");
    ArrayRef<int64_t> resident =
        residentAttr ? residentAttr.asArrayRef() : ArrayRef<int64_t>();
    // Host-side work first: the resident operands' runtime calls and the
    // result's host buffer have effects gpu-async-region cannot order on a
    // stream, so it would end the stream at them (a host synchronisation)
    // if they came after a copy.
    auto yType = cast<MemRefType>(outParam ? args.back().getType()
                                           : type.getResult(0));
    Value yHost = outParam ? Value(args.back())
                           : Value(memref::AllocOp::create(b, loc, yType));
    // A persistent kernel: grid x is at most the device's SM count, which
    // the runtime reports (qoptMultiprocessorCount), in whole clusters (at
    // least one).
    Value persistentGridX;
    if (launch.get("persistent")) {
      FailureOr<LLVM::LLVMFuncOp> runtime =
          LLVM::lookupOrCreateFn(b, func->getParentOfType<ModuleOp>(),
                                 kMultiprocessorCountFn, {}, b.getI64Type());
      if (failed(runtime))
        return failure();
      Value sms = arith::IndexCastOp::create(
          b, loc, b.getIndexType(),
          LLVM::CallOp::create(b, loc, *runtime, ValueRange{}).getResult());
      persistentGridX = arith::MinUIOp::create(
          b, loc, sms, arith::ConstantIndexOp::create(b, loc, grid[0]));
      if (auto cluster = launch.getAs<DenseI64ArrayAttr>("cluster")) {
        Value clusterX = arith::ConstantIndexOp::create(b, loc, cluster[0]);
        persistentGridX = arith::MaxUIOp::create(
            b, loc,
            arith::MulIOp::create(
                b, loc,
                arith::DivUIOp::create(b, loc, persistentGridX, clusterX),
                clusterX),
            clusterX);
      }
    }
    device.assign(inputs.size(), Value());
    for (int64_t i : resident) {
      FailureOr<Value> d = getDeviceConstant(b, loc, func, inputs[i]);
      if (failed(d))
        return failure();
      device[i] = *d;
    }
    SmallVector<Value> copies;
    for (auto [i, host] : llvm::enumerate(inputs)) {
      if (device[i])
        continue;
      Value d = deviceAlloc(cast<MemRefType>(host.getType()));
      gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{}, d, host);
      device[i] = d;
      copies.push_back(d);
    }
    Value yDevice = deviceAlloc(yType);
    device.push_back(yDevice);
    copies.push_back(yDevice);

    auto dims = [&](DenseI64ArrayAttr a) {
      SmallVector<Value> v;
      for (int64_t d : a.asArrayRef())
        v.push_back(arith::ConstantIndexOp::create(b, loc, d));
      return gpu::KernelDim3{v[0], v[1], v[2]};
    };
    // Kernels take signless integers: view ui8 and FP8 codes as i8 (the
    // casts cancel in the LLVM lowering, where both are the same
    // descriptor).
    for (Value &d : device) {
      auto t = cast<MemRefType>(d.getType());
      Type elem = t.getElementType();
      if (elem.isSignlessInteger() || !elem.isIntOrFloat() ||
          (isa<FloatType>(elem) && elem.getIntOrFloatBitWidth() != 8))
        continue;
      auto signless = MemRefType::get(
          t.getShape(), b.getIntegerType(elem.getIntOrFloatBitWidth()),
          t.getLayout(), t.getMemorySpace());
      d = UnrealizedConversionCastOp::create(b, loc, signless, d).getResult(0);
    }
    // TMA tensor maps of device buffers, passed after the inputs.
    // qopt.gpu_tensor_map is pure, so gpu-async-region keeps the stream
    // going across it.
    if (auto maps = launch.getAs<ArrayAttr>("tensor_maps")) {
      SmallVector<Value> mapValues;
      // (The dialect's verifier has checked each against its input.)
      for (auto entry : maps.getAsRange<DenseI64ArrayAttr>())
        mapValues.push_back(qopt::GPUTensorMapOp::create(
            b, loc, b.getI64Type(), device[entry[0]],
            b.getDenseI64ArrayAttr({entry[1], entry[2]})));
      device.insert(device.end() - 1, mapValues.begin(), mapValues.end());
    }
    Value smem;
    if (auto bytes = launch.getAs<IntegerAttr>("dynamic_shared_memory"))
      smem = arith::ConstantIntOp::create(b, loc, bytes.getInt(), 32);
    std::optional<gpu::KernelDim3> clusters;
    if (auto cluster = launch.getAs<DenseI64ArrayAttr>("cluster"))
      clusters = dims(cluster);
    gpu::KernelDim3 gridDims = dims(grid);
    if (persistentGridX)
      gridDims.x = persistentGridX;
    auto launchOp = gpu::LaunchFuncOp::create(
        b, loc, kernelRef, gridDims, dims(block),
        /*dynamicSharedMemorySize=*/smem, device, /*asyncTokenType=*/Type(),
        /*asyncDependencies=*/ValueRange{}, clusters);
    // The kernel's gpu.module (or, once serialized, its gpu.binary).
    if (!SymbolTable::lookupNearestSymbolFrom(launchOp,
                                              kernelRef.getRootReference()))
      return func.emitError() << "no kernel module for " << kernelRef;

    gpu::MemcpyOp::create(b, loc, TypeRange{}, ValueRange{}, yHost, yDevice);
    for (Value d : copies)
      gpu::DeallocOp::create(b, loc, TypeRange{}, ValueRange{}, d);
    func::ReturnOp::create(b, loc,
                           outParam ? ValueRange{} : ValueRange{yHost});
    return success();
  }

  /// The device copy of the constant buffer `host`, made by the runtime on
  /// the first call and kept for the life of the process
  /// (`qoptDeviceConstant(host pointer, bytes)`), as a memref of the same
  /// type: the runtime's pointer in a static memref descriptor, cast to the
  /// memref type (the casts cancel when the host code is lowered to LLVM).
  FailureOr<Value> getDeviceConstant(OpBuilder &b, Location loc,
                                     func::FuncOp func, Value host) {
    auto t = cast<MemRefType>(host.getType());
    // An identity layout: offset 0 and contiguous, so the bytes from the
    // aligned pointer on are the whole buffer.
    if (!t.hasStaticShape() || !t.getLayout().isIdentity())
      return func.emitError()
             << "a resident operand of " << kGPULaunchAttrName
             << " must be a static, contiguous memref; got " << t;
    MLIRContext *ctx = b.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    // An llvm.func, not a func.func: the host pipeline requests C wrappers
    // (_mlir_ciface_) for every func.func, declarations included.
    FailureOr<LLVM::LLVMFuncOp> runtime = LLVM::lookupOrCreateFn(
        b, func->getParentOfType<ModuleOp>(), kDeviceConstantFn,
        {ptrType, b.getI64Type()}, ptrType);
    if (failed(runtime))
      return failure();
    int64_t bits = t.getNumElements() * t.getElementTypeBitWidth();
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, host);
    Value base64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), base);
    Value address = LLVM::IntToPtrOp::create(b, loc, ptrType, base64);
    Value bytes = arith::ConstantIntOp::create(b, loc, (bits + 7) / 8, 64);
    Value device =
        LLVM::CallOp::create(b, loc, *runtime, ValueRange{address, bytes})
            .getResult();
    LLVMTypeConverter converter(ctx);
    Value descriptor =
        MemRefDescriptor::fromStaticShape(b, loc, converter, t, device);
    return UnrealizedConversionCastOp::create(b, loc, t, descriptor)
        .getResult(0);
  }

  static constexpr StringLiteral kDeviceConstantFn = "qoptDeviceConstant";
  static constexpr StringLiteral kMultiprocessorCountFn =
      "qoptMultiprocessorCount";
};

} // namespace
