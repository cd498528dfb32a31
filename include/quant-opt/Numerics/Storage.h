//===- Storage.h - Storage formats of quantized codes -------------*- C++ -*-===//
//
// The six storage formats quant-opt uses, their code ranges, and the block
// layout that the granularity rule (granularity = scale shape) implies.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_NUMERICS_STORAGE_H
#define QUANT_OPT_NUMERICS_STORAGE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quantopt {

enum class Storage { I8, I4, UI8, UI4, F8E4M3FN, F8E5M2 };

/// Parses the MLIR spelling ("i8", "i4", "ui8", "ui4", "f8E4M3FN",
/// "f8E5M2").
std::optional<Storage> parseStorage(std::string_view name);
/// The MLIR spelling of `s`.
const char *storageName(Storage s);

inline bool isFloat8(Storage s) {
  return s == Storage::F8E4M3FN || s == Storage::F8E5M2;
}
inline bool isSignedInteger(Storage s) {
  return s == Storage::I8 || s == Storage::I4;
}
inline unsigned bitWidth(Storage s) {
  return (s == Storage::I4 || s == Storage::UI4) ? 4 : 8;
}

/// Integer code range. `narrowRange` (signed storage only) drops the most
/// negative code: [-127, 127] for i8 and [-7, 7] for i4.
struct CodeRange {
  int32_t qmin, qmax;
};
CodeRange codeRange(Storage s, bool narrowRange = false);

/// Largest finite value of an FP8 storage format (448 or 57344).
float fp8MaxFinite(Storage s);

/// How a scale tensor tiles a data tensor: blockShape[i] data elements
/// along dimension i share one scale. Rank-0 scale shapes are per-tensor.
struct BlockLayout {
  std::vector<int64_t> dataShape;
  std::vector<int64_t> scaleShape; // rank 0 or rank of the data
  std::vector<int64_t> blockShape; // rank of the data

  /// Checks the granularity rule; on failure returns nullopt and sets
  /// `error`.
  static std::optional<BlockLayout> get(std::vector<int64_t> dataShape,
                                        std::vector<int64_t> scaleShape,
                                        std::string *error = nullptr);
  /// The usual 2-D weight layouts: groupSize 0 means one scale per row.
  /// nullopt when groupSize is negative or does not divide cols.
  static std::optional<BlockLayout> rowGroups(int64_t rows, int64_t cols,
                                              int64_t groupSize);

  int64_t numElements() const;
  int64_t numBlocks() const;
  /// The block of every element in row-major order (size numElements()).
  std::vector<int64_t> blockIndices() const;
};

} // namespace quantopt

#endif // QUANT_OPT_NUMERICS_STORAGE_H
