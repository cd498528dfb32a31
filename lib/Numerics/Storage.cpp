//===- Storage.cpp - Storage formats and block layouts --------------------===//

#include "quant-opt/Numerics/Storage.h"

#include "quant-opt/Numerics/Float8.h"

namespace quantopt {

std::optional<Storage> parseStorage(std::string_view name) {
  for (Storage s : {Storage::I8, Storage::I4, Storage::UI8, Storage::UI4,
                    Storage::F8E4M3FN, Storage::F8E5M2})
    if (name == storageName(s))
      return s;
  return std::nullopt;
}

const char *storageName(Storage s) {
  switch (s) {
  case Storage::I8:
    return "i8";
  case Storage::I4:
    return "i4";
  case Storage::UI8:
    return "ui8";
  case Storage::UI4:
    return "ui4";
  case Storage::F8E4M3FN:
    return "f8E4M3FN";
  case Storage::F8E5M2:
    return "f8E5M2";
  }
  return "?";
}

CodeRange codeRange(Storage s, bool narrowRange) {
  switch (s) {
  case Storage::I8:
    return {narrowRange ? -127 : -128, 127};
  case Storage::I4:
    return {narrowRange ? -7 : -8, 7};
  case Storage::UI8:
    return {0, 255};
  case Storage::UI4:
    return {0, 15};
  case Storage::F8E4M3FN:
  case Storage::F8E5M2:
    break;
  }
  return {0, 0};
}

float fp8MaxFinite(Storage s) {
  return fp8MaxFinite(s == Storage::F8E4M3FN ? FP8Format::E4M3FN
                                             : FP8Format::E5M2);
}

std::optional<BlockLayout> BlockLayout::get(std::vector<int64_t> dataShape,
                                            std::vector<int64_t> scaleShape,
                                            std::string *error) {
  auto fail = [&](std::string msg) -> std::optional<BlockLayout> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  BlockLayout layout;
  if (!scaleShape.empty() && scaleShape.size() != dataShape.size())
    return fail("scale rank " + std::to_string(scaleShape.size()) +
                " is neither 0 nor the data rank " +
                std::to_string(dataShape.size()));
  for (size_t i = 0; i < dataShape.size(); ++i) {
    int64_t d = dataShape[i];
    int64_t s = scaleShape.empty() ? 1 : scaleShape[i];
    if (d < 0 || s < 0)
      return fail("negative dimension");
    if (s == 0 && d == 0) {
      layout.blockShape.push_back(1);
      continue;
    }
    if (s == 0 || d % s != 0)
      return fail("data dimension " + std::to_string(i) + " (" +
                  std::to_string(d) + ") is not a multiple of scale dimension " +
                  std::to_string(s));
    layout.blockShape.push_back(d / s);
  }
  layout.dataShape = std::move(dataShape);
  layout.scaleShape = std::move(scaleShape);
  return layout;
}

std::optional<BlockLayout> BlockLayout::rowGroups(int64_t rows, int64_t cols,
                                                  int64_t groupSize) {
  if (groupSize < 0 || (groupSize > 0 && cols % groupSize != 0))
    return std::nullopt;
  int64_t groups = groupSize == 0 ? 1 : cols / groupSize;
  return get({rows, cols}, {rows, groups});
}

int64_t BlockLayout::numElements() const {
  int64_t n = 1;
  for (int64_t d : dataShape)
    n *= d;
  return n;
}

int64_t BlockLayout::numBlocks() const {
  int64_t n = 1;
  for (int64_t d : scaleShape)
    n *= d;
  return n;
}

std::vector<int64_t> BlockLayout::blockIndices() const {
  std::vector<int64_t> indices(numElements());
  if (indices.empty())
    return indices;
  size_t rank = dataShape.size();
  if (scaleShape.empty()) // per-tensor: every element is in block 0
    return indices;
  // Walk the data in row-major order with a multi-index; the block index
  // is the row-major index of (i_k / block_k).
  std::vector<int64_t> idx(rank, 0);
  std::vector<int64_t> scaleStride(rank, 1);
  for (int64_t k = int64_t(rank) - 2; k >= 0; --k)
    scaleStride[k] = scaleStride[k + 1] * scaleShape[k + 1];
  for (int64_t &out : indices) {
    int64_t b = 0;
    for (size_t k = 0; k < rank; ++k)
      b += (idx[k] / blockShape[k]) * scaleStride[k];
    out = b;
    for (int64_t k = int64_t(rank) - 1; k >= 0; --k) {
      if (++idx[k] < dataShape[k])
        break;
      idx[k] = 0;
    }
  }
  return indices;
}

} // namespace quantopt
