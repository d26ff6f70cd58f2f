#include "runtime/channel.h"

#include <gmock/gmock.h>
#include <grpcpp/support/validate_service_config.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cluedrop {
namespace {

using ::testing::HasSubstr;

TEST(ChannelTest, RetryConfigRetriesUnavailableOnlyWithBackoff) {
  ChannelOptions options;
  options.retry_max_attempts = 9;  // gRPC's cap is 5
  options.retry_initial_backoff_ms = 250;
  options.retry_max_backoff_ms = 4000;
  nlohmann::json config = nlohmann::json::parse(RetryServiceConfig(options));
  const auto& policy = config["methodConfig"][0]["retryPolicy"];
  EXPECT_EQ(policy["maxAttempts"], 5);
  EXPECT_EQ(policy["initialBackoff"], "0.250s");
  EXPECT_EQ(policy["maxBackoff"], "4.000s");
  EXPECT_EQ(policy["retryableStatusCodes"], nlohmann::json::array({"UNAVAILABLE"}));
  EXPECT_TRUE(config["methodConfig"][0]["name"][0].empty());
  EXPECT_EQ(config["methodConfig"].size(), 1u);
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(RetryServiceConfig(options)), "");
}

// A client-streaming method can be left to its caller's retries: its own
// methodConfig entry has no retryPolicy, and the default entry keeps one.
TEST(ChannelTest, UnretriedMethodsGetAnEntryWithoutRetryPolicy) {
  ChannelOptions options;
  options.unretried_methods = {"cluedrop.v1.WorkService/CompleteShard", "pkg.Other/Send"};
  nlohmann::json config = nlohmann::json::parse(RetryServiceConfig(options));
  ASSERT_EQ(config["methodConfig"].size(), 2u);
  EXPECT_TRUE(config["methodConfig"][0].contains("retryPolicy"));
  const auto& own = config["methodConfig"][1];
  EXPECT_FALSE(own.contains("retryPolicy"));
  EXPECT_EQ(own["name"], nlohmann::json::parse(R"([
      {"service": "cluedrop.v1.WorkService", "method": "CompleteShard"},
      {"service": "pkg.Other", "method": "Send"}])"));
  // gRPC's own validator accepts it ("" means valid).
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(RetryServiceConfig(options)), "");
}

TEST(ChannelTest, BadSettingsAreClearErrors) {
  EXPECT_EQ(MakeChannel({}).status().code(), absl::StatusCode::kInvalidArgument);
  ChannelOptions tls;
  tls.target = "127.0.0.1:1";
  tls.use_tls = true;
  tls.tls.ca_file = "/nonexistent/ca.pem";
  absl::Status status = MakeChannel(tls).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/ca.pem"));
}

TEST(ChannelTest, ContextCarriesDeadlineAndToken) {
  auto before = std::chrono::system_clock::now();
  auto context = MakeClientContext(absl::Seconds(7), "secret");
  auto remaining = context->deadline() - before;
  EXPECT_GT(remaining, std::chrono::seconds(6));
  EXPECT_LE(remaining, std::chrono::seconds(8));
}

TEST(ChannelTest, UnreachableTargetFailsWithinDeadline) {
  auto channel = MakeChannel({.target = "127.0.0.1:1", .retry_max_attempts = 1});
  ASSERT_TRUE(channel.ok());
  auto context = MakeClientContext(absl::Milliseconds(300));
  context->set_wait_for_ready(false);
  EXPECT_FALSE((*channel)->WaitForConnected(context->deadline()));
}

}  // namespace
}  // namespace cluedrop
