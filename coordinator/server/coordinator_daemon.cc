#include "coordinator/server/coordinator_daemon.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "auth/secret_file.h"
#include "auth/token_table.h"
#include "base/absl_status.h"
#include "base/file.h"
#include "coordinator/server/coordinator_server.h"

namespace cluedrop {
namespace {

using coordinator::AuthOptions;

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

absl::StatusOr<AuthOptions> LoadAuth(const CoordinatorOptions& options) {
  AuthOptions auth;
  if (!options.auth_token_file.empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(auth.tokens, auth::TokenTable::Load(options.auth_token_file));
  }
  if (!options.job_token_file.empty()) {
    CLUEDROP_ASSIGN_OR_RETURN(std::string token,
                              auth::ReadTokenFile(options.job_token_file, "--job_token_file"));
    auth::RoleSet roles;
    roles.Add(auth::Role::kSubmitter);
    roles.Add(auth::Role::kAdmin);
    if (absl::Status s = auth.tokens.Add(std::move(token), {"job-token", roles, ""}); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--job_token_file ", options.job_token_file, ": ", s.message()));
    }
  }
  // A server that requires client certificates identifies callers by them.
  auth.certificates = !options.server.tls.ca_file.empty();
  auth.allow_unauthenticated = options.insecure_allow_unauthenticated;
  return auth;
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
      ->Add("auth_token_file", &options->auth_token_file,
            "token table, one \"<token> <identity> <role>[,<role>]\" per line (roles: "
            "submitter, scorer, trainer, admin); chmod 600; see docs/security.md")
      .Env("CLUEDROP_AUTH_TOKEN_FILE");
  flags
      ->Add("job_token_file", &options->job_token_file,
            "file with one bearer token for JobService (identity job-token, roles "
            "submitter,admin); chmod 600")
      .Env("CLUEDROP_JOB_TOKEN_FILE");
  flags->Add("insecure_allow_unauthenticated", &options->insecure_allow_unauthenticated,
             "DEVELOPMENT ONLY: callers without credentials get every role");
  flags->Add("corpus_root", &options->corpus_roots,
             "a directory job input files (corpus, prompt table, few-shot pool) must resolve "
             "into; repeatable (none: anywhere; devices, FIFOs and /proc are always refused)");
  flags->Add("output_root", &options->output_roots,
             "a directory a job's output_dir must lie in; repeatable (none: anywhere)");
  flags->Add("max_corpus_bytes", &options->max_corpus_bytes,
             "largest total size of one job's corpus files");
  flags->Add("max_watch_streams", &options->max_watch_streams,
             "WatchJob streams open at once; more are RESOURCE_EXHAUSTED (0: no cap)");
  flags->Add("max_long_polls", &options->max_long_polls,
             "LeaseShard and JoinTraining calls waiting at once (0: no cap)");
  flags->Add("max_shard_streams", &options->max_shard_streams,
             "StreamShards streams open at once (0: no cap)");
  flags->Add("max_stream_seconds", &options->max_stream_seconds,
             "WatchJob and StreamShards streams end after this many seconds; clients resume "
             "(0: never)");
  flags->Add("max_corpus_bytes_per_submitter", &options->max_corpus_bytes_per_submitter,
             "corpus bytes one submitter identity's unfinished jobs may hold together (0: no cap)");
  flags->Add("max_jobs_per_submitter", &options->max_jobs_per_submitter,
             "unfinished jobs one submitter identity may have (0: no cap)");
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
  CLUEDROP_ASSIGN_OR_RETURN(server_options.auth, LoadAuth(options));
  server_options.server = options.server;
  server_options.manager.data_dir = options.data_dir;
  server_options.manager.paths.input_roots = options.corpus_roots;
  server_options.manager.paths.output_roots = options.output_roots;
  server_options.manager.paths.max_corpus_bytes = options.max_corpus_bytes;
  server_options.limits.max_watch_streams = options.max_watch_streams;
  server_options.limits.max_long_polls = options.max_long_polls;
  server_options.limits.max_shard_streams = options.max_shard_streams;
  server_options.limits.max_stream_seconds = options.max_stream_seconds;
  server_options.manager.max_jobs_per_submitter = options.max_jobs_per_submitter;
  server_options.manager.max_corpus_bytes_per_submitter = options.max_corpus_bytes_per_submitter;
  for (const std::string& secret :
       {options.auth_token_file, options.job_token_file, options.server.tls.key_file}) {
    if (!secret.empty()) server_options.manager.paths.forbidden.push_back(secret);
  }
  server_options.manager.scheduler = options.scheduler;
  server_options.manager.max_lease_wait_ms = options.max_lease_wait_ms;
  server_options.manager.stream_chunk_bytes = options.stream_chunk_bytes;
  CLUEDROP_ASSIGN_OR_RETURN(std::unique_ptr<coordinator::CoordinatorServer> coordinator,
                            coordinator::CoordinatorServer::Start(std::move(server_options)));
  return coordinator->RunUntilShutdown(*shutdown);
}

}  // namespace cluedrop
