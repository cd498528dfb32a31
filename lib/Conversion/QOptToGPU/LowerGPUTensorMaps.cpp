//===- LowerGPUTensorMaps.cpp - qopt.gpu_tensor_map as runtime calls ------===//
//
// qopt-lower-gpu-tensor-maps (host code, after gpu-async-region):
//
//   %map = qopt.gpu_tensor_map %buffer box [R, C] : memref<MxNxT>
//     →
//   %base = memref.extract_aligned_pointer_as_index %buffer
//   %map  = llvm.call @qoptTensorMap(ptr(%base), M, N, bytes(T), R, C,
//                                    swizzle bytes)
//
// The swizzle is the op's (getTensorMapSwizzleBytes of a box row): decided
// here, where the kernel's layout is known, not by the runtime.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_LOWERGPUTENSORMAPS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct LowerGPUTensorMaps
    : qopt::impl::LowerGPUTensorMapsBase<LowerGPUTensorMaps> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<GPUTensorMapOp> maps;
    module.walk([&](GPUTensorMapOp op) { maps.push_back(op); });
    if (maps.empty())
      return;
    MLIRContext *ctx = module.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    Type i64 = IntegerType::get(ctx, 64);
    // An llvm.func, not a func.func: the host pipeline requests C wrappers
    // (_mlir_ciface_) for every func.func, declarations included.
    OpBuilder declare(ctx);
    FailureOr<LLVM::LLVMFuncOp> runtime = LLVM::lookupOrCreateFn(
        declare, module, kTensorMapFn, {ptrType, i64, i64, i64, i64, i64, i64},
        i64);
    if (failed(runtime))
      return signalPassFailure();
    for (GPUTensorMapOp op : maps) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      MemRefType type = op.getBuffer().getType();
      Value base =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, op.getBuffer());
      Value address = LLVM::IntToPtrOp::create(
          b, loc, ptrType,
          arith::IndexCastOp::create(b, loc, i64, base).getResult());
      auto constant = [&](int64_t v) -> Value {
        return arith::ConstantIntOp::create(b, loc, v, 64);
      };
      ArrayRef<int64_t> box = op.getBox();
      int64_t elementBytes = type.getElementTypeBitWidth() / 8;
      Value map =
          LLVM::CallOp::create(
              b, loc, *runtime,
              ValueRange{
                  address, constant(type.getDimSize(0)),
                  constant(type.getDimSize(1)), constant(elementBytes),
                  constant(box[0]), constant(box[1]),
                  constant(getTensorMapSwizzleBytes(box[1] * elementBytes))})
              .getResult();
      op.replaceAllUsesWith(map);
      op.erase();
    }
  }

  static constexpr StringLiteral kTensorMapFn = "qoptTensorMap";
};

} // namespace
