//===- SparsityTest.cpp - 2:4 selection and compression -------------------===//

#include "quant-opt/Numerics/Sparsity.h"

#include "gtest/gtest.h"

#include <map>
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

// One non-trivial group: `row` keeps dense columns `col` and `col` + 3
// (nibble 0b1100). Every other group is all zero and keeps positions 0 and
// 1 (0b0100), so every register is 0x44444444 except where that group
// lands. The expected lanes are those an H100 reads (mma_sp_check --probe):
// 16-bit types hold 16 columns of rows g and g + 8 per lane, 8-bit types
// 32 columns of one row.
TEST(SparseMmaMetadata, RegisterOfEveryLane) {
  const int64_t rows = 16;
  const uint32_t plain = 0x44444444u;
  auto expectMarked = [&](SparseMmaShape shape, int64_t cols, int64_t row,
                          int64_t col, std::map<int, uint32_t> marked) {
    std::vector<float> w(rows * cols, 0.0f);
    w[row * cols + col] = 1.0f;
    w[row * cols + col + 3] = -2.0f;
    Sparse24 s = compress24(w, rows, cols, select24(w, rows, cols));
    std::vector<uint32_t> regs = packSparseMmaMetadata(s, shape);
    ASSERT_EQ(int64_t(regs.size()), 32 * cols / getSparseMmaK(shape));
    for (int i = 0; i < int(regs.size()); ++i)
      EXPECT_EQ(regs[i], marked.count(i) ? marked[i] : plain)
          << "shape " << int(shape) << " row " << row << " col " << col
          << " register " << i;
  };
  using S = SparseMmaShape;
  // f16 m16n8k32: lanes 4g+1 and 4g+3 hold columns 16-31; row g in the
  // low half, row g + 8 in the high half (chunk 5 is nibble 1 of a half).
  expectMarked(S::F16_M16N8K32, 32, 1, 20, {{5, 0x444444C4u}, {7, 0x444444C4u}});
  expectMarked(S::F16_M16N8K32, 32, 9, 20, {{5, 0x44C44444u}, {7, 0x44C44444u}});
  // f16 m16n8k16, two K steps: the second step's quad 1 (registers
  // 32 + 4..7) holds columns 16-31 of rows 1 and 9.
  expectMarked(S::F16_M16N8K16, 32, 1, 20,
               {{36, 0x444444C4u}, {37, 0x444444C4u}, {38, 0x444444C4u},
                {39, 0x444444C4u}});
  // s8 m16n8k32: lanes 4g and 4g+2 hold row g, 4g+1 and 4g+3 row g + 8,
  // all 32 columns (chunk 5 is nibble 5, chunk 1 nibble 1).
  expectMarked(S::I8_M16N8K32, 32, 1, 20, {{4, 0x44C44444u}, {6, 0x44C44444u}});
  expectMarked(S::I8_M16N8K32, 32, 9, 4, {{5, 0x444444C4u}, {7, 0x444444C4u}});
  // s8 m16n8k64: lane 4g+t holds columns 32 (t / 2).. of row g + 8 (t % 2).
  expectMarked(S::I8_M16N8K64, 64, 1, 52, {{6, 0x44C44444u}});
  expectMarked(S::I8_M16N8K64, 64, 9, 20, {{5, 0x44C44444u}});
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
