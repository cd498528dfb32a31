//===- SparsityTest.cpp - 2:4 selection and compression -------------------===//

#include "quant-opt/Numerics/Sparsity.h"

#include "gtest/gtest.h"

#include <random>

using namespace quantopt;

namespace {

TEST(Sparse24, SeedGroup) {
  // [0.0, -1.25, 0.0, 0.50] keeps [-1.25, 0.50] at positions [1, 3].
  std::vector<float> w(16, 0.0f);
  w[1] = -1.25f;
  w[3] = 0.50f;
  std::vector<uint8_t> mask = select24(w, 1, 16);
  Sparse24 s = compress24(w, 1, 16, mask);
  EXPECT_EQ(s.values[0], -1.25f);
  EXPECT_EQ(s.values[1], 0.50f);
  EXPECT_EQ(s.positions[0], 1);
  EXPECT_EQ(s.positions[1], 3);
  // Metadata: pair 0 -> bits 0-1 = 1, pair 1 -> bits 2-3 = 3; the other
  // (all-zero) groups keep positions 0 and 1.
  EXPECT_EQ(s.metadata[0] & 0xF, 1 | (3 << 2));
  EXPECT_EQ((s.metadata[0] >> 4) & 0xF, 0 | (1 << 2));
}

TEST(Sparse24, KeepsLargestAndRoundTrips) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const int64_t rows = 8, cols = 64;
  std::vector<float> w(rows * cols);
  for (float &v : w)
    v = normal(rng);
  std::vector<uint8_t> mask = select24(w, rows, cols);
  Sparse24 s = compress24(w, rows, cols, mask);
  std::vector<float> dense = decompress24(s);
  for (int64_t i = 0; i < rows * cols; i += 4) {
    int kept = 0;
    for (int j = 0; j < 4; ++j) {
      kept += mask[i + j];
      EXPECT_EQ(dense[i + j], mask[i + j] ? w[i + j] : 0.0f);
      // Every kept magnitude is >= every dropped one in the group.
      for (int k = 0; k < 4; ++k)
        if (mask[i + j] && !mask[i + k])
          EXPECT_GE(std::fabs(w[i + j]), std::fabs(w[i + k]));
    }
    EXPECT_EQ(kept, 2);
  }
}

TEST(Sparse24, WandaScoreUsesInputNorms) {
  // Equal weights; the input norms decide.
  std::vector<float> w = {1, 1, 1, 1};
  std::vector<float> norms = {0.1f, 5.0f, 0.2f, 3.0f};
  std::vector<uint8_t> mask = select24(w, 1, 4, norms);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 1, 0, 1}));
  // Magnitude alone: ties keep the lower positions.
  EXPECT_EQ(select24(w, 1, 4), (std::vector<uint8_t>{1, 1, 0, 0}));
}

} // namespace
