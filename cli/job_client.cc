#include "cli/job_client.h"

#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "auth/secret_file.h"
#include "cli/cli.h"
#include "runtime/flags.h"
#include "runtime/grpc_status.h"

namespace cluedrop::cli {

void AddJobClientFlags(FlagSet* flags, JobClientOptions* options) {
  flags->Add("coordinator", &options->channel.target, "coordinator host:port")
      .Env("CLUEDROP_COORDINATOR");
  flags->Add("token", &options->token, "bearer token sent with every call").Env("CLUEDROP_TOKEN");
  flags
      ->Add("token_file", &options->token_file,
            "file holding the bearer token (chmod 600); instead of --token")
      .Env("CLUEDROP_TOKEN_FILE");
  flags->Add("tls", &options->channel.use_tls, "connect with TLS (system roots)");
  flags->Add("tls_ca", &options->channel.tls.ca_file, "PEM roots to verify the coordinator (TLS)");
  flags->Add("tls_cert", &options->channel.tls.cert_file, "PEM client certificate (mutual TLS)");
  flags->Add("tls_key", &options->channel.tls.key_file, "PEM client key (mutual TLS)");
  flags->Add("timeout_s", &options->timeout_s, "deadline of each call, in seconds");
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectCoordinator(const JobClientOptions& options) {
  ChannelOptions channel = options.channel;
  channel.use_tls = channel.use_tls || !channel.tls.ca_file.empty() ||
                    !channel.tls.cert_file.empty() || !channel.tls.key_file.empty();
  return MakeChannel(channel);
}

absl::StatusOr<std::unique_ptr<JobStub>> ConnectJobService(const JobClientOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> made = ConnectCoordinator(options);
  if (!made.ok()) return made.status();
  return std::unique_ptr<JobStub>(v1::JobService::NewStub(*made));
}

std::unique_ptr<grpc::ClientContext> NewCallContext(const JobClientOptions& options) {
  return MakeClientContext(absl::Seconds(options.timeout_s), options.token);
}

JobCommandEnv DefaultJobCommandEnv() {
  JobCommandEnv env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.err_is_tty = ::isatty(STDERR_FILENO) == 1;
  env.time_zone = absl::LocalTimeZone();
  return env;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

int ReportError(const JobCommandEnv& env, absl::string_view command,
                const JobClientOptions& options, const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  std::string where;
  if (status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDeadlineExceeded) {
    where = absl::StrCat(options.channel.target, ": ");
  }
  for (absl::string_view line : absl::StrSplit(status.message(), '\n', absl::SkipEmpty())) {
    *env.err << "cluedrop " << command << ": " << code << ": " << where << line << "\n";
  }
  if (status.message().empty()) *env.err << "cluedrop " << command << ": " << code << "\n";
  env.err->flush();
  return ExitCodeFor(status);
}

int ReportRpcError(const JobCommandEnv& env, absl::string_view command,
                   const JobClientOptions& options, const grpc::Status& status) {
  return ReportError(env, command, options, FromGrpcStatus(status));
}

std::optional<int> ParseJobCommandFlags(FlagSet& flags, const std::vector<std::string>& args,
                                        size_t want, absl::string_view positional_names,
                                        const JobCommandEnv& env,
                                        std::vector<std::string>* positional,
                                        JobClientOptions* client) {
  absl::StatusOr<std::vector<std::string>> parsed = flags.Parse(args);
  if (!parsed.ok()) {
    *env.err << "cluedrop: " << parsed.status().message() << std::endl;
    return kExitUsage;
  }
  if (flags.help_requested()) {
    *env.out << flags.Usage();
    return kExitOk;
  }
  if (parsed->size() != want) {
    *env.err << "cluedrop: expected " << positional_names << " (" << want << " argument"
             << (want == 1 ? "" : "s") << "), got " << parsed->size() << "; see --help"
             << std::endl;
    return kExitUsage;
  }
  *positional = std::move(*parsed);
  if (client != nullptr && !client->token_file.empty()) {
    if (!client->token.empty()) {
      *env.err << "cluedrop: give --token or --token_file (CLUEDROP_TOKEN or CLUEDROP_TOKEN_FILE), "
                  "not both"
               << std::endl;
      return kExitUsage;
    }
    absl::StatusOr<std::string> token = auth::ReadTokenFile(client->token_file, "--token_file");
    if (!token.ok()) {
      *env.err << "cluedrop: " << token.status().message() << std::endl;
      return kExitUsage;
    }
    client->token = std::move(*token);
  }
  return std::nullopt;
}

}  // namespace cluedrop::cli
