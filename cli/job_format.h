// Human-readable text for jobs: `cluedrop status`, the `cluedrop list`
// table, event lines of `cluedrop watch`, and the small number formats they
// share. Pure functions of their arguments (times in the given zone).
//
// Example:
//   std::cout << FormatJobStatus(job, absl::LocalTimeZone());
//   std::cout << FormatJobTable(jobs, absl::LocalTimeZone());
#ifndef CLUEDROP_CLI_JOB_FORMAT_H_
#define CLUEDROP_CLI_JOB_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cluedrop/v1/job.pb.h"

namespace cluedrop::cli {

// "SUCCEEDED" for JOB_STATE_SUCCEEDED.
std::string StateName(v1::JobState state);

// True for SUCCEEDED, FAILED and CANCELLED.
bool IsTerminal(v1::JobState state);

// "999", "12.3k", "4.5M", "1.2G".
std::string HumanCount(double value);

// "45s", "4m05s", "2h03m".
std::string HumanDuration(absl::Duration duration);

// "41.7%" for 5 of 12; "-" when total is 0.
std::string Percent(double done, double total);

// "2026-11-26 10:31:02", or "-" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& time, absl::TimeZone zone);

// The compact progress of the list table: "step 120/2760 (4.3%)",
// "5/12 shards (41.7%)", or "-".
std::string ProgressSummary(const v1::Job& job);

// One line after a submit: `job-x "name": 12 shards, 1000 documents, QUEUED`.
std::string SubmitSummary(const v1::Job& job);

// The multi-line `cluedrop status` text: id and name, state (and reason),
// times, scoring and training progress, evaluations as a table per field
// (EM / F1 in percent; the latest in full, earlier ones by their overall
// scores), model_dir.
std::string FormatJobStatus(const v1::Job& job, absl::TimeZone zone);

// The `cluedrop list` table: ID, NAME, STATE, PROGRESS, CREATED.
std::string FormatJobTable(const std::vector<v1::Job>& jobs, absl::TimeZone zone);

// One event of `cluedrop watch` as a line (no newline): "[10:31:02] state
// TRAINING", "[..] message", "[..] evaluation (epoch 5, step 690): overall
// EM 41.0%, F1 55.0%". Empty for progress events (the progress line shows
// them). `fallback` stands in for an unset event time.
std::string FormatEventLine(const v1::JobEvent& event, absl::TimeZone zone, absl::Time fallback);

}  // namespace cluedrop::cli

#endif  // CLUEDROP_CLI_JOB_FORMAT_H_
