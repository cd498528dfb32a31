//===- Calibration.cpp - Calibration runtime and file writer --------------===//

#include "quant-opt/Runner/Calibration.h"
#include "quant-opt/Support/Json.h"

#include "quant-opt/Support/Npy.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <type_traits>

using namespace mlir;
using namespace mlir::qopt;

int64_t mlir::qopt::getObserveStatBit(llvm::StringRef name) {
  return llvm::StringSwitch<int64_t>(name)
      .Case("minmax", kObserveMinMax)
      .Case("histogram", kObserveHistogram)
      .Case("channel_absmax", kObserveChannelAbsMax)
      .Case("channel_absmean", kObserveChannelAbsMean)
      .Case("hessian", kObserveHessian)
      .Default(0);
}

CalibrationState &CalibrationState::global() {
  static CalibrationState state;
  return state;
}

void CalibrationState::clear() {
  std::lock_guard<std::mutex> lock(mutex);
  observers.clear();
}

void CalibrationState::observe(int64_t id, const float *data,
                               llvm::ArrayRef<int64_t> shape, int64_t stats) {
  std::lock_guard<std::mutex> lock(mutex);
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::span<const float> values(data, size_t(count));
  Observer &o = observers[id];
  o.stats |= stats;
  ++o.calls;
  if (stats & kObserveMinMax)
    o.minmax.observe(values);
  if (stats & kObserveHistogram)
    o.histogram.observe(values);
  int64_t k = shape.empty() ? 1 : shape.back();
  if (!(stats & (kObserveChannelAbsMax | kObserveChannelAbsMean |
                 kObserveHessian)) ||
      k == 0)
    return;
  if (o.channels < 0) {
    o.channels = k;
    o.channelAbsMax.assign(k, 0.0f);
    o.channelAbsSum.assign(k, 0.0);
  }
  if (o.channels != k) {
    // Per-channel statistics can't mix widths: write() reports it.
    o.mismatchedChannels = k;
    return;
  }
  int64_t rows = count / k;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j) {
      float a = std::fabs(data[r * k + j]);
      if (!std::isfinite(a))
        continue;
      o.channelAbsMax[j] = std::max(o.channelAbsMax[j], a);
      o.channelAbsSum[j] += a;
    }
  o.rows += rows;
  if (stats & kObserveHessian) {
    if (!o.hessian)
      o.hessian = std::make_unique<quantopt::HessianAccumulator>(k);
    Eigen::Map<const quantopt::RowMatrixF> x(data, rows, k);
    o.hessian->add(x);
  }
}

static llvm::Error writeArray(llvm::StringRef path, const char *dtype,
                              std::vector<int64_t> shape, const void *data,
                              size_t bytes) {
  quantopt::NpyArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.data.assign(static_cast<const uint8_t *>(data),
                static_cast<const uint8_t *>(data) + bytes);
  return quantopt::writeNpy(path, a);
}

llvm::Error CalibrationState::write(llvm::StringRef path,
                                    llvm::ArrayRef<std::string> names) const {
  std::lock_guard<std::mutex> lock(mutex);
  std::string sideDir = (path + ".d").str();
  llvm::json::Object root;
  root["format"] = "quant-opt-calibration";
  root["version"] = 1;
  llvm::json::Object entries;
  for (const auto &[id, o] : observers) {
    if (id < 0 || size_t(id) >= names.size())
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "observer id %lld has no name",
                                     (long long)id);
    const std::string &name = names[id];
    if (o.mismatchedChannels >= 0)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "observer '%s' saw tensors whose last dimension differs (%lld and "
          "%lld): per-channel statistics need one width",
          name.c_str(), (long long)o.channels,
          (long long)o.mismatchedChannels);
    llvm::json::Object e;
    e["calls"] = o.calls;
    if (o.stats & kObserveMinMax) {
      e["count"] = o.minmax.count();
      e["min"] = double(o.minmax.min());
      e["max"] = double(o.minmax.max());
    }
    if (o.stats & kObserveHistogram) {
      llvm::json::Array counts;
      for (uint64_t c : o.histogram.counts())
        counts.push_back(int64_t(c));
      e["histogram"] = llvm::json::Object{
          {"bins", o.histogram.numBins()},
          {"range", double(o.histogram.range())},
          {"max_abs", double(o.histogram.maxAbs())},
          {"total", int64_t(o.histogram.total())},
          {"non_finite", int64_t(o.histogram.nonFinite())},
          {"counts", std::move(counts)}};
    }
    if (o.stats & (kObserveChannelAbsMax | kObserveChannelAbsMean |
                   kObserveHessian)) {
      e["channels"] = o.channels;
      e["rows"] = o.rows;
    }
    if (o.stats & kObserveChannelAbsMax) {
      llvm::json::Array v;
      for (float x : o.channelAbsMax)
        v.push_back(double(x));
      e["channel_absmax"] = std::move(v);
    }
    if (o.stats & kObserveChannelAbsMean) {
      // The mean, and the raw sum so that files from several runs merge.
      llvm::json::Array mean, sum;
      for (double s : o.channelAbsSum) {
        mean.push_back(o.rows ? s / double(o.rows) : 0.0);
        sum.push_back(s);
      }
      e["channel_absmean"] = std::move(mean);
      e["channel_abssum"] = std::move(sum);
    }
    if ((o.stats & kObserveHessian) && o.hessian) {
      if (std::error_code ec = llvm::sys::fs::create_directories(sideDir))
        return llvm::createStringError(ec, "cannot create '%s'",
                                       sideDir.c_str());
      std::string file = std::to_string(id) + ".xtx.npy";
      llvm::SmallString<256> full(sideDir);
      llvm::sys::path::append(full, file);
      // sum x x^T (full symmetric); H = 2 / tokens * sum.
      quantopt::MatrixF h = o.hessian->hessian();
      if (o.hessian->numTokens() > 0)
        h *= float(o.hessian->numTokens()) / 2.0f;
      quantopt::RowMatrixF rowMajor = h;
      if (llvm::Error err =
              writeArray(full, "<f4", {h.rows(), h.cols()}, rowMajor.data(),
                         size_t(rowMajor.size()) * 4))
        return err;
      e["hessian"] = llvm::json::Object{
          {"xtx_file", (llvm::sys::path::filename(sideDir) + "/" + file).str()},
          {"tokens", o.hessian->numTokens()}};
    }
    entries[name] = std::move(e);
  }
  root["observers"] = std::move(entries);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '%s'",
                                   path.str().c_str());
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return llvm::Error::success();
}

static llvm::Error readError(llvm::StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + msg).str());
}

llvm::Error CalibrationState::read(llvm::StringRef path,
                                   llvm::ArrayRef<std::string> names) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return readError(path, "cannot read: " + buffer.getError().message());
  auto json = quantopt::parseJson((*buffer)->getBuffer());
  if (!json)
    return readError(path, "not JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root || root->getString("format") != "quant-opt-calibration")
    return readError(path, "not a quant-opt calibration file");
  if (root->getInteger("version") != 1)
    return readError(path, "version " +
                               llvm::Twine(root->getInteger("version").value_or(-1)) +
                               "; this quant-opt reads version 1");
  const llvm::json::Object *entries = root->getObject("observers");
  if (!entries)
    return readError(path, "no observers");
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  std::map<int64_t, Observer> loaded; // swapped in only if all is valid
  for (const auto &[key, value] : *entries) {
    std::string name = key.str();
    auto idIt = llvm::find(names, name);
    if (idIt == names.end())
      return readError(path, "observer '" + name +
                                 "' is not in this module (statistics of "
                                 "another model?)");
    int64_t id = idIt - names.begin();
    const llvm::json::Object *e = value.getAsObject();
    if (!e)
      return readError(path, "observer '" + name + "' is malformed");
    auto bad = [&](const char *what) {
      return readError(path, "observer '" + name + "': bad " + what);
    };
    Observer o;
    o.calls = e->getInteger("calls").value_or(0);
    if (auto count = e->getInteger("count")) {
      auto lo = e->getNumber("min"), hi = e->getNumber("max");
      if (!lo || !hi)
        return bad("min / max");
      o.stats |= kObserveMinMax;
      o.minmax = quantopt::MinMaxObserver::fromState(float(*lo), float(*hi),
                                                     *count);
    }
    if (const llvm::json::Object *h = e->getObject("histogram")) {
      const llvm::json::Array *counts = h->getArray("counts");
      auto range = h->getNumber("range"), maxAbs = h->getNumber("max_abs");
      auto total = h->getInteger("total"), nonFinite = h->getInteger("non_finite");
      if (!counts || !range || !maxAbs || !total || !nonFinite)
        return bad("histogram");
      std::vector<uint64_t> c;
      for (const llvm::json::Value &v : *counts) {
        auto n = v.getAsInteger();
        if (!n || *n < 0)
          return bad("histogram counts");
        c.push_back(uint64_t(*n));
      }
      auto hist = quantopt::AbsHistogram::fromState(
          std::move(c), float(*range), float(*maxAbs), uint64_t(*total),
          uint64_t(*nonFinite));
      if (!hist)
        return bad("histogram (inconsistent counts or range)");
      o.stats |= kObserveHistogram;
      o.histogram = std::move(*hist);
    }
    o.channels = e->getInteger("channels").value_or(-1);
    o.rows = e->getInteger("rows").value_or(0);
    if (o.calls < 0 || o.rows < 0)
      return bad("calls / rows");
    bool perChannel = e->getArray("channel_absmax") ||
                      e->getArray("channel_abssum") || e->getObject("hessian");
    if (perChannel && o.channels <= 0)
      return bad("channels");
    // Reads a per-channel vector of exactly `channels` finite numbers >= 0.
    auto readVector = [&](const llvm::json::Array *a, auto &out) {
      if (int64_t(a->size()) != o.channels)
        return false;
      for (const llvm::json::Value &v : *a) {
        std::optional<double> x = v.getAsNumber();
        if (!x || !std::isfinite(*x) || *x < 0)
          return false;
        out.push_back(typename std::decay_t<decltype(out)>::value_type(*x));
      }
      return true;
    };
    if (const llvm::json::Array *a = e->getArray("channel_absmax")) {
      o.stats |= kObserveChannelAbsMax;
      if (!readVector(a, o.channelAbsMax))
        return bad("channel_absmax");
    }
    if (const llvm::json::Array *a = e->getArray("channel_abssum")) {
      o.stats |= kObserveChannelAbsMean;
      if (!readVector(a, o.channelAbsSum))
        return bad("channel_abssum");
    }
    if (const llvm::json::Object *h = e->getObject("hessian")) {
      auto file = h->getString("xtx_file");
      auto tokens = h->getInteger("tokens");
      if (!file || !tokens || *tokens != o.rows)
        return bad("hessian entry (tokens must equal rows)");
      llvm::SmallString<256> full(dir);
      llvm::sys::path::append(full, *file);
      auto array = quantopt::readNpy(full);
      if (!array)
        return readError(path, llvm::toString(array.takeError()));
      if (array->dtype != "<f4" ||
          array->shape != std::vector<int64_t>{o.channels, o.channels})
        return bad("hessian file shape");
      Eigen::Map<const quantopt::RowMatrixF> xtx(
          reinterpret_cast<const float *>(array->data.data()), o.channels,
          o.channels);
      o.stats |= kObserveHessian;
      o.hessian = std::make_unique<quantopt::HessianAccumulator>(
          quantopt::HessianAccumulator::fromSum(quantopt::MatrixF(xtx),
                                                *tokens));
    }
    if (perChannel) {
      // observe() keeps both vectors whenever any per-channel statistic or
      // the Hessian is recorded. (After the checks above: they bound
      // `channels` by a vector's length or the Hessian file's shape.)
      o.channelAbsMax.resize(o.channels, 0.0f);
      o.channelAbsSum.resize(o.channels, 0.0);
    }
    loaded[id] = std::move(o);
  }
  std::lock_guard<std::mutex> lock(mutex);
  observers = std::move(loaded);
  return llvm::Error::success();
}

namespace {
/// An unranked memref descriptor as lowered code passes it.
struct UnrankedDescriptor {
  int64_t rank;
  void *descriptor; // {allocated, aligned, offset, sizes[rank], strides[rank]}
};
} // namespace

extern "C" void _mlir_ciface_qopt_observe_f32(void *unranked, int64_t id,
                                              int64_t stats) {
  auto *u = static_cast<UnrankedDescriptor *>(unranked);
  auto *words = static_cast<int64_t *>(u->descriptor);
  auto *aligned = reinterpret_cast<float *>(words[1]);
  int64_t offset = words[2];
  llvm::ArrayRef<int64_t> sizes(words + 3, size_t(u->rank));
  llvm::ArrayRef<int64_t> strides(words + 3 + u->rank, size_t(u->rank));
  int64_t count = 1;
  for (int64_t s : sizes)
    count *= s;
  // Gather into a contiguous row-major buffer when the view is strided.
  bool contiguous = true;
  int64_t expected = 1;
  for (int64_t i = u->rank - 1; i >= 0; --i) {
    contiguous &= sizes[i] == 1 || strides[i] == expected;
    expected *= sizes[i];
  }
  const float *data = aligned + offset;
  std::vector<float> copy;
  if (!contiguous) {
    copy.resize(count);
    std::vector<int64_t> idx(u->rank, 0);
    for (int64_t n = 0; n < count; ++n) {
      int64_t src = 0;
      for (int64_t i = 0; i < u->rank; ++i)
        src += idx[i] * strides[i];
      copy[n] = data[src];
      for (int64_t i = u->rank - 1; i >= 0; --i) {
        if (++idx[i] < sizes[i])
          break;
        idx[i] = 0;
      }
    }
    data = copy.data();
  }
  CalibrationState::global().observe(id, data, sizes, stats);
}
