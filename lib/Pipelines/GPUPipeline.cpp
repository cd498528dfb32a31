//===- GPUPipeline.cpp - qopt-gpu-pipeline: kernels, binary, host code ----===//
//
//   convert-qopt-matmul-to-gpu          qopt.matmul → gpu.launch_func of
//                                       kernels in gpu.module @qopt_kernels
//   gpu.module(scf-to-cf, nvgpu-to-nvvm, gpu-to-nvvm{bare pointers},
//              nvvm-to-llvm)
//   nvvm-attach-target{chip, O3}        once per chip (sm_90a with older
//                                       chips in a fatbin: the sm_90a-only
//                                       module, qopt_kernels_sm90a, gets
//                                       sm_90a's alone)
//   gpu-module-to-binary{format}        PTX, ptxas → cubin / fatbin
//   [qopt-bundle-gpu-binaries]          several chips: one fatbin
//   [qopt-export-gpu-kernels]           binaries + kernels.json
//   host lowering (qopt-cpu-pipeline's) with gpu-async-region and
//   gpu-to-llvm                         launches → mgpu* runtime calls
//
//===----------------------------------------------------------------------===//

#include "HostLowering.h"

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

/// An extended regular expression (llvm::Regex, which has no negative
/// lookahead) that matches every name but `name`: a different length, or
/// the same length with a different character somewhere.
static std::string matchAllBut(StringRef name) {
  std::string any = "^(.{0," + std::to_string(name.size() - 1) + "}|.{" +
                    std::to_string(name.size() + 1) + ",}";
  for (size_t i = 0; i < name.size(); ++i)
    any += "|.{" + std::to_string(i) + "}[^" + name[i] + "].{" +
           std::to_string(name.size() - 1 - i) + "}";
  return any + ")$";
}

void qopt::buildGPUPipeline(OpPassManager &pm,
                            const GPUPipelineOptions &options) {
  detail::buildFrontEnd(pm, options.resultsToOutParams);

  // One or more chips; the first one sizes the kernels' grids.
  SmallVector<StringRef> chips = qopt::splitChipList(options.chip);
  if (chips.empty())
    chips.push_back("sm_90a");
  bool bundle = chips.size() > 1 && options.format == "fatbin";
  // sm_90a with older chips in one fatbin: the 8-bit GEMMs get the wgmma
  // kernel as well, in a module of its own, launched on devices of compute
  // capability 9.0 (a fatbin whose code a device lacks loads as no module;
  // isa and bin embed one chip's object, so they keep mma.sync).
  bool sm90aModule =
      bundle && options.wgmma && llvm::is_contained(chips, "sm_90a") &&
      !llvm::all_of(chips, [](StringRef c) { return c == "sm_90a"; });
  static constexpr StringLiteral kSm90aModule = "qopt_kernels_sm90a";

  qopt::ConvertQOptMatmulToGPUOptions kernels;
  kernels.chip = llvm::join(chips, ",");
  kernels.splitK = options.splitK;
  kernels.stages = options.stages;
  kernels.prefetch = options.prefetch;
  kernels.rowTiles = options.rowTiles;
  kernels.weightLayout = options.weightLayout;
  kernels.streamingLoads = options.streamingLoads;
  kernels.gemmTiledWeights = options.gemmTiledWeights;
  kernels.tiledGemm = options.tiledGemm;
  kernels.gemmTileM = options.gemmTileM;
  kernels.gemmWarps = options.gemmWarps;
  kernels.int8Gemv = options.int8Gemv;
  kernels.wgmma = options.wgmma;
  kernels.wgmmaTileN = options.wgmmaTileN;
  kernels.wgmmaStages = options.wgmmaStages;
  kernels.wgmmaTma = options.wgmmaTma;
  kernels.wgmmaPersistent = options.wgmmaPersistent;
  kernels.wgmmaCluster = options.wgmmaCluster;
  kernels.dispatchSm90a = sm90aModule;
  pm.addPass(qopt::createConvertQOptMatmulToGPU(kernels));

  // Kernels to NVVM. Static shapes: memrefs are passed as bare pointers.
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createSCFToControlFlowPass());
  device.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.useBarePtrCallConv = true;
  device.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  // NVVM ops without an LLVM intrinsic (wgmma.mma_async) as inline PTX.
  device.addPass(createConvertNVVMToLLVMPass());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());

  // PTX 8.0 (CUDA 12.0) covers sm_90a and every instruction the kernels
  // use but FP8 mma.sync, which needs 8.4 (CUDA 12.4): that version only
  // where FP8 products can get kernels, i.e. every chip has FP8 tensor
  // cores.
  bool fp8 = llvm::all_of(chips, qopt::hasFP8MmaSync);
  // A chip list with sm_90a and older chips: the kernels every chip runs
  // (qopt_kernels) get every chip's target, the sm_90a-only ones
  // (qopt_kernels_sm90a: the wgmma GEMMs launched on devices of compute
  // capability 9.0) that chip's alone, at PTX 8.4 (their tensor-map
  // fences need 8.3).
  for (StringRef chip : chips) {
    GpuNVVMAttachTargetOptions target;
    target.chip = chip.str();
    target.features = fp8 ? "+ptx84" : "+ptx80";
    target.optLevel = 3;
    if (sm90aModule)
      target.moduleMatcher = matchAllBut(kSm90aModule);
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  if (sm90aModule) {
    GpuNVVMAttachTargetOptions target;
    target.chip = "sm_90a";
    target.features = "+ptx84";
    target.optLevel = 3;
    target.moduleMatcher = ("^" + kSm90aModule + "$").str();
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  // Several chips in one fatbin: PTX per chip here, then ptxas and
  // fatbinary (qopt-bundle-gpu-binaries).
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = bundle ? std::string("isa") : options.format.getValue();
  pm.addPass(createGpuModuleToBinaryPass(binary));
  if (bundle)
    pm.addPass(qopt::createBundleGPUBinaries());
  if (!options.kernelsDir.empty()) {
    qopt::ExportGPUKernelsOptions exportOptions;
    exportOptions.outputDir = options.kernelsDir;
    pm.addPass(qopt::createExportGPUKernels(exportOptions));
  }
  if (!options.host)
    return;

  CPUPipelineOptions host;
  host.resultsToOutParams = options.resultsToOutParams;
  detail::buildHostLowering(pm, host, /*gpuLaunches=*/true);
}
