//===- ApplyCalibration.cpp - Static activation quantization --------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"
#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/Quantize.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_APPLYCALIBRATION
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The histogram stored for an observer, or nullopt.
std::optional<quantopt::AbsHistogram>
readHistogram(const llvm::json::Object &entry) {
  const llvm::json::Object *h = entry.getObject("histogram");
  if (!h)
    return std::nullopt;
  const llvm::json::Array *counts = h->getArray("counts");
  auto range = h->getNumber("range"), maxAbs = h->getNumber("max_abs");
  auto total = h->getInteger("total"), nonFinite = h->getInteger("non_finite");
  // A histogram of at least one finite value.
  if (!counts || !range || !maxAbs || !total || !nonFinite || *total <= 0 ||
      *nonFinite < 0)
    return std::nullopt;
  std::vector<uint64_t> c;
  for (const llvm::json::Value &v : *counts) {
    std::optional<int64_t> n = v.getAsInteger();
    if (!n || *n < 0)
      return std::nullopt;
    c.push_back(uint64_t(*n));
  }
  return quantopt::AbsHistogram::fromState(std::move(c), float(*range),
                                           float(*maxAbs), uint64_t(*total),
                                           uint64_t(*nonFinite));
}

/// The numerics library's storage for activation codes of type `t`.
quantopt::Storage numericStorage(Type t) {
  if (t.isUnsignedInteger(8))
    return quantopt::Storage::UI8;
  if (t.isSignlessInteger(8))
    return quantopt::Storage::I8;
  return isa<Float8E4M3FNType>(t) ? quantopt::Storage::F8E4M3FN
                                  : quantopt::Storage::F8E5M2;
}

struct ApplyCalibrationPass
    : qopt::impl::ApplyCalibrationBase<ApplyCalibrationPass> {
  using Base::Base;

  /// A product whose input becomes codes of `storage` with `params`.
  struct Target {
    MatmulOp op;
    Type storage;
    quantopt::AffineParams params;
  };

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (calibrator != "minmax" && calibrator != "percentile" &&
        calibrator != "mse" && calibrator != "entropy") {
      emitError(module.getLoc(), "qopt-apply-calibration: unknown calibrator '")
          << calibrator << "' (expected minmax, percentile, mse or entropy)";
      return signalPassFailure();
    }
    Type chosen; // Null: follow the weight.
    if (!storage.empty()) {
      Builder b(module.getContext());
      chosen = llvm::StringSwitch<Type>(storage)
                   .Case("i8", b.getI8Type())
                   .Case("ui8", b.getIntegerType(8, /*isSigned=*/false))
                   .Case("f8E4M3FN", b.getType<Float8E4M3FNType>())
                   .Case("f8E5M2", b.getType<Float8E5M2Type>())
                   .Default(Type());
      if (!chosen) {
        emitError(module.getLoc(), "qopt-apply-calibration: unknown storage '")
            << storage << "' (expected i8, ui8, f8E4M3FN or f8E5M2)";
        return signalPassFailure();
      }
    }
    bool asymmetric = storage == "ui8";
    if (asymmetric && calibrator != "minmax") {
      emitError(module.getLoc(),
                "qopt-apply-calibration: storage=ui8 (asymmetric) "
                "needs calibrator=minmax (the histograms hold |x|, not "
                "the signed range)");
      return signalPassFailure();
    }
    FailureOr<llvm::json::Object> loaded =
        readCalibrationObservers(module, calibration);
    if (failed(loaded))
      return signalPassFailure();
    const llvm::json::Object *observers = &*loaded;

    SmallVector<Target> targets;
    for (ProductInput &in : getObservedProductInputs(module, nullptr)) {
      auto mm = dyn_cast<MatmulOp>(in.product);
      if (!mm || mm.getInputScale() || mm.getPacked())
        continue;
      Type w = mm.getWeightStorageType();
      if (!w.isSignlessInteger(8) && !isa<Float8E4M3FNType, Float8E5M2Type>(w))
        continue;
      const llvm::json::Object *entry = observers->getObject(in.name);
      if (!entry) {
        mm->emitWarning("no calibration statistics for this product's input "
                        "('")
            << in.name << "'): left with float activations";
        continue;
      }
      // The activation codes: the weight's, or the chosen ones if they pair
      // with the weight (integer with i8, FP8 with FP8).
      Type xStorage = w;
      if (chosen) {
        bool isFP8 = isa<Float8E4M3FNType, Float8E5M2Type>(w);
        if (isFP8 != isa<Float8E4M3FNType, Float8E5M2Type>(chosen)) {
          mm->emitWarning("storage=")
              << storage << " activations cannot pair with the " << w
              << " weight: left with float activations";
          continue;
        }
        xStorage = chosen;
      }
      if (mm.getZeroPoint()) {
        mm->emitWarning("the weight has zero points; static activation "
                        "quantization needs a symmetric weight");
        continue;
      }
      std::optional<float> threshold = getThreshold(*entry, xStorage);
      if (!threshold) {
        mm->emitError("calibration statistics of '")
            << in.name << "' lack what calibrator=" << calibrator
            << " needs (" << (calibrator == "minmax" ? "min / max" : "a histogram")
            << ") or are inconsistent";
        return signalPassFailure();
      }
      if (!std::isfinite(*threshold)) {
        mm->emitError("calibration statistics of '")
            << in.name << "' give a non-finite range";
        return signalPassFailure();
      }
      // Symmetric codes from the threshold; ui8 over the signed range.
      quantopt::Storage numeric = numericStorage(xStorage);
      quantopt::AffineParams params =
          asymmetric
              ? quantopt::asymmetricParams(float(*entry->getNumber("min")),
                                           float(*entry->getNumber("max")),
                                           numeric)
              : quantopt::AffineParams{
                    quantopt::symmetricScale(*threshold, numeric,
                                             /*narrowRange=*/true),
                    0};
      targets.push_back({mm, xStorage, params});
    }
    for (Target &t : targets)
      rewrite(t);
  }

  std::optional<float> getThreshold(const llvm::json::Object &entry,
                                    Type storage) const {
    if (calibrator == "minmax") {
      // A range observed at least once: min <= max, count > 0.
      auto lo = entry.getNumber("min"), hi = entry.getNumber("max");
      auto count = entry.getInteger("count");
      if (!lo || !hi || *lo > *hi || (count && *count <= 0))
        return std::nullopt;
      return float(std::max(std::fabs(*lo), std::fabs(*hi)));
    }
    std::optional<quantopt::AbsHistogram> h = readHistogram(entry);
    if (!h)
      return std::nullopt;
    if (calibrator == "percentile")
      return quantopt::percentileThreshold(*h, percentile);
    if (calibrator == "entropy")
      return quantopt::entropyThreshold(*h);
    return quantopt::mseThreshold(*h, numericStorage(storage),
                                  /*narrowRange=*/true);
  }

  /// x -> codes with t's parameters (a zero point for unsigned codes),
  /// and the product reads them with input_scale.
  void rewrite(const Target &t) {
    MatmulOp op = t.op;
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value sx = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                               ArrayRef<float>{t.params.scale}));
    Value zx;
    if (t.storage.isUnsignedInteger(8))
      zx = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              RankedTensorType::get({}, t.storage),
              IntegerAttr::get(t.storage,
                               APInt(8, uint64_t(t.params.zeroPoint)))));
    auto xType = op.getInput().getType();
    Value xq = QuantizeOp::create(b, loc, xType.clone(t.storage),
                                  op.getInput(), sx, zx,
                                  /*narrow_range=*/t.storage.isSignlessInteger(8));
    auto mm = MatmulOp::create(b, loc, op.getType(), xq, op.getWeight(),
                               op.getScale(), Value(), sx, zx,
                               op.getAccTypeAttr(), op.getPackedAttr());
    op.replaceAllUsesWith(mm.getResult());
    op.erase();
  }
};

} // namespace
