// Helpers the job manager's source files share (job_manager*.cc). Not for
// use outside the JobManager.
#ifndef CLUEDROP_COORDINATOR_JOB_MANAGER_INTERNAL_H_
#define CLUEDROP_COORDINATOR_JOB_MANAGER_INTERNAL_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "cluedrop/v1/job.pb.h"
#include "cluedrop/v1/job_service.pb.h"

namespace cluedrop::coordinator::internal {

using Lock = std::unique_lock<std::mutex>;

// SUCCEEDED, FAILED or CANCELLED.
bool IsTerminal(v1::JobState state);
// A job without a target model: it succeeds once scored.
bool IsScoreOnly(const v1::JobSpec& spec);
void SetTime(google::protobuf::Timestamp* ts, int64_t ms);
// "job-YYYYMMDD-xxxxxx" (random hex).
std::string NewJobId(int64_t now_ms);
// The key of a submit request id: per owner identity, so one submitter's
// request id never returns another's job.
inline std::string RequestKey(const std::string& owner, const std::string& request_id) {
  return owner + '\n' + request_id;
}

}  // namespace cluedrop::coordinator::internal

#endif  // CLUEDROP_COORDINATOR_JOB_MANAGER_INTERNAL_H_
