//===- Sparsity.h - 2:4 structured sparsity -----------------------*- C++ -*-===//

#ifndef QUANT_OPT_NUMERICS_SPARSITY_H
#define QUANT_OPT_NUMERICS_SPARSITY_H

#include <cstdint>
#include <span>
#include <vector>

namespace quantopt {

/// A [rows, cols] matrix with two values kept in every group of four along
/// a row: values and their positions in the group, both [rows, cols / 2],
/// plus the 2-bit positions packed eight per 16-bit word (low bits first),
/// [rows, cols / 16] - the per-row metadata stream sparse tensor-core
/// instructions consume before their per-thread register distribution.
struct Sparse24 {
  int64_t rows = 0, cols = 0;
  std::vector<float> values;
  std::vector<uint8_t> positions;
  std::vector<uint16_t> metadata;
};

/// Chooses the two entries of each group of four to keep: the largest by
/// |w|, or by the Wanda score |w| * ||x_j|| when `inputNorms` (one per
/// column) is given. Ties keep the lower position. Returns a 0/1 mask.
/// `cols` must be a multiple of 4.
std::vector<uint8_t> select24(std::span<const float> w, int64_t rows,
                              int64_t cols,
                              std::span<const float> inputNorms = {});

/// Keeps the masked entries (two per group) of a row-major matrix. The
/// seed's group [0.0, -1.25, 0.0, 0.50] gives values [-1.25, 0.50] and
/// positions [1, 3]. `cols` must be a multiple of 16.
Sparse24 compress24(std::span<const float> w, int64_t rows, int64_t cols,
                    std::span<const uint8_t> mask);

/// The dense [rows, cols] matrix (zeros where nothing was kept).
std::vector<float> decompress24(const Sparse24 &s);

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_SPARSITY_H
