//===- StorageReport.cpp - Bytes of every weight in the IR ----------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/ObserverNames.h"

#include "quant-opt/Numerics/Roofline.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_STORAGEREPORT
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct Row {
  std::string name, shape, storage, granularity;
  int64_t elements = 0;
  quantopt::TensorBytes bytes;
};

std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") +
         (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s;
}

std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Describes the granularity of a scale shape over a logical [.., N, K].
std::string granularity(ArrayRef<int64_t> data, ArrayRef<int64_t> scale) {
  if (scale.empty() || llvm::all_of(scale, [](int64_t d) { return d == 1; }))
    return "per-tensor";
  int64_t rank = data.size();
  if (rank < 2 || scale[rank - 1] <= 0 || scale[rank - 2] <= 0)
    return "blocks";
  int64_t groupK = data[rank - 1] / scale[rank - 1];
  int64_t groupN = data[rank - 2] / scale[rank - 2];
  if (groupN == 1 && groupK == data[rank - 1])
    return "per-channel";
  if (groupN == 1)
    return "group " + std::to_string(groupK);
  return "block " + std::to_string(groupN) + "x" + std::to_string(groupK);
}

Row quantizedRow(Operation *product, ArrayRef<int64_t> logical, Type storage,
                 RankedTensorType scale, Value zeroPoint) {
  Row r;
  r.name = getLocationName(product->getLoc());
  r.shape = shapeString(logical);
  r.storage = typeString(storage);
  bool dynamic =
      ShapedType::isDynamicShape(logical) || !scale.hasStaticShape() ||
      (zeroPoint &&
       !cast<RankedTensorType>(zeroPoint.getType()).hasStaticShape());
  if (dynamic) {
    // Bytes are only known at run time: report the row without them.
    r.granularity = "dynamic";
    return r;
  }
  r.granularity = granularity(logical, scale.getShape());
  quantopt::StorageSpec spec;
  spec.bits = storage.getIntOrFloatBitWidth();
  spec.scaleBytes = scale.getElementTypeBitWidth() / 8;
  spec.zeroBytes = 0;
  r.bytes = quantopt::tensorBytes(
      std::vector<int64_t>(logical.begin(), logical.end()),
      std::vector<int64_t>(scale.getShape().begin(), scale.getShape().end()),
      spec);
  if (zeroPoint) {
    // Zero points are stored at their own width (4-bit ones packed).
    auto zt = cast<RankedTensorType>(zeroPoint.getType());
    r.bytes.zeroPoints = (zt.getNumElements() *
                              int64_t(zt.getElementTypeBitWidth()) + 7) / 8;
  }
  r.elements = 1;
  for (int64_t d : logical)
    r.elements *= d;
  return r;
}

struct StorageReportPass : qopt::impl::StorageReportBase<StorageReportPass> {
  using Base::Base;

  void runOnOperation() override {
    std::vector<Row> rows;
    getOperation().walk([&](Operation *op) {
      if (auto mm = dyn_cast<MatmulOp>(op)) {
        rows.push_back(quantizedRow(op, {mm.getN(), mm.getK()},
                                    mm.getWeightStorageType(),
                                    mm.getScale().getType(),
                                    mm.getZeroPoint()));
        return;
      }
      auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
          !linalg::isaContractionOpInterface(linalgOp))
        return;
      for (OpOperand *operand : linalgOp.getDpsInputOperands()) {
        Operation *source = getWeightSource(operand->get());
        if (auto dq = dyn_cast_or_null<DequantizeOp>(source)) {
          Type storage = dq.getInput().getType().getElementType();
          rows.push_back(quantizedRow(op, dq.getType().getShape(), storage,
                                      dq.getScale().getType(),
                                      dq.getZeroPoint()));
          return;
        }
        if (source) { // a constant
          auto type = dyn_cast<RankedTensorType>(source->getResult(0).getType());
          if (!type || !type.hasStaticShape() ||
              !isa<FloatType>(type.getElementType()))
            continue;
          Row r;
          r.name = getLocationName(op->getLoc());
          r.shape = shapeString(type.getShape());
          r.storage = typeString(type.getElementType());
          r.granularity = "-";
          r.elements = type.getNumElements();
          r.bytes.codes =
              r.elements * int64_t(type.getElementTypeBitWidth()) / 8;
          rows.push_back(r);
          return;
        }
      }
    });

    std::error_code ec;
    std::unique_ptr<llvm::raw_fd_ostream> fileStream;
    if (!file.empty()) {
      fileStream = std::make_unique<llvm::raw_fd_ostream>(file, ec);
      if (ec) {
        emitError(getOperation()->getLoc(), "cannot write '")
            << file << "': " << ec.message();
        return signalPassFailure();
      }
    }
    llvm::raw_ostream &os = fileStream ? *fileStream : llvm::errs();
    print(os, rows);
    markAllAnalysesPreserved();
  }

  static void print(llvm::raw_ostream &os, const std::vector<Row> &rows) {
    size_t nameWidth = 6;
    for (const Row &r : rows)
      nameWidth = std::max(nameWidth, r.name.size());
    auto line = [&](StringRef name, StringRef shape, StringRef storage,
                    StringRef gran, StringRef codes, StringRef scales,
                    StringRef zeros, StringRef bpp) {
      os << llvm::left_justify(name, nameWidth) << "  "
         << llvm::left_justify(shape, 12) << "  "
         << llvm::left_justify(storage, 9) << "  "
         << llvm::left_justify(gran, 12) << "  "
         << llvm::right_justify(codes, 12) << "  "
         << llvm::right_justify(scales, 10) << "  "
         << llvm::right_justify(zeros, 8) << "  "
         << llvm::right_justify(bpp, 11) << "\n";
    };
    line("weight", "shape", "storage", "granularity", "code bytes",
         "scales", "zeros", "bytes/param");
    quantopt::TensorBytes total;
    int64_t elements = 0;
    for (const Row &r : rows) {
      double bpp = r.elements ? double(r.bytes.total()) / double(r.elements)
                              : 0.0;
      line(r.name, r.shape, r.storage, r.granularity,
           std::to_string(r.bytes.codes), std::to_string(r.bytes.scales),
           std::to_string(r.bytes.zeroPoints),
           llvm::formatv("{0:F6}", bpp).str());
      total.codes += r.bytes.codes;
      total.scales += r.bytes.scales;
      total.zeroPoints += r.bytes.zeroPoints;
      elements += r.elements;
    }
    double bpp = elements ? double(total.total()) / double(elements) : 0.0;
    line("total", std::to_string(elements) + " params", "", "",
         std::to_string(total.codes), std::to_string(total.scales),
         std::to_string(total.zeroPoints), llvm::formatv("{0:F6}", bpp).str());
    os << "total bytes: " << total.total() << " ("
       << llvm::formatv("{0:F3}", double(total.total()) / (1 << 20))
       << " MiB); as f32: " << elements * 4 << " ("
       << llvm::formatv("{0:F3}", double(elements * 4) / (1 << 20))
       << " MiB)\n";
  }
};

} // namespace
