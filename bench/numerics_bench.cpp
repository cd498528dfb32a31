//===- numerics_bench.cpp - Throughput of the numerics library ------------===//
//
//   build/bench/numerics-bench [--benchmark_filter=...]
//
// GPTQ on a 4096 x 4096 layer (Hessian accumulation per 2048-token
// sequence, then the column sweep), RTN and nibble packing in GB/s of f32
// input, and the calibrators. Results: docs/perf/numerics.md.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Numerics/Calibration.h"
#include "quant-opt/Numerics/WeightQuantization.h"

#include <benchmark/benchmark.h>

#include <random>

using namespace quantopt;

namespace {

RowMatrixF gaussian(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RowMatrixF m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i)
    m.data()[i] = normal(rng);
  return m;
}

/// One calibration sequence of 2048 tokens added to a K x K Hessian.
void BM_HessianAccumulate(benchmark::State &state) {
  const int64_t k = state.range(0), tokens = 2048;
  RowMatrixF x = gaussian(tokens, k, 1);
  HessianAccumulator acc(k);
  for (auto _ : state) {
    acc.add(x);
    benchmark::DoNotOptimize(acc.numTokens());
  }
  state.counters["tokens/s"] = benchmark::Counter(
      double(tokens) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      double(tokens) * k * k * state.iterations(), // k^2 / 2 FMAs per token
      benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_HessianAccumulate)->Arg(4096)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// GPTQ's column sweep for a 4096 x 4096 layer, INT4 g128, given H.
void BM_GPTQ(benchmark::State &state) {
  const int64_t n = state.range(0), k = state.range(0);
  RowMatrixF w = gaussian(n, k, 2);
  // A realistic, well-conditioned Hessian from 2048 tokens.
  HessianAccumulator acc(k);
  acc.add(gaussian(2048, k, 3));
  MatrixF h = acc.hessian();
  GPTQOptions opt;
  opt.scheme = Scheme{Storage::I4, true, true};
  opt.groupSize = 128;
  opt.actOrder = state.range(1);
  for (auto _ : state) {
    auto q = quantizeGPTQ(w, h, opt);
    benchmark::DoNotOptimize(q->codes.data());
  }
}
BENCHMARK(BM_GPTQ)->Args({4096, 0})->Args({4096, 1})
    ->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_RTN(benchmark::State &state) {
  const int64_t n = 4096, k = 4096;
  RowMatrixF w = gaussian(n, k, 4);
  Storage storage = Storage(state.range(0));
  int64_t group = state.range(1);
  for (auto _ : state) {
    std::optional<QuantizedWeight> q = quantizeRTN(
        w, Scheme{storage, true, isSignedInteger(storage)}, group);
    benchmark::DoNotOptimize(q->codes.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * n * k * 4);
  state.SetLabel(std::string(storageName(storage)) + " g" +
                 std::to_string(group));
}
BENCHMARK(BM_RTN)
    ->Args({int(Storage::I4), 128})
    ->Args({int(Storage::I8), 0})
    ->Args({int(Storage::F8E4M3FN), 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PackNibbles(benchmark::State &state) {
  const size_t n = 4096 * 4096;
  std::vector<uint8_t> codes(n), packed(n / 2);
  for (size_t i = 0; i < n; ++i)
    codes[i] = uint8_t(i * 7);
  for (auto _ : state) {
    packNibbles(codes, packed);
    benchmark::DoNotOptimize(packed.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * n);
}
BENCHMARK(BM_PackNibbles)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Calibrate(benchmark::State &state) {
  RowMatrixF x = gaussian(1, 1 << 20, 5);
  std::span<const float> data(x.data(), size_t(x.size()));
  AbsHistogram h;
  h.observe(data);
  for (auto _ : state) {
    switch (state.range(0)) {
    case 0: {
      AbsHistogram hh;
      hh.observe(data);
      benchmark::DoNotOptimize(hh.total());
      break;
    }
    case 1:
      benchmark::DoNotOptimize(mseThreshold(h, Storage::I8));
      break;
    case 2:
      benchmark::DoNotOptimize(entropyThreshold(h));
      break;
    }
  }
  state.SetLabel(state.range(0) == 0   ? "histogram of 1M values"
                 : state.range(0) == 1 ? "mse threshold"
                                       : "entropy threshold");
}
BENCHMARK(BM_Calibrate)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
