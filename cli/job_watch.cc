#include "cli/job_watch.h"

#include <algorithm>
#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "cli/job_format.h"
#include "cli/progress_line.h"
#include "runtime/channel.h"

namespace cluedrop::cli {
namespace {

// A deadline far enough away to mean "none" (gRPC needs a finite one here).
constexpr absl::Duration kNoDeadline = absl::Hours(24 * 365);

int ExitCodeForState(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED ? kExitOk : kExitFailure;
}

}  // namespace

int WatchJobToEnd(JobStub* stub, const JobClientOptions& client, const std::string& job_id,
                  const WatchOptions& options, const JobCommandEnv& env,
                  absl::string_view command) {
  const absl::Time deadline =
      options.timeout > absl::ZeroDuration() ? env.now() + options.timeout : absl::InfiniteFuture();
  ProgressLine progress(env.err, env.err_is_tty, env.now);
  uint64_t after = options.after_sequence;
  v1::JobState final_state = v1::JOB_STATE_UNSPECIFIED;
  int reconnects = 0;
  absl::Duration backoff = options.reconnect_initial_backoff;

  while (!IsTerminal(final_state)) {
    const absl::Duration left = deadline == absl::InfiniteFuture()
                                    ? kNoDeadline
                                    : std::max(deadline - env.now(), absl::ZeroDuration());
    std::unique_ptr<grpc::ClientContext> context = MakeClientContext(left, client.token);
    const absl::Time opened = env.now();
    v1::WatchJobRequest request;
    request.set_job_id(job_id);
    request.set_after_sequence(after);
    std::unique_ptr<grpc::ClientReaderInterface<v1::JobEvent>> reader =
        stub->WatchJob(context.get(), request);
    v1::JobEvent event;
    bool got_event = false;
    while (reader->Read(&event)) {
      if (event.sequence() != 0 && event.sequence() <= after) continue;  // already shown
      after = std::max(after, event.sequence());
      got_event = true;
      if (event.kind_case() == v1::JobEvent::kProgress) {
        progress.Update(event.progress());
        continue;
      }
      if (event.kind_case() == v1::JobEvent::kStateChanged && IsTerminal(event.state_changed())) {
        final_state = event.state_changed();
      }
      const std::string line = FormatEventLine(event, env.time_zone, env.now());
      if (!line.empty()) progress.PrintLine(*env.out, line);
    }
    const grpc::Status status = reader->Finish();
    if (IsTerminal(final_state)) break;
    // A stream that delivered events, or stayed open a minute (the
    // coordinator ends streams at --max_stream_seconds), was healthy.
    if (got_event || env.now() - opened >= absl::Minutes(1)) {
      reconnects = 0;
      backoff = options.reconnect_initial_backoff;
    }
    // A stream that ends without the terminal state (a coordinator shutting
    // down) is resumed like a broken one; so is one ended by a server limit
    // (--max_stream_seconds, or --max_watch_streams while the server is full).
    const bool retryable = status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
    if (!retryable || reconnects >= options.max_reconnects || env.now() >= deadline) {
      progress.Finish();
      if (status.ok()) {
        return ReportError(env, command, client,
                           absl::UnavailableError(absl::StrCat("the event stream of ", job_id,
                                                               " ended before the job did")));
      }
      return ReportRpcError(env, command, client, status);
    }
    ++reconnects;
    progress.PrintLine(*env.err, absl::StrCat("cluedrop ", command, ": stream broken (",
                                              status.ok() ? "ended early" : status.error_message(),
                                              "); reconnecting after event ", after));
    env.sleep(backoff);
    backoff = std::min(backoff * 2, options.reconnect_max_backoff);
  }
  progress.Finish();

  v1::Job job;
  std::unique_ptr<grpc::ClientContext> context = NewCallContext(client);
  v1::GetJobRequest request;
  request.set_job_id(job_id);
  const grpc::Status status = stub->GetJob(context.get(), request, &job);
  if (!status.ok()) {
    ReportRpcError(env, command, client, status);
    return ExitCodeForState(final_state);
  }
  *env.out << FormatJobStatus(job, env.time_zone) << std::flush;
  return ExitCodeForState(IsTerminal(job.state()) ? job.state() : final_state);
}

}  // namespace cluedrop::cli
