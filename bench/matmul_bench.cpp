//===- matmul_bench.cpp - qopt.matmul on the CPU against f32 and the floor ===//
//
//   build/bench/matmul-bench [--benchmark_filter=...]
//
// Y[M, N] = X[M, K] W[N, K]^T with K = N = 4096, compiled by
// qopt-cpu-pipeline and JIT-run through the same runner quant-run uses:
// INT4 g128 (packed), INT8 per channel and g128, UINT8 g128 with zero
// points, FP8 E4M3 g128 and per channel, W8A8 (ui8 activations with a
// scale and zero point a row), and f32 weights (linalg.matmul
// with a transposed weight map, same pipeline), and the same f32 product as
// convert-linalg-to-loops lowers it (cpu-float-contractions=false). Each
// call reads a different
// copy of the weight (256 MiB of copies in all, far beyond the 32 MiB L3),
// so the weight streams from memory. The floor is the weight bytes over
// this machine's measured copy bandwidth. Results: docs/perf/cpu.md.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAll.h"
#include "quant-opt/Pipelines/Pipelines.h"
#include "quant-opt/Runner/Runner.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

using namespace mlir;

namespace {

constexpr int64_t kDim = 4096;

enum Kind {
  F32 = 0,
  INT8 = 1,
  INT4 = 2,
  F32_PLAIN_LOOPS = 3,
  INT8_G128 = 4, // i8 codes, a scale a group of 128
  UI8_G128 = 5,  // ui8 codes and zero points, a group of 128
  FP8_G128 = 6,  // f8E4M3FN codes, a scale a group of 128
  FP8 = 7,       // f8E4M3FN codes, a scale per channel
  W8A8 = 8,      // i8 weights per channel; ui8 activations, a scale and
                 // zero point a row (dynamic quantization's output)
};

/// The storage of the weight's elements (i8 for packed INT4).
const char *weightElement(Kind kind) {
  switch (kind) {
  case UI8_G128:
    return "ui8";
  case FP8_G128:
  case FP8:
    return "f8E4M3FN";
  default:
    return "i8";
  }
}

bool isGrouped(Kind kind) {
  return kind == INT4 || kind == INT8_G128 || kind == UI8_G128 ||
         kind == FP8_G128;
}

std::string moduleText(Kind kind, int64_t m) {
  std::string x = "tensor<" + std::to_string(m) + "x4096xf32>";
  std::string y = "tensor<" + std::to_string(m) + "x4096xf32>";
  if (kind == F32 || kind == F32_PLAIN_LOOPS)
    return "#x = affine_map<(m, n, k) -> (m, k)>\n"
           "#w = affine_map<(m, n, k) -> (n, k)>\n"
           "#y = affine_map<(m, n, k) -> (m, n)>\n"
           "func.func @main(%x: " + x + ", %w: tensor<4096x4096xf32>) -> " + y +
           " {\n  %z = arith.constant 0.0 : f32\n  %e = tensor.empty() : " + y +
           "\n  %i = linalg.fill ins(%z : f32) outs(%e : " + y + ") -> " + y +
           "\n  %r = linalg.matmul indexing_maps = [#x, #w, #y] ins(%x, %w : " +
           x + ", tensor<4096x4096xf32>) outs(%i : " + y + ") -> " + y +
           "\n  return %r : " + y + "\n}\n";
  std::string w = std::string("tensor<4096x") +
                  (kind == INT4 ? "2048" : "4096") + "x" + weightElement(kind) +
                  ">";
  std::string groups = isGrouped(kind) ? "32" : "1";
  std::string s = "tensor<4096x" + groups + "xf32>";
  std::string z = "tensor<4096x" + groups + "xui8>";
  std::string attrs = kind == INT4 ? "{acc_type = f32, packed = i4}"
                                   : "{acc_type = f32}";
  bool zeroPoints = kind == UI8_G128;
  if (kind == W8A8) {
    std::string xq = "tensor<" + std::to_string(m) + "x4096xui8>";
    std::string sx = "tensor<" + std::to_string(m) + "x1xf32>";
    std::string zx = "tensor<" + std::to_string(m) + "x1xui8>";
    return "func.func @main(%x: " + xq + ", %w: " + w + ", %s: " + s +
           ", %sx: " + sx + ", %zx: " + zx + ") -> " + y +
           " {\n  %y = qopt.matmul %x, %w, %s input_scale(%sx, %zx) " + attrs +
           " : (" + xq + ", " + w + ", " + s + ", " + sx + ", " + zx + ") -> " +
           y + "\n  return %y : " + y + "\n}\n";
  }
  return "func.func @main(%x: " + x + ", %w: " + w + ", %s: " + s +
         (zeroPoints ? ", %z: " + z : "") + ") -> " + y +
         " {\n  %y = qopt.matmul %x, %w, %s" + (zeroPoints ? ", %z " : " ") +
         attrs + " : (" + x + ", " + w + ", " + s +
         (zeroPoints ? ", " + z : "") + ") -> " + y + "\n  return %y : " + y +
         "\n}\n";
}

struct Compiled {
  std::unique_ptr<MLIRContext> context;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<qopt::JitRunner> runner;
};

Compiled compile(Kind kind, int64_t m) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerDialects(registry);
  Compiled c;
  c.context = std::make_unique<MLIRContext>(registry);
  c.module = parseSourceString<ModuleOp>(moduleText(kind, m), c.context.get());
  if (kind == F32_PLAIN_LOOPS) {
    // Lower here without the float-contraction lowering; the runner then
    // only JIT-compiles.
    qopt::CPUPipelineOptions options;
    options.cpuFloatContractions = false;
    PassManager pm(c.context.get());
    qopt::buildCPUPipeline(pm, options);
    if (failed(pm.run(*c.module)))
      std::abort();
  }
  auto runner = qopt::JitRunner::create(*c.module, "main");
  if (!runner) {
    llvm::errs() << llvm::toString(runner.takeError()) << "\n";
    std::abort();
  }
  c.runner = std::move(*runner);
  return c;
}

void BM_Matmul(benchmark::State &state) {
  Kind kind = Kind(state.range(0));
  int64_t m = state.range(1);
  Compiled c = compile(kind, m);
  std::mt19937 rng(1);
  std::vector<float> x(m * kDim), y(m * kDim);
  for (float &v : x)
    v = std::uniform_real_distribution<float>(-1, 1)(rng);
  bool f32 = kind == F32 || kind == F32_PLAIN_LOOPS;
  size_t weightBytes = f32            ? kDim * kDim * 4
                       : kind == INT4 ? kDim * kDim / 2
                                      : kDim * kDim;
  // Rotate over weight copies that together exceed the last-level cache
  // several times, so every call streams its weight from memory.
  size_t copies = std::max<size_t>(2, (256u << 20) / weightBytes);
  std::vector<std::vector<uint8_t>> w(copies, std::vector<uint8_t>(weightBytes));
  for (auto &buffer : w)
    for (uint8_t &b : buffer) {
      b = uint8_t(rng());
      if ((kind == FP8 || kind == FP8_G128) && (b & 0x7F) == 0x7F)
        b &= 0xFE; // a finite code instead of NaN
    }
  std::vector<float> s(isGrouped(kind) ? kDim * 32 : kDim, 0.01f);
  std::vector<uint8_t> z(s.size(), 128);
  // W8A8: activation codes, their scale and zero point a row.
  std::vector<uint8_t> xq(m * kDim);
  for (uint8_t &v : xq)
    v = uint8_t(rng());
  std::vector<float> sx(m, 0.02f);
  std::vector<uint8_t> zx(m, 128);
  std::vector<void *> results{y.data()};
  size_t next = 0;
  for (auto _ : state) {
    std::vector<const void *> args{
        kind == W8A8 ? static_cast<const void *>(xq.data()) : x.data(),
        w[next].data()};
    next = (next + 1) % copies;
    if (!f32)
      args.push_back(s.data());
    if (kind == UI8_G128)
      args.push_back(z.data());
    if (kind == W8A8) {
      args.push_back(sx.data());
      args.push_back(zx.data());
    }
    if (llvm::Error e = c.runner->invoke(args, results)) {
      state.SkipWithError(llvm::toString(std::move(e)).c_str());
      return;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) *
                          int64_t(weightBytes + s.size() * 4 * !f32 +
                                  z.size() * (kind == UI8_G128)));
  const char *labels[] = {"f32 weights",
                          "int8 per-channel",
                          "int4 g128",
                          "f32, convert-linalg-to-loops",
                          "int8 g128",
                          "uint8 g128, zero points",
                          "fp8 e4m3 g128",
                          "fp8 e4m3 per-channel",
                          "w8a8: int8 per-channel x uint8 a row"};
  state.SetLabel(labels[kind]);
}
BENCHMARK(BM_Matmul)
    ->ArgsProduct({{F32_PLAIN_LOOPS, F32, INT8, INT4, INT8_G128, UI8_G128,
                    FP8_G128, FP8, W8A8},
                   {1, 16}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// The bandwidth floor: copying a buffer larger than the caches.
void BM_Copy(benchmark::State &state) {
  size_t bytes = size_t(state.range(0));
  std::vector<uint8_t> src(bytes, 1), dst(bytes);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
  }
  // Read bytes, as the matmul reads its weight (writes are extra here).
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes));
}
BENCHMARK(BM_Copy)->Arg(256 << 20)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace

BENCHMARK_MAIN();
