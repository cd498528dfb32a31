//===- SmoothQuant.cpp - Migrate activation outliers into the weights -----===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"
#include "quant-opt/Numerics/Calibration.h"

#include "ScaleChannels.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Builders.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_SMOOTHQUANT
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct Candidate {
  linalg::LinalgOp op;
  unsigned weight;           // input operand index of the constant weight
  int64_t kAxis;             // the weight's reduction axis
  std::vector<float> actMax; // max |x_j| per input channel
};

struct SmoothQuantPass : qopt::impl::SmoothQuantBase<SmoothQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      emitError(module.getLoc(),
                "qopt-smooth-quant: alpha must be in [0, 1], not ")
          << alpha;
      return signalPassFailure();
    }
    FailureOr<llvm::json::Object> loaded =
        readCalibrationObservers(module, calibration);
    if (failed(loaded))
      return signalPassFailure();
    const llvm::json::Object *observers = &*loaded;

    // Collect every product to smooth before changing anything.
    SmallVector<Candidate> candidates;
    for (ProductInput &in : getObservedProductInputs(module, nullptr)) {
      auto op = dyn_cast<linalg::LinalgOp>(in.product);
      if (!op)
        continue;
      unsigned w = 1 - in.operand;
      auto cst = op->getOperand(w).getDefiningOp<arith::ConstantOp>();
      if (!cst)
        continue;
      if (!qopt::detail::isF32Constant(cst)) {
        if (observers->getObject(in.name))
          op->emitWarning("qopt-smooth-quant: weight left unsmoothed: only "
                          "f32 constants (dense or dense_resource) are "
                          "supported");
        continue;
      }
      auto weightType = cast<RankedTensorType>(cst.getType());
      // The weight's K axis: the one indexed by the reduction dim shared
      // with the activation, which must be the activation's last axis.
      AffineMap wm = op.getIndexingMapsArray()[w];
      AffineMap xm = op.getIndexingMapsArray()[in.operand];
      if (!wm.isProjectedPermutation() || !xm.isProjectedPermutation() ||
          xm.getNumResults() == 0)
        continue;
      unsigned kDim = xm.getDimPosition(xm.getNumResults() - 1);
      int64_t kAxis = -1;
      for (unsigned i = 0; i < wm.getNumResults(); ++i)
        if (wm.getDimPosition(i) == kDim)
          kAxis = i;
      if (kAxis < 0 ||
          op.getIteratorTypesArray()[kDim] != utils::IteratorType::reduction)
        continue;
      const llvm::json::Object *entry = observers->getObject(in.name);
      const llvm::json::Array *absmax =
          entry ? entry->getArray("channel_absmax") : nullptr;
      if (!absmax)
        continue; // no statistics for this product: leave it
      int64_t k = weightType.getDimSize(kAxis);
      if (int64_t(absmax->size()) != k) {
        op->emitError("calibration statistics of '")
            << in.name << "' have " << absmax->size()
            << " channels, but the product reduces over " << k;
        return signalPassFailure();
      }
      Candidate c{op, w, kAxis, {}};
      for (const llvm::json::Value &v : *absmax)
        c.actMax.push_back(float(v.getAsNumber().value_or(0.0)));
      candidates.push_back(std::move(c));
    }
    for (Candidate &c : candidates)
      smooth(c);
  }

  void smooth(Candidate &c) {
    linalg::LinalgOp op = c.op;
    auto cst = op->getOperand(c.weight).getDefiningOp<arith::ConstantOp>();
    auto type = cast<RankedTensorType>(cst.getType());
    ArrayRef<int64_t> shape = type.getShape();
    int64_t k = shape[c.kAxis];
    std::optional<std::vector<float>> values = qopt::detail::getF32Values(cst);
    if (!values) { // a dense_resource blob without data
      op->emitWarning("qopt-smooth-quant: weight left unsmoothed: its "
                      "dense_resource blob holds no data");
      return;
    }
    std::vector<float> &w = *values;
    // Stride of the K axis in the row-major weight and the count of
    // elements per K index.
    int64_t inner = 1;
    for (int64_t i = c.kAxis + 1; i < int64_t(shape.size()); ++i)
      inner *= shape[i];
    auto channelOf = [&](int64_t flat) { return (flat / inner) % k; };
    std::vector<float> wMax(k, 0.0f);
    for (int64_t i = 0; i < int64_t(w.size()); ++i)
      wMax[channelOf(i)] = std::max(wMax[channelOf(i)], std::fabs(w[i]));
    std::vector<float> s =
        quantopt::smoothQuantFactors(c.actMax, wMax, float(alpha));
    for (int64_t i = 0; i < int64_t(w.size()); ++i)
      w[i] *= s[channelOf(i)];

    OpBuilder b(op);
    Location loc = op->getLoc();
    Value newWeight = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<float>(w)));
    // x / s as x * (1 / s), broadcast along the activation's last axis.
    Value x = op->getOperand(1 - c.weight);
    std::vector<float> inv(k);
    for (int64_t j = 0; j < k; ++j)
      inv[j] = 1.0f / s[j];
    // Into the producer's output channels where legal (the previous
    // linear layer), else as an explicit elementwise scale.
    Value scaled = qopt::detail::foldScaleIntoProducer(b, x, inv)
                       ? x
                       : qopt::detail::scaleLastDim(b, loc, x, inv);
    op->setOperand(c.weight, newWeight);
    op->setOperand(1 - c.weight, scaled);
    if (cst->use_empty())
      cst->erase();
  }
};

} // namespace
