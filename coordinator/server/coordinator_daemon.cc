#include "coordinator/server/coordinator_daemon.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_status.h"
#include "base/file.h"
#include "coordinator/server/coordinator_server.h"

namespace cluedrop {
namespace {

absl::Status EnsureWritableDirectory(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir ", dir, ": cannot create: ", error.message()));
  }
  const std::filesystem::path probe = std::filesystem::path(dir) / ".write-probe";
  {
    std::ofstream out(probe);
    out << "ok";
    if (!out) {
      return absl::FailedPreconditionError(absl::StrCat("data_dir ", dir, ": not writable"));
    }
  }
  std::filesystem::remove(probe, error);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  if (path.empty()) return std::string();
  StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Annotate(ToAbslStatus(text.status()), "--job_token_file");
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--job_token_file ", path, ": empty"));
  }
  return token;
}

}  // namespace

void RegisterCoordinatorFlags(FlagSet* flags, CoordinatorOptions* options) {
  RegisterServerFlags(flags, &options->server);
  flags->Add("data_dir", &options->data_dir,
             "directory for the SQLite state and the scored-shard store (created if missing)");
  flags->Add("lease_ttl_ms", &options->scheduler.lease_ttl_ms,
             "a shard lease not extended by a heartbeat for this long expires");
  flags->Add("heartbeat_interval_ms", &options->scheduler.heartbeat_interval_ms,
             "how often workers are told to heartbeat");
  flags->Add("worker_ttl_ms", &options->scheduler.worker_ttl_ms,
             "a worker silent for this long is forgotten");
  flags->Add("max_attempts", &options->scheduler.max_attempts,
             "failures (expiries, worker errors) after which a shard fails its job");
  flags->Add("retry_backoff_ms", &options->scheduler.backoff_initial_ms,
             "delay before a failed shard is leased again (doubles per failure)");
  flags->Add("retry_backoff_max_ms", &options->scheduler.backoff_max_ms, "cap on the retry delay");
  flags->Add("max_lease_wait_ms", &options->max_lease_wait_ms,
             "longest LeaseShard long poll the server honours");
  flags->Add("stream_chunk_bytes", &options->stream_chunk_bytes,
             "scored documents per StreamShards message are cut at about this size");
  flags
      ->Add("job_token_file", &options->job_token_file,
            "file with the bearer token JobService requires (empty: no token)")
      .Env("CLUEDROP_JOB_TOKEN_FILE");
}

absl::Status RunCoordinator(const CoordinatorOptions& options, ShutdownController* shutdown) {
  CLUEDROP_RETURN_IF_ABSL_ERROR(EnsureWritableDirectory(options.data_dir));
  if (options.scheduler.lease_ttl_ms <= options.scheduler.heartbeat_interval_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--lease_ttl_ms (", options.scheduler.lease_ttl_ms,
        ") must exceed --heartbeat_interval_ms (", options.scheduler.heartbeat_interval_ms, ")"));
  }
  if (options.scheduler.max_attempts == 0) {
    return absl::InvalidArgumentError("--max_attempts: must be at least 1");
  }
  coordinator::CoordinatorServerOptions server_options;
  CLUEDROP_ASSIGN_OR_RETURN(server_options.job_token, ReadToken(options.job_token_file));
  server_options.server = options.server;
  server_options.manager.data_dir = options.data_dir;
  server_options.manager.scheduler = options.scheduler;
  server_options.manager.max_lease_wait_ms = options.max_lease_wait_ms;
  server_options.manager.stream_chunk_bytes = options.stream_chunk_bytes;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<coordinator::CoordinatorServer> coordinator,
                            coordinator::CoordinatorServer::Start(std::move(server_options)));
  return coordinator->RunUntilShutdown(*shutdown);
}

}  // namespace cluedrop
