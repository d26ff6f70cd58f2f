#include "runtime/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace cluedrop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Options {
  std::string address = "0.0.0.0:1";
  bool verbose = false;
  int64_t drain_ms = 2000;
  uint32_t copies = 10;
  double alpha = 0.7;
  std::vector<std::string> paths = {"default.csv"};
};

class FlagsTest : public ::testing::Test {
 protected:
  FlagsTest() : flags_("prog", "does things") {
    flags_.Add("grpc_address", &options_.address, "where");
    flags_.Add("verbose", &options_.verbose, "talk");
    flags_.Add("shutdown_drain_ms", &options_.drain_ms, "drain");
    flags_.Add("copies", &options_.copies, "copies");
    flags_.Add("alpha", &options_.alpha, "alpha");
    flags_.Add("path", &options_.paths, "paths");
  }
  Options options_;
  FlagSet flags_;
};

TEST_F(FlagsTest, ParsesEveryFormAndKeepsPositionals) {
  auto positional = flags_.Parse({"job.yaml", "--grpc_address=127.0.0.1:0", "--verbose",
                                  "--shutdown-drain-ms", "15", "--copies=3", "--alpha", "0.25",
                                  "--path", "a.csv", "--path=b.csv", "--", "--not-a-flag"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_THAT(*positional, ElementsAre("job.yaml", "--not-a-flag"));
  EXPECT_EQ(options_.address, "127.0.0.1:0");
  EXPECT_TRUE(options_.verbose);
  EXPECT_EQ(options_.drain_ms, 15);
  EXPECT_EQ(options_.copies, 3u);
  EXPECT_DOUBLE_EQ(options_.alpha, 0.25);
  EXPECT_THAT(options_.paths, ElementsAre("a.csv", "b.csv"));
  EXPECT_TRUE(flags_.IsSet("shutdown_drain_ms"));
  EXPECT_FALSE(flags_.IsSet("grpc-address-x"));
}

TEST_F(FlagsTest, UnsetFlagsKeepDefaults) {
  ASSERT_TRUE(flags_.Parse(std::vector<std::string>{}).ok());
  EXPECT_EQ(options_.address, "0.0.0.0:1");
  EXPECT_EQ(options_.drain_ms, 2000);
  EXPECT_THAT(options_.paths, ElementsAre("default.csv"));
}

TEST_F(FlagsTest, BooleanForms) {
  options_.verbose = true;
  ASSERT_TRUE(flags_.Parse({"--noverbose"}).ok());
  EXPECT_FALSE(options_.verbose);
  ASSERT_TRUE(flags_.Parse({"--verbose", "true", "x"}).ok());
  EXPECT_TRUE(options_.verbose);
  ASSERT_TRUE(flags_.Parse({"--verbose=false"}).ok());
  EXPECT_FALSE(options_.verbose);
  // A non-boolean word after a bool flag is a positional, not its value.
  auto positional = flags_.Parse({"--verbose", "job.yaml"});
  ASSERT_TRUE(positional.ok());
  EXPECT_TRUE(options_.verbose);
  EXPECT_THAT(*positional, ElementsAre("job.yaml"));
}

TEST_F(FlagsTest, ErrorsNameTheFlag) {
  auto unknown = flags_.Parse({"--bogus=1"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown flag --bogus"));

  auto bad_int = flags_.Parse({"--shutdown_drain_ms=soon"});
  EXPECT_EQ(bad_int.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_int.status().message(), HasSubstr("--shutdown_drain_ms"));
  EXPECT_THAT(bad_int.status().message(), HasSubstr("'soon'"));

  auto negative_unsigned = flags_.Parse({"--copies=-1"});
  EXPECT_THAT(negative_unsigned.status().message(), HasSubstr("--copies"));

  auto bad_bool = flags_.Parse({"--verbose=maybe"});
  EXPECT_THAT(bad_bool.status().message(), HasSubstr("expected true or false"));

  auto missing = flags_.Parse({"--alpha"});
  EXPECT_THAT(missing.status().message(), HasSubstr("--alpha: missing value"));
}

TEST(FlagsEnvTest, EnvironmentFillsAbsentFlagsOnly) {
  std::string coordinator = "127.0.0.1:50051";
  FlagSet flags("prog", "x");
  flags.Add("coordinator", &coordinator, "addr").Env("CLUEDROP_TEST_COORD");
  setenv("CLUEDROP_TEST_COORD", "env:1", 1);
  ASSERT_TRUE(flags.Parse(std::vector<std::string>{}).ok());
  EXPECT_EQ(coordinator, "env:1");
  FlagSet flags2("prog", "x");
  flags2.Add("coordinator", &coordinator, "addr").Env("CLUEDROP_TEST_COORD");
  ASSERT_TRUE(flags2.Parse({"--coordinator=cli:2"}).ok());
  EXPECT_EQ(coordinator, "cli:2");
  unsetenv("CLUEDROP_TEST_COORD");
}

TEST(FlagsRequiredTest, RequiredFlagMustBeGivenUnlessHelp) {
  std::string input;
  FlagSet flags("prog", "x");
  flags.Add("input", &input, "file").Required().Env("CLUEDROP_TEST_INPUT");
  auto missing = flags.Parse(std::vector<std::string>{});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("--input: required"));
  EXPECT_THAT(missing.status().message(), HasSubstr("$CLUEDROP_TEST_INPUT"));
  FlagSet help("prog", "x");
  help.Add("input", &input, "file").Required();
  ASSERT_TRUE(help.Parse({"--help"}).ok());
  EXPECT_TRUE(help.help_requested());
}

TEST_F(FlagsTest, UsageListsFlagsDefaultsAndNotes) {
  flags_.AddUsageNote("Status: NOT BUILT YET");
  std::string usage = flags_.Usage();
  EXPECT_THAT(usage, HasSubstr("prog: does things"));
  EXPECT_THAT(usage, HasSubstr("--shutdown_drain_ms (int) default: '2000'"));
  EXPECT_THAT(usage, HasSubstr("--verbose (bool) default: 'false'"));
  EXPECT_THAT(usage, HasSubstr("Status: NOT BUILT YET"));
}

}  // namespace
}  // namespace cluedrop
