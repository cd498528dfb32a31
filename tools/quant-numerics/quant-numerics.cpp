//===- quant-numerics.cpp - Run the numerics library on .npy files --------===//
//
//   quant-numerics rtn         --w W.npy --storage i4 --group 128 [--asymmetric] --out DIR
//   quant-numerics gptq        --w W.npy --x X.npy --storage i4 --group 128 [--act-order] --out DIR
//   quant-numerics awq         --w W.npy --x X.npy --storage i4 --group 128 [--clip] --out DIR
//   quant-numerics calibrate   --x X.npy --method minmax|percentile|mse|entropy [--percentile P] [--storage i8] --out DIR
//   quant-numerics smoothquant --act-max A.npy --w-max W.npy [--alpha 0.5] --out DIR
//   quant-numerics sparse24    --w W.npy [--norms N.npy] --out DIR
//                              (values, positions, metadata and, where the
//                              shape tiles, mma_sp_<shape>.npy operands)
//
// Writes the results as .npy files into DIR: the bridge between the C++
// library and the independent NumPy references in test/python.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/Sparsity.h"
#include "quant-opt/Numerics/WeightQuantization.h"
#include "quant-opt/Support/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

#include <cstring>

using namespace quantopt;
namespace cl = llvm::cl;

static cl::opt<std::string> command(cl::Positional, cl::Required,
                                    cl::desc("<rtn|gptq|awq|calibrate|"
                                             "smoothquant|sparse24>"));
static cl::opt<std::string> weightFile("w", cl::desc("weight [N, K] (.npy)"));
static cl::opt<std::string> inputFile("x", cl::desc("activations [T, K] (.npy)"));
static cl::opt<std::string> actMaxFile("act-max", cl::desc("max|X_j| (.npy)"));
static cl::opt<std::string> wMaxFile("w-max", cl::desc("max|W_j| (.npy)"));
static cl::opt<std::string> normsFile("norms", cl::desc("||x_j|| (.npy)"));
static cl::opt<std::string> outDir("out", cl::Required, cl::desc("output folder"));
static cl::opt<std::string> storageName_("storage", cl::init("i4"),
                                         cl::desc("storage type"));
static cl::opt<int64_t> groupSize("group", cl::init(128),
                                  cl::desc("group size (0: per channel)"));
static cl::opt<bool> asymmetric("asymmetric", cl::desc("asymmetric scheme"));
static cl::opt<bool> fullRange("full-range",
                               cl::desc("do not drop the most negative code"));
static cl::opt<bool> actOrder("act-order", cl::desc("GPTQ activation order"));
static cl::opt<bool> clip("clip", cl::desc("AWQ clipping search"));
static cl::opt<std::string> method("method", cl::init("minmax"),
                                   cl::desc("calibrator"));
static cl::opt<double> percentile("percentile", cl::init(99.99),
                                  cl::desc("percentile calibrator"));
static cl::opt<float> alpha("alpha", cl::init(0.5f), cl::desc("SmoothQuant alpha"));

namespace {

[[noreturn]] void fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "quant-numerics") << msg << "\n";
  std::exit(1);
}

NpyArray load(const std::string &path, const char *what) {
  if (path.empty())
    fail(llvm::Twine("missing --") + what);
  auto a = readNpy(path);
  if (!a)
    fail(llvm::toString(a.takeError()));
  if (a->dtype != "<f4")
    fail(path + ": expected float32, got '" + a->dtype + "'");
  return std::move(*a);
}

RowMatrixF loadMatrix(const std::string &path, const char *what) {
  NpyArray a = load(path, what);
  if (a.shape.size() != 2)
    fail(path + ": expected a 2-D array, got shape " + a.shapeString());
  RowMatrixF m(a.shape[0], a.shape[1]);
  std::memcpy(m.data(), a.data.data(), a.data.size());
  return m;
}

std::vector<float> loadVector(const std::string &path, const char *what) {
  NpyArray a = load(path, what);
  std::vector<float> v(a.numElements());
  std::memcpy(v.data(), a.data.data(), a.data.size());
  return v;
}

template <typename T>
void save(const std::string &name, const char *dtype,
          std::vector<int64_t> shape, const T *data, size_t count) {
  NpyArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.data.resize(count * sizeof(T));
  std::memcpy(a.data.data(), data, a.data.size());
  llvm::SmallString<256> path(outDir);
  llvm::sys::path::append(path, name);
  if (llvm::Error e = writeNpy(path, a))
    fail(llvm::toString(std::move(e)));
}

void saveFloats(const std::string &name, std::vector<int64_t> shape,
                const std::vector<float> &v) {
  save(name, "<f4", std::move(shape), v.data(), v.size());
}

Scheme scheme() {
  auto s = parseStorage(storageName_);
  if (!s)
    fail("unknown storage '" + storageName_ + "'");
  return Scheme{*s, !asymmetric, isSignedInteger(*s) && !asymmetric && !fullRange};
}

void saveWeight(const QuantizedWeight &q) {
  const auto &shape = q.layout.dataShape;
  bool isSigned = isSignedInteger(q.params.scheme.storage);
  save("codes.npy", isSigned ? "|i1" : "|u1", shape, q.codes.data(),
       q.codes.size());
  saveFloats("scales.npy", q.params.shape, q.params.scales);
  std::vector<int32_t> zeros = q.params.zeroPoints;
  if (zeros.empty())
    zeros.assign(q.params.scales.size(), 0);
  save("zeros.npy", "<i4", q.params.shape, zeros.data(), zeros.size());
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "quant-numerics\n");
  if (std::error_code ec = llvm::sys::fs::create_directories(outDir))
    fail("cannot create '" + outDir + "': " + ec.message());

  if (command == "rtn") {
    std::string error;
    auto q = quantizeRTN(loadMatrix(weightFile, "w"), scheme(), groupSize,
                         &error);
    if (!q)
      fail(error);
    saveWeight(*q);
  } else if (command == "gptq") {
    RowMatrixF w = loadMatrix(weightFile, "w");
    RowMatrixF x = loadMatrix(inputFile, "x");
    HessianAccumulator acc(x.cols());
    acc.add(x);
    GPTQOptions opt;
    opt.scheme = scheme();
    opt.groupSize = groupSize;
    opt.actOrder = actOrder;
    std::string error;
    auto q = quantizeGPTQ(w, acc.hessian(), opt, &error);
    if (!q)
      fail(error);
    saveWeight(*q);
  } else if (command == "awq") {
    AWQOptions opt;
    opt.scheme = scheme();
    opt.groupSize = groupSize;
    opt.clipSearch = clip;
    RowMatrixF x = loadMatrix(inputFile, "x");
    opt.maxTokens = x.rows();
    std::string error;
    auto result = quantizeAWQ(loadMatrix(weightFile, "w"), x, opt, &error);
    if (!result)
      fail(error);
    AWQResult &r = *result;
    saveWeight(r.weight);
    saveFloats("input_scales.npy", {int64_t(r.inputScales.size())},
               r.inputScales);
    saveFloats("alpha.npy", {}, {r.alpha});
  } else if (command == "calibrate") {
    std::vector<float> x = loadVector(inputFile, "x");
    std::vector<float> result;
    if (method == "minmax") {
      MinMaxObserver o;
      o.observe(x);
      result = {o.min(), o.max()};
    } else {
      AbsHistogram h;
      h.observe(x);
      std::vector<float> counts(h.counts().begin(), h.counts().end());
      saveFloats("histogram.npy", {int64_t(counts.size())}, counts);
      saveFloats("range.npy", {}, {h.range()});
      if (method == "percentile")
        result = {percentileThreshold(h, percentile)};
      else if (method == "mse")
        result = {mseThreshold(h, scheme().storage, scheme().narrowRange)};
      else if (method == "entropy")
        result = {entropyThreshold(h)};
      else
        fail("unknown calibrator '" + method + "'");
    }
    saveFloats("result.npy", {int64_t(result.size())}, result);
  } else if (command == "smoothquant") {
    std::vector<float> a = loadVector(actMaxFile, "act-max");
    std::vector<float> w = loadVector(wMaxFile, "w-max");
    if (a.size() != w.size())
      fail("--act-max and --w-max differ in length");
    saveFloats("factors.npy", {int64_t(a.size())},
               smoothQuantFactors(a, w, alpha));
  } else if (command == "sparse24") {
    RowMatrixF w = loadMatrix(weightFile, "w");
    std::vector<float> norms;
    if (!normsFile.empty())
      norms = loadVector(normsFile, "norms");
    std::span<const float> data(w.data(), size_t(w.size()));
    if (w.cols() % 16 != 0)
      fail("the number of columns must be a multiple of 16");
    std::vector<uint8_t> mask = select24(data, w.rows(), w.cols(), norms);
    Sparse24 s = compress24(data, w.rows(), w.cols(), mask);
    saveFloats("values.npy", {w.rows(), w.cols() / 2}, s.values);
    save("positions.npy", "|u1", {w.rows(), w.cols() / 2}, s.positions.data(),
         s.positions.size());
    save("metadata.npy", "<u2", {w.rows(), w.cols() / 16}, s.metadata.data(),
         s.metadata.size());
    // The mma.sp metadata operands, for every shape the matrix tiles.
    const std::pair<SparseMmaShape, const char *> shapes[] = {
        {SparseMmaShape::F16_M16N8K16, "f16_m16n8k16"},
        {SparseMmaShape::F16_M16N8K32, "f16_m16n8k32"},
        {SparseMmaShape::I8_M16N8K32, "i8_m16n8k32"},
        {SparseMmaShape::I8_M16N8K64, "i8_m16n8k64"}};
    for (auto [shape, name] : shapes) {
      int64_t k = getSparseMmaK(shape);
      if (w.rows() % 16 != 0 || w.cols() % k != 0)
        continue;
      std::vector<uint32_t> regs = packSparseMmaMetadata(s, shape);
      save(std::string("mma_sp_") + name + ".npy", "<u4",
           {w.rows() / 16, w.cols() / k, 32}, regs.data(), regs.size());
    }
  } else {
    fail("unknown command '" + command + "'");
  }
  return 0;
}
