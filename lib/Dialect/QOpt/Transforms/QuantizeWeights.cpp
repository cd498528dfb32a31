//===- QuantizeWeights.cpp - Quantize constant weights of matrix products -===//
//
// Weight-only post-training quantization: every constant weight of a
// contraction is replaced by packed codes + scales + qopt.dequantize, in the
// [batch..., N, K] layout that qopt.matmul and GPU kernels consume.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"
#include "quant-opt/Numerics/Quantize.h"
#include "quant-opt/Numerics/WeightQuantization.h"
#include "quant-opt/Support/Npy.h"

#include "ScaleChannels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <numeric>

namespace mlir::qopt {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The values of a constant weight: a dense attribute or an f32 blob.
struct WeightSource {
  RankedTensorType type;
  DenseElementsAttr dense;
  ArrayRef<float> blob;

  int64_t getNumElements() const { return type.getNumElements(); }
  Type getElementType() const { return type.getElementType(); }
};

/// How a constant weight operand of a contraction maps to [batch..., N, K].
struct WeightLayout {
  unsigned operand;              ///< Input operand index of the weight.
  SmallVector<int64_t> perm;     ///< canonical axis j = original axis perm[j]
  SmallVector<int64_t> canonical; ///< shape [batch..., N, K]
  /// Whether K is the last axis of the other (activation) operand, which
  /// is what calibration statistics are recorded over.
  bool activationKLast = false;
};

/// Finds the constant weight operand of a contraction and its axes: one
/// reduction axis (K), one axis shared only with the result (N), and batch
/// axes shared with the other input and the result.
std::optional<WeightLayout> analyzeContraction(linalg::LinalgOp op,
                                               WeightSource &weight,
                                               std::string &why) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op)) {
    why = "not a two-input contraction";
    return std::nullopt;
  }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (AffineMap m : maps)
    if (!m.isProjectedPermutation()) {
      why = "indexing maps are not projected permutations";
      return std::nullopt;
    }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned w = 0; w < 2; ++w) {
    OpOperand *operand = op.getDpsInputOperand(w);
    auto cst = operand->get().getDefiningOp<arith::ConstantOp>();
    if (!cst)
      continue;
    auto attr = dyn_cast<DenseElementsAttr>(cst.getValue());
    auto resource = dyn_cast<DenseResourceElementsAttr>(cst.getValue());
    if (!attr && !resource)
      continue;
    AffineMap wm = maps[w], xm = maps[1 - w], ym = maps[2];
    WeightLayout layout;
    layout.operand = w;
    SmallVector<int64_t> batch;
    int64_t nAxis = -1, kAxis = -1;
    bool ok = true;
    for (unsigned i = 0; i < wm.getNumResults(); ++i) {
      unsigned d = wm.getDimPosition(i);
      bool inX = xm.isFunctionOfDim(d), inY = ym.isFunctionOfDim(d);
      if (iterators[d] == utils::IteratorType::reduction && inX && !inY) {
        ok &= kAxis < 0;
        kAxis = i;
      } else if (inY && !inX) {
        ok &= nAxis < 0;
        nAxis = i;
      } else if (inY && inX) {
        batch.push_back(i);
      } else {
        ok = false;
      }
    }
    if (!ok || kAxis < 0 || nAxis < 0)
      continue;
    layout.perm = batch;
    layout.perm.push_back(nAxis);
    layout.perm.push_back(kAxis);
    layout.activationKLast =
        xm.getNumResults() > 0 &&
        xm.getDimPosition(xm.getNumResults() - 1) == wm.getDimPosition(kAxis);
    auto type = cast<RankedTensorType>(operand->get().getType());
    if (!type.hasStaticShape())
      continue;
    for (int64_t axis : layout.perm)
      layout.canonical.push_back(type.getDimSize(axis));
    weight = {type, attr, {}};
    if (!attr) {
      // dense_resource: read the blob in place (f32 only, like most
      // exports); copying it into a uniqued attribute would keep a second
      // copy of every weight alive in the context.
      auto blob = dyn_cast<DenseF32ResourceElementsAttr>(resource);
      std::optional<ArrayRef<float>> data =
          blob ? blob.tryGetAsArrayRef() : std::nullopt;
      if (!data || int64_t(data->size()) != type.getNumElements()) {
        why = "dense_resource weight is not an f32 blob with data";
        return std::nullopt;
      }
      weight.blob = *data;
    }
    return layout;
  }
  why = "no constant weight operand";
  return std::nullopt;
}

/// The weight's values as f32 in canonical order.
std::vector<float> canonicalValues(const WeightSource &weight,
                                   const WeightLayout &layout) {
  RankedTensorType type = weight.type;
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = shape.size();
  std::vector<float> original;
  if (!weight.dense) {
    original.assign(weight.blob.begin(), weight.blob.end());
  } else if (type.getElementType().isF32()) {
    auto values = weight.dense.getValues<float>();
    original.assign(values.begin(), values.end());
  } else {
    original.reserve(type.getNumElements());
    for (APFloat v : weight.dense.getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
      original.push_back(v.convertToFloat());
    }
  }
  bool identity = llvm::equal(layout.perm, llvm::seq<int64_t>(0, rank));
  if (identity)
    return original;
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  std::vector<float> out(original.size());
  SmallVector<int64_t> idx(rank, 0); // canonical multi-index
  for (float &o : out) {
    int64_t src = 0;
    for (int64_t j = 0; j < rank; ++j)
      src += idx[j] * strides[layout.perm[j]];
    o = original[src];
    for (int64_t j = rank - 1; j >= 0; --j) {
      if (++idx[j] < layout.canonical[j])
        break;
      idx[j] = 0;
    }
  }
  return out;
}

struct QuantizeWeightsPass
    : qopt::impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  /// A weight to quantize and, once quantizeJob ran, its codes.
  struct Job {
    linalg::LinalgOp op;
    WeightSource weight;
    WeightLayout layout;
    std::string skipReason; ///< set when the weight stays as it is
    std::string error;      ///< set when quantization failed
    std::string fallbackReason; ///< why method=gptq/awq fell back to RTN
    std::string hessianFile, observer; ///< GPTQ / AWQ calibration statistics
    int64_t hessianTokens = 0;
    std::vector<float> channelMean; ///< AWQ: mean |x| per input channel
    std::vector<float> inputScales; ///< AWQ: the activation is divided by these
    SmallVector<int64_t> scaleShape;
    quantopt::QuantParams params;
    std::vector<uint8_t> codes;
  };

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<quantopt::Storage> storageKind =
        quantopt::parseStorage(storage);
    if (!storageKind || *storageKind == quantopt::Storage::UI8) {
      emitError(module.getLoc(), "qopt-quantize-weights: unsupported storage '")
          << storage << "' (expected i8, i4, ui4, f8E4M3FN or f8E5M2)";
      return signalPassFailure();
    }
    if ((method == "gptq" || method == "awq") && calibration.empty()) {
      emitError(module.getLoc(), "qopt-quantize-weights: method=")
          << method
          << " needs calibration statistics: calibration=FILE, from "
             "quant-run --calibration-out on the model instrumented by "
             "qopt-insert-observers with stats=...,hessian"
          << (method == "awq" ? " (and channel_absmean)" : "");
      return signalPassFailure();
    }
    if (method != "rtn" && method != "gptq" && method != "awq") {
      emitError(module.getLoc(), "qopt-quantize-weights: unknown method '")
          << method << "' (expected rtn, gptq or awq)";
      return signalPassFailure();
    }
    if (groupSize < 0) {
      emitError(module.getLoc(),
                "qopt-quantize-weights: group-size must be >= 0");
      return signalPassFailure();
    }
    llvm::Regex skipRegex(skip);
    std::string regexError;
    if (!skip.empty() && !skipRegex.isValid(regexError)) {
      emitError(module.getLoc(), "qopt-quantize-weights: invalid skip regex '")
          << skip << "': " << regexError;
      return signalPassFailure();
    }

    quantopt::Scheme scheme;
    scheme.storage = *storageKind;
    bool isUnsigned = *storageKind == quantopt::Storage::UI4;
    scheme.symmetric = symmetric && !isUnsigned;
    scheme.narrowRange =
        scheme.symmetric && quantopt::isSignedInteger(*storageKind);

    SmallVector<linalg::LinalgOp> products;
    module.walk([&](linalg::LinalgOp op) { products.push_back(op); });
    // Find the weights (sequentially), quantize them on every core (pure
    // numerics, no IR), then rewrite the IR in order.
    std::vector<Job> jobs;
    for (linalg::LinalgOp op : products) {
      if (!skip.empty() && skipRegex.match(getLocationName(op->getLoc())))
        continue;
      Job job;
      std::string why;
      std::optional<WeightLayout> layout =
          analyzeContraction(op, job.weight, why);
      // Only the float types qopt.dequantize produces.
      if (!layout || job.weight.getNumElements() < minElements ||
          !isa<Float16Type, BFloat16Type, Float32Type, Float64Type>(
              job.weight.getElementType()))
        continue;
      job.op = op;
      job.layout = std::move(*layout);
      jobs.push_back(std::move(job));
    }
    for (Job &job : jobs) {
      job.skipReason = checkShape(job, scheme);
      if (method != "rtn" && job.skipReason.empty() &&
          (job.layout.canonical.size() != 2 || !job.layout.activationKLast))
        job.fallbackReason =
            job.layout.canonical.size() != 2
                ? "the weight has batch dimensions"
                : "the product does not reduce over the last dimension of "
                  "its input, which calibration statistics describe";
    }
    if (method != "rtn" && failed(attachHessians(module, jobs)))
      return signalPassFailure();
    // GPTQ and AWQ hold several K x K matrices per weight and parallelise
    // their matrix products themselves: run them one at a time.
    if (method == "rtn")
      parallelForEach(&getContext(), jobs,
                      [&](Job &job) { quantizeJob(job, scheme); });
    else
      for (Job &job : jobs)
        quantizeJob(job, scheme);
    // Nothing is rewritten unless every weight could be quantized.
    bool failedJobs = false;
    for (Job &job : jobs)
      if (!job.error.empty()) {
        job.op->emitError(job.error);
        failedJobs = true;
      }
    if (failedJobs)
      return signalPassFailure();
    for (Job &job : jobs)
      emit(job, scheme);
    // AWQ's x / s: into the previous linear layer's output channels where
    // legal, else an explicit elementwise scale before the product.
    for (auto &[activation, inv] : pendingScales) {
      OpBuilder b(activation->getOwner());
      Value x = activation->get();
      if (!qopt::detail::foldScaleIntoProducer(b, x, inv))
        activation->set(qopt::detail::scaleLastDim(
            b, activation->getOwner()->getLoc(), x, inv));
    }
    pendingScales.clear();
  }

  /// AWQ activation scales (1 / s) still to apply, per product input.
  std::vector<std::pair<OpOperand *, std::vector<float>>> pendingScales;

  /// Finds, for each job, the Hessian file its product's input was
  /// calibrated into. Fails (with a message naming the tensor) on a missing
  /// or malformed file or statistic.
  LogicalResult attachHessians(ModuleOp module, std::vector<Job> &jobs) {
    FailureOr<llvm::json::Object> loaded =
        readCalibrationObservers(module, calibration);
    if (failed(loaded))
      return failure();
    const llvm::json::Object *observers = &*loaded;
    DenseMap<std::pair<Operation *, unsigned>, std::string> names;
    for (ProductInput &in : getObservedProductInputs(module, nullptr))
      names[{in.product, in.operand}] = in.name;
    StringRef dir = llvm::sys::path::parent_path(calibration);
    for (Job &job : jobs) {
      if (!job.skipReason.empty() || !job.fallbackReason.empty())
        continue;
      unsigned activation = 1 - job.layout.operand;
      auto it = names.find({job.op.getOperation(), activation});
      std::string name = it == names.end() ? "" : it->second;
      const llvm::json::Object *entry =
          name.empty() ? nullptr : observers->getObject(name);
      const llvm::json::Object *hessian =
          entry ? entry->getObject("hessian") : nullptr;
      if (!hessian)
        return job.op->emitError("no Hessian for this product's input ('")
               << name << "') in '" << calibration
               << "': calibrate with qopt-insert-observers stats=...,hessian "
                  "on this model";
      std::optional<StringRef> file = hessian->getString("xtx_file");
      std::optional<int64_t> tokens = hessian->getInteger("tokens");
      if (!file || !tokens || *tokens <= 0)
        return job.op->emitError("malformed Hessian entry for '")
               << name << "' in '" << calibration << "'";
      if (method == "awq") {
        const llvm::json::Array *mean = entry->getArray("channel_absmean");
        if (!mean)
          return job.op->emitError("no channel_absmean for this product's "
                                   "input ('")
                 << name << "') in '" << calibration
                 << "': AWQ needs stats=channel_absmean,hessian";
        for (const llvm::json::Value &v : *mean)
          job.channelMean.push_back(float(v.getAsNumber().value_or(NAN)));
      }
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, *file);
      job.hessianFile = path.str().str();
      job.hessianTokens = *tokens;
      job.observer = name;
    }
    return success();
  }


  /// Why a weight can't be quantized as asked (empty when it can).
  std::string checkShape(const Job &job, const quantopt::Scheme &scheme) const {
    int64_t k = job.layout.canonical.back();
    if (quantopt::bitWidth(scheme.storage) == 4 && k % 2 != 0)
      return "K = " + std::to_string(k) + " is odd (4-bit codes pack in pairs)";
    if (groupSize > 0 && k % groupSize != 0)
      return "K = " + std::to_string(k) + " is not a multiple of group-size " +
             std::to_string(groupSize);
    return "";
  }

  void quantizeJob(Job &job, const quantopt::Scheme &scheme) const {
    if (!job.skipReason.empty())
      return;
    ArrayRef<int64_t> canon = job.layout.canonical;
    int64_t k = canon.back();
    job.scaleShape.assign(canon.begin(), canon.end());
    job.scaleShape.back() = groupSize == 0 ? 1 : k / groupSize;
    quantopt::BlockLayout blocks = *quantopt::BlockLayout::get(
        std::vector<int64_t>(canon.begin(), canon.end()),
        std::vector<int64_t>(job.scaleShape.begin(), job.scaleShape.end()));
    std::vector<float> data = canonicalValues(job.weight, job.layout);
    if (!job.hessianFile.empty() && canon.size() == 2) {
      quantizeGPTQJob(job, scheme, data);
      return;
    }
    job.params = quantopt::computeParams(data, blocks, scheme);
    job.codes = quantopt::quantize(data, blocks, job.params);
  }

  /// GPTQ with the calibrated Hessian H = 2 / tokens * sum x x^T.
  void quantizeGPTQJob(Job &job, const quantopt::Scheme &scheme,
                       const std::vector<float> &data) const {
    int64_t n = job.layout.canonical[0], k = job.layout.canonical[1];
    auto array = quantopt::readNpy(job.hessianFile);
    if (!array) {
      job.error = "calibration Hessian of '" + job.observer +
                  "': " + llvm::toString(array.takeError());
      return;
    }
    if (array->dtype != "<f4" || array->shape != std::vector<int64_t>{k, k}) {
      job.error = "calibration Hessian of '" + job.observer + "' is " +
                  array->dtype + " " + array->shapeString() +
                  ", expected float32 (" + std::to_string(k) + ", " +
                  std::to_string(k) + ") for this weight";
      return;
    }
    Eigen::Map<const quantopt::RowMatrixF> xtx(
        reinterpret_cast<const float *>(array->data.data()), k, k);
    if (!xtx.allFinite()) {
      job.error = "calibration Hessian of '" + job.observer +
                  "' has NaN or infinite entries (non-finite activations "
                  "in the calibration data)";
      return;
    }
    Eigen::Map<const quantopt::RowMatrixF> w(data.data(), n, k);
    if (method == "awq") {
      if (int64_t(job.channelMean.size()) != k ||
          !llvm::all_of(job.channelMean,
                        [](float v) { return std::isfinite(v); })) {
        job.error = "channel_absmean of '" + job.observer +
                    "' does not have " + std::to_string(k) +
                    " finite entries";
        return;
      }
      quantopt::AWQOptions options;
      options.scheme = scheme;
      options.groupSize = groupSize;
      std::string error;
      auto r = quantopt::quantizeAWQWithHessian(
          w, job.channelMean, quantopt::MatrixF(xtx), job.hessianTokens,
          options, &error);
      if (!r) {
        job.error = "AWQ failed for '" + job.observer + "': " + error;
        return;
      }
      job.params = std::move(r->weight.params);
      job.codes = std::move(r->weight.codes);
      job.inputScales = std::move(r->inputScales);
      return;
    }
    quantopt::MatrixF h = xtx * (2.0f / float(job.hessianTokens));
    quantopt::GPTQOptions options;
    options.scheme = scheme;
    options.groupSize = groupSize;
    options.actOrder = actOrder;
    std::string error;
    auto q = quantopt::quantizeGPTQ(w, h, options, &error);
    if (!q) {
      job.error = "GPTQ failed for '" + job.observer + "': " + error;
      return;
    }
    job.params = std::move(q->params);
    job.codes = std::move(q->codes);
  }

  void emit(Job &job, const quantopt::Scheme &scheme) {
    linalg::LinalgOp op = job.op;
    MLIRContext *ctx = op.getContext();
    RankedTensorType weightType = job.weight.type;
    Type floatType = weightType.getElementType();
    if (!job.skipReason.empty()) {
      op->emitWarning("weight ")
          << weightType << " left unquantized: " << job.skipReason;
      return;
    }
    if (!job.fallbackReason.empty())
      op->emitWarning("method=")
          << method << " does not apply to this weight (" << job.fallbackReason
          << "); quantized with RTN";
    const WeightLayout &layout = job.layout;
    ArrayRef<int64_t> canon = layout.canonical;
    int64_t rank = canon.size();
    bool nibbles = quantopt::bitWidth(scheme.storage) == 4;
    SmallVector<int64_t> scaleShape = job.scaleShape;
    quantopt::QuantParams &params = job.params;
    std::vector<uint8_t> &codes = job.codes;

    OpBuilder b(op);
    Location loc = op->getLoc();
    Type storageType = storageElementType(ctx, scheme.storage);
    auto codesType = RankedTensorType::get(canon, storageType);
    Value codesValue;
    if (nibbles) {
      SmallVector<int64_t> packedShape(canon.begin(), canon.end());
      packedShape.back() /= 2;
      std::vector<uint8_t> packed(codes.size() / 2);
      quantopt::packNibbles(codes, packed);
      auto packedType = RankedTensorType::get(packedShape, b.getI8Type());
      Value packedValue = arith::ConstantOp::create(
          b, loc, rawAttr(packedType, packed.data(), packed.size()));
      codesValue = UnpackOp::create(b, loc, codesType, packedValue);
    } else {
      codesValue = arith::ConstantOp::create(
          b, loc, rawAttr(codesType, codes.data(), codes.size()));
    }
    auto scaleType = RankedTensorType::get(scaleShape, b.getF32Type());
    Value scale = arith::ConstantOp::create(
        b, loc,
        rawAttr(scaleType, params.scales.data(), params.scales.size() * 4));
    Value zeroPoint;
    if (!params.zeroPoints.empty()) {
      SmallVector<APInt> zs;
      for (int32_t z : params.zeroPoints)
        zs.emplace_back(storageType.getIntOrFloatBitWidth(), z,
                        /*isSigned=*/!isa<IntegerType>(storageType) ||
                            !cast<IntegerType>(storageType).isUnsigned(),
                        /*implicitTrunc=*/true);
      zeroPoint = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              RankedTensorType::get(scaleShape, storageType), zs));
    }
    auto dequantType = RankedTensorType::get(canon, floatType);
    Value dequant = DequantizeOp::create(b, loc, dequantType, codesValue,
                                         scale, zeroPoint,
                                         scheme.narrowRange);
    // Back to the product's layout.
    bool identity = llvm::equal(layout.perm, llvm::seq<int64_t>(0, rank));
    if (!identity) {
      SmallVector<int64_t> inverse(rank);
      for (int64_t j = 0; j < rank; ++j)
        inverse[layout.perm[j]] = j;
      Value init = tensor::EmptyOp::create(b, loc, weightType.getShape(),
                                           floatType);
      dequant = linalg::TransposeOp::create(b, loc, dequant, init, inverse)
                    .getResult()[0];
    }
    if (!job.inputScales.empty()) {
      // AWQ quantized W * diag(s): the product must read x / s.
      std::vector<float> inv(job.inputScales.size());
      for (size_t j = 0; j < inv.size(); ++j)
        inv[j] = 1.0f / job.inputScales[j];
      // Applied once every weight is rewritten, so that the producer of
      // the activation, if it is itself a quantized product, is in its
      // final form when 1/s is folded into it.
      pendingScales.push_back(
          {op.getDpsInputOperand(1 - layout.operand), std::move(inv)});
    }
    OpOperand *operand = op.getDpsInputOperand(layout.operand);
    Operation *constant = operand->get().getDefiningOp();
    operand->set(dequant);
    if (constant->use_empty())
      constant->erase();
    codes = {}; // release the codes as soon as they are in the IR
  }

  static Type storageElementType(MLIRContext *ctx, quantopt::Storage s) {
    switch (s) {
    case quantopt::Storage::I8:
      return IntegerType::get(ctx, 8);
    case quantopt::Storage::I4:
      return IntegerType::get(ctx, 4);
    case quantopt::Storage::UI8:
      return IntegerType::get(ctx, 8, IntegerType::Unsigned);
    case quantopt::Storage::UI4:
      return IntegerType::get(ctx, 4, IntegerType::Unsigned);
    case quantopt::Storage::F8E4M3FN:
      return Float8E4M3FNType::get(ctx);
    case quantopt::Storage::F8E5M2:
      return Float8E5M2Type::get(ctx);
    }
    return {};
  }

  /// A dense attribute from raw little-endian element bytes.
  static DenseElementsAttr rawAttr(RankedTensorType type, const void *data,
                                   size_t bytes) {
    if (type.getElementTypeBitWidth() == 4) {
      // Sub-byte integers are built element by element.
      SmallVector<APInt> values;
      auto *p = static_cast<const uint8_t *>(data);
      for (size_t i = 0; i < bytes; ++i)
        values.emplace_back(4, p[i] & 0xF);
      return DenseElementsAttr::get(type, values);
    }
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(static_cast<const char *>(data), bytes));
  }
};

} // namespace
