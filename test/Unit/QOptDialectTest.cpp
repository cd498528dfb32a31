//===- QOptDialectTest.cpp - Storage types and the granularity rule -------===//

#include "quant-opt/Dialect/QOpt/IR/QOpt.h"

#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

TEST(StorageInfoTest, Ranges) {
  MLIRContext ctx;
  Builder b(&ctx);
  auto i8 = getStorageInfo(b.getIntegerType(8));
  ASSERT_TRUE(i8);
  EXPECT_EQ(i8->qmin, -128);
  EXPECT_EQ(i8->qmax, 127);
  auto i8n = getStorageInfo(b.getIntegerType(8), /*narrowRange=*/true);
  EXPECT_EQ(i8n->qmin, -127);
  auto i4n = getStorageInfo(b.getIntegerType(4), true);
  EXPECT_EQ(i4n->qmin, -7);
  EXPECT_EQ(i4n->qmax, 7);
  auto u4 = getStorageInfo(IntegerType::get(&ctx, 4, IntegerType::Unsigned));
  EXPECT_EQ(u4->qmin, 0);
  EXPECT_EQ(u4->qmax, 15);
  EXPECT_FALSE(u4->isSigned);
  auto f8 = getStorageInfo(Float8E4M3FNType::get(&ctx));
  ASSERT_TRUE(f8);
  EXPECT_TRUE(f8->isFloat);
  EXPECT_FALSE(getStorageInfo(b.getIntegerType(16)));
  EXPECT_FALSE(getStorageInfo(IntegerType::get(&ctx, 8, IntegerType::Signed)));
  EXPECT_FALSE(getStorageInfo(b.getF16Type()));
}

TEST(BlockSizeTest, Granularities) {
  using V = SmallVector<int64_t>;
  // Per-tensor.
  EXPECT_EQ(*getBlockSizes({8, 256}, {}), (V{8, 256}));
  EXPECT_EQ(*getBlockSizes({8, 256}, {1, 1}), (V{8, 256}));
  // Per-channel and per-group.
  EXPECT_EQ(*getBlockSizes({8, 256}, {8, 1}), (V{1, 256}));
  EXPECT_EQ(*getBlockSizes({8, 256}, {8, 2}), (V{1, 128}));
  // 2-D blocks.
  EXPECT_EQ(*getBlockSizes({256, 512}, {2, 4}), (V{128, 128}));
  // Dynamic data dimension: known only at run time.
  EXPECT_EQ((*getBlockSizes({ShapedType::kDynamic, 4}, {1, 4}))[0],
            ShapedType::kDynamic);
}

TEST(BlockSizeTest, Violations) {
  std::string error;
  EXPECT_TRUE(failed(getBlockSizes({8, 256}, {8, 3}, &error)));
  EXPECT_NE(error.find("not a multiple"), std::string::npos);
  EXPECT_TRUE(failed(getBlockSizes({8, 256}, {8}, &error)));
  EXPECT_NE(error.find("rank"), std::string::npos);
  EXPECT_TRUE(failed(getBlockSizes({8, 256}, {0, 1}, &error)));
  EXPECT_NE(error.find("positive"), std::string::npos);
}

} // namespace
