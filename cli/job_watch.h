// Following a job to its end: the body of `cluedrop watch` and of
// `cluedrop submit --watch`.
//
// Streams WatchJob; progress events drive a ProgressLine on env.err, state
// changes, messages and evaluations print as lines on env.out. If the stream
// breaks with UNAVAILABLE (coordinator restart, network) it reconnects with
// backoff and resumes after the last sequence seen; events at or below it
// are skipped. After the terminal state it prints the final job (the
// `cluedrop status` text) on env.out.
//
// Example:
//   WatchOptions watch{.after_sequence = 0};
//   int exit_code = WatchJobToEnd(stub.get(), client, "job-1", watch, env, "watch");
#ifndef CLUEDROP_CLI_JOB_WATCH_H_
#define CLUEDROP_CLI_JOB_WATCH_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cli/job_client.h"

namespace cluedrop::cli {

struct WatchOptions {
  // Resume after this event sequence (0: from the first event).
  uint64_t after_sequence = 0;
  // Give up (DEADLINE_EXCEEDED, exit 1) after this long; zero: never.
  absl::Duration timeout = absl::ZeroDuration();
  // Reconnects in a row (without a new event between them) before giving up.
  int max_reconnects = 20;
  absl::Duration reconnect_initial_backoff = absl::Milliseconds(500);
  absl::Duration reconnect_max_backoff = absl::Seconds(5);
};

// Watches `job_id` until it ends. Returns 0 when it SUCCEEDED, 1 when it
// FAILED or was CANCELLED, or ReportRpcError's code (errors printed as
// "cluedrop COMMAND: CODE: ...") when watching fails.
int WatchJobToEnd(JobStub* stub, const JobClientOptions& client, const std::string& job_id,
                  const WatchOptions& options, const JobCommandEnv& env, absl::string_view command);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_WATCH_H_
