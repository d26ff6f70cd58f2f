#include "runtime/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace cluedrop {

std::string RetryServiceConfig(const ChannelOptions& options) {
  // gRPC caps maxAttempts at 5; an empty name entry applies to all methods,
  // and a method's own entry (here: one without a retry policy) wins over it.
  const uint32_t attempts = std::clamp<uint32_t>(options.retry_max_attempts, 2, 5);
  std::string config = absl::StrFormat(
      R"({"methodConfig":[{"name":[{}],"retryPolicy":{"maxAttempts":%d,)"
      R"("initialBackoff":"%.3fs","maxBackoff":"%.3fs","backoffMultiplier":2,)"
      R"("retryableStatusCodes":["UNAVAILABLE"]}})",
      attempts, options.retry_initial_backoff_ms / 1000.0, options.retry_max_backoff_ms / 1000.0);
  if (!options.unretried_methods.empty()) {
    std::vector<std::string> names;
    for (const std::string& full : options.unretried_methods) {
      const size_t slash = full.find('/');
      names.push_back(absl::StrFormat(R"({"service":"%s","method":"%s"})", full.substr(0, slash),
                                      slash == std::string::npos ? "" : full.substr(slash + 1)));
    }
    absl::StrAppend(&config, R"(,{"name":[)", absl::StrJoin(names, ","), "]}");
  }
  absl::StrAppend(&config, "]}");
  return config;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ChannelOptions& options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("channel target is empty (expected host:port)");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.use_tls, options.tls, options.tls_refresh_s);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options.keepalive_timeout_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.retry_max_attempts > 1 ? 1 : 0);
  args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  if (options.retry_max_attempts > 1) args.SetServiceConfigJSON(RetryServiceConfig(options));
  return grpc::CreateCustomChannel(options.target, *credentials, args);
}

std::unique_ptr<grpc::ClientContext> MakeClientContext(absl::Duration timeout,
                                                       absl::string_view bearer_token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!bearer_token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", bearer_token));
  }
  return context;
}

}  // namespace cluedrop
