//===- QuantOptModule.cpp - quant_opt._core: the native Python extension --===//
//
// Binds the C++ libraries in-process: parse MLIR text, run pass pipelines
// with their diagnostics surfaced as Python exceptions, and JIT-run a
// function on NumPy arrays through the same JitRunner quant-run uses, so the
// Python API and the command-line tools give identical results.
//
// The Python layer (quant_opt/ir.py) adds dtype conversions for FP8 and
// bf16 (ml_dtypes) and turns DiagnosticError into quant_opt.QuantOptError.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"
#include "quant-opt/Runner/Calibration.h"
#include "quant-opt/Runner/Runner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <mutex>

namespace nb = nanobind;
using namespace nb::literals;
using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// One diagnostic as Python sees it.
struct PyDiagnostic {
  std::string severity;
  std::string location;
  std::string message;
};

/// Thrown by the bindings; translated into quant_opt._core.DiagnosticError,
/// whose args are (summary, [(severity, location, message), ...]).
struct DiagnosticError {
  std::string summary;
  std::vector<PyDiagnostic> diagnostics;
};

/// A readable location: `name (file:line:col)` for named locations (the
/// importer names every op after its PyTorch module), the innermost frame of
/// a call stack, `file:line:col` otherwise.
std::string formatLocation(Location loc) {
  if (auto named = dyn_cast<NameLoc>(loc)) {
    std::string child = formatLocation(named.getChildLoc());
    std::string name = named.getName().str();
    return child.empty() ? name : name + " (" + child + ")";
  }
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return formatLocation(callSite.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location inner : fused.getLocations())
      if (std::string s = formatLocation(inner); !s.empty())
        return s;
    return "";
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  if (isa<UnknownLoc>(loc))
    return "";
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}

const char *severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

/// Collects every diagnostic emitted while it is alive (notes become
/// entries of their own, right after their parent).
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(MLIRContext *context)
      : handler(context, [this](mlir::Diagnostic &diag) {
          add(diag);
          return success();
        }) {}

  /// Raises DiagnosticError: `what` followed by the errors collected.
  [[noreturn]] void raise(const std::string &what) {
    std::string summary = what;
    for (const PyDiagnostic &d : diagnostics) {
      if (d.severity != "error")
        continue;
      summary += "\n" + (d.location.empty() ? "" : d.location + ": ") +
                 d.message;
    }
    throw DiagnosticError{summary, std::move(diagnostics)};
  }

  /// Warnings and remarks of a successful run.
  const std::vector<PyDiagnostic> &get() const { return diagnostics; }

  /// Whether an error was reported (possibly by a pass that went on and
  /// returned success, as some upstream conversions do).
  bool hasErrors() const {
    return llvm::any_of(diagnostics, [](const PyDiagnostic &d) {
      return d.severity == "error";
    });
  }

private:
  void add(mlir::Diagnostic &diag) {
    diagnostics.push_back({severityName(diag.getSeverity()),
                           formatLocation(diag.getLocation()), diag.str()});
    for (mlir::Diagnostic &note : diag.getNotes())
      add(note);
  }

  std::vector<PyDiagnostic> diagnostics;
  ScopedDiagnosticHandler handler;
};

//===----------------------------------------------------------------------===//
// Modules
//===----------------------------------------------------------------------===//

/// The passes inside `builtin.module(...)` when that one anchor spans the
/// whole pipeline (not `builtin.module(a),canonicalize`).
std::optional<StringRef> getModuleAnchoredPasses(StringRef pipeline) {
  StringRef prefix = "builtin.module(";
  if (!pipeline.starts_with(prefix))
    return std::nullopt;
  int depth = 1;
  for (size_t i = prefix.size(); i < pipeline.size(); ++i) {
    if (pipeline[i] == '(' || pipeline[i] == '{')
      ++depth;
    else if (pipeline[i] == ')' || pipeline[i] == '}')
      --depth;
    if (depth == 0)
      return i + 1 == pipeline.size()
                 ? std::optional<StringRef>(
                       pipeline.slice(prefix.size(), i).trim())
                 : std::nullopt;
  }
  return std::nullopt;
}

/// The context of a parsed module, shared by its clones and the
/// executables made from them. MLIR keeps one diagnostic handler stack a
/// context, so two threads collecting diagnostics on it at once (run_passes
/// on two clones) would each collect the other's: whatever collects
/// diagnostics holds `lock()` for the duration.
class SharedContext {
public:
  static std::shared_ptr<SharedContext> create() {
    static std::once_flag registered;
    std::call_once(registered, [] {
      registerAllPasses();
      qopt::registerPasses();
    });
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    qopt::registerDialects(registry);
    auto shared = std::make_shared<SharedContext>(registry);
    shared->context.loadAllAvailableDialects();
    return shared;
  }

  explicit SharedContext(const DialectRegistry &registry) : context(registry) {}

  MLIRContext *get() { return &context; }

  /// Waits for the context with the GIL released: the holder may need the
  /// GIL to finish, and a waiter that kept it would deadlock with it.
  [[nodiscard]] std::unique_lock<std::mutex> lock() {
    nb::gil_scoped_release release;
    return std::unique_lock<std::mutex>(mutex);
  }

private:
  MLIRContext context;
  std::mutex mutex;
};

/// A parsed module and the context that owns it.
class PyModule {
public:
  PyModule(std::shared_ptr<SharedContext> context, OwningOpRef<ModuleOp> module)
      : context(std::move(context)), module(std::move(module)) {}

  static std::unique_ptr<PyModule> parse(const std::string &text,
                                         const std::string &sourceName) {
    return fromBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, sourceName),
                      "parse '" + sourceName + "'");
  }

  static std::unique_ptr<PyModule> load(const std::string &path) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
        llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
    if (!file)
      throw DiagnosticError{
          "cannot load '" + path + "': " + file.getError().message(), {}};
    return fromBuffer(std::move(*file), "load '" + path + "'");
  }

  /// Parses and verifies `buffer`; `what` names the step in errors.
  static std::unique_ptr<PyModule>
  fromBuffer(std::unique_ptr<llvm::MemoryBuffer> buffer,
             const std::string &what) {
    auto context = SharedContext::create(); // new: no other user to wait for
    DiagnosticCollector diags(context->get());
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    OwningOpRef<ModuleOp> module;
    {
      nb::gil_scoped_release release;
      module = parseSourceFile<ModuleOp>(sourceMgr, context->get());
    }
    if (!module)
      diags.raise("cannot " + what);
    if (failed(verify(*module)))
      diags.raise(what + ": the module does not verify");
    return std::make_unique<PyModule>(std::move(context), std::move(module));
  }

  /// Runs a textual pass pipeline on the module in place. A bare list of
  /// passes (`qopt-weight-ptq{scheme=int4},canonicalize`) is anchored on the
  /// module. Returns the warnings and remarks the passes emitted; an error
  /// raises, also one from a pass that returned success.
  std::vector<PyDiagnostic> runPasses(const std::string &pipeline) {
    std::unique_lock<std::mutex> lock = context->lock();
    DiagnosticCollector diags(context->get());
    PassManager pm(context->get(), ModuleOp::getOperationName());
    // The passes of `builtin.module(...)`, or the bare list, go straight
    // into the module's pass manager.
    StringRef passes = StringRef(pipeline).trim();
    if (std::optional<StringRef> inner = getModuleAnchoredPasses(passes))
      passes = *inner;
    else if (passes.starts_with("builtin.module("))
      throw DiagnosticError{"invalid pass pipeline '" + pipeline +
                                "': builtin.module(...) must span the whole "
                                "pipeline (it is the anchor)",
                            {}};
    std::string parseError;
    llvm::raw_string_ostream errorStream(parseError);
    if (failed(parsePassPipeline(passes, pm, errorStream)))
      throw DiagnosticError{"invalid pass pipeline '" + pipeline +
                                "': " + StringRef(parseError).trim().str(),
                            {}};
    LogicalResult result = failure();
    {
      nb::gil_scoped_release release;
      result = pm.run(*module);
    }
    if (failed(result))
      diags.raise("pass pipeline '" + pipeline + "' failed");
    if (diags.hasErrors())
      diags.raise("pass pipeline '" + pipeline +
                  "' reported errors (a pass returned success after them)");
    return diags.get();
  }

  std::unique_ptr<PyModule> clone() const {
    return std::make_unique<PyModule>(context,
                                      OwningOpRef<ModuleOp>(module.get().clone()));
  }

  std::string print(bool debugInfo, int64_t largeElementsLimit) const {
    OpPrintingFlags flags;
    if (debugInfo)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    if (largeElementsLimit >= 0)
      flags.elideLargeElementsAttrs(largeElementsLimit);
    std::string text;
    llvm::raw_string_ostream os(text);
    module.get()->print(os, flags);
    return text;
  }

  void save(const std::string &path, bool debugInfo) const {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      throw DiagnosticError{"cannot write '" + path + "': " + ec.message(), {}};
    OpPrintingFlags flags;
    if (debugInfo)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    module.get()->print(os, flags);
  }

  /// The printed attribute `name` of function `function` ("" if absent).
  std::string getFunctionAttribute(const std::string &function,
                                   const std::string &name) const {
    auto func = module.get().lookupSymbol<func::FuncOp>(function);
    if (!func)
      throw nb::key_error(("no function '" + function + "'").c_str());
    Attribute attr = func->getAttr(name);
    if (!attr)
      return "";
    std::string s;
    llvm::raw_string_ostream os(s);
    attr.print(os);
    return s;
  }

  /// Names of the public functions, in order.
  std::vector<std::string> functions() const {
    std::vector<std::string> names;
    for (auto func : module.get().getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        names.push_back(func.getSymName().str());
    return names;
  }

  std::shared_ptr<SharedContext> context;
  OwningOpRef<ModuleOp> module;
};

//===----------------------------------------------------------------------===//
// Executables
//===----------------------------------------------------------------------===//

/// An input array: read-only ones too (the function only reads its inputs).
using AnyArray = nb::ndarray<nb::ro, nb::numpy, nb::c_contig, nb::device::cpu>;

/// The NumPy dtype that carries an element type in a HostTensor. FP8 travels
/// as its uint8 codes and bf16 as uint16 bits (ml_dtypes views on the Python
/// side); 4-bit integers as one byte per element.
nb::dlpack::dtype getHostDType(Type type) {
  using nb::dlpack::dtype_code;
  auto make = [](dtype_code code, unsigned bits) {
    return nb::dlpack::dtype{static_cast<uint8_t>(code),
                             static_cast<uint8_t>(bits), 1};
  };
  if (type.isF32())
    return make(dtype_code::Float, 32);
  if (type.isF64())
    return make(dtype_code::Float, 64);
  if (type.isF16())
    return make(dtype_code::Float, 16);
  if (type.isBF16())
    return make(dtype_code::UInt, 16);
  if (isa<FloatType>(type) && type.getIntOrFloatBitWidth() == 8)
    return make(dtype_code::UInt, 8);
  if (auto intType = dyn_cast<IntegerType>(type)) {
    unsigned width = intType.getWidth();
    if (width == 1)
      return make(dtype_code::Bool, 8);
    dtype_code code = intType.isUnsigned() ? dtype_code::UInt : dtype_code::Int;
    return make(code, width <= 8 ? 8 : width);
  }
  return make(dtype_code::Complex, 0); // unsupported; never matches
}

std::string describe(nb::dlpack::dtype dt) {
  const char *kind = "?";
  switch (static_cast<nb::dlpack::dtype_code>(dt.code)) {
  case nb::dlpack::dtype_code::Int:
    kind = "int";
    break;
  case nb::dlpack::dtype_code::UInt:
    kind = "uint";
    break;
  case nb::dlpack::dtype_code::Float:
    kind = "float";
    break;
  case nb::dlpack::dtype_code::Bool:
    return "bool";
  default:
    break;
  }
  return std::string(kind) + std::to_string(dt.bits);
}

std::string str(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// A function of a module, lowered and JIT-compiled once, callable on
/// NumPy arrays.
class PyExecutable {
public:
  PyExecutable(const PyModule &source, const std::string &entry,
               unsigned optLevel)
      : context(source.context),
        module(OwningOpRef<ModuleOp>(source.module.get().clone())) {
    std::unique_lock<std::mutex> lock = context->lock();
    DiagnosticCollector diags(context->get());
    llvm::Expected<std::unique_ptr<qopt::JitRunner>> created =
        llvm::createStringError("not compiled");
    {
      nb::gil_scoped_release release;
      created = qopt::JitRunner::create(*module, entry, optLevel);
    }
    if (!created)
      diags.raise("cannot compile '" + entry +
                  "': " + llvm::toString(created.takeError()));
    runner = std::move(*created);
  }

  nb::list call(nb::args args) {
    FunctionType signature = runner->getSignature();
    if (args.size() != signature.getNumInputs())
      throw nb::type_error(("expected " +
                            std::to_string(signature.getNumInputs()) +
                            " array(s) for " + str(signature) + ", got " +
                            std::to_string(args.size()))
                               .c_str());
    std::vector<AnyArray> inputs;
    std::vector<const void *> argumentPointers;
    for (auto [i, arg] : llvm::enumerate(args)) {
      auto type = cast<RankedTensorType>(signature.getInput(i));
      AnyArray array;
      if (!nb::try_cast(arg, array))
        throw nb::type_error(("argument " + std::to_string(i) +
                              ": expected a C-contiguous NumPy array for " +
                              str(type))
                                 .c_str());
      nb::dlpack::dtype expected = getHostDType(type.getElementType());
      bool shapeMatches = array.ndim() == size_t(type.getRank());
      for (size_t d = 0; shapeMatches && d < array.ndim(); ++d)
        shapeMatches = int64_t(array.shape(d)) == type.getDimSize(d);
      if (array.dtype() != expected || !shapeMatches) {
        std::string shape = "(";
        for (size_t d = 0; d < array.ndim(); ++d)
          shape += (d ? ", " : "") + std::to_string(array.shape(d));
        shape += array.ndim() == 1 ? ",)" : ")";
        throw nb::type_error(("argument " + std::to_string(i) + ": expected " +
                              str(type) + " (NumPy " + describe(expected) +
                              "), got " + describe(array.dtype()) + " array " +
                              "of shape " + shape)
                                 .c_str());
      }
      argumentPointers.push_back(array.data());
      inputs.push_back(std::move(array));
    }

    // Each result buffer is owned here until a NumPy array owns it, so no
    // exception on the way (allocation, the call, the conversion) leaks.
    struct Buffer {
      std::unique_ptr<void, void (*)(void *)> data{nullptr, std::free};
      std::vector<size_t> shape;
      nb::dlpack::dtype dtype;
    };
    std::vector<Buffer> buffers;
    std::vector<void *> resultPointers;
    for (Type t : signature.getResults()) {
      auto type = cast<RankedTensorType>(t);
      size_t elementSize = qopt::getHostElementSize(type.getElementType());
      size_t bytes = std::max<size_t>(elementSize * type.getNumElements(), 1);
      Buffer &b = buffers.emplace_back();
      b.data.reset(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
      if (!b.data)
        throw std::bad_alloc();
      b.shape.assign(type.getShape().begin(), type.getShape().end());
      b.dtype = getHostDType(type.getElementType());
      resultPointers.push_back(b.data.get());
    }

    llvm::Error err = llvm::Error::success();
    {
      nb::gil_scoped_release release;
      err = runner->invoke(argumentPointers, resultPointers);
    }
    if (err)
      throw DiagnosticError{llvm::toString(std::move(err)), {}};

    nb::list results;
    for (Buffer &b : buffers) {
      nb::capsule owner(b.data.get(), [](void *p) noexcept { std::free(p); });
      b.data.release(); // the capsule owns it now
      results.append(nb::ndarray<nb::numpy>(owner.data(), b.shape.size(),
                                            b.shape.data(), owner, nullptr,
                                            b.dtype)
                         .cast());
    }
    return results;
  }

  std::vector<std::tuple<std::vector<int64_t>, std::string>>
  types(bool results) const {
    FunctionType signature = runner->getSignature();
    std::vector<std::tuple<std::vector<int64_t>, std::string>> out;
    for (Type t : results ? signature.getResults() : signature.getInputs()) {
      auto type = cast<RankedTensorType>(t);
      out.emplace_back(std::vector<int64_t>(type.getShape()),
                       str(type.getElementType()));
    }
    return out;
  }

  std::vector<std::string> observerNames() const {
    return std::vector<std::string>(runner->getObserverNames().begin(),
                                    runner->getObserverNames().end());
  }

private:
  std::shared_ptr<SharedContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<qopt::JitRunner> runner;
};

void check(llvm::Error err) {
  if (err)
    throw DiagnosticError{llvm::toString(std::move(err)), {}};
}

} // namespace

NB_MODULE(_core, m) {
  m.doc() = "quant-opt's native core: MLIR modules, pass pipelines and the "
            "CPU JIT (use the quant_opt package, not this module directly)";

  static nb::object diagnosticErrorType = nb::borrow(
      nb::handle(PyErr_NewException("quant_opt._core.DiagnosticError",
                                    PyExc_RuntimeError, nullptr)));
  m.attr("DiagnosticError") = diagnosticErrorType;
  nb::register_exception_translator([](const std::exception_ptr &p, void *) {
    try {
      std::rethrow_exception(p);
    } catch (const DiagnosticError &e) {
      nb::list diags;
      for (const PyDiagnostic &d : e.diagnostics)
        diags.append(nb::make_tuple(d.severity, d.location, d.message));
      nb::object value = diagnosticErrorType(e.summary, diags);
      PyErr_SetObject(diagnosticErrorType.ptr(), value.ptr());
    }
  });

  nb::class_<PyModule>(m, "Module")
      .def_static("parse", &PyModule::parse, "text"_a,
                  "source_name"_a = "<string>",
                  "Parses and verifies MLIR text.")
      .def_static("load", &PyModule::load, "path"_a,
                  "Parses and verifies an MLIR file.")
      .def(
          "run_passes",
          [](PyModule &self, const std::string &pipeline) {
            std::vector<std::tuple<std::string, std::string, std::string>> out;
            for (const PyDiagnostic &d : self.runPasses(pipeline))
              out.emplace_back(d.severity, d.location, d.message);
            return out;
          },
          "pipeline"_a,
          "Runs a pass pipeline in place; returns the warnings and remarks.")
      .def("clone", &PyModule::clone)
      .def("to_string", &PyModule::print, "debug_info"_a = false,
           "large_elements_limit"_a = -1)
      .def("save", &PyModule::save, "path"_a, "debug_info"_a = true)
      .def("function_attribute", &PyModule::getFunctionAttribute,
           "function"_a, "name"_a)
      .def_prop_ro("functions", &PyModule::functions);

  nb::class_<PyExecutable>(m, "Executable")
      .def(nb::init<const PyModule &, const std::string &, unsigned>(),
           "module"_a, "entry"_a, "opt_level"_a = 3)
      .def("__call__", &PyExecutable::call)
      .def_prop_ro("input_types",
                   [](const PyExecutable &e) { return e.types(false); })
      .def_prop_ro("result_types",
                   [](const PyExecutable &e) { return e.types(true); })
      .def_prop_ro("observer_names", &PyExecutable::observerNames);

  m.def("calibration_reset",
        [] { qopt::CalibrationState::global().clear(); },
        "Forgets the statistics every qopt.observe has recorded.");
  m.def(
      "calibration_write",
      [](const std::string &path, const std::vector<std::string> &names) {
        check(qopt::CalibrationState::global().write(path, names));
      },
      "path"_a, "observer_names"_a,
      "Writes the recorded statistics as a calibration file.");
}
