//===- QuantOptPlugin.cpp - Load quant-opt into upstream mlir-opt ---------===//
//
//   mlir-opt --load-dialect-plugin=libQuantOptPlugin.so \
//            --load-pass-plugin=libQuantOptPlugin.so file.mlir
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QuantOpt", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            mlir::qopt::registerDialects(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QuantOpt", LLVM_VERSION_STRING,
          []() { mlir::qopt::registerPasses(); }};
}
