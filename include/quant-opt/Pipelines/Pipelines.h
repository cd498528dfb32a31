//===- Pipelines.h - Registered quant-opt pass pipelines ----------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_PIPELINES_H
#define QUANT_OPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt {

/// Options of `qopt-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc("Return results through caller-allocated buffers "
                     "appended to the arguments (the ABI quant-run uses)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> cpuFloatContractions{
      *this, "cpu-float-contractions",
      llvm::cl::desc("Lower float contractions to vectorisable loops "
                     "(qopt-order-contractions-for-cpu) and never fuse "
                     "elementwise producers into them "
                     "(qopt-fuse-elementwise-for-cpu); off: upstream "
                     "linalg-fuse-elementwise-ops and convert-linalg-to-loops "
                     "order, the baseline of the CPU benchmarks"),
      llvm::cl::init(true)};
};

/// Options of `qopt-gpu-pipeline`: all but format, kernels-dir, host and
/// results-to-out-params are convert-qopt-matmul-to-gpu's, declared again as
/// upstream pipelines do (test/Pipelines/pipeline-options.py checks that
/// every one is here, with the pass's default, and reaches the pass).
struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("Target chip: sm_80, sm_89 or sm_90a, or several "
                     "separated by commas (with format=fatbin: one fatbin "
                     "with a cubin per chip and the oldest chip's PTX)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Kernel binary format: isa (PTX text), bin (cubin) or "
                     "fatbin (cubin and PTX)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<int64_t> splitK{
      *this, "split-k",
      llvm::cl::desc("GEMV warps splitting K (0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> stages{
      *this, "stages",
      llvm::cl::desc("GEMV weight pipeline: 1 registers, P > 1 cp.async "
                     "stages (0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> prefetch{
      *this, "prefetch",
      llvm::cl::desc("GEMV with stages=1: K steps loaded ahead into "
                     "registers (0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> rowTiles{
      *this, "row-tiles",
      llvm::cl::desc("GEMV with stages=1: 16-row tiles of W per warp (X "
                     "reused across them)"),
      llvm::cl::init(1)};
  PassOptions::Option<bool> streamingLoads{
      *this, "streaming-loads",
      llvm::cl::desc("GEMV with tiled weights: load them past L1 with a "
                     "256-byte L2 prefetch"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> weightLayout{
      *this, "weight-layout",
      llvm::cl::desc("GEMV weight layout: auto (constants tiled at compile "
                     "time), rows, or tiles (as auto, and the caller passes "
                     "the other weight-only weights tiled)"),
      llvm::cl::init("auto")};
  PassOptions::Option<bool> gemmTiledWeights{
      *this, "gemm-tiled-weights",
      llvm::cl::desc("The X-tile GEMM (16 < M <= 64) reads W as the GEMV "
                     "does under weight-layout; off until measured"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> tiledGemm{
      *this, "tiled-gemm",
      llvm::cl::desc("Weight-only M > 64 as the tiled GEMM (false: the "
                     "X-tile GEMM)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> gemmTileM{
      *this, "gemm-tile-m",
      llvm::cl::desc("Weight-only GEMM rows of input per block, 32 or 64 "
                     "(0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> gemmWarps{
      *this, "gemm-warps",
      llvm::cl::desc("Weight-only GEMM warps per block (0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> int8Gemv{
      *this, "int8-gemv",
      llvm::cl::desc("8-bit products with M <= 16 on the 8-bit GEMV"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> wgmma{
      *this, "wgmma",
      llvm::cl::desc("8-bit GEMMs on wgmma on sm_90a (with older chips in a "
                     "fatbin: both kernels, picked at run time)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> wgmmaTileN{
      *this, "wgmma-tile-n",
      llvm::cl::desc("Columns of the wgmma GEMM's block tile (0: 256 or "
                     "128 by a wave estimate)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> wgmmaStages{
      *this, "wgmma-stages",
      llvm::cl::desc("Stages of the wgmma GEMM (0: heuristic)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> wgmmaTma{
      *this, "wgmma-tma",
      llvm::cl::desc("The wgmma GEMM's tiles loaded by TMA from a producer "
                     "warpgroup"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> wgmmaPersistent{
      *this, "wgmma-persistent",
      llvm::cl::desc("The TMA kernel persistent, a block an SM walking the "
                     "tiles"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> wgmmaCluster{
      *this, "wgmma-cluster",
      llvm::cl::desc("Clusters of the TMA kernel, 1 or 2 blocks sharing "
                     "the Wq tile by multicast"),
      llvm::cl::init(1)};
  PassOptions::Option<std::string> kernelsDir{
      *this, "kernels-dir",
      llvm::cl::desc("Also write each kernel binary and a manifest of the "
                     "launches (kernels.json) to this directory "
                     "(qopt-export-gpu-kernels)"),
      llvm::cl::init("")};
  PassOptions::Option<bool> host{
      *this, "host",
      llvm::cl::desc("Lower the host code to LLVM (off: stop with "
                     "gpu.launch_func and the gpu.binary)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> resultsToOutParams{
      *this, "results-to-out-params",
      llvm::cl::desc("As in qopt-cpu-pipeline"), llvm::cl::init(true)};
};

/// Options of `qopt-weight-ptq`: those of qopt-quantize-weights (checked as
/// qopt-gpu-pipeline's are).
struct WeightPTQOptions : public PassPipelineOptions<WeightPTQOptions> {
  PassOptions::Option<std::string> storage{
      *this, "storage", llvm::cl::desc("i8, i4, ui4, f8E4M3FN or f8E5M2"),
      llvm::cl::init("i4")};
  PassOptions::Option<int64_t> groupSize{
      *this, "group-size",
      llvm::cl::desc("Input channels per scale (0: per output channel)"),
      llvm::cl::init(128)};
  PassOptions::Option<bool> symmetric{
      *this, "symmetric", llvm::cl::desc("Symmetric signed storage"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> method{
      *this, "method", llvm::cl::desc("rtn, gptq or awq"),
      llvm::cl::init("rtn")};
  PassOptions::Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("Calibration file (for method=gptq)"),
      llvm::cl::init("")};
  PassOptions::Option<bool> actOrder{
      *this, "act-order", llvm::cl::desc("GPTQ activation order"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> skip{
      *this, "skip", llvm::cl::desc("Regex of location names to leave alone"),
      llvm::cl::init("")};
  PassOptions::Option<int64_t> minElements{
      *this, "min-elements", llvm::cl::desc("Leave smaller weights alone"),
      llvm::cl::init(0)};
};

/// Weight-only post-training quantization: qopt-quantize-weights, then
/// qopt-fuse-dequant-matmul and canonicalize. The result runs with
/// qopt-cpu-pipeline (or quant-run).
void buildWeightPTQPipeline(OpPassManager &pm,
                            const WeightPTQOptions &options);

/// Lowers a module using func / linalg / tensor / arith, upstream quant
/// casts and qopt ops to the LLVM dialect for the host CPU.
///
/// ABI of every public function after the pipeline: `_mlir_ciface_<name>`
/// takes one pointer to a memref descriptor per tensor argument and then,
/// with results-to-out-params (the default), one per result, which the
/// caller allocates with identity layout. The function's original tensor
/// signature is kept in its `qopt.signature` attribute.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Lowers the same input as buildCPUPipeline, with every qopt.matmul that a
/// GPU kernel family supports running on an NVIDIA GPU: the generated
/// kernels are serialized into a gpu.binary (ptxas runs here), the host
/// code launches them through the mgpu* runtime
/// (runtime/libqopt_cuda_runtime.so). Host ABI as for buildCPUPipeline.
/// `options.format` must be isa, bin or fatbin (the registered pipeline
/// reports any other as an error; gpu-module-to-binary does not fail on it).
void buildGPUPipeline(OpPassManager &pm, const GPUPipelineOptions &options);

/// Registers `qopt-cpu-pipeline`, `qopt-gpu-pipeline` and `qopt-weight-ptq`.
void registerPipelines();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_PIPELINES_H
