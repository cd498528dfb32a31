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

/// The `mma.sp` instructions whose sparse operand A is 2:4 with two 2-bit
/// indices per group of four (PTX ISA, "Sparse matrix storage").
enum class SparseMmaShape {
  F16_M16N8K16, ///< .f16/.bf16 m16n8k16: one thread of each quad holds it
  F16_M16N8K32, ///< .f16/.bf16 m16n8k32: a thread pair (T0,T1 or T2,T3)
  I8_M16N8K32,  ///< .s8/.u8 m16n8k32: a thread pair
  I8_M16N8K64,  ///< .s8/.u8 m16n8k64: all four threads, selector 0
};

/// The dense K one instruction of `shape` consumes (16, 32, 32 or 64).
int64_t getSparseMmaK(SparseMmaShape shape);

/// The sparsity selectors `shape` accepts: 4, 2, 2 or 1.
int getSparseMmaSelectors(SparseMmaShape shape);

/// The metadata operand of every `mma.sp` of `shape` over the whole matrix,
/// in register order: [rows / 16][cols / K][32 lanes] 32-bit words, so a
/// warp loads its operand for row tile r and K step k with one coalesced
/// 128-byte read at ((r * cols / K) + k) * 32 + lane. Each group of four
/// columns takes four bits, the lower kept position in the lower two;
/// lane 4g + t holds (as measured on an H100: `mma_sp_check --probe`)
///  - 16-bit types: 16 dense columns (K step start + 16 j, j = t mod K/16)
///    of row g in bits 0-15 and of row g + 8 in bits 16-31; selector s
///    reads lanes t = s K/16 + j;
///  - 8-bit types: 32 dense columns (K step start + 32 j, j = t/2 mod K/32)
///    of row g + 8 (t mod 2) in all 32 bits; selector s reads lanes
///    t = 2 s, 2 s + 1 (m16n8k32) or all four (m16n8k64).
/// Every lane is filled, so the operand is right for every sparsity
/// selector `shape` accepts. Positions are ascending within a group, as
/// `mma.sp::ordered_metadata` requires. The A operand is `values` as it
/// is ([rows, cols / 2] row-major): its fragments are those of a dense
/// [16, K / 2] tile. `rows` must be a multiple of 16 and `cols` of K.
std::vector<uint32_t> packSparseMmaMetadata(const Sparse24 &s,
                                            SparseMmaShape shape);

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_SPARSITY_H
