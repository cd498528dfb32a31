//===- MatmulToGPU.cpp - qopt.matmul as generated GPU kernels -------------===//
//
// Two steps, so that the host code around a launch bufferizes and gets its
// deallocations like any other code (ownership-based deallocation rejects
// gpu.launch_func, which declares no memory effects):
//
// convert-qopt-matmul-to-gpu (tensors), for each supported qopt.matmul:
//
//   gpu.module @qopt_kernels { gpu.func @<kernel>(x, w, s, [z,] y) kernel }
//     (8-bit GEMM: x, w, sx, sw, [zx, Σ_k w,] [maps of x and w,] y)
//   func.func private @<kernel>_launch(tensor x, tensor w, tensor s [, z])
//       -> tensor y  attributes {qopt.gpu_launch = {kernel, grid, block
//                                   [, cluster] [, dynamic_shared_memory]
//                                   [, persistent] [, resident]
//                                   [, tensor_maps]}}
//   %y = func.call @<kernel>_launch(%x2, %w, %s [, %z32])
//
// (%x2: leading dims folded into M; %z32: constant zero points folded to
// i32). Kernels take signless integers; ui8 codes are viewed as i8 in the
// launch function. With dispatch-sm90a (qopt-gpu-pipeline: a fatbin of
// sm_90a and older chips), an 8-bit GEMM gets both kernels, the wgmma one in
// gpu.module @qopt_kernels_sm90a (only sm_90a's target), and the call
// becomes a branch on the device:
//
//   %cc = llvm.call @qoptComputeCapability() : () -> i64
//   %y = scf.if (%cc == 90) { call @<wgmma kernel>_launch(...) }
//        else { call @<mma.sync kernel>_launch(...) }
//
// qopt-materialize-gpu-launches (MaterializeGPULaunches.cpp, after
// bufferization) gives each such declaration its body.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

// The dialects the passes' generated bases load (dependentDialects).
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "Int8Gemm.h"
#include "WeightOnlyGemm.h"
#include "WeightOnlyGemv.h"
#include "WeightOnlyTiled.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>
#include <functional>
#include <memory>
#include <optional>

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTMATMULTOGPU
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::gpu_kernels;

namespace {

/// `v` without the reshapes and casts in front of it: the tensor whose
/// bytes it views.
Value stripViews(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp, tensor::CastOp>(
            def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// Whether `v` is a compile-time constant, possibly reshaped: such a tensor
/// bufferizes to a view of a constant memref.global, whose host address
/// and contents never change.
bool isConstantTensor(Value v) {
  Operation *def = stripViews(v).getDefiningOp();
  return def && def->hasTrait<OpTrait::ConstantLike>();
}

/// A constant weight ([N, bytes] of one-byte elements, N a multiple of 16)
/// as the GEMV's tiles: [N / 16][bytes / stepBytes][16][stepBytes], in a
/// constant of the same type, so that a warp's K step over 16 rows is one
/// contiguous run. Null if `weight` is not a constant whose bytes can be
/// read here (a dense attribute or a dense_resource blob), possibly
/// reshaped: a reshape of a constant keeps its bytes in order (and the
/// canonicalizer folds those of dense attributes, not of blobs).
Value tileConstantWeight(OpBuilder &b, Location loc, Value weight,
                         int64_t stepBytes) {
  auto type = cast<RankedTensorType>(weight.getType());
  if (type.getRank() != 2 || type.getElementTypeBitWidth() != 8 ||
      type.getDimSize(0) % 16 != 0 || type.getDimSize(1) % stepBytes != 0)
    return {};
  ArrayRef<char> bytes;
  Attribute value;
  if (!matchPattern(stripViews(weight), m_Constant(&value)))
    return {};
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (dense.isSplat())
      return weight; // every layout of a splat is the same
    bytes = dense.getRawData();
  } else {
    // A dense_resource blob (its elements are bytes: checked above).
    auto resource = dyn_cast<DenseResourceElementsAttr>(value);
    AsmResourceBlob *blob =
        resource ? resource.getRawHandle().getBlob() : nullptr;
    if (!blob)
      return {};
    bytes = blob->getData();
  }
  const int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  if (int64_t(bytes.size()) != rows * cols)
    return {};
  std::vector<char> tiled(bytes.size());
  const int64_t steps = cols / stepBytes;
  char *out = tiled.data();
  for (int64_t tile = 0; tile < rows / 16; ++tile)
    for (int64_t step = 0; step < steps; ++step)
      for (int64_t r = 0; r < 16; ++r, out += stepBytes)
        std::memcpy(out, &bytes[(tile * 16 + r) * cols + step * stepBytes],
                    stepBytes);
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::getFromRawBuffer(type, tiled));
}

/// Whether `v` is an argument of the enclosing function, possibly reshaped
/// or cast: with weight-layout=tiles, the caller passes such a weight in
/// tiles; anything the module computes or holds is in rows.
bool isFunctionArgument(Value v) {
  auto arg = dyn_cast<BlockArgument>(stripViews(v));
  return arg && isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
}

/// The weight zero points of `op` as an i32 constant of the scale's shape
/// (what the weight-only kernels read: 4 bytes, so cp.async can stage them,
/// and no sub-byte or unsigned element types in the kernel ABI), if they
/// are a dense constant. In a compiled model they are: quantization passes
/// and importers write them as constants.
FailureOr<DenseElementsAttr> getZeroPointsAsI32(MatmulOp op) {
  DenseElementsAttr attr;
  if (!matchPattern(op.getZeroPoint(), m_Constant(&attr)))
    return failure();
  // The verifier gives zero points the scale's shape.
  auto scaleType = op.getScale().getType();
  bool isUnsigned = cast<IntegerType>(attr.getElementType()).isUnsigned();
  SmallVector<int32_t> values;
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(
        int32_t(isUnsigned ? v.getZExtValue() : v.getSExtValue()));
  auto type = RankedTensorType::get(
      scaleType.getShape(), IntegerType::get(op.getContext(), 32));
  return DenseElementsAttr::get(type, ArrayRef<int32_t>(values));
}

/// Σ_k W[n, k] of an 8-bit weight that is a dense constant, as an i32
/// constant [N]: what the 8-bit GEMM subtracts, times the activations'
/// zero point, from its sums.
FailureOr<DenseElementsAttr> getWeightRowSums(MatmulOp op) {
  DenseElementsAttr attr;
  if (!matchPattern(op.getWeight(), m_Constant(&attr)))
    return failure();
  int64_t n = op.getN(), k = op.getK();
  auto type = RankedTensorType::get({n}, IntegerType::get(op.getContext(), 32));
  if (attr.isSplat())
    return DenseElementsAttr::get(
        type, int32_t(attr.getSplatValue<int8_t>()) * int32_t(k));
  SmallVector<int32_t> sums(n, 0);
  int64_t i = 0;
  for (int8_t v : attr.getValues<int8_t>())
    sums[i++ / k] += v;
  return DenseElementsAttr::get(type, ArrayRef<int32_t>(sums));
}

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
  if (op.getZeroPoint()) {
    // Folded when the product is replaced (getZeroPointsAsI32).
    if (!matchPattern(op.getZeroPoint(),
                      m_Constant<DenseElementsAttr>(nullptr))) {
      why = "zero points that are not dense constants (the kernels take "
            "them folded to i32 at compile time)";
      return failure();
    }
    c.zeroPoints = true;
  }
  if (!xType.hasStaticShape() || !op.getWeight().getType().hasStaticShape()) {
    why = "dynamic shapes";
    return failure();
  }
  Type storage = op.getWeightStorageType();
  auto intType = dyn_cast<IntegerType>(storage);
  auto fp8 = dyn_cast<FloatType>(storage);
  if (!intType && !isa_and_nonnull<Float8E4M3FNType, Float8E5M2Type>(fp8)) {
    why = "weight codes other than INT4, INT8 or FP8 (E4M3FN, E5M2)";
    return failure();
  }
  if (intType &&
      (op.getPacked() ? intType.getWidth() != 4 : intType.getWidth() != 8)) {
    why = "unpacked sub-byte weight codes (qopt.pack them first)";
    return failure();
  }
  auto half = dyn_cast<FloatType>(xType.getElementType());
  if (!half || !(half.isF16() || half.isBF16())) {
    why = "f32 activations (the kernels take f16 or bf16)";
    return failure();
  }
  if (intType)
    c.format = {intType.getWidth(), !intType.isUnsigned(), half};
  else
    c.format = {8, true, half, fp8};
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

/// The pass options that choose among the 8-bit kernels.
struct Int8KernelChoice {
  bool useWgmma;
  int64_t tileN, stages;
  bool tma, persistent;
  int64_t cluster;
  bool useGemv;
  int64_t smCount;
};

/// The 8-bit kernel configuration of a W8A8 product (INT8 x INT8, or FP8 x
/// FP8 where every target chip has FP8 tensor cores): the GEMV for decode
/// sizes with int8-gemv, else the GEMM (on wgmma with wgmma where it
/// tiles), or the reason there is none.
FailureOr<Int8GemmConfig> getWgmmaConfig(MatmulOp op, const Int8GemmConfig &c,
                                         const Int8KernelChoice &choice);

FailureOr<Int8GemmConfig> getInt8GemmConfig(MatmulOp op, bool fp8Chips,
                                            const Int8KernelChoice &choice,
                                            std::string &why) {
  RankedTensorType xType = op.getInput().getType();
  auto isI8 = [](Type t) {
    auto i = dyn_cast<IntegerType>(t);
    return i && i.getWidth() == 8 && !i.isUnsigned();
  };
  auto isFP8 = [](Type t) { return isa<Float8E4M3FNType, Float8E5M2Type>(t); };
  if (op.getZeroPoint()) {
    why = "8-bit weights with a zero point";
    return failure();
  }
  Type xElem = xType.getElementType(), wElem = op.getWeightStorageType();
  bool xUnsigned = xElem.isUnsignedInteger(8);
  bool int8 = (isI8(xElem) || xUnsigned) && isI8(wElem);
  // Asymmetric activations need the weight's row sums, folded when the
  // product is replaced.
  if (op.getInputZeroPoint() &&
      !matchPattern(op.getWeight(), m_Constant<DenseElementsAttr>(nullptr))) {
    why = "asymmetric activations with weights that are not dense constants "
          "(their row sums are folded at compile time)";
    return failure();
  }
  // |Σ (qx - zx) qw| <= 255 * 128 * K must fit the i32 sums.
  if (op.getInputZeroPoint() && op.getK() > 65536) {
    why = "asymmetric activations with K > 65536 (the exact i32 sums could "
          "overflow)";
    return failure();
  }
  bool fp8 = isFP8(xElem) && isFP8(wElem);
  if ((!int8 && !fp8) || op.getPacked()) {
    why = "quantized activations other than INT8 x INT8 or FP8 x FP8";
    return failure();
  }
  if (fp8 && !fp8Chips) {
    why = "FP8 x FP8 on a chip without FP8 tensor cores (sm_89 and sm_90a "
          "have them; every target chip must)";
    return failure();
  }
  if (!xType.hasStaticShape() || !op.getWeight().getType().hasStaticShape()) {
    why = "dynamic shapes";
    return failure();
  }
  Int8GemmConfig c;
  c.xType = xUnsigned ? IntegerType::get(op.getContext(), 8) : xElem;
  c.wType = wElem;
  c.xUnsigned = xUnsigned;
  c.xZeroPoint = op.getInputZeroPoint() != nullptr;
  c.n = op.getN();
  c.k = op.getK();
  c.m = xType.getNumElements() / c.k;
  c.outType = op.getType().getElementType();
  ArrayRef<int64_t> ws = op.getScale().getType().getShape();
  if (!(ws.empty() || (ws.size() == 2 && ws[1] == 1 &&
                       (ws[0] == 1 || ws[0] == c.n)))) {
    why = "8-bit weights with scale groups along K (per tensor or per row "
          "only)";
    return failure();
  }
  c.wScaleShape = llvm::to_vector(ws);
  auto sxType = cast<RankedTensorType>(op.getInputScale().getType());
  if (sxType.getRank() == 0 || sxType.getNumElements() == 1)
    c.xScaleShape = {};
  else
    c.xScaleShape = {c.m, 1};
  // Decode sizes on the GEMV where asked for and the shape fits it.
  if (choice.useGemv && c.m <= Int8GemmConfig::kGemvMaxM) {
    Int8GemmConfig v = c;
    v.gemv = true;
    chooseInt8GemvTiling(v, choice.smCount);
    if (checkInt8Gemm(v).empty())
      return v;
  }
  why = checkInt8Gemm(c);
  if (!why.empty())
    return failure();
  // wgmma where asked for and the shape tiles; mma.sync otherwise.
  if (choice.useWgmma) {
    FailureOr<Int8GemmConfig> w = getWgmmaConfig(op, c, choice);
    if (succeeded(w))
      return *w;
  }
  return c;
}

/// The wgmma GEMM of the 8-bit product whose mma.sync GEMM is `c`: TMA,
/// persistence, tile width, stages and clusters as `choice` asks, or
/// failure (with a remark) where the wgmma kernel does not tile it.
FailureOr<Int8GemmConfig> getWgmmaConfig(MatmulOp op, const Int8GemmConfig &c,
                                         const Int8KernelChoice &choice) {
  Int8GemmConfig w = c;
  w.instruction = Int8GemmConfig::Instruction::Wgmma;
  // FP8 keeps a step's wgmma accumulators and f32 sums apart: half the
  // columns fit the registers.
  w.wgmmaBlockN =
      c.isFP8() ? std::min<int64_t>(choice.tileN, 128) : choice.tileN;
  w.wgmmaTma = choice.tma;
  w.wgmmaPersistent = choice.persistent && choice.tma;
  chooseWgmmaTiling(w, choice.smCount);
  w.wgmmaStages = choice.stages;
  if (w.wgmmaStages == 0)
    w.wgmmaStages = std::min<int64_t>(8, 200 * 1024 / w.wgmmaStageBytes());
  std::string why = checkInt8Gemm(w);
  if (!why.empty()) {
    op.emitRemark() << "wgmma: this product keeps mma.sync: no wgmma "
                       "kernel for "
                    << why;
    return failure();
  }
  // Clusters where the tiles pair up; the kernel without them elsewhere.
  if (choice.cluster > 1) {
    Int8GemmConfig clustered = w;
    clustered.wgmmaCluster = choice.cluster;
    std::string clusterWhy = checkInt8Gemm(clustered);
    if (clusterWhy.empty())
      return clustered;
    op.emitWarning() << "wgmma-cluster: this product runs without "
                        "clusters: no kernel for "
                     << clusterWhy;
  }
  return w;
}

/// What replacing one product needs: its kernel, launch geometry and the
/// tensors the kernel reads, in order.
struct KernelPlan {
  std::string name;
  SmallVector<Type> argumentTypes; // the kernel's; the result last
  std::array<int64_t, 3> grid, block;
  std::array<int64_t, 3> cluster = {1, 1, 1}; // thread-block clusters
  // Grid x at most the device's SM count, taken at launch time.
  bool persistent = false;
  int64_t dynamicSharedBytes = 0;
  // TMA tensor maps the launch makes of its inputs and passes after them.
  SmallVector<Int8GemmConfig::TensorMap> tensorMaps;
  std::function<gpu::GPUFuncOp(OpBuilder &, Location)> build;
  SmallVector<Value> inputs;
  bool readsTiledWeight = false; // the kernel reads W in 16-row tiles
  // For a chip list with sm_90a and older chips: the kernel to launch
  // instead on a device of compute capability 9.0 (the wgmma GEMM, in the
  // sm_90a-only module), on the same inputs.
  std::shared_ptr<KernelPlan> sm90a;
};

/// `plan`'s kernel, its geometry and its launch's extras for the 8-bit
/// configuration `c` (its inputs aside).
void setInt8Launch(KernelPlan &plan, const Int8GemmConfig &c) {
  plan.name = c.kernelName();
  plan.argumentTypes = getInt8GemmArgumentTypes(c.xType.getContext(), c);
  plan.grid = {c.grid()[0], c.grid()[1], 1};
  plan.block = {c.threads(), 1, 1};
  plan.cluster = {c.wgmmaCluster, 1, 1};
  plan.persistent = c.isPersistent();
  plan.dynamicSharedBytes = c.dynamicSharedBytes();
  plan.tensorMaps = c.tensorMaps();
  plan.build = [c](OpBuilder &b, Location loc) {
    return buildInt8Gemm(b, loc, c);
  };
}

struct ConvertQOptMatmulToGPU
    : qopt::impl::ConvertQOptMatmulToGPUBase<ConvertQOptMatmulToGPU> {
  using Base::Base;

  /// Of the `chip` option: the first chip's SM count, whether the 8-bit
  /// GEMMs run on wgmma (the option, and every chip sm_90a), and whether
  /// every chip has FP8 tensor cores.
  int64_t smCount = 0;
  bool useWgmma = false;
  // dispatch-sm90a, wgmma, sm_90a among other chips: the 8-bit GEMMs get
  // both kernels and the launch picks by the device.
  bool withSm90aKernels = false;
  bool fp8Chips = false;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<StringRef> chips = splitChipList(chip);
    fp8Chips = !chips.empty();
    for (StringRef c : chips) {
      if (c != "sm_80" && c != "sm_89" && c != "sm_90a") {
        emitError(module.getLoc()) << "unsupported chip '" << c
                                   << "' (expected sm_80, sm_89 or sm_90a)";
        return signalPassFailure();
      }
      fp8Chips &= hasFP8MmaSync(c);
    }
    if (chips.empty()) {
      emitError(module.getLoc()) << "no target chip";
      return signalPassFailure();
    }
    smCount = getSMCount(chips.front());
    if (splitK < 0 || stages < 0 || prefetch < 0 || gemmTileM < 0 ||
        gemmWarps < 0) {
      emitError(module.getLoc()) << "tiling options must not be negative";
      return signalPassFailure();
    }
    // wgmma (and with it TMA, persistence, clusters) where every chip is
    // sm_90a; mma.sync elsewhere.
    useWgmma =
        wgmma && llvm::all_of(chips, [](StringRef c) { return c == "sm_90a"; });
    // sm_90a among other chips: the mma.sync GEMM for every device and the
    // wgmma one for devices of compute capability 9.0, picked at launch.
    withSm90aKernels = dispatchSm90a && wgmma && !useWgmma &&
                       llvm::is_contained(chips, "sm_90a");
    if (wgmmaTileN < 0 || wgmmaTileN > 256 || wgmmaTileN % 32 != 0 ||
        wgmmaStages < 0 || (wgmmaStages > 0 && wgmmaStages < 3)) {
      emitError(module.getLoc())
          << "wgmma-tile-n must be 0 (heuristic) or a multiple of 32 up to "
             "256, and wgmma-stages 0 or at least 3";
      return signalPassFailure();
    }
    if (wgmmaCluster != 1 && (wgmmaCluster != 2 || !wgmmaTma)) {
      emitError(module.getLoc()) << "wgmma-cluster must be 1 or 2, and 2 needs "
                                    "wgmma-tma";
      return signalPassFailure();
    }
    if (rowTiles < 1) {
      emitError(module.getLoc()) << "row-tiles must be at least 1";
      return signalPassFailure();
    }
    if (weightLayout != "auto" && weightLayout != "rows" &&
        weightLayout != "tiles") {
      emitError(module.getLoc()) << "unknown weight-layout '" << weightLayout
                                 << "' (expected auto, rows or tiles)";
      return signalPassFailure();
    }
    // The products of this module's functions (a nested module's would
    // need their launch declarations there, and no pipeline lowers them).
    SmallVector<MatmulOp> matmuls;
    WalkResult nested = module.walk([&](MatmulOp op) {
      if (op->getParentOfType<ModuleOp>() != module) {
        op.emitError() << "qopt.matmul inside a nested module: "
                       << getArgument()
                       << " lowers the products of the top-level module";
        return WalkResult::interrupt();
      }
      matmuls.push_back(op);
      return WalkResult::advance();
    });
    if (nested.wasInterrupted())
      return signalPassFailure();
    if (matmuls.empty())
      return;
    // The kernels' modules: qopt_kernels for every chip, and
    // qopt_kernels_sm90a for the kernels only sm_90a runs (chip lists with
    // older chips as well); this pass's from an earlier run, or new ones
    // (made on first use); a name taken by anything else is an error.
    llvm::StringMap<gpu::GPUFuncOp> built;
    auto findKernels = [&](StringRef name,
                           gpu::GPUModuleOp &kernels) -> LogicalResult {
      Operation *taken = module.lookupSymbol(name);
      if (!taken)
        return success();
      kernels = dyn_cast<gpu::GPUModuleOp>(taken);
      if (!kernels)
        return taken->emitError()
               << "the symbol '" << name
               << "' names a GPU kernels' module that " << getArgument()
               << " creates; rename this one";
      for (auto kernel : kernels.getOps<gpu::GPUFuncOp>())
        built[kernel.getName()] = kernel;
      return success();
    };
    gpu::GPUModuleOp kernels, sm90aKernels;
    if (failed(findKernels(kKernelsModule, kernels)) ||
        failed(findKernels(kSm90aKernelsModule, sm90aKernels)))
      return signalPassFailure();

    OpBuilder b(module.getContext());
    auto getKernel = [&](gpu::GPUModuleOp &kernels, StringRef moduleName,
                         const KernelPlan &plan, Location loc) {
      if (!kernels) {
        module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                        b.getUnitAttr());
        b.setInsertionPointToEnd(module.getBody());
        kernels = gpu::GPUModuleOp::create(b, module.getLoc(), moduleName);
      }
      gpu::GPUFuncOp &kernel = built[plan.name];
      if (!kernel) {
        b.setInsertionPointToEnd(kernels.getBody());
        kernel = plan.build(b, loc);
      }
      return kernel;
    };
    for (MatmulOp op : matmuls) {
      std::string why;
      std::optional<KernelPlan> plan = planKernel(op, why);
      // CUDA's grid limits: 2^31 - 1 blocks along x, 65535 along y and z.
      if (plan && (plan->grid[0] >= (int64_t(1) << 31) ||
                   plan->grid[1] > 65535 || plan->grid[2] > 65535)) {
        why = llvm::formatv("a grid of {0} x {1} x {2} blocks (CUDA takes at "
                            "most 2^31 - 1 x 65535 x 65535)",
                            plan->grid[0], plan->grid[1], plan->grid[2]);
        plan.reset();
      }
      // weight-layout=tiles: the caller passes its weights in the GEMV's
      // tiles, so each product must run on a GEMV that reads them.
      if (weightLayout == "tiles" && isFunctionArgument(op.getWeight()) &&
          (!plan || !plan->readsTiledWeight)) {
        op.emitError() << "weight-layout=tiles: the weight operand is in "
                          "tiles, but no kernel that reads tiles computes "
                          "the product ("
                       << (plan ? plan->name + " reads rows"
                                : "no GPU kernel for " + why)
                       << ")";
        return signalPassFailure();
      }
      if (!plan) {
        op.emitWarning() << "qopt.matmul runs on the host: no GPU kernel for "
                         << why;
        continue;
      }
      gpu::GPUFuncOp kernel =
          getKernel(kernels, kKernelsModule, *plan, op.getLoc());
      gpu::GPUFuncOp sm90aKernel;
      if (plan->sm90a)
        sm90aKernel = getKernel(sm90aKernels, kSm90aKernelsModule, *plan->sm90a,
                                op.getLoc());
      if (failed(replaceWithLaunch(op, kernel, *plan, sm90aKernel)))
        return signalPassFailure();
    }
  }

  /// The kernel family and configuration for `op`, or the reason there is
  /// none. Tensor operands of rank 1 (one row) and of rank > 2 are reshaped
  /// to 2-D here.
  std::optional<KernelPlan> planKernel(MatmulOp op, std::string &why) {
    OpBuilder b(op);
    auto flatten = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      if (type.getRank() == 2)
        return v;
      if (type.getRank() == 1) // one row
        return tensor::ExpandShapeOp::create(
            b, op.getLoc(),
            RankedTensorType::get({1, type.getDimSize(0)},
                                  type.getElementType()),
            v, SmallVector<ReassociationIndices>{{0, 1}});
      SmallVector<ReassociationIndices> collapse;
      collapse.emplace_back(
          llvm::to_vector(llvm::seq<int64_t>(0, type.getRank() - 1)));
      collapse.push_back({type.getRank() - 1});
      return tensor::CollapseShapeOp::create(b, op.getLoc(), v, collapse);
    };
    // The kernels read f32 scales: f16, bf16 or f64 ones are converted,
    // constants here (so that they stay constants, resident on the device).
    auto asF32 = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      Type f32 = b.getF32Type();
      if (type.getElementType() == f32)
        return v;
      auto target = type.clone(f32);
      DenseElementsAttr attr;
      if (matchPattern(v, m_Constant(&attr))) {
        SmallVector<float> values;
        for (APFloat x : attr.getValues<APFloat>()) {
          bool lost;
          x.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                    &lost);
          values.push_back(x.convertToFloat());
        }
        return arith::ConstantOp::create(
            b, op.getLoc(), DenseElementsAttr::get(target, ArrayRef(values)));
      }
      if (type.getElementTypeBitWidth() < 32)
        return arith::ExtFOp::create(b, op.getLoc(), target, v);
      return arith::TruncFOp::create(b, op.getLoc(), target, v);
    };
    // How a GEMV that can read tiles (weight-only, 8-bit) reads W: a
    // constant weight in tiles, permuted here (constants this cannot read,
    // neither a dense attribute nor a blob, keep rows); the caller's weight
    // in tiles with weight-layout=tiles. Tiles (measured on an H100,
    // docs/perf/gpu.md: the weight-only GEMV 12 % faster for INT4, 27 % for
    // INT8 at N = K = 8192) come with streaming loads (11 % more there; 3 %
    // slower on rows, so never there). Returns the tiled constant, if any.
    auto chooseWeightRead = [&](bool &tiledWeights, bool &streaming,
                                bool readsTiles) -> Value {
      tiledWeights = streaming = false;
      if (!readsTiles || weightLayout == "rows")
        return {};
      Value tiled = tileConstantWeight(b, op.getLoc(), op.getWeight(),
                                       WeightOnlyGemvConfig::kStepBytes);
      tiledWeights = tiled || (weightLayout == "tiles" &&
                               isFunctionArgument(op.getWeight()));
      streaming = streamingLoads && tiledWeights;
      return tiled;
    };
    // Every kernel family writes f16, bf16 or f32.
    Type result = op.getType().getElementType();
    if (!result.isF16() && !result.isBF16() && !result.isF32()) {
      llvm::raw_string_ostream(why)
          << result << " results (the kernels write f16, bf16 or f32)";
      return std::nullopt;
    }
    KernelPlan plan;
    if (op.getInputScale()) {
      Int8KernelChoice choice{useWgmma, wgmmaTileN,      wgmmaStages,
                              wgmmaTma, wgmmaPersistent, wgmmaCluster,
                              int8Gemv, smCount};
      FailureOr<Int8GemmConfig> c =
          getInt8GemmConfig(op, fp8Chips, choice, why);
      if (failed(c))
        return std::nullopt;
      // The 8-bit GEMV reads W as the weight-only one does.
      Value tiled =
          chooseWeightRead(c->tiledWeights, c->streamingLoads, c->gemv);
      Value weight = tiled ? tiled : op.getWeight();
      setInt8Launch(plan, *c);
      plan.readsTiledWeight = c->tiledWeights;
      // sm_90a among older chips: the wgmma GEMM as well, for devices of
      // compute capability 9.0, where it tiles the product.
      if (withSm90aKernels && !c->gemv) {
        Int8KernelChoice sm90a = choice;
        sm90a.smCount = getSMCount("sm_90a");
        if (FailureOr<Int8GemmConfig> w = getWgmmaConfig(op, *c, sm90a);
            succeeded(w)) {
          plan.sm90a = std::make_shared<KernelPlan>();
          setInt8Launch(*plan.sm90a, *w);
        }
      }
      // sx (and zx): [M, 1] per row, rank 0 per tensor.
      auto perRowOrTensor = [&](Value v) -> Value {
        if (!c->xScaleShape.empty())
          return flatten(v);
        if (cast<RankedTensorType>(v.getType()).getRank() == 0)
          return v;
        return tensor::CollapseShapeOp::create(
            b, op.getLoc(), v, SmallVector<ReassociationIndices>{});
      };
      Value sx = perRowOrTensor(asF32(op.getInputScale()));
      Value sw = asF32(op.getScale());
      plan.inputs = {flatten(op.getInput()), weight, sx, sw};
      if (c->xZeroPoint)
        plan.inputs.append(
            {perRowOrTensor(op.getInputZeroPoint()),
             arith::ConstantOp::create(b, op.getLoc(),
                                       *getWeightRowSums(op))});
      return plan;
    }
    FailureOr<WeightOnlyGemvConfig> config = getGemvConfig(op, why);
    if (failed(config))
      return std::nullopt;
    // A weight-only family: its kernel, launch geometry and the operands
    // (`tiledWeight`, if set, in place of W).
    auto weightOnly = [&](auto c, std::array<int64_t, 3> grid,
                          int64_t threads, auto build,
                          Value tiledWeight = {}) {
      plan.name = c.kernelName();
      plan.argumentTypes = getWeightOnlyGemvArgumentTypes(op.getContext(), c);
      plan.grid = grid;
      plan.block = {threads, 1, 1};
      plan.build = [c, build](OpBuilder &b, Location loc) {
        return build(b, loc, c);
      };
      plan.inputs = {flatten(op.getInput()),
                     tiledWeight ? tiledWeight : op.getWeight(),
                     asF32(op.getScale())};
      plan.readsTiledWeight = c.tiledWeights;
      if (c.zeroPoints)
        plan.inputs.push_back(arith::ConstantOp::create(
            b, op.getLoc(), *getZeroPointsAsI32(op)));
      return plan;
    };
    // Measured on an H200 (docs/perf/gpu.md): up to 64 rows the X-tile
    // GEMM with 32-row tiles is faster, the tiled GEMM beyond.
    if (config->m > 64 && tiledGemm) {
      WeightOnlyTiledConfig tiled;
      static_cast<WeightOnlyGemvConfig &>(tiled) = *config;
      if (checkWeightOnlyTiled(tiled).empty())
        return weightOnly(tiled, {tiled.blocksN(), tiled.blocksM(), 1},
                          tiled.threads(), buildWeightOnlyTiled);
    }
    if (config->m > 16) {
      WeightOnlyGemmConfig gemm;
      static_cast<WeightOnlyGemvConfig &>(gemm) = *config;
      gemm.rowsX = gemmTileM;
      gemm.warpsN = gemmWarps;
      chooseWeightOnlyGemmTiling(gemm);
      why = checkWeightOnlyGemm(gemm);
      if (!why.empty())
        return std::nullopt;
      Value tiledWeight = chooseWeightRead(
          gemm.tiledWeights, gemm.streamingLoads, gemmTiledWeights);
      return weightOnly(gemm, {gemm.blocksN(), gemm.blocksM(), 1},
                        gemm.threads(), buildWeightOnlyGemm, tiledWeight);
    }
    config->splitK = splitK;
    config->stages = stages;
    config->prefetch = prefetch;
    config->rowTiles = rowTiles;
    chooseWeightOnlyGemvTiling(*config, smCount);
    why = checkWeightOnlyGemv(*config);
    if (!why.empty())
      return std::nullopt;
    Value tiledWeight = chooseWeightRead(
        config->tiledWeights, config->streamingLoads, config->stages == 1);
    return weightOnly(*config, {config->blocks(), 1, 1}, config->threads(),
                      buildWeightOnlyGemv, tiledWeight);
  }

  /// The launch function of `kernel` as `plan` launches it on its inputs:
  /// the one this pass declared for it already, or a new declaration (its
  /// body comes with qopt-materialize-gpu-launches).
  FailureOr<func::FuncOp> getLauncher(MatmulOp op, gpu::GPUFuncOp kernel,
                                      const KernelPlan &plan) {
    ModuleOp module = getOperation();
    Location loc = op.getLoc();
    // The inputs as they are (unsigned codes stay ui8: the launch function
    // views them as the kernel's signless bytes), the result as the kernel
    // writes it.
    SmallVector<Type> tensorTypes = llvm::to_vector(
        llvm::map_range(plan.inputs, [](Value v) { return v.getType(); }));
    auto yMemRef = cast<MemRefType>(plan.argumentTypes.back());
    tensorTypes.push_back(
        RankedTensorType::get(yMemRef.getShape(), yMemRef.getElementType()));
    // Constant operands (the weights and scales of a compiled model) stay
    // resident on the device; a launch function is specific to which of
    // its operands are, so its name says so.
    SmallVector<int64_t> resident;
    for (auto [i, v] : llvm::enumerate(plan.inputs))
      if (isConstantTensor(v))
        resident.push_back(int64_t(i));
    std::string name = (kernel.getName() + "_launch").str();
    for (int64_t i : resident)
      name += "_c" + std::to_string(i);
    Operation *taken = module.lookupSymbol(name);
    auto launcher = dyn_cast_or_null<func::FuncOp>(taken);
    if (taken && (!launcher || !launcher->hasAttr(kGPULaunchAttrName)))
      return taken->emitError()
             << "the symbol '" << name
             << "' names the launch function of a GPU kernel that "
             << getArgument() << " creates; rename this one";
    if (!launcher) {
      // Launch functions go before the kernels' gpu.module.
      OpBuilder mb(module.getContext());
      mb.setInsertionPoint(kernel->getParentOfType<gpu::GPUModuleOp>());
      launcher = func::FuncOp::create(
          mb, loc, name,
          mb.getFunctionType(ArrayRef(tensorTypes).drop_back(),
                             tensorTypes.back()));
      launcher.setPrivate();
      // The kernel only reads its inputs. Without saying so, bufferization
      // assumes a declaration writes its arguments and hands it a fresh
      // copy of every constant (a host copy per call, and a different
      // address each time, which qoptDeviceConstant keys on).
      for (unsigned i = 0; i < launcher.getNumArguments(); ++i)
        launcher.setArgAttr(
            i, bufferization::BufferizationDialect::kBufferAccessAttrName,
            mb.getStringAttr("read"));
      SymbolRefAttr kernelRef = SymbolRefAttr::get(
          kernel->getParentOfType<gpu::GPUModuleOp>().getNameAttr(),
          {FlatSymbolRefAttr::get(kernel.getNameAttr())});
      SmallVector<NamedAttribute> launch = {
          mb.getNamedAttr("kernel", kernelRef),
          mb.getNamedAttr("grid", mb.getDenseI64ArrayAttr(plan.grid)),
          mb.getNamedAttr("block", mb.getDenseI64ArrayAttr(plan.block))};
      if (plan.persistent)
        launch.push_back(mb.getNamedAttr("persistent", mb.getUnitAttr()));
      if (plan.cluster != std::array<int64_t, 3>{1, 1, 1})
        launch.push_back(
            mb.getNamedAttr("cluster", mb.getDenseI64ArrayAttr(plan.cluster)));
      if (plan.dynamicSharedBytes)
        launch.push_back(mb.getNamedAttr(
            "dynamic_shared_memory",
            mb.getI64IntegerAttr(plan.dynamicSharedBytes)));
      if (!resident.empty())
        launch.push_back(
            mb.getNamedAttr("resident", mb.getDenseI64ArrayAttr(resident)));
      if (!plan.tensorMaps.empty()) {
        SmallVector<Attribute> maps;
        for (const Int8GemmConfig::TensorMap &m : plan.tensorMaps)
          maps.push_back(
              mb.getDenseI64ArrayAttr({m.operand, m.boxRows, m.boxCols}));
        launch.push_back(
            mb.getNamedAttr("tensor_maps", mb.getArrayAttr(maps)));
      }
      launcher->setAttr(kGPULaunchAttrName, mb.getDictionaryAttr(launch));
    }
    return launcher;
  }

  static constexpr StringLiteral kKernelsModule = "qopt_kernels";
  static constexpr StringLiteral kSm90aKernelsModule = "qopt_kernels_sm90a";
  static constexpr StringLiteral kComputeCapabilityFn = "qoptComputeCapability";

  /// Replaces `op` by a call of the kernel's launch function or, with
  /// `sm90aKernel`, by a branch on the device's compute capability between
  /// that kernel's launch (9.0) and this one's; fails (with an error) where
  /// a launch function's name is taken.
  LogicalResult replaceWithLaunch(MatmulOp op, gpu::GPUFuncOp kernel,
                                  const KernelPlan &plan,
                                  gpu::GPUFuncOp sm90aKernel) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    FailureOr<func::FuncOp> launcher = getLauncher(op, kernel, plan);
    if (failed(launcher))
      return failure();
    Value y;
    if (!sm90aKernel) {
      y = func::CallOp::create(b, loc, *launcher, plan.inputs).getResult(0);
    } else {
      KernelPlan sm90aPlan = *plan.sm90a;
      sm90aPlan.inputs = plan.inputs;
      FailureOr<func::FuncOp> sm90aLauncher =
          getLauncher(op, sm90aKernel, sm90aPlan);
      if (failed(sm90aLauncher))
        return failure();
      // The runtime's qoptComputeCapability (an LLVM declaration: the host
      // code calls it as it is, not through a C-interface wrapper).
      Operation *taken = getOperation().lookupSymbol(kComputeCapabilityFn);
      if (taken && !isa<LLVM::LLVMFuncOp>(taken))
        return taken->emitError() << "the symbol '" << kComputeCapabilityFn
                                  << "' names the runtime function that "
                                  << getArgument() << " calls; rename this one";
      FailureOr<LLVM::LLVMFuncOp> capability = LLVM::lookupOrCreateFn(
          b, getOperation(), kComputeCapabilityFn, {}, b.getI64Type());
      if (failed(capability))
        return failure();
      Value cc =
          LLVM::CallOp::create(b, loc, *capability, ValueRange{}).getResult();
      Value sm90 = arith::ConstantIntOp::create(b, loc, 90, 64);
      Value isSm90 =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, cc, sm90);
      auto branch = scf::IfOp::create(
          b, loc, TypeRange{(*launcher).getResultTypes()}, isSm90,
          /*addThenBlock=*/true, /*addElseBlock=*/true);
      for (auto [block, callee] :
           {std::pair(branch.thenBlock(), *sm90aLauncher),
            std::pair(branch.elseBlock(), *launcher)}) {
        OpBuilder bb = OpBuilder::atBlockEnd(block);
        scf::YieldOp::create(
            bb, loc,
            func::CallOp::create(bb, loc, callee, plan.inputs).getResults());
      }
      y = branch.getResult(0);
    }
    RankedTensorType yType = op.getType();
    if (yType.getRank() == 1) {
      y = tensor::CollapseShapeOp::create(
          b, loc, yType, y, SmallVector<ReassociationIndices>{{0, 1}});
    } else if (yType.getRank() != 2) {
      SmallVector<ReassociationIndices> expand;
      expand.emplace_back(
          llvm::to_vector(llvm::seq<int64_t>(0, yType.getRank() - 1)));
      expand.push_back({yType.getRank() - 1});
      y = tensor::ExpandShapeOp::create(b, loc, yType, y, expand);
    }
    op.replaceAllUsesWith(y);
    op.erase();
    return success();
  }
};

} // namespace
