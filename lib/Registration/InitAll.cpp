//===- InitAll.cpp - Register quant-opt's dialect, passes and pipelines ---===//

#include "quant-opt/InitAll.h"

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOpt.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Pipelines/Pipelines.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/DialectRegistry.h"

void mlir::qopt::registerDialects(DialectRegistry &registry) {
  registry.insert<QOptDialect, arith::ArithDialect, linalg::LinalgDialect,
                  math::MathDialect, quant::QuantDialect,
                  tensor::TensorDialect>();
}

void mlir::qopt::registerPasses() {
  registerQOptConversionPasses();
  registerQOptTransformsPasses();
  registerPipelines();
}
