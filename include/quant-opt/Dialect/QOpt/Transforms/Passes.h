//===- Passes.h - qopt transformation passes ----------------------*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

namespace mlir::qopt {

/// Name of the attribute that qopt-record-signatures attaches to functions.
constexpr llvm::StringLiteral kSignatureAttrName = "qopt.signature";
/// Unit attribute: results are returned through caller-allocated buffers.
constexpr llvm::StringLiteral kOutParamsAttrName = "qopt.out_params";

#define GEN_PASS_DECL
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
