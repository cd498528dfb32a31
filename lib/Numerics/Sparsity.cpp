//===- Sparsity.cpp - 2:4 structured sparsity -----------------------------===//

#include "quant-opt/Numerics/Sparsity.h"

#include <cassert>
#include <cmath>
#include <utility>

namespace quantopt {

std::vector<uint8_t> select24(std::span<const float> w, int64_t rows,
                              int64_t cols, std::span<const float> inputNorms) {
  assert(cols % 4 == 0 && w.size() == size_t(rows * cols));
  assert(inputNorms.empty() || inputNorms.size() == size_t(cols));
  std::vector<uint8_t> mask(w.size(), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; c += 4) {
      float score[4];
      for (int i = 0; i < 4; ++i) {
        score[i] = std::fabs(w[r * cols + c + i]);
        if (!inputNorms.empty())
          score[i] *= inputNorms[c + i];
        if (std::isnan(score[i]))
          score[i] = -1.0f; // NaN never wins over a number
      }
      // The two largest; strict comparisons keep the lower position on a
      // tie.
      int first = 0;
      for (int i = 1; i < 4; ++i)
        if (score[i] > score[first])
          first = i;
      int second = first == 0 ? 1 : 0;
      for (int i = 0; i < 4; ++i)
        if (i != first && score[i] > score[second])
          second = i;
      mask[r * cols + c + first] = 1;
      mask[r * cols + c + second] = 1;
    }
  }
  return mask;
}

Sparse24 compress24(std::span<const float> w, int64_t rows, int64_t cols,
                    std::span<const uint8_t> mask) {
  assert(cols % 16 == 0 && w.size() == size_t(rows * cols) &&
         mask.size() == w.size());
  Sparse24 s;
  s.rows = rows;
  s.cols = cols;
  s.values.reserve(rows * cols / 2);
  s.positions.reserve(rows * cols / 2);
  s.metadata.assign(rows * cols / 16, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; c += 4) {
      // The first two masked positions; a group with fewer is padded with
      // unmasked positions holding zero, so every group stores exactly two.
      int chosen[2];
      bool keep[2];
      int kept = 0;
      for (int i = 0; i < 4 && kept < 2; ++i)
        if (mask[r * cols + c + i]) {
          keep[kept] = true;
          chosen[kept++] = i;
        }
      for (int i = 0; i < 4 && kept < 2; ++i)
        if (!mask[r * cols + c + i]) {
          keep[kept] = false;
          chosen[kept++] = i;
        }
      if (chosen[0] > chosen[1]) {
        std::swap(chosen[0], chosen[1]);
        std::swap(keep[0], keep[1]);
      }
      for (int j = 0; j < 2; ++j) {
        s.values.push_back(keep[j] ? w[r * cols + c + chosen[j]] : 0.0f);
        s.positions.push_back(uint8_t(chosen[j]));
      }
    }
  }
  // Pack: row r, pair index p (0..cols/2-1): word p / 8, bits 2 * (p % 8).
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < cols / 2; ++p) {
      uint16_t pos = s.positions[r * (cols / 2) + p];
      s.metadata[r * (cols / 16) + p / 8] |= uint16_t(pos << (2 * (p % 8)));
    }
  return s;
}

std::vector<float> decompress24(const Sparse24 &s) {
  std::vector<float> dense(s.rows * s.cols, 0.0f);
  int64_t half = s.cols / 2;
  for (int64_t r = 0; r < s.rows; ++r)
    for (int64_t p = 0; p < half; ++p) {
      int64_t group = p / 2;
      dense[r * s.cols + group * 4 + s.positions[r * half + p]] =
          s.values[r * half + p];
    }
  return dense;
}

int64_t getSparseMmaK(SparseMmaShape shape) {
  switch (shape) {
  case SparseMmaShape::F16_M16N8K16:
    return 16;
  case SparseMmaShape::F16_M16N8K32:
  case SparseMmaShape::I8_M16N8K32:
    return 32;
  case SparseMmaShape::I8_M16N8K64:
    return 64;
  }
  return 0;
}

/// Whether a lane holds one row's 32 dense columns (8-bit types) rather
/// than 16 columns of rows g and g + 8 (16-bit types).
static bool isByteShape(SparseMmaShape shape) {
  return shape == SparseMmaShape::I8_M16N8K32 ||
         shape == SparseMmaShape::I8_M16N8K64;
}

int getSparseMmaSelectors(SparseMmaShape shape) {
  // A contributing thread holds 32 metadata bits: 16 dense columns of two
  // rows (16-bit types) or 32 columns of one row (8-bit types), so a quad
  // holds K / 16 or 2 K / 32 registers of the step; the selector picks
  // which threads.
  return int(4 / (getSparseMmaK(shape) / 16));
}

std::vector<uint32_t> packSparseMmaMetadata(const Sparse24 &s,
                                            SparseMmaShape shape) {
  const int64_t k = getSparseMmaK(shape);
  assert(s.rows % 16 == 0 && s.cols % k == 0);
  const bool bytes = isByteShape(shape);
  // `metadata` holds, per row, one 16-bit word per 16 dense columns (eight
  // 2-bit positions, low bits first). A lane's register is two of them:
  // 16-bit types, columns 16j.. of rows g (low half) and g + 8 (high half);
  // 8-bit types, columns 32j.. of row g + 8 (t mod 2), both halves.
  const int64_t wordsPerRow = s.cols / 16;
  const int64_t steps = s.cols / k;
  const int64_t slabs = bytes ? k / 32 : k / 16; // registers per row pair
  std::vector<uint32_t> regs(size_t(s.rows / 16 * steps * 32));
  for (int64_t tile = 0; tile < s.rows / 16; ++tile)
    for (int64_t step = 0; step < steps; ++step)
      for (int64_t lane = 0; lane < 32; ++lane) {
        const int64_t g = lane / 4, t = lane % 4;
        const uint16_t *row = &s.metadata[(tile * 16 + g) * wordsPerRow];
        uint32_t reg;
        if (bytes) {
          int64_t word = (step * slabs + (t / 2) % slabs) * 2;
          row += (t % 2) * 8 * wordsPerRow;
          reg = uint32_t(row[word]) | uint32_t(row[word + 1]) << 16;
        } else {
          int64_t word = step * slabs + t % slabs;
          reg = uint32_t(row[word]) | uint32_t(row[8 * wordsPerRow + word])
                                          << 16;
        }
        regs[(tile * steps + step) * 32 + lane] = reg;
      }
  return regs;
}

} // namespace quantopt
