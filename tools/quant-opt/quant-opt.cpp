//===- quant-opt.cpp - The quant-opt driver -------------------------------===//
//
// mlir-opt with the qopt dialect, its passes and pipelines registered next
// to every upstream dialect and pass.
//
// One difference from mlir-opt: an error diagnostic makes the run fail even
// when the pass that emitted it returned success. Several upstream
// conversions report a value they cannot convert and go on (e.g.
// finalize-memref-to-llvm on a memory space it has no mapping for); mlir-opt
// then prints the error, writes the half-converted module and exits 0, which
// a build script or lit's `not` cannot tell from a clean run.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <cstdio>

using namespace mlir;

namespace {
/// Counts the error diagnostics of every context the driver creates (one a
/// chunk with --split-input-file, chunks possibly on several threads).
std::atomic<unsigned> numErrors{0};

/// Runs `config`'s own pipeline setup after registering, on the context the
/// pipeline will run in, a handler that counts errors and passes every
/// diagnostic on unchanged (returning failure hands it to the handler below,
/// the driver's source-manager printer). Diagnostics a pass captures with its
/// own scoped handler never reach it.
MlirOptMainConfig countingErrors(const MlirOptMainConfig &config) {
  MlirOptMainConfig counting = config;
  counting.setPassPipelineSetupFn([config](PassManager &pm) {
    pm.getContext()->getDiagEngine().registerHandler([](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        ++numErrors;
      return failure();
    });
    return config.setupPassPipeline(pm);
  });
  return counting;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAllPasses();
  qopt::registerPasses();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerDialects(registry);

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv, "quant-opt: an MLIR compiler for quantized networks\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  // What mlir-opt does before processing, where the options ask for it.
  if (config.shouldShowDialects()) {
    llvm::outs() << "Available Dialects: ";
    llvm::interleave(registry.getDialectNames(), llvm::outs(), ",");
    llvm::outs() << "\n";
    return EXIT_SUCCESS;
  }
  if (config.shouldListPasses()) {
    printRegisteredPasses();
    return EXIT_SUCCESS;
  }

  // As mlir-opt: a terminal on stdin is more often a mistake than input.
  if (inputFilename == "-" &&
      llvm::sys::Process::FileDescriptorIsDisplayed(fileno(stdin)))
    llvm::errs() << "(processing input from stdin now, hit ctrl-c/ctrl-d to "
                    "interrupt)\n";
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &errorMessage);
  if (!input) {
    llvm::errs() << errorMessage << "\n";
    return EXIT_FAILURE;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return EXIT_FAILURE;
  }

  // With -verify-diagnostics the errors are expected ones: the verifier
  // decides the exit code, as in mlir-opt.
  bool verifying = config.shouldVerifyDiagnostics();
  if (failed(MlirOptMain(output->os(), std::move(input), registry,
                         verifying ? config : countingErrors(config))))
    return EXIT_FAILURE;
  if (!verifying && numErrors > 0) {
    llvm::errs() << "quant-opt: failing the run: " << numErrors.load()
                 << (numErrors == 1 ? " error was" : " errors were")
                 << " reported by a pass that returned success\n";
    return EXIT_FAILURE;
  }
  output->keep();
  return EXIT_SUCCESS;
}
