//===- CPUPipeline.cpp - qopt-cpu-pipeline: tensors to LLVM for the host --===//

#include "quant-opt/Pipelines/Pipelines.h"
#include "HostLowering.h"

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/GPUCommon/GPUCommonPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/RequestCWrappers.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qopt::detail::buildFrontEnd(OpPassManager &pm, bool resultsToOutParams) {
  // Upstream quant types to qopt ops, keep the tensor signatures.
  pm.addPass(qopt::createConvertQuantToQOpt());
  qopt::RecordSignaturesOptions record;
  record.outParams = resultsToOutParams;
  pm.addPass(qopt::createRecordSignatures(record));
  pm.addPass(qopt::createConvertQOptObserveToCalls());
  pm.addPass(createCanonicalizerPass());
}

void qopt::detail::buildHostLowering(OpPassManager &pm,
                                     const CPUPipelineOptions &options,
                                     bool gpuLaunches) {
  // qopt ops become elementwise linalg.generic ops; fuse neighbours.
  // Elementwise arith on tensors (residual adds, activations) as linalg.
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addNestedPass<func::FuncOp>(qopt::createConvertQOptMatmulToLoops());
  pm.addNestedPass<func::FuncOp>(qopt::createConvertQOptToLinalg());
  if (options.cpuFloatContractions) {
    pm.addNestedPass<func::FuncOp>(qopt::createOrderContractionsForCPU());
    pm.addNestedPass<func::FuncOp>(qopt::createFuseElementwiseForCPU());
  } else {
    pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  }
  pm.addPass(createCanonicalizerPass());

  // Bufferize with identity layouts at function boundaries.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // A tensor carried through scf.for (a recurrent layer, a decode loop) is
  // a new buffer each iteration where its producer allocates one.
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Its constant globals in the order of first use, not of addresses.
  pm.addPass(qopt::createOrderConstantGlobals());
  if (options.resultsToOutParams) {
    bufferization::BufferResultsToOutParamsPassOptions outParams;
    outParams.hoistStaticAllocs = true;
    outParams.modifyPublicFunctions = true;
    pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  }
  bufferization::buildBufferDeallocationPipeline(pm);
  // Device copies and launches become asynchronous operations on one
  // stream, waited for before the host reads a result.
  if (gpuLaunches) {
    pm.addPass(qopt::createMaterializeGPULaunches());
    pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
    pm.addPass(qopt::createLowerGPUTensorMaps());
  }

  // Loops, then LLVM.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // The vector loops of convert-qopt-matmul-to-loops (1-D reads, FMAs and
  // reductions) to LLVM vector instructions.
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addNestedPass<func::FuncOp>(LLVM::createLLVMRequestCWrappersPass());
  // What has no LLVM intrinsic (erf of exact GELU, tanh, ...) becomes a libm
  // call, which the JIT and ahead-of-time links resolve. After the C-wrapper
  // request, so the libm declarations keep their plain C names.
  pm.addPass(createConvertMathToLibmPass());
  if (gpuLaunches) {
    // Launches, device buffers and copies: calls into the mgpu* runtime
    // (runtime/libqopt_cuda_runtime.so). Kernels take bare pointers.
    GpuToLLVMConversionPassOptions toLLVM;
    toLLVM.kernelBarePtrCallConv = true;
    pm.addPass(createGpuToLLVMConversionPass(toLLVM));
  }
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addNestedPass<LLVM::LLVMFuncOp>(qopt::createWidenSubByteMemory());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(qopt::createCheckLLVMLowering());
}

void qopt::buildCPUPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options) {
  detail::buildFrontEnd(pm, options.resultsToOutParams);
  detail::buildHostLowering(pm, options, /*gpuLaunches=*/false);
}

void qopt::buildWeightPTQPipeline(OpPassManager &pm,
                                  const WeightPTQOptions &options) {
  qopt::QuantizeWeightsOptions quantize;
  quantize.storage = options.storage;
  quantize.groupSize = options.groupSize;
  quantize.symmetric = options.symmetric;
  quantize.method = options.method;
  quantize.calibration = options.calibration;
  quantize.actOrder = options.actOrder;
  quantize.skip = options.skip;
  quantize.minElements = options.minElements;
  pm.addNestedPass<func::FuncOp>(qopt::createFoldWeightLayout());
  pm.addPass(qopt::createQuantizeWeights(quantize));
  pm.addNestedPass<func::FuncOp>(qopt::createFuseDequantMatmul());
  pm.addPass(createCanonicalizerPass());
}

/// Registers a pipeline of module passes with options `Options`, as
/// PassPipelineRegistration<Options> does, and reports instead of aborting
/// where it is nested under another op (`func.func(qopt-cpu-pipeline)`:
/// adding a module pass there is a fatal error in the pass manager), or
/// where `check` refuses the options.
template <typename Options>
static void registerModulePipeline(
    StringRef arg, StringRef description,
    void (*build)(OpPassManager &, const Options &),
    std::function<std::string(const Options &)> check = nullptr) {
  std::string name = arg.str();
  registerPassPipeline(
      arg, description,
      [=](OpPassManager &pm, StringRef text,
          function_ref<LogicalResult(const Twine &)> errorHandler) {
        std::optional<StringRef> anchor = pm.getOpName();
        if (anchor != ModuleOp::getOperationName())
          return errorHandler(name +
                              " runs on a builtin.module, not nested "
                              "under '" +
                              anchor.value_or("any") + "'");
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        if (check)
          if (std::string why = check(options); !why.empty())
            return errorHandler(name + ": " + why);
        build(pm, options);
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> optHandler) {
        optHandler(Options());
      });
}

void qopt::registerPipelines() {
  registerModulePipeline<WeightPTQOptions>(
      "qopt-weight-ptq",
      "Weight-only post-training quantization: quantize constant weights "
      "and fuse their dequantization into qopt.matmul",
      buildWeightPTQPipeline);
  // A `format` that gpu-module-to-binary does not know is an error here
  // (that pass reports it without failing).
  registerModulePipeline<GPUPipelineOptions>(
      "qopt-gpu-pipeline",
      "Lower to host LLVM code that runs qopt.matmul as tensor-core kernels "
      "on an NVIDIA GPU, serialized into a gpu.binary",
      buildGPUPipeline, [](const GPUPipelineOptions &options) {
        StringRef format = options.format;
        if (format == "isa" || format == "bin" || format == "fatbin")
          return std::string();
        return ("unknown format '" + format + "' (expected isa, bin or fatbin)")
            .str();
      });
  registerModulePipeline<CPUPipelineOptions>(
      "qopt-cpu-pipeline",
      "Lower qopt, upstream quant, linalg and tensor code to the LLVM dialect "
      "for the host CPU",
      buildCPUPipeline);
}
