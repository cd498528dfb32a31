//===- BundleGPUBinaries.cpp - One fatbin for several NVIDIA chips --------===//
//
// gpu-module-to-binary makes one object per target, and the host code
// embeds one object: a program compiled for sm_80 and sm_90a would pick one
// of them when it is compiled. This pass assembles the PTX objects of a
// gpu.binary (format=isa, one per chip) with ptxas and bundles the cubins,
// plus the PTX of the oldest chip (which the driver can compile for GPUs
// newer than all of them), into one fatbin with fatbinary. The driver picks
// the matching machine code when the program loads it.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/CompilationInterfaces.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Target/LLVM/NVVM/Utils.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_BUNDLEGPUBINARIES
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct BundleGPUBinaries
    : qopt::impl::BundleGPUBinariesBase<BundleGPUBinaries> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](gpu::BinaryOp binary) {
      return failed(bundle(binary)) ? WalkResult::interrupt()
                                    : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  /// The CUDA tool `name`: under cuda-path, else the toolkit MLIR was
  /// configured with, else on PATH.
  FailureOr<std::string> findTool(Operation *anchor, StringRef name) {
    for (StringRef root : {StringRef(cudaPath), NVVM::getCUDAToolkitPath()}) {
      if (root.empty())
        continue;
      SmallString<256> path(root);
      llvm::sys::path::append(path, "bin", name);
      if (llvm::sys::fs::can_execute(path))
        return std::string(path);
    }
    if (llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName(name))
      return *found;
    return anchor->emitError() << "cannot find the CUDA tool '" << name
                               << "' (set cuda-path)";
  }

  /// Runs `args`; on failure reports the tool's output.
  LogicalResult run(Operation *anchor, ArrayRef<std::string> args,
                    StringRef dir) {
    SmallString<256> log(dir);
    llvm::sys::path::append(log, "log.txt");
    SmallVector<StringRef> argv(args.begin(), args.end());
    std::optional<StringRef> redirects[] = {std::nullopt, log.str(),
                                            log.str()};
    std::string message;
    int status = llvm::sys::ExecuteAndWait(argv.front(), argv, std::nullopt,
                                           redirects, 0, 0, &message);
    if (status == 0)
      return success();
    auto output = llvm::MemoryBuffer::getFile(log);
    return anchor->emitError()
           << llvm::sys::path::filename(argv.front()) << " failed"
           << (message.empty() ? "" : ": ") << message << "\n"
           << (output ? (*output)->getBuffer() : "");
  }

  LogicalResult bundle(gpu::BinaryOp binary) {
    // One PTX object too (the sm_90a-only kernels of a chip list with older
    // chips): a fatbin like the others'. Any other single object is left
    // as it is.
    ArrayRef<Attribute> objects = binary.getObjects().getValue();
    if (objects.empty() ||
        (objects.size() == 1 &&
         cast<gpu::ObjectAttr>(objects.front()).getFormat() !=
             gpu::CompilationTarget::Assembly))
      return success();
    SmallVector<std::pair<NVVM::NVVMTargetAttr, StringRef>> ptx;
    for (Attribute attr : objects) {
      auto object = cast<gpu::ObjectAttr>(attr);
      auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
      if (!target || object.getFormat() != gpu::CompilationTarget::Assembly)
        return binary.emitError("qopt-bundle-gpu-binaries takes NVVM objects "
                                "in PTX form (gpu-module-to-binary "
                                "format=isa)");
      ptx.emplace_back(target, object.getObject().getValue());
    }
    FailureOr<std::string> ptxas = findTool(binary, "ptxas");
    FailureOr<std::string> fatbinary = findTool(binary, "fatbinary");
    if (failed(ptxas) || failed(fatbinary))
      return failure();

    SmallString<256> dir;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("qopt-fatbin", dir))
      return binary.emitError() << "cannot create a temporary directory: "
                                << ec.message();
    llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(dir); });
    auto file = [&](StringRef name) {
      SmallString<256> path(dir);
      llvm::sys::path::append(path, name);
      return std::string(path);
    };

    std::vector<std::string> bundleArgs = {*fatbinary, "--64",
                                           "--create=" + file("out.fatbin")};
    // The PTX of the oldest chip goes in too: the driver can compile it for
    // a GPU none of the cubins runs on.
    auto oldest = llvm::min_element(ptx, [](auto &a, auto &b) {
      return a.first.getChip() < b.first.getChip();
    });
    for (auto &[target, text] : ptx) {
      std::string chip = target.getChip().str();
      std::string sm = chip.substr(chip.find('_') + 1);
      std::string source = file(chip + ".ptx"), cubin = file(chip + ".cubin");
      std::error_code ec;
      llvm::raw_fd_ostream os(source, ec);
      if (ec)
        return binary.emitError() << "cannot write " << source << ": "
                                  << ec.message();
      os << text;
      os.close();
      if (failed(run(binary,
                     {*ptxas, "-arch=" + chip, "--opt-level",
                      std::to_string(target.getO()), source, "-o", cubin},
                     dir)))
        return failure();
      bundleArgs.push_back("--image3=kind=elf,sm=" + sm + ",file=" + cubin);
      if (oldest->first == target)
        bundleArgs.push_back("--image3=kind=ptx,sm=" + sm + ",file=" + source);
    }
    if (failed(run(binary, bundleArgs, dir)))
      return failure();
    auto fatbin = llvm::MemoryBuffer::getFile(file("out.fatbin"));
    if (!fatbin)
      return binary.emitError("fatbinary wrote no output");

    OpBuilder b(binary);
    auto object = gpu::ObjectAttr::get(
        b.getContext(), oldest->first, gpu::CompilationTarget::Fatbin,
        b.getStringAttr((*fatbin)->getBuffer()), DictionaryAttr(),
        gpu::KernelTableAttr());
    binary.setObjectsAttr(b.getArrayAttr({object}));
    return success();
  }
};

} // namespace
