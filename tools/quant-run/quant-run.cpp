//===- quant-run.cpp - JIT-run a function of an MLIR file on .npy inputs --===//
//
//   quant-run FILE.mlir [--entry NAME] [--input A.npy]... [--output-dir DIR]
//
// Lowers the file with qopt-cpu-pipeline (unless it is already in the LLVM
// dialect), JIT-compiles it, calls the entry on the inputs (one .npy per
// argument, in order), prints each result on its own line and optionally
// writes DIR/result<i>.npy.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"
#include "quant-opt/Numerics/Float8.h"
#include "quant-opt/Runner/Calibration.h"
#include "quant-opt/Runner/Runner.h"
#include "quant-opt/Support/Npy.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

#include <array>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace mlir;
using namespace mlir::qopt;
using quantopt::NpyArray;

/// quant-run's own options: --help lists these, not LLVM's hundreds.
static llvm::cl::OptionCategory quantRunCategory("quant-run options");

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<file.mlir>"),
                                            llvm::cl::Required,
                                            llvm::cl::cat(quantRunCategory));
static llvm::cl::opt<std::string>
    entryName("entry", llvm::cl::desc("Function to run (default: main)"),
              llvm::cl::init("main"), llvm::cl::cat(quantRunCategory));
static llvm::cl::list<std::string> inputFiles(
    "input",
    llvm::cl::desc("A .npy file per argument, in order; a comma-separated "
                   "list, or a .npz archive of arrays, runs the function "
                   "once per array (one input set each, for calibration)"),
    llvm::cl::value_desc("file.npy[,file.npy...]|batches.npz"),
    llvm::cl::cat(quantRunCategory));
static llvm::cl::opt<std::string> calibrationIn(
    "calibration-in",
    llvm::cl::desc("Start from the statistics in this calibration file "
                   "(to merge runs)"),
    llvm::cl::value_desc("FILE.json"), llvm::cl::cat(quantRunCategory));
static llvm::cl::opt<std::string> calibrationOut(
    "calibration-out",
    llvm::cl::desc("Write the statistics of the module's qopt.observe ops "
                   "over all input sets to this calibration file"),
    llvm::cl::value_desc("FILE.json"), llvm::cl::cat(quantRunCategory));
static llvm::cl::opt<std::string>
    outputDir("output-dir",
              llvm::cl::desc("Write each result to DIR/result<i>.npy"),
              llvm::cl::value_desc("DIR"), llvm::cl::cat(quantRunCategory));
static llvm::cl::opt<unsigned>
    optLevel("O", llvm::cl::desc("LLVM optimisation level (0-3, default 3)"),
             llvm::cl::Prefix, llvm::cl::init(3),
             llvm::cl::cat(quantRunCategory));

namespace {

/// How a tensor element type is stored in a .npy file.
struct NpyMapping {
  const char *dtype; ///< dtype string in the file
  const char *note;  ///< how values are represented, for messages
};

std::optional<NpyMapping> getNpyMapping(Type t) {
  if (t.isF32() || t.isBF16())
    return NpyMapping{"<f4", t.isBF16() ? "bf16 as float32" : "float32"};
  if (t.isF16())
    return NpyMapping{"<f2", "float16"};
  if (t.isF64())
    return NpyMapping{"<f8", "float64"};
  if (isa<Float8E4M3FNType, Float8E5M2Type>(t))
    return NpyMapping{"|u1", "FP8 as raw uint8 codes"};
  auto it = dyn_cast<IntegerType>(t);
  if (!it)
    return std::nullopt;
  bool isUnsigned = it.isUnsigned();
  switch (it.getWidth()) {
  case 1:
    return NpyMapping{"|b1", "bool"};
  case 4:
    return isUnsigned ? NpyMapping{"|u1", "ui4 as uint8, one code per byte"}
                      : NpyMapping{"|i1", "i4 as int8, one code per byte"};
  case 8:
    return isUnsigned ? NpyMapping{"|u1", "uint8"} : NpyMapping{"|i1", "int8"};
  case 16:
    return isUnsigned ? NpyMapping{"<u2", "uint16"} : NpyMapping{"<i2", "int16"};
  case 32:
    return isUnsigned ? NpyMapping{"<u4", "uint32"} : NpyMapping{"<i4", "int32"};
  case 64:
    return isUnsigned ? NpyMapping{"<u8", "uint64"} : NpyMapping{"<i8", "int64"};
  default:
    return std::nullopt;
  }
}

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

llvm::Error argError(size_t index, StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      ("argument " + llvm::Twine(index) + " (" + path + "): " + msg).str());
}

uint16_t floatToBF16(float f) {
  llvm::APFloat v(f);
  bool lost;
  v.convert(llvm::APFloat::BFloat(), llvm::APFloat::rmNearestTiesToEven, &lost);
  return uint16_t(v.bitcastToAPInt().getZExtValue());
}

float bf16ToFloat(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, 4);
  return f;
}

/// Converts a .npy array into the argument's host layout, checking dtype,
/// shape and the value range of 4-bit codes.
llvm::Expected<HostTensor> toHostTensor(const NpyArray &array,
                                        RankedTensorType type, size_t index,
                                        StringRef path) {
  Type element = type.getElementType();
  std::optional<NpyMapping> mapping = getNpyMapping(element);
  if (!mapping)
    return argError(index, path,
                    "element type " + str(element) + " cannot be read");
  if (array.dtype != mapping->dtype)
    return argError(index, path,
                    "dtype mismatch: the argument is " + str(type) +
                        ", which needs dtype '" + mapping->dtype + "' (" +
                        mapping->note + "), but the file has '" + array.dtype +
                        "'");
  if (ArrayRef<int64_t>(array.shape) != type.getShape()) {
    NpyArray expected;
    expected.shape.assign(type.getShape().begin(), type.getShape().end());
    return argError(index, path,
                    "shape mismatch: the argument is " + str(type) +
                        ", which needs shape " + expected.shapeString() +
                        ", but the file has shape " + array.shapeString());
  }
  HostTensor tensor{type, {}};
  if (element.isBF16()) {
    tensor.bytes.resize(array.numElements() * 2);
    for (int64_t i = 0; i < array.numElements(); ++i) {
      float f;
      std::memcpy(&f, &array.data[i * 4], 4);
      uint16_t b = floatToBF16(f);
      std::memcpy(&tensor.bytes[i * 2], &b, 2);
    }
    return tensor;
  }
  if (auto it = dyn_cast<IntegerType>(element); it && it.getWidth() == 4) {
    int lo = it.isUnsigned() ? 0 : -8, hi = it.isUnsigned() ? 15 : 7;
    for (int64_t i = 0; i < array.numElements(); ++i) {
      int v = it.isUnsigned() ? int(array.data[i]) : int(int8_t(array.data[i]));
      if (v < lo || v > hi)
        return argError(index, path,
                        "element " + llvm::Twine(i) + " is " + llvm::Twine(v) +
                            ", outside the " + str(element) + " range [" +
                            llvm::Twine(lo) + ", " + llvm::Twine(hi) + "]");
    }
  }
  tensor.bytes = array.data;
  return tensor;
}

/// The .npy form of a result.
NpyArray toNpy(const HostTensor &tensor) {
  Type element = tensor.type.getElementType();
  NpyArray array;
  array.dtype = getNpyMapping(element)->dtype;
  array.shape.assign(tensor.type.getShape().begin(),
                     tensor.type.getShape().end());
  if (!element.isBF16()) {
    array.data = tensor.bytes;
    return array;
  }
  size_t n = tensor.bytes.size() / 2;
  array.data.resize(n * 4);
  for (size_t i = 0; i < n; ++i) {
    uint16_t b;
    std::memcpy(&b, &tensor.bytes[i * 2], 2);
    float f = bf16ToFloat(b);
    std::memcpy(&array.data[i * 4], &f, 4);
  }
  return array;
}

/// Prints element `i` of `tensor`: integers as integers, floats (FP8
/// decoded) in the shortest form that reads back to the same value.
void printElement(llvm::raw_ostream &os, const HostTensor &tensor, int64_t i) {
  Type t = tensor.type.getElementType();
  const uint8_t *p = &tensor.bytes[i * getHostElementSize(t)];
  auto printFloat = [&](float f) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), f);
    os << StringRef(buf, res.ptr - buf);
  };
  if (t.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return printFloat(f);
  }
  if (t.isF64()) {
    double d;
    std::memcpy(&d, p, 8);
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d);
    os << StringRef(buf, res.ptr - buf);
    return;
  }
  if (t.isF16() || t.isBF16()) {
    // The shortest decimal that reads back to the same 16-bit value.
    uint16_t b;
    std::memcpy(&b, p, 2);
    llvm::APFloat v(t.isF16() ? llvm::APFloat::IEEEhalf()
                              : llvm::APFloat::BFloat(),
                    llvm::APInt(16, b));
    llvm::SmallString<32> text;
    v.toString(text, /*FormatPrecision=*/0, /*FormatMaxPadding=*/6);
    os << text;
    return;
  }
  if (isa<Float8E4M3FNType>(t))
    return printFloat(quantopt::decodeFP8(*p, quantopt::FP8Format::E4M3FN));
  if (isa<Float8E5M2Type>(t))
    return printFloat(quantopt::decodeFP8(*p, quantopt::FP8Format::E5M2));
  auto it = cast<IntegerType>(t);
  bool isUnsigned = it.isUnsigned();
  switch (getHostElementSize(t)) {
  case 1:
    if (it.getWidth() == 1)
      os << (*p ? "true" : "false");
    else
      os << (isUnsigned ? int64_t(*p) : int64_t(int8_t(*p)));
    return;
  case 2: {
    uint16_t v;
    std::memcpy(&v, p, 2);
    os << (isUnsigned ? int64_t(v) : int64_t(int16_t(v)));
    return;
  }
  case 4: {
    uint32_t v;
    std::memcpy(&v, p, 4);
    os << (isUnsigned ? int64_t(v) : int64_t(int32_t(v)));
    return;
  }
  default: {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if (isUnsigned)
      os << v;
    else
      os << int64_t(v);
  }
  }
}

/// Prints a tensor as nested brackets on one line, eliding the middle of
/// long dimensions the way NumPy does (3 items each side past 1000 elements).
void printTensor(llvm::raw_ostream &os, const HostTensor &tensor) {
  ArrayRef<int64_t> shape = tensor.type.getShape();
  bool summarize = tensor.type.getNumElements() > 1000;
  constexpr int64_t edge = 3;
  std::function<void(size_t, int64_t)> rec = [&](size_t dim, int64_t offset) {
    if (dim == shape.size())
      return printElement(os, tensor, offset);
    int64_t stride = 1;
    for (size_t d = dim + 1; d < shape.size(); ++d)
      stride *= shape[d];
    os << '[';
    for (int64_t i = 0; i < shape[dim]; ++i) {
      if (summarize && shape[dim] > 2 * edge && i == edge) {
        os << "..., ";
        i = shape[dim] - edge - 1;
        continue;
      }
      if (i > 0 && !(summarize && shape[dim] > 2 * edge &&
                     i == shape[dim] - edge))
        os << ", ";
      rec(dim + 1, offset + i * stride);
    }
    os << ']';
  };
  rec(0, 0);
}

int fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "quant-run") << msg << "\n";
  return 1;
}

/// While alive, a crash of the JIT'd code (SIGSEGV, SIGBUS, SIGFPE,
/// SIGILL) prints one line naming the function and exits. LLVM's own
/// handlers print a symbolized stack trace, which allocates: a stack
/// overflow inside malloc (unbounded recursion) then deadlocks on malloc's
/// lock instead of exiting. The handler runs on its own stack and only
/// calls write and _exit.
class CrashGuard {
public:
  explicit CrashGuard(StringRef entry) {
    // What the handler writes, prepared here: it may only call write.
    for (auto [i, sig] : llvm::enumerate(kSignals))
      std::snprintf(messages[i], sizeof(messages[i]),
                    "quant-run: error: '%.*s' crashed while running: %s "
                    "(signal %d)\n",
                    int(std::min<size_t>(entry.size(), 256)), entry.data(),
                    kCauses[i], sig);
    // Results printed for earlier input sets must not be lost in a buffer.
    llvm::outs().flush();
    std::fflush(stdout);
    stack.ss_sp = alternateStack.data();
    stack.ss_size = alternateStack.size();
    stack.ss_flags = 0;
    sigaltstack(&stack, &previousStack);
    struct sigaction action = {};
    action.sa_handler = &CrashGuard::handle;
    action.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    for (auto [i, sig] : llvm::enumerate(kSignals))
      sigaction(sig, &action, &previous[i]);
  }
  ~CrashGuard() {
    for (auto [i, sig] : llvm::enumerate(kSignals))
      sigaction(sig, &previous[i], nullptr);
    sigaltstack(&previousStack, nullptr);
  }
  CrashGuard(const CrashGuard &) = delete;
  CrashGuard &operator=(const CrashGuard &) = delete;

private:
  static constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  static constexpr const char *kCauses[] = {
      "a stack overflow (e.g. unbounded recursion) or an invalid memory "
      "access",
      "a memory access the hardware cannot make (misaligned, or past a "
      "mapped file's end)",
      "an arithmetic exception (e.g. an integer division by zero)",
      "an illegal instruction (e.g. code for another CPU)"};

  static void handle(int sig) {
    for (size_t i = 0; i < std::size(kSignals); ++i)
      if (kSignals[i] == sig)
        (void)!write(STDERR_FILENO, messages[i], std::strlen(messages[i]));
    _exit(128 + sig);
  }

  static inline char messages[std::size(kSignals)][512];
  std::array<char, 1 << 16> alternateStack;
  stack_t stack = {}, previousStack = {};
  struct sigaction previous[std::size(kSignals)] = {};
};

int fail(llvm::Error err) {
  int rc = 1;
  llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase &e) {
    rc = fail(e.message());
  });
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::HideUnrelatedOptions(quantRunCategory);
  llvm::cl::ParseCommandLineOptions(
      argc, argv,
      "quant-run: JIT-compile and run a function of an MLIR file on the CPU\n");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerDialects(registry);
  MLIRContext context(registry);

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file)
    return fail(errorMessage);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1; // The parser already reported the error with its location.
  if (failed(verify(*module)))
    return 1;

  if (optLevel > 3)
    return fail("-O" + llvm::Twine(optLevel) +
                ": the optimisation level is 0, 1, 2 or 3");
  auto runner = JitRunner::create(*module, entryName, optLevel);
  if (!runner)
    return fail(runner.takeError());
  FunctionType signature = (*runner)->getSignature();

  if (inputFiles.size() != signature.getNumInputs())
    return fail("'" + entryName + "' takes " +
                llvm::Twine(signature.getNumInputs()) + " argument(s) " +
                str(signature) + ", but " + llvm::Twine(inputFiles.size()) +
                " --input file(s) were given");
  // One list of arrays per argument (files, or the arrays of a .npz); a
  // single array serves every set.
  std::vector<std::vector<std::pair<std::string, NpyArray>>> arrays(
      inputFiles.size());
  std::vector<SmallVector<StringRef>> lists(inputFiles.size());
  size_t sets = 1;
  for (auto [i, spec] : llvm::enumerate(inputFiles)) {
    StringRef(spec).split(lists[i], ',', -1, /*KeepEmpty=*/false);
    if (lists[i].empty())
      return fail("argument " + llvm::Twine(i) + ": empty --input");
    for (StringRef file : lists[i]) {
      if (file.ends_with(".npz")) {
        auto batch = quantopt::readNpz(file);
        if (!batch)
          return fail(argError(i, file, llvm::toString(batch.takeError())));
        for (auto &[key, array] : *batch)
          arrays[i].push_back({(file + ":" + key).str(), std::move(array)});
        continue;
      }
      auto array = quantopt::readNpy(file);
      if (!array)
        return fail(argError(i, file, llvm::toString(array.takeError())));
      arrays[i].push_back({file.str(), std::move(*array)});
    }
    if (arrays[i].empty())
      return fail("argument " + llvm::Twine(i) + ": no arrays in --input");
    lists[i].assign(arrays[i].size(), StringRef());
    if (lists[i].size() > 1) {
      if (sets > 1 && lists[i].size() != sets)
        return fail("argument " + llvm::Twine(i) + " has " +
                    llvm::Twine(lists[i].size()) + " input files, but " +
                    "another argument has " + llvm::Twine(sets));
      sets = lists[i].size();
    }
  }
  if (!calibrationOut.empty() && (*runner)->getObserverNames().empty())
    return fail("--calibration-out: the module has no qopt.observe ops "
                "(instrument it with --qopt-insert-observers first)");

  if (!calibrationIn.empty()) {
    if (calibrationOut.empty())
      return fail("--calibration-in needs --calibration-out");
    if (llvm::Error err = CalibrationState::global().read(
            calibrationIn, (*runner)->getObserverNames()))
      return fail(std::move(err));
  }

  for (size_t set = 0; set < sets; ++set) {
    std::vector<HostTensor> inputs;
    for (auto [i, list] : llvm::enumerate(arrays)) {
      auto &[path, array] = list.size() == 1 ? list[0] : list[set];
      auto tensor = toHostTensor(
          array, cast<RankedTensorType>(signature.getInput(i)), i, path);
      if (!tensor)
        return fail(tensor.takeError());
      inputs.push_back(std::move(*tensor));
    }
    auto results = [&] {
      CrashGuard guard(entryName);
      return (*runner)->run(std::move(inputs));
    }();
    if (!results)
      return fail(results.takeError());

    llvm::SmallString<256> dir(outputDir);
    if (sets > 1 && !outputDir.empty())
      llvm::sys::path::append(dir, "set" + std::to_string(set));
    if (!dir.empty())
      if (std::error_code ec = llvm::sys::fs::create_directories(dir))
        return fail("cannot create '" + dir + "': " + ec.message());
    for (auto [i, result] : llvm::enumerate(*results)) {
      if (sets > 1)
        llvm::outs() << "set" << set << ".";
      llvm::outs() << "result" << i << ": " << result.type << " = ";
      printTensor(llvm::outs(), result);
      llvm::outs() << "\n";
      if (dir.empty())
        continue;
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, "result" + std::to_string(i) + ".npy");
      if (llvm::Error err = quantopt::writeNpy(path, toNpy(result)))
        return fail(std::move(err));
    }
  }
  if (!calibrationOut.empty())
    if (llvm::Error err = CalibrationState::global().write(
            calibrationOut, (*runner)->getObserverNames()))
      return fail(std::move(err));
  return 0;
}
