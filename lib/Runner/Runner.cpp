//===- Runner.cpp - JIT-compile and call a function on host tensors -------===//

#include "quant-opt/Runner/Runner.h"

#include "quant-opt/Runner/Calibration.h"

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/TargetSelect.h"

#include <dlfcn.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;

static llvm::Error makeError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg.str());
}

static std::string typeString(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

size_t mlir::qopt::getHostElementSize(Type t) {
  if (isa<Float8E4M3FNType, Float8E5M2Type>(t))
    return 1;
  if (t.isF16() || t.isBF16())
    return 2;
  if (t.isF32())
    return 4;
  if (t.isF64())
    return 8;
  if (auto it = dyn_cast<IntegerType>(t)) {
    switch (it.getWidth()) {
    case 1:
    case 4:
    case 8:
      return 1;
    case 16:
      return 2;
    case 32:
      return 4;
    case 64:
      return 8;
    default:
      return 0;
    }
  }
  return 0;
}

bool mlir::qopt::needsLowering(ModuleOp module) {
  WalkResult result = module.getBody()->walk([](Operation *op) {
    if (isa<LLVM::LLVMDialect>(op->getDialect()))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return result.wasInterrupted();
}

/// The bytes of a static tensor, or nullopt where the count overflows 63
/// bits (a shape the verifier takes, but no machine can hold).
static std::optional<uint64_t> getTensorBytes(RankedTensorType type) {
  int64_t bytes = getHostElementSize(type.getElementType());
  for (int64_t d : type.getShape())
    if (llvm::MulOverflow(bytes, d, bytes))
      return std::nullopt;
  return uint64_t(bytes);
}

/// This machine's physical memory in bytes (0 if unknown).
static uint64_t getPhysicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) : 0;
}

/// Checks that `type` can cross the runner boundary; `what` names it.
static llvm::Error checkBoundaryType(Type type, const llvm::Twine &what) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return makeError(what + " has type " + typeString(type) +
                     ": only ranked tensors can be passed");
  if (!tensor.hasStaticShape())
    return makeError(what + " has type " + typeString(type) +
                     ": only static shapes can be passed");
  if (getHostElementSize(tensor.getElementType()) == 0)
    return makeError(what + " has unsupported element type " +
                     typeString(tensor.getElementType()));
  if (!getTensorBytes(tensor))
    return makeError(what + " has type " + typeString(type) +
                     ": its size in bytes overflows 63 bits");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<JitRunner>>
JitRunner::create(ModuleOp module, llvm::StringRef entry, unsigned optLevel) {
  MLIRContext *ctx = module.getContext();
  std::unique_ptr<JitRunner> runner(new JitRunner());
  runner->entry = entry.str();

  if (needsLowering(module)) {
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      std::string names;
      for (auto f : module.getOps<func::FuncOp>())
        if (!f.isExternal() && f.isPublic())
          names += (names.empty() ? "" : ", ") + f.getName().str();
      return makeError("no function named '" + entry + "' (functions: " +
                       (names.empty() ? std::string("none") : names) + ")");
    }
    if (func.isPrivate())
      return makeError("function '" + entry + "' is private");
    PassManager pm(ctx);
    CPUPipelineOptions options;
    buildCPUPipeline(pm, options);
    // An error from a pass that returned success (some upstream conversions
    // report and go on) fails the lowering too. The handler only counts:
    // the diagnostics go on to the caller's handlers.
    unsigned errors = 0;
    LogicalResult lowered = failure();
    {
      ScopedDiagnosticHandler counter(ctx, [&](Diagnostic &diag) {
        errors += diag.getSeverity() == DiagnosticSeverity::Error;
        return failure();
      });
      lowered = pm.run(module);
    }
    if (failed(lowered) || errors)
      return makeError("lowering with qopt-cpu-pipeline failed");
  }

  auto llvmFunc = module.lookupSymbol<LLVM::LLVMFuncOp>(entry);
  if (!llvmFunc)
    return makeError("no function named '" + entry + "' in the lowered module");
  auto signature =
      llvmFunc->getAttrOfType<TypeAttr>(kSignatureAttrName);
  if (!signature)
    return makeError("function '" + entry + "' has no '" +
                     kSignatureAttrName +
                     "' attribute: lower it with qopt-cpu-pipeline, or pass "
                     "the file before lowering");
  runner->signature = cast<FunctionType>(signature.getValue());
  // What crosses the boundary first: a scalar argument is the message, not
  // the calling-convention check below that it also fails.
  for (auto [i, t] : llvm::enumerate(runner->signature.getInputs()))
    if (llvm::Error err = checkBoundaryType(t, "argument " + llvm::Twine(i)))
      return std::move(err);
  for (auto [i, t] : llvm::enumerate(runner->signature.getResults()))
    if (llvm::Error err = checkBoundaryType(t, "result " + llvm::Twine(i)))
      return std::move(err);
  // The runner passes one descriptor per argument, then one per result.
  auto wrapper =
      module.lookupSymbol<LLVM::LLVMFuncOp>(("_mlir_ciface_" + entry).str());
  size_t expectedParams =
      runner->signature.getNumInputs() + runner->signature.getNumResults();
  if (!llvmFunc->hasAttr(kOutParamsAttrName) || !wrapper ||
      !isa<LLVM::LLVMVoidType>(wrapper.getFunctionType().getReturnType()) ||
      wrapper.getFunctionType().getNumParams() != expectedParams)
    return makeError("function '" + entry +
                     "' was not lowered with results as out-parameters "
                     "(qopt-cpu-pipeline results-to-out-params=true), the "
                     "calling convention quant-run uses");
  // Every call allocates the results: more than the machine's memory is an
  // error here, not an allocation failure at the first call.
  uint64_t memory = getPhysicalMemory(), resultBytes = 0;
  for (Type t : runner->signature.getResults())
    resultBytes += *getTensorBytes(cast<RankedTensorType>(t));
  if (memory && resultBytes > memory)
    return makeError("the results of '" + entry + "' need " +
                     llvm::Twine(resultBytes) + " bytes, more than this " +
                     "machine's " + llvm::Twine(memory) + " bytes of memory");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);

  // Optimise for the host CPU: without a target machine LLVM's vectorisers
  // have no cost model and leave the loops scalar.
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return tmBuilder.takeError();
  auto targetMachine = tmBuilder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel =
      optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                    : llvm::CodeGenOptLevel::Default;
  if (auto names = module->getAttrOfType<ArrayAttr>("qopt.observers"))
    for (Attribute name : names)
      runner->observerNames.push_back(
          cast<StringAttr>(name).getValue().str());
  auto engine = ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return engine.takeError();
  runner->engine = std::move(*engine);
  // The calibration runtime lowered qopt.observe ops call, and memrefCopy
  // (memref.copy of strided buffers) from mlir_c_runner_utils. That library
  // is opened RTLD_LOCAL and only this symbol handed over: it depends on
  // libMLIR / libLLVM, and loading it RTLD_GLOBAL, as ExecutionEngine's
  // sharedLibPaths does, would promote them into the global scope, where
  // another LLVM in the process (torch-mlir's, in Python) binds to them
  // and aborts on options registered twice.
  static void *memrefCopy = [] {
    void *library = dlopen(QUANT_OPT_C_RUNNER_UTILS, RTLD_NOW | RTLD_LOCAL);
    return library ? dlsym(library, "memrefCopy") : nullptr;
  }();
  runner->engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("_mlir_ciface_qopt_observe_f32")] = {
        llvm::orc::ExecutorAddr::fromPtr(&_mlir_ciface_qopt_observe_f32),
        llvm::JITSymbolFlags::Exported};
    if (memrefCopy)
      symbols[interner("memrefCopy")] = {
          llvm::orc::ExecutorAddr::fromPtr(memrefCopy),
          llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return std::move(runner);
}

/// A memref descriptor {allocated, aligned, offset, sizes[R], strides[R]}
/// for a contiguous buffer, stored as int64 words.
static std::vector<int64_t> makeDescriptor(const void *data,
                                           ArrayRef<int64_t> shape) {
  std::vector<int64_t> desc(3 + 2 * shape.size());
  desc[0] = desc[1] = reinterpret_cast<int64_t>(data);
  desc[2] = 0;
  int64_t stride = 1;
  for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
    desc[3 + i] = shape[i];
    desc[3 + shape.size() + i] = stride;
    stride *= shape[i];
  }
  return desc;
}

llvm::Error JitRunner::invoke(llvm::ArrayRef<const void *> arguments,
                              llvm::ArrayRef<void *> results) {
  if (arguments.size() != signature.getNumInputs() ||
      results.size() != signature.getNumResults())
    return makeError("function '" + entry + "' takes " +
                     llvm::Twine(signature.getNumInputs()) + " argument(s) and " +
                     llvm::Twine(signature.getNumResults()) + " result(s)");
  // _mlir_ciface_<entry>(desc *args..., desc *results...): the packed
  // wrapper takes a pointer to each of those pointer arguments.
  std::vector<std::vector<int64_t>> descriptors;
  for (auto [type, data] : llvm::zip_equal(signature.getInputs(), arguments))
    descriptors.push_back(
        makeDescriptor(data, cast<RankedTensorType>(type).getShape()));
  for (auto [type, data] : llvm::zip_equal(signature.getResults(), results))
    descriptors.push_back(
        makeDescriptor(data, cast<RankedTensorType>(type).getShape()));
  std::vector<void *> descriptorPtrs;
  for (auto &d : descriptors)
    descriptorPtrs.push_back(d.data());
  SmallVector<void *> packedArgs;
  for (void *&p : descriptorPtrs)
    packedArgs.push_back(&p);
  if (llvm::Error err =
          engine->invokePacked("_mlir_ciface_" + entry, packedArgs))
    return err;

  // 4-bit codes occupy a byte each; normalise the unused high bits so that
  // every caller sees the code's value (sign-extended for i4).
  for (auto [type, data] : llvm::zip_equal(signature.getResults(), results)) {
    auto tensorType = cast<RankedTensorType>(type);
    auto it = dyn_cast<IntegerType>(tensorType.getElementType());
    if (!it || it.getWidth() != 4)
      continue;
    auto *bytes = static_cast<uint8_t *>(data);
    for (int64_t i = 0, e = tensorType.getNumElements(); i < e; ++i) {
      int v = bytes[i] & 0x0F;
      bytes[i] = it.isUnsigned() ? uint8_t(v)
                                 : uint8_t(int8_t(v >= 8 ? v - 16 : v));
    }
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<HostTensor>>
JitRunner::run(std::vector<HostTensor> inputs) {
  ArrayRef<Type> argTypes = signature.getInputs();
  if (inputs.size() != argTypes.size())
    return makeError("function '" + entry + "' takes " +
                     llvm::Twine(argTypes.size()) + " argument(s), but " +
                     llvm::Twine(inputs.size()) + " input(s) were given");
  for (auto [i, input] : llvm::enumerate(inputs)) {
    if (input.type != argTypes[i])
      return makeError("argument " + llvm::Twine(i) + " expects " +
                       typeString(argTypes[i]) + ", but the input is " +
                       typeString(input.type));
    uint64_t expected = *getTensorBytes(input.type);
    if (input.bytes.size() != expected)
      return makeError("argument " + llvm::Twine(i) + " holds " +
                       llvm::Twine(input.bytes.size()) + " bytes, expected " +
                       llvm::Twine(expected));
  }

  std::vector<HostTensor> results;
  for (Type t : signature.getResults()) {
    auto type = cast<RankedTensorType>(t);
    results.push_back({type, std::vector<uint8_t>(*getTensorBytes(type))});
  }

  std::vector<const void *> argPtrs;
  std::vector<void *> resultPtrs;
  for (HostTensor &t : inputs)
    argPtrs.push_back(t.bytes.data());
  for (HostTensor &t : results)
    resultPtrs.push_back(t.bytes.data());
  if (llvm::Error err = invoke(argPtrs, resultPtrs))
    return std::move(err);
  return results;
}
