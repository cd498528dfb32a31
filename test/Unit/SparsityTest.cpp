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

// One non-trivial group: row 9 (quad row g = 1, upper half) keeps dense
// columns 20 and 23 (positions 0 and 3 of group 5, the second group of
// the 16-column slab 16-31). Every other group is all zero and keeps
// positions 0 and 1 (nibble 0b0100), so a register is 0x44444444 except
// where that group lands: nibble 1 of the upper half, 0b1100.
TEST(SparseMmaMetadata, RegisterOfEveryLane) {
  const int64_t rows = 16;
  auto regsFor = [&](int64_t cols, SparseMmaShape shape) {
    std::vector<float> w(rows * cols, 0.0f);
    w[9 * cols + 20] = 1.0f;
    w[9 * cols + 23] = -2.0f;
    Sparse24 s = compress24(w, rows, cols, select24(w, rows, cols));
    return packSparseMmaMetadata(s, shape);
  };
  const uint32_t plain = 0x44444444u, marked = 0x44C44444u;

  // m16n8k32 (f16 and s8): lanes 4g+1 and 4g+3 hold columns 16-31.
  for (SparseMmaShape shape :
       {SparseMmaShape::F16_M16N8K32, SparseMmaShape::I8_M16N8K32}) {
    std::vector<uint32_t> regs = regsFor(32, shape);
    ASSERT_EQ(regs.size(), 32u);
    for (int lane = 0; lane < 32; ++lane)
      EXPECT_EQ(regs[lane], lane == 5 || lane == 7 ? marked : plain) << lane;
  }
  // m16n8k16: two K steps; the second one's quad 1 (lanes 4-7) all hold
  // columns 16-31.
  std::vector<uint32_t> k16 = regsFor(32, SparseMmaShape::F16_M16N8K16);
  ASSERT_EQ(k16.size(), 64u);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(k16[i], i >= 36 && i < 40 ? marked : plain) << i;
  // m16n8k64: lane 4g+t holds columns 16t to 16t+15.
  std::vector<uint32_t> k64 = regsFor(64, SparseMmaShape::I8_M16N8K64);
  ASSERT_EQ(k64.size(), 32u);
  for (int lane = 0; lane < 32; ++lane)
    EXPECT_EQ(k64[lane], lane == 5 ? marked : plain) << lane;
}

TEST(SparseMmaMetadata, ShapesAndSelectors) {
  EXPECT_EQ(getSparseMmaK(SparseMmaShape::F16_M16N8K16), 16);
  EXPECT_EQ(getSparseMmaSelectors(SparseMmaShape::F16_M16N8K16), 4);
  EXPECT_EQ(getSparseMmaSelectors(SparseMmaShape::F16_M16N8K32), 2);
  EXPECT_EQ(getSparseMmaSelectors(SparseMmaShape::I8_M16N8K32), 2);
  EXPECT_EQ(getSparseMmaK(SparseMmaShape::I8_M16N8K64), 64);
  EXPECT_EQ(getSparseMmaSelectors(SparseMmaShape::I8_M16N8K64), 1);
}

// The seed's group [0.0, -1.25, 0.0, 0.50] in row 0, columns 0-3: nibble
// 0b1101 (positions 1 and 3) in bits 0-3 of lanes 0 and 2 (selectors 0
// and 1 of m16n8k32), and only there.
TEST(SparseMmaMetadata, SeedGroup) {
  std::vector<float> w(16 * 32, 0.0f);
  w[1] = -1.25f;
  w[3] = 0.50f;
  Sparse24 s = compress24(w, 16, 32, select24(w, 16, 32));
  std::vector<uint32_t> regs =
      packSparseMmaMetadata(s, SparseMmaShape::F16_M16N8K32);
  for (int lane = 0; lane < 32; ++lane)
    EXPECT_EQ(regs[lane], lane == 0 || lane == 2 ? 0x4444444Du : 0x44444444u)
        << lane;
}

} // namespace
