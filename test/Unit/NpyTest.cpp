//===- NpyTest.cpp - .npy reader and writer -------------------------------===//

#include "quant-opt/Support/Npy.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace quantopt;

namespace {

// np.save of np.array([[1.5, -2.0, 0.25], [3.0, 4.0, 5.0]], dtype=np.float32)
// is reproduced header byte for byte by serializeNpy: check the layout
// rules the format fixes.
TEST(NpyTest, HeaderLayout) {
  NpyArray a{"<f4", {2, 3}, std::vector<uint8_t>(24)};
  std::string bytes = serializeNpy(a);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  size_t headerLen = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
  EXPECT_EQ((10 + headerLen) % 64, 0u);
  EXPECT_EQ(bytes[10 + headerLen - 1], '\n');
  EXPECT_NE(bytes.find("'shape': (2, 3)"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + headerLen + 24);
}

TEST(NpyTest, RoundTrip) {
  float values[3] = {1.5f, -2.0f, 0.25f};
  NpyArray a{"<f4", {3}, {}};
  a.data.resize(12);
  std::memcpy(a.data.data(), values, 12);
  auto parsed = parseNpy(serializeNpy(a), "mem");
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_EQ(parsed->dtype, "<f4");
  EXPECT_EQ(parsed->shape, std::vector<int64_t>{3});
  EXPECT_EQ(parsed->data, a.data);
  EXPECT_EQ(parsed->shapeString(), "(3,)");
}

TEST(NpyTest, ScalarShape) {
  NpyArray a{"|i1", {}, {7}};
  auto parsed = parseNpy(serializeNpy(a), "mem");
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  EXPECT_TRUE(parsed->shape.empty());
  EXPECT_EQ(parsed->numElements(), 1);
  EXPECT_EQ(parsed->shapeString(), "()");
}

std::string errorOf(llvm::StringRef bytes) {
  auto parsed = parseNpy(bytes, "bad.npy");
  if (parsed)
    return "";
  return llvm::toString(parsed.takeError());
}

TEST(NpyTest, RejectsMalformedFiles) {
  EXPECT_NE(errorOf("PK\x03\x04"), "");
  EXPECT_NE(errorOf("\x93NUMPY"), "");
  NpyArray a{"<f4", {4}, std::vector<uint8_t>(16)};
  std::string good = serializeNpy(a);
  // Truncated data.
  EXPECT_NE(errorOf(good.substr(0, good.size() - 1)).find("truncated"),
            std::string::npos);
  // Fortran order.
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_NE(errorOf(fortran).find("Fortran"), std::string::npos);
  // Object arrays.
  std::string object = good;
  object.replace(object.find("<f4"), 3, "|O8");
  EXPECT_NE(errorOf(object).find("dtype"), std::string::npos);
  // Every error names the file.
  EXPECT_NE(errorOf("junk").find("bad.npy"), std::string::npos);
}

} // namespace
