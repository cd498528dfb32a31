// Parses qopt IR and runs a quant-opt pass from an installed package.
#include "quant-opt/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

int main() {
  mlir::DialectRegistry registry;
  mlir::qopt::registerDialects(registry);
  registry.insert<mlir::func::FuncDialect>();
  mlir::qopt::registerPasses();
  mlir::MLIRContext context(registry);
  const char *source = R"mlir(
    func.func @f(%x: tensor<4xi4>) -> tensor<2xi8> {
      %p = qopt.pack %x : tensor<4xi4> -> tensor<2xi8>
      return %p : tensor<2xi8>
    }
  )mlir";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline(
          "func.func(convert-qopt-to-linalg)", pm)) ||
      mlir::failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  return 0;
}
