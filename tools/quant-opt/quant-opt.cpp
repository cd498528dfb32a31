//===- quant-opt.cpp - The quant-opt driver -------------------------------===//
//
// mlir-opt with the qopt dialect, its passes and pipelines registered next
// to every upstream dialect and pass.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qopt::registerPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::qopt::registerDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "quant-opt: an MLIR compiler for quantized networks\n",
      registry));
}
