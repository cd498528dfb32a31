//===- Passes.td - qopt conversion passes ------------------*- tablegen -*-===//

#ifndef QUANT_OPT_CONVERSION_PASSES_TD
#define QUANT_OPT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQOptToLinalg : Pass<"convert-qopt-to-linalg"> {
  let summary = "Lower qopt quantize / dequantize / pack / unpack to linalg";
  let description = [{
    Rewrites each core `qopt` op into one `linalg.generic` over tensors whose
    body computes the op's scalar formula with `arith` and `math`. The scale
    and zero point are read through affine maps that divide the data index by
    the block size, so every granularity (per-tensor, per-channel,
    per-group, 2-D block) becomes one loop nest with no broadcast copies.

    Quantization rounds half to even (`math.roundeven`), adds the zero point,
    clamps to the code range, and maps NaN to the zero point. FP8 conversion
    is emitted as integer bit manipulation (round to nearest even,
    saturation to the largest finite value), so it does not depend on how a
    backend lowers `arith.truncf` to 8-bit floats.

    Example:

    ```mlir
    %q = qopt.quantize %x, %s : (tensor<4x8xf32>, tensor<4x2xf32>) -> tensor<4x8xi8>
    ```

    becomes a `linalg.generic` reading `%s` through
    `affine_map<(d0, d1) -> (d0, d1 floordiv 4)>`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertQOptMatmulToLoops : Pass<"convert-qopt-matmul-to-loops"> {
  let summary = "Lower qopt.matmul to loops that dequantize in the reduction";
  let description = [{
    Rewrites `qopt.matmul` into `scf.for` loops over tensors: for each
    tile of four output channels (one channel at a time where the input
    has a static count of fewer than four rows, and for the channels past
    a multiple of four) and
    each tile of four rows of the input (then the remaining rows one by
    one), a loop over the scale groups of K whose inner loop decodes each
    weight code once in registers (two per packed byte), multiplies it by
    the tile's inputs (each input loaded once for the tile's channels) and
    sums; the partial sums of a group are multiplied by its scale once. The full
    precision weight is never materialised and the packed weight is read
    once per input row block. The inner reduction carries
    `fastmath<reassoc, contract>` so that LLVM vectorises it. Packed codes
    first reorder X (one `linalg.transpose` a call) into split-nibble
    order, each scale group's columns as its even ones then its odd ones,
    so that consecutive bytes meet consecutive X values for their low and
    for their high nibbles.

    Example:

    ```mlir
    %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
        : (tensor<1x256xf32>, tensor<64x128xi8>, tensor<64x2xf32>) -> tensor<1x64xf32>
    ```

    becomes nested `scf.for` loops (channel tile, row tile, group, byte) with
    `tensor.extract` of single bytes and scalars and one `tensor.insert`
    per output element.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertQOptMatmulToGPU : Pass<"convert-qopt-matmul-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Run qopt.matmul on the GPU: tensor-core kernels and launches";
  let description = [{
    Replaces each `qopt.matmul` that a GPU kernel family supports by a call
    of a private launch function, declared with a `qopt.gpu_launch`
    attribute (kernel, grid, block; dynamic_shared_memory, resident operands
    and TMA tensor_maps where the kernel has them), whose body
    `qopt-materialize-gpu-launches` writes after bufferization. The kernels
    are `gpu.func`s in one `gpu.module @qopt_kernels` built from `arith`,
    `vector`, `memref`, `scf`, `gpu` and `nvgpu` ops. Products of equal
    shape and format share one kernel and one launch function.

    Kernel families (docs/passes/gpu.md):

    - **Weight-only GEMV** (`M ≤ 16`: decode): packed `i4` / `ui4` or `i8` /
      `ui8` weights, symmetric or with constant zero points, or FP8
      (`f8E4M3FN` / `f8E5M2`) weights with `f16` activations, with
      per-tensor, per-row or per-group scales (groups of 32, 64 or a
      multiple of 128 INT4 values; 16, 32 or a multiple of 64 INT8),
      `f16` or `bf16`
      activations, `f16` / `bf16` / `f32` results. `mma.sync.m16n8k16` with
      the weight as operand A, split-K across warps, 16-byte weight loads
      with the next K step always in flight (in registers, or with
      `stages` > 1 through a multi-stage `cp.async` pipeline in shared
      memory), codes dequantized in registers without conversion
      instructions.

    - **Weight-only GEMM** (`M > 16`, the same weights, scales and
      activations, `N` a multiple of 16 × warps): a tile of 32 or 64 rows of
      the input staged in shared memory in the order of the dequantized code
      pairs, shared by the warps of a block (16 weight rows each).
    - **Weight-only tiled GEMM** (`M > 64`, `N` a multiple of 64): 128 × 64
      block tiles over 2 × 4 warps, input and packed weights staged by
      `cp.async` (2 stages), input fragments by `ldmatrix.x4`, weight
      fragments dequantized from shared memory (one LOP3 and one HADD2 a
      pair of codes), per-step scaling in f32.
    - **INT8 × INT8 tiled GEMM** (W8A8: `i8` activations with
      `input_scale` per tensor or per row, `i8` weights with per-tensor or
      per-row scales, no zero points; any `M`, `N` a multiple of 128, `K` of
      64):
      128 × 128 block tiles over 2 × 4 warps, `cp.async` double buffering
      in shared memory, `ldmatrix.x4` fragments,
      `mma.sync.m16n8k32.s32.s8.s8.s32`, exact i32 sums scaled in the
      epilogue. Products with `M` ≤ 16 run on a GEMV instead (`int8-gemv`,
      on by default; `N` a multiple of 16): the weight as `mma.sync`'s
      operand A, split-K across warps. Where every chip is `sm_90a`, or
      with older chips under `dispatch-sm90a` (below) (`wgmma`, on by
      default; `N` a multiple of the tile width, `K` of
      128): 128 × N block tiles, N = `wgmma-tile-n` or, by default, 256 or
      128 by a wave estimate (FP8: 128), two consumer warpgroups issuing
      `wgmma.mma_async.m64nNk32` on operands in shared memory with the
      128-byte swizzle, `wgmma-stages` stages in dynamic shared memory
      (`dynamic_shared_memory` in the launch attribute), filled by a
      producer warpgroup with TMA (`wgmma-tma`, on by default; the launch
      passes tensor maps of `Xq` and `Wq`: `tensor_maps` in the launch
      attribute; off: `cp.async` from every thread), persistent
      (`wgmma-persistent`, on by default): it runs on one block an SM of
      the device (asked at launch: `persistent` in the launch attribute;
      fewer where there are fewer tiles), each walking the output tiles;
      with `wgmma-cluster=2` (alone or persistent), in
      clusters of two blocks that share each Wq tile through TMA multicast
      (`cluster` in the launch attribute). Measured on an H100:
      `docs/perf/gpu.md`. With `dispatch-sm90a` and a chip list of `sm_90a`
      and older chips, an 8-bit GEMM gets both kernels, the wgmma one in
      `gpu.module @qopt_kernels_sm90a` (to be given `sm_90a`'s target
      alone), and the call branches on the runtime's
      `qoptComputeCapability()`: 90 launches the wgmma kernel.

    A product no family supports stays a `qopt.matmul` (the host pipeline
    then runs it on the CPU) and gets a warning that names the reason.

    Example:

    ```mlir
    %y = qopt.matmul %x, %w, %s {acc_type = f32, packed = i4}
        : (tensor<1x4096xf16>, tensor<4096x2048xi8>, tensor<4096x32xf32>) -> tensor<1x4096xf16>
    ```

    becomes `func.call @qopt_gemv_i4_..._launch(%x, %w, %s)` and a kernel
    `@qopt_kernels::@qopt_gemv_i4_...` launched on 256 blocks.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target chip (sm_80, sm_89, sm_90a), or several separated by "
           "commas: the first sets the SM count the tile heuristic plans "
           "for; FP8 products need every one to have FP8 tensor cores "
           "(sm_89, sm_90a)">,
    Option<"splitK", "split-k", "int64_t", /*default=*/"0",
           "Warps splitting K in the GEMV kernel (0: heuristic)">,
    Option<"stages", "stages", "int64_t", /*default=*/"0",
           "GEMV weight pipeline: 1 prefetches into registers, P > 1 "
           "stages P steps through shared memory with cp.async "
           "(0: heuristic)">,
    Option<"prefetch", "prefetch", "int64_t", /*default=*/"0",
           "GEMV with stages=1: K steps of weights loaded ahead into "
           "registers (0: heuristic)">,
    Option<"rowTiles", "row-tiles", "int64_t", /*default=*/"1",
           "GEMV with stages=1: 16-row tiles of W per warp, each X fragment "
           "feeding all of them (less X traffic at M > 8); 1 until measured">,
    Option<"streamingLoads", "streaming-loads", "bool", /*default=*/"true",
           "GEMV with tiled weights: load them past L1 with a 256-byte L2 "
           "prefetch (ld.global.nc.L1::no_allocate.L2::256B); weights read "
           "as rows never are (slower, measured)">,
    Option<"weightLayout", "weight-layout", "std::string",
           /*default=*/"\"auto\"",
           "GEMV weight layout: auto (constant weights are tiled at compile "
           "time, [N/16][K steps][16][64 bytes], so a warp step reads 1 KiB "
           "in a row; others are read as they are), rows (never tiled) or "
           "tiles (as auto, and the caller passes its other weights "
           "tiled, as bench/gpu does: each such product must then run on "
           "a GEMV that reads tiles, the weight-only one or, with "
           "int8-gemv, the 8-bit one; else it is an error)">,
    Option<"gemmTiledWeights", "gemm-tiled-weights", "bool",
           /*default=*/"false",
           "The X-tile GEMM (16 < M <= 64) reads W as the GEMV does under "
           "weight-layout (tiles for constants, streaming loads); off until "
           "measured">,
    Option<"tiledGemm", "tiled-gemm", "bool", /*default=*/"true",
           "Weight-only products with M > 64 as the tiled GEMM (cp.async, "
           "ldmatrix) where it applies; false: the X-tile GEMM">,
    Option<"gemmTileM", "gemm-tile-m", "int64_t", /*default=*/"0",
           "Rows of the input per block of the weight-only GEMM, 32 or 64 "
           "(0: heuristic)">,
    Option<"gemmWarps", "gemm-warps", "int64_t", /*default=*/"0",
           "Warps per block of the weight-only GEMM, 16 weight rows each "
           "(0: heuristic)">,
    Option<"int8Gemv", "int8-gemv", "bool", /*default=*/"true",
           "8-bit products with M <= 16 (decode) on the 8-bit GEMV "
           "(mma.sync.m16n8k32 with the weight as operand A, split-K) "
           "instead of the GEMM's 128-row tiles (on an H100 2.6 to 3.2x "
           "faster at N = K = 4096 and 8192)">,
    Option<"wgmma", "wgmma", "bool", /*default=*/"true",
           "8-bit GEMMs (W8A8, FP8 x FP8) on wgmma.mma_async where every "
           "chip is sm_90a (with older chips too, under dispatch-sm90a; "
           "elsewhere, and for products whose shape the wgmma kernel does "
           "not tile, mma.sync)">,
    Option<"wgmmaTileN", "wgmma-tile-n", "int64_t", /*default=*/"0",
           "Columns of the wgmma GEMM's block tile, a multiple of 32 up "
           "to 256 (FP8: 128) (0: 256 or 128, whichever the wave "
           "estimate favours)">,
    Option<"wgmmaStages", "wgmma-stages", "int64_t", /*default=*/"0",
           "Stages of the wgmma GEMM, 128 bytes of K each (0: as many as "
           "200 KiB of shared memory hold, at most 8)">,
    Option<"wgmmaTma", "wgmma-tma", "bool", /*default=*/"true",
           "The wgmma GEMM's tiles loaded by TMA (cp.async.bulk.tensor) "
           "from a producer warpgroup, handed to two consumer warpgroups "
           "through mbarriers (false: cp.async from every thread)">,
    Option<"wgmmaPersistent", "wgmma-persistent", "bool", /*default=*/"true",
           "The TMA kernel persistent: one block an SM of the device "
           "walks the output tiles, its producer loading the next tile's "
           "stages while the consumers store the last one (only with "
           "wgmma-tma)">,
    Option<"dispatchSm90a", "dispatch-sm90a", "bool", /*default=*/"false",
           "With wgmma and a chip list holding sm_90a and older chips: each "
           "8-bit GEMM gets the wgmma kernel too, in gpu.module "
           "@qopt_kernels_sm90a (give it sm_90a's target alone), and the "
           "call launches it where the runtime's qoptComputeCapability() is "
           "90 (qopt-gpu-pipeline sets this for a fatbin of several chips)">,
    Option<"wgmmaCluster", "wgmma-cluster", "int64_t", /*default=*/"1",
           "Thread-block clusters of the TMA kernel (1 or 2): the two "
           "blocks of a cluster compute adjacent row tiles of one column "
           "tile and each loads half of its Wq tile, multicast to both "
           "(needs wgmma-tma; with wgmma-persistent, persistent clusters; "
           "products with an odd number of row or column tiles run "
           "without). 1 by default: on an H100 no faster back to back "
           "than the persistent kernel (docs/perf/gpu.md)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::ub::UBDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def MaterializeGPULaunches : Pass<"qopt-materialize-gpu-launches", "::mlir::ModuleOp"> {
  let summary = "Give the launch functions of GPU kernels their bodies";
  let description = [{
    Runs after bufferization (and buffer deallocation) on the declarations
    `convert-qopt-matmul-to-gpu` made. Each body copies the input buffers to
    the device (`gpu.alloc`, `gpu.memcpy`), allocates the result there,
    launches the kernel (`gpu.launch_func`, bare-pointer arguments), copies
    the result into the caller's buffer (the last argument after
    `buffer-results-to-out-params`) or a new `memref.alloc` it returns, and
    frees the device buffers. `gpu-async-region` then puts the copies and
    the launch on one stream. Operands listed in the attribute's `resident`
    array (compile-time constants: weights, scales) are not copied per call:
    `qoptDeviceConstant(host pointer, bytes)` of libqopt_cuda_runtime
    uploads each once and returns the same device copy afterwards. For the
    attribute's `tensor_maps` ([operand, box rows, box columns] each), the
    body makes a `qopt.gpu_tensor_map` of that operand's device buffer and
    passes them, in order, after the inputs.
  }];
  let dependentDialects = [
    "::mlir::qopt::QOptDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def LowerGPUTensorMaps : Pass<"qopt-lower-gpu-tensor-maps", "::mlir::ModuleOp"> {
  let summary = "Lower qopt.gpu_tensor_map to calls of the CUDA runtime";
  let description = [{
    Replaces each `qopt.gpu_tensor_map` by a call of
    `qoptTensorMap(base, rows, columns, element bytes, box rows, box
    columns, swizzle bytes)` of libqopt_cuda_runtime, which returns the
    device address of the tensor map (encoded once per argument list, then
    cached). The swizzle is the op's: the span of a box row when it is 32,
    64 or 128 bytes, else 0; the runtime only encodes what it is given. Runs after
    `gpu-async-region`: the op is pure, so that pass keeps the launch's
    stream going across it, which the call (an operation with unknown
    effects) would not.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def OrderConstantGlobals : Pass<"qopt-order-constant-globals", "::mlir::ModuleOp"> {
  let summary = "Put the constant globals of bufferization in a fixed order";
  let description = [{
    One-shot module bufferization makes a `memref.global` of every constant
    tensor, named after its type (`__constant_8xf32`, then `_0`, `_1`, ...)
    and placed at the top of the module in the order it visits functions,
    which follows a map keyed by operation addresses: with several
    functions the names and order changed from run to run. This pass puts
    the private constant globals in the order of their first use
    (functions as they appear, ops in order) and numbers those of one base
    name in that order, so that the same input gives the same output.
    `qopt-cpu-pipeline` and `qopt-gpu-pipeline` run it after
    bufferization.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def CheckLLVMLowering : Pass<"qopt-check-llvm-lowering", "::mlir::ModuleOp"> {
  let summary = "Fail where an op outside the LLVM dialect is left";
  let description = [{
    The last pass of `qopt-cpu-pipeline` and `qopt-gpu-pipeline`: every op
    of the module must be in the LLVM dialect by then, but for the
    `gpu.binary` of the kernels and the `gpu.launch_func` ops that launch
    them (the LLVM translation embeds the one and turns the others into
    runtime calls). Some
    upstream conversions report an op they cannot convert without failing
    (`finalize-memref-to-llvm` on a `gpu.module`'s workgroup memory, say),
    which left a half-lowered module and a zero exit code; this pass turns
    the first op left over into an error at its location.
  }];
}

def BundleGPUBinaries : Pass<"qopt-bundle-gpu-binaries", "::mlir::ModuleOp"> {
  let summary = "Bundle the PTX of several NVIDIA chips into one fatbin";
  let description = [{
    `gpu-module-to-binary` makes one object per target of a `gpu.module`,
    and the host code embeds one of them. For a program that should run on
    several GPU generations, this pass takes a `gpu.binary` of PTX objects
    (`format=isa`, one per `#nvvm.target`), assembles each with `ptxas`
    for its chip and bundles the cubins, plus the PTX of the oldest chip
    (which the driver can compile for newer GPUs), into one fatbin with
    `fatbinary`. The driver picks the matching machine code when the
    program loads the module. `qopt-gpu-pipeline{chip=sm_80,sm_90a}` uses
    it.
  }];
  let options = [
    Option<"cudaPath", "cuda-path", "std::string", /*default=*/"\"\"",
           "CUDA toolkit with bin/ptxas and bin/fatbinary (default: the one "
           "MLIR was configured with, then PATH)">,
  ];
}

def ExportGPUKernels : Pass<"qopt-export-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Write the serialized GPU kernels and a launch manifest";
  let description = [{
    For code that launches the generated kernels itself (a PyTorch
    extension, a benchmark, another runtime): writes every object of every
    `gpu.binary` to `<output-dir>/<binary>.<chip>.<ptx|cubin|fatbin>` and
    one `<output-dir>/kernels.json` that lists each launch (calls of the
    launch functions of `convert-qopt-matmul-to-gpu`, and `gpu.launch_func`
    ops with constant dimensions):

    ```json
    {
      "launches": [
        {
          "function": "decode", "location": "layer0.q_proj",
          "binary": "qopt_kernels", "kernel": "qopt_gemv_i4_...",
          "grid": [256, 1, 1], "block": [256, 1, 1],
          "dynamic_shared_memory": 0,
          "arguments": [ {"shape": [1, 4096], "type": "f16"}, ... ],
          "tensor_maps": [ {"operand": 0, "box": [128, 128],
                            "swizzle_bytes": 128}, ... ]
        }
      ],
      "binaries": [
        {"name": "qopt_kernels", "chip": "sm_90a", "format": "fatbin",
         "file": "qopt_kernels.sm_90a.fatbin"}
      ]
    }
    ```

    Kernels take their memref arguments as bare device pointers, in the
    listed order (the result last); a kernel that loads by TMA (the launch
    lists `tensor_maps`, only then) also takes, after the inputs and before
    the result, the 64-bit device address of a `CUtensorMap` of each listed
    input, encoded for that box with the listed swizzle (as the runtime's
    `qoptTensorMap` does). Run it after `gpu-module-to-binary`
    and before the host lowering (`qopt-gpu-pipeline{kernels-dir=...}`
    does).
  }];
  let options = [
    Option<"outputDir", "output-dir", "std::string", /*default=*/"\"\"",
           "Directory to write (created if missing)">,
  ];
}

def FuseElementwiseForCPU : Pass<"qopt-fuse-elementwise-for-cpu"> {
  let summary = "Elementwise fusion that never recomputes inside reductions";
  let description = [{
    Upstream `linalg-fuse-elementwise-ops` with one difference: an
    elementwise producer is not fused into a consumer that has reduction
    loops. Fusing GELU into the contraction that reads it, for example,
    recomputes GELU once per output channel (384 times in a BERT layer);
    the upstream pass does that as soon as the contraction is a
    `linalg.generic`. Reshape propagation, canonicalization and constant
    folding are as upstream. `qopt-cpu-pipeline` uses it.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def OrderContractionsForCPU : Pass<"qopt-order-contractions-for-cpu"> {
  let summary = "Give float contractions a loop order the CPU vectorises";
  let description = [{
    `convert-linalg-to-loops` nests loops in iteration-space order, which
    for a float contraction usually leaves a strided or strictly ordered
    reduction innermost that LLVM cannot vectorise. This pass generalizes
    every float contraction on tensors and reorders its loops:

    - when both inputs are contiguous along the single reduction dimension
      (`y[m, n] += x[m, k] * w[n, k]`, the layout of PyTorch weights), the
      reduction goes innermost and its `arith.addf` / `arith.mulf` get
      `fastmath<reassoc, contract>`, so LLVM turns it into a vectorised dot
      product (reassociating the sum, as every BLAS does); with 4 rows or
      more (a dimension only the first input walks), the outputs go in
      register tiles of up to 4 rows by up to 4 output channels (a
      dimension only the second input walks; 4 or 2 where they divide the
      size), each loaded input value used for the tile's other side, so
      the input rows stream from the cache once for 4 channels;
    - otherwise, when the result and an input are contiguous along a
      parallel dimension (`y[m, n] += x[m, k] * w[k, n]`), that dimension
      goes innermost, after the reduction.

    `qopt-cpu-pipeline` runs it before bufferization. Integer and
    quantized products (`qopt.matmul`) are not touched.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
  ];
}

def ConvertQOptObserveToCalls
    : Pass<"convert-qopt-observe-to-calls", "::mlir::ModuleOp"> {
  let summary = "Lower qopt.observe to calls into the calibration runtime";
  let description = [{
    Numbers the `qopt.observe` ops of the module in order, records their
    names in the module attribute `qopt.observers` (the name of observer i
    is element i) and replaces each by a call

    ```mlir
    %m = bufferization.to_buffer %x read_only : tensor<...> to memref<...>
    %u = memref.cast %m : memref<...> to memref<*xf32>
    func.call @qopt_observe_f32(%u, %id, %stats) : (memref<*xf32>, i64, i64) -> ()
    ```

    whose result is the observed tensor itself. `@qopt_observe_f32` is
    provided by the runner (quant-run), which writes the statistics as a
    calibration file.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def ConvertQuantToQOpt : Pass<"convert-quant-to-qopt", "::mlir::ModuleOp"> {
  let summary = "Import upstream quant.qcast / dcast / scast into qopt ops";
  let description = [{
    Replaces `!quant.uniform` element types by their storage types
    (`i8`, `i4`, `ui8`, `ui4`) everywhere, function signatures included, and
    rewrites `quant.qcast` into `qopt.quantize`, `quant.dcast` into
    `qopt.dequantize` and `quant.scast` into nothing (the storage type is the
    quantized type). Per-tensor, per-axis and sub-channel types become scale
    (and zero-point) constants of the matching granularity; a storage range
    of `[-(2^(b-1)-1), 2^(b-1)-1]` becomes `narrow_range`.

    Unlike upstream `lower-quant-ops`, the resulting code rounds half to
    even and clamps to the storage range.

    Example:

    ```mlir
    %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.0244>>
    ```

    becomes

    ```mlir
    %s = arith.constant dense<2.440000e-02> : tensor<f32>
    %q = qopt.quantize %x, %s : (tensor<4xf32>, tensor<f32>) -> tensor<4xi8>
    ```

    Ops other than `func`, `quant` and `qopt` ops that still carry quantized
    types after the rewrite are reported as errors at their location.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::qopt::QOptDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // QUANT_OPT_CONVERSION_PASSES_TD
