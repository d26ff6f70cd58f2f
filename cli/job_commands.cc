// `cluedrop submit`, `status`, `list`, `watch`, `cancel`.
#include "cli/job_commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <optional>
#include <ostream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "cli/enum_names.h"
#include "cli/job_format.h"
#include "cli/job_spec_file.h"
#include "cli/job_watch.h"
#include "runtime/flags.h"

namespace cluedrop::cli {
namespace {

constexpr char kConnectionNote[] =
    "The coordinator is --coordinator (or $CLUEDROP_COORDINATOR); --token (or $CLUEDROP_TOKEN) "
    "is sent as a bearer token. Exit codes: 0 ok, 1 failure, 2 usage or invalid argument.";

// A random idempotency token, so that the channel's retries of one submit
// never create two jobs.
std::string RandomRequestId() {
  std::random_device device;
  std::mt19937_64 generator((static_cast<uint64_t>(device()) << 32) ^ device());
  return absl::StrFormat("cli-%016x", generator());
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  return json;
}

// Connects or reports why not (bad TLS settings: exit 2; others: 1).
std::unique_ptr<JobStub> ConnectOrReport(const JobCommandEnv& env, absl::string_view command,
                                         const JobClientOptions& client, int* exit_code) {
  absl::StatusOr<std::unique_ptr<JobStub>> stub = env.connect(client);
  if (!stub.ok()) {
    *exit_code = ReportError(env, command, client, stub.status());
    return nullptr;
  }
  return std::move(*stub);
}

// Parses --state values ("queued", "JOB_STATE_FAILED", "scoring,training").
absl::StatusOr<std::vector<v1::JobState>> ParseStates(const std::vector<std::string>& values) {
  std::vector<v1::JobState> states;
  for (const std::string& value : values) {
    for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      std::optional<int> state = ParseEnumName(v1::JobState_descriptor(), name);
      if (!state || *state == v1::JOB_STATE_UNSPECIFIED) {
        return absl::InvalidArgumentError(
            absl::StrCat("--state: unknown state \"", name, "\" (expected one of ",
                         EnumChoices(v1::JobState_descriptor()), ")"));
      }
      states.push_back(static_cast<v1::JobState>(*state));
    }
  }
  return states;
}

}  // namespace

int SubmitCommand(const std::vector<std::string>& args, const JobCommandEnv& env) {
  JobClientOptions client;
  client.timeout_s = 300;  // the coordinator reads and shards the corpus first
  std::string request_id;
  bool watch = false;
  FlagSet flags("cluedrop submit",
                "submits a job spec (YAML or JSON, see examples/) to the coordinator; prints the "
                "job id on stdout and a summary on stderr. Relative paths in the spec are made "
                "absolute against the spec file's directory (the coordinator reads them).");
  flags.AddUsageNote("Usage: cluedrop submit JOB.yaml [flags]\n\n" + std::string(kConnectionNote));
  AddJobClientFlags(&flags, &client);
  flags.Add("request_id", &request_id,
            "idempotency token: resubmitting with the same id returns the first job (default: "
            "a random id per invocation)");
  flags.Add("watch", &watch, "then follow the job until it ends, as `cluedrop watch`");
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 1, "JOB.yaml", env, &positional, &client)) {
    return *exit;
  }

  JobSpecLines lines;
  absl::StatusOr<v1::JobSpec> spec = ParseJobSpecFile(positional[0], &lines);
  if (!spec.ok()) return ReportError(env, "submit", client, spec.status());
  int exit_code = kExitFailure;
  std::unique_ptr<JobStub> stub = ConnectOrReport(env, "submit", client, &exit_code);
  if (stub == nullptr) return exit_code;

  v1::SubmitJobRequest request;
  *request.mutable_spec() = *std::move(spec);
  request.set_request_id(request_id.empty() ? RandomRequestId() : request_id);
  v1::Job job;
  std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
  const grpc::Status status = stub->SubmitJob(context.get(), request, &job);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return ReportError(
        env, "submit", client,
        absl::InvalidArgumentError(absl::StrJoin(lines.AnnotateAll(status.error_message()), "\n")));
  }
  if (!status.ok()) return ReportRpcError(env, "submit", client, status);
  *env.out << job.id() << std::endl;
  *env.err << "cluedrop submit: submitted " << SubmitSummary(job) << std::endl;
  if (!watch) return kExitOk;
  return WatchJobToEnd(stub.get(), client, job.id(), WatchOptions{}, env, "submit");
}

int StatusCommand(const std::vector<std::string>& args, const JobCommandEnv& env) {
  JobClientOptions client;
  bool json = false;
  FlagSet flags("cluedrop status",
                "prints one job's state, reason, progress, evaluations (EM / F1 per field) and "
                "model_dir.");
  flags.AddUsageNote("Usage: cluedrop status JOB_ID [flags]\n\n" + std::string(kConnectionNote));
  AddJobClientFlags(&flags, &client);
  flags.Add("json", &json, "print the Job message as JSON (proto field names)");
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 1, "JOB_ID", env, &positional, &client))
    return *exit;
  int exit_code = kExitFailure;
  std::unique_ptr<JobStub> stub = ConnectOrReport(env, "status", client, &exit_code);
  if (stub == nullptr) return exit_code;

  v1::GetJobRequest request;
  request.set_job_id(positional[0]);
  v1::Job job;
  std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
  const grpc::Status status = stub->GetJob(context.get(), request, &job);
  if (!status.ok()) return ReportRpcError(env, "status", client, status);
  *env.out << (json ? ToJson(job) : FormatJobStatus(job, env.time_zone)) << std::flush;
  return kExitOk;
}

int ListCommand(const std::vector<std::string>& args, const JobCommandEnv& env) {
  JobClientOptions client;
  std::vector<std::string> state_names;
  uint32_t limit = 100;
  bool json = false;
  FlagSet flags("cluedrop list", "lists jobs: id, name, state, progress, creation time.");
  flags.AddUsageNote("Usage: cluedrop list [flags]\n\n" + std::string(kConnectionNote));
  AddJobClientFlags(&flags, &client);
  flags.Add("state", &state_names,
            "only jobs in this state (queued, scoring, training, evaluating, succeeded, failed, "
            "cancelled); repeatable or comma-separated");
  flags.Add("limit", &limit, "list at most this many jobs (0: all)");
  flags.Add("json", &json, "print {\"jobs\": [...]} as JSON (proto field names)");
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 0, "no arguments", env, &positional, &client)) {
    return *exit;
  }
  absl::StatusOr<std::vector<v1::JobState>> states = ParseStates(state_names);
  if (!states.ok()) return ReportError(env, "list", client, states.status());
  int exit_code = kExitFailure;
  std::unique_ptr<JobStub> stub = ConnectOrReport(env, "list", client, &exit_code);
  if (stub == nullptr) return exit_code;

  v1::ListJobsResponse all;
  std::string page_token;
  bool more = false;  // the coordinator has jobs beyond those listed
  constexpr uint32_t kMaxPageSize = 1000;
  for (;;) {
    v1::ListJobsRequest request;
    for (v1::JobState state : *states) request.add_states(state);
    const uint32_t left = limit == 0 ? kMaxPageSize : limit - all.jobs_size();
    request.set_page_size(std::min(left, kMaxPageSize));
    request.set_page_token(page_token);
    v1::ListJobsResponse page;
    std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
    const grpc::Status status = stub->ListJobs(context.get(), request, &page);
    if (!status.ok()) return ReportRpcError(env, "list", client, status);
    for (v1::Job& job : *page.mutable_jobs()) {
      if (limit != 0 && static_cast<uint32_t>(all.jobs_size()) >= limit) {
        more = true;
        break;
      }
      *all.add_jobs() = std::move(job);
    }
    if (page.next_page_token().empty()) break;
    more = true;
    if (limit != 0 && static_cast<uint32_t>(all.jobs_size()) >= limit) break;
    // A page that repeats its token or brings nothing would loop forever.
    if (page.next_page_token() == page_token || page.jobs().empty()) break;
    page_token = page.next_page_token();
    more = false;
  }

  if (json) {
    *env.out << ToJson(all) << std::flush;
  } else if (all.jobs().empty()) {
    *env.out << "no jobs" << std::endl;
  } else {
    *env.out << FormatJobTable({all.jobs().begin(), all.jobs().end()}, env.time_zone) << std::flush;
  }
  if (more) {
    *env.err << "cluedrop list: showing the first " << all.jobs_size()
             << " jobs; --limit 0 lists all" << std::endl;
  }
  return kExitOk;
}

int WatchCommand(const std::vector<std::string>& args, const JobCommandEnv& env) {
  JobClientOptions client;
  WatchOptions watch;
  double max_wait_s = 0;
  FlagSet flags("cluedrop watch",
                "follows a job until it ends: a progress line on stderr (redrawn in place on a "
                "terminal, else a line every 2 s), state changes, messages and evaluations on "
                "stdout, then the final status. Reconnects when the coordinator is "
                "unavailable. Exits 0 when the job SUCCEEDED, 1 when it FAILED or was "
                "CANCELLED.");
  flags.AddUsageNote("Usage: cluedrop watch JOB_ID [flags]\n\n" + std::string(kConnectionNote));
  AddJobClientFlags(&flags, &client);
  flags.Add("after", &watch.after_sequence, "show only events after this sequence number");
  flags.Add("max_wait_s", &max_wait_s, "give up after this many seconds (0: wait until the end)");
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 1, "JOB_ID", env, &positional, &client))
    return *exit;
  if (max_wait_s > 0) watch.timeout = absl::Seconds(max_wait_s);
  int exit_code = kExitFailure;
  std::unique_ptr<JobStub> stub = ConnectOrReport(env, "watch", client, &exit_code);
  if (stub == nullptr) return exit_code;
  return WatchJobToEnd(stub.get(), client, positional[0], watch, env, "watch");
}

int CancelCommand(const std::vector<std::string>& args, const JobCommandEnv& env) {
  JobClientOptions client;
  std::string reason;
  FlagSet flags("cluedrop cancel",
                "cancels a job that has not ended; its workers stop within a lease period.");
  flags.AddUsageNote("Usage: cluedrop cancel JOB_ID [flags]\n\n" + std::string(kConnectionNote));
  AddJobClientFlags(&flags, &client);
  flags.Add("reason", &reason, "why, recorded as the job's reason");
  std::vector<std::string> positional;
  if (auto exit = ParseJobCommandFlags(flags, args, 1, "JOB_ID", env, &positional, &client))
    return *exit;
  int exit_code = kExitFailure;
  std::unique_ptr<JobStub> stub = ConnectOrReport(env, "cancel", client, &exit_code);
  if (stub == nullptr) return exit_code;

  v1::CancelJobRequest request;
  request.set_job_id(positional[0]);
  request.set_reason(reason);
  v1::Job job;
  std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
  const grpc::Status status = stub->CancelJob(context.get(), request, &job);
  if (!status.ok()) return ReportRpcError(env, "cancel", client, status);
  *env.out << "cancelled " << job.id() << " (" << StateName(job.state()) << ")" << std::endl;
  return kExitOk;
}

int RunSubmit(const std::vector<std::string>& args) {
  return SubmitCommand(args, DefaultJobCommandEnv());
}
int RunStatus(const std::vector<std::string>& args) {
  return StatusCommand(args, DefaultJobCommandEnv());
}
int RunList(const std::vector<std::string>& args) {
  return ListCommand(args, DefaultJobCommandEnv());
}
int RunWatch(const std::vector<std::string>& args) {
  return WatchCommand(args, DefaultJobCommandEnv());
}
int RunCancel(const std::vector<std::string>& args) {
  return CancelCommand(args, DefaultJobCommandEnv());
}

}  // namespace cluedrop::cli
