//===- Npy.h - Read and write NumPy .npy files --------------------*- C++ -*-===//

#ifndef QUANT_OPT_SUPPORT_NPY_H
#define QUANT_OPT_SUPPORT_NPY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace quantopt {

/// A C-ordered little-endian array as stored in a `.npy` file.
struct NpyArray {
  std::string dtype;          ///< NumPy type string, e.g. "<f4", "|i1".
  std::vector<int64_t> shape; ///< Empty for a 0-d array.
  std::vector<uint8_t> data;  ///< numElements() * itemSize() bytes.

  int64_t numElements() const;
  /// Bytes per element, from the dtype string ("<f4" -> 4).
  size_t itemSize() const;
  /// The shape as NumPy prints it: "(2, 3)", "(4,)", "()".
  std::string shapeString() const;
};

/// Parses a `.npy` file (format versions 1.0, 2.0 and 3.0). Fortran-ordered,
/// big-endian and object arrays are rejected with a message naming the file.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Parses `.npy` bytes; `name` is used in error messages.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// Reads the arrays of a `.npz` archive (np.savez: uncompressed zip,
/// zip64 extensions included) in archive order, with their names (the file
/// name without ".npy"). Compressed archives (np.savez_compressed) are
/// rejected with a message.
llvm::Expected<std::vector<std::pair<std::string, NpyArray>>>
readNpz(llvm::StringRef path);

/// Writes `array` as a version 1.0 `.npy` file.
llvm::Error writeNpy(llvm::StringRef path, const NpyArray &array);

/// Serializes `array` to `.npy` bytes.
std::string serializeNpy(const NpyArray &array);

} // namespace quantopt

#endif // QUANT_OPT_SUPPORT_NPY_H
