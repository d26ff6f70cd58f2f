// What the job commands (submit, status, list, watch, cancel) share: the
// connection flags, the seams tests replace (streams, stub, clock), flag
// parsing with positional arguments, and how errors print and map to exit
// codes.
//
// Example:
//   JobClientOptions options;
//   FlagSet flags("cluedrop status", "...");
//   AddJobClientFlags(&flags, &options);
//   ...
//   absl::StatusOr<std::unique_ptr<v1::JobService::StubInterface>> stub =
//       env.connect(options);
//   auto context = NewCallContext(options);
//   grpc::Status status = (*stub)->GetJob(context.get(), request, &job);
//   if (!status.ok()) return ReportRpcError(env, "status", options, status);
#ifndef CLUEDROP_CLI_JOB_CLIENT_H_
#define CLUEDROP_CLI_JOB_CLIENT_H_

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cluedrop/v1/job_service.grpc.pb.h"
#include "runtime/channel.h"

namespace cluedrop {
class FlagSet;
}  // namespace cluedrop

namespace cluedrop::cli {

// Connection settings of the job commands, filled from flags.
struct JobClientOptions {
  // --coordinator (env CLUEDROP_COORDINATOR); TLS when --tls or any of
  // --tls_ca / --tls_cert / --tls_key is given.
  ChannelOptions channel{.target = "127.0.0.1:50051"};
  // --token (env CLUEDROP_TOKEN): sent as "authorization: Bearer <token>".
  std::string token;
  // --token_file (env CLUEDROP_TOKEN_FILE): read into `token` once the flags
  // are parsed (ParseJobCommandFlags); keeps the token off the command line.
  std::string token_file;
  // --timeout_s: deadline of each unary call.
  double timeout_s = 30;
};

// Registers --coordinator, --token, --token_file, --tls, --tls_ca, --tls_cert, --tls_key
// and --timeout_s, bound to `*options`.
void AddJobClientFlags(FlagSet* flags, JobClientOptions* options);

using JobStub = v1::JobService::StubInterface;

// Creates a JobService stub on a channel built from `options`
// (MakeChannel: retry on UNAVAILABLE, keepalive, TLS). INVALID_ARGUMENT or
// NOT_FOUND for bad TLS settings or files.
absl::StatusOr<std::unique_ptr<JobStub>> ConnectJobService(const JobClientOptions& options);

// The channel behind ConnectJobService (TLS when --tls or any of the TLS
// files is given), for the other services the CLI calls (`results`).
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectCoordinator(const JobClientOptions& options);

// A context with the --timeout_s deadline and the bearer token.
std::unique_ptr<grpc::ClientContext> NewCallContext(const JobClientOptions& options);

// Everything a job command touches outside itself. Tests replace the
// streams, the stub factory and the clock; DefaultJobCommandEnv() is the
// real process.
struct JobCommandEnv {
  // Results (stdout) and diagnostics (stderr); both must be set.
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // True when `err` is a terminal: watch redraws its progress line in place.
  bool err_is_tty = false;
  std::function<absl::StatusOr<std::unique_ptr<JobStub>>(const JobClientOptions&)> connect =
      ConnectJobService;
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) { absl::SleepFor(d); };
  // Times are printed in this zone.
  absl::TimeZone time_zone = absl::UTCTimeZone();
};

// std::cout / std::cerr, isatty(stderr), the real channel, clock and the
// local time zone.
JobCommandEnv DefaultJobCommandEnv();

// 0 for OK, 2 (usage) for INVALID_ARGUMENT, 1 for every other code.
int ExitCodeFor(const absl::Status& status);

// Prints "cluedrop COMMAND: CODE: message" on env.err, one line per line of
// the message; UNAVAILABLE and DEADLINE_EXCEEDED also name the coordinator.
// Returns ExitCodeFor(status).
int ReportError(const JobCommandEnv& env, absl::string_view command,
                const JobClientOptions& options, const absl::Status& status);
int ReportRpcError(const JobCommandEnv& env, absl::string_view command,
                   const JobClientOptions& options, const grpc::Status& status);

// Parses `args` and expects exactly `want` positional arguments, named in
// errors by `positional_names` (e.g. "JOB_ID"). Returns the exit code when
// the command should stop now (--help printed on env.out: 0; bad flag or
// wrong positional count: 2, message on env.err), nullopt to go on. Then
// reads client->token_file, when set, into client->token (an unreadable or
// world-readable file: 2).
std::optional<int> ParseJobCommandFlags(FlagSet& flags, const std::vector<std::string>& args,
                                        size_t want, absl::string_view positional_names,
                                        const JobCommandEnv& env,
                                        std::vector<std::string>* positional,
                                        JobClientOptions* client);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_CLIENT_H_
