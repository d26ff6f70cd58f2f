#include "workers/model/checkpoint/dtype.h"

#include <gtest/gtest.h>

namespace cluedrop::model {
namespace {

TEST(DTypeTest, EveryDTypeRoundTripsThroughItsName) {
  const struct {
    DType dtype;
    const char* name;
    size_t size;
  } kCases[] = {
      {DType::kF64, "F64", 8},   {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
      {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
      {DType::kI16, "I16", 2},   {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
      {DType::kBool, "BOOL", 1},
  };
  for (const auto& c : kCases) {
    EXPECT_STREQ(DTypeName(c.dtype), c.name);
    EXPECT_EQ(DTypeSize(c.dtype), c.size) << c.name;
    StatusOr<DType> parsed = ParseDType(c.name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c.dtype) << c.name;
  }
}

TEST(DTypeTest, RejectsUnknownAndMiscasedNames) {
  for (const char* name : {"f32", "F8_E4M3", "U32", "", "FLOAT"}) {
    StatusOr<DType> parsed = ParseDType(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(std::string("unsupported dtype '") + name + "'"),
              std::string::npos)
        << parsed.status();
  }
}

TEST(DTypeTest, LongNamesAreCutInMessages) {
  StatusOr<DType> parsed = ParseDType(std::string(1000, 'X'));
  ASSERT_FALSE(parsed.ok());
  EXPECT_LT(parsed.status().message().size(), 200u);
}

}  // namespace
}  // namespace cluedrop::model
